//! End to end over loopback: a client and an echo server in two threads of
//! this process, talking WebSocket over `127.0.0.1` with the blocking
//! adapters, `rfc6455` and `tungstenite` side by side, and raw TCP (the same
//! bytes without any WebSocket processing) as the ceiling.
//!
//! Every socket has `TCP_NODELAY`. Each benchmark opens one connection to a
//! fresh server before it starts, keeps it across all of criterion's
//! iterations, then closes it cleanly (close handshake, TCP closed by the
//! server) and joins the server thread, which serves exactly one connection.
//! Times are wall-clock time.
//!
//! Groups:
//!
//! - `pipelined_16B`: one iteration writes 100 text messages of 16 bytes,
//!   then reads the 100 echoes. Throughput is messages per second.
//! - `ping_pong_16B`: one iteration sends one 16 B text message and waits
//!   for its echo.
//! - `echo_1MiB`: one iteration sends one 1 MiB binary message and waits for
//!   its echo. Throughput is payload bytes (one way) per second.
//!
//! Benchmark ids are `client_<who>/server_<who>`:
//!
//! - `server_ours`: `ServerBuilder::accept`, then `recv` + `queue` (exactly
//!   `examples/echo.rs`): `recv` writes what is queued before it waits for
//!   input, so a burst of pipelined messages is answered with one write.
//! - `server_tungstenite_send`: `tungstenite::accept`, then `read` and
//!   `send` for every data message: the usual echo server; `send` flushes
//!   every message (one write per message).
//! - `server_tungstenite_coalesced`: as above with `write` per message and
//!   `flush` after every `batch` messages received, where `batch` is the
//!   number of messages per iteration (100 pipelined, 1 otherwise).
//!   tungstenite has no way to ask whether more input is already buffered,
//!   so this server is told the batch size: the best case for tungstenite,
//!   which a real server could not do in general.
//! - `client_ours`: `ClientBuilder::connect`, `queue` each message, `flush`,
//!   then `recv` each echo.
//! - `client_tungstenite`: `tungstenite::client` over a `TcpStream`, `write`
//!   each message, `flush`, then `read` each echo.
//! - `raw_tcp`: the client writes the bytes a WebSocket client would
//!   (pre-encoded masked frames, all 100 in one write when pipelined) and
//!   reads back as many bytes. For the 16 B groups the server echoes what
//!   each `read` returns, as it arrives; for `echo_1MiB` the client writes
//!   1 MiB of plain bytes and the server reads the whole 1 MiB before it
//!   writes it back (store and forward, as any WebSocket echo server must
//!   do with a message; a streaming echo would also deadlock once the
//!   socket buffers fill while the client is still writing).
//!
//! - `tls_pipelined_16B` and `tls_echo_1MiB`: as `pipelined_16B` and
//!   `echo_1MiB`, over TLS 1.3 on both ends with one rustls configuration
//!   (ring provider, a test certificate made at start with rcgen). Ours is
//!   `wss://` through `ClientBuilder` and `ServerBuilder::tls`; tungstenite
//!   runs over `rustls::StreamOwned`, as its own rustls feature does.
//!   Compare with the plain groups' rows of the same pair.
//!
//! Limits admit 1 MiB messages on both libraries (16 MiB frames and
//! messages).
//!
//! After each pair the bench prints, per iteration and for each end, the
//! CPU time of its thread (user and system, so the kernel's TCP work that
//! lands on it counts) and how often it went to sleep (voluntary context
//! switches); Linux only. Wall time alone cannot tell library work from
//! scheduling: on a VM every sleep costs a wake-up of tens of microseconds,
//! and where the kernel does its TCP work depends on both ends' timing.
//!
//! Clock: wall-clock time by default, which needs two idle cores (client
//! and server each on one) to mean anything. `BENCH_CLOCK=cpu` times the CPU
//! time of the whole process instead (client and server threads, user and
//! system, so the kernel's TCP work counts): the cost of an iteration,
//! independent of how long the threads waited for a core on a busy machine.
//!
//! `cargo bench -p rfc6455-bench --bench e2e -- pipelined` runs one group;
//! `cargo bench -p rfc6455-bench --bench e2e -- 'tls_|client_ours/server_ours'`
//! the TLS groups and our plain rows.

