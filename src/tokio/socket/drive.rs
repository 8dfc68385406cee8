//! What drives a socket: the poll functions behind `recv`, `send` and
//! `flush` — reading into the connection, writing what it queued, the
//! timers of the heartbeat, the message and the close, and the end of the
//! connection — all state kept in the socket, so no future holds any.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::Instant;

use super::{Side, WebSocket};
use crate::{CloseCode, CloseEvent, Connection, Error, Event, ReadyState, Role};

/// The per-thread buffer every socket on a thread reads into before handing
/// the bytes to its connection: an idle socket so holds no read buffer of
/// its own, only what its connection keeps of an incomplete frame. Zeroed
/// once per thread, never per read.
const SCRATCH_LEN: usize = 64 * 1024;
/// What a read uses when the thread's scratch buffer is already borrowed
/// (a stream whose own `poll_read` drives another socket on this thread).
const FALLBACK_LEN: usize = 4 * 1024;

/// From this many missing bytes of a frame on, reads go straight into the
/// connection's buffer, which holds the frame until it is whole anyway:
/// one copy less than through the scratch buffer.
const DIRECT_READ: usize = 4 * 1024;

fn write_timed_out() -> Error {
    Error::timeout("the peer took none of the queued output within the write timeout")
}

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH_LEN].into_boxed_slice());
}

/// Idle detection: a ping after `interval` of silence from the peer, and
/// the connection is dropped if nothing arrives within `timeout` of it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Heartbeat {
    pub(super) interval: Duration,
    pub(super) timeout: Duration,
    pub(super) last_heard: Instant,
    pub(super) ping_sent: Option<Instant>,
}

impl Heartbeat {
    pub(super) fn deadline(&self) -> Instant {
        match self.ping_sent {
            Some(sent) => sent + self.timeout,
            None => self.last_heard + self.interval,
        }
    }
}

