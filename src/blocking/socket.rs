//! The blocking socket: moves bytes between a stream and the core.

use std::io;
use std::time::{Duration, Instant};

use crate::blocking::deadlines::{
    cannot_time_out, is_timeout, settle, write_queued, Deadlines, Due, Step, UntilDeadline,
    MESSAGE_TOO_SLOW, PING_UNANSWERED, READ_TIMED_OUT,
};
use crate::blocking::Transport;
use crate::handshake::Response;
use crate::settings::Timeouts;
use crate::{
    CloseCode, CloseEvent, Connection, Error, Event, Message, MessageKind, ReadyState, Role,
};

/// From this many missing bytes of a frame on, the rest is read with
/// `read_to_end` into a buffer of its own.
const LARGE_READ: usize = 64 * 1024;
/// A server reads the rest of a large frame this much at a time (see
/// `read_some`).
const LARGE_PIECE: usize = 128 * 1024;

/// A WebSocket over a blocking stream.
///
/// Sending: [`send_text`](Self::send_text), [`send_binary`](Self::send_binary)
/// and [`send`](Self::send) queue a message and write it out before they
/// return. [`queue`](Self::queue) only queues; queued bytes go out on
/// [`flush`](Self::flush), on the next send, or when [`recv`](Self::recv)
/// is about to wait for input. An echo loop built on `recv` + `queue`
/// therefore answers a burst of pipelined messages with one write.
///
/// The stream is a [`Transport`]: the adapter keeps its deadlines (handshake,
/// read and write timeouts, heartbeat, close timeout) through the stream's
/// own timeouts.
///
/// Timeouts: a read timeout or write timeout that was set (on the builder)
/// and hit is [`Error::Timeout`], saying which; it loses nothing and the
/// connection stays open. A stream made non-blocking by the caller, with no
/// timeout set here, reports `Error::Io` of kind `WouldBlock`, which loses
/// nothing either: received bytes stay in the connection and queued bytes
/// stay queued; call the same method again when the stream is ready.
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
    url: Option<String>,
    close_event: Option<CloseEvent>,
    deadlines: Deadlines,
    /// The write timeout set on the open connection: a write that hits it
    /// is reported as [`Error::Timeout`], not as the stream's `WouldBlock`.
    write_timeout: Option<Duration>,
    /// A client's handshake response (the 101, its headers and cookies).
    response: Option<Response>,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.conn.role())
            .field("ready_state", &self.conn.ready_state())
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl<S: Transport> WebSocket<S> {
    /// Wraps a stream whose handshake is already done (elsewhere), around a
    /// connection in [`ReadyState::Open`] (see [`Connection::open`]). No
    /// timeout is set on the stream.
    ///
    /// ```no_run
    /// use rfc6455::{blocking::WebSocket, Config, Connection, ReadyState, Role};
    /// let (stream, _) = std::net::TcpListener::bind("127.0.0.1:9001")?.accept()?;
    /// // ... the handshake, answered by other code ...
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// assert_eq!(ws.ready_state(), ReadyState::Open);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            stream,
            conn,
            url: None,
            close_event: None,
            deadlines: Deadlines::new(None, Timeouts::default().close),
            write_timeout: None,
            response: None,
        }
    }

    pub(crate) fn set_url(&mut self, url: String) {
        self.url = Some(url);
    }

    pub(crate) fn set_response(&mut self, response: Response) {
        self.response = Some(response);
    }

    /// A client's handshake response: the server's 101 with all its headers
    /// (`Set-Cookie`, custom ones) and the subprotocol. `None` on the server
    /// side and for a socket made by [`from_connection`](Self::from_connection).
    ///
    /// ```no_run
    /// let ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// if let Some(response) = ws.response() {
    ///     for cookie in response.headers().get_all("Set-Cookie") {
    ///         println!("cookie: {cookie}");
    ///     }
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn response(&self) -> Option<&Response> {
        self.response.as_ref()
    }

    /// The close timeout, for a handshake that fails; the other clocks
    /// start when the connection opens (a read timeout before then would
    /// be mistaken for the handshake's own deadline).
    pub(crate) fn set_close_timeout(&mut self, close: Duration) {
        self.deadlines = Deadlines::new(None, close);
    }

    /// The state, as the browser's `readyState`: Connecting (0), Open (1),
    /// Closing (2), Closed (3).
    pub fn ready_state(&self) -> ReadyState {
        // The transport can end (reset, timeout) while the protocol state
        // still says open; once the adapter has ended it, it is closed.
        if self.close_event.is_some() {
            ReadyState::Closed
        } else {
            self.conn.ready_state()
        }
    }

    /// Bytes accepted by a send but not yet written to the stream.
    pub fn buffered_amount(&self) -> usize {
        self.conn.buffered_amount()
    }

    /// The negotiated subprotocol (empty string semantics of the browser
    /// are `None` here).
    pub fn protocol(&self) -> Option<&str> {
        self.conn.protocol()
    }

    /// The URL a client connected to (`None` on the server side).
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Whether this is the client or the server end.
    pub fn role(&self) -> Role {
        self.conn.role()
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.close_event.as_ref()
    }

    /// The stream (for example to read `peer_addr()`).
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably. Reading or writing it directly corrupts the
    /// WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The sans-IO connection underneath.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Sends a text message and writes it out.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Sends a binary message and writes it out.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush()
    }

    /// Sends a message (for example one just received, to echo it) and
    /// writes it out.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.conn.send(message)?;
        self.flush()
    }

    /// Sends one fragment of a message and writes it out: the first call
    /// starts a message of `kind`, the one with `fin` ends it (see
    /// [`Connection::send_fragment`]).
    ///
    /// ```no_run
    /// use rfc6455::MessageKind;
    /// let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// ws.send_fragment(MessageKind::Text, b"hel", false)?;
    /// ws.send_fragment(MessageKind::Text, b"lo", true)?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.conn.send_fragment(kind, data, fin)?;
        self.flush()
    }

    /// Queues a message without writing it; see the type's documentation.
    pub fn queue(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.conn.send(message)
    }

    /// Sends a ping and writes it out. The matching pong is consumed by
    /// `recv`.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush()
    }

    /// Starts the close handshake with `code` and `reason` (at most 123
    /// bytes), and writes the close frame out. Keep calling
    /// [`recv`](Self::recv) until it returns `Ok(None)` to receive the
    /// peer's close and end the connection cleanly.
    ///
    /// The rule is RFC 6455's (section 7.4), the same as
    /// [`Connection::close`]: any code valid on the wire that an endpoint
    /// may send (1000-1003, 1007-1014, 3000-4999), so a server going down
    /// sends 1001. A browser's `close()` allows only 1000 and 3000-4999; to
    /// imitate it, check [`CloseCode::is_application_sendable`] first.
    ///
    /// ```no_run
    /// use rfc6455::CloseCode;
    /// let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// ws.close(CloseCode::GOING_AWAY, "shutting down")?; // or ws.close(1001, ...)
    /// while ws.recv()?.is_some() {}
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// The same as [`close`](Self::close), which now takes any code.
    ///
    /// ```no_run
    /// let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// ws.close(rfc6455::CloseCode::GOING_AWAY, "")?; // was: close_with
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    #[deprecated(note = "use `close`, which takes a `CloseCode` or a `u16` and the same rule")]
    pub fn close_with(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.close(code, reason)
    }

    /// Takes the socket apart for [`split`](Self::split) (in `split/`,
    /// which builds on this module, never the reverse).
    pub(crate) fn into_parts(self) -> (S, Connection, Deadlines) {
        (self.stream, self.conn, self.deadlines)
    }

    /// Writes out everything queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        write_queued(
            &mut self.conn,
            &mut self.stream,
            self.write_timeout.is_some(),
        )
    }

    /// Receives the next message. Pings are answered and pongs consumed on
    /// the way. Returns `Ok(None)` once the connection has closed cleanly
    /// (see [`close_event`](Self::close_event) for the code and reason).
    ///
    /// An error other than a timeout ([`Error::Timeout`] for a read
    /// timeout, or a `WouldBlock` I/O error of a non-blocking stream) ends the
    /// connection: a protocol violation has sent its close frame (1002,
    /// 1007 or 1009), and the close event reports the code, unclean.
    pub fn recv(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match self.next_event()? {
                Some(Event::Message(message)) => return Ok(Some(message)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Receives the next event of any kind: messages, pings, pongs, and the
    /// peer's close. Returns `Ok(None)` once the connection has closed.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if self.close_event.is_some() {
                return Ok(None);
            }
            let result = self.conn.next_event();
            match settle(result, self.conn.ready_state()) {
                Step::Deliver(result, end) => {
                    if let Some(end) = end {
                        self.finish(end);
                    }
                    return result;
                }
                Step::NeedInput => self.fill()?,
            }
        }
    }

    /// Drives the opening handshake until the core reports its event
    /// (`Open` for a client, `Request` for a server), bounded by `deadline`.
    /// A failure's queued answer (a server's 400, 426 or 431) is written
    /// before the error returns.
    pub(crate) fn handshake_event(&mut self, deadline: Instant) -> Result<Event, Error> {
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => return Ok(event),
                Ok(None) => {}
                Err(e) => {
                    let _ = self.flush();
                    return Err(e);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.handshake_deadline());
            }
            // Writes are bounded too: a peer that does not read cannot hold
            // the handshake past its deadline either.
            self.stream
                .set_read_timeout(Some(left))
                .and_then(|()| self.stream.set_write_timeout(Some(left)))
                .map_err(|e| cannot_time_out(e, "handshake timeout"))?;
            match self.fill() {
                Ok(()) => {}
                Err(Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(self.handshake_deadline())
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The handshake deadline passed: a refusal whose body was still
    /// arriving is reported with the body so far, anything else as the
    /// timeout.
    fn handshake_deadline(&mut self) -> Error {
        if self.conn.reading_rejection() {
            self.conn.receive_eof();
            if let Err(e) = self.conn.next_event() {
                return e;
            }
        }
        Error::timeout("opening handshake")
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// After the handshake: the timeouts, heartbeat and message timeout of
    /// the open connection.
    pub(crate) fn opened(
        &mut self,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
        timeouts: &Timeouts,
    ) -> Result<(), Error> {
        self.deadlines.read_timeout = read_timeout;
        self.stream
            .set_read_timeout(self.deadlines.read_timeout)
            .map_err(|e| cannot_time_out(e, "read timeout"))?;
        self.stream
            .set_write_timeout(write_timeout)
            .map_err(|e| cannot_time_out(e, "write timeout"))?;
        self.deadlines.opened(timeouts.heartbeat, timeouts.message);
        self.deadlines
            .stream_read_timeout(Some(self.deadlines.read_timeout));
        self.write_timeout = write_timeout;
        Ok(())
    }

    /// Writes what is queued, acts on the clocks that are due, then blocks
    /// for more input (or until the next clock is due).
    pub(crate) fn fill(&mut self) -> Result<(), Error> {
        if let Err(e) = self.flush() {
            return Err(self.io_failure(e));
        }
        let now = Instant::now();
        match self.deadlines.check(now, self.conn.message_in_progress()) {
            Due::MessageTooSlow => return Err(self.message_too_slow()),
            Due::PingUnanswered => {
                self.mark_abnormal();
                return Err(Error::timeout(PING_UNANSWERED));
            }
            Due::Ping => {
                if self.conn.ready_state() == ReadyState::Open {
                    // Silent for a whole interval: idle, so give back
                    // buffers that grew for large messages.
                    self.conn.shrink_buffers();
                    self.conn.ping(b"")?;
                    if let Err(e) = self.flush() {
                        return Err(self.io_failure(e));
                    }
                }
                self.deadlines.pinged(now);
            }
            Due::Nothing => {}
        }
        // The handshake sets its own deadline on the stream; once open,
        // each wait ends by the next clock (or the caller's read timeout),
        // and a clock no longer running leaves no short timeout behind.
        if self.conn.ready_state() != ReadyState::Connecting {
            if let Some(timeout) = self.deadlines.read_timeout_to_set(now) {
                self.stream
                    .set_read_timeout(timeout)
                    .map_err(|e| cannot_time_out(e, "heartbeat or message timeout"))?;
            }
        }
        match self.read_some(self.deadlines.message_due()) {
            Ok(0) => {
                self.conn.receive_eof();
                Ok(())
            }
            // A TLS peer that closed TCP without `close_notify`: an end of
            // stream all the same. The core tells a clean end (after the
            // close handshake) from a truncated one (1006).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.conn.receive_eof();
                Ok(())
            }
            Ok(_) => {
                self.deadlines.heard();
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            // A clock's turn, not the caller's read timeout: the next call
            // acts on it.
            Err(e) if is_timeout(&e) && self.deadlines.clock_due(Instant::now()) => Ok(()),
            // The caller's read timeout: nothing is lost, the connection
            // stays open.
            Err(e) if self.deadlines.read_timeout.is_some() && is_timeout(&e) => {
                Err(Error::timeout(READ_TIMED_OUT))
            }
            Err(e) => Err(self.io_failure(e.into())),
        }
    }

    /// Fails the connection whose message took longer than the message
    /// timeout: a close frame with 1008 (policy violation) goes out as a
    /// courtesy, and the transport is closed without waiting for a reply.
    fn message_too_slow(&mut self) -> Error {
        let _ = self
            .conn
            .close(CloseCode::POLICY_VIOLATION, "message took too long");
        let _ = self.flush();
        if self.close_event.is_none() {
            self.close_event = Some(CloseEvent::abnormal(CloseCode::POLICY_VIOLATION));
            let _ = self.stream.shutdown();
        }
        Error::timeout(MESSAGE_TOO_SLOW)
    }

    /// Reads into the connection: once, or for the rest of a large frame
    /// until all of it has arrived (or the stream stops: end, timeout,
    /// `WouldBlock`). Returns how many bytes (0 at EOF).
    fn read_some(&mut self, deadline: Option<Instant>) -> io::Result<usize> {
        let rest = self.conn.frame_remaining();
        if rest < LARGE_READ {
            let n = self.stream.read(self.conn.read_buf())?;
            self.conn.commit(n);
            return Ok(n);
        }
        // The rest of a large frame goes straight into a buffer of its own,
        // which spares zeroing it first (see `Connection::receive_with`).
        // A server takes it in pieces: the core unmasks each piece as it
        // is handed over, so the unmasking happens in cache and while the
        // rest is still arriving, instead of over the whole payload after
        // its last byte.
        let piece = match self.conn.role() {
            Role::Server => LARGE_PIECE,
            Role::Client => rest,
        };
        let mut total = 0;
        let mut rest = rest;
        while rest > 0 {
            let want = rest.min(piece);
            // Each read of a trickling peer succeeds, so only a deadline
            // checked between reads ends the wait for the whole piece.
            let mut stream = UntilDeadline {
                inner: &mut self.stream,
                deadline,
            };
            let (result, got) = self.conn.receive_with(|tail| {
                let result = tail.read_from(&mut stream, want);
                (result, tail.appended())
            });
            total += got;
            rest -= got;
            match result {
                // A timeout after some progress keeps what arrived; the
                // next read reports the timeout again if nothing more
                // comes.
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
                Ok(_) if got < want => break, // end of stream
                Ok(_) => {}
            }
        }
        Ok(total)
    }

    /// Ends the connection abnormally (1006) from the adapter's side.
    pub(crate) fn mark_abnormal(&mut self) {
        if self.close_event.is_none() {
            self.close_event = Some(CloseEvent::abnormal(CloseCode::ABNORMAL));
            let _ = self.stream.shutdown();
        }
    }

    /// A retryable I/O error passes through; any other ends the connection.
    fn io_failure(&mut self, e: Error) -> Error {
        let retryable = match &e {
            Error::Io(io) => is_timeout(io),
            Error::Timeout { .. } => true,
            _ => false,
        };
        if !retryable {
            self.mark_abnormal();
        }
        e
    }

    /// Ends the connection: writes what is queued (a close reply or the
    /// close frame of a failure), then closes the transport. The server
    /// closes at once; a client first waits, bounded by the close timeout,
    /// for the server to close (section 7.1.1).
    fn finish(&mut self, event: CloseEvent) {
        self.close_event = Some(event);
        let _ = self.flush();
        if self.conn.role() == Role::Client {
            self.await_eof();
        }
        let _ = self.stream.shutdown();
    }

    fn await_eof(&mut self) {
        let deadline = Instant::now() + self.deadlines.close_timeout;
        let mut scratch = [0u8; 512];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.stream.read(&mut scratch) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = self.stream.set_read_timeout(self.deadlines.read_timeout);
        self.deadlines
            .stream_read_timeout(Some(self.deadlines.read_timeout));
    }
}
