//! # rfc6455
//!
//! A WebSocket (RFC 6455) protocol library: a sans-IO core that any runtime
//! can drive, and thin blocking adapters over `std::net`, with `wss://` in
//! both roles (feature `tls`, on by default: rustls with the `ring`
//! provider) and HTTP proxies for clients.
//!
//! ```no_run
//! let mut ws = rfc6455::blocking::connect("wss://echo.websocket.org/")?;
//! ws.send_text("hello")?;
//! # Ok::<(), rfc6455::Error>(())
//! ```
//!
//! With `default-features = false` the crate is the core and plain `ws://`,
//! with no TLS crates. The feature `deflate` (off by default) adds
//! permessage-deflate (RFC 7692) to the core, and so to every adapter
//! (`Config::deflate`). The feature `http` adds conversions between the
//! handshake types and the `http` crate's (`TryFrom` between [`Request`],
//! [`Response`], [`ClientRequest`] and `http::Request<()>`/
//! `http::Response<()>`, and `Accept::http_response`), for servers on
//! hyper or axum that upgrade themselves.
//!
//! ## Architecture
//!
//! Data flows one way through the core, and the core never touches a
//! socket, a thread or a clock:
//!
//! ```text
//!  socket bytes ─> inbound (read buffer; a server unmasks as bytes land) ─> frame at the front
//!       ─> connection (header judged; message assembly, UTF-8, limits) ─> Event / EventRef
//!  app calls ─> Connection::send_* ─> frame encoder (a client masks) ─> outbound queue ─> socket bytes
//! ```
//!
//! Public modules are the ones that are the natural path to their names:
//! [`handshake`], [`frame`], [`mask`], [`utf8`], and the adapters and their
//! settings: [`blocking`], `tokio` (feature `tokio`), `tls` (feature `tls`).
//! Everything else is re-exported here, once.
//!
//! | file | owns |
//! |---|---|
//! | `lib.rs` | these docs, the re-exports, the lint policy |
//! | `state.rs` | [`Role`], [`ReadyState`], [`Config`] |
//! | `message.rs` | [`Message`], [`MessageRef`], [`Event`], [`EventRef`], [`MessageKind`] |
//! | `error.rs` | [`Error`], [`ProtocolError`], [`HandshakeError`] |
//! | `headers.rs` | [`Headers`], the fields of a handshake head |
//! | `token.rs` | the HTTP token grammar, for the handshake and the extension parameters |
//! | `close.rs` | [`CloseCode`], [`CloseFrame`], what may be sent and received, the close code of each error |
//! | `connection/` | [`Connection`]: `mod.rs` (the struct, constructors, every state transition), `recv.rs`, `send.rs`, `opening.rs` |
//! | `inbound/` | the read buffer and unmasking on arrival, as one stage; [`InputTail`] |
//! | `outbound.rs` | the write queue: small frames coalesced, large payloads by reference, vectored writes |
//! | [`frame`] | every frame header read and write: opcodes, length forms |
//! | [`handshake`] | key and accept, client request and response check, server request parsing, accept/reject; conversions to and from the `http` crate's types (feature `http`) |
//! | `deflate/` (feature `deflate`) | permessage-deflate: the negotiation of RFC 7692 section 7.1, the compressor and the bounded inflater |
//! | `settings.rs` | what the builders of both adapters share: timeouts and their defaults, a client's URL and request |
//! | [`mask`], [`utf8`] | safe front ends of the kernels; incremental UTF-8 validation, [`Utf8Bytes`] |
//! | `kernels/` | the one module allowed `unsafe`: masking loops built for AVX2, UTF-8 checks that make a `str` once, a lent text checked once; imports nothing of the crate |
//! | [`blocking`] | `WebSocket<S: Transport>` over any stream that can time out, client `connect` (TLS, proxy tunnels), server `accept` (TLS), `split` into a reader and senders; imports the core, never the reverse |
//! | `tls` (feature `tls`) | rustls configurations with the `ring` provider; TLS errors in words |
//! | `tokio` (feature `tokio`) | the async `WebSocket<S: AsyncRead + AsyncWrite>`: cancel-safe `recv`, `split`, `Stream`/`Sink`, `wss://` through tokio-rustls with `tls`'s configurations, timers on tokio's clock; imports the core, never the reverse |
//!
//! ## A client and a server in memory
//!
//! ```
//! use rfc6455::{Accept, ClientRequest, CloseCode, Config, Connection, Event, Message, ReadyState};
//!
//! // Moves everything `from` has queued (a socket would be the writer).
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let mut wire = Vec::new();
//!     from.write_output_to(&mut wire).expect("a Vec takes every byte");
//!     to.receive(&wire);
//! }
//!
//! let config = Config::default();
//! # #[cfg(feature = "deflate")] // the queue's pieces below are the uncompressed ones
//! # let config = Config { deflate: None, ..config };
//! let mut client = Connection::client(ClientRequest::new("ws://example.com/chat")?, config.clone())?;
//! let mut server = Connection::server(config);
//!
//! pump(&mut client, &mut server);
//! match server.next_event()? {
//!     Some(Event::Request(req)) if req.path() == "/chat" => server.accept(Accept::new())?,
//!     other => panic!("unexpected {other:?}"),
//! }
//! pump(&mut server, &mut client);
//! assert!(matches!(client.next_event()?, Some(Event::Open(_))));
//!
//! client.send_text("ping?")?;
//! pump(&mut client, &mut server);
//! let Some(Event::Message(msg)) = server.next_event()? else { panic!() };
//! server.send(msg)?; // echo it as received
//! pump(&mut server, &mut client);
//! assert_eq!(client.next_event()?, Some(Event::Message(Message::from("ping?"))));
//!
//! // A large message is queued in pieces; the pump moves them all.
//! client.send(rfc6455::Bytes::from(vec![7u8; 100_000]))?;
//! assert!(client.output().len() < client.buffered_amount());
//! pump(&mut client, &mut server);
//! assert_eq!(client.buffered_amount(), 0);
//! assert!(matches!(server.next_event()?, Some(Event::Message(m)) if m.len() == 100_000));
//!
//! client.close(CloseCode::NORMAL, "done")?;
//! assert_eq!(client.ready_state(), ReadyState::Closing);
//! pump(&mut client, &mut server);
//! assert!(matches!(server.next_event()?, Some(Event::Close(Some(_)))));
//! pump(&mut server, &mut client); // the server's reply echoes the code
//! assert!(matches!(client.next_event()?, Some(Event::Close(Some(f))) if f.code == CloseCode::NORMAL));
//! assert_eq!(client.ready_state(), ReadyState::Closed);
//! assert!(server.should_close_transport()); // the server closes TCP first
//! assert!(client.close_expected()); // the client waits for it, under a close timeout
//! # Ok::<(), rfc6455::Error>(())
//! ```
//!
//! `tests/in_memory_pair.rs` runs this pair through every kind of
//! message, fragments, pings and both ways of closing. The timers a
//! runtime keeps beside a connection are listed in [`Connection`]'s
//! documentation.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod blocking;
mod close;
mod connection;
#[cfg(feature = "deflate")]
mod deflate;
mod error;
pub mod frame;
pub mod handshake;
mod headers;
mod inbound;
mod kernels;
pub mod mask;
mod message;
mod outbound;
mod settings;
mod state;
#[cfg(feature = "tls")]
pub mod tls;
mod token;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod utf8;

pub use bytes::Bytes;
pub use close::{CloseCode, CloseEvent, CloseFrame, MAX_REASON_LEN};
pub use connection::Connection;
#[cfg(feature = "deflate")]
pub use deflate::DeflateConfig;
pub use error::{Error, ProtocolError, TlsError, TlsErrorKind};
pub use handshake::{Accept, ClientRequest, HandshakeError, Headers, Reject, Request, Response};
pub use inbound::InputTail;
pub use message::{Event, EventRef, Message, MessageKind, MessageRef};
pub use state::{Config, ReadyState, Role};
pub use utf8::Utf8Bytes;

/// The README's examples, compiled and run as doc tests (with the default
/// features, which some of them use).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "tls"))]
pub struct ReadmeDoctests;
