//! The connection state machine: the one place where frames become
//! messages and application calls become frames. This file holds the
//! struct, its constructors and every change of [`State`]; `recv.rs`,
//! `assemble.rs`, `send.rs` and `opening.rs` hold the rest.
//!
//! It does no I/O. Feed it what the transport received ([`Connection::receive`],
//! or [`Connection::read_buf`] + [`Connection::commit`] to skip a copy), drain
//! [`Connection::next_event`], and write out what is queued
//! ([`Connection::write_output_to`]). See the crate documentation for a complete client/server exchange.

use bytes::BytesMut;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::close::{CloseCode, CloseFrame, MAX_REASON_LEN};
use crate::error::{Error, ProtocolError};
use crate::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::handshake::{self, ClientRequest, HandshakeError, Reject, Request};
use crate::inbound::Inbound;
use crate::message::{Message, MessageKind};
use crate::outbound::WriteQueue;
use crate::state::{Config, ReadyState, Role};
use crate::utf8::Utf8Validator;

mod assemble;
mod opening;
mod recv;
mod send;
#[cfg(test)]
mod tests;

/// Where the connection stands: one value for the opening handshake's
/// phases, the open connection, and both ways of closing it. Each change of
/// state is one function of the `impl` block below (`opened`,
/// `request_received`, `sent_close`, `received_close`, `rejected`,
/// `abandoned`, `handshake_failed`, `fail_with`, `transport_ended`), all
/// ending in `closed` when they close.
#[derive(Debug)]
enum State {
    /// Client: the request is queued; the server's response is awaited.
    AwaitingResponse { key: String, protocols: Vec<String> },
    /// Client: the response refused the upgrade; its body is arriving.
    AwaitingRefusalBody(opening::RefusalBody),
    /// Server: the client's request is awaited.
    AwaitingRequest,
    /// Server: the request was reported; `accept` or `reject` is awaited.
    AwaitingDecision(Request),
    /// Messages flow both ways.
    Open,
    /// This end sent its close frame and awaits the peer's.
    CloseSent,
    /// Done: the close handshake completed, or the handshake was refused
    /// (`failed: false`); or the connection failed, so this end may close
    /// the transport first (`failed: true`).
    Closed { failed: bool },
}

/// What `next_event_ref`'s fast path found and leaves to the general path.
enum Pending {
    /// A whole frame it does not lend (a fragment, a close).
    Frame(FrontFrame),
    /// A violation, to fail the connection with.
    Violation(ProtocolError),
}

/// The frame at the front of the input, whole or still arriving: its
/// header has been read and judged.
#[derive(Clone, Copy)]
struct FrontFrame {
    header: FrameHeader,
    /// Payload bytes checked for UTF-8 so far (text only).
    validated: usize,
}

impl FrontFrame {
    /// Where the frame ends in the input (`payload_len` is bounded by
    /// `max_frame_size`, so it fits).
    fn end(&self) -> usize {
        self.header.header_len + self.header.payload_len as usize
    }
}

/// A fragmented message being reassembled (or, compressed, inflated into
/// the codec's buffer instead).
struct Assembly {
    kind: MessageKind,
    data: BytesMut,
    /// Sent compressed (permessage-deflate): its frames are inflated.
    #[cfg(feature = "deflate")]
    compressed: bool,
}

impl Assembly {
    fn new(kind: MessageKind) -> Self {
        Assembly {
            kind,
            data: BytesMut::new(),
            #[cfg(feature = "deflate")]
            compressed: false,
        }
    }

