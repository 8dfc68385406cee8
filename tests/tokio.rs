//! The tokio adapter over real loopback sockets (127.0.0.1 only, every wait
//! bounded), against itself, against the blocking adapter, and fed a byte
//! at a time with `recv` cancelled between bytes.
#![cfg(feature = "tokio")]

#[cfg(feature = "tls")]
mod certs;
mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use rfc6455::handshake::HandshakeError;
use rfc6455::tokio::{ClientBuilder, ServerBuilder, WebSocket};
use rfc6455::{Accept, CloseCode, Config, Connection, Error, Message, ReadyState, Reject, Role};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Messages of every length form, text and binary.
fn messages() -> Vec<Message> {
    vec![
        Message::from("hello"),
        Message::from("héllo €"),
        Message::from(vec![0u8; 0]),
        Message::from((0..200u8).collect::<Vec<u8>>()),
        Message::from("x".repeat(70_000)),
        Message::from((0..(1 << 20)).map(|i| i as u8).collect::<Vec<u8>>()),
    ]
}

/// Accepts one connection and echoes it until it closes; returns the close
/// event.
fn tokio_echo_once(
    listener: TcpListener,
    server: ServerBuilder,
) -> tokio::task::JoinHandle<Option<rfc6455::CloseEvent>> {
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut ws = server
            .accept_with(stream, |req| {
                Ok(match req.protocols().find(|p| *p == "chat") {
                    Some(p) => Accept::new().protocol(p),
                    None => Accept::new(),
                })
            })
            .await
            .unwrap();
        while let Ok(Some(message)) = ws.recv().await {
            ws.queue(message).unwrap();
        }
        ws.close_event().cloned()
    })
}

#[tokio::test]
async fn echo_round_trips_tokio_to_tokio() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio_echo_once(listener, ServerBuilder::new());
        let mut ws = ClientBuilder::new(url.clone() + "/x")
            .protocol("chat")
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.protocol(), Some("chat"));
        assert_eq!(ws.url(), Some(&*(url + "/x")));
        assert_eq!(ws.ready_state(), ReadyState::Open);
        for message in messages() {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), Some(message));
        }
        // Pipelined: queued together, echoed in order.
        for i in 0..100 {
            ws.queue(format!("m{i}")).unwrap();
        }
        ws.flush().await.unwrap();
        assert_eq!(ws.buffered_amount(), 0);
        for i in 0..100 {
            assert_eq!(
                ws.recv().await.unwrap(),
                Some(Message::from(format!("m{i}")))
            );
        }
        ws.close(4000, "bye").await.unwrap();
        assert_eq!(ws.ready_state(), ReadyState::Closing);
        assert_eq!(ws.recv().await.unwrap(), None);
        let event = ws.close_event().unwrap();
        assert!(event.was_clean);
        assert_eq!(event.code, CloseCode::from(4000));
        assert_eq!(ws.ready_state(), ReadyState::Closed);
        let server_event = server.await.unwrap().unwrap();
        assert!(server_event.was_clean);
        assert_eq!(server_event.reason, "bye");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn server_initiated_close_and_rejection() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            for _ in 0..2 {
                let (stream, _) = listener.accept().await.unwrap();
                let result = ServerBuilder::new()
                    .accept_with(stream, |req| match req.path() {
                        "/reject" => Err(Reject::new(403)),
                        _ => Ok(Accept::new()),
                    })
                    .await;
                if let Ok(mut ws) = result {
                    ws.send_text("welcome").await.unwrap();
                    ws.close(1000, "server done").await.unwrap();
                    assert_eq!(ws.recv().await.unwrap(), None);
                    assert!(ws.close_event().unwrap().was_clean);
                }
            }
        });
        let refused = rfc6455::tokio::connect(&format!("{url}/reject")).await;
        assert!(matches!(
            refused,
            Err(Error::Handshake {
                error: HandshakeError::Rejected { status: 403, .. },
                ..
            })
        ));
        let mut ws = rfc6455::tokio::connect(&url).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(Message::from("welcome")));
        assert_eq!(ws.recv().await.unwrap(), None);
        let event = ws.close_event().unwrap();
        assert!(event.was_clean);
        assert_eq!(event.reason, "server done");
        server.await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn tokio_client_against_blocking_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = rfc6455::blocking::ServerBuilder::new()
            .read_timeout(Some(LIMIT))
            .accept(stream)
            .unwrap();
        while let Ok(Some(message)) = ws.recv() {
            ws.queue(message).unwrap();
        }
        ws.close_event().cloned()
    });
    timeout(LIMIT, async {
        let mut ws = rfc6455::tokio::connect(&url).await.unwrap();
        for message in messages() {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), Some(message));
        }
        ws.close(1000, "done").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
        assert!(ws.close_event().unwrap().was_clean);
    })
    .await
    .unwrap();
    let event = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(event.was_clean);
    assert_eq!(event.code, CloseCode::NORMAL);
}

