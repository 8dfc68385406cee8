//! The stream under a WebSocket that this adapter's builders opened or
//! accepted: the transport as it came, or TLS over it (`wss://`, features
//! `tokio` and `tls`, through tokio-rustls with this crate's
//! `rfc6455::tls` configurations).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;

/// The stream under a WebSocket that [`connect`](super::connect),
/// [`ClientBuilder::connect`](super::ClientBuilder::connect) or
/// [`ServerBuilder`](super::ServerBuilder) made: the transport itself
/// (`ws://`), or TLS over it (`wss://`). The TLS streams are boxed, so a
/// plain one costs no more than its transport.
///
/// ```no_run
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let ws = rfc6455::tokio::connect("wss://example.com/").await?;
/// println!("TLS: {}, peer {:?}", ws.get_ref().is_tls(), ws.get_ref().get_ref().peer_addr());
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream<S = TcpStream> {
    /// The transport, no TLS.
    Plain(S),
    /// A client's TLS over the transport.
    #[cfg(feature = "tls")]
    ClientTls(Box<tokio_rustls::client::TlsStream<S>>),
    /// A server's TLS over the transport.
    #[cfg(feature = "tls")]
    ServerTls(Box<tokio_rustls::server::TlsStream<S>>),
}

impl<S> Stream<S> {
    /// The transport underneath (under TLS, if any).
    ///
    /// ```
    /// let (transport, _peer) = tokio::io::duplex(64);
    /// let stream = rfc6455::tokio::Stream::Plain(transport);
    /// let _transport: &tokio::io::DuplexStream = stream.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::ClientTls(s) => s.get_ref().0,
            #[cfg(feature = "tls")]
            Stream::ServerTls(s) => s.get_ref().0,
        }
    }

    /// Whether the stream runs TLS.
    ///
    /// ```
    /// let (transport, _peer) = tokio::io::duplex(64);
    /// assert!(!rfc6455::tokio::Stream::Plain(transport).is_tls());
    /// ```
    pub fn is_tls(&self) -> bool {
        !matches!(self, Stream::Plain(_))
    }
}

/// Each method passes to the stream inside, whichever it is.
macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => $e,
            #[cfg(feature = "tls")]
            Stream::ClientTls($s) => $e,
            #[cfg(feature = "tls")]
            Stream::ServerTls($s) => $e,
        }
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::ClientTls(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::ServerTls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