    /// Whether the message arrives compressed.
    #[inline]
    fn is_compressed(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.compressed;
        #[cfg(not(feature = "deflate"))]
        false
    }
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
/// // Move every queued byte from one to the other.
/// fn pump(from: &mut Connection, to: &mut Connection) {
///     let mut wire = Vec::new();
///     from.write_output_to(&mut wire).unwrap(); // a Vec takes it all
///     to.receive(&wire);
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
///
/// # Driving it
///
/// A runtime loops over four things: read bytes from the transport into
/// the connection ([`receive`](Self::receive), or
/// [`read_buf`](Self::read_buf) and [`commit`](Self::commit));
/// take events until [`next_event`](Self::next_event) returns `None`; write
/// what is queued ([`write_output_to`](Self::write_output_to), or
/// [`output_io_slices`](Self::output_io_slices) and
/// [`consume_output`](Self::consume_output)) until
/// [`buffered_amount`](Self::buffered_amount) is 0 or the socket is full;
/// and close the transport once
/// [`should_close_transport`](Self::should_close_transport) says so. When
/// the peer closes its side, call [`receive_eof`](Self::receive_eof).
///
/// # Timers
///
/// The connection has no clock: these timers are the runtime's to keep.
/// None is needed for correctness on a well-behaved peer; each bounds what
/// a slow, dead or hostile peer can hold. The tokio adapter keeps all
/// four, with the defaults in brackets; so does the blocking one, except
/// that it bounds the wait for the peer's close frame with the heartbeat,
/// and uses the close timeout only for a client's wait for the TCP close.
///
/// - **Handshake deadline** (10 s): from the start, for as long as
///   [`ready_state`](Self::ready_state) is [`ReadyState::Connecting`]. A
///   deadline for the whole head, not per read, so a peer sending a byte
///   at a time cannot stretch it. When it passes, close the transport (a
///   client reading a refusal's body may first call
///   [`receive_eof`](Self::receive_eof) to get the refusal with the body
///   so far).
/// - **Close timeout** (5 s): while [`close_expected`](Self::close_expected)
///   is true: a client waiting for the server's TCP close after the close
///   handshake, and either role waiting for the peer's close frame after
///   sending its own. When it fires, close the transport and call
///   `receive_eof`.
/// - **Heartbeat** (ping after 20 s of silence, give up 20 s later):
///   when nothing has been read for the interval, send
///   [`ping`](Self::ping); when nothing has been read within the pong
///   timeout after it, the peer is gone: close the transport and call
///   `receive_eof`. Any bytes read count as a sign of life, not only the
///   [`Event::Pong`](crate::Event::Pong). A peer's pings are answered by
///   the connection itself (`Config::auto_pong`).
/// - **Message timeout** (60 s): while
///   [`message_in_progress`](Self::message_in_progress) is true, so a peer
///   trickling a large frame cannot hold the connection. When it fires,
///   [`close`](Self::close) with `CloseCode::POLICY_VIOLATION` as a
///   courtesy, write the close frame, and close the transport without
///   waiting for a reply.
///
/// A write timeout is the transport's business: the connection's own
/// bound is [`Config::max_buffered_amount`](crate::Config), past which
/// sends fail with [`Error::BufferFull`](crate::Error::BufferFull).
pub struct Connection {
    role: Role,
    config: Config,
    state: State,
    head_scanned: usize,
    protocol: Option<String>,
    input: Inbound,
    eof: bool,
    output: WriteQueue,
    frame: Option<FrontFrame>,
    assembly: Option<Assembly>,
    recv_utf8: Utf8Validator,
    /// A reassembled message lent out by `next_event_ref`.
    lent: Option<Message>,
    pending: Option<Pending>,
    send_fragmented: Option<MessageKind>,
    send_utf8: Utf8Validator,
    /// Where a client's mask keys come from (`None` for a server, which
    /// never masks). Section 5.3 wants keys that scripts and proxies cannot
    /// predict: this is a ChaCha12 CSPRNG of the connection's own (the
    /// generator behind `rand::rng()`), seeded once from `rand::rng()` and
    /// so from the OS. A key is then four bytes of its buffered output, not
    /// four separate draws through a thread-local lookup per frame. Boxed:
    /// its 320 bytes (mostly buffered output) are for clients only.
    mask_keys: Option<Box<StdRng>>,
    /// The permessage-deflate codec, once the handshake agreed on it.
    /// Boxed: most of a connection's life it is not touched.
    #[cfg(feature = "deflate")]
    deflate: Option<Box<crate::deflate::Codec>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.ready_state())
            .field("buffered_amount", &self.buffered_amount())
            .finish_non_exhaustive()
    }
}
impl Connection {
    fn new(role: Role, config: Config, state: State) -> Self {
        Connection {
            role,
            config,
            state,
            head_scanned: 0,
            protocol: None,
            input: Inbound::default(),
            eof: false,
            output: WriteQueue::default(),
            frame: None,
            assembly: None,
            recv_utf8: Utf8Validator::new(),
            lent: None,
            pending: None,
            send_fragmented: None,
            send_utf8: Utf8Validator::new(),
            mask_keys: (role == Role::Client).then(|| Box::new(StdRng::from_rng(&mut rand::rng()))),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// A client connection; the upgrade request, with a fresh random key,
    /// is queued in [`output`](Self::output) at once. With
    /// [`Config::deflate`] set (feature `deflate`, the default), it offers
    /// permessage-deflate.
    pub fn client(request: ClientRequest, config: Config) -> Result<Self, Error> {
        let key = handshake::generate_key();
        #[cfg(feature = "deflate")]
        let request = match &config.deflate {
            Some(deflate) => {
                request.header(crate::deflate::EXTENSIONS_HEADER, deflate.client_offer())
            }
            None => request,
        };
        let bytes = request.encode(&key)?;
        let mut conn = Connection::new(
            Role::Client,
            config,
            State::AwaitingResponse {
                key,
                protocols: request.protocols().to_vec(),
            },
        );
        conn.output.extend(&bytes);
        Ok(conn)
    }

    /// A server connection waiting for the client's request.
    pub fn server(config: Config) -> Self {
        Connection::new(Role::Server, config, State::AwaitingRequest)
    }

    /// A connection whose handshake happened elsewhere (for example in an
    /// HTTP framework), starting in [`ReadyState::Open`]. No extension was
    /// negotiated: messages go uncompressed whatever
    /// `Config::deflate` says.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, ReadyState, Role};
    /// let conn = Connection::open(Role::Server, Config::default());
    /// assert_eq!(conn.ready_state(), ReadyState::Open);
    /// ```
    pub fn open(role: Role, config: Config) -> Self {
        let mut conn = Connection::new(role, config, State::AwaitingRequest);
        conn.opened(None);
        conn
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    #[inline]
    pub fn ready_state(&self) -> ReadyState {
        match self.state {
            State::AwaitingResponse { .. }
            | State::AwaitingRefusalBody(_)
            | State::AwaitingRequest
            | State::AwaitingDecision(_) => ReadyState::Connecting,
            State::Open => ReadyState::Open,
            State::CloseSent => ReadyState::Closing,
            State::Closed { .. } => ReadyState::Closed,
        }
    }

    /// Whether frames are read: open, or closing from this end.
    #[inline]
    fn reads_frames(&self) -> bool {
        matches!(self.state, State::Open | State::CloseSent)
    }

    #[inline]
    fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed { .. })
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The negotiated subprotocol, once open.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    // ------------------------------------------------ state transitions

    /// Transition: the handshake is over (or happened elsewhere); a server
    /// unmasks from here on, frames that came in behind the request too.
    fn opened(&mut self, protocol: Option<String>) {
        self.protocol = protocol;
        self.state = State::Open;
        if self.role == Role::Server {
            self.input.start_unmasking();
        }
    }

    /// Transition: a server reported the request and awaits the decision.
    fn request_received(&mut self, request: Request) {
        self.state = State::AwaitingDecision(request);
    }

    /// Transition: the application starts the close handshake.
    fn sent_close(&mut self, code: CloseCode, reason: &str) {
        self.write_close(code, reason);
        self.state = State::CloseSent;
    }

    /// Transition: the peer's close frame arrived; unless this end had
    /// sent one, the reply echoing the code and reason is queued.
    fn received_close(&mut self, frame: &Option<CloseFrame>) {
        if let State::Open = self.state {
            match frame {
                Some(f) => self.write_close(f.code, &f.reason.clone()),
                None => self.write_frame(OpCode::Close, true, &[]),
            }
        }
        self.closed(false);
    }

    /// Transition: a server answered the request with a refusal.
    fn rejected(&mut self) {
        self.closed(false);
    }

    /// Transition: closed while connecting: the handshake is abandoned,
    /// and an unsent request is not sent.
    fn abandoned(&mut self) {
        self.closed(true);
        self.output = WriteQueue::default();
    }

    /// Transition: a client's request was refused; the refusal's body is
    /// read before the failure is reported.
    fn refused(&mut self, body: opening::RefusalBody) {
        self.state = State::AwaitingRefusalBody(body);
    }

    /// Transition: the handshake failed; a server answers with the
    /// error's status (the head alone to a `HEAD` request).
    fn handshake_failed(&mut self, err: HandshakeError) -> Error {
        if self.role == Role::Server {
            let head_only =
                matches!(&self.state, State::AwaitingDecision(r) if opening::is_head(r));
            if let Ok(bytes) = Reject::for_error(&err).encode_for(head_only) {
                self.output.extend(&bytes);
            }
        }
        self.closed(true);
        Error::from(err)
    }

    /// Transition: the peer broke the protocol (section 7.1.7): queue a
    /// close frame with the violation's code unless one was sent, and stop
    /// reading.
    fn fail_with(&mut self, violation: ProtocolError) -> Error {
        if let State::Open = self.state {
            let reason = violation.to_string();
            let mut cut = reason.len().min(MAX_REASON_LEN);
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            self.write_close(violation.close_code(), &reason[..cut]);
        }
        self.frame = None;
        self.assembly = None;
        self.closed(true);
        Error::Protocol(violation)
    }

    /// Transition: the transport ended before the close handshake did.
    fn transport_ended(&mut self) -> Error {
        self.closed(true);
        Error::AbnormalClosure
    }

    /// Where every closing transition ends: nothing more is read.
    fn closed(&mut self, failed: bool) {
        self.state = State::Closed { failed };
        self.input.clear();
    }

    // ----------------------------------------------------------------

    /// Whether the transport should now be closed by this end: the
    /// connection is closed, its output is written, and either this is the
    /// server (which closes first, section 7.1.1), the connection failed,
    /// or the peer already closed its side. A client otherwise waits for the
    /// server to close, with a timeout.
    pub fn should_close_transport(&self) -> bool {
        match self.state {
            State::Closed { failed } => {
                self.output.is_empty() && (self.role == Role::Server || failed || self.eof)
            }
            _ => false,
        }
    }

    /// Whether this end now expects the peer to close the transport, and
    /// so should start its close timer (see "Timers" in the type's docs):
    ///
    /// - either role, once it sent a close frame first: the peer's close
    ///   frame is awaited ([`ReadyState::Closing`]);
    /// - a client, once the close handshake is complete: the server closes
    ///   TCP first (section 7.1.1), and the client waits for it.
    ///
    /// It is false again once the peer closed its side
    /// ([`receive_eof`](Self::receive_eof)), and always false for a server
    /// whose close handshake is complete or for a failed connection: those
    /// close the transport themselves, when
    /// [`should_close_transport`](Self::should_close_transport) says so.
    /// When the timer fires, close the transport and call `receive_eof`: a
    /// close handshake left unfinished is then reported as
    /// [`Error::AbnormalClosure`].
    ///
    /// Ask after each call that may change the state: `close`,
    /// `next_event`, `receive_eof`.
    ///
    /// ```
    /// use rfc6455::{CloseCode, Config, Connection, Event, Role};
    /// let mut client = Connection::open(Role::Client, Config::default());
    /// assert!(!client.close_expected());
    /// client.close(CloseCode::NORMAL, "bye")?;
    /// client.write_output_to(&mut std::io::sink())?; // the close frame, sent
    /// assert!(client.close_expected()); // the server's close frame, then its TCP close
    /// client.receive(&[0x88, 0x02, 0x03, 0xe8]); // the server's reply
    /// assert!(matches!(client.next_event()?, Some(Event::Close(_))));
    /// assert!(client.close_expected() && !client.should_close_transport());
    /// client.receive_eof(); // the server closed TCP
    /// assert!(!client.close_expected() && client.should_close_transport());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn close_expected(&self) -> bool {
        match self.state {
            State::CloseSent => !self.eof,
            State::Closed { failed: false } => self.role == Role::Client && !self.eof,
            _ => false,
        }
    }

    /// Releases the read and write buffers if they are empty, down to at
    /// most 8 KiB in all, whatever traffic came before.
    ///
    /// A buffer that grew for a large message is kept while large messages
    /// keep coming (growing it anew for each costs more than the copy), and
    /// given back once traffic turns small, down to at most 64 KiB each.
    /// Call this when the connection goes quiet to bring it down to 8 KiB at
    /// once; the blocking adapter does when its heartbeat finds the
    /// connection idle.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send_binary(&vec![0; 1 << 20])?;
    /// conn.write_output_to(&mut std::io::sink())?; // written
    /// assert!(conn.buffer_capacity() >= 1 << 20); // kept for the next one
    /// conn.shrink_buffers();
    /// assert!(conn.buffer_capacity() <= 8 * 1024);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn shrink_buffers(&mut self) {
        self.input.shrink();
        self.output.shrink();
        #[cfg(feature = "deflate")]
        if let Some(codec) = &mut self.deflate {
            let receiving = self.assembly.as_ref().is_some_and(Assembly::is_compressed);
            codec.release(receiving);
        }
    }

    /// Bytes of buffer capacity held (read, write, and the reassembly of a
    /// fragmented message), for memory checks.
    pub fn buffer_capacity(&self) -> usize {
        let assembly = self.assembly.as_ref().map_or(0, |a| a.data.capacity());
        #[cfg(feature = "deflate")]
        let assembly = assembly + self.deflate.as_ref().map_or(0, |c| c.inflated.capacity());
        self.input.capacity() + self.output.capacity() + assembly
    }
}
