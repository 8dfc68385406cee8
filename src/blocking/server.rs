//! Accepting server connections.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::blocking::deadlines::{stream_timeout_setters, DEFAULT_WRITE_TIMEOUT};
use crate::blocking::socket::WebSocket;
use crate::blocking::{Stream, Transport};
use crate::handshake::{HandshakeError, Headers};
use crate::settings::{timeout_setters, Timeouts};
use crate::{Accept, Config, Connection, Error, Event, Reject, Request};

/// The default cap on connections [`ServerBuilder::serve`] handles at once:
/// each holds a thread, and a flood of connections must not exhaust them.
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// What a connection over the cap is told before it is closed.
const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Length: 0\r\nConnection: close\r\n\r\n";
/// How long a refused connection is kept open to read the peer's request,
/// so closing it does not reset the connection before the peer has read
/// the 503.
const REFUSED_LINGER: Duration = Duration::from_secs(1);
/// At most this many refused connections linger at once; older ones are
/// closed at once when more come.
const MAX_LINGERING: usize = 1024;

/// Accepts a WebSocket on an accepted TCP stream with default settings:
/// any path, any origin, no subprotocol.
///
/// ```no_run
/// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
/// let (stream, _) = listener.accept()?;
/// let mut ws = rfc6455::blocking::accept(stream)?;
/// while let Some(message) = ws.recv()? {
///     ws.send(message)?;
/// }
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn accept(stream: TcpStream) -> Result<WebSocket<Stream>, Error> {
    ServerBuilder::new().accept(stream)
}