#[tokio::test]
async fn blocking_client_against_tokio_server() {
    let (listener, url) = listen().await;
    let server = tokio_echo_once(listener, ServerBuilder::new());
    let client = tokio::task::spawn_blocking(move || {
        let mut ws = rfc6455::blocking::ClientBuilder::new(url)
            .protocol("chat")
            .read_timeout(Some(LIMIT))
            .connect()
            .unwrap();
        assert_eq!(ws.protocol(), Some("chat"));
        for message in messages() {
            ws.send(message.clone()).unwrap();
            assert_eq!(ws.recv().unwrap(), Some(message));
        }
        ws.close(1000, "done").unwrap();
        while ws.recv().unwrap().is_some() {}
        ws.close_event().cloned().unwrap()
    });
    let (client_event, server_event) = timeout(LIMIT, async {
        (client.await.unwrap(), server.await.unwrap().unwrap())
    })
    .await
    .unwrap();
    assert!(client_event.was_clean);
    assert!(server_event.was_clean);
    assert_eq!(server_event.code, CloseCode::NORMAL);
}

/// The frames of `messages`, as `role`'s peer writes them (masked when the
/// receiver is a server), with a ping between two fragments of one.
fn wire_for(receiver: Role, messages: &[Message]) -> Vec<u8> {
    let sender_role = match receiver {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut sender = Connection::open(sender_role, Config::default());
    for message in messages {
        sender.send(message.clone()).unwrap();
    }
    sender
        .send_fragment(rfc6455::MessageKind::Text, b"frag", false)
        .unwrap();
    sender.ping(b"between").unwrap();
    sender
        .send_fragment(rfc6455::MessageKind::Text, "mented ü".as_bytes(), true)
        .unwrap();
    let mut wire = Vec::new();
    loop {
        let out = sender.output().to_vec();
        if out.is_empty() {
            return wire;
        }
        sender.consume_output(out.len());
        wire.extend_from_slice(&out);
    }
}

/// Polls `future` once and drops it unless it completed: a cancellation
/// at exactly this point.
async fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// Cancels `recv` at every point of messages arriving a byte at a time:
/// after each byte, `recv` is polled and dropped if it is not done. Every
/// message still arrives whole and in order, and the connection carries on.
///
/// Over an in-memory pipe each byte is readable at once, so `recv` is
/// cancelled right after it took each byte (up to the last one of each
/// message): every point, exactly. Over TCP the wakeups depend on the
/// loopback and the reactor, so the same runs with a zero timeout and a
/// `select!` against a branch ready at once, on shorter messages.
async fn cancel_at_every_byte<S, W>(
    receiver: Role,
    stream: S,
    mut peer: W,
    sent: Vec<Message>,
    tcp: bool,
) where
    S: AsyncRead + AsyncWrite + Unpin,
    W: AsyncRead + AsyncWrite + Unpin,
{
    let wire = wire_for(receiver, &sent);
    let mut sent = sent;
    sent.push(Message::from("fragmented ü"));
    let mut ws = WebSocket::from_connection(stream, Connection::open(receiver, Config::default()));
    let mut received = Vec::new();
    let mut cancelled = 0usize;
    for (i, byte) in wire.iter().enumerate() {
        peer.write_all(&[*byte]).await.unwrap();
        let outcome = match i % 3 {
            0 => poll_once(ws.recv()).await,
            // A zero timeout waits for the timer's tick: over TCP only.
            1 if tcp => timeout(Duration::ZERO, ws.recv()).await.ok(),
            _ => tokio::select! {
                biased;
                result = ws.recv() => Some(result),
                _ = std::future::ready(()) => None,
            },
        };
        match outcome {
            Some(result) => received.push(result.unwrap().unwrap()),
            None => cancelled += 1,
        }
    }
    // Whatever the last polls did not see (the loopback may lag behind
    // the writes) arrives now.
    while received.len() < sent.len() {
        let message = timeout(LIMIT, ws.recv()).await.unwrap().unwrap().unwrap();
        received.push(message);
    }
    assert_eq!(received, sent);
    assert!(
        cancelled > wire.len() / 2,
        "cancelled only {cancelled} times"
    );
    assert_eq!(ws.ready_state(), ReadyState::Open);
    // The ping was answered, and the connection still works both ways.
    let mut reader = Connection::open(
        match receiver {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        },
        Config::default(),
    );
    ws.send_text("still here").await.unwrap();
    let mut events = Vec::new();
    let mut buf = [0u8; 256];
    while events.len() < 2 {
        let n = timeout(LIMIT, peer.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0);
        reader.receive(&buf[..n]);
        while let Some(event) = reader.next_event().unwrap() {
            events.push(event);
        }
    }
    assert_eq!(
        events,
        [
            rfc6455::Event::Pong(rfc6455::Bytes::from_static(b"between")),
            rfc6455::Event::Message(Message::from("still here")),
        ]
    );
}

/// Every length form: 7-bit, 16-bit, 64-bit.
fn long_messages() -> Vec<Message> {
    vec![
        Message::from("hello"),
        Message::from((0..300u16).map(|i| i as u8).collect::<Vec<u8>>()),
        Message::from("€".repeat(100)),
        Message::from(vec![7u8; 70_000]),
    ]
}

fn short_messages() -> Vec<Message> {
    vec![
        Message::from("hello"),
        Message::from((0..200u8).collect::<Vec<u8>>()),
        Message::from("€".repeat(20)),
    ]
}

async fn cancel_in_memory(receiver: Role) {
    let (stream, peer) = tokio::io::duplex(1 << 20);
    timeout(
        LIMIT * 3,
        cancel_at_every_byte(receiver, stream, peer, long_messages(), false),
    )
    .await
    .unwrap();
}

async fn cancel_over_tcp(receiver: Role) {
    let (listener, _) = listen().await;
    let peer = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    peer.set_nodelay(true).unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    timeout(
        LIMIT,
        cancel_at_every_byte(receiver, stream, peer, short_messages(), true),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn recv_cancelled_at_every_byte_loses_nothing_client() {
    cancel_in_memory(Role::Client).await;
    cancel_over_tcp(Role::Client).await;
}

#[tokio::test]
async fn recv_cancelled_at_every_byte_loses_nothing_server() {
    cancel_in_memory(Role::Server).await;
    cancel_over_tcp(Role::Server).await;
}

#[tokio::test]
async fn heartbeat_drops_a_silent_peer() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(100), Duration::from_millis(200))
            .accept(stream)
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        let result = ws.recv().await;
        (result, started.elapsed(), ws.close_event().cloned())
    });
    // A client that never polls: it never answers the server's ping.
    let mut silent = ClientBuilder::new(url)
        .no_heartbeat()
        .connect()
        .await
        .unwrap();
    let (result, elapsed, event) = timeout(LIMIT, server).await.unwrap().unwrap();
    // It was pinged before it was dropped.
    match timeout(LIMIT, silent.next_event()).await.unwrap() {
        Ok(Some(rfc6455::Event::Ping(payload))) => assert!(payload.is_empty()),
        other => panic!("expected the heartbeat's ping first, got {other:?}"),
    }
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    let event = event.unwrap();
    assert!(!event.was_clean);
    assert_eq!(event.code, CloseCode::ABNORMAL);
}

