//! The transports a blocking WebSocket runs over: what it needs from a
//! stream beyond `Read + Write` ([`Transport`]), and the stream a client or
//! server built here hands out ([`Stream`]: TCP, or TLS over TCP).

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// A stream the blocking adapter can put deadlines on: the handshake
/// timeout, read and write timeouts, the heartbeat and the close timeout
/// all work by setting the stream's timeouts, and ending a connection
/// shuts the stream down.
///
/// Implemented for [`TcpStream`], the TLS streams and [`Stream`]. A caller's
/// own stream (a wrapper around a `TcpStream`, a Unix socket) implements it
/// by passing the calls to the socket underneath. A stream that cannot time
/// out keeps the default methods, which report `Unsupported`: a handshake
/// over it then fails with [`Error::CannotTimeOut`](crate::Error::CannotTimeOut)
/// instead of silently waiting past its deadline.
///
/// ```
/// use std::io::{self, Read, Write};
/// use std::net::TcpStream;
/// use std::time::Duration;
///
/// /// Counts the bytes read from a TCP stream.
/// struct Counting { inner: TcpStream, read: u64 }
/// impl Read for Counting {
///     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
///         let n = self.inner.read(buf)?;
///         self.read += n as u64;
///         Ok(n)
///     }
/// }
/// impl Write for Counting {
///     fn write(&mut self, buf: &[u8]) -> io::Result<usize> { self.inner.write(buf) }
///     fn flush(&mut self) -> io::Result<()> { self.inner.flush() }
/// }
/// impl rfc6455::blocking::Transport for Counting {
///     fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
///         self.inner.set_read_timeout(t)
///     }
///     fn set_write_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
///         self.inner.set_write_timeout(t)
///     }
///     fn shutdown(&mut self) -> io::Result<()> {
///         self.inner.shutdown(std::net::Shutdown::Both)
///     }
/// }
/// ```
pub trait Transport: Read + Write {
    /// Makes reads fail with `WouldBlock` or `TimedOut` after `timeout`
    /// (`None`: block). The default cannot: it reports `Unsupported`.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Makes writes fail with `WouldBlock` or `TimedOut` after `timeout`
    /// (`None`: block). The default cannot: it reports `Unsupported`.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Ends the stream in both directions, so the peer sees its end. The
    /// default does nothing: dropping the stream is then what ends it.
    fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_write_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown()
    }
}

#[cfg(feature = "tls")]
impl<C, T, D> Transport for rustls::StreamOwned<C, T>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    T: Transport,
    D: rustls::SideData,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }

    /// Sends TLS `close_notify` (as far as the socket takes it without
    /// waiting), then shuts the socket down.
    fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock).is_err() {
                break;
            }
        }
        self.sock.shutdown()
    }
}

/// The stream under a WebSocket that [`connect`](super::connect),
/// [`ClientBuilder`](super::ClientBuilder) or
/// [`ServerBuilder`](super::ServerBuilder) opened: plain TCP (`ws://`, also
/// through a proxy's tunnel) or TLS over TCP (`wss://`).
///
/// ```no_run
/// let ws = rfc6455::blocking::connect("wss://example.com/")?;
/// println!("TLS: {}, peer {:?}", ws.get_ref().is_tls(), ws.get_ref().peer_addr());
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// A client's TLS over TCP.
    #[cfg(feature = "tls")]
    ClientTls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    /// A server's TLS over TCP.
    #[cfg(feature = "tls")]
    ServerTls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Stream {
    /// The TCP stream underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::ClientTls(s) => &s.sock,
            #[cfg(feature = "tls")]
            Stream::ServerTls(s) => &s.sock,
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().peer_addr()
    }

    /// Whether the stream runs TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Stream::Plain(_))
    }
}

/// Each method passes to the stream inside, whichever it is.
macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Stream::Plain($s) => $e,
            #[cfg(feature = "tls")]
            Stream::ClientTls($s) => $e,
            #[cfg(feature = "tls")]
            Stream::ServerTls($s) => $e,
        }
    };
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each!(self, s => s.read(buf))
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each!(self, s => s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each!(self, s => s.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        each!(self, s => s.flush())
    }
}

impl Transport for Stream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_write_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        each!(self, s => Transport::shutdown(s))
    }
}