/// Settings for accepting connections: limits, timeouts, and TLS.
///
/// ```no_run
/// use rfc6455::{blocking::ServerBuilder, Accept, Reject};
/// let server = ServerBuilder::new().handshake_timeout(std::time::Duration::from_secs(5));
/// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
/// let (stream, _) = listener.accept()?;
/// let ws = server.accept_with(stream, |request| {
///     if request.origin() != Some("https://example.com") {
///         return Err(Reject::new(403));
///     }
///     match request.protocols().find(|p| *p == "chat") {
///         Some(p) => Ok(Accept::new().protocol(p)),
///         None => Ok(Accept::new()),
///     }
/// })?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    config: Config,
    timeouts: Timeouts,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    max_connections: usize,
    /// Connections [`serve`](Self::serve) is handling, shared by clones.
    live: Arc<AtomicUsize>,
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerBuilder {
    /// Default settings.
    pub fn new() -> Self {
        ServerBuilder {
            config: Config::default(),
            timeouts: Timeouts::default(),
            read_timeout: None,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            live: Arc::new(AtomicUsize::new(0)),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// How many connections [`serve`](Self::serve) handles at once
    /// (default 10,000). One more is answered `503 Service Unavailable`
    /// with `Retry-After: 1` and closed, without a thread of its own (with
    /// [`tls`](Self::tls), closed without an answer: a TLS client cannot
    /// read a plaintext one).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// How many connections [`serve`](Self::serve) is handling now (on
    /// this builder and its clones).
    pub fn connections(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Accepts connections on `listener` and runs `handle` on each, on a
    /// thread of its own, with at most
    /// [`max_connections`](Self::max_connections) at once. It returns only
    /// when the listener itself fails.
    ///
    /// Errors that concern one connection (aborted before it was
    /// accepted, interrupted) are skipped. When the process runs out of
    /// something (file descriptors, memory, threads), the loop backs off,
    /// from 10 ms up to 1 s, instead of spinning, and writes one line to
    /// standard error per second at most.
    ///
    /// ```no_run
    /// use rfc6455::blocking::ServerBuilder;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
    /// let server = ServerBuilder::new().max_connections(1000);
    /// let acceptor = server.clone();
    /// let error = server.serve(&listener, move |stream| {
    ///     let Ok(mut ws) = acceptor.accept(stream) else { return };
    ///     while let Ok(Some(message)) = ws.recv() {
    ///         if ws.send(message).is_err() {
    ///             break;
    ///         }
    ///     }
    /// });
    /// eprintln!("listener failed: {error}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn serve<F>(&self, listener: &TcpListener, handle: F) -> io::Error
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let handle = Arc::new(handle);
        let mut backoff = Backoff::default();
        let mut lingering: Option<mpsc::SyncSender<TcpStream>> = None;
        loop {
            let stream = match listener.accept() {
                Ok((stream, _)) => {
                    backoff.reset();
                    stream
                }
                Err(e) if listener_failed(&e) => return e,
                Err(e) if concerns_one_connection(&e) => continue,
                Err(e) => {
                    backoff.wait("accept failed", &e);
                    continue;
                }
            };
            let Some(slot) = Slot::take(&self.live, self.max_connections) else {
                let linger = lingering.get_or_insert_with(spawn_linger);
                refuse_busy(stream, linger, self.serves_tls());
                continue;
            };
            let handle = Arc::clone(&handle);
            let spawned = thread::Builder::new()
                .name("rfc6455-connection".into())
                .spawn(move || {
                    let _slot = slot;
                    handle(stream);
                });
            // A thread that cannot be spawned drops the connection (and its
            // slot) with the closure.
            if let Err(e) = spawned {
                backoff.wait("cannot spawn a connection thread", &e);
            }
        }
    }

    /// Limits and behaviour of each connection, permessage-deflate among
    /// them (`Config::deflate`, feature `deflate`: accepted by default).
    ///
    /// ```
    /// let server = rfc6455::blocking::ServerBuilder::new().config(rfc6455::Config {
    ///     max_message_size: 1 << 20,
    ///     ..Default::default()
    /// });
    /// # let _ = server;
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    timeout_setters!("rfc6455::blocking::ServerBuilder::new()");
    stream_timeout_setters!("rfc6455::blocking::ServerBuilder::new()");

    /// Serves `wss://`: every accepted TCP stream first runs a TLS
    /// handshake with this configuration (see
    /// [`tls::server_config_from_pem`](crate::tls::server_config_from_pem)),
    /// within the handshake timeout. A peer that sends plain HTTP or
    /// garbage fails with [`Error::Tls`]; one that stalls, with
    /// [`Error::Timeout`].
    ///
    /// ```no_run
    /// let tls = rfc6455::tls::server_config_from_pem("cert.pem", "key.pem")?;
    /// let server = rfc6455::blocking::ServerBuilder::new().tls(tls);
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9443")?;
    /// let (stream, _) = listener.accept()?;
    /// let mut ws = server.accept(stream)?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Accepts any WebSocket request, with no subprotocol.
    pub fn accept(&self, stream: TcpStream) -> Result<WebSocket<Stream>, Error> {
        self.accept_with(stream, |_| Ok(Accept::new()))
    }

    /// Lets `decide` inspect the request (path, `Origin`, subprotocols,
    /// headers) and accept it or answer it with a plain HTTP response. A
    /// `Reject` ends with [`HandshakeError::Rejected`] carrying its status
    /// (to serve pages as well, use [`handle`](Self::handle), for which an
    /// answer is an outcome, not an error).
    /// `decide` sees every well-formed HTTP request, including plain ones
    /// (`!request.is_websocket()`), so a server can serve a page; accepting
    /// a request that is not a valid upgrade answers 400 (426 for a wrong
    /// version) and fails with the reason.
    pub fn accept_with<F>(&self, stream: TcpStream, decide: F) -> Result<WebSocket<Stream>, Error>
    where
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        self.handle(stream, decide).and_then(must_be_websocket)
    }

    fn serves_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    #[cfg(feature = "tls")]
    fn tls_handshake(&self, tcp: TcpStream, deadline: Instant) -> Result<Stream, Error> {
        let Some(config) = &self.tls else {
            return Ok(Stream::Plain(tcp));
        };
        let peer = tcp
            .peer_addr()
            .map_or_else(|_| "client".into(), |a| a.to_string());
        let conn = rustls::ServerConnection::new(config.clone())
            .map_err(|e| crate::tls::handshake_error(&peer, std::io::Error::other(e)))?;
        crate::blocking::stream::complete_tls_handshake(conn, tcp, &peer, deadline)
            .map(Stream::ServerTls)
    }

    #[cfg(not(feature = "tls"))]
    fn tls_handshake(&self, tcp: TcpStream, _: Instant) -> Result<Stream, Error> {
        Ok(Stream::Plain(tcp))
    }

    /// As [`accept_with`](Self::accept_with), over any stream (a TLS
    /// stream set up by the caller, a Unix socket, a wrapper). Every
    /// timeout of the builder holds through the stream's [`Transport`]
    /// methods; a stream that cannot time out fails with
    /// [`Error::CannotTimeOut`].
    ///
    /// ```no_run
    /// use rfc6455::{blocking::ServerBuilder, Accept};
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
    /// let (tcp, _) = listener.accept()?;
    /// let ws = ServerBuilder::new().accept_stream(tcp, |_| Ok(Accept::new()))?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn accept_stream<S, F>(&self, stream: S, decide: F) -> Result<WebSocket<S>, Error>
    where
        S: Transport,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        self.handle_stream(stream, decide)
            .and_then(must_be_websocket)
    }

    /// Lets `decide` upgrade the request or answer it with a plain HTTP
    /// response, and reports which happened: serving a page, a redirect or
    /// a refusal is an [`Outcome::Answered`], not an error. Errors are
    /// failures: a malformed or invalid request (answered 400, 405, 426 or
    /// 431), an `Accept` that cannot be sent (a subprotocol the client did
    /// not offer, a bad header: answered 500), TLS, I/O, the timeout.
    ///
    /// ```no_run
    /// use rfc6455::{blocking::{Outcome, ServerBuilder}, Accept, Reject};
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
    /// let (stream, _) = listener.accept()?;
    /// let outcome = ServerBuilder::new().handle(stream, |req| {
    ///     if req.is_websocket() {
    ///         Ok(Accept::new())
    ///     } else {
    ///         Err(Reject::new(200).header("Content-Type", "text/html").body("<p>hi</p>"))
    ///     }
    /// })?;
    /// match outcome {
    ///     Outcome::WebSocket(mut ws) => ws.send_text("welcome")?,
    ///     Outcome::Answered { request, status } => println!("{} {status}", request.path()),
    ///     _ => {}
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn handle<F>(&self, stream: TcpStream, decide: F) -> Result<Outcome<Stream>, Error>
    where
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        stream.set_nodelay(true)?;
        let deadline = Instant::now() + self.timeouts.handshake;
        let stream = self.tls_handshake(stream, deadline)?;
        self.handshake(stream, deadline, decide)
    }

    /// As [`handle`](Self::handle), over any stream (see
    /// [`accept_stream`](Self::accept_stream)).
    ///
    /// ```no_run
    /// use rfc6455::{blocking::{Outcome, ServerBuilder}, Accept};
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
    /// let (tcp, _) = listener.accept()?;
    /// let outcome = ServerBuilder::new().handle_stream(tcp, |_| Ok(Accept::new()))?;
    /// assert!(matches!(outcome, Outcome::WebSocket(_)));
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn handle_stream<S, F>(&self, stream: S, decide: F) -> Result<Outcome<S>, Error>
    where
        S: Transport,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        self.handshake(stream, Instant::now() + self.timeouts.handshake, decide)
    }

    fn handshake<S, F>(&self, stream: S, deadline: Instant, decide: F) -> Result<Outcome<S>, Error>
    where
        S: Transport,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let mut ws = WebSocket::from_connection(stream, Connection::server(self.config.clone()));
        ws.set_close_timeout(self.timeouts.close);
        let request = loop {
            if let Event::Request(request) = ws.handshake_event(deadline)? {
                break request;
            }
        };
        let answered = match decide(&request) {
            // An accept that cannot be sent is answered 500 by the core.
            Ok(accept) => ws.connection_mut().accept(accept).map(|()| None),
            Err(reject) => {
                let status = reject.status();
                ws.connection_mut().reject(reject).map(|()| Some(status))
            }
        };
        let flushed = ws.flush();
        let answered = answered?;
        flushed?;
        if let Some(status) = answered {
            // Shut down, not just dropped: a TLS peer gets its close_notify,
            // and the peer reads the end of the response.
            ws.mark_abnormal();
            return Ok(Outcome::Answered { request, status });
        }
        ws.opened(self.read_timeout, self.write_timeout, &self.timeouts)?;
        Ok(Outcome::WebSocket(ws))
    }
}

