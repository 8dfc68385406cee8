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

use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;
use std::time::Instant;

use crate::blocking::deadlines::{
    is_timeout, write_queued, Deadlines, Due, MESSAGE_TOO_SLOW, PING_UNANSWERED, READ_TIMED_OUT,
};
use crate::blocking::deadlines::{settle, Step};
use crate::blocking::{Stream, Transport, WebSocket};
use crate::{CloseCode, CloseEvent, Connection, Error, Event, Message, ReadyState, Role};

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

/// The sending half of a split [`WebSocket`](super::WebSocket): clone it
/// for each thread that sends. Each send queues its message and writes it
/// out before it returns, under a lock that the reader does not hold while
/// it waits for input. A write that the peer does not take at once holds
/// that lock, delaying other sends (up to the write timeout, 30 s by
/// default), but not the reader: it keeps what arrives aside until the
/// lock is free, so two ends that send each other large messages at once
/// both go on reading.
///
/// ```no_run
/// let ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
/// let (mut reader, sender) = ws.split()?;
/// let ticker = sender.clone();
/// std::thread::spawn(move || {
///     for i in 0.. {
///         if ticker.send_text(&format!("tick {i}")).is_err() {
///             break; // closed
///         }
///         std::thread::sleep(std::time::Duration::from_secs(1));
///     }
/// });
/// while let Some(message) = reader.recv()? {
///     println!("{message:?}");
/// }
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub struct Sender<S> {
    shared: Arc<Mutex<Shared<S>>>,
    kept_aside: KeptAside,
}

impl<S> Clone for Sender<S> {
    fn clone(&self) -> Self {
        Sender {
            shared: Arc::clone(&self.shared),
            kept_aside: Arc::clone(&self.kept_aside),
        }
    }
}

impl<S> std::fmt::Debug for Sender<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<S: Split> Sender<S> {
    fn with<R>(&self, f: impl FnOnce(&mut Shared<S>) -> Result<R, Error>) -> Result<R, Error> {
        let mut shared = lock(&self.shared);
        if shared.ended {
            return Err(Error::NotOpen(ReadyState::Closed));
        }
        // What the reader kept aside during the last write goes in now, so
        // that input cannot pile up while senders take turns at the lock.
        if let Err(e) = hand_over(&self.kept_aside, &mut shared) {
            shared.input_error.get_or_insert(e);
        }
        f(&mut shared)
    }

    /// Sends a text message and writes it out.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.send_text("hello")?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.with(|s| {
            s.conn.send_text(text)?;
            s.flush()
        })
    }

    /// Sends a binary message and writes it out.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.send_binary(&[1, 2, 3])?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.with(|s| {
            s.conn.send_binary(data)?;
            s.flush()
        })
    }

    /// Sends a message and writes it out.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.send(rfc6455::Message::from("hello"))?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.with(|s| {
            s.conn.send(message)?;
            s.flush()
        })
    }

    /// Queues a message without writing it: it goes out with the next
    /// send, [`flush`](Self::flush), or when the reader next takes in
    /// input (as `recv` on the unsplit socket writes what is queued). Fails with [`Error::BufferFull`] once
    /// the queue would pass `Config::max_buffered_amount`.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// for i in 0..10 {
    ///     sender.queue(format!("{i}"))?;
    /// }
    /// sender.flush()?; // one write for the ten
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn queue(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.with(|s| s.conn.send(message))
    }

    /// Writes out everything queued.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.queue("a")?;
    /// sender.flush()?;
    /// assert_eq!(sender.buffered_amount(), 0);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn flush(&self) -> Result<(), Error> {
        self.with(Shared::flush)
    }

    /// Sends a ping and writes it out; the reader consumes the pong.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.ping(b"are you there")?;
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.with(|s| {
            s.conn.ping(payload)?;
            s.flush()
        })
    }

    /// Starts the close handshake with any code valid on the wire that an
    /// endpoint may send (RFC 6455 section 7.4: 1000-1003, 1007-1014,
    /// 3000-4999). The reader's `recv` returns `Ok(None)` once the peer's
    /// close has arrived.
    ///
    /// ```no_run
    /// use rfc6455::CloseCode;
    /// let (mut reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.close(CloseCode::GOING_AWAY, "shutting down")?;
    /// while reader.recv()?.is_some() {}
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        let code = code.into();
        self.with(|s| {
            s.conn.close(code, reason)?;
            s.flush()
        })
    }

    /// Bytes accepted by a send but not yet written to the stream.
    ///
    /// ```no_run
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// sender.queue("hello")?;
    /// assert_eq!(sender.buffered_amount(), 2 + 4 + 5); // header, mask key, payload
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).conn.buffered_amount()
    }

    /// The state, as the browser's `readyState`.
    ///
    /// ```no_run
    /// use rfc6455::ReadyState;
    /// let (_reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// assert_eq!(sender.ready_state(), ReadyState::Open);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        let shared = lock(&self.shared);
        if shared.ended {
            ReadyState::Closed
        } else {
            shared.conn.ready_state()
        }
    }
}