mod common;

use std::hint::black_box;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use rfc6455::blocking::{ClientBuilder, ServerBuilder, Stream, Transport, WebSocket};
use rfc6455::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use rfc6455::mask::apply_mask;
use rfc6455::tls::rustls::{self, pki_types::ServerName, StreamOwned};
use rfc6455::{Config, Message};
use tungstenite::error::Error as TError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Bytes as TBytes, Message as TMessage, WebSocket as TWebSocket};

/// Messages per iteration of `pipelined_16B`.
const PIPELINE: usize = 100;
/// The small payload.
const TEXT_16: &str = "0123456789abcdef";
/// The large payload size.
const MIB: usize = 1 << 20;
/// Frame and message limits for both libraries.
const LIMIT: usize = 16 << 20;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

fn our_config() -> Config {
    Config {
        max_frame_size: LIMIT,
        max_message_size: LIMIT,
        // The rows compare framing with tungstenite, which has no
        // permessage-deflate: neither end offers it.
        deflate: None,
        ..Config::default()
    }
}

fn their_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(Some(LIMIT))
        .max_message_size(Some(LIMIT))
}

/// Both ends' TLS configurations: a CA and a leaf for 127.0.0.1 made at
/// start, ring as the provider on both sides.
#[derive(Clone)]
struct Tls {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

impl Tls {
    fn new() -> Tls {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().expect("leaf key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("leaf params")
            .signed_by(&key, &issuer)
            .expect("leaf certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server =
            rfc6455::tls::server_config(vec![leaf.der().clone()], key).expect("server config");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).expect("root");
        let client = rfc6455::tls::client_config_with_roots(roots).expect("client config");
        Tls { server, client }
    }
}

// ---------------------------------------------------------------- servers

#[derive(Clone, Copy, Debug)]
enum Server {
    /// `recv` + `queue`, as `examples/echo.rs`.
    Ours,
    /// `read` + `send` (one flush per message).
    TungSend,
    /// `read` + `write`, `flush` every `batch` messages.
    TungCoalesced { batch: usize },
    /// Echo bytes; `Some(unit)`: read `unit` bytes whole before writing
    /// them back, `None`: write back what each read returns.
    Raw { unit: Option<usize> },
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Ours => "server_ours",
            Server::TungSend => "server_tungstenite_send",
            Server::TungCoalesced { .. } => "server_tungstenite_coalesced",
            Server::Raw { .. } => "server_raw_tcp",
        }
    }
}

/// A server thread on an ephemeral loopback port that serves exactly one
/// connection and exits when it closes.
struct Running {
    addr: SocketAddr,
    thread: JoinHandle<Tally>,
}

/// What one end did over a connection: messages it echoed (the server;
/// bytes for raw TCP) or iterations it ran (the client), and what its
/// thread spent meanwhile.
struct Tally {
    count: usize,
    usage: Option<Usage>,
}

/// A thread's resource use: CPU time (user and system) and how often it
/// blocked (voluntary context switches).
#[derive(Clone, Copy)]
struct Usage {
    cpu_us: u64,
    sleeps: u64,
}

