//! The async socket: moves bytes between an `AsyncRead + AsyncWrite` stream
//! and the core, driven by poll functions that keep every piece of state in
//! the socket, so no future of this module holds anything worth losing.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::{Instant, Sleep};

use crate::timeouts::Timeouts;
use crate::{CloseCode, CloseEvent, Connection, Error, Event, Message, ReadyState, Role};

/// The per-thread buffer every socket on a thread reads into before handing
/// the bytes to its connection: an idle socket so holds no read buffer of
/// its own, only what its connection keeps of an incomplete frame. Zeroed
/// once per thread, never per read.
const SCRATCH_LEN: usize = 64 * 1024;
/// What a read uses when the thread's scratch buffer is already borrowed
/// (a stream whose own `poll_read` drives another socket on this thread).
const FALLBACK_LEN: usize = 4 * 1024;

/// From this many missing bytes of a frame on, reads go straight into the
/// connection's buffer, which holds the frame until it is whole anyway:
/// one copy less than through the scratch buffer.
const DIRECT_READ: usize = 4 * 1024;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH_LEN].into_boxed_slice());
}

/// Which half of a split socket is polling: each keeps its own waker for a
/// blocked write, since the stream remembers only the last one.
#[derive(Clone, Copy)]
enum Side {
    Reader = 0,
    Writer = 1,
}

/// Idle detection: a ping after `interval` of silence from the peer, and
/// the connection is dropped if nothing arrives within `timeout` of it.
#[derive(Clone, Copy, Debug)]
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    last_heard: Instant,
    ping_sent: Option<Instant>,
}

impl Heartbeat {
    fn deadline(&self) -> Instant {
        match self.ping_sent {
            Some(sent) => sent + self.timeout,
            None => self.last_heard + self.interval,
        }
    }
}

/// The end of a connection under way: what `recv` reports once the last
/// writes are done and the transport is closed.
struct Ending {
    report: Result<Option<Event>, Error>,
    deadline: Instant,
    flushed: bool,
    peer_closed: bool,
}

