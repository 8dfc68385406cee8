//! Accepting server connections.

use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};

use crate::handshake::{HandshakeError, Headers};
use crate::settings::{timeout_setters, Timeouts};
use crate::tokio::socket::{handshake_event, WebSocket};
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
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ServerBuilder::new().accept(stream).await
}

/// Settings for accepting connections: limits and timeouts.
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

    /// Accepts any WebSocket request, with no subprotocol.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
    /// let (stream, _) = listener.accept().await?;
    /// let ws = rfc6455::tokio::ServerBuilder::new().accept(stream).await?;
    /// # Ok(()) }
    /// ```
    pub async fn accept<S>(&self, stream: S) -> Result<WebSocket<S>, Error>
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
    /// by the handshake timeout ([`Error::Timeout`]).
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
    pub async fn accept_with<S, F>(&self, stream: S, decide: F) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
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
                    ws.connection_mut().reject(reject).and(Err(Error::Handshake(
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
        match ::tokio::time::timeout(self.timeouts.handshake, handshake).await {
            Ok(result) => result?,
            Err(_) => return Err(Error::Timeout("opening handshake")),
        }
        ws.opened(&self.timeouts);
        Ok(ws)
    }
}
