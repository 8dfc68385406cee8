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

use crate::frame::MAX_SHORT_PAYLOAD;
use crate::mask::{self, mask_copy, mask_copy_short, rotate_key};

/// The smallest read the buffer offers, and the size an idle buffer keeps.
pub(crate) const MIN_READ: usize = 4 * 1024;
/// Reads grow up to this size while the peer keeps filling them.
const MAX_READ: usize = 256 * 1024;
/// A drained buffer larger than this is released once no longer needed
/// (see [`ReadBuffer::shrink_if_unused`]), so an idle connection does not
/// keep the memory a large message needed.
const IDLE_CAPACITY: usize = 64 * 1024;
/// The largest frame with a 7-bit length: header, mask, payload.
const SHORT_FRAME: usize = 2 + 4 + MAX_SHORT_PAYLOAD;
/// A size class below it, for the smallest frames.
const TINY_FRAME: usize = 32;

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
    /// Input arrived since the input was last drained.
    received: bool,
    /// More than `IDLE_CAPACITY` bytes were held since the input was last
    /// drained.
    used_large: bool,
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

    /// The last `n` bytes consumed, which [`lend`](Self::lend) lent out.
    #[inline]
    pub(crate) fn lent(&self, n: usize) -> &[u8] {
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
        self.note_use();
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
        self.note_use();
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
            self.buf.reserve(src.len());
            mask::extend_masked(&mut self.buf, src, key);
            self.allocated = self.allocated.max(self.buf.capacity());
        }
        self.filled = end;
        self.note_use();
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
        self.received = true;
        self.used_large |= buf.capacity() > IDLE_CAPACITY;
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

    /// Notes what the buffer holds, for [`shrink_if_unused`](Self::shrink_if_unused).
    #[inline]
    fn note_use(&mut self) {
        self.received = true;
        self.used_large |= self.filled > IDLE_CAPACITY;
    }

    /// Called whenever the input is drained: releases a large buffer that
    /// was not needed by the input that arrived since the last time. A run
    /// of large messages so keeps reusing one allocation (freeing it after
    /// each, and growing a new one, cost page faults that tripled a 1 MiB
    /// echo's time), while a connection whose traffic turned small gives it
    /// back. Polling again with nothing new received changes nothing.
    pub(crate) fn shrink_if_unused(&mut self) {
        if !std::mem::take(&mut self.received) || std::mem::take(&mut self.used_large) {
            return;
        }
        self.shrink();
    }

    /// Releases a large buffer if it is empty.
    pub(crate) fn shrink(&mut self) {
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
///
/// The tail is a `Vec` with a read position rather than a `BytesMut`:
/// writing out everything (the usual case) just rewinds it, where a
/// `BytesMut` that was advanced to its end must reclaim its space through
/// an out-of-line `reserve` on the next frame.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    chunks: VecDeque<Bytes>,
    chunks_len: usize,
    tail: Vec<u8>,
    /// `tail[..head]` was already written.
    head: usize,
}

