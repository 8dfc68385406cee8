//! An echo server: every text and binary message comes back unchanged.
//!
//! ```text
//! cargo run --release --example echo -- [ADDR]     # default 127.0.0.1:9001
//! ```
//!
//! - any path is accepted, except `/reject`, refused with 403;
//! - a client offering subprotocols gets `chat` or `superchat` if it offered
//!   one of them (browsers fail the handshake when they offered protocols
//!   and none is chosen), otherwise none;
//! - offered extensions (permessage-deflate from browsers) are ignored;
//! - the peer's close code is echoed;
//! - a plain HTTP GET gets a test page using the browser's WebSocket API,
//!   so `http://127.0.0.1:9001/` can be opened in a browser.
//!
//! One thread per connection (`ServerBuilder::serve`, which caps them);
//! one line is printed per connection opened and closed.

use std::net::{TcpListener, TcpStream};

use rfc6455::blocking::ServerBuilder;
use rfc6455::{Accept, Config, Reject, Request};

const PAGE: &str = include_str!("echo.html");

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    println!("echo server on ws://{addr}/ (test page: http://{addr}/)");
    // 16 MiB messages and frames: what the Autobahn|Testsuite sends.
    let server = ServerBuilder::new().config(Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    });
    let acceptor = server.clone();
    // A thread per connection, at most `max_connections` at once (one more
    // is answered 503); out of file descriptors, the loop backs off.
    Err(server.serve(&listener, move |stream| echo(&acceptor, stream)))
}

fn decide(request: &Request) -> Result<Accept, Reject> {
    if !request.is_websocket() {
        return Err(match request.path() {
            "/" => Reject::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(PAGE),
            _ => Reject::new(404).body("not found\n"),
        });
    }
    if request.path() == "/reject" {
        return Err(Reject::new(403).body("this path is refused\n"));
    }
    Ok(
        match request
            .protocols()
            .find(|p| *p == "chat" || *p == "superchat")
        {
            Some(protocol) => Accept::new().protocol(protocol),
            None => Accept::new(),
        },
    )
}

fn echo(server: &ServerBuilder, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    let mut ws = match server.accept_with(stream, decide) {
        Ok(ws) => ws,
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
