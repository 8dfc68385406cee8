//! Load and faults over loopback: 1,000 concurrent connections to a
//! blocking echo server while other peers misbehave; every message comes
//! back intact and the server's threads return to their baseline.
//!
//! One test in its own binary, so no other test's threads skew the count.
//!
//! With `RFC6455_LOAD_ADDR=HOST:PORT` set, the same clients and faulty
//! peers go to a server already running there (`.ci/run` points them at
//! `examples/mio-echo`), and only what a client can see is checked: every
//! message echoed intact, every real connection closed cleanly, every
//! faulty peer answered or dropped.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientBuilder, ServerBuilder};
use rfc6455::Message;

const CONNECTIONS: usize = 1000;
const MESSAGES: usize = 10;
const STACK: usize = 256 * 1024;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[derive(Default)]
struct Stats {
    served: AtomicUsize,
    clean: AtomicUsize,
    failed: AtomicUsize,
    live: AtomicUsize,
}

/// A thread-per-connection echo server, as `examples/echo` is built.
fn start_server(stats: Arc<Stats>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = ServerBuilder::new().handshake_timeout(Duration::from_secs(2));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (server, stats) = (server.clone(), stats.clone());
            stats.live.fetch_add(1, Ordering::SeqCst);
            thread::Builder::new()
                .stack_size(STACK)
                .spawn(move || {
                    stats.served.fetch_add(1, Ordering::SeqCst);
                    let outcome = server.accept(stream).map(|mut ws| {
                        while let Ok(Some(m)) = ws.recv() {
                            if ws.queue(m).is_err() {
                                break;
                            }
                        }
                        ws.close_event().is_some_and(|e| e.was_clean)
                    });
                    match outcome {
                        Ok(true) => stats.clean.fetch_add(1, Ordering::SeqCst),
                        _ => stats.failed.fetch_add(1, Ordering::SeqCst),
                    };
                    stats.live.fetch_sub(1, Ordering::SeqCst);
                })
                .unwrap();
        }
    });
    addr
}

/// Peers that misbehave; returns how many faults were tried.
fn faults(addr: SocketAddr) -> usize {
    let connect = || {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    };
    let mut tried = 0;
    for round in 0..20 {
        // Gone mid-handshake.
        let mut s = connect();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpg").unwrap();
        drop(s);
        // Gone mid-frame: a header promising 100 bytes, then 3 of them.
        let mut s = connect();
        common::raw::client_handshake(&mut s);
        s.write_all(&[0x82, 0xe4, 1, 2, 3, 4, 9, 9, 9]).unwrap();
        drop(s);
        // Gone mid-close: a close frame, then gone without reading the reply.
        let mut s = connect();
        common::raw::client_handshake(&mut s);
        s.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]).unwrap();
        drop(s);
        // A reset: unread data in our receive buffer when we close makes
        // the kernel send RST instead of FIN.
        let mut s = connect();
        common::raw::client_handshake(&mut s);
        s.write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']).unwrap();
        thread::sleep(Duration::from_millis(5));
        drop(s);
        // Half-closed: we stop writing, but read what the server says.
        let mut s = connect();
        common::raw::client_handshake(&mut s);
        s.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        // Garbage instead of a request.
        let mut s = connect();
        s.write_all(&[0xff; 64]).unwrap();
        s.write_all(b"\r\n\r\n").unwrap();
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        assert!(
            reply.starts_with(b"HTTP/1.1 400"),
            "round {round}: {reply:?}"
        );
        tried += 6;
    }
    tried
}

