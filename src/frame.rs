//! Frame headers (RFC 6455 section 5.2): decoding from a byte slice and
//! encoding into a small array.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! ```
//!
//! Every header read and write of the crate lives here: [`FrameHeader::decode`],
//! the encoders, and the unmasker's light read of the length and key
//! (`masked_header`). Decoding only reads the header; what the payload means
//! (fragmentation, limits, UTF-8) is the connection's business.

use crate::error::ProtocolError;

/// The largest frame header: 2 bytes, 8 bytes of extended length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The largest payload whose length fits the 7-bit form.
pub(crate) const MAX_SHORT_PAYLOAD: usize = 125;

/// A frame's opcode.
///
/// ```
/// use rfc6455::frame::OpCode;
/// assert!(OpCode::Ping.is_control());
/// assert_eq!(OpCode::from_u8(0x1), Some(OpCode::Text));
/// assert_eq!(OpCode::from_u8(0x3), None); // reserved
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: starts a text message.
    Text,
    /// 0x2: starts a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for the reserved values
    /// 0x3-0x7 and 0xB-0xF.
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        Some(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong are control frames.
    pub const fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A decoded frame header.
///
/// ```
/// use rfc6455::frame::{FrameHeader, OpCode};
/// // RFC 6455 section 5.7: a single-frame unmasked text message "Hello".
/// let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
/// let header = FrameHeader::decode(&wire).unwrap().unwrap();
/// assert_eq!(header.opcode, OpCode::Text);
/// assert!(header.fin);
/// assert_eq!(header.payload_len, 5);
/// assert_eq!(header.header_len, 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// The RSV1-3 bits, in the low three bits (RSV1 = 0b100).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
    /// How many bytes the header took on the wire.
    pub header_len: usize,
}

impl FrameHeader {
    /// Decodes a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` holds only part of a header (call again
    /// with more bytes), and an error for a reserved opcode, a control frame
    /// that is fragmented or longer than 125 bytes, or a 64-bit length with
    /// its most significant bit set. RSV bits and masking are reported, not
    /// judged: that depends on the role and on negotiated extensions.
    ///
    /// A length written in a longer form than needed (say 5 in the 16-bit
    /// form) is accepted: section 5.2 requires the minimal form of senders,
    /// which [`encode`](Self::encode) always uses, and failing a peer for it
    /// would buy nothing.
    #[inline]
    pub fn decode(buf: &[u8]) -> Result<Option<FrameHeader>, ProtocolError> {
        let [b0, b1, ..] = *buf else { return Ok(None) };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x7;
        let opcode = OpCode::from_u8(b0 & 0x0f).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0f))?;
        let masked = b1 & 0x80 != 0;
        let Some((payload_len, mut pos)) = length_field(buf, b1) else {
            return Ok(None);
        };
        if payload_len >> 63 != 0 {
            return Err(ProtocolError::InvalidLength);
        }
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }
        let mask = if masked {
            let Some(key) = mask_key(buf, pos) else {
                return Ok(None);
            };
            pos += 4;
            Some(key)
        } else {
            None
        };
        Ok(Some(FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
            header_len: pos,
        }))
    }

    /// Encodes a header into `out`, returning how many bytes were written
    /// (2 to 14). Uses the shortest length form.
    ///
    /// ```
    /// use rfc6455::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
    /// let mut out = [0u8; MAX_HEADER_LEN];
    /// let n = FrameHeader::encode(&mut out, true, OpCode::Binary, None, 256);
    /// // RFC 6455 section 5.7: 256 bytes binary, unmasked.
    /// assert_eq!(&out[..n], &[0x82, 0x7e, 0x01, 0x00]);
    /// ```
    #[inline]
    pub fn encode(
        out: &mut [u8; MAX_HEADER_LEN],
        fin: bool,
        opcode: OpCode,
        mask: Option<[u8; 4]>,
        payload_len: u64,
    ) -> usize {
        out[0] = (fin as u8) << 7 | opcode.as_u8();
        let mask_bit = if mask.is_some() { 0x80 } else { 0 };
        let mut pos = if payload_len < 126 {
            out[1] = mask_bit | payload_len as u8;
            2
        } else if payload_len <= u16::MAX as u64 {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
            4
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&payload_len.to_be_bytes());
            10
        };
        if let Some(key) = mask {
            out[pos..pos + 4].copy_from_slice(&key);
            pos += 4;
        }
        pos
    }

    /// [`encode`](Self::encode) for a payload of at most
    /// [`MAX_SHORT_PAYLOAD`] bytes: the header (2 bytes, or 6 with a mask)
    /// in the first bytes of the result, and its length.
    ///
    /// It is computed in a register and returned by value, to be stored
    /// with one move: a header assembled in memory by narrow stores and
    /// then copied with wide loads stalls store-to-load forwarding, a large
    /// share of the cost of sending a small frame (row
    /// `encode_client_masked/rfc6455_send_binary/16B`).
    #[inline]
    pub(crate) fn encode_short(
        fin: bool,
        opcode: OpCode,
        mask: Option<[u8; 4]>,
        payload_len: usize,
    ) -> ([u8; 8], usize) {
        debug_assert!(payload_len <= MAX_SHORT_PAYLOAD);
        let b0 = ((fin as u64) << 7) | opcode.as_u8() as u64;
        let word = match mask {
            None => b0 | (payload_len as u64) << 8,
            Some(key) => {
                b0 | (0x80 | payload_len as u64) << 8 | (u32::from_le_bytes(key) as u64) << 16
            }
        };
        (word.to_le_bytes(), if mask.is_some() { 6 } else { 2 })
    }
}

