//! The two buffers the connection owns: received bytes waiting to be
//! decoded, and encoded bytes waiting to be written.
//!
//! Received frames leave the read buffer as `Bytes` slices of it (no copy),
//! and outgoing small frames accumulate in one contiguous tail so a burst of
//! sends becomes one write; large payloads that are already `Bytes` are
//! queued by reference and written with a vectored write (a client's masked
//! a piece at a time, just before it is written).

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
            self.allocated = self.allocated.max(self.buf.capacity());
            // Zero only what this read may fill: the rest of a large
            // allocation (one a large frame was read into) may never be
            // read into this way.
            self.buf.resize(self.filled + want, 0);
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

    /// Takes the data out as a `Vec` with room for `capacity` bytes in all,
    /// for a reader that appends (see [`replace`](Self::replace)): the
    /// buffer's own allocation when nothing else holds it and it is large
    /// enough (so a run of large frames reuses one allocation, and what
    /// was already read is not copied), a new one otherwise.
    pub(crate) fn take_vec(&mut self, capacity: usize) -> Vec<u8> {
        self.release();
        self.buf.truncate(self.filled);
        let mut buf = std::mem::take(&mut self.buf);
        self.filled = 0;
        self.allocated = 0;
        if buf.try_reclaim(capacity.saturating_sub(buf.len())) {
            // Unique and large enough: becomes a `Vec` without copying.
            Vec::from(buf)
        } else {
            let mut vec = Vec::with_capacity(capacity.max(buf.len()));
            vec.extend_from_slice(&buf);
            vec
        }
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
///
/// A client's large payload is queued by reference too, and masked a
/// [`STAGE`]-sized piece at a time into `staged` as the writes take it:
/// the socket then copies from a buffer still in cache, where masking the
/// whole payload first (into memory as large as the payload) made the
/// write read it back from further away.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    chunks: VecDeque<Chunk>,
    /// Bytes in `chunks`, counting a staged piece (what was not written).
    chunks_len: usize,
    tail: Vec<u8>,
    /// `tail[..head]` was already written.
    head: usize,
    /// The masked front of the first [`Chunk::Masked`]: never empty of
    /// unwritten bytes while there is such a chunk, empty otherwise.
    staged: Vec<u8>,
    /// `staged[..staged_head]` was already written.
    staged_head: usize,
    /// Whether anything was staged since the queue last drained, so the
    /// stage is kept while large client messages keep coming.
    staged_recently: bool,
}

/// A frozen piece of the queue.
#[derive(Debug)]
enum Chunk {
    /// Bytes to write as they are.
    Plain(Bytes),
    /// A payload to write masked with `key` (as seen from its first byte),
    /// not counting what is in the stage.
    Masked { rest: Bytes, key: [u8; 4] },
}