#[tokio::test]
async fn heartbeat_keeps_an_answering_peer() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(50), Duration::from_millis(200))
            .accept(stream)
            .await
            .unwrap();
        ws.recv().await
    });
    let mut ws = ClientBuilder::new(url)
        .no_heartbeat()
        .connect()
        .await
        .unwrap();
    // The client answers the pings while it waits: several arrive, and
    // the server keeps the connection past its 200 ms pong timeout.
    let mut pings = 0;
    let waited = tokio::time::Instant::now();
    while waited.elapsed() < Duration::from_millis(600) {
        match timeout(Duration::from_millis(100), ws.next_event()).await {
            Ok(Ok(Some(rfc6455::Event::Ping(_)))) => pings += 1,
            Ok(other) => panic!("nothing but pings should arrive: {other:?}"),
            Err(_) => {} // nothing within 100 ms; cancel-safe, so poll again
        }
    }
    assert!(pings >= 3, "{pings} pings in 600 ms at a 50 ms interval");
    ws.send_text("after the pings").await.unwrap();
    let got = timeout(LIMIT, server).await.unwrap().unwrap().unwrap();
    assert_eq!(got, Some(Message::from("after the pings")));
}

#[tokio::test]
async fn handshake_timeout_cuts_off_a_trickling_client() {
    let (listener, _) = listen().await;
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let started = tokio::time::Instant::now();
        let result = ServerBuilder::new()
            .handshake_timeout(Duration::from_millis(300))
            .accept(stream)
            .await;
        (result.map(|_| ()), started.elapsed())
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    // A byte every 50 ms: each read succeeds, the deadline still holds.
    let trickle = async {
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n" {
            if client.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let ((result, elapsed), ()) = timeout(LIMIT, async {
        tokio::join!(async { server.await.unwrap() }, trickle)
    })
    .await
    .unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn client_handshake_timeout() {
    let (listener, url) = listen().await;
    // Accepts and never answers.
    let _hold = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(LIMIT).await;
        drop(stream);
    });
    let url = format!("{url}/quiet?room=1");
    let result = timeout(
        LIMIT,
        ClientBuilder::new(url.as_str())
            .handshake_timeout(Duration::from_millis(200))
            .connect(),
    )
    .await
    .unwrap();
    let err = result.unwrap_err();
    common::assert_timeout_names(&err, &url);
}

