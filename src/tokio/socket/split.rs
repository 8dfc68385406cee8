//! A socket split into halves for two tasks: each half locks the socket
//! only for the poll it runs, never across an `await`.

use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::{Side, WebSocket};
use crate::{CloseCode, CloseEvent, Error, Event, Message, ReadyState};

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Splits the socket into a reader and a writer, to receive in one task
    /// and send from another. They share the socket behind a mutex, which
    /// no `await` ever holds: each poll locks it, moves what bytes it can,
    /// and lets go. The reader answers pings, runs the heartbeat and ends
    /// the connection; keep polling it while the writer is in use.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let (mut reader, mut writer) = ws.split();
    /// tokio::spawn(async move {
    ///     for i in 0..3 {
    ///         writer.send_text(&format!("message {i}")).await?;
    ///     }
    ///     writer.close(1000, "done").await
    /// });
    /// while let Some(message) = reader.recv().await? {
    ///     println!("{message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn split(mut self) -> (ReadHalf<S>, WriteHalf<S>) {
        self.write_wakers = Some(Box::new([None, None]));
        let shared = Arc::new(Mutex::new(self));
        (
            ReadHalf {
                shared: Arc::clone(&shared),
            },
            WriteHalf { shared },
        )
    }
}

/// The receiving half of a [`WebSocket::split`] socket.
pub struct ReadHalf<S> {
    pub(super) shared: Arc<Mutex<WebSocket<S>>>,
}

/// The sending half of a [`WebSocket::split`] socket. Its
/// [`buffered_amount`](Self::buffered_amount) is the socket's own, exact.
pub struct WriteHalf<S> {
    pub(super) shared: Arc<Mutex<WebSocket<S>>>,
}

impl<S> std::fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

/// Locks the shared socket; a half that panicked while holding it left
/// the connection consistent (the core's calls do not unwind midway), so a
/// poisoned lock is used as it is.
pub(super) fn lock<S>(shared: &Mutex<WebSocket<S>>) -> MutexGuard<'_, WebSocket<S>> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// As [`WebSocket::recv`]; cancel-safe.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// while let Some(message) = reader.recv().await? {
    ///     println!("{message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| lock(&self.shared).poll_recv_as(cx, Side::Reader)).await
    }

    /// As [`WebSocket::next_event`]; cancel-safe.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// while let Some(event) = reader.next_event().await? {
    ///     println!("{event:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        poll_fn(|cx| lock(&self.shared).poll_next_event_as(cx, Side::Reader)).await
    }

    /// The state, as [`WebSocket::ready_state`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// println!("{:?}", reader.ready_state());
    /// # Ok(()) }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        lock(&self.shared).ready_state()
    }

    /// How the connection ended, once it has.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// while reader.recv().await?.is_some() {}
    /// println!("{:?}", reader.close_event());
    /// # Ok(()) }
    /// ```
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).close_event().cloned()
    }

    /// Puts the halves back together; `None` (dropping both) if they come
    /// from different sockets.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (reader, writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// let ws = reader.unsplit(writer).expect("the same socket");
    /// # Ok(()) }
    /// ```
    pub fn unsplit(self, writer: WriteHalf<S>) -> Option<WebSocket<S>> {
        if !Arc::ptr_eq(&self.shared, &writer.shared) {
            return None;
        }
        drop(writer);
        let mutex = Arc::into_inner(self.shared)?;
        let mut ws = mutex
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ws.write_wakers = None;
        Some(ws)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// As [`WebSocket::send`]: queues the message and writes out all that
    /// is queued.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.send("hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.queue(message)?;
        self.flush().await
    }

    /// Sends a text message.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.send_text("hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.send_text(text)?;
        }
        self.flush().await
    }

    /// Sends a binary message.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.send_binary(&[1, 2, 3]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.send_binary(data)?;
        }
        self.flush().await
    }

    /// Queues a message without writing it; [`flush`](Self::flush) writes.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.queue("one")?;
    /// writer.queue("two")?;
    /// writer.flush().await?;
    /// # Ok(()) }
    /// ```
    pub fn queue(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        lock(&self.shared).queue(message)
    }

    /// Writes out everything queued; cancel-safe.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.flush().await?;
    /// # Ok(()) }
    /// ```
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_flush_as(cx, Side::Writer)).await
    }

    /// Sends a ping; the reader consumes the pong.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.ping(b"").await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.ping(payload)?;
        }
        self.flush().await
    }

    /// As [`WebSocket::close`]: the reader then receives the peer's close
    /// and ends the connection.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.close(1000, "done").await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        {
            let mut ws = lock(&self.shared);
            ws.check_not_ended()?;
            ws.conn.close(code, reason)?;
        }
        self.flush().await
    }

    /// Bytes accepted by a send but not yet written, exactly.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// writer.queue("hi")?;
    /// assert_eq!(writer.buffered_amount(), 8); // a client's frame: header, mask, payload
    /// # Ok(()) }
    /// ```
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).buffered_amount()
    }

    /// The state, as [`WebSocket::ready_state`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), rfc6455::Error> {
    /// let (_reader, writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
    /// println!("{:?}", writer.ready_state());
    /// # Ok(()) }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        lock(&self.shared).ready_state()
    }
}
