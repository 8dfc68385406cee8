//! A WebSocket split into a reader that one thread blocks in and a sender
//! that any thread writes through.
//!
//! The connection and the write side of the stream sit behind one mutex.
//! The reader waits for input on a clone of the socket *without* the lock,
//! and takes it only to hand over bytes that arrived and to take events
//! out; a sender takes it to queue a message and write it. So a reader
//! blocked in a read never holds up a sender, and `buffered_amount` and the
//! outgoing cap (`Config::max_buffered_amount`) stay those of the one
//! connection.
//!
//! A sender's write that the peer does not take at once holds the lock,
//! and the peer may be waiting for us to read before it reads again (both
//! ends sending large messages). So the reader never waits for the lock to
//! go on reading: while a sender holds it, what arrives is kept aside (up
//! to a message's worth, see [`Reader`]) and handed over once the lock is
//! free, in order.

mod reader;
mod sender;

pub use reader::Reader;
pub use sender::Sender;

use std::io;
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use crate::blocking::deadlines::write_queued;
use crate::blocking::{Stream, Transport, WebSocket};
use crate::{Connection, Error, ReadyState};

/// How much one read of the reader takes from the socket.
const READ_CHUNK: usize = 64 * 1024;

/// How long the reader waits for input while it holds bytes a sender's
/// write kept it from handing over, before it tries the lock again.
const HANDOVER_RETRY: Duration = Duration::from_millis(5);

/// The most the reader keeps aside while a sender writes, whatever the
/// message limit: past it, the reader waits for the lock.
const MAX_KEPT_ASIDE: usize = 64 << 20;

/// A stream a [`WebSocket`](super::WebSocket) can be
/// [split](super::WebSocket::split) over: one that yields a second handle
/// to read from while the first one writes.
///
/// Implemented for [`TcpStream`], [`Stream`] and [`TlsStream`](super::TlsStream)
/// over a splittable stream. TLS reads its records from the read handle
/// without a lock and decrypts them under the lock the senders write under,
/// since its session (keys, sequence numbers) serves both directions.
///
/// ```no_run
/// use rfc6455::blocking::Split;
/// let tcp = std::net::TcpStream::connect("127.0.0.1:9001")?;
/// let reader = tcp.read_handle()?; // the same socket
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Split: Transport {
    /// The handle the reader reads from.
    type Reader: Transport;

    /// A second handle on the same stream, for reading only.
    ///
    /// ```no_run
    /// use rfc6455::blocking::Split;
    /// let tcp = std::net::TcpStream::connect("127.0.0.1:9001")?;
    /// let reader = tcp.read_handle()?;
    /// assert_eq!(reader.peer_addr()?, tcp.peer_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn read_handle(&self) -> io::Result<Self::Reader>;

    /// Turns bytes read from the read handle into the stream's data, handed
    /// to `data` (for TLS: decrypts them, and also passes on what was read
    /// ahead before the split). Returns whether the stream ended (TLS
    /// `close_notify`). The default passes the bytes through as they are.
    ///
    /// ```
    /// use rfc6455::blocking::Split;
    /// # fn f(tcp: &mut std::net::TcpStream) -> std::io::Result<()> {
    /// let mut got = Vec::new();
    /// let ended = tcp.decode(b"raw", &mut |data| got.extend_from_slice(data))?;
    /// assert_eq!((got.as_slice(), ended), (&b"raw"[..], false));
    /// # Ok(()) }
    /// ```
    fn decode(&mut self, raw: &[u8], data: &mut dyn FnMut(&[u8])) -> io::Result<bool> {
        data(raw);
        Ok(false)
    }
}

impl Split for TcpStream {
    type Reader = TcpStream;

    fn read_handle(&self) -> io::Result<TcpStream> {
        self.try_clone()
    }
}

impl Split for Stream {
    type Reader = TcpStream;

    fn read_handle(&self) -> io::Result<TcpStream> {
        self.tcp().try_clone()
    }

    fn decode(&mut self, raw: &[u8], data: &mut dyn FnMut(&[u8])) -> io::Result<bool> {
        match self {
            Stream::Plain(_) => {
                data(raw);
                Ok(false)
            }
            #[cfg(feature = "tls")]
            Stream::ClientTls(tls) => tls.decode_records(raw, data),
            #[cfg(feature = "tls")]
            Stream::ServerTls(tls) => tls.decode_records(raw, data),
        }
    }
}

