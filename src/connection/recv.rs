//! Receiving: bytes in (`receive`, `read_buf`/`commit`, `receive_with`),
//! events out (`next_event`, `next_event_ref`). Frames are taken from the
//! front of the input, checked against the role, limits and fragmentation
//! state, and turned into messages, pings, pongs and the peer's close.

use bytes::{Buf, Bytes};

use super::assemble::COPY_MAX;
use super::{Connection, FrontFrame, Pending};
use crate::error::{Error, ProtocolError};
use crate::frame::{OpCode, MAX_CONTROL_PAYLOAD};
use crate::inbound::InputTail;
use crate::kernels::borrow::str_or_back;
use crate::message::{Event, EventRef, Message, MessageRef};
use crate::state::Role;
use crate::utf8::Utf8Bytes;

/// Where `next_event_ref` finds a lendable frame's payload: 16 bytes, so
/// the fast path returns it in registers.
#[derive(Clone, Copy)]
struct Lendable {
    end: usize,
    start: u8,
    kind: LentKind,
}

#[derive(Clone, Copy)]
enum LentKind {
    Binary,
    Text,
    Ping,
    Pong,
}

/// What [`Connection::next_fast`] found.
enum Fast {
    /// A frame to lend or hand over as it is.
    Lend(Lendable),
    /// Nothing more to read.
    Drained,
    /// Anything else: see [`Connection::next_general`].
    General,
}

/// What [`Connection::next_general`] found.
enum General {
    /// An event to report.
    Event(Event),
    /// A frame to lend or hand over as it is.
    Lend(Lendable),
    /// Nothing more to read now.
    Drained,
}