/// `accept_with`'s rule: a request answered without an upgrade is a
/// failed handshake.
fn must_be_websocket<S>(outcome: Outcome<S>) -> Result<WebSocket<S>, Error> {
    match outcome {
        Outcome::WebSocket(ws) => Ok(ws),
        Outcome::Answered { status, .. } => Err(Error::from(HandshakeError::Rejected {
            status,
            headers: Headers::default(),
            body: Vec::new(),
        })),
    }
}

/// What [`ServerBuilder::handle`] made of a connection.
///
/// ```no_run
/// use rfc6455::{blocking::{Outcome, ServerBuilder}, Accept};
/// let (tcp, _) = std::net::TcpListener::bind("127.0.0.1:9001")?.accept()?;
/// match ServerBuilder::new().handle(tcp, |_| Ok(Accept::new()))? {
///     Outcome::WebSocket(ws) => println!("open: {:?}", ws.ready_state()),
///     Outcome::Answered { status, .. } => println!("answered {status}"),
///     _ => {}
/// }
/// # Ok::<(), rfc6455::Error>(())
/// ```
// Unboxed: an outcome is made and taken apart once per connection, and
// boxing the socket would cost every WebSocket an allocation for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<S> {
    /// The request was upgraded: an open WebSocket.
    WebSocket(WebSocket<S>),
    /// The request was answered with a plain HTTP response (a page, a
    /// redirect, a refusal), written and the connection shut down before
    /// this returns.
    Answered {
        /// The request that was answered.
        request: Request,
        /// The status it was answered with.
        status: u16,
    },
}