/// The receiving half of a split [`WebSocket`](super::WebSocket): one
/// thread blocks in [`recv`](Self::recv) while others send through the
/// [`Sender`]. It answers pings, keeps the heartbeat and the message
/// timeout, and ends the connection as the unsplit socket does.
///
/// While a sender's write holds the connection, the reader goes on
/// reading and keeps what arrives aside (at most `max_message_size` and a
/// read's worth, and never more than 64 MiB; past that it waits for the
/// lock), handing it over in order once the write is done. Meanwhile its
/// clocks wait, and a read timeout counts from then.
///
/// ```no_run
/// let (mut reader, sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
/// std::thread::spawn(move || sender.send_text("from another thread"));
/// while let Some(message) = reader.recv()? {
///     println!("{message:?}");
/// }
/// println!("{:?}", reader.close_event());
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub struct Reader<S: Split> {
    shared: Arc<Mutex<Shared<S>>>,
    read: S::Reader,
    buf: Box<[u8]>,
    /// Input read while a sender held the lock, not yet handed over.
    kept_aside: KeptAside,
    /// How much may be kept aside: a whole message of the largest size the
    /// connection accepts (and its frame headers), up to [`MAX_KEPT_ASIDE`].
    max_kept_aside: usize,
    role: Role,
    deadlines: Deadlines,
    close_event: Option<CloseEvent>,
}

impl<S: Split> std::fmt::Debug for Reader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("role", &self.role)
            .field("close_event", &self.close_event)
            .finish_non_exhaustive()
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

impl<S: Split> Reader<S> {
    /// Another sender for this connection.
    ///
    /// ```no_run
    /// let (reader, _sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// let sender = reader.sender();
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn sender(&self) -> Sender<S> {
        Sender {
            shared: Arc::clone(&self.shared),
            kept_aside: Arc::clone(&self.kept_aside),
        }
    }

