//! Many-connection echo load, in the shape of uWebSockets' `load_test`: N
//! connections, one message in flight on each, every echo checked byte for
//! byte; messages per second for each server, side by side in one run.
//!
//! ```text
//! cargo bench -p rfc6455-bench --bench many [-- SECONDS [SERVER,...]]
//! ```
//!
//! Each server runs in a child process pinned to core 0 (`taskset`), on
//! tokio's current-thread runtime where it is async; the client runs here,
//! on one thread pinned to core 1. Servers: `rfc6455-tokio`,
//! `fastwebsockets`, `tokio-tungstenite`, `rfc6455-blocking` (a thread per
//! connection, all on the one core). The client is our tokio client for
//! every server, so rows compare servers, not clients.
//!
//! Two figures per row: echoes a second, and echoes per second of the
//! server's CPU time (its user + system time over the same window, from
//! `/proc`). Where the client, on its one core, is what limits the rate,
//! the first is the client's ceiling for every server alike; the second
//! still tells what one core of each server can do.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rfc6455::tokio::ClientBuilder;
use rfc6455::{Accept, Config, Connection, Event, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SERVERS: [&str; 4] = [
    "rfc6455-tokio",
    "fastwebsockets",
    "tokio-tungstenite",
    "rfc6455-blocking",
];
/// (connections, message size)
const ROWS: [(usize, usize); 3] = [(100, 20), (500, 16 * 1024), (1000, 512)];
const SERVER_CORE: &str = "0";
const CLIENT_CORE: &str = "1";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(&args[1], &args[2]);
    }
    let free: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let secs: f64 = free.first().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let servers: Vec<String> = match free.get(1) {
        Some(list) => list.split(',').map(str::to_owned).collect(),
        None => SERVERS.iter().map(|s| s.to_string()).collect(),
    };
    // Pins this process's main thread (and so the runtime's, made below).
    let pinned = Command::new("taskset")
        .args(["-cp", CLIENT_CORE, &std::process::id().to_string()])
        .output()
        .is_ok_and(|o| o.status.success());
    if !pinned {
        eprintln!("taskset failed: the client is not pinned");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut table = Vec::new();
    for server in &servers {
        // The server binds a port of the kernel's choosing and says which:
        // a fixed port may be held by something else on a shared machine,
        // and the load would then measure that.
        let (mut child, addr) = spawn_server(server);
        let pid = child.id();
        let rates = runtime.block_on(async {
            wait_listening(&addr).await;
            let mut rates = Vec::new();
            for (n, size) in ROWS {
                let (rate, per_cpu) =
                    load(&addr, n, size, Duration::from_secs_f64(secs), pid).await;
                println!(
                    "{server:>18}  {n:>5} x {size:>6} B  {rate:>10.0} msg/s  {per_cpu:>10.0} msg per server CPU second"
                );
                rates.push((rate, per_cpu));
            }
            rates
        });
        let _ = child.kill();
        let _ = child.wait();
        table.push((server.clone(), rates));
    }
    println!();
    println!("echoes a second (and per second of the server's CPU time)");
    print!("| N x size |");
    for (server, _) in &table {
        print!(" {server} |");
    }
    println!();
    print!("|---|");
    for _ in &table {
        print!("---|");
    }
    println!();
    for (row, (n, size)) in ROWS.iter().enumerate() {
        print!("| {n} x {} |", human(*size));
        for (_, rates) in &table {
            let (rate, per_cpu) = rates[row];
            print!(" {:.0} k ({:.0} k) |", rate / 1000.0, per_cpu / 1000.0);
        }
        println!();
    }
}

