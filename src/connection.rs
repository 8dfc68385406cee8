//! The connection state machine: the one place where bytes become frames,
//! frames become messages, and application calls become bytes.
//!
//! It does no I/O. Feed it what the transport received ([`Connection::receive`],
//! or [`Connection::read_buf`] + [`Connection::commit`] to skip a copy), drain
//! [`Connection::next_event`], and write out what [`Connection::output`]
//! holds. See the crate documentation for a complete client/server exchange.

use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::close::{self, CloseCode, MAX_REASON_LEN};
use crate::error::{Error, ProtocolError};
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, MAX_SHORT_PAYLOAD};
use crate::handshake::{
    self, parse_request, parse_response, validate_request, Accept, ClientRequest, HandshakeError,
    Reject, Request,
};
use crate::inbound::{Inbound, InputTail};
use crate::kernels::borrow::str_or_back;
use crate::message::{Event, EventRef, Message, MessageKind, MessageRef};
use crate::outbound::WriteQueue;
use crate::state::{Config, ReadyState, Role};
use crate::utf8::{Utf8Bytes, Utf8Validator};

enum Handshake {
    Client { key: String, protocols: Vec<String> },
    ServerAwaitingRequest,
    ServerAwaitingDecision(Request),
    Done,
}

/// A frame whose header has been read and whose payload is arriving.
#[derive(Clone, Copy)]
struct PartialFrame {
    header: FrameHeader,
    /// Payload bytes checked for UTF-8 so far (text only).
    validated: usize,
}

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

enum Fast {
    Lend(Lendable),
    Drained,
    General,
}

impl PartialFrame {
    /// Where the frame ends in the input (`payload_len` is bounded by
    /// `max_frame_size`, so it fits).
    fn end(&self) -> usize {
        self.header.header_len + self.header.payload_len as usize
    }
}

/// A fragmented message being reassembled.
struct Assembly {
    kind: MessageKind,
    data: BytesMut,
}

/// A size limit as this platform can honour it: whatever the
/// configuration says, a frame or message must fit in one allocation
/// (at most `isize::MAX` bytes) with its header, so every length the
/// connection computes from a header fits in a `usize`.
fn addressable(limit: usize) -> u64 {
    limit.min(isize::MAX as usize - MAX_HEADER_LEN) as u64
}