/// How much of a client's large payload is masked ahead of the writes:
/// a multiple of 4, so the key's phase is the same at every piece; large
/// enough that a write's system call is a small part of its cost, small
/// enough to stay in a core's cache.
const STAGE: usize = 256 * 1024;

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
        self.push_chunk(Chunk::Plain(data));
    }

    /// Queues `payload` by reference, to be written masked with `key`.
    pub(crate) fn push_masked(&mut self, payload: Bytes, key: [u8; 4]) {
        // An empty stage means "no masked chunk": never queue an empty one.
        debug_assert!(!payload.is_empty());
        let first_masked = !self.has_staged();
        self.push_chunk(Chunk::Masked { rest: payload, key });
        if first_masked {
            self.stage_first_masked();
        }
    }

    fn push_chunk(&mut self, chunk: Chunk) {
        if self.head < self.tail.len() {
            // A `Vec` becomes `Bytes` without copying its contents.
            let pending = Bytes::from(std::mem::take(&mut self.tail)).slice(self.head..);
            self.head = 0;
            self.chunks_len += pending.len();
            self.chunks.push_back(Chunk::Plain(pending));
        }
        self.chunks_len += match &chunk {
            Chunk::Plain(b) => b.len(),
            Chunk::Masked { rest, .. } => rest.len(),
        };
        self.chunks.push_back(chunk);
    }

    #[inline]
    fn has_staged(&self) -> bool {
        self.staged_head < self.staged.len()
    }

    #[inline]
    fn staged(&self) -> &[u8] {
        &self.staged[self.staged_head..]
    }

    /// Masks the next piece of the first masked chunk, if there is one,
    /// into the (written-out) stage.
    fn stage_first_masked(&mut self) {
        debug_assert!(!self.has_staged());
        let first = self.chunks.iter_mut().find_map(|c| match c {
            Chunk::Masked { rest, key } => Some((rest, *key)),
            Chunk::Plain(_) => None,
        });
        let Some((rest, key)) = first else { return };
        let piece = rest.split_to(rest.len().min(STAGE));
        self.staged.clear();
        self.staged.reserve(piece.len());
        mask::extend_masked(&mut self.staged, &piece, key);
        self.staged_head = 0;
        self.staged_recently = true;
    }

    /// The first contiguous piece of what is queued.
    #[inline]
    pub(crate) fn chunk(&self) -> &[u8] {
        match self.chunks.front() {
            Some(Chunk::Plain(c)) => c,
            Some(Chunk::Masked { .. }) => self.staged(),
            None => &self.tail[self.head..],
        }
    }

    /// Fills `dst` with the queued pieces that are ready (up to the end of
    /// the stage, when a masked payload is not all staged); returns how
    /// many were filled.
    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        let mut put = |piece: &'a [u8]| {
            if !piece.is_empty() && n < dst.len() {
                dst[n] = IoSlice::new(piece);
                n += 1;
            }
            n < dst.len()
        };
        let mut staged = Some(self.staged());
        for chunk in &self.chunks {
            let more = match chunk {
                Chunk::Plain(b) => put(b),
                // Only the first masked payload has a stage.
                Chunk::Masked { rest, .. } => match staged.take() {
                    Some(piece) => put(piece) && rest.is_empty(),
                    None => false,
                },
            };
            if !more {
                return n;
            }
        }
        put(&self.tail[self.head..]);
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
        if self.head == self.tail.len() && self.chunks.is_empty() {
            self.drained();
        }
    }

    /// Everything was written: a large tail is kept while it keeps being
    /// needed (see `ReadBuffer::shrink_if_unused`), released after a round
    /// of small writes; so is the stage.
    fn drained(&mut self) {
        if self.tail.capacity() > IDLE_CAPACITY && self.tail.len() <= IDLE_CAPACITY {
            self.tail = Vec::new();
        } else {
            self.tail.clear();
        }
        self.head = 0;
        if !self.staged_recently {
            self.staged = Vec::new();
            self.staged_head = 0;
        }
        self.staged_recently = false;
    }

    /// Releases a large tail and the stage if everything was written.
    pub(crate) fn shrink(&mut self) {
        if self.is_empty() {
            if self.tail.capacity() > IDLE_CAPACITY {
                self.tail = Vec::new();
                self.head = 0;
            }
            self.staged = Vec::new();
            self.staged_head = 0;
        }
    }

    /// Drops up to `n` bytes from the chunks; returns how many of the `n`
    /// fall in the tail.
    fn consume_chunks(&mut self, mut n: usize) -> usize {
        while let Some(front) = self.chunks.front_mut() {
            match front {
                Chunk::Plain(b) => {
                    if n < b.len() {
                        b.advance(n);
                        self.chunks_len -= n;
                        return 0;
                    }
                    n -= b.len();
                    self.chunks_len -= b.len();
                    self.chunks.pop_front();
                }
                Chunk::Masked { rest, key } => {
                    let staged = self.staged.len() - self.staged_head;
                    if n < staged {
                        self.staged_head += n;
                        self.chunks_len -= n;
                        return 0;
                    }
                    n -= staged;
                    self.chunks_len -= staged;
                    self.staged_head = self.staged.len();
                    if n < rest.len() {
                        // Bytes never handed out were dropped (the caller
                        // gave up on the transport): skip them unmasked.
                        rest.advance(n);
                        *key = mask::rotate_key(*key, n);
                        self.chunks_len -= n;
                        self.stage_first_masked();
                        return 0;
                    }
                    n -= rest.len();
                    self.chunks_len -= rest.len();
                    self.chunks.pop_front();
                    self.stage_first_masked();
                }
            }
        }
        n
    }

    /// The bytes of allocation the tail and the stage keep alive.
    pub(crate) fn capacity(&self) -> usize {
        self.tail.capacity() + self.staged.capacity()
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

    /// Deterministic pseudo-random numbers (xorshift64).
    fn next(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    fn masked(data: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut out = data.to_vec();
        crate::kernels::mask::apply_mask_bytewise(&mut out, key, 0);
        out
    }

    /// Queues tail bytes, shared chunks and masked payloads (some larger
    /// than the stage, some at its edges), as `seed` picks.
    fn mixed_queue(seed: u64) -> (WriteQueue, Vec<u8>) {
        let mut x = seed | 1;
        let mut q = WriteQueue::default();
        let mut expect = Vec::new();
        for i in 0..12 {
            let len = match next(&mut x) % 6 {
                0 => STAGE,
                1 => STAGE + 1 + (next(&mut x) % 7) as usize,
                2 => 2 * STAGE + 3,
                _ => (next(&mut x) % 70_000) as usize + 1,
            };
            let data: Vec<u8> = (0..len).map(|_| next(&mut x) as u8).collect();
            let key = (next(&mut x) as u32).to_ne_bytes();
            match (i + next(&mut x)) % 3 {
                0 => {
                    q.push_masked(Bytes::from(data.clone()), key);
                    expect.extend_from_slice(&masked(&data, key));
                }
                1 => {
                    q.push_shared(Bytes::from(data.clone()));
                    expect.extend_from_slice(&data);
                }
                _ => {
                    q.extend(&data[..len.min(300)]);
                    expect.extend_from_slice(&data[..len.min(300)]);
                }
            }
        }
        assert_eq!(q.len(), expect.len());
        (q, expect)
    }

    #[test]
    fn masked_chunks_are_written_masked_whatever_the_write_sizes() {
        for seed in 1..12u64 {
            let (mut q, expect) = mixed_queue(seed);
            let mut x = seed * 7919;
            let mut written = Vec::new();
            while !q.is_empty() {
                // Alternate plain and vectored writes of random lengths,
                // as a socket that takes part of what it is given would.
                let ready: Vec<u8> = if next(&mut x).is_multiple_of(2) {
                    q.chunk().to_vec()
                } else {
                    let mut slices = [IoSlice::new(&[]); 3];
                    let n = q.io_slices(&mut slices);
                    slices[..n].iter().flat_map(|s| s.to_vec()).collect()
                };
                assert!(!ready.is_empty(), "queued bytes but none ready");
                let n = match next(&mut x) % 3 {
                    0 => ready.len(),
                    _ => 1 + (next(&mut x) as usize) % ready.len(),
                };
                written.extend_from_slice(&ready[..n]);
                q.consume(n);
                assert_eq!(q.len(), expect.len() - written.len());
            }
            assert!(written == expect, "seed {seed}: bytes differ");
        }
    }

    #[test]
    fn dropping_unwritten_masked_bytes_keeps_the_rest_masked_right() {
        for seed in 1..8u64 {
            let (mut q, expect) = mixed_queue(seed);
            let mut x = seed;
            let mut at = 0;
            while !q.is_empty() {
                // Drop past what was handed out, then check what comes next.
                let skip = (next(&mut x) as usize) % (q.len() / 2 + 1);
                q.consume(skip);
                at += skip;
                let ready = q.chunk();
                assert_eq!(ready, &expect[at..at + ready.len()], "seed {seed} at {at}");
                let n = ready.len();
                q.consume(n);
                at += n;
            }
            assert_eq!(at, expect.len());
        }
    }

    #[test]
    fn the_stage_is_bounded_and_released_once_traffic_turns_small() {
        let mut q = WriteQueue::default();
        for _ in 0..2 {
            q.push_masked(Bytes::from(vec![7u8; 4 * STAGE]), [1, 2, 3, 4]);
            while !q.is_empty() {
                assert!(q.capacity() <= STAGE + IDLE_CAPACITY);
                let n = q.chunk().len();
                q.consume(n);
            }
        }
        // Kept while large messages keep coming...
        assert!(q.capacity() >= STAGE);
        // ...and released after a round without one.
        q.extend(b"small");
        q.consume(5);
        assert!(q.capacity() <= IDLE_CAPACITY, "{} kept", q.capacity());
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
