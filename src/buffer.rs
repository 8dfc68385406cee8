//! The two buffers the connection owns: received bytes waiting to be
//! decoded, and encoded bytes waiting to be written.
//!
//! Received frames leave the read buffer as `Bytes` slices of it (no copy),
//! and outgoing small frames accumulate in one contiguous tail so a burst of
//! sends becomes one write; large payloads that are already `Bytes` are
//! queued by reference and written with a vectored write.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

use crate::frame::MAX_HEADER_LEN;
use crate::mask::mask_copy;

/// The smallest read the buffer offers, and the size an idle buffer keeps.
pub(crate) const MIN_READ: usize = 4 * 1024;
/// Reads grow up to this size while the peer keeps filling them.
const MAX_READ: usize = 256 * 1024;
/// An empty buffer larger than this is released, so an idle connection
/// does not keep the memory a large message needed.
const IDLE_CAPACITY: usize = 64 * 1024;
/// A masked frame up to this size (header included) is built in place
/// with fixed-size writes: every frame with a 7-bit length.
const SMALL_FRAME: usize = 2 + 4 + 125;
/// Large payloads are zeroed and masked this much at a time: source and
/// destination pieces fit in L1 together (measured best among 2-16 KiB).
const MASK_PIECE: usize = 8 * 1024;

/// Received bytes. `buf[..filled]` holds data; `buf[filled..]` is scratch
/// space that was zeroed once and is reused for later reads, so reading into
/// it does not pay for zeroing every time.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    buf: BytesMut,
    filled: usize,
    hint: usize,
    /// The size of the allocation `buf` lives in: its `capacity()` only
    /// counts what lies past the frames already split off.
    allocated: usize,
}

impl ReadBuffer {
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.filled]
    }

    pub(crate) fn len(&self) -> usize {
        self.filled
    }

    /// Space to read into, at least `min` bytes (and at least what recent
    /// reads have been filling).
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        let want = min.max(self.hint).max(MIN_READ);
        if self.buf.len() - self.filled < want {
            self.buf.truncate(self.filled);
            self.buf.reserve(want);
            let cap = self.buf.capacity();
            self.buf.resize(cap, 0);
            self.allocated = self.allocated.max(cap);
        }
        &mut self.buf[self.filled..]
    }

    /// Marks `n` bytes of the spare space as received.
    pub(crate) fn commit(&mut self, n: usize) {
        let spare = self.buf.len() - self.filled;
        assert!(
            n <= spare,
            "commit({n}) exceeds the {spare} bytes of read_buf()"
        );
        self.filled += n;
        // Adapt the read size: grow while reads come back full, shrink when
        // they come back small.
        let hint = self.hint.max(MIN_READ);
        self.hint = if n == spare {
            (hint * 2).min(MAX_READ)
        } else if n < hint / 4 {
            (hint / 2).max(MIN_READ)
        } else {
            hint
        };
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        if self.buf.len() - self.filled >= data.len() {
            self.buf[self.filled..self.filled + data.len()].copy_from_slice(data);
        } else {
            // Appending writes straight into spare capacity: no zeroing.
            self.buf.truncate(self.filled);
            self.buf.extend_from_slice(data);
            self.allocated = self.allocated.max(self.buf.capacity());
        }
        self.filled += data.len();
    }

    /// Takes the first `n` bytes out, sharing the allocation.
    pub(crate) fn split_to(&mut self, n: usize) -> BytesMut {
        assert!(n <= self.filled);
        self.filled -= n;
        self.buf.split_to(n)
    }

    /// Takes `buf` (all of it received data) as the buffer, without copying.
    pub(crate) fn replace(&mut self, buf: Vec<u8>) {
        self.filled = buf.len();
        self.allocated = buf.capacity();
        // A `Vec` turns into a uniquely owned `Bytes`, hence into a
        // `BytesMut`, without copying.
        self.buf = Bytes::from(buf)
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    }

    pub(crate) fn clear(&mut self) {
        self.filled = 0;
        self.buf = BytesMut::new();
        self.allocated = 0;
    }

    /// Releases a large buffer once it is empty.
    pub(crate) fn shrink_if_idle(&mut self) {
        if self.filled == 0 && self.allocated > IDLE_CAPACITY {
            self.buf = BytesMut::new();
            self.hint = MIN_READ;
            self.allocated = 0;
        }
    }

    /// The bytes of allocation this buffer keeps alive.
    pub(crate) fn capacity(&self) -> usize {
        self.allocated.max(self.buf.capacity())
    }
}

/// Bytes waiting to be written, in order: frozen chunks, then the tail
/// where small writes accumulate.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    chunks: VecDeque<Bytes>,
    chunks_len: usize,
    tail: BytesMut,
    /// Bytes consumed from the front of `tail` since it was allocated:
    /// they still occupy its allocation.
    tail_consumed: usize,
}

