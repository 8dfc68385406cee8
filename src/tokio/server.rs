//! Accepting server connections.

#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{timeout_at, Instant};

use crate::handshake::{HandshakeError, Headers};
use crate::settings::{timeout_setters, Timeouts};
use crate::tokio::socket::{handshake_event, WebSocket};
use crate::tokio::{Stream, DEFAULT_WRITE_TIMEOUT};
use crate::{Accept, Config, Connection, Error, Event, Reject, Request};

/// Accepts a WebSocket on a stream with default settings: any path, any
/// origin, no subprotocol. For TCP, `set_nodelay(true)` first: the socket
/// coalesces its writes itself.
///
/// ```no_run
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let (stream, _) = listener.accept().await?;
/// stream.set_nodelay(true)?;
/// let mut ws = rfc6455::tokio::accept(stream).await?;
/// while let Some(message) = ws.recv().await? {
///     ws.send(message).await?;
/// }
/// # Ok(()) }
/// ```
pub async fn accept<S>(stream: S) -> Result<WebSocket<Stream<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ServerBuilder::new().accept(stream).await
}

/// Settings for accepting connections: limits, timeouts, and TLS.
///
/// ```no_run
/// use rfc6455::{tokio::ServerBuilder, Accept, Reject};
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let server = ServerBuilder::new().handshake_timeout(std::time::Duration::from_secs(5));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let (stream, _) = listener.accept().await?;
/// let ws = server
///     .accept_with(stream, |request| {
///         if request.origin() != Some("https://example.com") {
///             return Err(Reject::new(403));
///         }
///         match request.protocols().find(|p| *p == "chat") {
///             Some(p) => Ok(Accept::new().protocol(p)),
///             None => Ok(Accept::new()),
///         }
///     })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    config: Config,
    timeouts: Timeouts,
    write_timeout: Option<Duration>,
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
    ///
    /// ```
    /// let server = rfc6455::tokio::ServerBuilder::new();
    /// ```
    pub fn new() -> Self {
        ServerBuilder {
            config: Config::default(),
            timeouts: Timeouts::default(),
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Limits and behaviour of each connection, permessage-deflate among
    /// them (`Config::deflate`, feature `deflate`: accepted by default).
    ///
    /// ```
    /// let server = rfc6455::tokio::ServerBuilder::new().config(rfc6455::Config {
    ///     max_message_size: 1 << 20,
    ///     ..Default::default()
    /// });
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    timeout_setters!("rfc6455::tokio::ServerBuilder::new()");

    write_timeout_setter!("rfc6455::tokio::ServerBuilder::new()");

    /// Bounds the end of a connection (default 5 s): the peer's close reply
    /// once this end sent its close, then the last writes.
    ///
    /// ```
    /// let server = rfc6455::tokio::ServerBuilder::new()
    ///     .close_timeout(std::time::Duration::from_secs(1));
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.close = timeout;
        self
    }

    /// Serves `wss://`: every accepted stream first runs a TLS handshake
    /// with this configuration, the blocking server's type (see
    /// [`tls::server_config_from_pem`](crate::tls::server_config_from_pem)),
    /// within the handshake timeout. A peer that sends plain HTTP or
    /// garbage fails with [`Error::Tls`]; one that stalls, with
    /// [`Error::Timeout`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let tls = rfc6455::tls::server_config_from_pem("cert.pem", "key.pem")?;
    /// let server = rfc6455::tokio::ServerBuilder::new().tls(tls);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
    /// let (stream, _) = listener.accept().await?;
    /// let ws = server.accept(stream).await?;
    /// assert!(ws.get_ref().is_tls());
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Accepts any WebSocket request, with no subprotocol.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
    /// let (stream, _) = listener.accept().await?;
    /// let ws = rfc6455::tokio::ServerBuilder::new().accept(stream).await?;
    /// # Ok(()) }
    /// ```
    pub async fn accept<S>(&self, stream: S) -> Result<WebSocket<Stream<S>>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with(stream, |_| Ok(Accept::new())).await
    }

    /// Lets `decide` inspect the request (path, `Origin`, subprotocols,
    /// headers) and accept it or answer it with a plain HTTP response. A
    /// `Reject` ends with [`HandshakeError::Rejected`] carrying its status.
    /// `decide` sees every well-formed HTTP request, including plain ones
    /// (`!request.is_websocket()`), so a server can serve a page; accepting
    /// a request that is not a valid upgrade answers 400 (426 for a wrong
    /// version) and fails with the reason. The whole exchange is bounded
    /// by the handshake timeout ([`Error::Timeout`]), TLS included.
    ///
    /// ```no_run
    /// use rfc6455::{Accept, Reject};
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
    /// let (stream, _) = listener.accept().await?;
    /// let ws = rfc6455::tokio::ServerBuilder::new()
    ///     .accept_with(stream, |request| match request.path() {
    ///         "/reject" => Err(Reject::new(403)),
    ///         _ => Ok(Accept::new()),
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn accept_with<S, F>(
        &self,
        stream: S,
        decide: F,
    ) -> Result<WebSocket<Stream<S>>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let deadline = Instant::now() + self.timeouts.handshake;
        let stream = match timeout_at(deadline, self.tls_handshake(stream)).await {
            Ok(stream) => stream?,
            Err(_) => return Err(Error::timeout("opening handshake (TLS)")),
        };
        let mut ws = WebSocket::from_connection(stream, Connection::server(self.config.clone()));
        let handshake = async {
            let request = loop {
                if let Event::Request(request) = handshake_event(&mut ws).await? {
                    break request;
                }
            };
            let result = match decide(&request) {
                Ok(accept) => ws.connection_mut().accept(accept),
                Err(reject) => {
                    let status = reject.status();
                    ws.connection_mut().reject(reject).and(Err(Error::from(
                        HandshakeError::Rejected {
                            status,
                            headers: Headers::default(),
                            body: Vec::new(),
                        },
                    )))
                }
            };
            let flushed = ws.flush().await;
            result?;
            flushed
        };
        match timeout_at(deadline, handshake).await {
            Ok(result) => result?,
            Err(_) => return Err(Error::timeout("opening handshake")),
        }
        ws.opened(&self.timeouts, self.write_timeout);
        Ok(ws)
    }

    #[cfg(feature = "tls")]
    async fn tls_handshake<S>(&self, stream: S) -> Result<Stream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(config) = &self.tls else {
            return Ok(Stream::Plain(stream));
        };
        // Boxed: inline, the handshake's state (a whole rustls connection)
        // would widen every connection task's future, TLS or not, for its
        // whole life.
        let accepting =
            Box::pin(tokio_rustls::TlsAcceptor::from(Arc::clone(config)).accept(stream));
        let tls = accepting
            .await
            .map_err(|e| crate::tls::handshake_error("client", e))?;
        Ok(Stream::ServerTls(Box::new(tls)))
    }

    #[cfg(not(feature = "tls"))]
    async fn tls_handshake<S>(&self, stream: S) -> Result<Stream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        Ok(Stream::Plain(stream))
    }
}
