//! The read buffer: received bytes waiting to be decoded. Frames leave it
//! as `Bytes` slices of it, or are lent as `&[u8]`/`&str` until the next
//! call; its spare space is zeroed once and reused for later reads; and it
//! gives back the memory a large message needed once traffic turns small.

use bytes::{Buf, Bytes, BytesMut};

use crate::mask::{self, mask_copy, rotate_key};

/// The smallest read the buffer offers, and the size an idle buffer keeps.
pub(super) const MIN_READ: usize = 4 * 1024;
/// Reads grow up to this size while the peer keeps filling them.
const MAX_READ: usize = 256 * 1024;
/// A drained buffer larger than this is released once no longer needed
/// (see [`ReadBuffer::shrink_if_unused`]), so an idle connection does not
/// keep the memory a large message needed.
const IDLE_CAPACITY: usize = 64 * 1024;

/// Received bytes. `buf[start..filled]` holds data; `buf[..start]` was
/// consumed but is still lent out (see [`ReadBuffer::lend`]); `buf[filled..]`
/// is scratch space that was zeroed once and is reused for later reads, so
/// reading into it does not pay for zeroing every time.
#[derive(Debug, Default)]
pub(super) struct ReadBuffer {
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
    pub(super) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.filled]
    }

    #[inline]
    pub(super) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.filled]
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.filled - self.start
    }

    /// Consumes the first `n` bytes and lends them out: they stay where
    /// they are until the buffer is next changed, so handing them to the
    /// caller costs neither a copy nor a reference count.
    #[inline]
    pub(super) fn lend(&mut self, n: usize) -> &[u8] {
        assert!(n <= self.len());
        self.start += n;
        self.consumed += n as u64;
        &self.buf[self.start - n..self.start]
    }

    /// The last `n` bytes consumed, which [`lend`](Self::lend) lent out.
    #[inline]
    pub(super) fn lent(&self, n: usize) -> &[u8] {
        &self.buf[self.start - n..self.start]
    }

    /// How far into the stream the data starts: the bytes consumed so far.
    pub(super) fn stream_offset(&self) -> u64 {
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
    pub(super) fn spare(&mut self, min: usize) -> &mut [u8] {
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
    pub(super) fn commit(&mut self, n: usize) {
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

    pub(super) fn extend(&mut self, data: &[u8]) {
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
    pub(super) fn reserve(&mut self, n: usize) {
        self.release();
        if self.buf.len() - self.filled < n {
            self.buf.truncate(self.filled);
            self.buf.reserve(n);
            self.allocated = self.allocated.max(self.buf.capacity());
        }
    }

    /// Appends `src` masked with `key` as seen `offset` bytes into a payload,
    /// copying and unmasking in one pass.
    pub(super) fn extend_masked(&mut self, src: &[u8], key: [u8; 4], offset: usize) {
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
    pub(super) fn split_to(&mut self, n: usize) -> BytesMut {
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
    pub(super) fn take_vec(&mut self, capacity: usize) -> Vec<u8> {
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
    pub(super) fn replace(&mut self, buf: Vec<u8>) {
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

    pub(super) fn clear(&mut self) {
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
    /// each, and growing a new one, cost page faults that showed in the
    /// e2e bench's 1 MiB echo), while a connection whose traffic turned small gives it
    /// back. Polling again with nothing new received changes nothing.
    pub(super) fn shrink_if_unused(&mut self) {
        if !std::mem::take(&mut self.received) || std::mem::take(&mut self.used_large) {
            return;
        }
        self.release_if_empty(IDLE_CAPACITY);
    }

    /// Releases the buffer if it is empty and larger than the smallest
    /// read, whatever size it kept while traffic flowed (the connection is
    /// idle: see `Connection::shrink_buffers`).
    pub(super) fn shrink(&mut self) {
        self.release_if_empty(MIN_READ);
    }

    /// Frees the allocation if it holds no data and is larger than `keep`.
    /// While traffic flows `keep` is [`IDLE_CAPACITY`]: a buffer that grew
    /// past the smallest read for pipelined input is reused, not freed and
    /// zeroed again at every drain.
    fn release_if_empty(&mut self, keep: usize) {
        if self.filled == self.start && self.allocated > keep {
            self.start = 0;
            self.filled = 0;
            self.buf = BytesMut::new();
            self.hint = MIN_READ;
            self.allocated = 0;
        }
    }

    /// The bytes of allocation this buffer keeps alive.
    pub(super) fn capacity(&self) -> usize {
        self.allocated.max(self.buf.capacity())
    }
}
