//! A broadcast chat room. Each connection is named `userN`; everyone
//! receives `userN comes in`, `userN says: <text>` and `userN left`.
//!
//! ```text
//! cargo run --example chat -- [ADDR]     # default 127.0.0.1:9002
//! cargo run --example chat -- --tls-cert cert.pem --tls-key key.pem [ADDR]
//! ```
//!
//! With `--tls-cert` and `--tls-key` it serves `wss://` and its page over
//! `https://`.
//!
//! Open `http://127.0.0.1:9002/` in two browser tabs to chat. Browsers
//! offer permessage-deflate, which the default `Config` accepts when the
//! `deflate` feature is on.
//!
//! Each connection has its own thread, blocked in `recv` with no read
//! timeout; the socket is split, and the room holds each member's sender,
//! so a broadcast is written from the thread of whoever spoke.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rfc6455::blocking::{Outcome, Sender, ServerBuilder, Stream, WebSocket};
use rfc6455::{Accept, Error, Message, Reject, Request};

#[path = "shared/server_args.rs"]
mod server_args;

use server_args::args;

const PAGE: &str = include_str!("chat.html");

/// Everyone connected, by id.
#[derive(Clone, Default)]
struct Room {
    members: Arc<Mutex<HashMap<usize, Sender<Stream>>>>,
}

impl Room {
    fn join(&self, id: usize, sender: Sender<Stream>) {
        self.members.lock().unwrap().insert(id, sender);
    }

    fn leave(&self, id: usize) {
        self.members.lock().unwrap().remove(&id);
    }

    fn broadcast(&self, text: String) {
        println!("{text}");
        // Sent outside the room's lock: a member slow to read delays this
        // broadcast (up to the write timeout), not joins, leaves and the
        // other members' broadcasts. One that cannot take it leaves the
        // room (if it is gone, its heartbeat ends its connection).
        let members: Vec<(usize, Sender<Stream>)> = self
            .members
            .lock()
            .unwrap()
            .iter()
            .map(|(id, sender)| (*id, sender.clone()))
            .collect();
        for (id, member) in members {
            if member.send_text(&text).is_err() {
                self.leave(id);
            }
        }
    }
}

// Errors end the program with their message (`Display`), not the
// `Debug` form that returning them from `main` would print.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, tls) = args("127.0.0.1:9002")?;
    let listener = TcpListener::bind(&addr)?;
    let server = ServerBuilder::new();
    let server = match tls {
        #[cfg(feature = "tls")]
        Some((cert, key)) => {
            println!("chat on wss://{addr}/ (page: https://{addr}/)");
            server.tls(rfc6455::tls::server_config_from_pem(cert, key)?)
        }
        #[cfg(not(feature = "tls"))]
        Some(_) => return Err("--tls-cert needs the `tls` feature".into()),
        None => {
            println!("chat on ws://{addr}/ (page: http://{addr}/)");
            server
        }
    };
    let room = Room::default();
    let next_id = AtomicUsize::new(1);
    let acceptor = server.clone();
    // At most `max_connections` members at once (one thread each); one
    // more is answered 503.
    Err(server
        .serve(&listener, move |stream| {
            let peer = stream
                .peer_addr()
                .map_or_else(|_| "?".into(), |a| a.to_string());
            match acceptor.handle(stream, decide) {
                // Numbered only once it is a member: a page load is not one.
                Ok(Outcome::WebSocket(ws)) => {
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = member(&room, id, ws) {
                        eprintln!("user{id}: {e}");
                    }
                }
                Ok(Outcome::Answered { request, status }) => {
                    println!(
                        "{peer}: {} {} -> {status}",
                        request.method(),
                        request.path()
                    );
                }
                Ok(_) => {}
                Err(e) => eprintln!("{peer}: not opened: {e}"),
            }
        })
        .into())
}

fn decide(request: &Request) -> Result<Accept, Reject> {
    if request.is_websocket() {
        Ok(Accept::new())
    } else {
        Err(Reject::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(PAGE))
    }
}

fn member(room: &Room, id: usize, ws: WebSocket<Stream>) -> Result<(), Error> {
    let (mut reader, sender) = ws.split()?;
    room.join(id, sender);
    room.broadcast(format!("user{id} comes in"));
    let result = loop {
        match reader.recv() {
            Ok(Some(Message::Text(text))) => room.broadcast(format!("user{id} says: {text}")),
            Ok(Some(Message::Binary(_))) => {}
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    room.leave(id);
    room.broadcast(format!("user{id} left"));
    result
}
