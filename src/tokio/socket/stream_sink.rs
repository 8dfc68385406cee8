//! The ecosystem's traits: `Stream` of messages for the socket and its
//! reader, `Sink` of messages for the socket and its writer. Each is a thin
//! coat over the poll functions `recv`, `queue` and `flush` already use, so
//! they cost nothing to those who do not use them and add no state.

use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::split::lock;
use super::{ReadHalf, Side, WebSocket, WriteHalf};
use crate::{CloseCode, Error, Message, ReadyState};

/// What a sink lets wait to be written before `poll_ready` writes it out:
/// enough for `send_all` of small messages to go out many to a write, and
/// little enough that a socket does not hoard memory for a slow peer.
const SINK_HIGH_WATER: usize = 64 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    fn poll_sink_ready(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        self.check_not_ended()?;
        if self.conn.buffered_amount() < SINK_HIGH_WATER {
            return Poll::Ready(Ok(()));
        }
        self.poll_flush_as(cx, side)
    }

    /// Starts the close handshake (1000) if no close was sent yet, and
    /// writes out what is queued; the receiving side then takes the peer's
    /// reply and ends the connection.
    fn poll_sink_close(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        if self.close_event.is_some() {
            return Poll::Ready(Ok(()));
        }
        if self.conn.ready_state() == ReadyState::Open {
            self.conn.close(CloseCode::NORMAL, "")?;
        }
        self.poll_flush_as(cx, side)
    }
}

fn next_message(
    polled: Poll<Result<Option<Message>, Error>>,
) -> Poll<Option<Result<Message, Error>>> {
    polled.map(Result::transpose)
}

/// The messages as [`recv`](WebSocket::recv) returns them, until the
/// connection ends; an error is the last item. Cancel-safe, as `recv`.
///
/// ```no_run
/// use futures_core::Stream;
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
/// let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut ws).poll_next(cx)).await;
/// # Ok(()) }
/// ```
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        next_message(self.get_mut().poll_recv_as(cx, Side::Reader))
    }
}

/// Messages queued as [`queue`](WebSocket::queue) does, written out by
/// `poll_flush` (and by `poll_ready` past 64 KiB queued); `poll_close`
/// sends a close frame (1000) and writes it out, and the stream side then
/// receives the peer's reply and ends the connection.
///
/// ```no_run
/// use futures_sink::Sink;
/// use std::pin::Pin;
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
/// std::future::poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx)).await?;
/// Pin::new(&mut ws).start_send(rfc6455::Message::from("hello"))?;
/// std::future::poll_fn(|cx| Pin::new(&mut ws).poll_flush(cx)).await?;
/// # Ok(()) }
/// ```
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_sink_ready(cx, Side::Writer)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().queue(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_flush_as(cx, Side::Writer)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_sink_close(cx, Side::Writer)
    }
}

/// As the socket's `Stream`.
///
/// ```no_run
/// use futures_core::Stream;
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let (mut reader, _writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
/// let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut reader).poll_next(cx)).await;
/// # Ok(()) }
/// ```
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        next_message(lock(&self.shared).poll_recv_as(cx, Side::Reader))
    }
}

/// As the socket's `Sink`.
///
/// ```no_run
/// use futures_sink::Sink;
/// use std::pin::Pin;
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let (_reader, mut writer) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?.split();
/// Pin::new(&mut writer).start_send(rfc6455::Message::from("hello"))?;
/// std::future::poll_fn(|cx| Pin::new(&mut writer).poll_flush(cx)).await?;
/// # Ok(()) }
/// ```
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_sink_ready(cx, Side::Writer)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        lock(&self.shared).queue(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush_as(cx, Side::Writer)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_sink_close(cx, Side::Writer)
    }
}
