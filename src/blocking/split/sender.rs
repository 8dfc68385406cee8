//! The sending half: any thread queues and writes under the connection's
//! lock, handing over first what the reader kept aside.

use std::sync::{Arc, Mutex};

use super::{hand_over, lock, KeptAside, Shared, Split};
use crate::{CloseCode, Error, Message, ReadyState};

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
    pub(super) shared: Arc<Mutex<Shared<S>>>,
    pub(super) kept_aside: KeptAside,
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
