//! wss:// in both roles: our client and server over TLS, against each other,
//! and the ways TLS fails (against tungstenite over the same rustls:
//! `bench/tests/interop_tungstenite_tls.rs`).
//! 127.0.0.1 only, certificates made at test time, every wait bounded.
#![cfg(feature = "tls")]

mod certs;
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use certs::Pki;
use rfc6455::blocking::{ClientBuilder, ServerBuilder, Stream};
use rfc6455::tls::rustls::pki_types::ServerName;
use rfc6455::tls::rustls::{self, ClientConnection, ServerConnection};
use rfc6455::{CloseCode, Error, Message, MessageKind, ReadyState, TlsErrorKind};

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

#[test]
fn our_client_and_server_over_tls_client_closes() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = tls_echo_once(listener, ServerBuilder::new().tls(pki.server_config()));
    let url = format!("wss://127.0.0.1:{port}/chat?room=1");
    let mut ws = client(&pki, &url).connect().unwrap();
    assert!(ws.get_ref().is_tls());
    assert_eq!(ws.ready_state(), ReadyState::Open);
    assert_eq!(ws.url(), Some(url.as_str()));

    ws.send_text("héllo €").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("héllo €")));
    ws.send_binary(&[0, 1, 2, 255]).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(vec![0, 1, 2, 255])));
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from(big)));
    ws.send_fragment(MessageKind::Text, "frag".as_bytes(), false)
        .unwrap();
    ws.send_fragment(MessageKind::Text, "ment".as_bytes(), false)
        .unwrap();
    ws.send_fragment(MessageKind::Text, "ed ✓".as_bytes(), true)
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("fragmented ✓")));

    ws.close(4001, "done here").unwrap();
    assert_eq!(ws.ready_state(), ReadyState::Closing);
    let started = Instant::now();
    assert_eq!(ws.recv().unwrap(), None);
    // The server's close_notify and TCP end arrived: no close timeout.
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(ws.ready_state(), ReadyState::Closed);
    let event = ws.close_event().unwrap();
    assert_eq!(
        (event.code.as_u16(), event.reason.as_str(), event.was_clean),
        (4001, "done here", true)
    );
    let (states, server_event) = server.join().unwrap();
    assert_eq!(states, [ReadyState::Open, ReadyState::Closed]);
    let server_event = server_event.unwrap();
    assert_eq!(
        (server_event.code.as_u16(), server_event.reason.as_str()),
        (4001, "done here")
    );
    assert!(server_event.was_clean);
}

#[test]
fn our_client_and_server_over_tls_server_closes() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let config = pki.server_config();
    let server = thread::spawn(move || {
        let mut ws = ServerBuilder::new()
            .tls(config)
            .accept(accept_one(&listener))
            .unwrap();
        let mut states = vec![ws.ready_state()];
        ws.send_text("welcome").unwrap();
        ws.close(4000, "server done").unwrap();
        states.push(ws.ready_state());
        assert_eq!(ws.recv().unwrap(), None);
        states.push(ws.ready_state());
        (states, ws.close_event().cloned().unwrap())
    });
    // By name: SNI carries "localhost", and the leaf is valid for it.
    let mut ws = client(&pki, &format!("wss://localhost:{port}/"))
        .connect()
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("welcome")));
    let started = Instant::now();
    assert_eq!(ws.recv().unwrap(), None);
    assert!(started.elapsed() < Duration::from_secs(3));
    let event = ws.close_event().unwrap();
    assert_eq!(
        (event.code.as_u16(), event.reason.as_str(), event.was_clean),
        (4000, "server done", true)
    );
    let (states, server_event) = server.join().unwrap();
    assert_eq!(
        states,
        [ReadyState::Open, ReadyState::Closing, ReadyState::Closed]
    );
    assert!(server_event.was_clean);
}