#[tokio::test]
async fn a_client_rejection_names_the_url_and_status() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = ServerBuilder::new()
            .accept_with(stream, |_| Err(Reject::new(403).body("go away")))
            .await;
    });
    let url = format!("{url}/private");
    let err = timeout(LIMIT, rfc6455::tokio::connect(&url))
        .await
        .unwrap()
        .unwrap_err();
    common::assert_refusal_names(&err, &url);
    server.await.unwrap();
}

#[tokio::test]
async fn a_refused_tcp_connect_names_the_url() {
    // A port bound and closed again: nothing listens there.
    let url = {
        let (listener, url) = listen().await;
        drop(listener);
        format!("{url}/gone")
    };
    let err = timeout(LIMIT, rfc6455::tokio::connect(&url))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(&err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[tokio::test]
async fn a_password_in_the_url_never_shows_in_an_error() {
    // Refused before any connection is tried: nothing listens.
    let err = rfc6455::tokio::connect("ws://user:secret@127.0.0.1:9/")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl(_)), "{err:?}");
    let (shown, debug) = (err.to_string(), format!("{err:?}"));
    assert!(
        !shown.contains("secret") && !debug.contains("secret"),
        "{shown}"
    );
    assert!(shown.contains("credentials"), "{shown}");
}

#[tokio::test]
async fn close_timeout_ends_a_peer_that_never_replies() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = ServerBuilder::new().accept(stream).await.unwrap();
        // Holds the connection open without ever reading it.
        tokio::time::sleep(LIMIT).await;
        drop(ws);
    });
    let mut ws = ClientBuilder::new(url)
        .close_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    ws.close(1000, "bye").await.unwrap();
    let result = timeout(LIMIT, ws.recv()).await.unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert_eq!(ws.ready_state(), ReadyState::Closed);
    assert!(!ws.close_event().unwrap().was_clean);
    server.abort();
}

#[tokio::test]
async fn split_halves_in_two_tasks() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio_echo_once(listener, ServerBuilder::new());
        let ws = rfc6455::tokio::connect(&url).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        let count = 2000;
        let sending = tokio::spawn(async move {
            for i in 0..count {
                let payload = vec![(i % 251) as u8; 1 + i * 37 % 20_000];
                writer.send(payload).await.unwrap();
            }
            assert_eq!(writer.buffered_amount(), 0);
            writer.close(1000, "all sent").await.unwrap();
            writer
        });
        let mut got = 0;
        while let Some(message) = reader.recv().await.unwrap() {
            let expect = vec![(got % 251) as u8; 1 + got * 37 % 20_000];
            assert_eq!(message.as_bytes(), &expect[..]);
            got += 1;
        }
        assert_eq!(got, count);
        assert!(reader.close_event().unwrap().was_clean);
        let writer = sending.await.unwrap();
        assert_eq!(writer.ready_state(), ReadyState::Closed);
        let ws = reader.unsplit(writer).unwrap();
        assert_eq!(ws.ready_state(), ReadyState::Closed);
        assert!(server.await.unwrap().unwrap().was_clean);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn protocol_violation_sends_its_close_code() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = ServerBuilder::new().accept(stream).await.unwrap();
            let result = ws.recv().await;
            (result, ws.close_event().cloned())
        });
        let mut raw = TcpStream::connect(url.trim_start_matches("ws://"))
            .await
            .unwrap();
        let mut client = Connection::client(
            rfc6455::ClientRequest::new(&url).unwrap(),
            Config::default(),
        )
        .unwrap();
        raw.write_all(client.output()).await.unwrap();
        let n = client.output().len();
        client.consume_output(n);
        let mut buf = vec![0u8; 4096];
        while client.ready_state() != ReadyState::Open {
            let n = raw.read(&mut buf).await.unwrap();
            client.receive(&buf[..n]);
            while client.next_event().unwrap().is_some() {}
        }
        // Masked text frame with invalid UTF-8.
        raw.write_all(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe])
            .await
            .unwrap();
        let (result, event) = server.await.unwrap();
        assert!(matches!(result, Err(Error::Protocol(_))), "{result:?}");
        assert_eq!(event.unwrap().code, CloseCode::INVALID_PAYLOAD);
        let mut wire = Vec::new();
        raw.read_to_end(&mut wire).await.unwrap();
        // One close frame with 1007 and a reason, then the end of stream.
        assert_eq!(&wire[..1], &[0x88]);
        assert_eq!(wire.len(), 2 + wire[1] as usize, "{wire:?}");
        assert_eq!(&wire[2..4], &[0x03, 0xef]);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn an_idle_socket_holds_no_read_buffer() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = ServerBuilder::new().accept(stream).await.unwrap();
            let message = ws.recv().await.unwrap().unwrap();
            ws.queue(message).unwrap();
            // Writes the echo, reads until there is nothing more: idle.
            assert!(poll_once(ws.recv()).await.is_none());
            assert_eq!(ws.buffered_amount(), 0);
            let held = ws.connection().buffer_capacity();
            // The payload's bytes once in each of the core's two buffers,
            // and no read buffer of the socket's own (reads go through one
            // scratch buffer per thread).
            assert!(held <= 2 * 1024, "{held} bytes held while idle");
            ws.recv().await
        });
        let mut ws = rfc6455::tokio::connect(&url).await.unwrap();
        let payload = Message::from(vec![0x5a; 512]);
        ws.send(payload.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(payload));
        ws.close(1000, "done").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
        assert_eq!(server.await.unwrap().unwrap(), None);
    })
    .await
    .unwrap();
}