/// A WebSocket connection, client or server, without I/O.
///
/// ```
/// use rfc6455::{ClientRequest, Config, Connection, Event, Message, ReadyState};
///
/// let mut client = Connection::client(ClientRequest::new("ws://localhost/")?, Config::default())?;
/// let mut server = Connection::server(Config::default());
/// // Move bytes both ways until nothing is left to write.
/// fn pump(from: &mut Connection, to: &mut Connection) {
///     let n = from.output().len();
///     to.receive(&from.output().to_vec());
///     from.consume_output(n);
/// }
/// pump(&mut client, &mut server);
/// let Some(Event::Request(req)) = server.next_event()? else { panic!() };
/// assert_eq!(req.path(), "/");
/// server.accept(rfc6455::Accept::new())?;
/// pump(&mut server, &mut client);
/// assert!(matches!(client.next_event()?, Some(Event::Open(_))));
/// assert_eq!(client.ready_state(), ReadyState::Open);
///
/// client.send_text("hello")?;
/// pump(&mut client, &mut server);
/// assert_eq!(server.next_event()?, Some(Event::Message(Message::from("hello"))));
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub struct Connection {
    role: Role,
    config: Config,
    state: ReadyState,
    handshake: Handshake,
    head_scanned: usize,
    protocol: Option<String>,
    input: Inbound,
    eof: bool,
    output: WriteQueue,
    frame: Option<PartialFrame>,
    assembly: Option<Assembly>,
    recv_utf8: Utf8Validator,
    /// A reassembled message lent out by `next_event_ref`.
    lent: Option<Message>,
    /// `next_event_ref`'s fast path leaves the general path a frame it
    /// decoded but cannot lend, or a violation it found.
    frame_ready: Option<PartialFrame>,
    violation: Option<ProtocolError>,
    send_fragmented: Option<MessageKind>,
    send_utf8: Utf8Validator,
    close_sent: bool,
    close_received: bool,
    failed: bool,
    /// Where a client's mask keys come from (`None` for a server, which
    /// never masks). Section 5.3 wants keys that scripts and proxies cannot
    /// predict: this is a ChaCha12 CSPRNG of the connection's own (the
    /// generator behind `rand::rng()`), seeded once from `rand::rng()` and
    /// so from the OS. A key is then four bytes of its buffered output, not
    /// four separate draws through a thread-local lookup per frame. Boxed:
    /// its 320 bytes (mostly buffered output) are for clients only.
    mask_keys: Option<Box<StdRng>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("buffered_amount", &self.buffered_amount())
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn new(role: Role, config: Config, handshake: Handshake) -> Self {
        Connection {
            role,
            config,
            state: ReadyState::Connecting,
            handshake,
            head_scanned: 0,
            protocol: None,
            input: Inbound::default(),
            eof: false,
            output: WriteQueue::default(),
            frame: None,
            assembly: None,
            recv_utf8: Utf8Validator::new(),
            lent: None,
            frame_ready: None,
            violation: None,
            send_fragmented: None,
            send_utf8: Utf8Validator::new(),
            close_sent: false,
            close_received: false,
            failed: false,
            mask_keys: (role == Role::Client).then(|| Box::new(StdRng::from_rng(&mut rand::rng()))),
        }
    }

    /// A client connection; the upgrade request, with a fresh random key,
    /// is queued in [`output`](Self::output) at once.
    pub fn client(request: ClientRequest, config: Config) -> Result<Self, Error> {
        let key = handshake::generate_key();
        let bytes = request.encode(&key)?;
        let mut conn = Connection::new(
            Role::Client,
            config,
            Handshake::Client {
                key,
                protocols: request.protocols().to_vec(),
            },
        );
        conn.output.extend(&bytes);
        Ok(conn)
    }

    /// A server connection waiting for the client's request.
    pub fn server(config: Config) -> Self {
        Connection::new(Role::Server, config, Handshake::ServerAwaitingRequest)
    }

    /// A connection whose handshake happened elsewhere (for example in an
    /// HTTP framework), starting in [`ReadyState::Open`].
    ///
    /// ```
    /// use rfc6455::{Config, Connection, ReadyState, Role};
    /// let conn = Connection::open(Role::Server, Config::default());
    /// assert_eq!(conn.ready_state(), ReadyState::Open);
    /// ```
    pub fn open(role: Role, config: Config) -> Self {
        let mut conn = Connection::new(role, config, Handshake::Done);
        conn.state = ReadyState::Open;
        if role == Role::Server {
            conn.input.start_unmasking();
        }
        conn
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    pub fn ready_state(&self) -> ReadyState {
        self.state
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The negotiated subprotocol, once open.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    // ------------------------------------------------------------ input

    /// Appends received bytes. Bytes received after the connection closed
    /// are dropped.
    pub fn receive(&mut self, data: &[u8]) {
        if self.state != ReadyState::Closed {
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
        if self.state == ReadyState::Closed {
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
        matches!(self.state, ReadyState::Open | ReadyState::Closing)
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
        if self.state == ReadyState::Closed {
            self.input.clear();
        }
        result
    }

    /// Records that the peer closed its side of the transport. Unless the
    /// close handshake completed first, the next call to
    /// [`next_event`](Self::next_event) reports [`Error::AbnormalClosure`]
    /// (or [`HandshakeError::Incomplete`] during the handshake).
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
        if let Some(violation) = self.violation.take() {
            return Err(self.fail_with(violation));
        }
        match self.state {
            ReadyState::Connecting => self.next_handshake_event(),
            ReadyState::Closed => Ok(None),
            ReadyState::Open | ReadyState::Closing => loop {
                let Some(frame) = self.next_frame_general()? else {
                    return Ok(None);
                };
                match self.take_frame(frame) {
                    Ok(Some(event)) => return Ok(Some(event)),
                    Ok(None) => {}
                    Err(violation) => return Err(self.fail_with(violation)),
                }
            },
        }
    }

    /// The next complete frame for the general paths: the one the fast path
    /// decoded and left, or the next in the input; `None` once the input is
    /// drained. An error has failed the connection.
    fn next_frame_general(&mut self) -> Result<Option<PartialFrame>, Error> {
        if let Some(frame) = self.frame_ready.take() {
            return Ok(Some(frame));
        }
        match self.next_complete_frame() {
            Ok(Some(frame)) => Ok(Some(frame)),
            Ok(None) => self.input_drained().map(|()| None),
            Err(violation) => Err(self.fail_with(violation)),
        }
    }

    /// Takes a lendable frame out of the input and hands its payload over
    /// (see [`take_payload`](Self::take_payload)).
    #[inline(always)]
    fn take_lendable(&mut self, frame: Lendable) -> Result<Option<Event>, Error> {
        // The same steps as `take_text` and `take_payload`, written out: built
        // from those two, this path measured 8-10 ns slower a small frame.
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
    // call, the event cost a store-forwarding stall, a fifth of a small
    // frame's time. The work happens out of line, in `next_fast`.
    #[inline(always)]
    pub fn next_event_ref(&mut self) -> Result<Option<EventRef<'_>>, Error> {
        match self.next_fast() {
            Fast::Lend(frame) => self.lend(frame),
            Fast::Drained => self.input_drained().map(|()| None),
            Fast::General => self.next_event_ref_general(),
        }
    }

    /// The common cases of `next_event_ref`, answered in 16 bytes.
    fn next_fast(&mut self) -> Fast {
        self.lent = None;
        if !matches!(self.state, ReadyState::Open | ReadyState::Closing) {
            return Fast::General;
        }
        match self.next_complete_frame() {
            Ok(Some(frame)) => match self.lendable(&frame) {
                Ok(Some(lendable)) => Fast::Lend(lendable),
                // Decoded, not taken: the general path takes it from here.
                Ok(None) => {
                    self.frame_ready = Some(frame);
                    Fast::General
                }
                Err(violation) => {
                    self.violation = Some(violation);
                    Fast::General
                }
            },
            Ok(None) => Fast::Drained,
            Err(violation) => {
                self.violation = Some(violation);
                Fast::General
            }
        }
    }

    /// Everything else `next_event_ref` may report: errors, handshake and
    /// close events, fragmented messages.
    fn next_event_ref_general(&mut self) -> Result<Option<EventRef<'_>>, Error> {
        if let Some(violation) = self.violation.take() {
            return Err(self.fail_with(violation));
        }
        if !matches!(self.state, ReadyState::Open | ReadyState::Closing) {
            return Ok(self
                .next_event()?
                .map(|event| EventRef::Other(Box::new(event))));
        }
        loop {
            let Some(frame) = self.next_frame_general()? else {
                return Ok(None);
            };
            match self.lendable(&frame) {
                Ok(Some(lendable)) => return self.lend(lendable),
                Ok(None) => {}
                Err(violation) => return Err(self.fail_with(violation)),
            }
            match self.take_frame(frame) {
                Ok(Some(Event::Message(message))) => {
                    let message = self.lent.insert(message);
                    return Ok(Some(EventRef::Message(message.as_ref())));
                }
                Ok(Some(event)) => return Ok(Some(EventRef::Other(Box::new(event)))),
                Ok(None) => {}
                Err(violation) => return Err(self.fail_with(violation)),
            }
        }
    }

    /// Whether a complete frame at the front of the input can be lent as it
    /// is (a whole message in one frame, a ping or a pong); if so, does
    /// what receiving it entails (checks the text, answers the ping) and
    /// says where its payload is.
    #[inline(always)]
    fn lendable(&mut self, frame: &PartialFrame) -> Result<Option<Lendable>, ProtocolError> {
        let header = frame.header;
        let (start, end) = (header.header_len, frame.end());
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
        if self.eof && !self.close_received {
            self.state = ReadyState::Closed;
            self.failed = true;
            self.input.clear();
            return Err(Error::AbnormalClosure);
        }
        self.input.shrink_if_unused();
        Ok(())
    }

    fn next_handshake_event(&mut self) -> Result<Option<Event>, Error> {
        if matches!(self.handshake, Handshake::ServerAwaitingDecision(_)) {
            return Ok(None);
        }
        let max = self.config.max_handshake_size;
        let end = match handshake::find_head_end(self.input.data(), self.head_scanned, max) {
            Ok(Some(end)) => end,
            Err(e) => return Err(self.handshake_failed(e)),
            Ok(None) if self.eof => return Err(self.handshake_failed(HandshakeError::Incomplete)),
            Ok(None) => {
                self.head_scanned = self.input.len();
                return Ok(None);
            }
        };
        let head = self.input.split_to(end);
        match &self.handshake {
            Handshake::Client { key, protocols } => match parse_response(&head, key, protocols) {
                Ok(response) => {
                    self.protocol = response.protocol().map(str::to_owned);
                    self.handshake = Handshake::Done;
                    self.state = ReadyState::Open;
                    Ok(Some(Event::Open(response)))
                }
                Err(e) => Err(self.handshake_failed(e)),
            },
            _ => match parse_request(&head) {
                Ok(request) => {
                    self.handshake = Handshake::ServerAwaitingDecision(request.clone());
                    Ok(Some(Event::Request(request)))
                }
                Err(e) => Err(self.handshake_failed(e)),
            },
        }
    }

    /// Ends a failed handshake: a server answers with the error's status.
    fn handshake_failed(&mut self, err: HandshakeError) -> Error {
        if self.role == Role::Server {
            if let Ok(bytes) = Reject::for_error(&err).encode() {
                self.output.extend(&bytes);
            }
        }
        self.state = ReadyState::Closed;
        self.failed = true;
        self.input.clear();
        Error::Handshake(err)
    }

    /// Server: accepts the request reported by [`Event::Request`], queueing
    /// the 101 response. If the request is not a valid WebSocket upgrade,
    /// the right error status (400, or 426 for a wrong version) is queued
    /// instead, the connection closes, and the error is returned. An invalid
    /// `accept` (a subprotocol the client did not offer, a bad header)
    /// returns an error and leaves the request pending.
    pub fn accept(&mut self, accept: Accept) -> Result<(), Error> {
        let Handshake::ServerAwaitingDecision(request) = &self.handshake else {
            return Err(Error::NotOpen(self.state));
        };
        let key = match validate_request(request) {
            Ok(key) => key,
            Err(e) => return Err(self.handshake_failed(e)),
        };
        let bytes = accept.encode(request, key)?;
        self.output.extend(&bytes);
        self.protocol = accept.chosen_protocol().map(str::to_owned);
        self.handshake = Handshake::Done;
        self.state = ReadyState::Open;
        // Frames may have come in behind the request.
        self.input.start_unmasking();
        Ok(())
    }

    /// Server: answers the request with a plain HTTP response instead of
    /// upgrading; the connection is then closed.
    pub fn reject(&mut self, reject: Reject) -> Result<(), Error> {
        if !matches!(self.handshake, Handshake::ServerAwaitingDecision(_)) {
            return Err(Error::NotOpen(self.state));
        }
        let bytes = reject.encode()?;
        self.output.extend(&bytes);
        self.handshake = Handshake::Done;
        self.state = ReadyState::Closed;
        self.input.clear();
        Ok(())
    }

    /// The next frame once all of it has arrived (its text so far
    /// checked), still at the front of the input; `None` until then.
    // Inlined: returning frames and events through memory from a call
    // costs store-forwarding stalls worth half of a small frame's time.
    #[inline(always)]
    fn next_complete_frame(&mut self) -> Result<Option<PartialFrame>, ProtocolError> {
        if self.close_received {
            return Ok(None);
        }
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
        let is_text = self.is_text_frame(header.opcode);
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
    fn whole_short_message(&mut self) -> Option<PartialFrame> {
        if self.assembly.is_some() {
            return None;
        }
        let max_len = self.config.max_frame_size.min(self.config.max_message_size);
        let header = self
            .input
            .whole_short_message(self.role == Role::Server, max_len)?;
        Some(PartialFrame {
            header,
            validated: 0,
        })
    }

    /// Takes a complete frame out of the input and applies it.
    // Inlined: returning frames and events through memory from a call
    // costs store-forwarding stalls worth half of a small frame's time.
    #[inline(always)]
    fn take_frame(&mut self, frame: PartialFrame) -> Result<Option<Event>, ProtocolError> {
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
    fn take_payload(&mut self, start: usize, end: usize) -> Bytes {
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
    fn take_text(&mut self, start: usize, end: usize) -> Result<Utf8Bytes, ProtocolError> {
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

    fn is_text_frame(&self, opcode: OpCode) -> bool {
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
    fn start_frame(&mut self, header: FrameHeader) -> Result<PartialFrame, ProtocolError> {
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
        Ok(PartialFrame {
            header,
            validated: 0,
        })
    }

    #[inline(always)] // see next_complete_frame
    fn complete_frame(
        &mut self,
        frame: PartialFrame,
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
                if !self.close_sent {
                    match &frame {
                        Some(f) => self.write_close(f.code, &f.reason.clone()),
                        None => self.write_frame(OpCode::Close, true, &[]),
                    }
                    self.close_sent = true;
                }
                self.close_received = true;
                self.state = ReadyState::Closed;
                self.input.clear();
                Ok(Some(Event::Close(frame)))
            }
        }
    }

    fn answer_ping(&mut self, payload: &[u8]) {
        if self.config.auto_pong && !self.close_sent {
            self.write_frame(OpCode::Pong, true, payload);
        }
    }

    /// Fails the connection (section 7.1.7): queue a close frame with the
    /// violation's code unless one was sent, and stop reading.
    fn fail_with(&mut self, violation: ProtocolError) -> Error {
        if !self.close_sent {
            let reason = violation.to_string();
            let mut cut = reason.len().min(MAX_REASON_LEN);
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            self.write_close(violation.close_code(), &reason[..cut]);
            self.close_sent = true;
        }
        self.state = ReadyState::Closed;
        self.failed = true;
        self.frame = None;
        self.assembly = None;
        self.input.clear();
        Error::Protocol(violation)
    }

    // ------------------------------------------------------------ output

    /// Bytes queued for the transport and not yet written (the browser's
    /// `bufferedAmount`, counting frame headers too).
    #[inline]
    pub fn buffered_amount(&self) -> usize {
        self.output.len()
    }

    /// The first contiguous piece of the queued output; write it, then call
    /// [`consume_output`](Self::consume_output). Empty when nothing waits.
    #[inline]
    pub fn output(&self) -> &[u8] {
        self.output.chunk()
    }

    /// Fills `dst` with the queued output pieces for one vectored write;
    /// returns how many slices were filled.
    pub fn output_io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        self.output.io_slices(dst)
    }

    /// Drops `n` bytes from the front of the output, after they were written.
    ///
    /// # Panics
    /// If `n` exceeds [`buffered_amount`](Self::buffered_amount).
    #[inline]
    pub fn consume_output(&mut self, n: usize) {
        self.output.consume(n);
    }

    /// Whether the transport should now be closed by this end: the
    /// connection is closed, its output is written, and either this is the
    /// server (which closes first, section 7.1.1), the connection failed,
    /// or the peer already closed its side. A client otherwise waits for the
    /// server to close, with a timeout.
    pub fn should_close_transport(&self) -> bool {
        self.state == ReadyState::Closed
            && self.output.is_empty()
            && (self.role == Role::Server || self.failed || self.eof)
    }

    /// Releases the large read and write buffers if they are empty.
    ///
    /// A buffer that grew for a large message is kept while large messages
    /// keep coming (growing it anew for each costs more than the copy), and
    /// given back once traffic turns small. Call this when the connection
    /// goes quiet to bring it back to its idle size at once; the blocking
    /// adapter does when its heartbeat finds the connection idle.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send_binary(&vec![0; 1 << 20])?;
    /// let n = conn.buffered_amount();
    /// conn.consume_output(n); // written
    /// assert!(conn.buffer_capacity() >= 1 << 20); // kept for the next one
    /// conn.shrink_buffers();
    /// assert!(conn.buffer_capacity() <= 8 * 1024);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn shrink_buffers(&mut self) {
        self.input.shrink();
        self.output.shrink();
    }

    /// Bytes of buffer capacity held (read, write, and the reassembly of a
    /// fragmented message), for memory checks.
    pub fn buffer_capacity(&self) -> usize {
        let assembly = self.assembly.as_ref().map_or(0, |a| a.data.capacity());
        self.input.capacity() + self.output.capacity() + assembly
    }

    fn check_sendable(&self, payload_len: usize) -> Result<(), Error> {
        if self.state != ReadyState::Open {
            return Err(Error::NotOpen(self.state));
        }
        let buffered = self.output.len();
        if buffered > 0 && buffered + payload_len > self.config.max_buffered_amount {
            return Err(Error::BufferFull {
                buffered,
                max: self.config.max_buffered_amount,
            });
        }
        Ok(())
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.check_data_send(text.len())?;
        self.write_frame(OpCode::Text, true, text.as_bytes());
        Ok(())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_data_send(data.len())?;
        self.write_frame(OpCode::Binary, true, data);
        Ok(())
    }

    /// Queues a message. A large payload (16 KiB or more) is queued by
    /// reference instead of copied: a server writes it as it is, with a
    /// vectored write; a client masks it a piece at a time as the writes
    /// take it, so it is never copied whole.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.check_data_send(message.len())?;
        let (opcode, payload) = match message {
            Message::Text(t) => (OpCode::Text, t.into_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
        };
        if payload.len() >= SHARE_THRESHOLD {
            let mask = self
                .mask_keys
                .as_mut()
                .map(|keys| keys.next_u32().to_ne_bytes());
            let mut header = [0u8; MAX_HEADER_LEN];
            let n = FrameHeader::encode(&mut header, true, opcode, mask, payload.len() as u64);
            self.output.extend(&header[..n]);
            match mask {
                None => self.output.push_shared(payload),
                Some(key) => self.output.push_masked(payload, key),
            }
        } else {
            self.write_frame(opcode, true, &payload);
        }
        Ok(())
    }

    /// Queues one fragment of a message, to stream a large message without
    /// building it whole. The first call starts a message of `kind`; later
    /// calls continue it (with the same `kind`) until one passes
    /// `fin = true`. Text may split code points between fragments; the
    /// whole must be valid UTF-8.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, MessageKind, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send_fragment(MessageKind::Text, "hel".as_bytes(), false)?;
    /// conn.send_fragment(MessageKind::Text, "lo".as_bytes(), true)?;
    /// assert_eq!(conn.output(), b"\x01\x03hel\x80\x02lo");
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.check_sendable(data.len())?;
        let opcode = match self.send_fragmented {
            None => {
                self.send_utf8.reset();
                match kind {
                    MessageKind::Text => OpCode::Text,
                    MessageKind::Binary => OpCode::Binary,
                }
            }
            Some(current) if current == kind => OpCode::Continuation,
            Some(_) => return Err(Error::FragmentOrder("fragment of a different kind")),
        };
        if kind == MessageKind::Text {
            let mut check = self.send_utf8.clone();
            check.feed(data).map_err(|_| Error::InvalidOutgoingUtf8)?;
            if fin {
                check.finish().map_err(|_| Error::InvalidOutgoingUtf8)?;
            }
            self.send_utf8 = check;
        }
        self.send_fragmented = if fin { None } else { Some(kind) };
        self.write_frame(opcode, fin, data);
        Ok(())
    }

    fn check_data_send(&self, len: usize) -> Result<(), Error> {
        self.check_sendable(len)?;
        if self.send_fragmented.is_some() {
            return Err(Error::FragmentOrder(
                "a fragmented message is still being sent",
            ));
        }
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues an unsolicited pong (payload at most 125 bytes), for example a
    /// heartbeat, or the answer to a ping when `auto_pong` is off.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong(payload.len()));
        }
        self.check_sendable(payload.len())?;
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    /// Starts the close handshake with `code` and `reason` (at most 123
    /// bytes); the connection becomes [`ReadyState::Closing`] and sends no
    /// more data. Closing while connecting abandons the handshake; closing
    /// when already closing or closed does nothing.
    ///
    /// ```
    /// use rfc6455::{CloseCode, Config, Connection, ReadyState, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.close(CloseCode::NORMAL, "bye")?;
    /// assert_eq!(conn.ready_state(), ReadyState::Closing);
    /// assert_eq!(conn.output(), b"\x88\x05\x03\xe8bye");
    /// assert!(conn.send_text("late").is_err());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        close::validate_outgoing(code, reason)?;
        match self.state {
            ReadyState::Connecting => {
                // Abandon the handshake: an unsent request is not sent.
                self.state = ReadyState::Closed;
                self.failed = true;
                self.input.clear();
                self.output = WriteQueue::default();
            }
            ReadyState::Open => {
                self.write_close(code, reason);
                self.close_sent = true;
                self.state = ReadyState::Closing;
            }
            ReadyState::Closing | ReadyState::Closed => {}
        }
        Ok(())
    }

    fn write_close(&mut self, code: CloseCode, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        payload[..2].copy_from_slice(&code.as_u16().to_be_bytes());
        payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
        self.write_frame(OpCode::Close, true, &payload[..2 + reason.len()]);
    }

    /// Encodes one frame into the output: a client masks with a fresh
    /// random key as it copies the payload.
    fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let mask = self
            .mask_keys
            .as_mut()
            .map(|keys| keys.next_u32().to_ne_bytes());
        if payload.len() <= MAX_SHORT_PAYLOAD {
            let (header, n) = FrameHeader::encode_short(fin, opcode, mask, payload.len());
            self.output.extend_short_frame(header, n, payload, mask);
            return;
        }
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = FrameHeader::encode(&mut header, fin, opcode, mask, payload.len() as u64);
        match mask {
            None => self.output.extend_frame(&header[..n], payload),
            Some(key) => self.output.extend_masked(&header[..n], payload, key),
        }
    }
}

