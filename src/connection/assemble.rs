//! Judging each frame and assembling messages: a new header checked
//! against the role, the limits and the fragmentation state before any of
//! its payload is kept; a whole frame taken out of the input and turned
//! into a message (its text checked), a fragment added to the message
//! being reassembled, a ping answered, the peer's close applied.

use bytes::{Buf, Bytes};

use super::{addressable, Assembly, Connection, FrontFrame, State};
use crate::close;
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, OpCode};
use crate::message::{Event, Message, MessageKind};
use crate::state::Role;
use crate::utf8::Utf8Bytes;

/// The RSV1 bit as [`FrameHeader::rsv`] holds it: a compressed message.
#[cfg(feature = "deflate")]
const RSV1: u8 = 0b100;

/// Received payloads at most this large are copied out, not shared.
pub(super) const COPY_MAX: usize = 128;

impl Connection {
    /// Takes a complete frame out of the input and applies it.
    // Inlined: returning frames and events through memory from a call
    // costs store-forwarding stalls (rows `decode_masked_*/rfc6455*/16B`).
    #[inline(always)]
    pub(super) fn take_frame(&mut self, frame: FrontFrame) -> Result<Option<Event>, ProtocolError> {
        let header = frame.header;
        let (start, end) = (header.header_len, frame.end());
        #[cfg(feature = "deflate")]
        if self.is_compressed_frame(&header) {
            return self.take_compressed(frame);
        }
        if header.opcode == OpCode::Text && header.fin {
            let text = self.take_text(start, end)?;
            return Ok(Some(Event::Message(Message::Text(text))));
        }
        let payload = self.take_payload(start, end);
        self.complete_frame(frame, payload)
    }

    /// Takes the frame `input[..end]` out of the input and hands over its
    /// payload, `input[start..end]`. A short payload is copied out: an
    /// allocation costs less than sharing the read buffer (two atomic
    /// reference count updates), and a message the caller keeps does not
    /// pin that buffer. A long one is split off, header and all, then the
    /// header dropped from the frozen slice: cheaper than advancing the
    /// buffer separately.
    #[inline(always)]
    pub(super) fn take_payload(&mut self, start: usize, end: usize) -> Bytes {
        if end - start <= COPY_MAX {
            return Bytes::copy_from_slice(&self.input.lend(end)[start..]);
        }
        let mut payload = self.input.split_to(end).freeze();
        payload.advance(start);
        payload
    }

    /// [`take_payload`](Self::take_payload) for a whole text message, checked
    /// in one pass. What arrived before the rest was checked as it came, to
    /// fail fast; checking the whole once costs less than finishing that
    /// check and then making a string of it.
    #[inline(always)]
    pub(super) fn take_text(
        &mut self,
        start: usize,
        end: usize,
    ) -> Result<Utf8Bytes, ProtocolError> {
        if end - start <= COPY_MAX {
            // Checked where it lies, not in the copy just written (which
            // would stall on store forwarding).
            let text = crate::utf8::as_str(&self.input.lend(end)[start..]);
            return text
                .map(Utf8Bytes::from)
                .map_err(|_| ProtocolError::InvalidUtf8);
        }
        Utf8Bytes::try_from(self.take_payload(start, end)).map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// Whether a data frame's payload is text as it arrives (so checked
    /// as it arrives): not when it is compressed, whose text is checked
    /// as it is inflated.
    pub(super) fn is_text_frame(&self, header: &FrameHeader) -> bool {
        match header.opcode {
            OpCode::Text => header.rsv == 0,
            OpCode::Continuation => {
                matches!(&self.assembly, Some(a) if a.kind == MessageKind::Text && !a.is_compressed())
            }
            _ => false,
        }
    }

    /// Whether a frame belongs to a compressed message: the first frame
    /// has RSV1 (only ever accepted when permessage-deflate was agreed),
    /// the others continue a message that had it.
    #[cfg(feature = "deflate")]
    #[inline]
    pub(super) fn is_compressed_frame(&self, header: &FrameHeader) -> bool {
        match header.opcode {
            OpCode::Text | OpCode::Binary => header.rsv != 0,
            OpCode::Continuation => self.assembly.as_ref().is_some_and(Assembly::is_compressed),
            _ => false,
        }
    }

    /// Takes a frame of a compressed message out of the input and
    /// inflates it as it comes: the limits hold on the inflated bytes
    /// (each frame's at most `max_frame_size`, the message's at most
    /// `max_message_size`), checked as they come out of the inflater, so
    /// a message that would inflate past them is refused after at most the
    /// limit was inflated. Text is checked as it is inflated.
    #[cfg(feature = "deflate")]
    fn take_compressed(&mut self, frame: FrontFrame) -> Result<Option<Event>, ProtocolError> {
        use crate::deflate::InflateError;
        let header = frame.header;
        let (start, end) = (header.header_len, frame.end());
        if header.opcode != OpCode::Continuation {
            let kind = match header.opcode {
                OpCode::Text => MessageKind::Text,
                _ => MessageKind::Binary,
            };
            let mut assembly = Assembly::new(kind);
            assembly.compressed = true;
            self.assembly = Some(assembly);
        }
        let kind = self
            .assembly
            .as_ref()
            .map_or(MessageKind::Binary, |a| a.kind);
        let codec = self
            .deflate
            .as_mut()
            .expect("RSV1 is accepted only when negotiated");
        let before = codec.inflated.len();
        let max_message = addressable(self.config.max_message_size) as usize;
        let max_frame = addressable(self.config.max_frame_size) as usize;
        let limit = max_message.min(before.saturating_add(max_frame));
        match codec.inflate(&self.input.data()[start..end], header.fin, limit) {
            Ok(()) => {}
            Err(InflateError::TooBig) if limit == max_message => {
                return Err(ProtocolError::MessageTooBig {
                    max: self.config.max_message_size,
                })
            }
            Err(InflateError::TooBig) => {
                return Err(ProtocolError::InflatedFrameTooBig {
                    max: self.config.max_frame_size,
                })
            }
            Err(InflateError::Corrupt(why)) => {
                return Err(ProtocolError::InvalidCompressedData(why))
            }
        }
        self.input.lend(end);
        // A message in one frame is checked once, whole, as it becomes
        // `Utf8Bytes` below; one in fragments as each one inflates, so
        // that bad text fails before the rest arrives.
        let whole = header.fin && before == 0;
        if kind == MessageKind::Text && !whole {
            self.recv_utf8
                .feed(&codec.inflated[before..])
                .map_err(|_| ProtocolError::InvalidUtf8)?;
            if header.fin {
                self.recv_utf8
                    .finish()
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        }
        if !header.fin {
            return Ok(None);
        }
        self.assembly = None;
        let data = codec.take_inflated();
        let message = match kind {
            MessageKind::Binary => Message::Binary(data),
            MessageKind::Text => {
                Message::Text(Utf8Bytes::try_from(data).map_err(|_| ProtocolError::InvalidUtf8)?)
            }
        };
        Ok(Some(Event::Message(message)))
    }

    /// Checks a new header against the role, extensions, fragmentation
    /// state and limits, before any of its payload is buffered.
    pub(super) fn start_frame(&mut self, header: FrameHeader) -> Result<FrontFrame, ProtocolError> {
        if header.rsv != 0 && !self.starts_compressed_message(&header) {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedClientFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedServerFrame),
            _ => {}
        }
        let len = header.payload_len;
        // Control frames are at most 125 bytes (the header decoder checks
        // that), so a limit below 125 does not refuse them.
        if !header.opcode.is_control() && len > addressable(self.config.max_frame_size) {
            return Err(ProtocolError::FrameTooBig {
                len,
                max: self.config.max_frame_size,
            });
        }
        match (header.opcode, &self.assembly) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            _ => {}
        }
        // A compressed message's size is known as it inflates (see
        // `take_compressed`).
        if !header.opcode.is_control() && header.rsv == 0 && !self.continues_compressed() {
            let so_far = self.assembly.as_ref().map_or(0, |a| a.data.len() as u64);
            if so_far + len > addressable(self.config.max_message_size) {
                return Err(ProtocolError::MessageTooBig {
                    max: self.config.max_message_size,
                });
            }
        }
        if header.opcode == OpCode::Text {
            self.recv_utf8.reset();
        }
        Ok(FrontFrame {
            header,
            validated: 0,
        })
    }