    /// How the connection ended, once it has.
    ///
    /// ```no_run
    /// let (mut reader, _sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// while reader.recv()?.is_some() {}
    /// println!("{:?}", reader.close_event());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.close_event.as_ref()
    }

    /// Receives the next message; pings are answered and pongs consumed on
    /// the way. `Ok(None)` once the connection has closed cleanly. A read
    /// timeout (if one was set) is [`Error::Timeout`] and loses nothing;
    /// any other error ends the connection.
    ///
    /// ```no_run
    /// let (mut reader, _sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// while let Some(message) = reader.recv()? {
    ///     println!("{message:?}");
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn recv(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match self.next_event()? {
                Some(Event::Message(message)) => return Ok(Some(message)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Receives the next event of any kind; `Ok(None)` once the connection
    /// has closed.
    ///
    /// ```no_run
    /// use rfc6455::Event;
    /// let (mut reader, _sender) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// while let Some(event) = reader.next_event()? {
    ///     if let Event::Pong(_) = event {
    ///         println!("pong");
    ///     }
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if self.close_event.is_some() {
                return Ok(None);
            }
            let Some(mut shared) = lock_unless_held(&self.shared) else {
                // A sender is writing: read on meanwhile.
                self.fill()?;
                continue;
            };
            let handed = hand_over(&self.kept_aside, &mut shared);
            if let Some(e) = shared.input_error.take().or(handed.err()) {
                drop(shared);
                self.mark_abnormal();
                return Err(e);
            }
            let result = shared.conn.next_event();
            // A pong answering a ping, a close reply, a failure's close
            // frame: out before anything else happens.
            let _ = shared.flush();
            let step = settle(result, shared.conn.ready_state());
            drop(shared);
            match step {
                Step::Deliver(result, end) => {
                    if let Some(end) = end {
                        self.finish(end);
                    }
                    return result;
                }
                Step::NeedInput => self.fill()?,
            }
        }
    }

    /// Acts on the clocks that are due, then waits for input without the
    /// lock and hands it over under it, or keeps it aside while a sender
    /// holds the lock.
    fn fill(&mut self) -> Result<(), Error> {
        let now = Instant::now();
        // While a sender writes, the clocks wait for the lock: that write is
        // bounded by the write timeout.
        let in_progress = lock_unless_held(&self.shared).map(|s| s.conn.message_in_progress());
        let due = in_progress.map_or(Due::Nothing, |p| self.deadlines.check(now, p));
        match due {
            Due::MessageTooSlow => return Err(self.message_too_slow()),
            Due::PingUnanswered => {
                self.mark_abnormal();
                return Err(Error::Timeout(PING_UNANSWERED));
            }
            Due::Ping => {
                let sent = lock_unless_held(&self.shared).map(|mut shared| {
                    if shared.conn.ready_state() != ReadyState::Open {
                        return Ok(());
                    }
                    shared.conn.shrink_buffers();
                    shared.conn.ping(b"")?;
                    shared.flush()
                });
                match sent {
                    Some(Ok(())) => self.deadlines.pinged(now),
                    Some(Err(e)) => {
                        self.mark_abnormal();
                        return Err(e);
                    }
                    // A sender holds the lock: the ping goes at the next turn.
                    None => {}
                }
            }
            Due::Nothing => {}
        }
        // Input is waiting for the lock: look again soon, even if a sender
        // hands it over meanwhile.
        let polling = !lock(&self.kept_aside).is_empty();
        if polling {
            self.read
                .set_read_timeout(Some(HANDOVER_RETRY))
                .map_err(Error::Io)?;
            self.deadlines
                .stream_read_timeout(Some(Some(HANDOVER_RETRY)));
        } else if let Some(timeout) = self.deadlines.read_timeout_to_set(now) {
            self.read.set_read_timeout(timeout).map_err(Error::Io)?;
        }
        match self.read.read(&mut self.buf) {
            Ok(0) => self.end_of_input(),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => self.end_of_input(),
            Ok(n) => {
                self.deadlines.heard();
                let handed = match lock_unless_held(&self.shared) {
                    Some(mut shared) => hand_over(&self.kept_aside, &mut shared)
                        .and_then(|()| shared.decode(&self.buf[..n])),
                    None => {
                        let mut kept = lock(&self.kept_aside);
                        if kept.len() + n <= self.max_kept_aside {
                            kept.extend_from_slice(&self.buf[..n]);
                            Ok(())
                        } else {
                            // Past the bound, wait for the write to end.
                            drop(kept);
                            let mut shared = lock(&self.shared);
                            hand_over(&self.kept_aside, &mut shared)
                                .and_then(|()| shared.decode(&self.buf[..n]))
                        }
                    }
                };
                handed.inspect_err(|_| self.mark_abnormal())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            // A clock's turn, or the lock's: the next call acts on it.
            Err(e) if is_timeout(&e) && polling => Ok(()),
            Err(e) if is_timeout(&e) && self.deadlines.clock_due(Instant::now()) => Ok(()),
            Err(e) if is_timeout(&e) => Err(Error::Timeout(READ_TIMED_OUT)),
            Err(e) => {
                self.mark_abnormal();
                Err(e.into())
            }
        }
    }

    /// The peer ended its side: what was kept aside, then the end.
    fn end_of_input(&mut self) -> Result<(), Error> {
        let mut shared = lock(&self.shared);
        let handed = hand_over(&self.kept_aside, &mut shared);
        shared.conn.receive_eof();
        drop(shared);
        handed.inspect_err(|_| self.mark_abnormal())
    }

    fn message_too_slow(&mut self) -> Error {
        {
            let mut shared = lock(&self.shared);
            let _ = shared
                .conn
                .close(CloseCode::POLICY_VIOLATION, "message took too long");
            let _ = shared.flush();
        }
        if self.close_event.is_none() {
            self.close_event = Some(CloseEvent::abnormal(CloseCode::POLICY_VIOLATION));
            self.shut();
        }
        Error::Timeout(MESSAGE_TOO_SLOW)
    }

    fn mark_abnormal(&mut self) {
        if self.close_event.is_none() {
            self.close_event = Some(CloseEvent::abnormal(CloseCode::ABNORMAL));
            self.shut();
        }
    }

    /// Shuts the transport (both handles: they are one socket) and tells
    /// the senders.
    fn shut(&mut self) {
        let mut shared = lock(&self.shared);
        shared.ended = true;
        let _ = shared.stream.shutdown();
        drop(shared);
        let _ = self.read.shutdown();
    }

    /// Ends the connection as the unsplit socket does: the server closes
    /// the transport at once; a client first waits, bounded by the close
    /// timeout, for the server to close (section 7.1.1).
    fn finish(&mut self, event: CloseEvent) {
        self.close_event = Some(event);
        let _ = lock(&self.shared).flush();
        if self.role == Role::Client {
            let deadline = Instant::now() + self.deadlines.close_timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || self.read.set_read_timeout(Some(left)).is_err() {
                    break;
                }
                match self.read.read(&mut self.buf) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            self.deadlines.stream_read_timeout(None);
        }
        self.shut();
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