impl WriteQueue {
    pub(crate) fn len(&self) -> usize {
        self.chunks_len + self.tail.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tail, for encoders that write in place.
    pub(crate) fn tail(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.tail.extend_from_slice(data);
    }

    /// Appends a frame: the first `header_len` bytes of `header`, then
    /// `payload` masked with `key`.
    pub(crate) fn extend_masked(
        &mut self,
        header: &[u8; MAX_HEADER_LEN],
        header_len: usize,
        payload: &[u8],
        key: [u8; 4],
    ) {
        let start = self.tail.len();
        let len = payload.len();
        if header_len + len <= SMALL_FRAME {
            // A fixed-size append compiles to a few vector stores where a
            // sized one calls `memset`/`memcpy`; the excess is cut off.
            self.tail.extend_from_slice(&[0u8; SMALL_FRAME]);
            let frame = &mut self.tail[start..start + SMALL_FRAME];
            frame[..MAX_HEADER_LEN].copy_from_slice(header);
            mask_copy(&mut frame[header_len..header_len + len], payload, key);
            self.tail.truncate(start + header_len + len);
            return;
        }
        self.tail.reserve(header_len + len);
        self.tail.extend_from_slice(&header[..header_len]);
        // Safe code cannot mask into spare capacity, so each piece is
        // zeroed first; piece by piece, the zeroed lines are still in L1
        // when the masked bytes overwrite them, so the queue's memory sees
        // about one pass instead of two. (Masking through a stack buffer
        // and appending from it measured slower: the copy reloads what was
        // just stored.) Pieces start at multiples of 4 into the payload, so
        // the key applies unrotated.
        for piece in payload.chunks(MASK_PIECE) {
            let at = self.tail.len();
            self.tail.resize(at + piece.len(), 0);
            mask_copy(&mut self.tail[at..], piece, key);
        }
    }

    /// Queues `data` by reference, after everything already queued.
    pub(crate) fn push_shared(&mut self, data: Bytes) {
        if !self.tail.is_empty() {
            self.tail_consumed = 0;
            let head = self.tail.split().freeze();
            self.chunks_len += head.len();
            self.chunks.push_back(head);
        }
        self.chunks_len += data.len();
        self.chunks.push_back(data);
    }

    /// The first contiguous piece of what is queued.
    pub(crate) fn chunk(&self) -> &[u8] {
        self.chunks.front().map_or(&self.tail[..], |c| &c[..])
    }

    /// Fills `dst` with the queued pieces; returns how many were filled.
    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let pieces = self
            .chunks
            .iter()
            .map(|c| &c[..])
            .chain(std::iter::once(&self.tail[..]))
            .filter(|p| !p.is_empty());
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(pieces) {
            *slot = IoSlice::new(piece);
            n += 1;
        }
        n
    }

    /// Drops the first `n` queued bytes (they were written).
    pub(crate) fn consume(&mut self, mut n: usize) {
        assert!(
            n <= self.len(),
            "consume({n}) exceeds the {} queued bytes",
            self.len()
        );
        while n > 0 {
            match self.chunks.front_mut() {
                Some(front) if n >= front.len() => {
                    n -= front.len();
                    self.chunks_len -= front.len();
                    self.chunks.pop_front();
                }
                Some(front) => {
                    front.advance(n);
                    self.chunks_len -= n;
                    n = 0;
                }
                None => {
                    self.tail.advance(n);
                    self.tail_consumed += n;
                    n = 0;
                }
            }
        }
        if self.tail.is_empty() && self.capacity() > IDLE_CAPACITY {
            self.tail = BytesMut::new();
            self.tail_consumed = 0;
        }
    }

    /// The bytes of allocation the tail keeps alive.
    pub(crate) fn capacity(&self) -> usize {
        self.tail_consumed + self.tail.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_queue_keeps_order_across_shared_chunks() {
        let mut q = WriteQueue::default();
        q.extend(b"ab");
        q.push_shared(Bytes::from_static(b"cde"));
        q.extend(b"f");
        assert_eq!(q.len(), 6);
        let mut slices = [IoSlice::new(&[]); 4];
        let n = q.io_slices(&mut slices);
        let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.to_vec()).collect();
        assert_eq!(joined, b"abcdef");
        q.consume(3);
        assert_eq!(q.chunk(), b"de");
        q.consume(2);
        assert_eq!(q.chunk(), b"f");
        q.consume(1);
        assert!(q.is_empty());
    }

    #[test]
    fn read_buffer_reuses_scratch_and_splits() {
        let mut r = ReadBuffer::default();
        let spare = r.spare(10);
        assert!(spare.len() >= 10);
        spare[..5].copy_from_slice(b"hello");
        r.commit(5);
        r.extend(b" world");
        assert_eq!(r.data(), b"hello world");
        assert_eq!(&r.split_to(6)[..], b"hello ");
        assert_eq!(r.data(), b"world");
        assert_eq!(&r.split_to(5)[..], b"world");
        assert_eq!(r.len(), 0);
    }
}
