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

use crate::mask::{self, mask_copy, rotate_key};

/// The smallest read the buffer offers, and the size an idle buffer keeps.
pub(crate) const MIN_READ: usize = 4 * 1024;
/// Reads grow up to this size while the peer keeps filling them.
const MAX_READ: usize = 256 * 1024;
/// An empty buffer larger than this is released, so an idle connection
/// does not keep the memory a large message needed.
const IDLE_CAPACITY: usize = 64 * 1024;

/// Received bytes. `buf[start..filled]` holds data; `buf[..start]` was
/// consumed but is still lent out (see [`ReadBuffer::lend`]); `buf[filled..]`
/// is scratch space that was zeroed once and is reused for later reads, so
/// reading into it does not pay for zeroing every time.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    buf: BytesMut,
    start: usize,
    filled: usize,
    hint: usize,
    /// The size of the allocation `buf` lives in: its `capacity()` only
    /// counts what lies past the frames already split off.
    allocated: usize,
    /// Bytes taken from the front since the start of the stream.
    consumed: u64,
}

impl ReadBuffer {
    #[inline]
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.filled]
    }

    #[inline]
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.filled]
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.filled - self.start
    }

    /// Consumes the first `n` bytes and lends them out: they stay where
    /// they are until the buffer is next changed, so handing them to the
    /// caller costs neither a copy nor a reference count.
    #[inline]
    pub(crate) fn lend(&mut self, n: usize) -> &[u8] {
        assert!(n <= self.len());
        self.start += n;
        self.consumed += n as u64;
        &self.buf[self.start - n..self.start]
    }

    /// How far into the stream the data starts: the bytes consumed so far.
    pub(crate) fn stream_offset(&self) -> u64 {
        self.consumed
    }

    /// Drops the lent bytes for good, before the buffer changes.
    fn release(&mut self) {
        if self.start > 0 {
            self.buf.advance(self.start);
            self.filled -= self.start;
            self.start = 0;
        }
    }

    /// Space to read into, at least `min` bytes (and at least what recent
    /// reads have been filling).
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        self.release();
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
        self.release();
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
        self.release();
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

    /// Makes room for `n` more bytes, so that appending them piece by piece
    /// does not grow the buffer (and copy what it holds) several times.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.release();
        if self.buf.len() - self.filled < n {
            self.buf.truncate(self.filled);
            self.buf.reserve(n);
            self.allocated = self.allocated.max(self.buf.capacity());
        }
    }

    /// Appends `src` masked with `key` as seen `offset` bytes into a payload,
    /// copying and unmasking in one pass.
    pub(crate) fn extend_masked(&mut self, src: &[u8], key: [u8; 4], offset: usize) {
        self.release();
        let key = rotate_key(key, offset);
        let end = self.filled + src.len();
        if self.buf.len() >= end {
            mask_copy(&mut self.buf[self.filled..end], src, key);
        } else {
            self.buf.truncate(self.filled);
            mask::extend_masked(&mut self.buf, src, key);
            self.allocated = self.allocated.max(self.buf.capacity());
        }
        self.filled = end;
    }

    /// Takes the first `n` bytes out, sharing the allocation.
    pub(crate) fn split_to(&mut self, n: usize) -> BytesMut {
        self.release();
        assert!(n <= self.filled);
        self.filled -= n;
        self.consumed += n as u64;
        self.buf.split_to(n)
    }

    /// Takes `buf` (all of it received data) as the buffer, without copying.
    pub(crate) fn replace(&mut self, buf: Vec<u8>) {
        self.start = 0;
        self.filled = buf.len();
        self.allocated = buf.capacity();
        // A `Vec` turns into a uniquely owned `Bytes`, hence into a
        // `BytesMut`, without copying.
        self.buf = Bytes::from(buf)
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    }

    pub(crate) fn clear(&mut self) {
        self.consumed += self.len() as u64;
        self.start = 0;
        self.filled = 0;
        self.buf = BytesMut::new();
        self.allocated = 0;
    }

    /// Releases a large buffer once it is empty.
    pub(crate) fn shrink_if_idle(&mut self) {
        if self.filled == self.start && self.allocated > IDLE_CAPACITY {
            self.start = 0;
            self.filled = 0;
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