/// A WebSocket over an async stream (`tokio::net::TcpStream`, a TLS stream,
/// an in-memory duplex).
///
/// [`recv`](Self::recv) is cancel-safe: the bytes it read are in the
/// [`Connection`] the moment they are read, so dropping its future (in
/// `tokio::select!`, under `tokio::time::timeout`) loses nothing and the
/// next call carries on. While it waits for input it writes what is queued,
/// answers pings, runs the heartbeat and completes the close handshake.
///
/// Sending: [`send`](Self::send) queues a message and writes out all that
/// is queued; [`queue`](Self::queue) only queues, and what is queued goes
/// out with the next `send` or [`flush`](Self::flush), or when `recv`
/// has drained its input, so an echo loop of `recv` + `queue` answers a
/// burst of messages with one (vectored) write. A cancelled `send` keeps
/// its message queued.
///
/// ```no_run
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let (stream, _) = listener.accept().await?;
/// stream.set_nodelay(true)?;
/// let mut ws = rfc6455::tokio::accept(stream).await?;
/// while let Some(message) = ws.recv().await? {
///     ws.queue(message)?;
/// }
/// # Ok(()) }
/// ```
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
    url: Option<String>,
    close_timeout: Duration,
    heartbeat: Option<Heartbeat>,
    message_timeout: Option<Duration>,
    /// When the message now arriving started to.
    message_started: Option<Instant>,
    /// When this end sent its close frame.
    close_sent: Option<Instant>,
    /// One timer for every deadline above, made on first use.
    timer: Option<Pin<Box<Sleep>>>,
    ending: Option<Box<Ending>>,
    close_event: Option<CloseEvent>,
    /// Split sockets only: the wakers of the halves blocked on a write.
    write_wakers: Option<Box<[Option<Waker>; 2]>>,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.conn.role())
            .field("ready_state", &self.conn.ready_state())
            .field("close_event", &self.close_event)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wraps a stream whose handshake is already done (elsewhere), around a
    /// connection in [`ReadyState::Open`] (see [`Connection::open`]). No
    /// heartbeat or message timeout runs; the close timeout is the default.
    ///
    /// ```
    /// use rfc6455::{tokio::WebSocket, Config, Connection, ReadyState, Role};
    /// let (stream, _peer) = tokio::io::duplex(4096);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// assert_eq!(ws.ready_state(), ReadyState::Open);
    /// ```
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            stream,
            conn,
            url: None,
            close_timeout: Timeouts::default().close,
            heartbeat: None,
            message_timeout: None,
            message_started: None,
            close_sent: None,
            timer: None,
            ending: None,
            close_event: None,
            write_wakers: None,
        }
    }

    pub(crate) fn set_url(&mut self, url: String) {
        self.url = Some(url);
    }

    /// After the handshake: the timers of the open connection.
    pub(crate) fn opened(&mut self, timeouts: &Timeouts) {
        self.close_timeout = timeouts.close;
        self.heartbeat = timeouts.heartbeat.map(|(interval, timeout)| Heartbeat {
            interval,
            timeout,
            last_heard: Instant::now(),
            ping_sent: None,
        });
        self.message_timeout = timeouts.message;
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The state, as the browser's `readyState`.
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, ReadyState, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Client, Config::default()));
    /// assert_eq!(ws.ready_state(), ReadyState::Open);
    /// ```
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
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let mut ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// ws.queue("hi")?;
    /// assert_eq!(ws.buffered_amount(), 4);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn buffered_amount(&self) -> usize {
        self.conn.buffered_amount()
    }

    /// The negotiated subprotocol, if any.
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// assert_eq!(ws.protocol(), None);
    /// ```
    pub fn protocol(&self) -> Option<&str> {
        self.conn.protocol()
    }

    /// The URL a client connected to (`None` on the server side).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/chat").await?;
    /// assert_eq!(ws.url(), Some("ws://127.0.0.1:9001/chat"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Whether this is the client or the server end.
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// assert_eq!(ws.role(), Role::Server);
    /// ```
    pub fn role(&self) -> Role {
        self.conn.role()
    }

    /// How the connection ended, once it has.
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// assert!(ws.close_event().is_none());
    /// ```
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.close_event.as_ref()
    }

    /// The stream (for example to read `peer_addr()`).
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// let _stream: &tokio::io::DuplexStream = ws.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The sans-IO connection underneath.
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// assert!(ws.connection().buffer_capacity() <= 8 * 1024);
    /// ```
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Queues a message without writing it; see the type's documentation.
    /// Fails with [`Error::BufferFull`] when the peer has stopped reading
    /// (see [`Config::max_buffered_amount`](crate::Config::max_buffered_amount)).
    ///
    /// ```
    /// # use rfc6455::{tokio::WebSocket, Config, Connection, Role};
    /// # let (stream, _peer) = tokio::io::duplex(64);
    /// let mut ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// ws.queue("one")?;
    /// ws.queue(vec![2u8])?; // both go out in one write
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn queue(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.check_not_ended()?;
        self.conn.send(message)
    }

    fn check_not_ended(&self) -> Result<(), Error> {
        match self.close_event {
            Some(_) => Err(Error::NotOpen(ReadyState::Closed)),
            None => Ok(()),
        }
    }

    /// Sends a message (for example one just received, to echo it) and
    /// writes out everything queued.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// ws.send("hello").await?;
    /// ws.send(vec![1u8, 2, 3]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.queue(message)?;
        self.flush().await
    }

    /// Sends a text message.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// ws.send_text("hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.check_not_ended()?;
        self.conn.send_text(text)?;
        self.flush().await
    }

    /// Sends a binary message.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// ws.send_binary(&[1, 2, 3]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_not_ended()?;
        self.conn.send_binary(data)?;
        self.flush().await
    }

    /// Sends a ping; the matching pong is consumed by `recv`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// ws.ping(b"are you there?").await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.check_not_ended()?;
        self.conn.ping(payload)?;
        self.flush().await
    }

    /// Starts the close handshake with `code` and `reason` (at most 123
    /// bytes), and writes the close frame out. Keep calling
    /// [`recv`](Self::recv) until it returns `Ok(None)`: it receives the
    /// peer's close and ends the connection, within the close timeout.
    ///
    /// The rule is RFC 6455's (section 7.4), as for the blocking socket and
    /// [`Connection::close`]: any code valid on the wire that an endpoint
    /// may send, so a server going down sends 1001.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// ws.close(1000, "done").await?;
    /// while ws.recv().await?.is_some() {}
    /// assert!(ws.close_event().unwrap().was_clean);
    /// # Ok(()) }
    /// ```
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.check_not_ended()?;
        self.conn.close(code, reason)?;
        self.flush().await
    }

    /// The same as [`close`](Self::close), which takes any code.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// ws.close(rfc6455::CloseCode::GOING_AWAY, "shutting down").await?; // was: close_with
    /// # Ok(()) }
    /// ```
    #[deprecated(note = "use `close`, which takes a `CloseCode` or a `u16` and the same rule")]
    pub async fn close_with(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.close(code, reason).await
    }

    /// Writes out everything queued. Cancelling it loses nothing: what is
    /// not written stays queued.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// for i in 0..10 {
    ///     ws.queue(format!("message {i}"))?;
    /// }
    /// ws.flush().await?; // one write
    /// # Ok(()) }
    /// ```
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_as(cx, Side::Writer)).await
    }

    fn poll_flush_as(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        match self.poll_write_out(cx, side) {
            Poll::Ready(Err(e)) => {
                self.transport_failed();
                Poll::Ready(Err(e))
            }
            other => other,
        }
    }

    /// Receives the next message. Pings are answered and pongs consumed on
    /// the way. Returns `Ok(None)` once the connection has ended (see
    /// [`close_event`](Self::close_event) for the code and reason).
    /// Cancel-safe.
    ///
    /// An error ends the connection: a protocol violation has sent its close
    /// frame (1002, 1007 or 1009), and the close event reports the code,
    /// unclean.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    /// loop {
    ///     tokio::select! {
    ///         message = ws.recv() => match message? {
    ///             Some(message) => println!("{message:?}"),
    ///             None => break,
    ///         },
    ///         _ = tick.tick() => ws.send_text("tick").await?,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll form of [`recv`](Self::recv), for hand-written futures
    /// and streams.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let message = std::future::poll_fn(|cx| ws.poll_recv(cx)).await?;
    /// # Ok(()) }
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Message>, Error>> {
        self.poll_recv_as(cx, Side::Reader)
    }

    fn poll_recv_as(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<Option<Message>, Error>> {
        loop {
            match self.poll_next_event_as(cx, side) {
                Poll::Ready(Ok(Some(Event::Message(message)))) => {
                    return Poll::Ready(Ok(Some(message)))
                }
                Poll::Ready(Ok(Some(_))) => {}
                Poll::Ready(Ok(None)) => return Poll::Ready(Ok(None)),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Receives the next event of any kind: messages, pings, pongs, and the
    /// peer's close. Returns `Ok(None)` once the connection has ended.
    /// Cancel-safe.
    ///
    /// ```no_run
    /// use rfc6455::Event;
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// while let Some(event) = ws.next_event().await? {
    ///     if let Event::Pong(payload) = event {
    ///         println!("pong {payload:?}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// The poll form of [`next_event`](Self::next_event).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let event = std::future::poll_fn(|cx| ws.poll_next_event(cx)).await?;
    /// # Ok(()) }
    /// ```
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>, Error>> {
        self.poll_next_event_as(cx, Side::Reader)
    }

    fn poll_next_event_as(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if self.ending.is_some() {
                if self.poll_end(cx, side).is_pending() {
                    return Poll::Pending;
                }
                if let Some(ending) = self.ending.take() {
                    return Poll::Ready(ending.report);
                }
            }
            if self.close_event.is_some() {
                return Poll::Ready(Ok(None));
            }
            match self.conn.next_event() {
                Ok(Some(Event::Close(frame))) => {
                    self.end(
                        CloseEvent::clean(frame.as_ref()),
                        Ok(Some(Event::Close(frame))),
                    );
                }
                Ok(Some(event)) => return Poll::Ready(Ok(Some(event))),
                Ok(None) if self.conn.ready_state() == ReadyState::Closed => {
                    // Closed without a close frame from the peer.
                    self.end(CloseEvent::abnormal(CloseCode::ABNORMAL), Ok(None));
                }
                Ok(None) => match self.poll_fill(cx, side) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err((code, e))) => self.end(CloseEvent::abnormal(code), Err(e)),
                    Poll::Pending => return Poll::Pending,
                },
                Err(e) => {
                    let code = e.close_code().unwrap_or(CloseCode::ABNORMAL);
                    self.end(CloseEvent::abnormal(code), Err(e));
                }
            }
        }
    }

    /// Starts ending the connection; `recv` reports `report` once the last
    /// writes are done and the transport is closed.
    fn end(&mut self, event: CloseEvent, report: Result<Option<Event>, Error>) {
        self.close_event = Some(event);
        self.ending = Some(Box::new(Ending {
            report,
            deadline: Instant::now() + self.close_timeout,
            flushed: false,
            peer_closed: false,
        }));
    }

    /// The transport failed under a write: nothing more can go out, so the
    /// connection ends at once.
    fn transport_failed(&mut self) {
        if self.close_event.is_none() {
            self.close_event = Some(CloseEvent::abnormal(CloseCode::ABNORMAL));
        }
        self.ending = None;
    }

    /// Ends the connection: writes what is queued (a close reply, or the
    /// close frame of a failure), lets a client wait for the server to
    /// close TCP first (section 7.1.1), then closes the transport; all of
    /// it within the close timeout.
    fn poll_end(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<()> {
        let Some(ending) = self.ending.as_deref() else {
            return Poll::Ready(());
        };
        let deadline = ending.deadline;
        let (mut flushed, mut peer_closed) = (ending.flushed, ending.peer_closed);
        let expired = Instant::now() >= deadline;
        if !flushed && !expired {
            match self.poll_write_out(cx, side) {
                Poll::Ready(_) => flushed = true,
                Poll::Pending => {}
            }
        }
        // After a clean close a client lets the server close TCP first;
        // after a failure there is nothing to wait for.
        let clean = self.close_event.as_ref().is_some_and(|e| e.was_clean);
        let waits_for_peer =
            clean && self.conn.role() == Role::Client && !self.conn.should_close_transport();
        if flushed && waits_for_peer && !peer_closed && !expired {
            loop {
                match self.poll_read_with(cx, |_, _| {}) {
                    Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                        peer_closed = true;
                        break;
                    }
                    Poll::Ready(Ok(_)) => {}
                    Poll::Pending => break,
                }
            }
        }
        if let Some(ending) = self.ending.as_deref_mut() {
            ending.flushed = flushed;
            ending.peer_closed = peer_closed;
        }
        let finished = flushed && (!waits_for_peer || peer_closed);
        if !finished && !expired && self.poll_timer(cx, deadline).is_pending() {
            return Poll::Pending;
        }
        // Errors closing a transport that is ending anyway change nothing.
        match Pin::new(&mut self.stream).poll_shutdown(cx) {
            Poll::Pending if Instant::now() < deadline => {
                let _ = self.poll_timer(cx, deadline);
                Poll::Pending
            }
            _ => Poll::Ready(()),
        }
    }

    /// Writes what is queued, acts on the timers, and reads once into the
    /// connection (or waits until one of those can progress). An error
    /// comes with the code the close event reports.
    fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<(), (CloseCode, Error)>> {
        let (due, now) = match self.timers() {
            Ok(due) => due,
            Err(failure) => return Poll::Ready(Err(failure)),
        };
        let written = match self.poll_write_out(cx, side) {
            Poll::Ready(Err(e)) => return Poll::Ready(Err((CloseCode::ABNORMAL, e))),
            Poll::Ready(Ok(())) => true,
            Poll::Pending => false,
        };
        // Reading goes on while a write waits (a peer that writes while it
        // waits for us to read must not deadlock with us), up to the cap on
        // what may wait to be written: past it, a peer that sends but never
        // reads (and so piles up our pongs or echoes) is read no further;
        // the timers still run, so the heartbeat ends it.
        if written || self.conn.buffered_amount() <= self.conn.config().max_buffered_amount {
            match self.poll_receive(cx) {
                Poll::Ready(Ok(n)) => {
                    if n == 0 {
                        self.conn.receive_eof();
                    } else if let Some(hb) = &mut self.heartbeat {
                        // The time read just before the read: the clock is
                        // read once per wait, not once per read.
                        hb.last_heard = now.unwrap_or_else(Instant::now);
                        hb.ping_sent = None;
                    }
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Err((CloseCode::ABNORMAL, e.into())));
                }
                Poll::Pending => {}
            }
        }
        match due {
            Some(due) if self.poll_timer(cx, due).is_ready() => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    }

    /// Acts on the heartbeat, the message timeout and the close timeout;
    /// returns when they next need to act and the time it read (if it read
    /// the clock), or the failure that ends the connection.
    fn timers(&mut self) -> Result<(Option<Instant>, Option<Instant>), (CloseCode, Error)> {
        if self.heartbeat.is_none() && self.message_timeout.is_none() {
            return match self.conn.ready_state() {
                ReadyState::Closing => {
                    let now = Instant::now();
                    Ok((Some(self.close_deadline(now)?), Some(now)))
                }
                _ => Ok((None, None)),
            };
        }
        let now = Instant::now();
        let mut due: Option<Instant> = None;
        let mut at = |when: Instant| due = Some(due.map_or(when, |d| d.min(when)));
        if self.conn.ready_state() == ReadyState::Closing {
            at(self.close_deadline(now)?);
        }
        if let Some(limit) = self.message_timeout {
            if self.conn.message_in_progress() {
                let started = *self.message_started.get_or_insert(now);
                if now >= started + limit {
                    let _ = self
                        .conn
                        .close(CloseCode::POLICY_VIOLATION, "message took too long");
                    return Err((
                        CloseCode::POLICY_VIOLATION,
                        Error::Timeout("a message did not arrive within the message timeout"),
                    ));
                }
                at(started + limit);
            } else {
                self.message_started = None;
            }
        }
        if let Some(hb) = &mut self.heartbeat {
            if now >= hb.deadline() {
                if hb.ping_sent.is_some() {
                    return Err((
                        CloseCode::ABNORMAL,
                        Error::Timeout("no answer to a heartbeat ping"),
                    ));
                }
                hb.ping_sent = Some(now);
                if self.conn.ready_state() == ReadyState::Open {
                    // Silent for a whole interval: idle, so give back
                    // buffers that grew for large messages.
                    self.conn.shrink_buffers();
                    let _ = self.conn.ping(b"");
                }
            }
            at(hb.deadline());
        }
        Ok((due, Some(now)))
    }

    /// When the peer's close reply must have arrived, since this end sent
    /// its close frame.
    fn close_deadline(&mut self, now: Instant) -> Result<Instant, (CloseCode, Error)> {
        let due = *self.close_sent.get_or_insert(now) + self.close_timeout;
        if now >= due {
            return Err((
                CloseCode::ABNORMAL,
                Error::Timeout("no close frame from the peer within the close timeout"),
            ));
        }
        Ok(due)
    }

    /// Arms the one timer for `due` and polls it. An armed timer that
    /// would fire sooner is left as it is (it fires early and is re-armed
    /// then), so a deadline that keeps moving later (the heartbeat's, at
    /// every read) does not reset the timer at every read.
    fn poll_timer(&mut self, cx: &mut Context<'_>, due: Instant) -> Poll<()> {
        match &mut self.timer {
            Some(timer) => {
                if due < timer.deadline() || timer.is_elapsed() {
                    timer.as_mut().reset(due);
                }
            }
            None => self.timer = Some(Box::pin(::tokio::time::sleep_until(due))),
        }
        match &mut self.timer {
            Some(timer) => timer.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }

    /// Reads once into the connection: through the thread's scratch buffer,
    /// or straight into the connection's buffer for the rest of a large
    /// frame. Returns how many bytes (0 at the end of the stream).
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.conn.frame_remaining() < DIRECT_READ {
            return self.poll_read_with(cx, |conn, data| conn.receive(data));
        }
        let mut buf = ReadBuf::new(self.conn.read_buf());
        let result = Pin::new(&mut self.stream).poll_read(cx, &mut buf);
        let n = buf.filled().len();
        // Committed in the same poll as the read: nothing read is ever
        // left for a future that may be dropped.
        self.conn.commit(n);
        match result {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(n)),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Reads once through the thread's scratch buffer and hands what came
    /// to `take` with the connection. Returns how many bytes (0 at the end
    /// of the stream).
    fn poll_read_with(
        &mut self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut Connection, &[u8]),
    ) -> Poll<io::Result<usize>> {
        let read = |buf: &mut [u8]| {
            let mut buf = ReadBuf::new(buf);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let data = buf.filled();
                    if !data.is_empty() {
                        take(&mut self.conn, data);
                    }
                    Poll::Ready(Ok(data.len()))
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        };
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => read(&mut scratch),
            Err(_) => read(&mut [0; FALLBACK_LEN]),
        })
    }

    /// Writes everything queued, with vectored writes.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        let mut progress = false;
        while self.conn.buffered_amount() > 0 {
            let mut slices = [IoSlice::new(&[]); 16];
            let count = self.conn.output_io_slices(&mut slices);
            match Pin::new(&mut self.stream).poll_write_vectored(cx, &slices[..count]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => {
                    self.conn.consume_output(n);
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => {
                    self.park_writer(cx, side, progress);
                    return Poll::Pending;
                }
            }
        }
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.park_writer(cx, side, true);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => {
                self.park_writer(cx, side, progress);
                Poll::Pending
            }
        }
    }

    /// Split sockets: the stream wakes only the half that polled it last,
    /// so a half blocked on a write keeps its waker here, and a half that
    /// made the writes progress wakes the other.
    fn park_writer(&mut self, cx: &mut Context<'_>, side: Side, progress: bool) {
        let Some(wakers) = self.write_wakers.as_deref_mut() else {
            return;
        };
        if progress {
            let other = 1 - side as usize;
            if let Some(waker) = wakers[other].take() {
                waker.wake();
            }
        }
        if self.conn.buffered_amount() > 0 {
            wakers[side as usize] = Some(cx.waker().clone());
        } else {
            wakers[side as usize] = None;
        }
    }

    /// Splits the socket into a reader and a writer, to receive in one task
    /// and send from another. They share the socket behind a mutex, which
    /// no `await` ever holds: each poll locks it, moves what bytes it can,
    /// and lets go. The reader answers pings, runs the heartbeat and ends
    /// the connection; keep polling it while the writer is in use.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let (mut reader, mut writer) = ws.split();
    /// tokio::spawn(async move {
    ///     for i in 0..3 {
    ///         writer.send_text(&format!("message {i}")).await?;
    ///     }
    ///     writer.close(1000, "done").await
    /// });
    /// while let Some(message) = reader.recv().await? {
    ///     println!("{message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn split(mut self) -> (ReadHalf<S>, WriteHalf<S>) {
        self.write_wakers = Some(Box::new([None, None]));
        let shared = Arc::new(Mutex::new(self));
        (
            ReadHalf {
                shared: Arc::clone(&shared),
            },
            WriteHalf { shared },
        )
    }
}

