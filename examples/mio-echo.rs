//! An echo server on `mio`: every connection on one thread, driven through
//! the sans-IO core with non-blocking sockets. It shows what any runtime
//! does with a [`Connection`]: read what the socket has into
//! [`Connection::read_buf`], take the events, write what is queued with
//! [`Connection::write_output_to`] until the socket is full (then wait
//! until it is writable again), and keep the timers it needs: an echo
//! server never closes first, so of those `Connection`'s documentation
//! lists, only the handshake deadline.
//!
//! ```text
//! cargo run --release --example mio-echo -- [ADDR]     # default 127.0.0.1:9003
//! ```
//!
//! It behaves as `examples/echo` does: any path but `/reject` (403), the
//! subprotocols `chat` and `superchat`, a test page at `/`, the peer's close
//! code echoed. `tests/load.rs` runs its 1,000-connection load-and-faults
//! test against it in CI (`RFC6455_LOAD_ADDR`).

use std::collections::HashMap;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rfc6455::{Config, Connection, Event, ReadyState};

#[path = "shared/echo_rules.rs"]
mod echo_rules;

use echo_rules::decide;
const LISTENER: Token = Token(0);
/// A peer must finish its opening handshake within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

struct Peer {
    stream: TcpStream,
    ws: Connection,
    opened_at: Instant,
    /// Whether the socket is registered for writability: only while
    /// output waits that the socket would not take.
    wants_write: bool,
}

// Errors end the program with their message (`Display`), not the
// `Debug` form that returning them from `main` would print.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let mut listener = TcpListener::bind(addr.parse().map_err(io::Error::other)?)?;
    println!("mio echo server on ws://{addr}/ (test page: http://{addr}/)");
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let config = Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    };
    let mut peers: HashMap<Token, Peer> = HashMap::new();
    let mut next_token = 1;
    let mut events = Events::with_capacity(1024);
    loop {
        // Wake at least once a second to enforce the handshake deadline.
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_secs(1))) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &mut peers, &mut next_token, &config);
                continue;
            }
            let token = event.token();
            let Some(peer) = peers.get_mut(&token) else {
                continue;
            };
            let keep = serve(peer, event.is_readable());
            if !keep || !update_interest(&poll, token, peer) {
                if let Some(mut peer) = peers.remove(&token) {
                    let _ = poll.registry().deregister(&mut peer.stream);
                }
            }
        }
        let now = Instant::now();
        peers.retain(|_, peer| {
            let late = peer.ws.ready_state() == ReadyState::Connecting
                && now - peer.opened_at > HANDSHAKE_TIMEOUT;
            if late {
                let _ = poll.registry().deregister(&mut peer.stream);
            }
            !late
        });
    }
}

fn accept_all(
    listener: &TcpListener,
    poll: &Poll,
    peers: &mut HashMap<Token, Peer>,
    next_token: &mut usize,
    config: &Config,
) {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nodelay(true);
                let token = Token(*next_token);
                *next_token += 1;
                if poll
                    .registry()
                    .register(&mut stream, token, Interest::READABLE)
                    .is_ok()
                {
                    peers.insert(
                        token,
                        Peer {
                            stream,
                            ws: Connection::server(config.clone()),
                            opened_at: Instant::now(),
                            wants_write: false,
                        },
                    );
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            // Out of descriptors, say: try again on the next wake-up.
            Err(e) => {
                eprintln!("accept failed: {e}");
                return;
            }
        }
    }
}

/// Moves bytes both ways and answers every event; returns whether the
/// connection stays.
fn serve(peer: &mut Peer, readable: bool) -> bool {
    if readable {
        loop {
            let buf = peer.ws.read_buf();
            match peer.stream.read(buf) {
                Ok(0) => {
                    peer.ws.receive_eof();
                    break;
                }
                Ok(n) => peer.ws.commit(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }
    loop {
        match peer.ws.next_event() {
            Ok(Some(Event::Request(request))) => {
                let answer = match decide(&request) {
                    Ok(accept) => peer.ws.accept(accept),
                    Err(reject) => peer.ws.reject(reject),
                };
                if answer.is_err() {
                    break; // its answer (a 500) is queued; the connection is closed
                }
            }
            Ok(Some(Event::Message(message))) => {
                // Queued: written below, one write for a burst of echoes.
                if peer.ws.send(message).is_err() {
                    break;
                }
            }
            Ok(Some(_)) => {} // pings are answered, closes echoed by the core
            Ok(None) => break,
            // A violation: its close frame is queued; write it, then close.
            Err(_) => break,
        }
    }
    if !write_queued(peer) {
        return false;
    }
    let done = peer.ws.buffered_amount() == 0
        && (peer.ws.should_close_transport() || peer.ws.ready_state() == ReadyState::Closed);
    !done
}

/// Writes what is queued until the socket takes no more (the rest waits
/// for a writable event); returns whether the connection is still usable.
fn write_queued(peer: &mut Peer) -> bool {
    peer.ws.write_output_to(&mut peer.stream).is_ok()
}

/// Asks for writability while output waits, and only then (a socket is
/// nearly always writable: asking otherwise would wake the loop for
/// nothing). Returns whether the registration is still good.
fn update_interest(poll: &Poll, token: Token, peer: &mut Peer) -> bool {
    let wants_write = peer.ws.buffered_amount() > 0;
    if wants_write == peer.wants_write {
        return true;
    }
    peer.wants_write = wants_write;
    let interest = if wants_write {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    };
    poll.registry()
        .reregister(&mut peer.stream, token, interest)
        .is_ok()
}