/// Accepts one TLS connection with `server` and echoes it; returns whether
/// the stream ran TLS and the close event.
#[cfg(feature = "tls")]
fn tokio_tls_echo_once(
    listener: TcpListener,
    server: ServerBuilder,
) -> tokio::task::JoinHandle<(bool, Option<rfc6455::CloseEvent>)> {
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = server.accept(stream).await.unwrap();
        let tls = ws.get_ref().is_tls();
        while let Ok(Some(message)) = ws.recv().await {
            ws.queue(message).unwrap();
        }
        (tls, ws.close_event().cloned())
    })
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn wss_round_trips_tokio_to_tokio() {
    timeout(LIMIT, async {
        let pki = certs::Pki::new("rfc6455 tokio test CA");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("wss://{}/secure", listener.local_addr().unwrap());
        let server = tokio_tls_echo_once(listener, ServerBuilder::new().tls(pki.server_config()));
        let mut ws = ClientBuilder::new(url.clone())
            .tls_config(pki.client_config())
            .connect()
            .await
            .unwrap();
        assert!(ws.get_ref().is_tls());
        assert_eq!(ws.url(), Some(url.as_str()));
        for message in messages() {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), Some(message));
        }
        for i in 0..50 {
            ws.queue(format!("m{i}")).unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..50 {
            assert_eq!(
                ws.recv().await.unwrap(),
                Some(Message::from(format!("m{i}")))
            );
        }
        ws.close(1000, "done").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
        assert!(ws.close_event().unwrap().was_clean);
        let (server_tls, server_event) = server.await.unwrap();
        assert!(server_tls);
        let server_event = server_event.unwrap();
        assert!(server_event.was_clean);
        assert_eq!(server_event.reason, "done");
    })
    .await
    .unwrap();
}