/// The receiving half of a [`WebSocket::split`] socket.
pub struct ReadHalf<S> {
    shared: Arc<Mutex<WebSocket<S>>>,
}

/// The sending half of a [`WebSocket::split`] socket. Its
/// [`buffered_amount`](Self::buffered_amount) is the socket's own, exact.
pub struct WriteHalf<S> {
    shared: Arc<Mutex<WebSocket<S>>>,
}

impl<S> std::fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

/// Locks the shared socket; a half that panicked while holding it left
/// the connection consistent (the core's calls do not unwind midway), so a
/// poisoned lock is used as it is.
fn lock<S>(shared: &Mutex<WebSocket<S>>) -> MutexGuard<'_, WebSocket<S>> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// As [`WebSocket::recv`]; cancel-safe.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// while let Some(message) = reader.recv().await? {
    ///     println!("{message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| lock(&self.shared).poll_recv_as(cx, Side::Reader)).await
    }

    /// As [`WebSocket::next_event`]; cancel-safe.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// while let Some(event) = reader.next_event().await? {
    ///     println!("{event:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        poll_fn(|cx| lock(&self.shared).poll_next_event_as(cx, Side::Reader)).await
    }

    /// The state, as [`WebSocket::ready_state`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// println!("{:?}", reader.ready_state());
    /// # Ok(()) }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        lock(&self.shared).ready_state()
    }

    /// How the connection ended, once it has.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// while reader.recv().await?.is_some() {}
    /// println!("{:?}", reader.close_event());
    /// # Ok(()) }
    /// ```
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).close_event().cloned()
    }

    /// Puts the halves back together; `None` (dropping both) if they come
    /// from different sockets.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (reader, writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// let ws = reader.unsplit(writer).expect("the same socket");
    /// # Ok(()) }
    /// ```
    pub fn unsplit(self, writer: WriteHalf<S>) -> Option<WebSocket<S>> {
        if !Arc::ptr_eq(&self.shared, &writer.shared) {
            return None;
        }
        drop(writer);
        let mutex = Arc::into_inner(self.shared)?;
        let mut ws = mutex
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ws.write_wakers = None;
        Some(ws)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// As [`WebSocket::send`]: queues the message and writes out all that
    /// is queued.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.send("hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.queue(message)?;
        self.flush().await
    }

    /// Sends a text message.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.send_text("hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.send_text(text)?;
        }
        self.flush().await
    }

    /// Sends a binary message.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.send_binary(&[1, 2, 3]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.send_binary(data)?;
        }
        self.flush().await
    }

    /// Queues a message without writing it; [`flush`](Self::flush) writes.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.queue("one")?;
    /// writer.queue("two")?;
    /// writer.flush().await?;
    /// # Ok(()) }
    /// ```
    pub fn queue(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        lock(&self.shared).queue(message)
    }

    /// Writes out everything queued; cancel-safe.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.flush().await?;
    /// # Ok(()) }
    /// ```
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_flush_as(cx, Side::Writer)).await
    }

    /// Sends a ping; the reader consumes the pong.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.ping(b"").await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.ping(payload)?;
        }
        self.flush().await
    }

    /// As [`WebSocket::close`]: the reader then receives the peer's close
    /// and ends the connection.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.close(1000, "done").await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.close(code, reason)?;
        }
        self.flush().await
    }

    /// Bytes accepted by a send but not yet written, exactly.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.queue("hi")?;
    /// assert_eq!(writer.buffered_amount(), 8); // a client's frame: header, mask, payload
    /// # Ok(()) }
    /// ```
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).buffered_amount()
    }

    /// The state, as [`WebSocket::ready_state`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// println!("{:?}", writer.ready_state());
    /// # Ok(()) }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        lock(&self.shared).ready_state()
    }
}

/// Reads the opening handshake's bytes into the connection until it
/// reports its event (`Request` for a server, `Open` for a client). A
/// failure's queued answer (a server's 400, 426 or 431) is written before
/// the error returns.
pub(crate) async fn handshake_event<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocket<S>,
) -> Result<Event, Error> {
    loop {
        match ws.conn.next_event() {
            Ok(Some(event)) => return Ok(event),
            Ok(None) => {}
            Err(e) => {
                let _ = ws.flush().await;
                return Err(e);
            }
        }
        ws.flush().await?;
        let n = poll_fn(|cx| ws.poll_receive(cx)).await?;
        if n == 0 {
            ws.conn.receive_eof();
        }
    }
}