impl Usage {
    #[cfg(target_os = "linux")]
    fn now() -> Option<Usage> {
        // SAFETY: an all-zero `rusage` is valid, and getrusage only writes
        // into the one it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
            return None;
        }
        let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        Some(Usage {
            cpu_us: us(ru.ru_utime) + us(ru.ru_stime),
            sleeps: ru.ru_nvcsw as u64,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn now() -> Option<Usage> {
        None
    }

    fn since(before: Option<Usage>) -> Option<Usage> {
        let (b, a) = (before?, Usage::now()?);
        Some(Usage {
            cpu_us: a.cpu_us - b.cpu_us,
            sleeps: a.sleeps - b.sleeps,
        })
    }
}

/// Prints what each end of a pair spent per iteration (nothing for a pair
/// that the filter skipped).
fn report_usage(name: &str, client: Tally, server: Tally, server_per_iteration: usize) {
    let (Some(c), Some(s)) = (client.usage, server.usage) else {
        return;
    };
    if client.count == 0 {
        return;
    }
    let iterations = client.count as f64;
    let served = (server.count as f64 / server_per_iteration as f64).max(1.0);
    println!(
        "{name}: per iteration, client {:.1} us CPU and {:.1} sleeps, server {:.1} us CPU and {:.1} sleeps",
        c.cpu_us as f64 / iterations,
        c.sleeps as f64 / iterations,
        s.cpu_us as f64 / served,
        s.sleeps as f64 / served,
    );
}

fn spawn(server: Server, tls: Option<&Tls>) -> Running {
    let tls = tls.map(|t| t.server.clone());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    let thread = thread::Builder::new()
        .name(server.name().into())
        .spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            drop(listener);
            stream.set_nodelay(true).expect("TCP_NODELAY");
            let before = Usage::now();
            let over_tls = |stream| {
                let config = tls.clone().expect("TLS");
                let conn = rustls::ServerConnection::new(config).expect("TLS server");
                StreamOwned::new(conn, stream)
            };
            let count = match (server, tls.is_some()) {
                (Server::Ours, _) => serve_ours(stream, tls.clone()),
                (Server::TungSend, false) => serve_tungstenite(stream, None),
                (Server::TungSend, true) => serve_tungstenite(over_tls(stream), None),
                (Server::TungCoalesced { batch }, false) => serve_tungstenite(stream, Some(batch)),
                (Server::TungCoalesced { batch }, true) => {
                    serve_tungstenite(over_tls(stream), Some(batch))
                }
                (Server::Raw { unit }, _) => serve_raw(stream, unit),
            };
            Tally {
                count,
                usage: Usage::since(before),
            }
        })
        .expect("spawn server thread");
    Running { addr, thread }
}

/// Each server returns how many messages (raw: bytes) it echoed.
fn serve_ours(stream: TcpStream, tls: Option<Arc<rustls::ServerConfig>>) -> usize {
    let mut server = ServerBuilder::new().config(our_config());
    if let Some(tls) = tls {
        server = server.tls(tls);
    }
    let mut ws = server.accept(stream).expect("our server: handshake");
    let mut echoed = 0;
    while let Some(message) = ws.recv().expect("our server: recv") {
        ws.queue(message).expect("our server: queue");
        echoed += 1;
    }
    echoed
}

fn serve_tungstenite<S: Read + Write>(stream: S, batch: Option<usize>) -> usize {
    let mut ws = tungstenite::accept_with_config(stream, Some(their_config()))
        .expect("tungstenite server: handshake");
    let mut received = 0usize;
    loop {
        let message = match ws.read() {
            Ok(m) => m,
            Err(TError::ConnectionClosed) => return received,
            Err(TError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return received,
            Err(e) => panic!("tungstenite server: read: {e}"),
        };
        if !(message.is_text() || message.is_binary()) {
            continue;
        }
        received += 1;
        match batch {
            None => ws.send(message).expect("tungstenite server: send"),
            Some(batch) => {
                ws.write(message).expect("tungstenite server: write");
                if received.is_multiple_of(batch) {
                    ws.flush().expect("tungstenite server: flush");
                }
            }
        }
    }
}

fn serve_raw(mut stream: TcpStream, unit: Option<usize>) -> usize {
    let mut echoed = 0;
    match unit {
        None => {
            let mut buf = vec![0u8; 64 << 10];
            loop {
                let n = match stream.read(&mut buf) {
                    Ok(0) => return echoed,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => panic!("raw server: read: {e}"),
                };
                stream.write_all(&buf[..n]).expect("raw server: write");
                echoed += n;
            }
        }
        Some(unit) => {
            let mut buf = vec![0u8; unit];
            loop {
                match stream.read_exact(&mut buf) {
                    Ok(()) => {
                        stream.write_all(&buf).expect("raw server: write");
                        echoed += unit;
                    }
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return echoed,
                    Err(e) => panic!("raw server: read: {e}"),
                }
            }
        }
    }
}

// ---------------------------------------------------------------- clients

#[derive(Clone, Copy, Debug)]
enum Client {
    Ours,
    Tung,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Ours => "client_ours",
            Client::Tung => "client_tungstenite",
        }
    }
}