/// The tokio server's TLS against the blocking client's, and the tokio
/// client's against the blocking server's: the same configuration types on
/// both sides.
#[cfg(feature = "tls")]
#[tokio::test]
async fn wss_between_the_tokio_and_blocking_adapters() {
    let pki = certs::Pki::new("rfc6455 tokio test CA");
    // The blocking client against the tokio server.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://{}/", listener.local_addr().unwrap());
    let server = tokio_tls_echo_once(listener, ServerBuilder::new().tls(pki.server_config()));
    let client_tls = pki.client_config();
    let client = tokio::task::spawn_blocking(move || {
        let mut ws = rfc6455::blocking::ClientBuilder::new(url)
            .tls_config(client_tls)
            .read_timeout(Some(LIMIT))
            .connect()
            .unwrap();
        assert!(ws.get_ref().is_tls());
        for message in messages() {
            ws.send(message.clone()).unwrap();
            assert_eq!(ws.recv().unwrap(), Some(message));
        }
        ws.close(1000, "done").unwrap();
        while ws.recv().unwrap().is_some() {}
        ws.close_event().cloned().unwrap()
    });
    let (client_event, (server_tls, server_event)) = timeout(LIMIT, async {
        (client.await.unwrap(), server.await.unwrap())
    })
    .await
    .unwrap();
    assert!(client_event.was_clean);
    assert!(server_tls);
    assert!(server_event.unwrap().was_clean);

    // The tokio client against the blocking server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://{}/", listener.local_addr().unwrap());
    let server_tls = pki.server_config();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = rfc6455::blocking::ServerBuilder::new()
            .tls(server_tls)
            .read_timeout(Some(LIMIT))
            .accept(stream)
            .unwrap();
        assert!(ws.get_ref().is_tls());
        while let Ok(Some(message)) = ws.recv() {
            ws.queue(message).unwrap();
        }
        ws.close_event().cloned()
    });
    timeout(LIMIT, async {
        let mut ws = ClientBuilder::new(url)
            .tls_config(pki.client_config())
            .connect()
            .await
            .unwrap();
        assert!(ws.get_ref().is_tls());
        for message in messages() {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), Some(message));
        }
        ws.close(1000, "done").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
        assert!(ws.close_event().unwrap().was_clean);
    })
    .await
    .unwrap();
    let event = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(event.was_clean);
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn wss_untrusted_certificate_is_refused_with_a_tls_error() {
    let pki = certs::Pki::new("rfc6455 tokio test CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_tls = pki.server_config();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        ServerBuilder::new()
            .tls(server_tls)
            .accept(stream)
            .await
            .map(|_| ())
    });
    // The default roots (Mozilla's) do not hold the test CA.
    let result = timeout(
        LIMIT,
        rfc6455::tokio::connect(&format!("wss://127.0.0.1:{port}/")),
    )
    .await
    .unwrap();
    let err = match result {
        Err(Error::Tls(e)) => e,
        other => panic!("expected a TLS error, got {other:?}"),
    };
    assert_eq!(err.kind(), rfc6455::TlsErrorKind::UnknownIssuer);
    assert_eq!(err.peer(), "127.0.0.1");
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1") && text.contains("unknown authority"),
        "{text}"
    );
    // The server hears the client's refusal as an alert.
    match timeout(LIMIT, server).await.unwrap().unwrap() {
        Err(Error::Tls(e)) => assert_eq!(e.kind(), rfc6455::TlsErrorKind::AlertReceived, "{e}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn wss_server_refuses_plain_http_with_a_tls_error() {
    let pki = certs::Pki::new("rfc6455 tokio test CA");
    let (listener, url) = listen().await;
    let server_tls = pki.server_config();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        ServerBuilder::new()
            .tls(server_tls)
            .accept(stream)
            .await
            .map(|_| ())
    });
    // A ws:// client speaks plain HTTP to the TLS server.
    let client = timeout(LIMIT, rfc6455::tokio::connect(&url)).await.unwrap();
    assert!(client.is_err());
    match timeout(LIMIT, server).await.unwrap().unwrap() {
        Err(Error::Tls(e)) => assert_eq!(e.kind(), rfc6455::TlsErrorKind::NotTls, "{e}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

/// The `Sink` steps `SinkExt::send` would take, without the combinators.
async fn sink_feed<T>(sink: &mut T, message: Message) -> Result<(), Error>
where
    T: Sink<Message, Error = Error> + Unpin,
{
    std::future::poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
    Pin::new(&mut *sink).start_send(message)
}

async fn sink_flush<T>(sink: &mut T) -> Result<(), Error>
where
    T: Sink<Message, Error = Error> + Unpin,
{
    std::future::poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
}

async fn sink_close<T>(sink: &mut T) -> Result<(), Error>
where
    T: Sink<Message, Error = Error> + Unpin,
{
    std::future::poll_fn(|cx| Pin::new(&mut *sink).poll_close(cx)).await
}

async fn stream_next<T>(stream: &mut T) -> Option<T::Item>
where
    T: Stream + Unpin,
{
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

#[tokio::test]
async fn stream_and_sink_round_trip() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        // The server echoes through its Stream and Sink.
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = ServerBuilder::new().accept(stream).await.unwrap();
            while let Some(message) = stream_next(&mut ws).await {
                sink_feed(&mut ws, message.unwrap()).await.unwrap();
                sink_flush(&mut ws).await.unwrap();
            }
            ws.close_event().cloned()
        });
        let mut ws = rfc6455::tokio::connect(&url).await.unwrap();
        for message in messages() {
            sink_feed(&mut ws, message).await.unwrap();
        }
        sink_flush(&mut ws).await.unwrap();
        assert_eq!(ws.buffered_amount(), 0);
        for message in messages() {
            assert_eq!(stream_next(&mut ws).await.unwrap().unwrap(), message);
        }
        // Closing the sink sends 1000; the stream then ends with the reply.
        sink_close(&mut ws).await.unwrap();
        assert_eq!(ws.ready_state(), ReadyState::Closing);
        assert!(stream_next(&mut ws).await.is_none());
        assert!(stream_next(&mut ws).await.is_none());
        let event = ws.close_event().unwrap();
        assert!(event.was_clean);
        assert_eq!(event.code, CloseCode::NORMAL);
        // A closed sink refuses more.
        assert!(sink_feed(&mut ws, Message::from("late")).await.is_err());
        assert!(server.await.unwrap().unwrap().was_clean);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn sink_ready_writes_out_past_its_high_water_mark_only() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio_echo_once(listener, ServerBuilder::new());
        let mut ws = rfc6455::tokio::connect(&url).await.unwrap();
        // Small messages wait in the queue: ready does not write them.
        for i in 0..10 {
            sink_feed(&mut ws, Message::from(format!("m{i}")))
                .await
                .unwrap();
        }
        let queued = ws.buffered_amount();
        assert!(queued > 0);
        std::future::poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx))
            .await
            .unwrap();
        assert_eq!(ws.buffered_amount(), queued);
        // Past 64 KiB queued, ready writes everything out first.
        Pin::new(&mut ws)
            .start_send(Message::from(common::incompressible(100 * 1024, 0)))
            .unwrap();
        assert!(ws.buffered_amount() > 100 * 1024);
        std::future::poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx))
            .await
            .unwrap();
        assert_eq!(ws.buffered_amount(), 0);
        for i in 0..10 {
            assert_eq!(
                stream_next(&mut ws).await.unwrap().unwrap(),
                Message::from(format!("m{i}"))
            );
        }
        assert_eq!(
            stream_next(&mut ws).await.unwrap().unwrap(),
            Message::from(common::incompressible(100 * 1024, 0))
        );
        sink_close(&mut ws).await.unwrap();
        assert!(stream_next(&mut ws).await.is_none());
        assert!(server.await.unwrap().unwrap().was_clean);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn split_halves_as_stream_and_sink() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio_echo_once(listener, ServerBuilder::new());
        let (mut reader, mut writer) = rfc6455::tokio::connect(&url).await.unwrap().split();
        let sender = tokio::spawn(async move {
            for i in 0..200 {
                sink_feed(&mut writer, Message::from(format!("m{i}")))
                    .await
                    .unwrap();
            }
            sink_flush(&mut writer).await.unwrap();
            sink_close(&mut writer).await.unwrap();
            writer
        });
        let mut got = Vec::new();
        while let Some(message) = stream_next(&mut reader).await {
            got.push(message.unwrap());
        }
        let expected: Vec<Message> = (0..200).map(|i| Message::from(format!("m{i}"))).collect();
        assert_eq!(got, expected);
        let writer = sender.await.unwrap();
        let ws = reader.unsplit(writer).unwrap();
        assert!(ws.close_event().unwrap().was_clean);
        assert!(server.await.unwrap().unwrap().was_clean);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stream_ends_after_the_error_that_ends_the_connection() {
    timeout(LIMIT, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = ServerBuilder::new().accept(stream).await.unwrap();
            let first = stream_next(&mut ws).await;
            let second = stream_next(&mut ws).await;
            (first, second)
        });
        let mut raw = TcpStream::connect(url.trim_start_matches("ws://"))
            .await
            .unwrap();
        let mut client = Connection::client(
            rfc6455::ClientRequest::new(&url).unwrap(),
            Config::default(),
        )
        .unwrap();
        raw.write_all(client.output()).await.unwrap();
        let n = client.output().len();
        client.consume_output(n);
        let mut buf = vec![0u8; 4096];
        while client.ready_state() != ReadyState::Open {
            let n = raw.read(&mut buf).await.unwrap();
            client.receive(&buf[..n]);
            while client.next_event().unwrap().is_some() {}
        }
        // An unmasked frame from a client: a protocol error.
        raw.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
        let (first, second) = server.await.unwrap();
        assert!(matches!(first, Some(Err(Error::Protocol(_)))), "{first:?}");
        assert!(second.is_none(), "{second:?}");
    })
    .await
    .unwrap();
}

