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

/// How much of the socket one read takes in while data streams in (the
/// last read filled the buffer), for rustls to take its records from:
/// rustls itself asks for a few KiB at a time.
#[cfg(feature = "tls")]
const TLS_READ_AHEAD: usize = 64 * 1024;
/// The read buffer otherwise, so that an idle or chatty connection holds
/// no more than rustls' own reads would.
#[cfg(feature = "tls")]
const TLS_READ_SMALL: usize = 4 * 1024;

/// TLS over a [`Transport`], driving a rustls connection so that the
/// transport's timeouts hold: a read waits only for input and a write only
/// for the transport to take output (rustls' own `StreamOwned` may wait for
/// input inside a write, past a write timeout). While data streams in,
/// reads take the socket in large pieces.
///
/// A client or server built here makes these itself; build one to run TLS
/// over a stream of your own and hand it to
/// [`ClientBuilder::connect_on`](super::ClientBuilder::connect_on) or
/// [`ServerBuilder::accept_stream`](super::ServerBuilder::accept_stream)
/// (the TLS handshake then runs within the WebSocket handshake's deadline).
///
/// ```no_run
/// use rfc6455::blocking::{ClientBuilder, TlsStream};
/// use rfc6455::tls::rustls::{pki_types::ServerName, ClientConnection};
/// let tcp = std::net::TcpStream::connect("127.0.0.1:9443")?;
/// let name = ServerName::try_from("localhost").unwrap();
/// let conn = ClientConnection::new(rfc6455::tls::client_config(), name).unwrap();
/// let ws = ClientBuilder::new("wss://localhost:9443/").connect_on(TlsStream::new(conn, tcp))?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[cfg(feature = "tls")]
pub struct TlsStream<C, S = TcpStream> {
    conn: C,
    sock: S,
    /// Bytes read from the socket that rustls has not taken yet.
    input: Box<[u8]>,
    input_start: usize,
    input_end: usize,
    /// A write failure after rustls took the bytes: reported by the next
    /// write or flush, since the one that hit it had already succeeded.
    write_error: Option<io::Error>,
    /// The read timeout set through [`Transport`]: one `read` may take
    /// several socket reads (a record arriving in pieces), and a peer
    /// sending a byte at a time must not stretch it past this.
    read_timeout: Option<Duration>,
}

#[cfg(feature = "tls")]
impl<C, S> std::fmt::Debug for TlsStream<C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream").finish_non_exhaustive()
    }
}