/// What one iteration sends: `count` copies of one message.
struct Workload {
    count: usize,
    ours: Message,
    theirs: TMessage,
    /// The raw TCP client's bytes for one iteration.
    raw: Vec<u8>,
}

impl Workload {
    fn text_16(count: usize) -> Self {
        let frame = masked_frame(OpCode::Text, TEXT_16.as_bytes());
        Workload {
            count,
            ours: Message::from(TEXT_16),
            theirs: TMessage::text(TEXT_16),
            raw: frame.repeat(count),
        }
    }

    fn binary(len: usize) -> Self {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        Workload {
            count: 1,
            ours: Message::from(rfc6455::Bytes::from(payload.clone())),
            theirs: TMessage::Binary(TBytes::from(payload.clone())),
            raw: payload,
        }
    }

    fn payload_len(&self) -> usize {
        self.ours.len()
    }
}

/// One client frame as it goes on the wire: header, mask key, masked
/// payload.
fn masked_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = FrameHeader::encode(&mut header, true, opcode, Some(key), payload.len() as u64);
    let mut frame = header[..n].to_vec();
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], key, 0);
    frame
}

fn connect_ours(addr: SocketAddr, tls: Option<&Tls>) -> WebSocket<Stream> {
    let builder = match tls {
        Some(tls) => ClientBuilder::new(format!("wss://{addr}/")).tls_config(tls.client.clone()),
        None => ClientBuilder::new(format!("ws://{addr}/")),
    };
    builder
        .config(our_config())
        .connect()
        .expect("our client: connect")
}

/// Tungstenite's client over rustls, as its own rustls feature sets it up.
fn connect_tungstenite_tls(
    addr: SocketAddr,
    tls: &Tls,
) -> TWebSocket<StreamOwned<rustls::ClientConnection, TcpStream>> {
    let stream = TcpStream::connect(addr).expect("tungstenite client: TCP connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let conn = rustls::ClientConnection::new(tls.client.clone(), name).expect("TLS client");
    let (ws, _response) = tungstenite::client::client_with_config(
        format!("wss://{addr}/"),
        StreamOwned::new(conn, stream),
        Some(their_config()),
    )
    .expect("tungstenite client: handshake");
    ws
}

fn connect_tungstenite(addr: SocketAddr) -> TWebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).expect("tungstenite client: TCP connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (ws, _response) = tungstenite::client::client_with_config(
        format!("ws://{addr}/"),
        stream,
        Some(their_config()),
    )
    .expect("tungstenite client: handshake");
    ws
}

fn round_ours<S: Transport>(ws: &mut WebSocket<S>, work: &Workload) {
    for _ in 0..work.count {
        ws.queue(work.ours.clone()).expect("our client: queue");
    }
    ws.flush().expect("our client: flush");
    for _ in 0..work.count {
        let echo = ws.recv().expect("our client: recv").expect("open");
        assert_eq!(echo.len(), work.payload_len());
        black_box(echo);
    }
}

