//! The receiving half: one thread reads without the lock, keeps the
//! heartbeat and message clocks, and hands input over under the lock (or
//! keeps it aside while a sender writes).

use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{hand_over, lock, lock_unless_held, KeptAside, Sender, Shared, Split, HANDOVER_RETRY};
use crate::blocking::deadlines::{
    is_timeout, settle, Deadlines, Due, Step, MESSAGE_TOO_SLOW, PING_UNANSWERED, READ_TIMED_OUT,
};
use crate::blocking::Transport;
use crate::{CloseCode, CloseEvent, Error, Event, Message, ReadyState, Role};

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
    pub(super) shared: Arc<Mutex<Shared<S>>>,
    pub(super) read: S::Reader,
    pub(super) buf: Box<[u8]>,
    /// Input read while a sender held the lock, not yet handed over.
    pub(super) kept_aside: KeptAside,
    /// How much may be kept aside: a whole message of the largest size the
    /// connection accepts (and its frame headers), up to [`MAX_KEPT_ASIDE`].
    pub(super) max_kept_aside: usize,
    pub(super) role: Role,
    pub(super) deadlines: Deadlines,
    pub(super) close_event: Option<CloseEvent>,
}

impl<S: Split> std::fmt::Debug for Reader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("role", &self.role)
            .field("close_event", &self.close_event)
            .finish_non_exhaustive()
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
                return Err(Error::timeout(PING_UNANSWERED));
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
            Err(e) if is_timeout(&e) => Err(Error::timeout(READ_TIMED_OUT)),
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
        Error::timeout(MESSAGE_TOO_SLOW)
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
