//! Async WebSockets on tokio (feature `tokio`), over any
//! `AsyncRead + AsyncWrite + Unpin` stream, with the same API as the
//! [`blocking`](crate::blocking) adapter, `await`ed.
//!
//! The adapter only moves bytes between a stream and the sans-IO
//! [`Connection`](crate::Connection): every protocol decision is the
//! core's. Its futures hold no state of their own, so
//! [`WebSocket::recv`] is cancel-safe; an idle socket holds no read buffer
//! (reads go through one scratch buffer per thread); the heartbeat and the
//! handshake, message, write and close deadlines run on tokio's timer.
//! With the `tls` feature too, `wss://` runs in both roles through
//! tokio-rustls, configured as the blocking adapter is (see
//! `rfc6455::tls`). The socket and its halves are also a
//! `futures_core::Stream` of messages and a `futures_sink::Sink`.
//!
//! A client:
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let mut ws = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
//! ws.send_text("hello").await?;
//! if let Some(reply) = ws.recv().await? {
//!     println!("got {reply:?}");
//! }
//! ws.close(1000, "done").await?;
//! while ws.recv().await?.is_some() {} // until the server's close arrives
//! # Ok(()) }
//! ```
//!
//! A server, a task per connection:
//!
//! ```no_run
//! use rfc6455::tokio::ServerBuilder;
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let server = ServerBuilder::new();
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     stream.set_nodelay(true)?;
//!     let server = server.clone();
//!     tokio::spawn(async move {
//!         let Ok(mut ws) = server.accept(stream).await else { return };
//!         while let Ok(Some(message)) = ws.recv().await {
//!             if ws.queue(message).is_err() {
//!                 break; // written when recv next waits: one write per burst
//!             }
//!         }
//!     });
//! }
//! # }
//! ```
//!
//! The close event is the blocking adapter's
//! [`CloseEvent`](crate::CloseEvent).

/// The write timeout's setter, on a builder with a `write_timeout` field.
/// The argument is an expression that makes the builder, for the example.
macro_rules! write_timeout_setter {
    ($builder:literal) => {
        /// Bounds how long queued output may wait without the peer taking
        /// any of it (default 30 s, as the blocking adapter's write
        /// timeout): past it the connection ends (1006) and `send`,
        /// `flush` or `recv` returns [`Error::Timeout`](crate::Error::Timeout),
        /// so a peer that stops reading cannot hold a connection and its
        /// queued output forever. `None` waits as long as the peer takes.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".write_timeout(Some(std::time::Duration::from_secs(10)));")]
        /// ```
        pub fn write_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.write_timeout = timeout;
            self
        }
    };
}

/// The write timeout unless a builder changes it.
const DEFAULT_WRITE_TIMEOUT: Option<std::time::Duration> = Some(std::time::Duration::from_secs(30));

mod client;
mod server;
mod socket;
mod stream;

pub use client::{connect, ClientBuilder};
pub use server::{accept, ServerBuilder};
pub use socket::{ReadHalf, WebSocket, WriteHalf};
pub use stream::Stream;
