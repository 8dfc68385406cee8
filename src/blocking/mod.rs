//! Blocking WebSockets over `std::net`, TLS (`wss://`, feature `tls`), an
//! HTTP proxy's tunnel, or any stream that implements [`Transport`], with
//! the shape of the browser API: [`WebSocket::ready_state`],
//! [`WebSocket::buffered_amount`], send text or binary, receive messages,
//! [`WebSocket::close`], and the open/message/error/close life cycle through
//! a [`Handler`].
//!
//! These adapters only move bytes between a stream and the sans-IO
//! [`Connection`](crate::Connection): every protocol decision is the core's.
//!
//! A client:
//!
//! ```no_run
//! let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
//! ws.send_text("hello")?;
//! if let Some(reply) = ws.recv()? {
//!     println!("got {:?}", reply);
//! }
//! ws.close(1000, "done")?;
//! while ws.recv()?.is_some() {} // drain until the server's close arrives
//! # Ok::<(), rfc6455::Error>(())
//! ```
//!
//! To send from other threads while one waits in `recv`, split the socket
//! ([`WebSocket::split`]) into a [`Reader`] and a cloneable [`Sender`]. To
//! serve pages beside WebSockets, [`ServerBuilder::handle`] reports a plain
//! HTTP answer as an [`Outcome`], not an error.
//!
//! A server, a thread per connection (capped, see
//! [`ServerBuilder::serve`]):
//!
//! ```no_run
//! use rfc6455::blocking::ServerBuilder;
//! let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
//! let server = ServerBuilder::new();
//! let acceptor = server.clone();
//! let error = server.serve(&listener, move |stream| {
//!     let Ok(mut ws) = acceptor.accept(stream) else { return };
//!     while let Ok(Some(message)) = ws.recv() {
//!         if ws.send(message).is_err() {
//!             break;
//!         }
//!     }
//! });
//! eprintln!("listener failed: {error}");
//! # Ok::<(), std::io::Error>(())
//! ```

mod client;
mod deadlines;
mod handler;
mod proxy;
mod server;
mod socket;
mod split;
mod stream;

pub use client::{connect, ClientBuilder};
pub use handler::Handler;
pub use server::{accept, Outcome, ServerBuilder};
pub use socket::WebSocket;
pub use split::{Reader, Sender, Split};
#[cfg(feature = "tls")]
pub use stream::TlsStream;
pub use stream::{Stream, Transport};