/// The end of a connection under way: what `recv` reports once the last
/// writes are done and the transport is closed.
pub(super) struct Ending {
    report: Result<Option<Event>, Error>,
    deadline: Instant,
    flushed: bool,
    peer_closed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    pub(super) fn poll_next_event_as(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if self.ending.is_some() {
                if self.poll_end(cx, side).is_pending() {
                    return Poll::Pending;
                }
                if let Some(ending) = self.ending.take() {
                    return Poll::Ready(ending.report);
                }
            }
            if self.close_event.is_some() {
                return Poll::Ready(Ok(None));
            }
            match self.conn.next_event() {
                Ok(Some(Event::Close(frame))) => {
                    self.end(
                        CloseEvent::clean(frame.as_ref()),
                        Ok(Some(Event::Close(frame))),
                    );
                }
                Ok(Some(event)) => return Poll::Ready(Ok(Some(event))),
                Ok(None) if self.conn.ready_state() == ReadyState::Closed => {
                    // Closed without a close frame from the peer.
                    self.end(CloseEvent::abnormal(CloseCode::ABNORMAL), Ok(None));
                }
                Ok(None) => match self.poll_fill(cx, side) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err((code, e))) => self.end(CloseEvent::abnormal(code), Err(e)),
                    Poll::Pending => return Poll::Pending,
                },
                Err(e) => {
                    let code = e.close_code().unwrap_or(CloseCode::ABNORMAL);
                    self.end(CloseEvent::abnormal(code), Err(e));
                }
            }
        }
    }

    /// Starts ending the connection; `recv` reports `report` once the last
    /// writes are done and the transport is closed.
    pub(super) fn end(&mut self, event: CloseEvent, report: Result<Option<Event>, Error>) {
        self.close_event = Some(event);
        self.ending = Some(Box::new(Ending {
            report,
            deadline: Instant::now() + self.close_timeout,
            flushed: false,
            peer_closed: false,
        }));
    }

    /// The transport failed under a write: nothing more can go out, so the
    /// connection ends at once.
    pub(super) fn transport_failed(&mut self) {
        if self.close_event.is_none() {
            self.close_event = Some(CloseEvent::abnormal(CloseCode::ABNORMAL));
        }
        self.ending = None;
    }

    /// Ends the connection: writes what is queued (a close reply, or the
    /// close frame of a failure), lets a client wait for the server to
    /// close TCP first (section 7.1.1), then closes the transport; all of
    /// it within the close timeout.
    pub(super) fn poll_end(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<()> {
        let Some(ending) = self.ending.as_deref() else {
            return Poll::Ready(());
        };
        let deadline = ending.deadline;
        let (mut flushed, mut peer_closed) = (ending.flushed, ending.peer_closed);
        let now = Instant::now();
        let expired = now >= deadline;
        // A peer that took nothing for the whole write timeout takes no
        // close frame either.
        if self.write_deadline().is_some_and(|due| now >= due) {
            flushed = true;
        }
        if !flushed && !expired {
            match self.poll_write_out(cx, side) {
                Poll::Ready(_) => flushed = true,
                Poll::Pending => {}
            }
        }
        // After a clean close a client lets the server close TCP first;
        // after a failure there is nothing to wait for.
        let clean = self.close_event.as_ref().is_some_and(|e| e.was_clean);
        let waits_for_peer =
            clean && self.conn.role() == Role::Client && !self.conn.should_close_transport();
        if flushed && waits_for_peer && !peer_closed && !expired {
            loop {
                match self.poll_read_with(cx, |_, _| {}) {
                    Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                        peer_closed = true;
                        break;
                    }
                    Poll::Ready(Ok(_)) => {}
                    Poll::Pending => break,
                }
            }
        }
        if let Some(ending) = self.ending.as_deref_mut() {
            ending.flushed = flushed;
            ending.peer_closed = peer_closed;
        }
        let finished = flushed && (!waits_for_peer || peer_closed);
        if !finished && !expired && self.poll_timer(cx, deadline).is_pending() {
            return Poll::Pending;
        }
        // Errors closing a transport that is ending anyway change nothing.
        match Pin::new(&mut self.stream).poll_shutdown(cx) {
            Poll::Pending if Instant::now() < deadline => {
                let _ = self.poll_timer(cx, deadline);
                Poll::Pending
            }
            _ => Poll::Ready(()),
        }
    }

    /// Writes what is queued, acts on the timers, and reads once into the
    /// connection (or waits until one of those can progress). An error
    /// comes with the code the close event reports.
    pub(super) fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<(), (CloseCode, Error)>> {
        let (mut due, now) = if self.timer_covers_deadlines(cx) {
            (None, None)
        } else {
            match self.timers() {
                Ok(due) => due,
                Err(failure) => return Poll::Ready(Err(failure)),
            }
        };
        let written = match self.poll_write_out(cx, side) {
            Poll::Ready(Err(e)) => return Poll::Ready(Err((CloseCode::ABNORMAL, e))),
            Poll::Ready(Ok(())) => true,
            Poll::Pending => false,
        };
        // Checked after the write, not among the timers before it: a
        // stream that takes output again after a long pause is not
        // failed for the pause.
        if let Some(stalled_until) = self.write_deadline().filter(|_| !written) {
            if Instant::now() >= stalled_until {
                return Poll::Ready(Err((CloseCode::ABNORMAL, write_timed_out())));
            }
            due = Some(due.map_or(stalled_until, |d| d.min(stalled_until)));
        }
        // Reading goes on while a write waits (a peer that writes while it
        // waits for us to read must not deadlock with us), up to the cap on
        // what may wait to be written: past it, a peer that sends but never
        // reads (and so piles up our pongs or echoes) is read no further;
        // the timers still run, so the heartbeat ends it.
        if written || self.conn.buffered_amount() <= self.conn.config().max_buffered_amount {
            match self.poll_receive(cx) {
                Poll::Ready(Ok(n)) => {
                    if n == 0 {
                        self.conn.receive_eof();
                    } else if let Some(hb) = &mut self.heartbeat {
                        // The time read just before the read: the clock is
                        // read once per wait, not once per read.
                        hb.last_heard = now.unwrap_or_else(Instant::now);
                        hb.ping_sent = None;
                    }
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Err((CloseCode::ABNORMAL, e.into())));
                }
                Poll::Pending => {}
            }
        }
        match due {
            Some(due) if self.poll_timer(cx, due).is_ready() => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    }

    /// Acts on the heartbeat, the message timeout and the close timeout;
    /// returns when they next need to act and the time it read (if it read
    /// the clock), or the failure that ends the connection.
    pub(super) fn timers(
        &mut self,
    ) -> Result<(Option<Instant>, Option<Instant>), (CloseCode, Error)> {
        if self.heartbeat.is_none() && self.message_timeout.is_none() {
            return match self.conn.ready_state() {
                ReadyState::Closing => {
                    let now = Instant::now();
                    Ok((Some(self.close_deadline(now)?), Some(now)))
                }
                _ => Ok((None, None)),
            };
        }
        let now = Instant::now();
        let mut due: Option<Instant> = None;
        let mut at = |when: Instant| due = Some(due.map_or(when, |d| d.min(when)));
        if self.conn.ready_state() == ReadyState::Closing {
            at(self.close_deadline(now)?);
        }
        if let Some(limit) = self.message_timeout {
            if self.conn.message_in_progress() {
                let started = *self.message_started.get_or_insert(now);
                if now >= started + limit {
                    let _ = self
                        .conn
                        .close(CloseCode::POLICY_VIOLATION, "message took too long");
                    return Err((
                        CloseCode::POLICY_VIOLATION,
                        Error::timeout("a message did not arrive within the message timeout"),
                    ));
                }
                at(started + limit);
            } else {
                self.message_started = None;
            }
        }
        if let Some(hb) = &mut self.heartbeat {
            if now >= hb.deadline() {
                if hb.ping_sent.is_some() {
                    return Err((
                        CloseCode::ABNORMAL,
                        Error::timeout("no answer to a heartbeat ping"),
                    ));
                }
                hb.ping_sent = Some(now);
                if self.conn.ready_state() == ReadyState::Open {
                    // Silent for a whole interval: idle, so give back
                    // buffers that grew for large messages.
                    self.conn.shrink_buffers();
                    let _ = self.conn.ping(b"");
                }
            }
            at(hb.deadline());
        }
        Ok((due, Some(now)))
    }

    /// When the peer's close reply must have arrived, since this end sent
    /// its close frame.
    pub(super) fn close_deadline(&mut self, now: Instant) -> Result<Instant, (CloseCode, Error)> {
        let due = *self.close_sent.get_or_insert(now) + self.close_timeout;
        if now >= due {
            return Err((
                CloseCode::ABNORMAL,
                Error::timeout("no close frame from the peer within the close timeout"),
            ));
        }
        Ok(due)
    }

    /// Arms the one timer for `due` and polls it. An armed timer that
    /// would fire sooner is left as it is (it fires early and is re-armed
    /// then), so a deadline that keeps moving later (the heartbeat's, at
    /// every read) does not reset the timer at every read.
    pub(super) fn poll_timer(&mut self, cx: &mut Context<'_>, due: Instant) -> Poll<()> {
        match &mut self.timer {
            Some(timer) => {
                if due < timer.deadline() || timer.is_elapsed() {
                    timer.as_mut().reset(due);
                }
            }
            None => self.timer = Some(Box::pin(::tokio::time::sleep_until(due))),
        }
        if !self
            .timer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            self.timer_waker = Some(cx.waker().clone());
        }
        match &mut self.timer {
            Some(timer) => timer.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }

    /// Whether the armed timer already stands for every deadline that
    /// runs, for the task polling now: then none can have passed (the
    /// timer would have fired and woken it), none needs starting, and a
    /// wait needs neither the clock nor the timer polled again. This is
    /// the wait after each message, so it is kept free of both.
    pub(super) fn timer_covers_deadlines(&mut self, cx: &Context<'_>) -> bool {
        let Some(timer) = &self.timer else {
            return false;
        };
        if timer.is_elapsed()
            || !self
                .timer_waker
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            return false;
        }
        let armed = timer.deadline();
        if self.conn.ready_state() == ReadyState::Closing {
            match self.close_sent {
                Some(sent) if armed <= sent + self.close_timeout => {}
                _ => return false,
            }
        }
        if let Some(limit) = self.message_timeout {
            if !self.conn.message_in_progress() {
                self.message_started = None;
            } else {
                match self.message_started {
                    Some(started) if armed <= started + limit => {}
                    _ => return false,
                }
            }
        }
        if self.heartbeat.is_some_and(|hb| armed > hb.deadline()) {
            return false;
        }
        self.write_deadline().is_none_or(|due| armed <= due)
    }

    /// Reads once into the connection: through the thread's scratch buffer,
    /// or straight into the connection's buffer for the rest of a large
    /// frame. Returns how many bytes (0 at the end of the stream).
    pub(super) fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.conn.frame_remaining() < DIRECT_READ {
            return self.poll_read_with(cx, |conn, data| conn.receive(data));
        }
        let mut buf = ReadBuf::new(self.conn.read_buf());
        let result = Pin::new(&mut self.stream).poll_read(cx, &mut buf);
        let n = buf.filled().len();
        // Committed in the same poll as the read: nothing read is ever
        // left for a future that may be dropped.
        self.conn.commit(n);
        match result {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(n)),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Reads once through the thread's scratch buffer and hands what came
    /// to `take` with the connection. Returns how many bytes (0 at the end
    /// of the stream).
    pub(super) fn poll_read_with(
        &mut self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut Connection, &[u8]),
    ) -> Poll<io::Result<usize>> {
        let read = |buf: &mut [u8]| {
            let mut buf = ReadBuf::new(buf);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let data = buf.filled();
                    if !data.is_empty() {
                        take(&mut self.conn, data);
                    }
                    Poll::Ready(Ok(data.len()))
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        };
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => read(&mut scratch),
            Err(_) => read(&mut [0; FALLBACK_LEN]),
        })
    }

    /// Writes everything queued, with vectored writes.
    pub(super) fn poll_write_out(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<(), Error>> {
        let mut progress = false;
        while self.conn.buffered_amount() > 0 {
            let contiguous = self.conn.output();
            // One piece (a small message, a burst of them): a plain write,
            // which costs the kernel less than a vectored one.
            let written = if contiguous.len() == self.conn.buffered_amount() {
                Pin::new(&mut self.stream).poll_write(cx, contiguous)
            } else {
                let mut slices = [IoSlice::new(&[]); 16];
                let count = self.conn.output_io_slices(&mut slices);
                Pin::new(&mut self.stream).poll_write_vectored(cx, &slices[..count])
            };
            match written {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => {
                    self.conn.consume_output(n);
                    self.unflushed = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => {
                    self.note_write_stall(progress);
                    self.park_writer(cx, side, progress);
                    return Poll::Pending;
                }
            }
        }
        if !self.unflushed {
            // Nothing written since the last flush (a TCP stream's flush does
            // nothing; a TLS stream's has nothing to push).
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                self.write_stalled = None;
                self.park_writer(cx, side, true);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => {
                self.note_write_stall(progress);
                self.park_writer(cx, side, progress);
                Poll::Pending
            }
        }
    }

    /// A write waits: the stall starts now if the output moved in this
    /// call or was not stalled yet. The clock is read only when a write
    /// waits, never on the path where the stream takes everything.
    fn note_write_stall(&mut self, progress: bool) {
        if self.write_timeout.is_some() && (progress || self.write_stalled.is_none()) {
            self.write_stalled = Some(Instant::now());
        }
    }

    /// When a stalled write fails, if one is stalled.
    pub(super) fn write_deadline(&self) -> Option<Instant> {
        Some(self.write_stalled? + self.write_timeout?)
    }

    /// For `flush` and `send`, whose write waits: waits for the stream or
    /// the write timeout, whichever comes first; past the timeout the
    /// connection ends (1006), as nothing more can go out.
    pub(super) fn poll_write_timeout(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(due) = self.write_deadline() else {
            return Poll::Pending;
        };
        let timer = self
            .write_timer
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(due)));
        if timer.deadline() != due {
            timer.as_mut().reset(due);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.transport_failed();
        Poll::Ready(Err(write_timed_out()))
    }

    /// Split sockets: the stream wakes only the half that polled it last,
    /// so a half blocked on a write keeps its waker here, and a half that
    /// made the writes progress wakes the other.
    pub(super) fn park_writer(&mut self, cx: &mut Context<'_>, side: Side, progress: bool) {
        let Some(wakers) = self.write_wakers.as_deref_mut() else {
            return;
        };
        if progress {
            let other = 1 - side as usize;
            if let Some(waker) = wakers[other].take() {
                waker.wake();
            }
        }
        if self.conn.buffered_amount() > 0 {
            wakers[side as usize] = Some(cx.waker().clone());
        } else {
            wakers[side as usize] = None;
        }
    }
}
