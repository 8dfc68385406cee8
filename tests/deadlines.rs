//! Every deadline of the blocking adapter (handshake, read, write,
//! heartbeat, close) fires over TLS (wss://) and over a caller's own
//! wrapper around a TCP stream, and a stream that cannot time out is
//! refused up front. 127.0.0.1 only; every wait bounded.

#[cfg(feature = "tls")]
mod certs;
mod common;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Sender};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientBuilder, ServerBuilder, Transport, WebSocket};
use rfc6455::{Accept, CloseCode, Config, Connection, Error, Event, ReadyState};

const LIMIT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(300);

/// A caller's own stream type: a TCP stream that counts what it reads, with
/// its timeouts passed through.
struct Wrapped {
    inner: TcpStream,
    read: u64,
}

impl Wrapped {
    fn connect(port: u16) -> Wrapped {
        Wrapped {
            inner: TcpStream::connect(("127.0.0.1", port)).unwrap(),
            read: 0,
        }
    }
}

impl Read for Wrapped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Write for Wrapped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Transport for Wrapped {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_read_timeout(timeout)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_write_timeout(timeout)
    }
    fn shutdown(&mut self) -> io::Result<()> {
        self.inner.shutdown(std::net::Shutdown::Both)
    }
}

/// What the peer does once connected.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Says nothing (after the TLS handshake, over TLS).
    Silent,
    /// Completes the WebSocket handshake, then neither reads nor writes.
    Hold,
    /// Answers the close handshake but keeps TCP open.
    CloseButKeepTcp,
}

type PeerStream = Box<dyn Transport + Send>;

/// A peer serving one connection, over TLS when `tls` is given; it holds
/// the connection until told to stop.
struct Peer {
    port: u16,
    stop: Sender<()>,
    handle: thread::JoinHandle<()>,
}

impl Peer {
    fn start(
        #[cfg(feature = "tls")] tls: Option<std::sync::Arc<rfc6455::tls::rustls::ServerConfig>>,
        mode: Mode,
    ) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = channel::<()>();
        let handle = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(LIMIT)).unwrap();
            #[cfg(feature = "tls")]
            let stream: PeerStream = match tls {
                Some(config) => {
                    let mut tcp = tcp;
                    let mut conn = rfc6455::tls::rustls::ServerConnection::new(config).unwrap();
                    while conn.is_handshaking() {
                        conn.complete_io(&mut tcp).unwrap();
                    }
                    Box::new(rfc6455::blocking::TlsStream::new(conn, tcp))
                }
                None => Box::new(tcp),
            };
            #[cfg(not(feature = "tls"))]
            let stream: PeerStream = Box::new(tcp);
            match mode {
                Mode::Silent => {
                    let _ = stopped.recv_timeout(LIMIT);
                    drop(stream);
                }
                Mode::Hold => {
                    // Opened, then never read: no ping is answered.
                    let ws = ServerBuilder::new()
                        .no_heartbeat()
                        .accept_stream(stream, |_| Ok(Accept::new()))
                        .unwrap();
                    let _ = stopped.recv_timeout(LIMIT);
                    drop(ws);
                }
                Mode::CloseButKeepTcp => {
                    let mut stream = stream;
                    answer_close_and_keep_tcp(&mut stream);
                    let _ = stopped.recv_timeout(LIMIT);
                    drop(stream);
                }
            }
        });
        Peer { port, stop, handle }
    }

    fn finish(self) {
        let _ = self.stop.send(());
        self.handle.join().unwrap();
    }
}

/// The core as a bare server over `stream`: it answers the opening
/// handshake and the client's close, and leaves the transport open, which
/// a blocking server (closing TCP first, as a server should) would not.
fn answer_close_and_keep_tcp(stream: &mut PeerStream) {
    let mut conn = Connection::server(Config::default());
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the client left before its close");
        conn.receive(&buf[..n]);
        let mut closed = false;
        while let Some(event) = conn.next_event().unwrap() {
            match event {
                Event::Request(_) => conn.accept(Accept::new()).unwrap(),
                Event::Close(_) => closed = true,
                _ => {}
            }
        }
        // The 101, or the close reply the core queued.
        while !conn.output().is_empty() {
            let n = conn.output().len();
            stream.write_all(conn.output()).unwrap();
            conn.consume_output(n);
        }
        if closed {
            return;
        }
    }
}

fn assert_took(started: Instant, at_least: Duration) {
    let elapsed = started.elapsed();
    assert!(
        elapsed >= at_least.mul_f32(0.8) && elapsed < Duration::from_secs(5),
        "took {elapsed:?}, expected about {at_least:?}"
    );
}

fn is_timeout(e: &Error) -> bool {
    matches!(e, Error::Timeout { .. })
}

// The checks, over any stream.

