//! The write queue: encoded frames waiting for the transport, in order.
//! Small frames accumulate in one contiguous tail, so a burst of sends
//! becomes one write; large payloads that are already `Bytes` are queued by
//! reference and written with a vectored write (a client's masked a piece
//! at a time, just before it is written).

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes};

use crate::frame::MAX_SHORT_PAYLOAD;
use crate::mask::{self, mask_copy_short};

/// A tail larger than this is released once written out by a round of
/// small writes, so an idle connection does not keep the memory a large
/// burst needed.
const IDLE_CAPACITY: usize = 64 * 1024;
/// What [`WriteQueue::shrink`] lets an empty tail keep.
const SHRUNK_CAPACITY: usize = 4 * 1024;
/// The largest frame with a 7-bit length: header, mask, payload.
const SHORT_FRAME: usize = 2 + 4 + MAX_SHORT_PAYLOAD;
/// A size class below it, for the smallest frames.
const TINY_FRAME: usize = 32;

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
        // zero (row `encode_client_masked/rfc6455_send_binary/16B`).
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
    /// needed (see `Inbound::shrink_if_unused`), released after a round
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

    /// Releases the tail (unless it is small) and the stage if everything
    /// was written.
    pub(crate) fn shrink(&mut self) {
        if self.is_empty() {
            if self.tail.capacity() > SHRUNK_CAPACITY {
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
    use crate::kernels::mask::apply_mask_bytewise;

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
        apply_mask_bytewise(&mut out, key, 0);
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
}