fn human(size: usize) -> String {
    if size >= 1024 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

/// Starts `server` on core 0; returns it and the address it listens on
/// (the first line it prints).
fn spawn_server(server: &str) -> (Child, String) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("taskset")
        .args(["-c", SERVER_CORE])
        .arg(exe)
        .args(["serve", server, "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("taskset and this bench's own binary");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server's address");
    (child, line.trim().to_owned())
}

/// Tells the parent where a server listens.
fn announce(addr: std::net::SocketAddr) {
    let mut out = std::io::stdout();
    writeln!(out, "{addr}").and_then(|()| out.flush()).unwrap();
}

async fn wait_listening(addr: &str) {
    for _ in 0..300 {
        if TcpStream::connect(addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no server on {addr}");
}

/// The user + system CPU time of process `pid` so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime: fields 14 and 15 of the whole line.
    field(11) + field(12)
}

/// Clock ticks a second, as `getconf CLK_TCK` reports on Linux.
const TICKS: f64 = 100.0;

/// Opens `n` connections, keeps one `size`-byte message in flight on each
/// for `span` (after a short warm-up) and returns the echoes a second and
/// the echoes per second of CPU time of the server `pid` (whose affinity
/// `taskset` set before it turned into the server).
async fn load(addr: &str, n: usize, size: usize, span: Duration, pid: u32) -> (f64, f64) {
    let url = format!("ws://{addr}/");
    // No permessage-deflate: neither fastwebsockets nor tokio-tungstenite
    // has it, and every server sees the same bytes.
    let client = ClientBuilder::new(url).no_heartbeat().config(Config {
        deflate: None,
        ..Config::default()
    });
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(client.connect().await.expect("connect"));
    }
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut ws) in sockets.into_iter().enumerate() {
        let (counting, stop, count) = (counting.clone(), stop.clone(), count.clone());
        let payload: Vec<u8> = (0..size).map(|b| (b * 31 + i) as u8).collect();
        let message = Message::from(payload);
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                ws.send(message.clone()).await.expect("send");
                let echo = ws.recv().await.expect("recv").expect("an echo");
                assert_eq!(echo.as_bytes(), message.as_bytes(), "echo differs");
                if counting.load(Ordering::Relaxed) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = cpu_ticks(pid);
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(span).await;
    let echoed = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    let cpu = (cpu_ticks(pid) - cpu_before) as f64 / TICKS;
    stop.store(true, Ordering::Relaxed);
    // Each connection finishes its message in flight, so no server sees
    // a reset mid-frame; then all are dropped.
    while let Some(done) = tasks.join_next().await {
        done.expect("a connection task failed");
    }
    let per_cpu = if cpu > 0.0 { echoed as f64 / cpu } else { 0.0 };
    (echoed as f64 / elapsed.as_secs_f64(), per_cpu)
}

fn serve(server: &str, addr: &str) {
    if server == "rfc6455-blocking" {
        return serve_blocking(addr);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await.unwrap();
        announce(listener.local_addr().unwrap());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            match server {
                "rfc6455-tokio" => tokio::spawn(ours(stream)),
                "fastwebsockets" => tokio::spawn(fastwebsockets_echo(stream)),
                "tokio-tungstenite" => tokio::spawn(tungstenite_echo(stream)),
                other => panic!("unknown server {other}"),
            };
        }
    });
}

async fn ours(stream: TcpStream) {
    let Ok(mut ws) = rfc6455::tokio::accept(stream).await else {
        return;
    };
    while let Ok(Some(message)) = ws.recv().await {
        if ws.queue(message).is_err() {
            break;
        }
    }
}

/// The opening handshake for the servers that take a stream after it:
/// the request is parsed and answered by our core.
async fn handshake(stream: &mut TcpStream) -> Option<()> {
    let mut conn = Connection::server(Config::default());
    let mut buf = [0u8; 4096];
    loop {
        match conn.next_event() {
            Ok(Some(Event::Request(_))) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        conn.receive(&buf[..n]);
    }
    conn.accept(Accept::new()).ok()?;
    stream.write_all(conn.output()).await.ok()
}

async fn fastwebsockets_echo(mut stream: TcpStream) {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    if handshake(&mut stream).await.is_none() {
        return;
    }
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    let mut ws = FragmentCollector::new(ws);
    while let Ok(frame) = ws.read_frame().await {
        let echo = match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await,
            _ => Ok(()),
        };
        if echo.is_err() {
            break;
        }
    }
}

async fn tungstenite_echo(stream: TcpStream) {
    use futures_util::{SinkExt, StreamExt};
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}

fn serve_blocking(addr: &str) {
    let listener = std::net::TcpListener::bind(addr).unwrap();
    announce(listener.local_addr().unwrap());
    let server = rfc6455::blocking::ServerBuilder::new();
    let acceptor = server.clone();
    let error = server.serve(&listener, move |stream| {
        let Ok(mut ws) = acceptor.accept(stream) else {
            return;
        };
        while let Ok(Some(message)) = ws.recv() {
            if ws.queue(message).is_err() {
                break;
            }
        }
    });
    panic!("listener failed: {error}");
}