#[test]
fn a_thousand_connections_and_faulty_peers() {
    // Both ends of every connection live in this process. `.ci/run` raises
    // the open-files limit so CI always runs the full thousand.
    let limit = open_files_limit().unwrap_or(u64::MAX) as usize;
    let connections = CONNECTIONS.min(limit.saturating_sub(200) / 2);
    if connections < CONNECTIONS {
        println!(
            "load: the open-files limit {limit} allows {connections} connections, not {CONNECTIONS}; \
             raise it with `ulimit -n 4096` for the full test"
        );
    }
    assert!(
        connections >= 100,
        "open-files limit {limit} is too low for a load test"
    );
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let external: Option<SocketAddr> = std::env::var("RFC6455_LOAD_ADDR")
        .ok()
        .map(|a| a.parse().expect("RFC6455_LOAD_ADDR: HOST:PORT"));
    let addr = match external {
        Some(addr) => addr,
        None => start_server(stats.clone()),
    };
    thread::sleep(Duration::from_millis(50));
    let baseline = threads();

    // All clients connect, wait for each other, then exchange messages.
    let all_connected = Arc::new(Barrier::new(connections + 1));
    let go = Arc::new(Barrier::new(connections + 1));
    let echoed = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..connections)
        .map(|i| {
            let (all_connected, go, echoed) = (all_connected.clone(), go.clone(), echoed.clone());
            thread::Builder::new()
                .stack_size(STACK)
                .spawn(move || {
                    let mut ws = ClientBuilder::new(format!("ws://{addr}/"))
                        .read_timeout(Some(Duration::from_secs(30)))
                        .connect()
                        .expect("connect");
                    all_connected.wait();
                    go.wait();
                    for j in 0..MESSAGES {
                        let message = if j % 2 == 0 {
                            Message::from(format!("client {i} message {j} ✓"))
                        } else {
                            Message::from(vec![(i + j) as u8; 100 + j * 100])
                        };
                        ws.send(message.clone()).unwrap();
                        assert_eq!(ws.recv().unwrap(), Some(message), "client {i}");
                        echoed.fetch_add(1, Ordering::SeqCst);
                    }
                    ws.close(1000, "done").unwrap();
                    assert_eq!(ws.recv().unwrap(), None);
                    assert!(ws.close_event().unwrap().was_clean);
                })
                .unwrap()
        })
        .collect();
    all_connected.wait();
    // Every client has passed its handshake and waits with its connection
    // open; the in-process server also counts them from its side.
    let held = match external {
        Some(_) => connections,
        None => stats.live.load(Ordering::SeqCst),
    };
    go.wait();
    // Faulty peers while the 1,000 are connected.
    let faults_tried = faults(addr);
    for c in clients {
        c.join().unwrap();
    }

    let messages = echoed.load(Ordering::SeqCst);
    if let Some(addr) = external {
        println!(
            "load: {held} connections upgraded and open at once (counted by the clients) on the server at {addr}, \
             {messages} messages echoed intact, {faults_tried} faults tried, {} messages lost, {:.1} s",
            connections * MESSAGES - messages,
            started.elapsed().as_secs_f64(),
        );
        assert_eq!(messages, connections * MESSAGES);
        return;
    }
    // The server's threads end: back to the baseline within a bound.
    let deadline = Instant::now() + Duration::from_secs(20);
    while (stats.live.load(Ordering::SeqCst) > 0 || threads() > baseline)
        && Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(20));
    }
    println!(
        "load: {held} connections held at once, {messages} messages echoed, {faults_tried} faults tried, \
         {} messages lost, {} clean closes, {} failed connections (the faults), threads {} -> {} (baseline {baseline}), {:.1} s",
        connections * MESSAGES - messages,
        stats.clean.load(Ordering::SeqCst),
        stats.failed.load(Ordering::SeqCst),
        baseline,
        threads(),
        started.elapsed().as_secs_f64(),
    );
    assert!(held >= connections, "{held} held");
    assert_eq!(messages, connections * MESSAGES);
    assert_eq!(stats.live.load(Ordering::SeqCst), 0);
    assert!(
        threads() <= baseline,
        "threads {} > baseline {baseline}",
        threads()
    );
    assert_eq!(
        stats.served.load(Ordering::SeqCst),
        connections + faults_tried
    );
    // The mid-close peer and the half-closed one may end cleanly or not;
    // every other fault fails, and every real client closes cleanly.
    assert!(stats.clean.load(Ordering::SeqCst) >= connections);
}