#[test]
fn pem_files_load_for_server_and_client() {
    let pki = Pki::new("rfc6455 PEM CA");
    let leaf = pki.leaf(&["127.0.0.1"]);
    let dir = std::env::temp_dir().join(format!("rfc6455-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key, ca) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cert, &leaf.cert_pem).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let server_config = rfc6455::tls::server_config_from_pem(&cert, &key).unwrap();
    let client_config = rfc6455::tls::client_config_with_ca_pem(&ca).unwrap();
    // A key file is not a CA file.
    assert!(rfc6455::tls::client_config_with_ca_pem(&key).is_err());
    assert!(rfc6455::tls::server_config_from_pem(&key, &cert).is_err());
    std::fs::remove_dir_all(&dir).unwrap();

    let (listener, port) = listen();
    let server = tls_echo_once(listener, ServerBuilder::new().tls(server_config));
    let mut ws = ClientBuilder::new(format!("wss://127.0.0.1:{port}"))
        .tls_config(client_config)
        .connect()
        .unwrap();
    ws.send_text("pem").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("pem")));
    ws.close(1000, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    assert!(server.join().unwrap().1.unwrap().was_clean);
}

/// A server that runs one TLS handshake with `config` and reports how it
/// ended.
fn tls_server_once(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
) -> thread::JoinHandle<Result<(), Error>> {
    thread::spawn(move || {
        ServerBuilder::new()
            .tls(config)
            .handshake_timeout(Duration::from_secs(5))
            .accept(accept_one(&listener))
            .map(|_| ())
    })
}

fn tls_failure(result: Result<impl std::fmt::Debug, Error>) -> rfc6455::TlsError {
    match result {
        Err(Error::Tls(e)) => e,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn unknown_issuer_is_a_tls_error_naming_the_host() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = tls_server_once(listener, pki.server_config());
    // The default roots (Mozilla's) do not include the test CA.
    let err = tls_failure(ClientBuilder::new(format!("wss://127.0.0.1:{port}/")).connect());
    assert_eq!(err.kind(), TlsErrorKind::UnknownIssuer);
    assert_eq!(err.peer(), "127.0.0.1");
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1") && text.contains("unknown authority"),
        "{text}"
    );
    // The server hears the client's refusal as an alert.
    let server_err = tls_failure(server.join().unwrap());
    assert_eq!(
        server_err.kind(),
        TlsErrorKind::AlertReceived,
        "{server_err}"
    );
}

#[test]
fn wrong_name_is_a_name_mismatch() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let config = pki.leaf(&["other.example"]).server_config();
    let server = tls_server_once(listener, config);
    let err = tls_failure(client(&pki, &format!("wss://127.0.0.1:{port}/")).connect());
    assert_eq!(err.kind(), TlsErrorKind::NameMismatch, "{err}");
    assert!(err.to_string().contains("not valid for this name"), "{err}");
    assert!(server.join().unwrap().is_err());
}

#[test]
fn expired_certificate_is_reported_as_expired() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let config = pki.expired_leaf(&["127.0.0.1"]).server_config();
    let server = tls_server_once(listener, config);
    let err = tls_failure(client(&pki, &format!("wss://127.0.0.1:{port}/")).connect());
    assert_eq!(err.kind(), TlsErrorKind::Expired, "{err}");
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(server.join().unwrap().is_err());
}

