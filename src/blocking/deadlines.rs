//! The clocks a blocking connection keeps while it waits for input — the
//! caller's read timeout, the heartbeat and the message timeout — the
//! write of everything queued, and the reading of what the core answered,
//! shared by the socket and the split reader, which both wait for input
//! under them.

use std::io::{self, IoSlice, Read, Write};
use std::time::{Duration, Instant};

use crate::{CloseCode, CloseEvent, Connection, Error, Event, ReadyState};

/// The default write timeout: a peer that stops reading cannot hold a
/// send, and its thread, forever.
pub(crate) const DEFAULT_WRITE_TIMEOUT: Option<Duration> = Some(Duration::from_secs(30));

/// Why a connection is failed when the heartbeat's ping goes unanswered.
pub(crate) const PING_UNANSWERED: &str = "no answer to a heartbeat ping";
/// Why a connection is failed when a message takes too long.
pub(crate) const MESSAGE_TOO_SLOW: &str = "a message did not arrive within the message timeout";
/// What a read that hit the caller's read timeout reports.
pub(crate) const READ_TIMED_OUT: &str = "read: nothing arrived within the read timeout";

/// The deadlines of an open connection.
#[derive(Clone, Debug)]
pub(crate) struct Deadlines {
    /// The caller's read timeout: a wait longer than this returns.
    pub(crate) read_timeout: Option<Duration>,
    /// How long a client waits for the server to close TCP at the end.
    pub(crate) close_timeout: Duration,
    heartbeat: Option<Heartbeat>,
    message_timeout: Option<Duration>,
    /// When the message now arriving started to (see
    /// [`Connection::message_in_progress`]).
    message_started: Option<Instant>,
    /// The read timeout the stream has now, when known: it is set again
    /// only when a wait needs another, which spares a system call per read
    /// (and leaves alone a stream that cannot time out while no clock
    /// runs).
    stream_read_timeout: Option<Option<Duration>>,
}

/// What is due now (see [`Deadlines::check`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    Nothing,
    /// The peer was silent for the interval: send a ping, then call
    /// [`Deadlines::pinged`].
    Ping,
    /// The ping went unanswered: fail the connection (1006).
    PingUnanswered,
    /// A message took longer than the message timeout: fail it (1008).
    MessageTooSlow,
}

/// Idle detection: a ping after `interval` of silence from the peer, and
/// the connection is dropped if nothing arrives within `timeout` of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    last_heard: Instant,
    ping_sent: Option<Instant>,
}

impl Heartbeat {
    fn deadline(&self) -> Instant {
        match self.ping_sent {
            Some(sent) => sent + self.timeout,
            None => self.last_heard + self.interval,
        }
    }
}

impl Deadlines {
    /// The deadlines of a connection still in its handshake: none but the
    /// read and close timeouts.
    pub(crate) fn new(read_timeout: Option<Duration>, close_timeout: Duration) -> Self {
        Deadlines {
            read_timeout,
            close_timeout,
            heartbeat: None,
            message_timeout: None,
            message_started: None,
            stream_read_timeout: Some(None),
        }
    }

    /// Starts the clocks of the open connection.
    pub(crate) fn opened(
        &mut self,
        heartbeat: Option<(Duration, Duration)>,
        message_timeout: Option<Duration>,
    ) {
        self.heartbeat = heartbeat.map(|(interval, timeout)| Heartbeat {
            interval,
            timeout,
            last_heard: Instant::now(),
            ping_sent: None,
        });
        self.message_timeout = message_timeout;
    }

    /// What is due at `now`, given whether a message is arriving (which
    /// starts the message clock, or stops it).
    pub(crate) fn check(&mut self, now: Instant, message_in_progress: bool) -> Due {
        self.message_started = match (self.message_timeout, message_in_progress) {
            (Some(_), true) => Some(self.message_started.unwrap_or(now)),
            _ => None,
        };
        if self.message_due().is_some_and(|due| now >= due) {
            return Due::MessageTooSlow;
        }
        match self.heartbeat {
            Some(hb) if now >= hb.deadline() && hb.ping_sent.is_some() => Due::PingUnanswered,
            Some(hb) if now >= hb.deadline() => Due::Ping,
            _ => Due::Nothing,
        }
    }

    /// The heartbeat's ping went out (or would have, on a connection
    /// already closing): its answer is now awaited.
    pub(crate) fn pinged(&mut self, now: Instant) {
        if let Some(hb) = &mut self.heartbeat {
            hb.ping_sent = Some(now);
        }
    }

    /// Input arrived: the peer is alive.
    pub(crate) fn heard(&mut self) {
        if let Some(hb) = &mut self.heartbeat {
            hb.last_heard = Instant::now();
            hb.ping_sent = None;
        }
    }

    /// When the message now arriving must be complete.
    pub(crate) fn message_due(&self) -> Option<Instant> {
        Some(self.message_started? + self.message_timeout?)
    }

    /// The next moment a clock needs to act.
    fn wake(&self) -> Option<Instant> {
        let heartbeat = self.heartbeat.map(|hb| hb.deadline());
        [heartbeat, self.message_due()].into_iter().flatten().min()
    }

    /// Whether a clock is due: a read that timed out then was the clock's
    /// turn, not the caller's read timeout.
    pub(crate) fn clock_due(&self, now: Instant) -> bool {
        self.wake().is_some_and(|due| now >= due)
    }

