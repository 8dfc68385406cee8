//! The async socket: moves bytes between an `AsyncRead + AsyncWrite` stream
//! and the core, driven by poll functions that keep every piece of state in
//! the socket, so no future of this module holds anything worth losing.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{Instant, Sleep};

use crate::settings::Timeouts;
use crate::{CloseCode, CloseEvent, Connection, Error, Event, Message, ReadyState, Role};

mod drive;
mod split;
mod stream_sink;

use drive::{Ending, Heartbeat};
pub use split::{ReadHalf, WriteHalf};

/// Which half of a split socket is polling: each keeps its own waker for a
/// blocked write, since the stream remembers only the last one.
#[derive(Clone, Copy)]
enum Side {
    Reader = 0,
    Writer = 1,
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
    /// How long queued output may go without the stream taking any of it.
    write_timeout: Option<Duration>,
    /// Since when the stream has taken none of the queued output.
    write_stalled: Option<Instant>,
    /// One timer for every deadline above, made on first use.
    timer: Option<Pin<Box<Sleep>>>,
    /// The waker `timer` was last polled with: while it is this task's and
    /// the timer covers every deadline, a wait leaves the timer as it is.
    timer_waker: Option<Waker>,
    /// Bytes were written since the stream was last flushed.
    unflushed: bool,
    /// The write timeout's timer for `flush` and `send`: a split socket's
    /// writer waits on a timer of its own, since a timer wakes only the
    /// task that polled it last.
    write_timer: Option<Pin<Box<Sleep>>>,
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
    /// heartbeat, message or write timeout runs; the close timeout is the
    /// default.
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
            write_timeout: None,
            write_stalled: None,
            timer: None,
            timer_waker: None,
            unflushed: false,
            write_timer: None,
            ending: None,
            close_event: None,
            write_wakers: None,
        }
    }

    pub(crate) fn set_url(&mut self, url: String) {
        self.url = Some(url);
    }

    /// After the handshake: the timers of the open connection.
    pub(crate) fn opened(&mut self, timeouts: &Timeouts, write_timeout: Option<Duration>) {
        self.write_timeout = write_timeout;
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
            Poll::Pending => self.poll_write_timeout(cx),
            ready => ready,
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
