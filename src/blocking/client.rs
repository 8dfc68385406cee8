//! Opening a client connection.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::blocking::socket::{
    StreamOps, WebSocket, DEFAULT_CLOSE_TIMEOUT, DEFAULT_HEARTBEAT, DEFAULT_MESSAGE_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
};
use crate::{ClientRequest, Config, Connection, Error, Event};

/// The default bound on the opening handshake.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to a `ws://` URL with default settings.
///
/// ```no_run
/// let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/chat")?;
/// ws.send_text("hello")?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn connect(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    ClientBuilder::new(url).connect()
}

/// Settings for a client connection: subprotocols, `Origin`, extra headers,
/// timeouts and limits.
///
/// ```no_run
/// use std::time::Duration;
/// let ws = rfc6455::blocking::ClientBuilder::new("ws://127.0.0.1:9001/")
///     .protocol("chat")
///     .origin("http://localhost")
///     .header("Authorization", "Bearer token")
///     .connect_timeout(Duration::from_secs(3))
///     .connect()?;
/// println!("subprotocol: {:?}", ws.protocol());
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    url: String,
    /// The request, or why the URL cannot make one (reported on connect).
    request: Result<ClientRequest, String>,
    config: Config,
    connect_timeout: Option<Duration>,
    handshake_timeout: Duration,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    close_timeout: Duration,
    heartbeat: Option<(Duration, Duration)>,
    message_timeout: Option<Duration>,
}

impl ClientBuilder {
    /// Settings for connecting to `url` (checked when connecting).
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        let request = ClientRequest::new(&url).map_err(|e| match e {
            Error::InvalidUrl(why) => why,
            other => other.to_string(),
        });
        ClientBuilder {
            url,
            request,
            config: Config::default(),
            connect_timeout: None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            read_timeout: None,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            heartbeat: DEFAULT_HEARTBEAT,
            message_timeout: DEFAULT_MESSAGE_TIMEOUT,
        }
    }

    /// Offers a subprotocol; call once per protocol, most preferred first.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.request = self.request.map(|r| r.protocol(protocol));
        self
    }

    /// Sends an `Origin` header.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.request = self.request.map(|r| r.origin(origin));
        self
    }

    /// Adds a header to the upgrade request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.request = self.request.map(|r| r.header(name, value));
        self
    }

    /// Limits and behaviour of the connection.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Bounds the TCP connect (default: the system's).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Bounds the opening handshake (default 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Detects a dead or idle peer: after `interval` without hearing from
    /// the peer, send a ping; if nothing arrives within `pong_timeout` of
    /// it, drop the connection (reported as 1006, `Error::Timeout`). A
    /// silent interval also releases buffers that grew for large messages.
    ///
    /// Default: on, 20 s and 20 s (as python-websockets), so a peer that
    /// vanished without a FIN or RST does not hold the connection forever.
    pub fn heartbeat(mut self, interval: Duration, pong_timeout: Duration) -> Self {
        self.heartbeat = Some((interval, pong_timeout));
        self
    }

    /// Turns the heartbeat off: an idle peer is then kept until the
    /// transport reports it gone (or the read timeout, if set, expires).
    pub fn no_heartbeat(mut self) -> Self {
        self.heartbeat = None;
        self
    }

    /// Bounds how long one message (a frame, or all fragments of one) may
    /// take to arrive once its first byte came; past it the connection is
    /// failed with 1008 and `recv` returns [`Error::Timeout`]. Default:
    /// 60 s, so a peer that trickles a large frame cannot hold the
    /// connection forever; `None` lifts the bound.
    pub fn message_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.message_timeout = timeout;
        self
    }

    /// A read timeout for `recv` once open (default: none).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// A write timeout for sends (default: 30 s): a server that stops
    /// reading cannot block a send forever. `None` waits as long as it
    /// takes.
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How long to wait for the server to close TCP after the close
    /// handshake (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    fn request(&self) -> Result<ClientRequest, Error> {
        self.request.clone().map_err(Error::InvalidUrl)
    }

    /// Opens the TCP connection and performs the handshake. A `wss://` URL
    /// fails with [`Error::TlsNotEnabled`]; a server's refusal fails with
    /// [`HandshakeError::Rejected`](crate::handshake::HandshakeError::Rejected) carrying its status and headers.
    pub fn connect(&self) -> Result<WebSocket<TcpStream>, Error> {
        let request = self.request()?;
        if request.is_secure() {
            return Err(Error::TlsNotEnabled);
        }
        let addrs = (request.host(), request.port()).to_socket_addrs()?;
        let mut last_error = None;
        let mut stream = None;
        for addr in addrs {
            let attempt = match self.connect_timeout {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let stream = match (stream, last_error) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => return Err(Error::InvalidUrl(format!("{}: no address", self.url))),
        };
        stream.set_nodelay(true)?;
        stream.set_write_timeout(self.write_timeout)?;
        self.handshake(stream, request, StreamOps::tcp())
    }

    /// Performs the handshake over a stream that is already connected (a
    /// TLS stream, a Unix socket, a test double). Timeouts other than the
    /// close timeout are then the stream's own business.
    pub fn connect_on<S: Read + Write>(&self, stream: S) -> Result<WebSocket<S>, Error> {
        let request = self.request()?;
        self.handshake(stream, request, StreamOps::generic())
    }

    fn handshake<S: Read + Write>(
        &self,
        stream: S,
        request: ClientRequest,
        ops: StreamOps<S>,
    ) -> Result<WebSocket<S>, Error> {
        let conn = Connection::client(request, self.config.clone())?;
        let mut ws = WebSocket::with_ops(stream, conn, ops);
        ws.set_url(self.url.clone());
        ws.set_timeouts(self.read_timeout, self.close_timeout);
        let deadline = Instant::now() + self.handshake_timeout;
        while !matches!(ws.handshake_event(deadline)?, Event::Open(_)) {}
        ws.opened(self.heartbeat, self.message_timeout);
        Ok(ws)
    }
}