fn round_tungstenite<S: Read + Write>(ws: &mut TWebSocket<S>, work: &Workload) {
    for _ in 0..work.count {
        ws.write(work.theirs.clone())
            .expect("tungstenite client: write");
    }
    ws.flush().expect("tungstenite client: flush");
    for _ in 0..work.count {
        let echo = ws.read().expect("tungstenite client: read");
        assert_eq!(echo.len(), work.payload_len());
        black_box(echo);
    }
}

fn round_raw(stream: &mut TcpStream, work: &Workload, buf: &mut [u8]) {
    stream.write_all(&work.raw).expect("raw client: write");
    stream.read_exact(buf).expect("raw client: read");
    black_box(&buf[..]);
}

fn close_ours<S: Transport>(mut ws: WebSocket<S>) {
    ws.close(1000, "done").expect("our client: close");
    while ws.recv().expect("our client: recv after close").is_some() {}
    let event = ws.close_event().expect("closed");
    assert!(event.was_clean, "unclean close: {event:?}");
}

fn close_tungstenite<S: Read + Write>(mut ws: TWebSocket<S>) {
    ws.close(None).expect("tungstenite client: close");
    loop {
        match ws.read() {
            Ok(_) => {}
            Err(TError::ConnectionClosed) => return,
            // A TLS server that closed TCP without close_notify, after the
            // close handshake (tungstenite's servers do).
            Err(TError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return,
            Err(e) => panic!("tungstenite client: read after close: {e}"),
        }
    }
}

fn close_raw(mut stream: TcpStream) {
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("raw client: shutdown");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("raw client: drain");
    assert!(rest.is_empty());
}

// ---------------------------------------------------------------- benches

/// Benchmarks one client against one server: connects once, measures, then
/// closes and joins the server.
fn pair<M: Measurement>(
    group: &mut BenchmarkGroup<'_, M>,
    client: Client,
    server: Server,
    work: &Workload,
    tls: Option<&Tls>,
) {
    let running = spawn(server, tls);
    let id = BenchmarkId::new(client.name(), server.name());
    let before = Usage::now();
    let mut iterations = 0;
    match client {
        Client::Ours => {
            let mut ws = connect_ours(running.addr, tls);
            group.bench_function(id, |b| {
                b.iter(|| {
                    iterations += 1;
                    round_ours(&mut ws, work)
                })
            });
            close_ours(ws);
        }
        Client::Tung => match tls {
            None => {
                let mut ws = connect_tungstenite(running.addr);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        iterations += 1;
                        round_tungstenite(&mut ws, work)
                    })
                });
                close_tungstenite(ws);
            }
            Some(tls) => {
                let mut ws = connect_tungstenite_tls(running.addr, tls);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        iterations += 1;
                        round_tungstenite(&mut ws, work)
                    })
                });
                close_tungstenite(ws);
            }
        },
    }
    let name = format!("{}/{}", client.name(), server.name());
    finish(&name, running, before, iterations, work.count);
}