fn handshake_times_out<S: Transport>(
    connect: impl FnOnce(ClientBuilder) -> Result<WebSocket<S>, Error>,
    url: &str,
) {
    let started = Instant::now();
    let result = connect(ClientBuilder::new(url).handshake_timeout(SHORT));
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "{:?}",
        result.err()
    );
    assert_took(started, SHORT);
}

fn read_times_out<S: Transport>(mut ws: WebSocket<S>) {
    let started = Instant::now();
    let result = ws.recv();
    assert!(matches!(&result, Err(e) if is_timeout(e)), "{result:?}");
    assert_took(started, SHORT);
    // A read timeout is the caller's to handle: the connection stays open.
    assert_eq!(ws.ready_state(), ReadyState::Open);
}

fn write_times_out<S: Transport>(mut ws: WebSocket<S>) {
    let chunk = common::incompressible(1 << 20, 0);
    let started = Instant::now();
    for _ in 0..512 {
        let sent = Instant::now();
        match ws.send_binary(&chunk) {
            Ok(()) => {}
            Err(e) if is_timeout(&e) => {
                assert_took(sent, SHORT);
                return;
            }
            Err(e) => panic!("{e}"),
        }
        assert!(started.elapsed() < LIMIT, "writes never blocked");
    }
    panic!("512 MiB written to a peer that does not read");
}

fn heartbeat_times_out<S: Transport>(mut ws: WebSocket<S>) {
    let started = Instant::now();
    let result = ws.recv();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    // One interval of silence, then the unanswered ping's timeout.
    assert_took(started, SHORT * 2);
    let event = ws.close_event().unwrap();
    assert_eq!((event.code, event.was_clean), (CloseCode::ABNORMAL, false));
}

fn close_times_out<S: Transport>(mut ws: WebSocket<S>) {
    ws.close(1000, "bye").unwrap();
    let started = Instant::now();
    assert_eq!(ws.recv().unwrap(), None);
    // The close handshake completed, but the server kept TCP open: the
    // client waited the close timeout, then closed it itself.
    assert_took(started, SHORT);
    let event = ws.close_event().unwrap();
    assert_eq!((event.code, event.was_clean), (CloseCode::NORMAL, true));
}

// Over a wrapped stream.

fn wrapped_client(
    mode: Mode,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> (WebSocket<Wrapped>, Peer) {
    let peer = Peer::start(
        #[cfg(feature = "tls")]
        None,
        mode,
    );
    let builder = configure(ClientBuilder::new(format!("ws://127.0.0.1:{}/", peer.port)));
    let ws = builder.connect_on(Wrapped::connect(peer.port)).unwrap();
    (ws, peer)
}

#[test]
fn wrapped_handshake_deadline() {
    let peer = Peer::start(
        #[cfg(feature = "tls")]
        None,
        Mode::Silent,
    );
    let port = peer.port;
    handshake_times_out(
        |b| b.connect_on(Wrapped::connect(port)),
        &format!("ws://127.0.0.1:{port}/"),
    );
    peer.finish();
}

#[test]
fn wrapped_read_deadline() {
    let (ws, peer) = wrapped_client(Mode::Hold, |b| b.read_timeout(Some(SHORT)));
    assert!(
        ws.get_ref().read > 0,
        "the wrapper saw the handshake answer"
    );
    read_times_out(ws);
    peer.finish();
}

#[test]
fn wrapped_write_deadline() {
    let (ws, peer) = wrapped_client(Mode::Hold, |b| b.write_timeout(Some(SHORT)));
    write_times_out(ws);
    peer.finish();
}

#[test]
fn wrapped_heartbeat_deadline() {
    let (ws, peer) = wrapped_client(Mode::Hold, |b| b.heartbeat(SHORT, SHORT));
    heartbeat_times_out(ws);
    peer.finish();
}

#[test]
fn wrapped_close_deadline() {
    let (ws, peer) = wrapped_client(Mode::CloseButKeepTcp, |b| {
        b.close_timeout(SHORT).read_timeout(Some(LIMIT))
    });
    close_times_out(ws);
    peer.finish();
}

#[test]
fn wrapped_server_handshake_and_read_deadlines() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A client that connects and says nothing.
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    let wrapped = Wrapped {
        inner: tcp,
        read: 0,
    };
    let started = Instant::now();
    let result = ServerBuilder::new()
        .handshake_timeout(SHORT)
        .accept_stream(wrapped, |_| Ok(Accept::new()));
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "{:?}",
        result.err()
    );
    assert_took(started, SHORT);
    drop(silent);

    // A client that opens, then says nothing.
    let client = thread::spawn(move || {
        let mut ws = rfc6455::blocking::connect(&format!("ws://127.0.0.1:{port}/")).unwrap();
        // Wait for the server's close after its read timeout.
        while let Ok(Some(_)) = ws.recv() {}
    });
    let (tcp, _) = listener.accept().unwrap();
    let mut ws = ServerBuilder::new()
        .read_timeout(Some(SHORT))
        .accept_stream(
            Wrapped {
                inner: tcp,
                read: 0,
            },
            |_| Ok(Accept::new()),
        )
        .unwrap();
    let started = Instant::now();
    let result = ws.recv();
    assert!(matches!(&result, Err(e) if is_timeout(e)), "{result:?}");
    assert_took(started, SHORT);
    ws.close(1000, "").unwrap();
    drop(ws);
    client.join().unwrap();
}