impl Connection {
    /// Appends received bytes. Bytes received after the connection closed
    /// are dropped.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.is_closed() {
            self.input.receive(data);
        }
    }

    /// Space to read received bytes into, to skip the copy of
    /// [`receive`](Self::receive): read into it, then call
    /// [`commit`](Self::commit) with the count.
    ///
    /// It is one read's worth, never the length a frame header declares:
    /// at least 4 KiB, more (up to 256 KiB) while reads keep filling it,
    /// and at most as much again as the connection already holds while a
    /// large frame arrives. A peer that declares a 16 MiB frame and then
    /// trickles makes the connection hold what it sent plus one such
    /// read, not 16 MiB.
    pub fn read_buf(&mut self) -> &mut [u8] {
        let frame_remaining = self.frame_remaining();
        self.input.read_buf(frame_remaining)
    }

    /// Marks `n` bytes of [`read_buf`](Self::read_buf) as received.
    ///
    /// # Panics
    /// If `n` exceeds the length of the last `read_buf()`.
    pub fn commit(&mut self, n: usize) {
        self.input.commit(n);
        if self.is_closed() {
            self.input.clear();
        }
    }

    /// Whether a message has started to arrive and is not complete: part
    /// of a frame is held, or a fragmented message has begun. A runtime
    /// that bounds how long a message may take to arrive (so that a peer
    /// trickling a byte at a time cannot hold a connection forever) starts
    /// its clock when this turns true and stops it when it turns false.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Client, Config::default());
    /// assert!(!conn.message_in_progress());
    /// conn.receive(&[0x81, 0x05, b'h', b'e']); // "hello", cut short
    /// assert_eq!(conn.next_event()?, None);
    /// assert!(conn.message_in_progress());
    /// conn.receive(b"llo");
    /// assert!(conn.next_event()?.is_some());
    /// assert!(!conn.message_in_progress());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn message_in_progress(&self) -> bool {
        self.reads_frames()
            && (self.input.len() > 0 || self.frame.is_some() || self.assembly.is_some())
    }

    /// How many bytes of the frame being received have not arrived yet
    /// (0 when no frame is partly received).
    pub fn frame_remaining(&self) -> usize {
        self.frame.map_or(0, |f| {
            let total = f.header.header_len as u64 + f.header.payload_len;
            total.saturating_sub(self.input.len() as u64) as usize
        })
    }

    /// Receives by appending to the connection's input instead of filling
    /// [`read_buf`](Self::read_buf): `fill` gets an [`InputTail`], which can
    /// only be appended to (for example with [`InputTail::read_from`]),
    /// and whatever it appends counts as received. The payload then
    /// reaches the caller in that same allocation, and once the caller
    /// drops it the next large frame is read into it again.
    ///
    /// This is for large frames: `read_buf` must hand out initialised
    /// memory, which costs a pass of zeroing over every new buffer, while
    /// `Read::read_to_end` fills a `Vec`'s spare capacity without it.
    ///
    /// Room is reserved as bytes arrive, never for the whole declared
    /// frame at once: at most 128 KiB or as much again as the connection
    /// already holds, whichever is more, so a peer that declares a huge
    /// frame and trickles costs what it sent (about twice, at worst) plus
    /// one step.
    ///
    /// A server unmasks what each call appends, right after it. Handing
    /// over the rest of a large frame in pieces (the blocking adapter uses
    /// 128 KiB) keeps that unmasking in cache and overlaps it with the
    /// arrival of the next piece, instead of one pass over the whole
    /// payload after its last byte. A client has nothing to unmask, so it
    /// is best served by one call for the whole rest.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Event, Role};
    /// let mut conn = Connection::open(Role::Client, Config::default());
    /// let mut wire = vec![0x82, 0x7e, 0x01, 0x00]; // binary, 256 bytes
    /// wire.extend([7u8; 256]);
    /// let mut socket = &wire[..];
    /// conn.receive(&wire[..4]);
    /// socket = &socket[4..];
    /// assert_eq!(conn.next_event()?, None);
    /// let rest = conn.frame_remaining();
    /// assert_eq!(rest, 256);
    /// conn.receive_with(|tail| tail.read_from(&mut socket, rest))?;
    /// assert!(matches!(conn.next_event()?, Some(Event::Message(m)) if m.len() == 256));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receive_with<R>(&mut self, fill: impl FnOnce(&mut InputTail<'_>) -> R) -> R {
        let frame_remaining = self.frame_remaining();
        let result = self.input.receive_with(frame_remaining, fill);
        if self.is_closed() {
            self.input.clear();
        }
        result
    }

    /// Records that the peer closed its side of the transport. Unless the
    /// close handshake completed first, the next call to
    /// [`next_event`](Self::next_event) reports [`Error::AbnormalClosure`]
    /// (or [`HandshakeError::Incomplete`](crate::handshake::HandshakeError::Incomplete) during the handshake).
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// The next event, or `None` when more input is needed (or the
    /// connection is closed). Call it until it returns `None` after each
    /// receive.
    ///
    /// A protocol violation returns [`Error::Protocol`]; the close frame
    /// with its code is already queued, and the connection is closed.
    // Inlined like `next_event_ref`, so that a whole message in one frame
    // reaches the caller without a round trip through memory.
    #[inline(always)]
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        match self.next_fast() {
            Fast::Lend(frame) => self.take_lendable(frame),
            Fast::Drained => self.input_drained().map(|()| None),
            Fast::General => self.next_event_general(),
        }
    }

    /// Everything else `next_event` may report: errors, handshake and
    /// close events, fragmented messages.
    fn next_event_general(&mut self) -> Result<Option<Event>, Error> {
        match self.next_general(false)? {
            General::Event(event) => Ok(Some(event)),
            General::Lend(frame) => self.take_lendable(frame),
            General::Drained => Ok(None),
        }
    }

    /// The one general receive loop, behind both `next_event` and
    /// `next_event_ref`: the pending violation or frame the fast path left,
    /// the handshake, then frames until one yields an event. With `lend`,
    /// a frame that can be lent is handed back as it is, not taken.
    fn next_general(&mut self, lend: bool) -> Result<General, Error> {
        let mut pending = match self.pending.take() {
            Some(Pending::Violation(violation)) => return Err(self.fail_with(violation)),
            Some(Pending::Frame(frame)) => Some(frame),
            None => None,
        };
        if self.is_closed() {
            return Ok(General::Drained);
        }
        if !self.reads_frames() {
            let event = self.next_handshake_event()?;
            return Ok(event.map_or(General::Drained, General::Event));
        }
        loop {
            let frame = match pending.take() {
                Some(frame) => frame,
                None => match self.next_complete_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => return self.input_drained().map(|()| General::Drained),
                    Err(violation) => return Err(self.fail_with(violation)),
                },
            };
            if lend {
                match self.lendable(&frame) {
                    Ok(Some(lendable)) => return Ok(General::Lend(lendable)),
                    Ok(None) => {}
                    Err(violation) => return Err(self.fail_with(violation)),
                }
            }
            match self.take_frame(frame) {
                Ok(Some(event)) => return Ok(General::Event(event)),
                Ok(None) => {}
                Err(violation) => return Err(self.fail_with(violation)),
            }
        }
    }

    /// Takes a lendable frame out of the input and hands its payload over
    /// (see [`take_payload`](Self::take_payload)).
    #[inline(always)]
    fn take_lendable(&mut self, frame: Lendable) -> Result<Option<Event>, Error> {
        // The same steps as `take_text` and `take_payload`, written out:
        // built from those two, this path is measurably slower a small frame
        // (rows `decode_masked_binary/rfc6455/16B` and `.../125B`).
        let (start, end) = (frame.start as usize, frame.end);
        let payload = if end - start <= COPY_MAX {
            let bytes = &self.input.lend(end)[start..];
            if let LentKind::Text = frame.kind {
                return match crate::utf8::as_str(bytes) {
                    Ok(text) => Ok(Some(Event::Message(Message::Text(Utf8Bytes::from(text))))),
                    Err(_) => Err(self.fail_with(ProtocolError::InvalidUtf8)),
                };
            }
            Bytes::copy_from_slice(bytes)
        } else {
            let mut payload = self.input.split_to(end).freeze();
            payload.advance(start);
            payload
        };
        let event = match frame.kind {
            LentKind::Text => match Utf8Bytes::try_from(payload) {
                Ok(text) => Event::Message(Message::Text(text)),
                Err(_) => return Err(self.fail_with(ProtocolError::InvalidUtf8)),
            },
            LentKind::Binary => Event::Message(Message::Binary(payload)),
            LentKind::Ping => Event::Ping(payload),
            LentKind::Pong => Event::Pong(payload),
        };
        Ok(Some(event))
    }

    /// Like [`next_event`](Self::next_event), but lends the payload of a
    /// message, ping or pong out of the connection's buffer instead of
    /// handing it over: no reference count, no allocation, the fastest way
    /// to read many small messages. The loan ends with the next call on the
    /// connection, so copy out what must outlive it.
    ///
    /// Handshake and close events come as [`EventRef::Other`], exactly as
    /// `next_event` reports them.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, EventRef, MessageRef, Role};
    /// let mut conn = Connection::open(Role::Client, Config::default());
    /// conn.receive(b"\x81\x02hi\x82\x01\x07");
    /// let mut texts = Vec::new();
    /// while let Some(event) = conn.next_event_ref()? {
    ///     match event {
    ///         EventRef::Message(MessageRef::Text(text)) => texts.push(text.to_owned()),
    ///         EventRef::Message(MessageRef::Binary(data)) => assert_eq!(data, [7]),
    ///         other => panic!("unexpected {other:?}"),
    ///     }
    /// }
    /// assert_eq!(texts, ["hi"]);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    // Inlined, so that the common case (a whole message in one frame) comes
    // back to the caller in registers: returned through memory from a
    // call, the event costs a store-forwarding stall (row
    // `decode_masked_binary/rfc6455_borrowed/16B`). The work happens out
    // of line, in `next_fast`.
    #[inline(always)]
    pub fn next_event_ref(&mut self) -> Result<Option<EventRef<'_>>, Error> {
        match self.next_fast() {
            Fast::Lend(frame) => self.lend(frame),
            Fast::Drained => self.input_drained().map(|()| None),
            Fast::General => self.next_event_ref_general(),
        }
    }

    /// The common cases of both `next_event` and `next_event_ref`,
    /// answered in 16 bytes (so in registers); anything else is left in
    /// the pending slot for [`next_general`](Self::next_general).
    fn next_fast(&mut self) -> Fast {
        self.lent = None;
        if !self.reads_frames() {
            return Fast::General;
        }
        let pending = match self.next_complete_frame() {
            Ok(Some(frame)) => match self.lendable(&frame) {
                Ok(Some(lendable)) => return Fast::Lend(lendable),
                // Decoded, not taken: the general path takes it from here.
                Ok(None) => Pending::Frame(frame),
                Err(violation) => Pending::Violation(violation),
            },
            Ok(None) => return Fast::Drained,
            Err(violation) => Pending::Violation(violation),
        };
        self.pending = Some(pending);
        Fast::General
    }

    /// Everything else `next_event_ref` may report: errors, handshake and
    /// close events, fragmented messages (lent from where they were
    /// reassembled).
    fn next_event_ref_general(&mut self) -> Result<Option<EventRef<'_>>, Error> {
        match self.next_general(true)? {
            General::Lend(frame) => self.lend(frame),
            General::Event(Event::Message(message)) => {
                let message = self.lent.insert(message);
                Ok(Some(EventRef::Message(message.as_ref())))
            }
            General::Event(event) => Ok(Some(EventRef::Other(Box::new(event)))),
            General::Drained => Ok(None),
        }
    }

    /// Whether a complete frame at the front of the input can be lent as it
    /// is (a whole message in one frame, a ping or a pong); if so, does
    /// what receiving it entails (checks the text, answers the ping) and
    /// says where its payload is.
    #[inline(always)]
    fn lendable(&mut self, frame: &FrontFrame) -> Result<Option<Lendable>, ProtocolError> {
        let header = frame.header;
        let (start, end) = (header.header_len, frame.end());
        // A compressed message is inflated, never lent as it arrived.
        #[cfg(feature = "deflate")]
        if header.rsv != 0 {
            return Ok(None);
        }
        let kind = match header.opcode {
            OpCode::Binary if header.fin => LentKind::Binary,
            // Checked as it is lent.
            OpCode::Text if header.fin => LentKind::Text,
            OpCode::Ping => {
                // The decoder refuses longer control payloads.
                let mut copy = [0u8; MAX_CONTROL_PAYLOAD];
                let payload = &self.input.data()[start..end];
                copy[..payload.len()].copy_from_slice(payload);
                self.answer_ping(&copy[..end - start]);
                LentKind::Ping
            }
            OpCode::Pong => LentKind::Pong,
            _ => return Ok(None),
        };
        Ok(Some(Lendable {
            end,
            start: start as u8,
            kind,
        }))
    }

    /// Takes a lendable frame out of the input and lends its payload; text
    /// is checked here, once, and fails the connection if it is not UTF-8.
    #[inline(always)]
    fn lend(&mut self, frame: Lendable) -> Result<Option<EventRef<'_>>, Error> {
        let (start, end) = (frame.start as usize, frame.end);
        let event = match frame.kind {
            LentKind::Text => {
                self.input.lend(end);
                return match str_or_back(self, |conn| &conn.input.lent(end)[start..]) {
                    Ok(text) => Ok(Some(EventRef::Message(MessageRef::Text(text)))),
                    Err(conn) => Err(conn.fail_with(ProtocolError::InvalidUtf8)),
                };
            }
            LentKind::Binary => {
                EventRef::Message(MessageRef::Binary(&self.input.lend(end)[start..]))
            }
            LentKind::Ping => EventRef::Ping(&self.input.lend(end)[start..]),
            LentKind::Pong => EventRef::Pong(&self.input.lend(end)[start..]),
        };
        Ok(Some(event))
    }

    /// Input ran out: report a transport that ended before the close
    /// handshake, or let an idle buffer shrink.
    // Out of line: `next_event_ref` inlines into its callers, and this is
    // not its hot path.
    #[inline(never)]
    fn input_drained(&mut self) -> Result<(), Error> {
        if self.eof {
            return Err(self.transport_ended());
        }
        self.input.shrink_if_unused();
        Ok(())
    }

    /// The next frame once all of it has arrived (its text so far
    /// checked), still at the front of the input; `None` until then.
    // Inlined: returning frames and events through memory from a call
    // costs store-forwarding stalls (rows `decode_masked_*/rfc6455*/16B`).
    #[inline(always)]
    fn next_complete_frame(&mut self) -> Result<Option<FrontFrame>, ProtocolError> {
        let mut frame = match self.frame {
            Some(frame) => frame,
            None => {
                if let Some(frame) = self.whole_short_message() {
                    return Ok(Some(frame));
                }
                // Past this, payloads are plain (see `unmask`): a server
                // unmasks them as they are received, and a client refuses
                // masked frames.
                match self.input.front_header()? {
                    None => return Ok(None),
                    Some(header) => self.start_frame(header)?,
                }
            }
        };
        let header = frame.header;
        let start = header.header_len;
        let len = header.payload_len as usize; // bounded by max_frame_size
        let available = (self.input.len() - start).min(len);
        let is_text = self.is_text_frame(&header);
        if available < len {
            // Check the text that has arrived so a bad byte fails now,
            // not when the frame completes.
            if is_text && available > frame.validated {
                let data = &self.input.data()[start + frame.validated..start + available];
                self.recv_utf8
                    .feed(data)
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
                frame.validated = available;
            }
            self.frame = Some(frame);
            return Ok(None);
        }
        self.frame = None;
        Ok(Some(frame))
    }

    /// The common case: a whole message in one frame with a 7-bit length
    /// at the front of the input (see [`Inbound::whole_short_message`]),
    /// and no fragmented message under way. `None` sends the frame through
    /// [`Inbound::front_header`] and [`start_frame`](Self::start_frame),
    /// which also judge every frame this one turns away.
    #[inline(always)]
    fn whole_short_message(&mut self) -> Option<FrontFrame> {
        if self.assembly.is_some() {
            return None;
        }
        let max_len = self.config.max_frame_size.min(self.config.max_message_size);
        let header = self
            .input
            .whole_short_message(self.role == Role::Server, max_len)?;
        Some(FrontFrame {
            header,
            validated: 0,
        })
    }
}