/// A raw client: the handshake through a sans-IO connection, then the
/// stream for the test to write frames of its own on.
async fn raw_client(url: &str) -> TcpStream {
    let mut raw = TcpStream::connect(url.trim_start_matches("ws://"))
        .await
        .unwrap();
    let mut client =
        Connection::client(rfc6455::ClientRequest::new(url).unwrap(), Config::default()).unwrap();
    raw.write_all(client.output()).await.unwrap();
    let n = client.output().len();
    client.consume_output(n);
    let mut buf = vec![0u8; 4096];
    while client.ready_state() != ReadyState::Open {
        let n = raw.read(&mut buf).await.unwrap();
        client.receive(&buf[..n]);
        while client.next_event().unwrap().is_some() {}
    }
    raw
}

#[tokio::test]
async fn message_timeout_fails_a_trickled_message_with_1008() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .message_timeout(Some(Duration::from_millis(300)))
            .no_heartbeat()
            .accept(stream)
            .await
            .unwrap();
        let started = tokio::time::Instant::now();
        let result = ws.recv().await;
        (result, started.elapsed(), ws.close_event().cloned())
    });
    let mut raw = raw_client(&url).await;
    // A masked text frame of 20 bytes, its payload a byte every 50 ms:
    // each read brings something, the message still takes a second.
    raw.write_all(&[0x81, 0x80 | 20, 0, 0, 0, 0]).await.unwrap();
    let trickle = async {
        for _ in 0..20 {
            if raw.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let ((result, elapsed, event), ()) = timeout(LIMIT, async {
        tokio::join!(async { server.await.unwrap() }, trickle)
    })
    .await
    .unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
    let event = event.unwrap();
    assert_eq!(event.code, CloseCode::POLICY_VIOLATION);
    assert!(!event.was_clean);
    // The server's close frame says 1008, then the stream ends.
    let mut wire = Vec::new();
    timeout(LIMIT, raw.read_to_end(&mut wire))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(wire[0], 0x88, "{wire:?}");
    assert_eq!(wire.len(), 2 + wire[1] as usize, "{wire:?}");
    assert_eq!(&wire[2..4], &1008u16.to_be_bytes());
}

#[tokio::test]
async fn write_timeout_ends_a_send_to_a_peer_that_stops_reading() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .write_timeout(Some(Duration::from_millis(300)))
            .no_heartbeat()
            .accept(stream)
            .await
            .unwrap();
        // Incompressible, so that the sends fill the sockets with
        // permessage-deflate negotiated too.
        let chunk = common::incompressible(256 * 1024, 0);
        let mut sent = 0usize;
        let error = loop {
            match ws.send(chunk.clone()).await {
                Ok(()) => sent += chunk.len(),
                Err(e) => break e,
            }
        };
        let after = ws.recv().await;
        (
            error,
            sent,
            ws.close_event().cloned(),
            ws.ready_state(),
            after,
        )
    });
    // A client that never reads.
    let client = ClientBuilder::new(url)
        .no_heartbeat()
        .connect()
        .await
        .unwrap();
    let (error, sent, event, state, after) = timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    // What the kernel's buffers took before the sends stalled.
    assert!(sent > 0, "{sent}");
    let event = event.unwrap();
    assert_eq!(event.code, CloseCode::ABNORMAL);
    assert!(!event.was_clean);
    assert_eq!(state, ReadyState::Closed);
    assert!(matches!(after, Ok(None)), "{after:?}");
    drop(client);
}