#[cfg(feature = "tls")]
impl<C, S, D> TlsStream<C, S>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    S: Transport,
    D: rustls::SideData,
{
    /// TLS over `sock` with the connection `conn` (its handshake done or
    /// not: reads and writes drive what remains).
    pub fn new(conn: C, sock: S) -> Self {
        TlsStream {
            conn,
            sock,
            input: Box::new([]),
            input_start: 0,
            input_end: 0,
            write_error: None,
            read_timeout: None,
        }
    }

    /// The rustls connection (negotiated version, ALPN, peer certificates).
    pub fn connection(&self) -> &C {
        &self.conn
    }

    /// The transport underneath.
    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// Writes out every TLS record rustls has queued.
    fn write_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Hands rustls more TLS input, reading the socket when none is left
    /// over, and processes it.
    fn read_records(&mut self) -> io::Result<()> {
        if self.input_start == self.input_end {
            // Nothing is left in the buffer, so it can change size: large
            // after a read that would have filled the small one, small
            // otherwise.
            let size = if self.input_end >= TLS_READ_SMALL {
                TLS_READ_AHEAD
            } else {
                TLS_READ_SMALL
            };
            if self.input.len() != size {
                self.input = vec![0; size].into_boxed_slice();
            }
            (self.input_start, self.input_end) = (0, 0);
            self.input_end = self.sock.read(&mut self.input)?;
            let n = self.input_end;
            if n == 0 {
                // The end of the stream: rustls records it as such.
                self.conn.read_tls(&mut io::empty())?;
            }
        }
        if self.input_start < self.input_end {
            let mut rest = &self.input[self.input_start..self.input_end];
            let before = rest.len();
            self.conn.read_tls(&mut rest)?;
            self.input_start += before - rest.len();
        }
        if let Err(e) = self.conn.process_new_packets() {
            // The alert that says why, as far as the socket takes it.
            let _ = self.conn.write_tls(&mut self.sock);
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        // Handshake messages, key updates: what processing queued.
        self.write_records()
    }
}

#[cfg(feature = "tls")]
impl<C, S, D> TlsStream<C, S>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    S: Transport,
    D: rustls::SideData,
{
    /// Decrypts TLS input read elsewhere (by a split socket's reader), after
    /// what this stream had read ahead; hands the plaintext to `data`.
    /// Returns whether the peer sent `close_notify`.
    pub(crate) fn decode_records(
        &mut self,
        raw: &[u8],
        data: &mut dyn FnMut(&[u8]),
    ) -> io::Result<bool> {
        let input = std::mem::take(&mut self.input);
        let ahead = &input[self.input_start..self.input_end];
        (self.input_start, self.input_end) = (0, 0);
        let mut ended = false;
        for mut rest in [ahead, raw] {
            loop {
                ended |= self.take_plaintext(data)?;
                if rest.is_empty() {
                    break;
                }
                if self.conn.read_tls(&mut rest)? == 0 {
                    // Unreachable while `rest` holds bytes; never drop them.
                    return Err(io::Error::other("rustls took no TLS input"));
                }
                if let Err(e) = self.conn.process_new_packets() {
                    let _ = self.conn.write_tls(&mut self.sock);
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
                self.write_records()?;
            }
        }
        self.input = input;
        Ok(ended)
    }

    /// Hands over the plaintext rustls holds; whether `close_notify` came.
    fn take_plaintext(&mut self, data: &mut dyn FnMut(&[u8])) -> io::Result<bool> {
        let mut plain = [0u8; 16 * 1024];
        loop {
            match self.conn.reader().read(&mut plain) {
                Ok(0) => return Ok(true),
                Ok(n) => data(&plain[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(feature = "tls")]
impl<C, S, D> super::Split for TlsStream<C, S>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    S: super::Split,
    D: rustls::SideData,
{
    type Reader = S::Reader;

    fn read_handle(&self) -> io::Result<S::Reader> {
        self.sock.read_handle()
    }

    fn decode(&mut self, raw: &[u8], data: &mut dyn FnMut(&[u8])) -> io::Result<bool> {
        self.decode_records(raw, data)
    }
}

#[cfg(feature = "tls")]
impl<C, S, D> Read for TlsStream<C, S>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    S: Transport,
    D: rustls::SideData,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.read_timeout.map(|t| std::time::Instant::now() + t);
        loop {
            match self.conn.reader().read(buf) {
                // Rustls says "no plaintext yet" with WouldBlock. Each socket
                // read waits at most the timeout; the deadline bounds them
                // all (what arrived stays with rustls for the next read).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    self.read_records()?
                }
                done => return done,
            }
        }
    }
}

#[cfg(feature = "tls")]
impl<C, S, D> Write for TlsStream<C, S>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    S: Transport,
    D: rustls::SideData,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        // Earlier records first: a timeout here takes nothing of `bufs`.
        self.write_records()?;
        let n = self.conn.writer().write_vectored(bufs)?;
        if let Err(e) = self.write_records() {
            self.write_error = Some(e);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        self.write_records()?;
        self.sock.flush()
    }
}

#[cfg(feature = "tls")]
impl<C, S, D> Transport for TlsStream<C, S>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    S: Transport,
    D: rustls::SideData,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)?;
        self.read_timeout = timeout;
        Ok(())
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }

    /// Sends TLS `close_notify` (as far as the socket takes it), then shuts
    /// the transport down.
    fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        let _ = self.write_records();
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
    ClientTls(Box<TlsStream<rustls::ClientConnection>>),
    /// A server's TLS over TCP.
    #[cfg(feature = "tls")]
    ServerTls(Box<TlsStream<rustls::ServerConnection>>),
}

impl Stream {
    /// The TCP stream underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::ClientTls(s) => s.get_ref(),
            #[cfg(feature = "tls")]
            Stream::ServerTls(s) => s.get_ref(),
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
    // Through the TLS stream, not straight to the socket: a TLS read may
    // take several socket reads, which its own deadline bounds.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => Transport::set_read_timeout(s, timeout))
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => Transport::set_write_timeout(s, timeout))
    }

    fn shutdown(&mut self) -> io::Result<()> {
        each!(self, s => Transport::shutdown(s))
    }
}

#[cfg(feature = "tls")]
use crate::Error;
#[cfg(feature = "tls")]
use crate::{TlsError, TlsErrorKind};

/// Runs a TLS handshake on `tcp` to its end, bounded by `deadline` (reads
/// and writes alike), and returns the stream ready for application data.
#[cfg(feature = "tls")]
pub(crate) fn complete_tls_handshake<C, D>(
    mut conn: C,
    mut tcp: TcpStream,
    peer: &str,
    deadline: std::time::Instant,
) -> Result<Box<TlsStream<C>>, Error>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
{
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(Error::timeout("opening handshake (TLS)"));
        }
        tcp.set_read_timeout(Some(left))?;
        tcp.set_write_timeout(Some(left))?;
        // rustls reads until the handshake needs no more: a peer sending a
        // byte at a time would get the whole `left` again for each one.
        let mut bounded = super::deadlines::UntilDeadline {
            inner: &mut tcp,
            deadline: Some(deadline),
        };
        match conn.complete_io(&mut bounded) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Error::timeout("opening handshake (TLS)"))
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(Error::Tls(TlsError::new(peer, TlsErrorKind::Closed, "")))
            }
            Err(e) => return Err(crate::tls::handshake_error(peer, e)),
        }
    }
    Ok(Box::new(TlsStream::new(conn, tcp)))
}