fn raw<M: Measurement>(group: &mut BenchmarkGroup<'_, M>, unit: Option<usize>, work: &Workload) {
    let running = spawn(Server::Raw { unit }, None);
    let before = Usage::now();
    let mut stream = TcpStream::connect(running.addr).expect("raw client: connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let mut buf = vec![0u8; work.raw.len()];
    let mut iterations = 0;
    group.bench_function(BenchmarkId::new("raw_tcp", "server_raw_tcp"), |b| {
        b.iter(|| {
            iterations += 1;
            round_raw(&mut stream, work, &mut buf)
        })
    });
    close_raw(stream);
    finish(
        "raw_tcp/server_raw_tcp",
        running,
        before,
        iterations,
        work.raw.len(),
    );
}

/// After a pair's client has closed: joins the server and reports what
/// both ends spent (the client's usage counted from `before`).
fn finish(
    name: &str,
    running: Running,
    before: Option<Usage>,
    iterations: usize,
    server_per_iteration: usize,
) {
    let client = Tally {
        count: iterations,
        usage: Usage::since(before),
    };
    let server = running.thread.join().expect("server thread");
    report_usage(name, client, server, server_per_iteration);
}

/// The WebSocket pairs of every group: each library against itself (the
/// tungstenite client against both tungstenite servers), then across.
fn pairs(batch: usize) -> [(Client, Server); 6] {
    let coalesced = Server::TungCoalesced { batch };
    [
        (Client::Ours, Server::Ours),
        (Client::Tung, Server::TungSend),
        (Client::Tung, coalesced),
        (Client::Ours, Server::TungSend),
        (Client::Ours, coalesced),
        (Client::Tung, Server::Ours),
    ]
}

fn pipelined_16b<M: Measurement>(c: &mut Criterion<M>) {
    let work = Workload::text_16(PIPELINE);
    let mut group = c.benchmark_group("pipelined_16B");
    group.throughput(Throughput::Elements(PIPELINE as u64));
    for (client, server) in pairs(PIPELINE) {
        pair(&mut group, client, server, &work, None);
    }
    raw(&mut group, None, &work);
    group.finish();
}

fn ping_pong_16b<M: Measurement>(c: &mut Criterion<M>) {
    let work = Workload::text_16(1);
    let mut group = c.benchmark_group("ping_pong_16B");
    group.throughput(Throughput::Elements(1));
    for (client, server) in pairs(1) {
        pair(&mut group, client, server, &work, None);
    }
    raw(&mut group, None, &work);
    group.finish();
}

fn echo_1mib<M: Measurement>(c: &mut Criterion<M>) {
    let work = Workload::binary(MIB);
    let mut group = c.benchmark_group("echo_1MiB");
    group.throughput(Throughput::Bytes(MIB as u64));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (client, server) in pairs(1) {
        pair(&mut group, client, server, &work, None);
    }
    raw(&mut group, Some(MIB), &work);
    group.finish();
}

/// The TLS pairs: each library against itself, and across.
fn tls_pairs(batch: usize) -> [(Client, Server); 4] {
    let coalesced = Server::TungCoalesced { batch };
    [
        (Client::Ours, Server::Ours),
        (Client::Tung, coalesced),
        (Client::Ours, coalesced),
        (Client::Tung, Server::Ours),
    ]
}

fn tls_pipelined_16b<M: Measurement>(c: &mut Criterion<M>, tls: &Tls) {
    let work = Workload::text_16(PIPELINE);
    let mut group = c.benchmark_group("tls_pipelined_16B");
    group.throughput(Throughput::Elements(PIPELINE as u64));
    for (client, server) in tls_pairs(PIPELINE) {
        pair(&mut group, client, server, &work, Some(tls));
    }
    group.finish();
}

fn tls_echo_1mib<M: Measurement>(c: &mut Criterion<M>, tls: &Tls) {
    let work = Workload::binary(MIB);
    let mut group = c.benchmark_group("tls_echo_1MiB");
    group.throughput(Throughput::Bytes(MIB as u64));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (client, server) in tls_pairs(1) {
        pair(&mut group, client, server, &work, Some(tls));
    }
    group.finish();
}

fn run<M: Measurement>(c: &mut Criterion<M>) {
    pipelined_16b(c);
    ping_pong_16b(c);
    echo_1mib(c);
    let tls = Tls::new();
    tls_pipelined_16b(c, &tls);
    tls_echo_1mib(c, &tls);
}

fn main() {
    if std::env::var_os("BENCH_CLOCK").is_some_and(|v| v == "cpu") {
        let mut c = config()
            .with_measurement(common::CpuTime::PROCESS)
            .configure_from_args();
        run(&mut c);
        c.final_summary();
    } else {
        let mut c = config().configure_from_args();
        run(&mut c);
        c.final_summary();
    }
}
