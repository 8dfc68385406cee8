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
//! To know where payloads are, the unmasker reads the length and mask of
//! each frame header the way the decoder does, so the two agree on every
//! frame boundary. It never judges a header: when one is unmasked it
//! stops, and the decoder reports the error when it reaches that frame (as
//! it does for any other malformed header).
//!
//! Short frames that have arrived whole are the exception: the unmasker
//! stops at such a frame and leaves it (and whatever follows it) masked.
//! The connection's decoder reads the header of such a frame anyway, and
//! unmasks its few bytes right then ([`Unmasker::take_front`]); a separate
//! pass over every small frame cost more than the frame's whole decode.
//! Before the decoder's general path reads a frame, [`Unmasker::unmask_front`]
//! catches up, so that path only ever sees plain payloads.

use crate::buffer::ReadBuffer;
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

enum Header {
    Incomplete,
    Masked {
        header_len: usize,
        payload_len: u64,
        key: [u8; 4],
    },
    Unmasked,
}

/// Where the payload of the frame at the start of `data` is and its key:
/// the length and mask fields only, read exactly as
/// [`FrameHeader::decode`](crate::frame::FrameHeader::decode) reads them (the decoder judges the rest: an
/// invalid header fails the connection there, so what the unmasker does
/// after it does not matter). Reading only these is a third of the
/// decoder's cost, which counts at every small frame.
#[inline]
fn masked_header(data: &[u8]) -> Header {
    let [_, b1, ..] = *data else {
        return Header::Incomplete;
    };
    if b1 & 0x80 == 0 {
        return Header::Unmasked;
    }
    let (payload_len, key_at) = match b1 & 0x7f {
        126 => match data.get(2..4) {
            Some(ext) => (u16::from_be_bytes([ext[0], ext[1]]) as u64, 4),
            None => return Header::Incomplete,
        },
        127 => match data.get(2..10) {
            Some(ext) => (u64::from_be_bytes(ext.try_into().unwrap()), 10),
            None => return Header::Incomplete,
        },
        n => (n as u64, 2),
    };
    match data.get(key_at..key_at + 4) {
        Some(key) => Header::Masked {
            header_len: key_at + 4,
            payload_len,
            key: [key[0], key[1], key[2], key[3]],
        },
        None => Header::Incomplete,
    }
}

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
    pub(crate) fn scan(&mut self, input: &mut ReadBuffer) {
        self.scan_from(input, false);
    }

    /// Makes sure the frame at the front of `input` is unmasked (as far as
    /// it has arrived), then scans on as [`scan`](Self::scan) does.
    pub(crate) fn unmask_front(&mut self, input: &mut ReadBuffer) {
        if self.pos == input.stream_offset() {
            self.scan_from(input, true);
        }
    }

    /// Whether the frame at the front of `input`, which has arrived whole,
    /// is still masked, and if so takes it over: the caller unmasks it,
    /// and the unmasker goes on after it. `frame_len` counts the header.
    #[inline(always)]
    pub(crate) fn take_front(&mut self, input: &ReadBuffer, frame_len: usize) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameHeader;

    fn masked_frame(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut header = [0u8; crate::frame::MAX_HEADER_LEN];
        let n = FrameHeader::encode(
            &mut header,
            true,
            crate::frame::OpCode::Binary,
            Some(key),
            payload.len() as u64,
        );
        let mut frame = header[..n].to_vec();
        let mut masked = payload.to_vec();
        apply_mask(&mut masked, key, 0);
        frame.extend(masked);
        frame
    }

    /// A short frame that arrived whole stays masked, and so does all
    /// behind it, until the decoder takes it (`take_front`) or asks for it
    /// unmasked (`unmask_front`); a frame arriving in pieces is unmasked as
    /// it comes.
    #[test]
    fn short_whole_frames_are_left_to_the_decoder() {
        let key = [1, 2, 3, 4];
        let short = masked_frame(b"short", key);
        let large = masked_frame(&[7u8; 5000], key);
        let mut input = ReadBuffer::default();
        let mut unmasker = Unmasker::default();
        let wire: Vec<u8> = [&short[..], &short, &large].concat();
        unmasker.receive(&mut input, &wire);
        assert_eq!(input.data(), &wire[..], "nothing unmasked yet");

        // The decoder unmasks the first itself.
        assert!(unmasker.take_front(&input, short.len()));
        input.lend(short.len());
        // The general path asks for the second unmasked; the scan then
        // stops at nothing short, so it goes on through the large frame.
        unmasker.unmask_front(&mut input);
        assert_eq!(&input.data()[6..11], b"short");
        assert!(
            !unmasker.take_front(&input, short.len()),
            "already unmasked"
        );
        input.lend(short.len());
        assert!(input.data()[8..].iter().all(|&b| b == 7));

        // A large frame at a frame boundary: its header is taken in alone,
        // then the whole payload unmasked as it is copied.
        let mut input = ReadBuffer::default();
        let mut unmasker = Unmasker::default();
        unmasker.receive(&mut input, &[&large[..], &short].concat());
        assert_eq!(&input.data()[..8], &large[..8]);
        assert!(input.data()[8..large.len()].iter().all(|&b| b == 7));
        assert_eq!(
            &input.data()[large.len()..],
            &short[..],
            "left to the decoder"
        );

        // A short frame in two pieces is unmasked as it arrives.
        let mut input = ReadBuffer::default();
        let mut unmasker = Unmasker::default();
        unmasker.receive(&mut input, &short[..8]);
        unmasker.receive(&mut input, &short[8..]);
        assert_eq!(&input.data()[6..], b"short");
        assert!(!unmasker.take_front(&input, short.len()));
    }

    /// Wherever the decoder accepts a masked header, the unmasker finds the
    /// same header length, payload length and key; and it never reads a
    /// header as complete where the decoder needs more bytes.
    #[test]
    fn reads_lengths_and_keys_as_the_decoder_does() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        for case in 0..200_000 {
            let len = case % 16;
            let mut bytes: Vec<u8> = (0..len).map(|_| next()).collect();
            if len > 1 && case % 3 == 0 {
                bytes[1] = 0x80 | [125, 126, 127][case / 3 % 3];
            }
            match (FrameHeader::decode(&bytes), masked_header(&bytes)) {
                (Ok(Some(h)), found) => match (h.mask, found) {
                    (
                        Some(key),
                        Header::Masked {
                            header_len,
                            payload_len,
                            key: k,
                        },
                    ) => {
                        assert_eq!(
                            (header_len, payload_len, k),
                            (h.header_len, h.payload_len, key)
                        );
                    }
                    (None, Header::Unmasked) => {}
                    _ => panic!("{bytes:02x?}: decoder {h:?}"),
                },
                (Ok(None), found) => assert!(
                    matches!(found, Header::Incomplete | Header::Unmasked),
                    "{bytes:02x?}: complete for the unmasker only"
                ),
                (Err(_), _) => {} // the connection fails at this frame
            }
        }
    }
}