/// A stream that cannot time out (the trait's default methods).
struct NoTimeouts(TcpStream);
impl Read for NoTimeouts {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
impl Write for NoTimeouts {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
impl Transport for NoTimeouts {}

#[test]
fn a_stream_that_cannot_time_out_is_refused_at_once() {
    let peer = Peer::start(
        #[cfg(feature = "tls")]
        None,
        Mode::Silent,
    );
    let stream = NoTimeouts(TcpStream::connect(("127.0.0.1", peer.port)).unwrap());
    let started = Instant::now();
    let result = ClientBuilder::new(format!("ws://127.0.0.1:{}/", peer.port)).connect_on(stream);
    match result {
        Err(e @ Error::CannotTimeOut(_)) => {
            assert!(e.to_string().contains("cannot time out"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    peer.finish();
}

// Over TLS.

#[cfg(feature = "tls")]
mod over_tls {
    use super::*;
    use rfc6455::blocking::Stream;

    fn tls_client(
        mode: Mode,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> (WebSocket<Stream>, Peer) {
        let pki = certs::Pki::new("rfc6455 deadline CA");
        let peer = Peer::start(Some(pki.server_config()), mode);
        let builder = ClientBuilder::new(format!("wss://127.0.0.1:{}/", peer.port))
            .tls_config(pki.client_config());
        let ws = configure(builder).connect().unwrap();
        assert!(ws.get_ref().is_tls());
        (ws, peer)
    }

    #[test]
    fn tls_handshake_deadline() {
        // TLS completes; the WebSocket handshake gets no answer.
        let pki = certs::Pki::new("rfc6455 deadline CA");
        let peer = Peer::start(Some(pki.server_config()), Mode::Silent);
        let config = pki.client_config();
        handshake_times_out(
            |b| b.tls_config(config).connect(),
            &format!("wss://127.0.0.1:{}/", peer.port),
        );
        peer.finish();
    }

    #[test]
    fn tls_read_deadline() {
        let (ws, peer) = tls_client(Mode::Hold, |b| b.read_timeout(Some(SHORT)));
        read_times_out(ws);
        peer.finish();
    }

    #[test]
    fn tls_write_deadline() {
        let (ws, peer) = tls_client(Mode::Hold, |b| b.write_timeout(Some(SHORT)));
        write_times_out(ws);
        peer.finish();
    }

    #[test]
    fn tls_heartbeat_deadline() {
        let (ws, peer) = tls_client(Mode::Hold, |b| b.heartbeat(SHORT, SHORT));
        heartbeat_times_out(ws);
        peer.finish();
    }

    #[test]
    fn tls_close_deadline() {
        let (ws, peer) = tls_client(Mode::CloseButKeepTcp, |b| {
            b.close_timeout(SHORT).read_timeout(Some(LIMIT))
        });
        close_times_out(ws);
        peer.finish();
    }

    /// A client that opens, then neither reads nor writes (so answers no
    /// ping) until told to stop.
    fn silent_tls_client(pki: &certs::Pki, port: u16) -> (Sender<()>, thread::JoinHandle<()>) {
        let config = pki.client_config();
        let (stop, stopped) = channel::<()>();
        let handle = thread::spawn(move || {
            let ws = ClientBuilder::new(format!("wss://127.0.0.1:{port}/"))
                .tls_config(config)
                .no_heartbeat()
                .handshake_timeout(LIMIT)
                .connect()
                .unwrap();
            let _ = stopped.recv_timeout(LIMIT);
            drop(ws);
        });
        (stop, handle)
    }

    fn tls_server(
        configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    ) -> (WebSocket<Stream>, Sender<()>, thread::JoinHandle<()>) {
        let pki = certs::Pki::new("rfc6455 deadline CA");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, client) = silent_tls_client(&pki, port);
        let (tcp, _) = listener.accept().unwrap();
        let server = configure(ServerBuilder::new().tls(pki.server_config()));
        let ws = server.accept(tcp).unwrap();
        assert!(ws.get_ref().is_tls());
        (ws, stop, client)
    }

    #[test]
    fn tls_server_read_deadline() {
        let (ws, stop, client) = tls_server(|b| b.read_timeout(Some(SHORT)));
        read_times_out(ws);
        stop.send(()).unwrap();
        client.join().unwrap();
    }

    #[test]
    fn tls_server_heartbeat_deadline() {
        let (ws, stop, client) = tls_server(|b| b.heartbeat(SHORT, SHORT));
        heartbeat_times_out(ws);
        stop.send(()).unwrap();
        client.join().unwrap();
    }
}
