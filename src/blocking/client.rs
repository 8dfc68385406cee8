//! Opening a client connection.

use std::net::{TcpStream, ToSocketAddrs};
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::blocking::deadlines::{stream_timeout_setters, DEFAULT_WRITE_TIMEOUT};
use crate::blocking::proxy::Proxy;
use crate::blocking::socket::WebSocket;
use crate::blocking::{Stream, Transport};
use crate::settings::{request_setters, timeout_setters, Target, Timeouts};
use crate::{ClientRequest, Config, Connection, Error, Event};

/// Connects to a `ws://` or `wss://` URL with default settings: for
/// `wss://`, TLS verified against Mozilla's roots (see `rfc6455::tls`).
///
/// ```no_run
/// let mut ws = rfc6455::blocking::connect("wss://echo.websocket.org/")?;
/// ws.send_text("hello")?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn connect(url: &str) -> Result<WebSocket<Stream>, Error> {
    ClientBuilder::new(url).connect()
}

/// Settings for a client connection: subprotocols, `Origin`, extra headers,
/// timeouts and limits, TLS, and an HTTP proxy.
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
    target: Target,
    config: Config,
    connect_timeout: Option<Duration>,
    timeouts: Timeouts,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// The proxy to tunnel through, or why its URL is unusable (reported
    /// on connect).
    proxy: Option<Result<Proxy, String>>,
    #[cfg(feature = "tls")]
    tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl ClientBuilder {
    /// Settings for connecting to `url` (checked when connecting).
    pub fn new(url: impl Into<String>) -> Self {
        ClientBuilder {
            target: Target::new(url.into()),
            config: Config::default(),
            connect_timeout: None,
            timeouts: Timeouts::default(),
            read_timeout: None,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            proxy: None,
            #[cfg(feature = "tls")]
            tls_config: None,
        }
    }

    /// Limits and behaviour of the connection, permessage-deflate among
    /// them (`Config::deflate`, feature `deflate`: offered by default).
    ///
    /// ```
    /// let client = rfc6455::blocking::ClientBuilder::new("ws://127.0.0.1:9001/").config(rfc6455::Config {
    ///     max_message_size: 1 << 20,
    ///     ..Default::default()
    /// });
    /// # let _ = client;
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    request_setters!("rfc6455::blocking::ClientBuilder::new(\"ws://127.0.0.1:9001/\")");

    timeout_setters!("rfc6455::blocking::ClientBuilder::new(\"ws://127.0.0.1:9001/\")");
    stream_timeout_setters!("rfc6455::blocking::ClientBuilder::new(\"ws://127.0.0.1:9001/\")");

    /// Bounds the TCP connect (default: the system's).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long to wait for the server to close TCP after the close
    /// handshake (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.close = timeout;
        self
    }

    /// The TLS configuration for `wss://` (default:
    /// [`tls::client_config`](crate::tls::client_config), Mozilla's roots):
    /// a private CA, client certificates, pinning. Set its ALPN to
    /// `http/1.1` as the default does.
    ///
    /// ```no_run
    /// let tls = rfc6455::tls::client_config_with_ca_pem("my-ca.pem")?;
    /// let ws = rfc6455::blocking::ClientBuilder::new("wss://internal.example:8443/")
    ///     .tls_config(tls)
    ///     .connect()?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls_config = Some(config);
        self
    }

    /// Connects through an HTTP proxy, `http://[user:password@]host[:port]`
    /// (credentials percent-encoded, sent as Basic), with `CONNECT`; TLS
    /// and the WebSocket handshake then run through the tunnel. A proxy's
    /// refusal fails with [`Error::Proxy`] carrying its status.
    ///
    /// ```no_run
    /// let ws = rfc6455::blocking::ClientBuilder::new("wss://example.com/socket")
    ///     .proxy("http://alice:s3cret@proxy.internal:3128")
    ///     .connect()?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(Proxy::parse(url));
        self
    }

    /// Uses the proxy the environment names, if any: `HTTPS_PROXY` for
    /// `wss://`, `HTTP_PROXY` for `ws://` (upper or lower case), unless
    /// `NO_PROXY` lists the host (a name covers its subdomains; `*` all).
    /// Never done unless asked for.
    ///
    /// ```no_run
    /// let ws = rfc6455::blocking::ClientBuilder::new("wss://example.com/")
    ///     .proxy_from_env()
    ///     .connect()?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn proxy_from_env(mut self) -> Self {
        if let Some(request) = self.target.request_ref() {
            self.proxy = Proxy::from_env(request.is_secure(), request.host());
        }
        self
    }

    /// Opens the TCP connection (through the proxy, if one is set), then
    /// for `wss://` the TLS session, and performs the handshake, all of it
    /// after the TCP connect bounded by the handshake timeout.
    ///
    /// Fails with [`Error::Tls`] when TLS does (an untrusted or expired
    /// certificate, a name mismatch), [`Error::Proxy`] when the proxy
    /// refuses, and [`HandshakeError::Rejected`](crate::handshake::HandshakeError::Rejected)
    /// carrying the server's status, headers and body (at most
    /// [`MAX_REJECTED_BODY`](crate::handshake::MAX_REJECTED_BODY) bytes,
    /// read per `Content-Length` or until the server closes, within the
    /// handshake timeout) when it refuses. On success the 101 response is
    /// kept: [`WebSocket::response`]. Without
    /// the `tls` feature, a `wss://` URL fails with [`Error::TlsNotEnabled`].
    ///
    /// Every error names the URL: [`Error::Timeout`] and
    /// [`Error::Handshake`] carry it ([`Error::url`]), an I/O error's or a
    /// proxy's message says it, a TLS error names the host.
    ///
    /// ```
    /// // A listener that accepts and never answers.
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let url = format!("ws://{}/chat", listener.local_addr()?);
    /// let err = rfc6455::blocking::ClientBuilder::new(url.as_str())
    ///     .handshake_timeout(std::time::Duration::from_millis(50))
    ///     .connect()
    ///     .unwrap_err();
    /// assert_eq!(err.url(), Some(url.as_str()));
    /// assert_eq!(err.to_string(), format!("timed out: opening handshake with {url}"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self) -> Result<WebSocket<Stream>, Error> {
        self.try_connect().map_err(|e| self.target.naming_url(e))
    }

    fn try_connect(&self) -> Result<WebSocket<Stream>, Error> {
        let request = self.target.request()?;
        if request.is_secure() && !cfg!(feature = "tls") {
            return Err(Error::TlsNotEnabled);
        }
        let proxy = self.proxy.clone().transpose().map_err(Error::InvalidUrl)?;
        let mut stream = match &proxy {
            Some(proxy) => self.tcp_connect(proxy.host(), proxy.port())?,
            None => self.tcp_connect(request.host(), request.port())?,
        };
        stream.set_nodelay(true)?;
        let deadline = Instant::now() + self.timeouts.handshake;
        if let Some(proxy) = &proxy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::timeout("opening handshake (proxy CONNECT)"));
            }
            stream.set_read_timeout(Some(left))?;
            stream.set_write_timeout(Some(left))?;
            proxy.tunnel(&mut stream, request.host(), request.port())?;
        }
        let stream = if request.is_secure() {
            self.tls_handshake(stream, request.host(), deadline)?
        } else {
            Stream::Plain(stream)
        };
        self.handshake(stream, request, deadline)
    }

    #[cfg(feature = "tls")]
    fn tls_handshake(
        &self,
        tcp: TcpStream,
        host: &str,
        deadline: Instant,
    ) -> Result<Stream, Error> {
        let config = self
            .tls_config
            .clone()
            .unwrap_or_else(crate::tls::client_config);
        let name = crate::tls::server_name(host)?;
        let conn = rustls::ClientConnection::new(config, name)
            .map_err(|e| crate::tls::handshake_error(host, std::io::Error::other(e)))?;
        crate::blocking::stream::complete_tls_handshake(conn, tcp, host, deadline)
            .map(Stream::ClientTls)
    }

    #[cfg(not(feature = "tls"))]
    fn tls_handshake(&self, _: TcpStream, _: &str, _: Instant) -> Result<Stream, Error> {
        Err(Error::TlsNotEnabled)
    }

    fn tcp_connect(&self, host: &str, port: u16) -> Result<TcpStream, Error> {
        let addrs = (host, port).to_socket_addrs()?;
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
        match (stream, last_error) {
            (Some(s), _) => Ok(s),
            (None, Some(e)) => Err(e.into()),
            (None, None) => Err(Error::InvalidUrl(format!(
                "{}: no address",
                self.target.url
            ))),
        }
    }

    /// Performs the WebSocket handshake over a stream that is already
    /// connected (a TLS stream set up by the caller, a Unix socket, a
    /// wrapper). Every timeout of the builder holds through the stream's
    /// [`Transport`] methods; a stream that cannot time out fails with
    /// [`Error::CannotTimeOut`].
    ///
    /// ```no_run
    /// let tcp = std::net::TcpStream::connect("127.0.0.1:9001")?;
    /// let ws = rfc6455::blocking::ClientBuilder::new("ws://127.0.0.1:9001/").connect_on(tcp)?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn connect_on<S: Transport>(&self, stream: S) -> Result<WebSocket<S>, Error> {
        let request = self.target.request()?;
        let deadline = Instant::now() + self.timeouts.handshake;
        self.handshake(stream, request, deadline)
            .map_err(|e| self.target.naming_url(e))
    }

    fn handshake<S: Transport>(
        &self,
        stream: S,
        request: ClientRequest,
        deadline: Instant,
    ) -> Result<WebSocket<S>, Error> {
        let conn = Connection::client(request, self.config.clone())?;
        let mut ws = WebSocket::from_connection(stream, conn);
        ws.set_url(self.target.url.clone());
        ws.set_close_timeout(self.timeouts.close);
        let response = loop {
            if let Event::Open(response) = ws.handshake_event(deadline)? {
                break response;
            }
        };
        ws.set_response(response);
        ws.opened(self.read_timeout, self.write_timeout, &self.timeouts)?;
        Ok(ws)
    }
}