impl WriteQueue {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.chunks_len + self.tail.len() - self.head
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.reserve(data.len());
        self.tail.extend_from_slice(data);
    }

    /// Makes room for `additional` more bytes in the tail, first dropping
    /// the written part when that frees at least as much as it moves.
    #[inline]
    fn reserve(&mut self, additional: usize) {
        if self.tail.capacity() - self.tail.len() < additional {
            self.reclaim(additional);
        }
    }

    #[cold]
    fn reclaim(&mut self, additional: usize) {
        if self.head > 0 && self.head >= self.tail.len() - self.head {
            self.tail.drain(..self.head);
            self.head = 0;
        }
        self.tail.reserve(additional);
    }

    /// Appends a frame with a 7-bit payload length: the first
    /// `header_len` bytes of `header` (from
    /// [`FrameHeader::encode_short`](crate::frame::FrameHeader::encode_short)),
    /// then `payload`, masked with `mask` if there is one.
    #[inline]
    pub(crate) fn extend_short_frame(
        &mut self,
        header: [u8; 8],
        header_len: usize,
        payload: &[u8],
        mask: Option<[u8; 4]>,
    ) {
        // The tiniest frames (acks, heartbeats) get a smaller block to
        // zero: measured 5-15% faster at 16 bytes.
        if header_len + payload.len() <= TINY_FRAME {
            self.extend_short::<TINY_FRAME>(header, header_len, payload, mask)
        } else {
            self.extend_short::<SHORT_FRAME>(header, header_len, payload, mask)
        }
    }

    /// Appends a frame of at most `N` bytes as one fixed-size append of
    /// `N` zeros, which compiles to a few vector stores where a sized one
    /// calls `memset`, filled in and cut to length.
    #[inline(always)]
    fn extend_short<const N: usize>(
        &mut self,
        header: [u8; 8],
        header_len: usize,
        payload: &[u8],
        mask: Option<[u8; 4]>,
    ) {
        let len = payload.len();
        self.reserve(N);
        let start = self.tail.len();
        self.tail.extend_from_slice(&[0u8; N]);
        let frame = &mut self.tail[start..start + N];
        frame[..8].copy_from_slice(&header);
        let body = &mut frame[header_len..header_len + len];
        match mask {
            Some(key) => mask_copy_short(body, payload, key),
            None => body.copy_from_slice(payload),
        }
        self.tail.truncate(start + header_len + len);
    }

    /// Appends a frame: `header`, then `payload`.
    pub(crate) fn extend_frame(&mut self, header: &[u8], payload: &[u8]) {
        self.reserve(header.len() + payload.len());
        self.tail.extend_from_slice(header);
        self.tail.extend_from_slice(payload);
    }

    /// Appends a frame: `header`, then `payload` masked with `key`.
    pub(crate) fn extend_masked(&mut self, header: &[u8], payload: &[u8], key: [u8; 4]) {
        self.reserve(header.len() + payload.len());
        self.tail.extend_from_slice(header);
        mask::extend_masked(&mut self.tail, payload, key);
    }

    /// Queues `data` by reference, after everything already queued.
    pub(crate) fn push_shared(&mut self, data: Bytes) {
        if self.head < self.tail.len() {
            // A `Vec` becomes `Bytes` without copying its contents.
            let pending = Bytes::from(std::mem::take(&mut self.tail)).slice(self.head..);
            self.head = 0;
            self.chunks_len += pending.len();
            self.chunks.push_back(pending);
        }
        self.chunks_len += data.len();
        self.chunks.push_back(data);
    }

    /// The first contiguous piece of what is queued.
    #[inline]
    pub(crate) fn chunk(&self) -> &[u8] {
        match self.chunks.front() {
            Some(c) => c,
            None => &self.tail[self.head..],
        }
    }

    /// Fills `dst` with the queued pieces; returns how many were filled.
    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let pieces = self
            .chunks
            .iter()
            .map(|c| &c[..])
            .chain(std::iter::once(&self.tail[self.head..]))
            .filter(|p| !p.is_empty());
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(pieces) {
            *slot = IoSlice::new(piece);
            n += 1;
        }
        n
    }

    /// Drops the first `n` queued bytes (they were written).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        assert!(
            n <= self.len(),
            "consume({n}) exceeds the {} queued bytes",
            self.len()
        );
        let n = if self.chunks.is_empty() {
            n
        } else {
            self.consume_chunks(n)
        };
        self.head += n;
        if self.head == self.tail.len() {
            // Drained: a large tail is kept while it keeps being needed
            // (see `ReadBuffer::shrink_if_unused`), released after a round
            // of small writes.
            if self.tail.capacity() > IDLE_CAPACITY && self.tail.len() <= IDLE_CAPACITY {
                self.shrink();
            } else {
                self.tail.clear();
            }
            self.head = 0;
        }
    }

    /// Releases a large tail if everything was written.
    pub(crate) fn shrink(&mut self) {
        if self.head == self.tail.len() && self.tail.capacity() > IDLE_CAPACITY {
            self.tail = Vec::new();
            self.head = 0;
        }
    }

    /// Drops up to `n` bytes from the chunks; returns how many of the `n`
    /// fall in the tail.
    fn consume_chunks(&mut self, mut n: usize) -> usize {
        while let Some(front) = self.chunks.front_mut() {
            if n < front.len() {
                front.advance(n);
                self.chunks_len -= n;
                return 0;
            }
            n -= front.len();
            self.chunks_len -= front.len();
            self.chunks.pop_front();
        }
        n
    }

    /// The bytes of allocation the tail keeps alive.
    pub(crate) fn capacity(&self) -> usize {
        self.tail.capacity()
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
    fn write_queue_reuses_written_space_without_losing_bytes() {
        let mut q = WriteQueue::default();
        let mut expect = Vec::new();
        let mut written = Vec::new();
        for i in 0..2000u32 {
            let data: Vec<u8> = (0..(i % 300) as u8).map(|b| b ^ i as u8).collect();
            q.extend(&data);
            expect.extend_from_slice(&data);
            // Write out a bit less than comes in, so the written part of
            // the tail grows until reclaiming it pays.
            let n = q.chunk().len().min(data.len() * 3 / 4 + i as usize % 7);
            written.extend_from_slice(&q.chunk()[..n]);
            q.consume(n);
        }
        // Never reclaiming would keep all ~300 KB; doubling allows 4x.
        assert!(
            q.capacity() <= 4 * q.len() + 4096,
            "{} bytes kept for {} queued",
            q.capacity(),
            q.len()
        );
        written.extend_from_slice(q.chunk());
        q.consume(q.len());
        assert!(written == expect);
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