/// The payload length of the header at the start of `buf`, whose second
/// byte is `b1`, in any of its three forms, and where the field ends;
/// `None` until the field has arrived.
#[inline(always)]
fn length_field(buf: &[u8], b1: u8) -> Option<(u64, usize)> {
    Some(match b1 & 0x7f {
        126 => {
            let ext = buf.get(2..4)?;
            (u16::from_be_bytes([ext[0], ext[1]]) as u64, 4)
        }
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().unwrap()), 10),
        n => (n as u64, 2),
    })
}

/// The masking key at `buf[at..at + 4]`, once it has arrived.
#[inline(always)]
fn mask_key(buf: &[u8], at: usize) -> Option<[u8; 4]> {
    let key = buf.get(at..at + 4)?;
    Some([key[0], key[1], key[2], key[3]])
}

/// A header as the server's read path sees it before the decoder judges
/// it (see [`masked_header`]).
#[derive(Debug)]
pub(crate) enum MaskedHeader {
    /// More bytes are needed.
    Incomplete,
    /// Where the payload starts, how long it is, and its key.
    Masked {
        header_len: usize,
        payload_len: u64,
        key: [u8; 4],
    },
    /// The frame is not masked (a violation the decoder reports).
    Unmasked,
}

/// The light header read of the unmasker (`inbound`): the length and mask
/// fields only, read by the same helpers as [`FrameHeader::decode`], so the
/// two agree on every frame boundary (tested). The decoder judges the rest
/// when it reaches the frame. It exists for speed: it is a fraction of a
/// full decode, which counts at every small frame (rows
/// `decode_masked_*/rfc6455*/16B`).
#[inline]
pub(crate) fn masked_header(data: &[u8]) -> MaskedHeader {
    let [_, b1, ..] = *data else {
        return MaskedHeader::Incomplete;
    };
    if b1 & 0x80 == 0 {
        return MaskedHeader::Unmasked;
    }
    let Some((payload_len, key_at)) = length_field(data, b1) else {
        return MaskedHeader::Incomplete;
    };
    match mask_key(data, key_at) {
        Some(key) => MaskedHeader::Masked {
            header_len: key_at + 4,
            payload_len,
            key,
        },
        None => MaskedHeader::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(buf: &[u8]) -> FrameHeader {
        FrameHeader::decode(buf).unwrap().unwrap()
    }

    #[test]
    fn rfc_examples() {
        // Section 5.7 examples.
        let h = decode_all(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!((h.payload_len, h.header_len), (5, 6));

        let h = decode_all(&[0x01, 0x03]);
        assert!(!h.fin);
        assert_eq!(h.opcode, OpCode::Text);
        let h = decode_all(&[0x80, 0x02]);
        assert_eq!(h.opcode, OpCode::Continuation);

        let h = decode_all(&[0x89, 0x05]);
        assert_eq!(h.opcode, OpCode::Ping);
        let h = decode_all(&[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(h.opcode, OpCode::Pong);

        let h = decode_all(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!((h.payload_len, h.header_len), (65536, 10));
    }

    #[test]
    fn partial_headers_need_more() {
        let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for n in 0..full.len() {
            assert_eq!(FrameHeader::decode(&full[..n]), Ok(None), "prefix {n}");
        }
        assert_eq!(decode_all(&full).header_len, 14);
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            FrameHeader::decode(&[0x83, 0x00]),
            Err(ProtocolError::ReservedOpcode(3))
        );
        assert_eq!(
            FrameHeader::decode(&[0x8b, 0x00]),
            Err(ProtocolError::ReservedOpcode(0xb))
        );
        assert_eq!(
            FrameHeader::decode(&[0x09, 0x00]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::decode(&[0x89, 0x7e, 0x00, 0x7e]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        assert_eq!(
            FrameHeader::decode(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::InvalidLength)
        );
    }

    #[test]
    fn encode_short_matches_encode() {
        let mut out = [0u8; MAX_HEADER_LEN];
        for len in 0..=MAX_SHORT_PAYLOAD {
            for mask in [None, Some([0x37, 0xfa, 0x21, 0x3d])] {
                for (fin, opcode) in [
                    (true, OpCode::Binary),
                    (false, OpCode::Text),
                    (true, OpCode::Pong),
                ] {
                    let n = FrameHeader::encode(&mut out, fin, opcode, mask, len as u64);
                    let (short, short_len) = FrameHeader::encode_short(fin, opcode, mask, len);
                    assert_eq!(short_len, n);
                    assert_eq!(&short[..n], &out[..n], "len {len} mask {mask:?}");
                }
            }
        }
    }

    #[test]
    fn encode_picks_the_shortest_length_form() {
        let mut out = [0u8; MAX_HEADER_LEN];
        for (len, header_len) in [
            (0u64, 2usize),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
            (u32::MAX as u64 + 1, 10),
        ] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let n = FrameHeader::encode(&mut out, true, OpCode::Binary, mask, len);
                let extra = if mask.is_some() { 4 } else { 0 };
                assert_eq!(n, header_len + extra);
                let h = decode_all(&out[..n]);
                assert_eq!((h.payload_len, h.mask, h.header_len), (len, mask, n));
            }
        }
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
                        MaskedHeader::Masked {
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
                    (None, MaskedHeader::Unmasked) => {}
                    _ => panic!("{bytes:02x?}: decoder {h:?}"),
                },
                (Ok(None), found) => assert!(
                    matches!(found, MaskedHeader::Incomplete | MaskedHeader::Unmasked),
                    "{bytes:02x?}: complete for the unmasker only"
                ),
                (Err(_), _) => {} // the connection fails at this frame
            }
        }
    }
}