    /// The read timeout to set on the stream before the next wait, when it
    /// is not the one it has.
    pub(crate) fn read_timeout_to_set(&mut self, now: Instant) -> Option<Option<Duration>> {
        let wanted = self.wait(now);
        (self.stream_read_timeout != Some(wanted)).then(|| {
            self.stream_read_timeout = Some(wanted);
            wanted
        })
    }

    /// Records the read timeout something else set on the stream (`None`:
    /// not known).
    pub(crate) fn stream_read_timeout(&mut self, timeout: Option<Option<Duration>>) {
        self.stream_read_timeout = timeout;
    }

    /// The read timeout for the next wait: until the next clock, and no
    /// longer than the caller's read timeout.
    fn wait(&self, now: Instant) -> Option<Duration> {
        match self.wake() {
            Some(due) => {
                let wait = due
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1));
                Some(self.read_timeout.map_or(wait, |t| t.min(wait)))
            }
            None => self.read_timeout,
        }
    }
}

/// Writes everything `conn` has queued to `stream`. With a write timeout
/// set (`timed`), a write the peer does not take in time is
/// [`Error::Timeout`], not the stream's `WouldBlock`.
pub(crate) fn write_queued<W: Write>(
    conn: &mut Connection,
    stream: &mut W,
    timed: bool,
) -> Result<(), Error> {
    while conn.buffered_amount() > 0 {
        let mut slices = [IoSlice::new(&[]); 16];
        let count = conn.output_io_slices(&mut slices);
        let written = match stream.write_vectored(&slices[..count]) {
            Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if timed && is_timeout(&e) => {
                return Err(Error::timeout(
                    "write: the peer did not take the bytes within the write timeout",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        conn.consume_output(written);
    }
    match stream.flush() {
        Err(e) if e.kind() != io::ErrorKind::Interrupted => Err(e.into()),
        _ => Ok(()),
    }
}

/// A read or write that ran into its timeout (or would block).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A timeout the stream refused to take: `Unsupported` is a stream that
/// cannot time out at all; anything else is the stream's own failure.
pub(crate) fn cannot_time_out(e: io::Error, what: &'static str) -> Error {
    if e.kind() == io::ErrorKind::Unsupported {
        Error::CannotTimeOut(what)
    } else {
        Error::Io(e)
    }
}

/// A reader that reports a timeout once `deadline` has passed, however
/// steadily the stream underneath delivers.
pub(crate) struct UntilDeadline<'a, S> {
    pub(crate) inner: &'a mut S,
    pub(crate) deadline: Option<Instant>,
}

/// Writes pass through, bounded by the stream's write timeout: what goes
/// through here (a TLS handshake's few kilobytes) fits in the socket's
/// buffer, so a slow reader cannot stretch it.
impl<S: Write> Write for UntilDeadline<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    // rustls hands its records over in one vectored write: taking them one
    // per call would split what the peer should get at once.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.inner.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<S: Read> Read for UntilDeadline<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.inner.read(buf)
    }
}

/// The read and write timeout setters of a blocking builder with
/// `read_timeout` and `write_timeout` fields; the argument makes the
/// builder, for the examples.
macro_rules! stream_timeout_setters {
    ($builder:literal) => {
        /// A read timeout for `recv` once open (default: none): a wait
        /// longer than this returns [`Error::Timeout`](crate::Error::Timeout)
        /// and loses nothing; the connection stays open.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".read_timeout(Some(std::time::Duration::from_secs(5)));")]
        /// ```
        pub fn read_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.read_timeout = timeout;
            self
        }

        /// A write timeout for sends (default: 30 s): a peer that stops
        /// reading cannot block a send, and the thread in it, forever.
        /// `None` waits as long as the peer takes.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".write_timeout(None);")]
        /// ```
        pub fn write_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.write_timeout = timeout;
            self
        }
    };
}

pub(crate) use stream_timeout_setters;

/// What one turn of a receive loop leads to, read from the core's answer.
pub(super) enum Step {
    /// Hand this to the caller; if the connection ended, it ended so.
    Deliver(Result<Option<Event>, Error>, Option<CloseEvent>),
    /// Nothing to hand over yet: wait for input.
    NeedInput,
}

/// Reads what `Connection::next_event` returned, with the ready state after
/// it, the same way for a socket and for a split reader.
pub(super) fn settle(result: Result<Option<Event>, Error>, state: ReadyState) -> Step {
    match result {
        Ok(Some(Event::Close(frame))) => {
            let end = CloseEvent::clean(frame.as_ref());
            Step::Deliver(Ok(Some(Event::Close(frame))), Some(end))
        }
        Ok(Some(event)) => Step::Deliver(Ok(Some(event)), None),
        // Closed without a close frame from the peer: the handshake was
        // rejected or abandoned.
        Ok(None) if state == ReadyState::Closed => {
            Step::Deliver(Ok(None), Some(CloseEvent::abnormal(CloseCode::ABNORMAL)))
        }
        Ok(None) => Step::NeedInput,
        Err(e) => {
            let code = e.close_code().unwrap_or(CloseCode::ABNORMAL);
            Step::Deliver(Err(e), Some(CloseEvent::abnormal(code)))
        }
    }
}
