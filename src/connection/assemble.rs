//! Judging each frame and assembling messages: a new header checked
//! against the role, the limits and the fragmentation state before any of
//! its payload is kept; a whole frame taken out of the input and turned
//! into a message (its text checked), a fragment added to the message
//! being reassembled, a ping answered, the peer's close applied.

use bytes::{Buf, Bytes, BytesMut};

use super::{addressable, Assembly, Connection, FrontFrame, State};
use crate::close;
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, OpCode};
use crate::message::{Event, Message, MessageKind};
use crate::state::Role;
use crate::utf8::Utf8Bytes;

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

    pub(super) fn is_text_frame(&self, opcode: OpCode) -> bool {
        match opcode {
            OpCode::Text => true,
            OpCode::Continuation => {
                matches!(&self.assembly, Some(a) if a.kind == MessageKind::Text)
            }
            _ => false,
        }
    }

    /// Checks a new header against the role, extensions, fragmentation
    /// state and limits, before any of its payload is buffered.
    pub(super) fn start_frame(&mut self, header: FrameHeader) -> Result<FrontFrame, ProtocolError> {
        if header.rsv != 0 {
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
        if !header.opcode.is_control() {
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
                let assembly = self.assembly.get_or_insert_with(|| Assembly {
                    kind,
                    data: BytesMut::new(),
                });
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
