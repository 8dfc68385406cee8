//! Unmasking on arrival: a server unmasks every payload byte of its
//! client's frames as the byte enters the read buffer, so the decoder only
//! ever sees plain payloads.
//!
//! Bytes handed over by `Connection::receive`
//! are copied and unmasked in one pass (instead of a copy, then a second
//! pass over memory that has left the cache for a large frame); bytes read
//! straight into the buffer are unmasked in place right after the read,
//! while they are still in cache.
//!
//! To know where payloads are, the unmasker reads the length and mask of
//! each frame header with `frame::masked_header`, which shares the decoder's
//! field readers, so the two agree on every frame boundary. It never judges a header: when one is unmasked it
//! stops, and the decoder reports the error when it reaches that frame (as
//! it does for any other malformed header).
//!
//! Short frames that have arrived whole are the exception: the unmasker
//! stops at such a frame and leaves it (and whatever follows it) masked.
//! The connection's decoder reads the header of such a frame anyway, and
//! unmasks its few bytes right then (`Unmasker::take_front`); a separate
//! pass over every small frame cost more than the frame's whole decode.
//! Before the decoder's general path reads a frame, `Unmasker::unmask_front`
//! catches up, so that path only ever sees plain payloads.

use super::buffer::ReadBuffer;
use crate::frame::{masked_header, MaskedHeader as Header};
use crate::mask::apply_mask;

/// Payload bytes still to come from which a copy that unmasks pays off.
const FUSE_MIN: u64 = 4 * 1024;
/// Plain copies go in pieces this size, so they are still in L1/L2 when
/// unmasked.
const PLAIN_PIECE: usize = 16 * 1024;
/// Whole frames with payloads up to this long are left for the decoder to
/// unmask (see the module documentation): the decoder's fast path reads
/// 7-bit lengths only.
const LAZY_MAX: u64 = crate::frame::MAX_SHORT_PAYLOAD as u64;

#[derive(Debug, Default)]
pub(super) struct Unmasker {
    /// How far into the stream (bytes received since the start) input has
    /// been unmasked; headers count as processed.
    pos: u64,
    /// Masked payload bytes of the current frame still to come.
    payload_left: u64,
    key: [u8; 4],
    /// How far into the current payload `pos` is, modulo 4 (the key phase).
    phase: usize,
    /// A header could not be used; the decoder will fail the connection
    /// there, so nothing after it is unmasked.
    stopped: bool,
}

impl Unmasker {
    /// An unmasker whose first frame starts `pos` bytes into the stream.
    pub(super) fn starting_at(pos: u64) -> Self {
        Unmasker {
            pos,
            ..Unmasker::default()
        }
    }

    /// Appends `src` to `input`, unmasking payload bytes as they are copied.
    ///
    /// Only the bulk of a large payload is copied and unmasked in one pass;
    /// everything else (headers, small frames, the start of a large one) is
    /// copied plainly in cache-sized pieces and unmasked in place right
    /// after, while in cache: per frame, that is cheaper than switching
    /// between plain and masked copies.
    pub(super) fn receive(&mut self, input: &mut ReadBuffer, mut src: &[u8]) {
        input.reserve(src.len());
        while !src.is_empty() {
            if self.payload_left >= FUSE_MIN && !self.stopped {
                let n = self.payload_left.min(src.len() as u64) as usize;
                input.extend_masked(&src[..n], self.key, self.phase);
                self.advance(n);
                src = &src[n..];
            } else if let Some(header_len) = self.large_header_next(input, src) {
                // Copy just the header, so that all of the payload is
                // unmasked as it is copied (not the first piece in place).
                input.extend(&src[..header_len]);
                src = &src[header_len..];
            } else {
                let n = src.len().min(PLAIN_PIECE);
                input.extend(&src[..n]);
                src = &src[n..];
                self.scan(input);
            }
        }
    }

    /// If `src` continues `input` right where the unmasker is, at a frame
    /// header, and that frame's payload is large enough to be unmasked as
    /// it is copied: takes the header in, and says how long it is.
    fn large_header_next(&mut self, input: &ReadBuffer, src: &[u8]) -> Option<usize> {
        let caught_up = self.pos == input.stream_offset() + input.len() as u64;
        if !caught_up || self.payload_left > 0 || self.stopped {
            return None;
        }
        match masked_header(src) {
            Header::Masked {
                header_len,
                payload_len,
                key,
            } if payload_len >= FUSE_MIN => {
                self.pos += header_len as u64;
                self.payload_left = payload_len;
                self.key = key;
                self.phase = 0;
                Some(header_len)
            }
            _ => None,
        }
    }

    /// Unmasks in place whatever arrived in `input` since the last call,
    /// up to the first short frame that has arrived whole.
    pub(super) fn scan(&mut self, input: &mut ReadBuffer) {
        self.scan_from(input, false);
    }

    /// Makes sure the frame at the front of `input` is unmasked (as far as
    /// it has arrived), then scans on as [`scan`](Self::scan) does.
    pub(super) fn unmask_front(&mut self, input: &mut ReadBuffer) {
        if self.pos == input.stream_offset() {
            self.scan_from(input, true);
        }
    }

    /// Whether the frame at the front of `input`, which has arrived whole,
    /// is still masked, and if so takes it over: the caller unmasks it,
    /// and the unmasker goes on after it. `frame_len` counts the header.
    #[inline(always)]
    pub(super) fn take_front(&mut self, input: &ReadBuffer, frame_len: usize) -> bool {
        if self.pos != input.stream_offset() {
            // Scanned already (it arrived in pieces), so unmasked.
            return false;
        }
        self.pos += frame_len as u64;
        true
    }

    fn scan_from(&mut self, input: &mut ReadBuffer, mut eager: bool) {
        let base = input.stream_offset();
        let data = input.data_mut();
        let end = base + data.len() as u64;
        // Only complete frames leave the buffer, and those were unmasked
        // (here, or by the decoder through `take_front`), so `pos` is never
        // behind `base` while the connection is open.
        while self.pos >= base && self.pos < end {
            let at = (self.pos - base) as usize;
            if self.payload_left > 0 {
                let n = self.payload_left.min(end - self.pos) as usize;
                apply_mask(&mut data[at..at + n], self.key, self.phase);
                self.advance(n);
                continue;
            }
            if self.stopped {
                return;
            }
            match masked_header(&data[at..]) {
                Header::Incomplete => return,
                Header::Masked {
                    header_len,
                    payload_len,
                    key,
                } => {
                    let whole = payload_len <= (end - self.pos) - header_len as u64;
                    if whole && payload_len <= LAZY_MAX && !eager {
                        return;
                    }
                    eager = false;
                    self.pos += header_len as u64;
                    self.payload_left = payload_len;
                    self.key = key;
                    self.phase = 0;
                }
                Header::Unmasked => self.stopped = true,
            }
        }
    }

    fn advance(&mut self, n: usize) {
        self.pos += n as u64;
        self.payload_left -= n as u64;
        self.phase = (self.phase + n) & 3;
    }
}