#[tokio::test]
async fn write_timeout_ends_recv_when_its_echoes_cannot_go_out() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .config(Config {
                max_buffered_amount: 256 * 1024,
                ..Config::default()
            })
            .write_timeout(Some(Duration::from_millis(300)))
            .no_heartbeat()
            .accept(stream)
            .await
            .unwrap();
        let mut echoed = 0usize;
        let error = loop {
            match ws.recv().await {
                Ok(Some(message)) => match ws.queue(message) {
                    Ok(()) => echoed += 1,
                    // Past the cap the echo is refused; recv goes on.
                    Err(Error::BufferFull { .. }) => {}
                    Err(e) => break e,
                },
                Ok(None) => panic!("ended without an error"),
                Err(e) => break e,
            }
        };
        (error, echoed, ws.close_event().cloned())
    });
    // A client that sends and never reads, until the server is gone.
    let mut client = ClientBuilder::new(url)
        .no_heartbeat()
        .write_timeout(None)
        .connect()
        .await
        .unwrap();
    let flood = tokio::spawn(async move {
        let chunk = common::incompressible(64 * 1024, 0);
        while client.send(chunk.clone()).await.is_ok() {}
    });
    let (error, echoed, event) = timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(echoed > 0);
    let event = event.unwrap();
    assert_eq!(event.code, CloseCode::ABNORMAL);
    assert!(!event.was_clean);
    // The server's end of the transport is closed: the flood stops.
    timeout(LIMIT, flood).await.unwrap().unwrap();
}

#[tokio::test]
async fn heartbeat_follows_the_socket_into_another_task() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(200), Duration::from_millis(200))
            .accept(stream)
            .await
            .unwrap();
        // This task arms the heartbeat's timer with its own waker...
        assert!(timeout(Duration::from_millis(20), ws.recv()).await.is_err());
        // ...and another task waits: the timer must wake that one.
        tokio::spawn(async move {
            let result = ws.recv().await;
            (result, ws.close_event().cloned())
        })
        .await
        .unwrap()
    });
    // A client that never polls: it never answers the server's ping.
    let _silent = ClientBuilder::new(url)
        .no_heartbeat()
        .connect()
        .await
        .unwrap();
    let (result, event) = timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert_eq!(event.unwrap().code, CloseCode::ABNORMAL);
}

/// A server's connection task keeps the accept future's room for its
/// whole life: a TLS handshake held inline (a whole rustls connection,
/// about 1 KiB) would widen every connection, TLS or not (measured: 3.4
/// against 4.5 KiB of server memory per idle connection).
#[tokio::test]
async fn accepting_holds_no_tls_handshake_inline() {
    let (stream, _peer) = tokio::io::duplex(64);
    let server = ServerBuilder::new();
    let accepting = server.accept(stream);
    let size = std::mem::size_of_val(&accepting);
    assert!(size < 2048, "the accept future takes {size} bytes");
}