/// Received payloads at most this large are copied out, not shared.
const COPY_MAX: usize = 128;
/// Payloads at least this large are queued by reference, not copied.
const SHARE_THRESHOLD: usize = 16 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes everything `conn` queued, in order.
    fn drain(conn: &mut Connection) -> Vec<u8> {
        let mut wire = Vec::new();
        loop {
            let out = conn.output();
            if out.is_empty() {
                return wire;
            }
            wire.extend_from_slice(out);
            let n = out.len();
            conn.consume_output(n);
        }
    }

    /// Splits the first frame off `wire` and unmasks its payload by hand,
    /// independently of the decoder: returns (opcode, key, payload).
    fn split_masked_frame(wire: &mut &[u8]) -> (OpCode, [u8; 4], Vec<u8>) {
        let header = FrameHeader::decode(wire).unwrap().expect("a whole header");
        let key = header.mask.expect("client frames are masked");
        let start = header.header_len;
        let end = start + header.payload_len as usize;
        let payload = wire[start..end]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        *wire = &wire[end..];
        (header.opcode, key, payload)
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn large_config() -> Config {
        Config {
            max_frame_size: 4 << 20,
            max_message_size: 4 << 20,
            max_buffered_amount: usize::MAX,
            ..Config::default()
        }
    }

    /// Every length the encoder treats differently: the 7-bit, 16-bit and
    /// 64-bit length forms, a word and a vector either side, and more than
    /// one copy block.
    fn lengths() -> impl Iterator<Item = usize> {
        (0..=300).chain([
            1023,
            1024,
            1025,
            4095,
            4096,
            4097,
            65535,
            65536,
            65537,
            (1 << 20) + 3,
        ])
    }

    #[test]
    fn masked_frames_carry_the_payload_at_every_length() {
        let mut client = Connection::open(Role::Client, large_config());
        let mut server = Connection::open(Role::Server, large_config());
        for len in lengths() {
            let data = pattern(len, len as u8);
            client.send_binary(&data).unwrap();
            client.send(Bytes::from(data.clone())).unwrap();
            let wire = drain(&mut client);
            let mut rest = &wire[..];
            for _ in 0..2 {
                let (opcode, _, payload) = split_masked_frame(&mut rest);
                assert_eq!(opcode, OpCode::Binary);
                assert!(payload == data, "len {len}: wrong payload on the wire");
            }
            assert!(rest.is_empty(), "len {len}: trailing bytes");
            server.receive(&wire);
            for _ in 0..2 {
                match server.next_event().unwrap() {
                    Some(Event::Message(Message::Binary(got))) => {
                        assert!(got == data, "len {len}: server decoded something else")
                    }
                    other => panic!("len {len}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn limits_are_clamped_to_what_one_allocation_can_hold() {
        let largest = isize::MAX as usize - MAX_HEADER_LEN;
        assert_eq!(addressable(usize::MAX), largest as u64);
        assert_eq!(addressable(largest + 1), largest as u64);
        assert_eq!(addressable(largest), largest as u64);
        assert_eq!(addressable(16 << 20), 16 << 20);
        // With no limit, a frame of the largest addressable length is
        // taken and its end computed without overflow; one byte more is
        // too big.
        let unlimited = Config {
            max_frame_size: usize::MAX,
            max_message_size: usize::MAX,
            ..Config::default()
        };
        for (len, fits) in [(largest as u64, true), (largest as u64 + 1, false)] {
            let mut conn = Connection::open(Role::Client, unlimited.clone());
            let mut header = vec![0x82, 0x7f];
            header.extend_from_slice(&len.to_be_bytes());
            conn.receive(&header);
            match conn.next_event() {
                Ok(None) if fits => {
                    assert_eq!(conn.frame_remaining(), largest);
                }
                Err(Error::Protocol(ProtocolError::FrameTooBig { .. })) if !fits => {}
                other => panic!("len {len}: {other:?}"),
            }
        }
    }

    #[test]
    fn receive_with_reuses_the_buffer_once_the_last_message_is_dropped() {
        let mut client = Connection::open(Role::Client, large_config());
        let mut server = Connection::open(Role::Server, large_config());
        let mut held = Vec::new();
        let mut last_ptr = None;
        for round in 0..4u8 {
            let data = pattern(1 << 20, round);
            client.send(Bytes::from(data.clone())).unwrap();
            let wire = drain(&mut client);
            // The header and a first piece arrive, then the rest of the
            // frame is read into the buffer `receive_with` hands out.
            server.receive(&wire[..1000]);
            assert_eq!(server.next_event().unwrap(), None);
            let ptr = server.receive_with(|tail| {
                tail.extend_from_slice(&wire[1000..]);
                tail.buf.as_ptr()
            });
            if round == 2 {
                // The previous message is still held: a new allocation.
                assert_ne!(Some(ptr), last_ptr);
            } else if round > 0 {
                assert_eq!(Some(ptr), last_ptr, "round {round}: not reused");
            }
            last_ptr = Some(ptr);
            match server.next_event().unwrap() {
                Some(Event::Message(Message::Binary(got))) => {
                    assert!(got == data, "round {round}: wrong payload");
                    // Round 1's message outlives round 2's read.
                    if round == 1 {
                        held.push((got, data));
                    }
                }
                other => panic!("round {round}: {other:?}"),
            }
            if round == 2 {
                let (got, data) = held.pop().unwrap();
                assert!(got == data, "a held message changed");
            }
        }
    }

    #[test]
    fn unmasked_frames_carry_the_payload_at_every_length() {
        let mut server = Connection::open(Role::Server, large_config());
        let mut client = Connection::open(Role::Client, large_config());
        for len in lengths() {
            let data = pattern(len, len as u8);
            server.send_binary(&data).unwrap();
            server.send(Bytes::from(data.clone())).unwrap();
            client.receive(&drain(&mut server));
            for _ in 0..2 {
                match client.next_event().unwrap() {
                    Some(Event::Message(Message::Binary(got))) => {
                        assert!(got == data, "len {len}: client decoded something else")
                    }
                    other => panic!("len {len}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn frames_queued_behind_others_are_masked_right() {
        // Frames start at every offset in the queue, and the queue is
        // partly written between sends.
        let mut client = Connection::open(Role::Client, large_config());
        let mut sent = Vec::new();
        let mut wire = Vec::new();
        for (i, len) in lengths().enumerate() {
            let text: String = (0..len)
                .map(|j| (b'a' + ((i + j) % 26) as u8) as char)
                .collect();
            client.send_text(&text).unwrap();
            sent.push((OpCode::Text, text.into_bytes()));
            let ping = pattern(i % 126, i as u8);
            client.ping(&ping).unwrap();
            sent.push((OpCode::Ping, ping));
            let out = client.output();
            let n = out.len().min(i % 37);
            wire.extend_from_slice(&out[..n]);
            client.consume_output(n);
        }
        wire.extend(drain(&mut client));
        let mut rest = &wire[..];
        for (opcode, data) in &sent {
            let (got_opcode, _, payload) = split_masked_frame(&mut rest);
            assert_eq!(got_opcode, *opcode);
            assert!(payload == *data, "{opcode:?} of {} bytes", data.len());
        }
        assert!(rest.is_empty());
    }

    #[test]
    fn every_frame_gets_a_fresh_key() {
        let mut keys = Vec::new();
        for _ in 0..2 {
            let mut client = Connection::open(Role::Client, Config::default());
            for len in [0, 5, 16, 200] {
                for _ in 0..50 {
                    client.send_binary(&pattern(len, 1)).unwrap();
                }
            }
            client
                .send_fragment(MessageKind::Binary, b"a", false)
                .unwrap();
            client
                .send_fragment(MessageKind::Binary, b"b", true)
                .unwrap();
            client.pong(b"").unwrap();
            client.close(CloseCode::NORMAL, "").unwrap();
            let wire = drain(&mut client);
            let mut rest = &wire[..];
            while !rest.is_empty() {
                keys.push(split_masked_frame(&mut rest).1);
            }
        }
        assert_eq!(keys.len(), 2 * 204);
        // A repeat among 408 random 32-bit keys has odds of about 2e-5;
        // a key generator that repeats, restarts per connection, or
        // varies only some bytes fails.
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), keys.len(), "a mask key repeated");
        for byte in 0..4 {
            let values: std::collections::HashSet<u8> = keys.iter().map(|k| k[byte]).collect();
            assert!(values.len() > 100, "key byte {byte} barely varies");
        }
    }
}
