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

use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::blocking::deadlines::{
    is_timeout, write_queued, Deadlines, Due, MESSAGE_TOO_SLOW, PING_UNANSWERED, READ_TIMED_OUT,
};
use crate::blocking::deadlines::{settle, Step};
use crate::blocking::{Stream, Transport, WebSocket};
use crate::{CloseCode, CloseEvent, Connection, Error, Event, Message, ReadyState, Role};

/// How much one read of the reader takes from the socket.
const READ_CHUNK: usize = 64 * 1024;

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
}

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

fn lock<S>(shared: &Mutex<Shared<S>>) -> MutexGuard<'_, Shared<S>> {
    // A sender that panicked mid-write leaves the connection as consistent
    // as a failed write does; the others carry on.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sending half of a split [`WebSocket`](super::WebSocket): clone it
/// for each thread that sends. Each send queues its message and writes it
/// out before it returns, under a lock that the reader does not hold while
/// it waits for input. A write that a peer does not take holds that lock
/// until the write timeout (30 s by default), delaying other sends and the
/// reader's hand-over of what it read. So two split sockets that send each
/// other more than their socket buffers hold, at once, wait on each other
/// until a write timeout ends one send (with `write_timeout(None)`, for
/// ever): keep the write timeout when both ends may send large messages.
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
}

impl<S> Clone for Sender<S> {
    fn clone(&self) -> Self {
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S> std::fmt::Debug for Sender<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<S: Transport> Sender<S> {
    fn with<R>(&self, f: impl FnOnce(&mut Shared<S>) -> Result<R, Error>) -> Result<R, Error> {
        let mut shared = lock(&self.shared);
        if shared.ended {
            return Err(Error::NotOpen(ReadyState::Closed));
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
        let mut shared = Shared {
            conn,
            stream,
            ended: false,
        };
        // What the stream read ahead before the split (TLS records past the
        // handshake) reaches the connection before anything read after it.
        shared.decode(&[])?;
        let shared = Arc::new(Mutex::new(shared));
        let reader = Reader {
            shared: Arc::clone(&shared),
            read,
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            role,
            deadlines,
            close_event: None,
        };
        Ok((reader, Sender { shared }))
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
            let mut shared = lock(&self.shared);
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
    /// lock and hands it over under it.
    fn fill(&mut self) -> Result<(), Error> {
        let now = Instant::now();
        let in_progress = lock(&self.shared).conn.message_in_progress();
        match self.deadlines.check(now, in_progress) {
            Due::MessageTooSlow => return Err(self.message_too_slow()),
            Due::PingUnanswered => {
                self.mark_abnormal();
                return Err(Error::Timeout(PING_UNANSWERED));
            }
            Due::Ping => {
                let mut shared = lock(&self.shared);
                if shared.conn.ready_state() == ReadyState::Open {
                    shared.conn.shrink_buffers();
                    shared.conn.ping(b"")?;
                    if let Err(e) = shared.flush() {
                        drop(shared);
                        self.mark_abnormal();
                        return Err(e);
                    }
                }
                drop(shared);
                self.deadlines.pinged(now);
            }
            Due::Nothing => {}
        }
        if let Some(timeout) = self.deadlines.read_timeout_to_set(now) {
            self.read.set_read_timeout(timeout).map_err(Error::Io)?;
        }
        match self.read.read(&mut self.buf) {
            Ok(0) => {
                lock(&self.shared).conn.receive_eof();
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                lock(&self.shared).conn.receive_eof();
                Ok(())
            }
            Ok(n) => {
                self.deadlines.heard();
                let decoded = lock(&self.shared).decode(&self.buf[..n]);
                decoded.inspect_err(|_| self.mark_abnormal())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            // A clock's turn: the next call acts on it.
            Err(e) if is_timeout(&e) && self.deadlines.clock_due(Instant::now()) => Ok(()),
            Err(e) if is_timeout(&e) => Err(Error::Timeout(READ_TIMED_OUT)),
            Err(e) => {
                self.mark_abnormal();
                Err(e.into())
            }
        }
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