    /// Whether a frame with RSV bits starts a compressed message: RSV1
    /// alone, on the first frame of a text or binary message, with
    /// permessage-deflate agreed. RSV1 on a control frame or a
    /// continuation stays a violation (RFC 7692 section 6.1).
    fn starts_compressed_message(&self, header: &FrameHeader) -> bool {
        #[cfg(feature = "deflate")]
        return header.rsv == RSV1
            && self.deflate.is_some()
            && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        #[cfg(not(feature = "deflate"))]
        {
            let _ = header;
            false
        }
    }

    /// Whether a compressed message is being received.
    fn continues_compressed(&self) -> bool {
        self.assembly.as_ref().is_some_and(Assembly::is_compressed)
    }

    #[inline(always)] // see next_complete_frame
    pub(super) fn complete_frame(
        &mut self,
        frame: FrontFrame,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        let header = frame.header;
        match header.opcode {
            // (A whole text message in one frame never comes here: see
            // `take_text`.)
            OpCode::Binary if header.fin => Ok(Some(Event::Message(Message::Binary(payload)))),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let kind = match header.opcode {
                    OpCode::Text => MessageKind::Text,
                    OpCode::Binary => MessageKind::Binary,
                    _ => self
                        .assembly
                        .as_ref()
                        .map_or(MessageKind::Binary, |a| a.kind),
                };
                if kind == MessageKind::Text {
                    self.recv_utf8
                        .feed(&payload[frame.validated..])
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                    if header.fin {
                        self.recv_utf8
                            .finish()
                            .map_err(|_| ProtocolError::InvalidUtf8)?;
                    }
                }
                let assembly = self.assembly.get_or_insert_with(|| Assembly::new(kind));
                if !header.fin {
                    assembly.data.extend_from_slice(&payload);
                    return Ok(None);
                }
                let mut assembly = self.assembly.take().expect("assembly exists");
                let data = if assembly.data.is_empty() {
                    payload
                } else {
                    assembly.data.extend_from_slice(&payload);
                    assembly.data.freeze()
                };
                let message = match assembly.kind {
                    MessageKind::Binary => Message::Binary(data),
                    MessageKind::Text => Message::Text(
                        Utf8Bytes::try_from(data).map_err(|_| ProtocolError::InvalidUtf8)?,
                    ),
                };
                Ok(Some(Event::Message(message)))
            }
            OpCode::Ping => {
                self.answer_ping(&payload);
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => {
                let frame = close::parse_payload(payload)?;
                self.received_close(&frame);
                Ok(Some(Event::Close(frame)))
            }
        }
    }

    pub(super) fn answer_ping(&mut self, payload: &[u8]) {
        // Not once this end has sent its close.
        if self.config.auto_pong && matches!(self.state, State::Open) {
            self.write_frame(OpCode::Pong, true, payload);
        }
    }
}
