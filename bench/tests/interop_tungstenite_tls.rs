//! wss:// against tungstenite over the same rustls, both ways: its client
//! against our TLS server, our TLS client against its server closing
//! second and first (ending TCP without TLS close_notify, which after the
//! close handshake is a clean end). 127.0.0.1 only, certificates made at
//! test time, every wait bounded. Moved here from rfc6455's `tests/tls.rs`
//! so that rfc6455 does not depend on tungstenite.

#[path = "../../tests/certs/mod.rs"]
mod certs;

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use certs::Pki;
use rfc6455::blocking::{ClientBuilder, ServerBuilder};
use rfc6455::tls::rustls::pki_types::ServerName;
use rfc6455::tls::rustls::{ClientConnection, ServerConnection, StreamOwned};
use rfc6455::{CloseCode, Message, MessageKind, ReadyState};

const LIMIT: Duration = Duration::from_secs(10);

fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn accept_one(listener: &TcpListener) -> TcpStream {
    let (stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream
}

/// Our TLS server echoing one connection; returns its ready states (after
/// the handshake, at the end) and close event.
fn tls_echo_once(
    listener: TcpListener,
    server: ServerBuilder,
) -> thread::JoinHandle<(Vec<ReadyState>, Option<rfc6455::CloseEvent>)> {
    thread::spawn(move || {
        let mut ws = server
            .read_timeout(Some(LIMIT))
            .accept(accept_one(&listener))
            .unwrap();
        assert!(ws.get_ref().is_tls());
        let mut states = vec![ws.ready_state()];
        while let Ok(Some(message)) = ws.recv() {
            ws.send(message).unwrap();
        }
        states.push(ws.ready_state());
        (states, ws.close_event().cloned())
    })
}

fn client(pki: &Pki, url: &str) -> ClientBuilder {
    ClientBuilder::new(url)
        .tls_config(pki.client_config())
        .read_timeout(Some(LIMIT))
        .handshake_timeout(LIMIT)
}

/// A rustls client stream to our server, for tungstenite.
fn rustls_client(pki: &Pki, port: u16) -> StreamOwned<ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(pki.client_config(), name).unwrap();
    StreamOwned::new(conn, tcp)
}

#[test]
fn tungstenite_client_against_our_tls_server() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = tls_echo_once(listener, ServerBuilder::new().tls(pki.server_config()));
    let stream = rustls_client(&pki, port);
    let (mut ws, response) =
        tungstenite::client(format!("wss://127.0.0.1:{port}/"), stream).unwrap();
    assert_eq!(response.status(), 101);
    let big = vec![0x5au8; 1 << 20];
    for message in [
        tungstenite::Message::text("héllo"),
        tungstenite::Message::binary(vec![1u8, 2, 3]),
        tungstenite::Message::binary(big),
    ] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::from(4002),
        reason: "tung done".into(),
    }))
    .unwrap();
    loop {
        match ws.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    let (_, event) = server.join().unwrap();
    let event = event.unwrap();
    assert_eq!(
        (event.code.as_u16(), event.reason.as_str(), event.was_clean),
        (4002, "tung done", true)
    );
}

/// Tungstenite serving one connection over rustls; it closes first when
/// `close_first`, and drops the stream without TLS close_notify either way.
fn tungstenite_tls_server(
    pki: &Pki,
    close_first: bool,
) -> (u16, thread::JoinHandle<Vec<tungstenite::Message>>) {
    let (listener, port) = listen();
    let config = pki.server_config();
    let handle = thread::spawn(move || {
        let tcp = accept_one(&listener);
        let stream = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        let mut ws = tungstenite::accept(stream).unwrap();
        let mut seen = Vec::new();
        if close_first {
            ws.send(tungstenite::Message::text("bye soon")).unwrap();
            ws.close(None).unwrap();
        }
        loop {
            match ws.read() {
                Ok(m) if m.is_text() || m.is_binary() => {
                    seen.push(m.clone());
                    ws.send(m).unwrap();
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("tungstenite server: {e}"),
            }
        }
        // Dropped here: TCP ends without close_notify.
        seen
    });
    (port, handle)
}

#[test]
fn our_tls_client_against_tungstenite_client_closes() {
    let pki = Pki::new("rfc6455 test CA");
    let (port, server) = tungstenite_tls_server(&pki, false);
    let mut ws = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .connect()
        .unwrap();
    let big: Vec<u8> = (0..1 << 20).map(|i| i as u8).collect();
    ws.send_text("héllo").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("héllo")));
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(big)));
    ws.send_fragment(MessageKind::Binary, &[1, 2], false)
        .unwrap();
    ws.send_fragment(MessageKind::Binary, &[3], true).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(vec![1, 2, 3])));
    ws.close(1000, "bye").unwrap();
    let started = Instant::now();
    assert_eq!(ws.recv().unwrap(), None);
    // Tungstenite closed TCP without close_notify: a clean end all the same,
    // and at once, not after the close timeout.
    assert!(started.elapsed() < Duration::from_secs(3));
    let event = ws.close_event().unwrap();
    assert_eq!((event.code, event.was_clean), (CloseCode::NORMAL, true));
    assert_eq!(server.join().unwrap().len(), 3);
}

#[test]
fn our_tls_client_against_tungstenite_server_closes() {
    let pki = Pki::new("rfc6455 test CA");
    let (port, server) = tungstenite_tls_server(&pki, true);
    let mut ws = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .connect()
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("bye soon")));
    assert_eq!(ws.recv().unwrap(), None);
    let event = ws.close_event().unwrap();
    assert_eq!((event.code, event.was_clean), (CloseCode::NO_STATUS, true));
    assert_eq!(ws.ready_state(), ReadyState::Closed);
    server.join().unwrap();
}
