//! Accepting server connections.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::blocking::socket::{StreamOps, WebSocket, DEFAULT_CLOSE_TIMEOUT};
use crate::handshake::{HandshakeError, Headers};
use crate::{Accept, Config, Connection, Error, Event, Reject, Request};

/// The default bound on the opening handshake: a peer that never finishes
/// its request is cut off after it.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
pub fn accept(stream: TcpStream) -> Result<WebSocket<TcpStream>, Error> {
    ServerBuilder::new().accept(stream)
}

/// Settings for accepting connections: limits and timeouts.
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
    handshake_timeout: Duration,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    close_timeout: Duration,
    heartbeat: Option<(Duration, Duration)>,
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
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            read_timeout: None,
            write_timeout: None,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            heartbeat: None,
        }
    }

    /// Limits and behaviour of each connection.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Bounds the whole opening handshake (default 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Detects a dead or idle peer: after `interval` without hearing from
    /// the peer, send a ping; if nothing arrives within `pong_timeout` of
    /// it, drop the connection (reported as 1006, `Error::Timeout`).
    /// Needs a stream with read timeouts (TCP). Default: off.
    pub fn heartbeat(mut self, interval: Duration, pong_timeout: Duration) -> Self {
        self.heartbeat = Some((interval, pong_timeout));
        self
    }

    /// A read timeout for `recv` once open (default: none).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// A write timeout for sends (default: none). With one set, a peer that
    /// stops reading cannot block a send forever.
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Accepts any WebSocket request, with no subprotocol.
    pub fn accept(&self, stream: TcpStream) -> Result<WebSocket<TcpStream>, Error> {
        self.accept_with(stream, |_| Ok(Accept::new()))
    }

    /// Lets `decide` inspect the request (path, `Origin`, subprotocols,
    /// headers) and accept it or answer it with a plain HTTP response. A
    /// `Reject` ends with [`HandshakeError::Rejected`] carrying its status.
    /// `decide` sees every well-formed HTTP request, including plain ones
    /// (`!request.is_websocket()`), so a server can serve a page; accepting
    /// a request that is not a valid upgrade answers 400 (426 for a wrong
    /// version) and fails with the reason.
    pub fn accept_with<F>(
        &self,
        stream: TcpStream,
        decide: F,
    ) -> Result<WebSocket<TcpStream>, Error>
    where
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        stream.set_nodelay(true)?;
        stream.set_write_timeout(self.write_timeout)?;
        self.handshake(stream, StreamOps::tcp(), decide)
    }

    /// As [`accept_with`](Self::accept_with), over any stream. The
    /// handshake timeout applies only where the stream supports read
    /// timeouts (TCP); otherwise the stream's own timeouts apply.
    pub fn accept_stream<S, F>(&self, stream: S, decide: F) -> Result<WebSocket<S>, Error>
    where
        S: Read + Write,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        self.handshake(stream, StreamOps::generic(), decide)
    }

    fn handshake<S, F>(
        &self,
        stream: S,
        ops: StreamOps<S>,
        decide: F,
    ) -> Result<WebSocket<S>, Error>
    where
        S: Read + Write,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let mut ws = WebSocket::with_ops(stream, Connection::server(self.config.clone()), ops);
        ws.set_timeouts(self.read_timeout, self.close_timeout);
        let deadline = Instant::now() + self.handshake_timeout;
        let request = loop {
            if let Event::Request(request) = ws.handshake_event(deadline)? {
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
                    },
                )))
            }
        };
        let flushed = ws.flush();
        result?;
        flushed?;
        ws.opened(self.heartbeat);
        Ok(ws)
    }
}
