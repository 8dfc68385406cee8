//! Opening a client connection.

#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::net::TcpStream;
use ::tokio::time::{timeout_at, Instant};

use crate::settings::{request_setters, timeout_setters, Target, Timeouts};
use crate::tokio::socket::{handshake_event, WebSocket};
use crate::tokio::{Stream, DEFAULT_WRITE_TIMEOUT};
use crate::{ClientRequest, Config, Connection, Error, Event};

/// Connects to a `ws://` or `wss://` URL with default settings (for
/// `wss://`, the features `tokio` and `tls`, and Mozilla's roots).
///
/// ```no_run
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/chat").await?;
/// ws.send_text("hello").await?;
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<WebSocket<Stream>, Error> {
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
    write_timeout: Option<Duration>,
    #[cfg(feature = "tls")]
    tls_config: Option<Arc<rustls::ClientConfig>>,
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
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            #[cfg(feature = "tls")]
            tls_config: None,
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

    write_timeout_setter!("rfc6455::tokio::ClientBuilder::new(\"ws://127.0.0.1:9001/\")");

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

    /// The TLS configuration for `wss://` (default:
    /// [`tls::client_config`](crate::tls::client_config), Mozilla's roots),
    /// the same as the blocking client's: a private CA, client
    /// certificates, pinning. Set its ALPN to `http/1.1` as the default
    /// does.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let tls = rfc6455::tls::client_config_with_ca_pem("my-ca.pem")?;
    /// let ws = rfc6455::tokio::ClientBuilder::new("wss://internal.example:8443/")
    ///     .tls_config(tls)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls_config = Some(config);
        self
    }

    /// Opens the TCP connection, then for `wss://` the TLS session, and
    /// performs the handshake; after the TCP connect all of it is bounded
    /// by the handshake timeout. A server's refusal fails with
    /// [`HandshakeError::Rejected`](crate::handshake::HandshakeError::Rejected)
    /// carrying its status and headers; TLS's (an untrusted or expired
    /// certificate, a name mismatch) with [`Error::Tls`]. Without the `tls`
    /// feature, a `wss://` URL fails with [`Error::TlsNotEnabled`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let ws = rfc6455::tokio::ClientBuilder::new("wss://127.0.0.1:9443/").connect().await?;
    /// assert!(ws.get_ref().is_tls());
    /// # Ok(()) }
    /// ```
    ///
    /// Every error names the URL: [`Error::Timeout`] and
    /// [`Error::Handshake`] carry it ([`Error::url`]), an I/O error's
    /// message says it, a TLS error names the host.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// // A listener that accepts and never answers.
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let url = format!("ws://{}/chat", listener.local_addr()?);
    /// let err = rfc6455::tokio::ClientBuilder::new(url.as_str())
    ///     .handshake_timeout(std::time::Duration::from_millis(50))
    ///     .connect()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.url(), Some(url.as_str()));
    /// assert_eq!(err.to_string(), format!("timed out: opening handshake with {url}"));
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<WebSocket<Stream>, Error> {
        self.try_connect()
            .await
            .map_err(|e| self.target.naming_url(e))
    }

    async fn try_connect(&self) -> Result<WebSocket<Stream>, Error> {
        let request = self.target.request()?;
        if request.is_secure() && !cfg!(feature = "tls") {
            return Err(Error::TlsNotEnabled);
        }
        let connecting = TcpStream::connect((request.host(), request.port()));
        let stream = match self.connect_timeout {
            Some(limit) => match ::tokio::time::timeout(limit, connecting).await {
                Ok(stream) => stream?,
                Err(_) => return Err(Error::timeout("TCP connect")),
            },
            None => connecting.await?,
        };
        stream.set_nodelay(true)?;
        let deadline = Instant::now() + self.timeouts.handshake;
        let stream = if request.is_secure() {
            match timeout_at(deadline, self.tls_handshake(stream, request.host())).await {
                Ok(stream) => stream?,
                Err(_) => return Err(Error::timeout("opening handshake (TLS)")),
            }
        } else {
            Stream::Plain(stream)
        };
        self.handshake(stream, request, deadline).await
    }

    #[cfg(feature = "tls")]
    async fn tls_handshake(&self, tcp: TcpStream, host: &str) -> Result<Stream, Error> {
        let config = self
            .tls_config
            .clone()
            .unwrap_or_else(crate::tls::client_config);
        let name = crate::tls::server_name(host)?;
        // Boxed, as the server's: the handshake's state would otherwise
        // widen the caller's future for its whole life.
        let connecting = Box::pin(tokio_rustls::TlsConnector::from(config).connect(name, tcp));
        let tls = connecting
            .await
            .map_err(|e| crate::tls::handshake_error(host, e))?;
        Ok(Stream::ClientTls(Box::new(tls)))
    }

    #[cfg(not(feature = "tls"))]
    async fn tls_handshake(&self, _: TcpStream, _: &str) -> Result<Stream, Error> {
        Err(Error::TlsNotEnabled)
    }

    /// Performs the handshake over a stream that is already connected (a
    /// TLS stream, a Unix socket, an in-memory duplex); no TLS is added,
    /// whatever the URL's scheme.
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
        let deadline = Instant::now() + self.timeouts.handshake;
        self.handshake(stream, request, deadline)
            .await
            .map_err(|e| self.target.naming_url(e))
    }

    async fn handshake<S>(
        &self,
        stream: S,
        request: ClientRequest,
        deadline: Instant,
    ) -> Result<WebSocket<S>, Error>
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
        match timeout_at(deadline, handshake).await {
            Ok(result) => result?,
            Err(_) => return Err(Error::timeout("opening handshake")),
        }
        ws.opened(&self.timeouts, self.write_timeout);
        Ok(ws)
    }
}