impl<S> Outcome<S> {
    /// The WebSocket, if the request was upgraded.
    ///
    /// ```no_run
    /// use rfc6455::{blocking::ServerBuilder, Accept};
    /// let (tcp, _) = std::net::TcpListener::bind("127.0.0.1:9001")?.accept()?;
    /// if let Some(ws) = ServerBuilder::new().handle(tcp, |_| Ok(Accept::new()))?.websocket() {
    ///     println!("{:?}", ws.ready_state());
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn websocket(self) -> Option<WebSocket<S>> {
        match self {
            Outcome::WebSocket(ws) => Some(ws),
            Outcome::Answered { .. } => None,
        }
    }
}

/// A place among the connections [`ServerBuilder::serve`] handles, given
/// back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(live: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        live.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot(Arc::clone(live)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The listener itself is unusable: nothing more will be accepted.
fn listener_failed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::NotConnected | io::ErrorKind::Unsupported
    )
}

/// The error was about one connection that is gone; the next accept may
/// well succeed at once.
fn concerns_one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
    )
}

/// Waits after a failure that more tries will not mend at once (out of file
/// descriptors, memory or threads), doubling the wait while it lasts, and
/// reports it at most once a second.
#[derive(Default)]
struct Backoff {
    wait: Duration,
    last_report: Option<Instant>,
    unreported: usize,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn reset(&mut self) {
        self.wait = Duration::ZERO;
    }

    fn wait(&mut self, what: &str, e: &io::Error) {
        let now = Instant::now();
        if self
            .last_report
            .is_none_or(|last| now - last >= Duration::from_secs(1))
        {
            let also = match self.unreported {
                0 => String::new(),
                n => format!(" ({n} more since the last report)"),
            };
            eprintln!("rfc6455 server: {what}: {e}{also}; backing off");
            self.last_report = Some(now);
            self.unreported = 0;
        } else {
            self.unreported += 1;
        }
        self.wait = (self.wait * 2).clamp(Self::FIRST, Self::MAX);
        thread::sleep(self.wait);
    }
}

/// Answers a connection over the cap with 503 and hands it to the linger
/// thread, which closes it once the peer has sent its request (or after
/// [`REFUSED_LINGER`]): closing a socket with unread input resets it, and
/// the peer could lose the 503.
fn refuse_busy(mut stream: TcpStream, linger: &mpsc::SyncSender<TcpStream>, tls: bool) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    // A TLS client would read a plaintext 503 as a broken handshake; it
    // gets only the end of the stream, without a thread or a handshake.
    if !tls {
        let _ = stream.write_all(BUSY_RESPONSE);
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // A full queue closes this one now: never block the accept loop.
    let _ = linger.try_send(stream);
}

fn spawn_linger() -> mpsc::SyncSender<TcpStream> {
    let (tx, rx) = mpsc::sync_channel::<TcpStream>(MAX_LINGERING);
    let spawned = thread::Builder::new()
        .name("rfc6455-refused".into())
        .spawn(move || linger(rx));
    if let Err(e) = spawned {
        eprintln!("rfc6455 server: cannot spawn the thread that closes refused connections: {e}");
    }
    tx
}

/// Reads and drops what refused peers send, closing each at its end of
/// stream or once it has lingered long enough.
fn linger(rx: mpsc::Receiver<TcpStream>) {
    let mut held: Vec<(TcpStream, Instant)> = Vec::new();
    let mut scratch = [0u8; 4096];
    loop {
        let next = if held.is_empty() {
            rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(Duration::from_millis(20))
        };
        match next {
            Ok(stream) => {
                if held.len() >= MAX_LINGERING {
                    held.remove(0);
                }
                held.push((stream, Instant::now() + REFUSED_LINGER));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) if held.is_empty() => return,
            Err(mpsc::RecvTimeoutError::Disconnected) => thread::sleep(Duration::from_millis(20)),
        }
        let now = Instant::now();
        held.retain_mut(|(stream, until)| {
            if now >= *until {
                return false;
            }
            loop {
                match stream.read(&mut scratch) {
                    Ok(0) => return false,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return false,
                }
            }
        });
    }
}