#[test]
fn tls_client_to_a_plaintext_port() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = thread::spawn(move || {
        ServerBuilder::new()
            .handshake_timeout(Duration::from_millis(500))
            .accept(accept_one(&listener))
            .map(|_| ())
    });
    // The plaintext server either refuses the ClientHello at once (a bare
    // CR or LF among its random bytes ends the head as malformed: 400) or
    // waits for the end of a head that never comes and hangs up at its
    // handshake timeout.
    let started = Instant::now();
    let err = tls_failure(client(&pki, &format!("wss://127.0.0.1:{port}/")).connect());
    match err.kind() {
        TlsErrorKind::NotTls => assert!(err.to_string().contains("does not speak TLS")),
        TlsErrorKind::Closed => assert!(err
            .to_string()
            .contains("closed the connection during the TLS handshake")),
        other => panic!("{other:?}: {err}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(server.join().unwrap().is_err());

    // A plaintext server that answers at once (a 400 to the ClientHello):
    // the client sees HTTP where TLS should be.
    let (listener, port) = listen();
    let server = thread::spawn(move || {
        let mut stream = accept_one(&listener);
        // All of the ClientHello, so that closing does not reset the
        // connection under the answer.
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let err = tls_failure(client(&pki, &format!("wss://127.0.0.1:{port}/")).connect());
    assert_eq!(err.kind(), TlsErrorKind::NotTls, "{err}");
    server.join().unwrap();
}

#[test]
fn plaintext_and_garbage_to_a_tls_port_are_cut_off() {
    let pki = Pki::new("rfc6455 test CA");
    let config = pki.server_config();
    for input in [
        &b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n"[..],
        &b"\x00\x01\x02\x03 definitely not TLS \xff\xfe"[..],
    ] {
        let (listener, port) = listen();
        let server = tls_server_once(listener, config.clone());
        let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
        raw.set_read_timeout(Some(LIMIT)).unwrap();
        raw.write_all(input).unwrap();
        let started = Instant::now();
        let err = tls_failure(server.join().unwrap());
        assert_eq!(err.kind(), TlsErrorKind::NotTls, "{err}");
        assert!(err.peer().starts_with("127.0.0.1:"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The server answered with an alert at most, then closed.
        let mut rest = Vec::new();
        let _ = raw.read_to_end(&mut rest);
        assert!(!rest.starts_with(b"HTTP"), "{rest:?}");
    }
    // Our plain ws:// client against the TLS port fails its handshake.
    let (listener, port) = listen();
    let server = tls_server_once(listener, config);
    let result = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
        .handshake_timeout(LIMIT)
        .connect();
    assert!(
        matches!(result, Err(Error::Handshake { .. } | Error::Io(_))),
        "{result:?}"
    );
    assert!(server.join().unwrap().is_err());
}

#[test]
fn a_stalled_tls_handshake_is_cut_off_without_disturbing_others() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = ServerBuilder::new()
        .tls(pki.server_config())
        .handshake_timeout(Duration::from_millis(500))
        .read_timeout(Some(LIMIT));
    let acceptor = thread::spawn(move || {
        let mut handles = Vec::new();
        for _ in 0..2 {
            let stream = accept_one(&listener);
            let server = server.clone();
            handles.push(thread::spawn(move || {
                let started = Instant::now();
                let result = server.accept(stream).map(|mut ws| {
                    while let Ok(Some(m)) = ws.recv() {
                        ws.send(m).unwrap();
                    }
                });
                (result, started.elapsed())
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    // The staller: half a ClientHello, then nothing.
    let mut staller = TcpStream::connect(("127.0.0.1", port)).unwrap();
    staller
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    // Meanwhile a real client gets its echo.
    let mut ws = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .connect()
        .unwrap();
    ws.send_text("still served").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("still served")));
    ws.close(1000, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    let results = acceptor.join().unwrap();
    let (stalled, elapsed) = &results[0];
    assert!(matches!(stalled, Err(Error::Timeout { .. })), "{stalled:?}");
    assert!(
        *elapsed >= Duration::from_millis(400) && *elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(results[1].0.is_ok());
    // The staller's connection was closed.
    staller.set_read_timeout(Some(LIMIT)).unwrap();
    let mut rest = Vec::new();
    let _ = staller.read_to_end(&mut rest);
}

#[test]
fn a_tls_handshake_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline() {
    // Every socket read succeeds, each well within the deadline: only a
    // deadline over the whole handshake ends it (rustls alone would give
    // each byte the time left again).
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = ServerBuilder::new()
        .tls(pki.server_config())
        .handshake_timeout(Duration::from_millis(600));
    let acceptor = thread::spawn(move || {
        let stream = accept_one(&listener);
        let started = Instant::now();
        let result = server.accept(stream).map(|_| ());
        (result, started.elapsed())
    });
    let mut trickler = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A ClientHello's record header announcing 512 bytes, then a byte
    // every 50 ms: 25 s to complete it.
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    hello.resize(512 + 5, 0);
    let writer = thread::spawn(move || {
        for b in hello {
            if trickler.write_all(&[b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (result, elapsed) = acceptor.join().unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}"
    );
    writer.join().unwrap();
}

#[test]
fn a_tls_record_trickled_in_pieces_cannot_stretch_the_websocket_handshake() {
    // TLS completes at once; then one record carrying the upgrade request
    // arrives a byte every 50 ms. Every socket read returns bytes, none
    // plaintext until the record is whole: the WebSocket handshake's
    // deadline must still end it.
    use rustls::pki_types::ServerName;
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = ServerBuilder::new()
        .tls(pki.server_config())
        .handshake_timeout(Duration::from_millis(800));
    let acceptor = thread::spawn(move || {
        let stream = accept_one(&listener);
        let started = Instant::now();
        let result = server.accept(stream).map(|_| ());
        (result, started.elapsed())
    });
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = rustls::ClientConnection::new(pki.client_config(), name).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).unwrap();
    }
    tls.writer()
        .write_all(
            b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut record = Vec::new();
    while tls.wants_write() {
        tls.write_tls(&mut record).unwrap();
    }
    let writer = thread::spawn(move || {
        for b in record {
            if tcp.write_all(&[b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (result, elapsed) = acceptor.join().unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(
        elapsed >= Duration::from_millis(600) && elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}"
    );
    writer.join().unwrap();
}

#[test]
fn a_server_stalling_the_tls_handshake_times_the_client_out() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let _held = accept_one(&listener);
        let _ = done_rx.recv_timeout(LIMIT);
    });
    let started = Instant::now();
    let result = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .handshake_timeout(Duration::from_millis(300))
        .connect();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    done_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn a_tls_stream_cut_before_the_close_handshake_is_abnormal() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let config = pki.server_config();
    let server = thread::spawn(move || {
        let ws = ServerBuilder::new()
            .tls(config)
            .accept(accept_one(&listener))
            .unwrap();
        // TCP ends with neither a close frame nor close_notify.
        let Stream::ServerTls(tls) = ws.get_ref() else {
            panic!("not TLS")
        };
        tls.get_ref().shutdown(std::net::Shutdown::Both).unwrap();
    });
    let mut ws = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .connect()
        .unwrap();
    server.join().unwrap();
    let result = ws.recv();
    assert!(
        matches!(result, Ok(None) | Err(Error::AbnormalClosure)),
        "{result:?}"
    );
    let event = ws.close_event().unwrap();
    assert_eq!((event.code, event.was_clean), (CloseCode::ABNORMAL, false));
}

/// A caller's own TLS: `TlsStream` over a TCP stream the caller opened,
/// handed to `connect_on` and `accept_stream`; the TLS handshake runs
/// inside the WebSocket handshake (and its deadline).
#[test]
fn callers_own_tls_stream_with_connect_on_and_accept_stream() {
    use rfc6455::blocking::TlsStream;
    use rfc6455::Accept;
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let config = pki.server_config();
    let server = thread::spawn(move || {
        let tcp = accept_one(&listener);
        let conn = ServerConnection::new(config).unwrap();
        let mut ws = ServerBuilder::new()
            .handshake_timeout(LIMIT)
            .accept_stream(TlsStream::new(conn, tcp), |request| {
                assert_eq!(request.path(), "/own");
                Ok(Accept::new())
            })
            .unwrap();
        assert!(!ws.get_ref().connection().is_handshaking());
        while let Ok(Some(m)) = ws.recv() {
            ws.send(m).unwrap();
        }
        ws.close_event().cloned().unwrap()
    });
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(pki.client_config(), name).unwrap();
    let mut ws = ClientBuilder::new(format!("wss://127.0.0.1:{port}/own"))
        .handshake_timeout(LIMIT)
        .read_timeout(Some(LIMIT))
        .connect_on(TlsStream::new(conn, tcp))
        .unwrap();
    assert_eq!(
        ws.get_ref().connection().alpn_protocol(),
        Some(&b"http/1.1"[..])
    );
    ws.send_text("own TLS").unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("own TLS")));
    ws.close(1000, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    assert!(ws.close_event().unwrap().was_clean);
    assert!(server.join().unwrap().was_clean);
}

/// `serve` over TLS: one connection too many is closed without a plaintext
/// 503, which a TLS client would take for a broken handshake.
#[test]
fn serve_over_tls_closes_one_too_many() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = ServerBuilder::new()
        .tls(pki.server_config())
        .max_connections(1);
    let acceptor = server.clone();
    thread::spawn(move || {
        let err = server.serve(&listener, move |stream| {
            let Ok(mut ws) = acceptor.accept(stream) else {
                return;
            };
            while let Ok(Some(message)) = ws.recv() {
                if ws.send(message).is_err() {
                    break;
                }
            }
        });
        panic!("serve returned: {err}");
    });
    let url = format!("wss://127.0.0.1:{port}/");
    let mut first = client(&pki, &url).connect().unwrap();
    first.send_text("admitted").unwrap();
    assert_eq!(first.recv().unwrap(), Some(Message::from("admitted")));
    match client(&pki, &url).connect() {
        Err(Error::Tls(e)) => assert_eq!(e.kind(), TlsErrorKind::Closed, "{e}"),
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("one too many: {:?}", other.map(|_| ())),
    }
    first.close(1000, "").unwrap();
    assert_eq!(first.recv().unwrap(), None);
}

/// Split TLS sockets sending each other large messages at once: each
/// reader goes on reading (records kept aside, decrypted once the lock is
/// free) while its sender's write waits for the peer.
#[test]
fn split_tls_ends_sending_large_messages_at_once_do_not_wait_on_each_other() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let config = pki.server_config();
    let server = thread::spawn(move || {
        let ws = ServerBuilder::new()
            .tls(config)
            .write_timeout(Some(common::SPLIT_WRITE_LIMIT))
            .accept(accept_one(&listener))
            .unwrap();
        common::split_exchange(ws, 2, 1)
    });
    let ws = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .write_timeout(Some(common::SPLIT_WRITE_LIMIT))
        .connect()
        .unwrap();
    let (client_got, client_sent) = common::split_exchange(ws, 1, 2);
    let (server_got, server_sent) = server.join().unwrap();
    assert!(client_sent.is_ok(), "client send: {client_sent:?}");
    assert!(server_sent.is_ok(), "server send: {server_sent:?}");
    assert_eq!(client_got, [2; common::SPLIT_COUNT]);
    assert_eq!(server_got, [1; common::SPLIT_COUNT]);
}

/// A TLS socket splits too: the reader reads records without the lock and
/// decrypts them under the senders' lock, so threads send while it waits.
#[test]
fn a_split_tls_socket_sends_from_threads_while_the_reader_waits() {
    let pki = Pki::new("rfc6455 test CA");
    let (listener, port) = listen();
    let server = tls_echo_once(listener, ServerBuilder::new().tls(pki.server_config()));
    let ws = client(&pki, &format!("wss://127.0.0.1:{port}/"))
        .connect()
        .unwrap();
    let (mut reader, sender) = ws.split().unwrap();
    let receiving = thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(message) = reader.recv().unwrap() {
            got.push(message);
        }
        (got, reader.close_event().cloned().unwrap())
    });
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let sender = sender.clone();
            thread::spawn(move || {
                for n in 0..1000 {
                    sender.send_text(&format!("{t} {n}")).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    sender.close(CloseCode::NORMAL, "done").unwrap();
    let (got, event) = receiving.join().unwrap();
    assert_eq!(got.len(), 3000);
    let mut next = [0; 3];
    for message in got {
        let Message::Text(text) = message else {
            panic!()
        };
        let (t, n) = text.split_once(' ').unwrap();
        let t: usize = t.parse().unwrap();
        assert_eq!(n.parse::<usize>().unwrap(), next[t]);
        next[t] += 1;
    }
    assert!(event.was_clean);
    let (_, server_event) = server.join().unwrap();
    assert!(server_event.unwrap().was_clean);
}
