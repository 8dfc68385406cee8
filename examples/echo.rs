//! An echo server: every text and binary message comes back unchanged.
//!
//! ```text
//! cargo run --release --example echo -- [ADDR]     # default 127.0.0.1:9001
//! cargo run --release --example echo -- --tls-cert cert.pem --tls-key key.pem [ADDR]
//! ```
//!
//! With `--tls-cert` and `--tls-key` (PEM files: the certificate chain, leaf
//! first, and its private key) it serves `wss://` and its page over
//! `https://` instead (see the README for a self-signed certificate).
//!
//! - any path is accepted, except `/reject`, refused with 403;
//! - a client offering subprotocols gets `chat` or `superchat` if it offered
//!   one of them (browsers fail the handshake when they offered protocols
//!   and none is chosen), otherwise none;
//! - permessage-deflate, which browsers offer, is accepted (`Config::default`,
//!   feature `deflate`); other extensions are ignored;
//! - the peer's close code is echoed;
//! - a plain HTTP GET gets a test page using the browser's WebSocket API,
//!   so `http://127.0.0.1:9001/` can be opened in a browser.
//!
//! One thread per connection (`ServerBuilder::serve`, which caps them);
//! one line is printed per connection opened and closed.

use std::net::{TcpListener, TcpStream};

use rfc6455::blocking::{Outcome, ServerBuilder};
use rfc6455::Config;

#[path = "shared/echo_rules.rs"]
mod echo_rules;
#[path = "shared/server_args.rs"]
mod server_args;

use echo_rules::decide;
use server_args::args;

// Errors end the program with their message (`Display`), not the
// `Debug` form that returning them from `main` would print.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, tls) = args("127.0.0.1:9001")?;
    let listener = TcpListener::bind(&addr)?;
    // 16 MiB messages and frames: what the Autobahn|Testsuite sends.
    let server = ServerBuilder::new().config(Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    });
    let server = match tls {
        #[cfg(feature = "tls")]
        Some((cert, key)) => {
            println!("echo server on wss://{addr}/ (test page: https://{addr}/)");
            server.tls(rfc6455::tls::server_config_from_pem(cert, key)?)
        }
        #[cfg(not(feature = "tls"))]
        Some(_) => return Err("--tls-cert needs the `tls` feature".into()),
        None => {
            println!("echo server on ws://{addr}/ (test page: http://{addr}/)");
            server
        }
    };
    let acceptor = server.clone();
    // A thread per connection, at most `max_connections` at once (one more
    // is answered 503); out of file descriptors, the loop backs off.
    Err(server
        .serve(&listener, move |stream| echo(&acceptor, stream))
        .into())
}

fn echo(server: &ServerBuilder, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    let mut ws = match server.handle(stream, decide) {
        Ok(Outcome::WebSocket(ws)) => ws,
        Ok(Outcome::Answered { request, status }) => {
            println!(
                "{peer}: {} {} -> {status}",
                request.method(),
                request.path()
            );
            return;
        }
        Ok(_) => return,
        Err(e) => {
            println!("{peer}: not opened: {e}");
            return;
        }
    };
    println!(
        "{peer}: open (subprotocol {:?})",
        ws.protocol().unwrap_or("none")
    );
    // `queue` leaves the echo in the output buffer; `recv` writes everything
    // queued before it waits for input, so a burst of pipelined messages is
    // answered with one write.
    let result = loop {
        match ws.recv() {
            Ok(Some(message)) => {
                if let Err(e) = ws.queue(message) {
                    break Err(e);
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let event = ws.close_event().cloned();
    match (result, event) {
        (Ok(()), Some(ev)) => println!(
            "{peer}: closed {} {:?} clean={}",
            ev.code, ev.reason, ev.was_clean
        ),
        (Err(e), Some(ev)) => println!("{peer}: closed {} ({e})", ev.code),
        (Err(e), None) => println!("{peer}: error: {e}"),
        (Ok(()), None) => println!("{peer}: closed"),
    }
}
