//! The chat room of `examples/chat.rs` on the tokio adapter. Each
//! connection is named `userN`; everyone receives `userN comes in`,
//! `userN says: <text>` and `userN left`.
//!
//! ```text
//! cargo run --features tokio --example tokio-chat -- [ADDR]     # default 127.0.0.1:9002
//! ```
//!
//! Open `http://127.0.0.1:9002/` in two browser tabs to chat.
//!
//! Each member's task waits, with `select!`, on its socket and on its own
//! channel from the room: no polling, no timeouts. Both `recv`s are
//! cancel-safe, so whichever loses the race loses nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rfc6455::tokio::ServerBuilder;
use rfc6455::{Accept, Error, Message, Reject, Request};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

const PAGE: &str = include_str!("chat.html");

/// Everyone connected, by id.
#[derive(Clone, Default)]
struct Room {
    members: Arc<Mutex<HashMap<usize, UnboundedSender<Arc<str>>>>>,
}

impl Room {
    fn join(&self, id: usize) -> UnboundedReceiver<Arc<str>> {
        let (tx, rx) = unbounded_channel();
        self.members.lock().unwrap().insert(id, tx);
        rx
    }

    fn leave(&self, id: usize) {
        self.members.lock().unwrap().remove(&id);
    }

    fn broadcast(&self, text: String) {
        println!("{text}");
        let text: Arc<str> = text.into();
        for member in self.members.lock().unwrap().values() {
            let _ = member.send(Arc::clone(&text));
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat on ws://{addr}/ (page: http://{addr}/)");
    let server = ServerBuilder::new();
    let room = Room::default();
    let mut next_id = 1;
    loop {
        let (stream, _) = listener.accept().await?;
        let (server, room, id) = (server.clone(), room.clone(), next_id);
        next_id += 1;
        tokio::spawn(async move {
            if let Err(e) = member(&server, &room, id, stream).await {
                eprintln!("user{id}: {e}");
            }
        });
    }
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

async fn member(
    server: &ServerBuilder,
    room: &Room,
    id: usize,
    stream: TcpStream,
) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let mut ws = server.accept_with(stream, decide).await?;
    let mut inbox = room.join(id);
    room.broadcast(format!("user{id} comes in"));
    let result = loop {
        tokio::select! {
            received = ws.recv() => match received {
                Ok(Some(Message::Text(text))) => room.broadcast(format!("user{id} says: {text}")),
                Ok(Some(Message::Binary(_))) => {}
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            },
            Some(text) = inbox.recv() => {
                // A failure means the connection is ending; recv reports it.
                let _ = ws.send_text(&text).await;
            }
        }
    };
    room.leave(id);
    room.broadcast(format!("user{id} left"));
    result
}