/// What the reader and the senders share.
struct Shared<S> {
    conn: Connection,
    stream: S,
    /// Set once the reader has ended the connection (a close, an abnormal
    /// end): the transport is shut, whatever the protocol state says.
    ended: bool,
    /// Input a sender handed over that the stream could not decode (TLS),
    /// for the reader to report.
    input_error: Option<Error>,
}

/// Input the reader read while a sender held the lock: whoever takes the
/// lock next hands it to the connection first.
type KeptAside = Arc<Mutex<Vec<u8>>>;

impl<S: Split> Shared<S> {
    /// Hands bytes read from the read handle to the connection, through the
    /// stream's decoding.
    fn decode(&mut self, raw: &[u8]) -> Result<(), Error> {
        let Shared { conn, stream, .. } = self;
        if stream.decode(raw, &mut |data| conn.receive(data))? {
            conn.receive_eof();
        }
        Ok(())
    }
}

impl<S: Transport> Shared<S> {
    /// Writes out everything queued, under the caller's lock. A split
    /// socket is an open one, on which a write timeout is set by default.
    fn flush(&mut self) -> Result<(), Error> {
        write_queued(&mut self.conn, &mut self.stream, true)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A sender that panicked mid-write leaves the connection as consistent
    // as a failed write does; the others carry on.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The lock, unless a sender holds it (it may be blocked in a write).
fn lock_unless_held<S>(shared: &Mutex<Shared<S>>) -> Option<MutexGuard<'_, Shared<S>>> {
    match shared.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

impl<S: Split> WebSocket<S> {
    /// Splits the socket into a [`Reader`] that one thread blocks in and a
    /// cloneable [`Sender`] that other threads write through, so a thread
    /// waiting for input never delays a send (see [`Split`] for the streams
    /// this works over: TCP, and TLS over TCP). Queued output, buffered
    /// input, the timeouts, heartbeat and message timeout carry over.
    ///
    /// ```no_run
    /// let ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// let (mut reader, sender) = ws.split()?;
    /// for i in 0..3 {
    ///     let sender = sender.clone();
    ///     std::thread::spawn(move || sender.send_text(&format!("from thread {i}")));
    /// }
    /// while let Some(message) = reader.recv()? {
    ///     println!("{message:?}");
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn split(self) -> Result<(Reader<S>, Sender<S>), Error> {
        if self.close_event().is_some() {
            return Err(Error::NotOpen(ReadyState::Closed));
        }
        let (stream, conn, mut deadlines) = self.into_parts();
        // The read handle's timeout is set before its first wait.
        deadlines.stream_read_timeout(None);
        let read = stream.read_handle()?;
        let role = conn.role();
        let max_kept_aside = conn
            .config()
            .max_message_size
            .saturating_add(READ_CHUNK)
            .min(MAX_KEPT_ASIDE);
        let mut shared = Shared {
            conn,
            stream,
            ended: false,
            input_error: None,
        };
        // What the stream read ahead before the split (TLS records past the
        // handshake) reaches the connection before anything read after it.
        shared.decode(&[])?;
        let shared = Arc::new(Mutex::new(shared));
        let reader = Reader {
            shared: Arc::clone(&shared),
            read,
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            kept_aside: KeptAside::default(),
            max_kept_aside,
            role,
            deadlines,
            close_event: None,
        };
        let sender = reader.sender();
        Ok((reader, sender))
    }
}

/// Hands the input kept aside while a sender held the lock to the
/// connection, under the connection's lock: the reader is the only one
/// that keeps input aside, in the order it read it, and hands over what
/// was kept before anything it reads later.
fn hand_over<S: Split>(kept: &Mutex<Vec<u8>>, shared: &mut Shared<S>) -> Result<(), Error> {
    let mut kept = lock(kept);
    if kept.is_empty() {
        return Ok(());
    }
    let result = shared.decode(&kept);
    kept.clear();
    if kept.capacity() > READ_CHUNK {
        // A burst kept aside does not stay allocated.
        *kept = Vec::new();
    }
    result
}
