//! Unmasking on arrival: a server unmasks every payload byte of its
//! client's frames as the byte enters the read buffer, so the decoder only
//! ever sees plain payloads.
//!
//! Bytes handed over by [`Connection::receive`](crate::Connection::receive)
//! are copied and unmasked in one pass (instead of a copy, then a second
//! pass over memory that has left the cache for a large frame); bytes read
//! straight into the buffer are unmasked in place right after the read,
//! while they are still in cache.
//!
//! To know where payloads are, the unmasker reads each frame header with
//! the same decoder as the connection, so the two agree on every frame
//! boundary. It never judges a header: when one is malformed or unmasked it
//! stops, and the decoder reports the error when it reaches that frame.

use crate::buffer::ReadBuffer;
use crate::frame::FrameHeader;
use crate::mask::apply_mask;

/// Payload bytes still to come from which a copy that unmasks pays off.
const FUSE_MIN: u64 = 4 * 1024;
/// Plain copies go in pieces this size, so they are still in L1/L2 when
/// unmasked.
const PLAIN_PIECE: usize = 16 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Unmasker {
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
    pub(crate) fn starting_at(pos: u64) -> Self {
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
    pub(crate) fn receive(&mut self, input: &mut ReadBuffer, mut src: &[u8]) {
        input.reserve(src.len());
        while !src.is_empty() {
            if self.payload_left >= FUSE_MIN && !self.stopped {
                let n = self.payload_left.min(src.len() as u64) as usize;
                input.extend_masked(&src[..n], self.key, self.phase);
                self.advance(n);
                src = &src[n..];
            } else {
                let n = src.len().min(PLAIN_PIECE);
                input.extend(&src[..n]);
                src = &src[n..];
                self.scan(input);
            }
        }
    }

    /// Unmasks in place whatever arrived in `input` since the last call.
    pub(crate) fn scan(&mut self, input: &mut ReadBuffer) {
        let base = input.stream_offset();
        let data = input.data_mut();
        let end = base + data.len() as u64;
        // Only complete frames leave the buffer, and those were processed,
        // so `pos` is never behind `base` while the connection is open.
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
            match FrameHeader::decode(&data[at..]) {
                Ok(None) => return,
                Ok(Some(FrameHeader {
                    mask: Some(key),
                    payload_len,
                    header_len,
                    ..
                })) => {
                    self.pos += header_len as u64;
                    self.payload_left = payload_len;
                    self.key = key;
                    self.phase = 0;
                }
                Ok(Some(_)) | Err(_) => self.stopped = true,
            }
        }
    }

    fn advance(&mut self, n: usize) {
        self.pos += n as u64;
        self.payload_left -= n as u64;
        self.phase = (self.phase + n) & 3;
    }
}
