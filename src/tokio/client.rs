//! Opening a client connection.

use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::net::TcpStream;

use crate::settings::{request_setters, timeout_setters, Target, Timeouts};
use crate::tokio::socket::{handshake_event, WebSocket};
use crate::{ClientRequest, Config, Connection, Error, Event};

/// Connects to a `ws://` URL with default settings.
///
/// ```no_run
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/chat").await?;
/// ws.send_text("hello").await?;
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    ClientBuilder::new(url).connect().await
}

/// Settings for a client connection: subprotocols, `Origin`, extra headers,
/// timeouts and limits.
///
/// ```no_run
/// use std::time::Duration;
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let ws = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/")
///     .protocol("chat")
///     .origin("http://localhost")
///     .header("Authorization", "Bearer token")
///     .connect_timeout(Duration::from_secs(3))
///     .connect()
///     .await?;
/// println!("subprotocol: {:?}", ws.protocol());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    target: Target,
    config: Config,
    connect_timeout: Option<Duration>,
    timeouts: Timeouts,
}

impl ClientBuilder {
    /// Settings for connecting to `url` (checked when connecting).
    ///
    /// ```
    /// let client = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        ClientBuilder {
            target: Target::new(url.into()),
            config: Config::default(),
            connect_timeout: None,
            timeouts: Timeouts::default(),
        }
    }

    /// Limits and behaviour of the connection, permessage-deflate among
    /// them (`Config::deflate`, feature `deflate`: offered by default).
    ///
    /// ```
    /// let client = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/")
    ///     .config(rfc6455::Config::default());
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    request_setters!("rfc6455::tokio::ClientBuilder::new(\"ws://127.0.0.1:9001/\")");

    timeout_setters!("rfc6455::tokio::ClientBuilder::new(\"ws://127.0.0.1:9001/\")");

    /// Bounds the TCP connect (default: the system's).
    ///
    /// ```
    /// let client = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/")
    ///     .connect_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Bounds the end of the connection (default 5 s): the server's close
    /// reply once this end sent its close, then the server's closing of
    /// TCP.
    ///
    /// ```
    /// let client = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/")
    ///     .close_timeout(std::time::Duration::from_secs(1));
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.close = timeout;
        self
    }

    /// Opens the TCP connection and performs the handshake. A `wss://` URL
    /// fails with [`Error::InvalidUrl`]: this adapter does not make TLS
    /// streams yet (run a TLS stream of your own, e.g. tokio-rustls, and
    /// hand it to [`connect_on`](Self::connect_on)). A server's refusal fails with
    /// [`HandshakeError::Rejected`](crate::handshake::HandshakeError::Rejected)
    /// carrying its status and headers.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let ws = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/").connect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<WebSocket<TcpStream>, Error> {
        let request = self.target.request()?;
        if request.is_secure() {
            return Err(Error::InvalidUrl(format!(
                "{}: the tokio adapter does not open TLS itself; connect a TLS stream and use connect_on",
                self.target.url
            )));
        }
        let connecting = TcpStream::connect((request.host(), request.port()));
        let stream = match self.connect_timeout {
            Some(limit) => match ::tokio::time::timeout(limit, connecting).await {
                Ok(stream) => stream?,
                Err(_) => return Err(Error::Timeout("TCP connect")),
            },
            None => connecting.await?,
        };
        stream.set_nodelay(true)?;
        self.handshake(stream, request).await
    }

    /// Performs the handshake over a stream that is already connected (a
    /// TLS stream, a Unix socket, an in-memory duplex).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let stream = tokio::net::TcpStream::connect("127.0.0.1:9001").await?;
    /// let ws = rfc6455::tokio::ClientBuilder::new("ws://127.0.0.1:9001/")
    ///     .connect_on(stream)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_on<S>(&self, stream: S) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let request = self.target.request()?;
        self.handshake(stream, request).await
    }

    async fn handshake<S>(&self, stream: S, request: ClientRequest) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let conn = Connection::client(request, self.config.clone())?;
        let mut ws = WebSocket::from_connection(stream, conn);
        ws.set_url(self.target.url.clone());
        let handshake = async {
            while !matches!(handshake_event(&mut ws).await?, Event::Open(_)) {}
            Ok::<(), Error>(())
        };
        match ::tokio::time::timeout(self.timeouts.handshake, handshake).await {
            Ok(result) => result?,
            Err(_) => return Err(Error::Timeout("opening handshake")),
        }
        ws.opened(&self.timeouts);
        Ok(ws)
    }
}
