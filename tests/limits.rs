//! Resource limits and timeouts: what a hostile or dead peer can make us
//! hold is bounded (127.0.0.1 only, every wait bounded).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientBuilder, ServerBuilder};
use rfc6455::{CloseCode, Config, Connection, Error, ProtocolError, ReadyState, Role};

fn listen() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[test]
fn huge_declared_frame_is_refused_at_the_header_with_1009() {
    // Core: a 2^62-byte frame header, and nothing after it.
    let mut conn = Connection::open(Role::Server, Config::default());
    let mut header = vec![0x82, 0xff];
    header.extend_from_slice(&(1u64 << 62).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    conn.receive(&header);
    let err = conn.next_event().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::FrameTooBig { .. })),
        "{err:?}"
    );
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    assert_eq!(&conn.output()[..4], &[0x88, conn.output()[1], 0x03, 0xf1]);
    assert!(
        conn.buffer_capacity() < 64 * 1024,
        "{}",
        conn.buffer_capacity()
    );

    // A fragmented message growing past max_message_size, refused at the
    // header of the frame that would cross it.
    let config = Config {
        max_message_size: 1000,
        ..Config::default()
    };
    let mut conn = Connection::open(Role::Server, config);
    let frame = |opcode: u8, len: usize| {
        let mut f = vec![opcode, 0xfe];
        f.extend_from_slice(&(len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend(std::iter::repeat_n(b'a', len));
        f
    };
    conn.receive(&frame(0x02, 600));
    assert_eq!(conn.next_event().unwrap(), None);
    conn.receive(&frame(0x00, 600)[..8]); // only the header of the next fragment
    let err = conn.next_event().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(ProtocolError::MessageTooBig { max: 1000 })
        ),
        "{err:?}"
    );

    // Over TCP: the server answers a 1 GiB declaration with close 1009 at once.
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new().accept(stream).unwrap();
        ws.recv().unwrap_err()
    });
    let mut stream = common::raw::client(addr);
    let mut header = vec![0x82, 0xff];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    stream.write_all(&header).unwrap();
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply[0], 0x88);
    assert_eq!(&reply[2..4], &1009u16.to_be_bytes());
    assert_eq!(
        server.join().unwrap().close_code(),
        Some(CloseCode::MESSAGE_TOO_BIG)
    );
}

#[test]
fn handshake_head_over_the_limit_is_refused_without_buffering_it() {
    let config = Config {
        max_handshake_size: 1024,
        ..Config::default()
    };
    let mut conn = Connection::server(config);
    let mut err = None;
    for _ in 0..100 {
        conn.receive(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        if let Err(e) = conn.next_event() {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the head limit was enforced");
    assert!(err.to_string().contains("1024"), "{err}");
    assert!(conn.output().starts_with(b"HTTP/1.1 431 "));
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    conn.receive(&[b'x'; 100_000]); // dropped: the connection is closed
    assert!(conn.buffer_capacity() < 16 * 1024);
}

#[test]
fn a_slow_handshake_is_cut_off_at_the_deadline_not_per_byte() {
    let (listener, addr) = listen();
    let slow = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        // One byte every 100 ms: each read succeeds, the whole never ends in time.
        for &b in b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n".iter() {
            if stream.write_all(&[b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let (stream, _) = listener.accept().unwrap();
    let started = Instant::now();
    let result = ServerBuilder::new()
        .handshake_timeout(Duration::from_millis(700))
        .accept(stream);
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(
        elapsed >= Duration::from_millis(650) && elapsed < Duration::from_millis(2000),
        "{elapsed:?}"
    );
    slow.join().unwrap();
}

#[test]
fn a_peer_that_never_reads_hits_the_buffered_amount_cap() {
    let (listener, addr) = listen();
    const CAP: usize = 1 << 20;
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let config = Config {
            max_buffered_amount: CAP,
            ..Config::default()
        };
        let mut ws = ServerBuilder::new()
            .config(config)
            .write_timeout(Some(Duration::from_millis(100)))
            .accept(stream)
            .unwrap();
        let message = vec![7u8; 256 * 1024];
        let mut sent = 0usize;
        let mut max_buffered = 0;
        let err = loop {
            match ws.send_binary(&message) {
                Ok(()) => sent += 1,
                Err(Error::Timeout { .. }) => {} // the write timed out; the message stays queued
                Err(e) => break e,
            }
            max_buffered = max_buffered.max(ws.buffered_amount());
            assert!(sent < 10_000, "the peer's buffers can't hold this much");
        };
        (err, max_buffered, ws.connection().buffer_capacity())
    });
    let stream = common::raw::client(addr); // never reads again
    let (err, max_buffered, capacity) = server.join().unwrap();
    assert!(matches!(err, Error::BufferFull { max: CAP, .. }), "{err:?}");
    assert!(max_buffered <= CAP + 256 * 1024 + 16, "{max_buffered}");
    assert!(capacity <= 2 * (CAP + 256 * 1024) + 64 * 1024, "{capacity}");
    drop(stream);
}

#[test]
fn heartbeat_drops_a_silent_peer_and_keeps_a_live_one() {
    // A dead peer: handshake done, then it never answers the pings.
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(200), Duration::from_millis(200))
            .accept(stream)
            .unwrap();
        let started = Instant::now();
        let err = ws.recv().unwrap_err();
        (err, started.elapsed(), ws.close_event().cloned())
    });
    let mut silent = common::raw::client(addr);
    let (err, elapsed, event) = server.join().unwrap();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(380) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(event.unwrap().code, CloseCode::ABNORMAL);
    // The silent peer did receive a ping first.
    let mut frame = [0u8; 2];
    silent.read_exact(&mut frame).unwrap();
    assert_eq!(frame, [0x89, 0x00]);

    // A live peer answers the pings from inside its own recv().
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(100), Duration::from_millis(300))
            .accept(stream)
            .unwrap();
        let result = ws.recv();
        (result.map(|m| m.map(|m| m.len())), ws.ready_state())
    });
    let mut client = ClientBuilder::new(format!("ws://{addr}/"))
        .read_timeout(Some(Duration::from_millis(50)))
        .connect()
        .unwrap();
    // Waiting in recv for 900 ms answers the pings sent every 100 ms.
    let started = Instant::now();
    let mut pings_answered = 0;
    while started.elapsed() < Duration::from_millis(900) {
        match client.next_event() {
            Ok(Some(rfc6455::Event::Ping(_))) => pings_answered += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(Error::Timeout { .. }) => {} // our own read timeout
            Err(e) => panic!("{e}"),
        }
    }
    assert!(pings_answered >= 3, "{pings_answered}");
    client.send_text("still here").unwrap();
    let (result, state) = server.join().unwrap();
    assert_eq!(result.unwrap(), Some(10));
    assert_eq!(state, ReadyState::Open);
}

fn pump(from: &mut Connection, to: &mut Connection) {
    while from.buffered_amount() > 0 {
        let chunk = from.output().to_vec();
        from.consume_output(chunk.len());
        to.receive(&chunk);
    }
}

/// A client and a server after a 1 MiB message went there and back.
fn after_a_large_exchange() -> (Connection, Connection) {
    let (client, server) = after_an_exchange_of(1 << 20);
    assert!(client.buffer_capacity() >= 1 << 20);
    (client, server)
}

/// A client and a server after a message of `len` bytes went there and
/// back (the echo shares the received payload, as an echo server does).
fn after_an_exchange_of(len: usize) -> (Connection, Connection) {
    let mut client = Connection::open(Role::Client, Config::default());
    let mut server = Connection::open(Role::Server, Config::default());
    client.send_binary(&vec![5u8; len]).unwrap();
    pump(&mut client, &mut server);
    let message = match server.next_event().unwrap() {
        Some(rfc6455::Event::Message(m)) => m,
        other => panic!("{other:?}"),
    };
    server.send(message).unwrap();
    pump(&mut server, &mut client);
    assert!(
        matches!(client.next_event().unwrap(), Some(rfc6455::Event::Message(m)) if m.len() == len)
    );
    assert_eq!(server.next_event().unwrap(), None);
    assert_eq!(client.next_event().unwrap(), None);
    (client, server)
}

fn assert_idle_size(conns: [(&str, &Connection); 2]) {
    for (name, conn) in conns {
        let held = conn.buffer_capacity();
        assert!(held <= 8 * 1024, "{name} holds {held} bytes of buffers");
    }
}

#[test]
fn large_buffers_are_kept_while_needed_then_shrink_back() {
    let (mut client, mut server) = after_a_large_exchange();
    // Kept for the next large message: growing them anew costs more.
    // Polling again with nothing new changes nothing.
    assert_eq!(server.next_event().unwrap(), None);
    assert_eq!(client.next_event().unwrap(), None);
    assert!(client.buffer_capacity() >= 1 << 20);
    assert!(server.buffer_capacity() >= 1 << 20);

    // Once traffic turns small, each side is back to at most 8 KiB.
    client.send_text("small").unwrap();
    pump(&mut client, &mut server);
    assert!(matches!(
        server.next_event().unwrap(),
        Some(rfc6455::Event::Message(_))
    ));
    assert_eq!(server.next_event().unwrap(), None);
    server.send_text("small").unwrap();
    pump(&mut server, &mut client);
    assert!(matches!(
        client.next_event().unwrap(),
        Some(rfc6455::Event::Message(_))
    ));
    assert_eq!(client.next_event().unwrap(), None);
    assert_idle_size([("client", &client), ("server", &server)]);
}

/// One round of small messages both ways.
fn small_round(client: &mut Connection, server: &mut Connection) {
    client.send_text("small").unwrap();
    pump(client, server);
    assert!(matches!(
        server.next_event().unwrap(),
        Some(rfc6455::Event::Message(_))
    ));
    assert_eq!(server.next_event().unwrap(), None);
    server.send_text("small").unwrap();
    pump(server, client);
    assert!(matches!(
        client.next_event().unwrap(),
        Some(rfc6455::Event::Message(_))
    ));
    assert_eq!(client.next_event().unwrap(), None);
}

/// The bounds the README states for an idle connection, after messages of
/// every power of two from 1 KiB to 1 MiB: once traffic turns small, at
/// most 64 KiB of read buffer and 64 KiB of write queue are kept; after
/// `shrink_buffers`, at most 8 KiB in all.
#[test]
fn idle_buffers_are_bounded_whatever_size_came_before() {
    for shift in 10..=20 {
        let len = 1 << shift;
        let (mut client, mut server) = after_an_exchange_of(len);
        small_round(&mut client, &mut server);
        for (name, conn) in [("client", &client), ("server", &server)] {
            let held = conn.buffer_capacity();
            assert!(
                held <= 128 * 1024,
                "{name} holds {held} bytes after {len}-byte messages and a small round"
            );
        }
        client.shrink_buffers();
        server.shrink_buffers();
        for (name, conn) in [("client", &client), ("server", &server)] {
            let held = conn.buffer_capacity();
            assert!(
                held <= 8 * 1024,
                "{name} holds {held} bytes after {len}-byte messages and shrink_buffers"
            );
        }
    }
}

#[test]
fn shrink_buffers_brings_an_idle_connection_back_at_once() {
    let (mut client, mut server) = after_a_large_exchange();
    client.shrink_buffers();
    server.shrink_buffers();
    assert_idle_size([("client", &client), ("server", &server)]);
}

#[test]
fn blocking_heartbeat_releases_large_buffers_of_an_idle_connection() {
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new()
            .heartbeat(Duration::from_millis(50), Duration::from_secs(5))
            .read_timeout(Some(Duration::from_millis(400)))
            .accept(stream)
            .unwrap();
        let message = ws.recv().unwrap().unwrap();
        assert_eq!(message.len(), 1 << 20);
        drop(message);
        let after_message = ws.connection().buffer_capacity();
        // Nothing more comes: the heartbeat fires, then the read times out.
        let err = ws.recv().unwrap_err();
        (after_message, ws.connection().buffer_capacity(), err)
    });
    // Uncompressed, so that the message's megabyte is what the read
    // buffer grows to (compressed, it would arrive as a few bytes).
    #[allow(unused_mut)]
    let mut config = rfc6455::Config::default();
    #[cfg(feature = "deflate")]
    {
        config.deflate = None;
    }
    let mut client = ClientBuilder::new(format!("ws://{addr}/"))
        .config(config)
        .connect()
        .unwrap();
    client.send_binary(&vec![7u8; 1 << 20]).unwrap();
    let (after_message, idle, err) = server.join().unwrap();
    assert!(matches!(&err, Error::Timeout { .. }), "{err:?}");
    assert!(
        after_message >= 1 << 20,
        "kept after the message: {after_message}"
    );
    assert!(idle <= 8 * 1024, "held while idle: {idle}");
    drop(client);
}

#[test]
fn no_limit_and_a_huge_header_neither_panic_nor_reserve_it() {
    let unlimited = Config {
        max_frame_size: usize::MAX,
        max_message_size: usize::MAX,
        ..Config::default()
    };
    let header = |len: u64| {
        let mut h = vec![0x82, 0xff];
        h.extend_from_slice(&len.to_be_bytes());
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    };
    // 1 TiB declared (on a 32-bit target, the most it can address):
    // accepted, and reading its first bytes through `receive_with`
    // reserves one step, not the declared length.
    let mut conn = Connection::open(Role::Server, unlimited.clone());
    conn.receive(&header((1u64 << 40).min(isize::MAX as u64 - 14)));
    assert_eq!(conn.next_event().unwrap(), None);
    conn.receive_with(|tail| tail.extend_from_slice(&[0; 100]));
    assert_eq!(conn.next_event().unwrap(), None);
    assert!(
        conn.buffer_capacity() < 1 << 20,
        "{}",
        conn.buffer_capacity()
    );
    // The largest length the header allows: no allocation can hold it,
    // so it is too big whatever the configuration says.
    let mut conn = Connection::open(Role::Server, unlimited);
    conn.receive(&header(i64::MAX as u64));
    let err = conn.next_event().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::FrameTooBig { .. })),
        "{err:?}"
    );
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
}

#[test]
fn a_small_frame_limit_applies_to_data_frames_not_control_frames() {
    let config = Config {
        max_frame_size: 10,
        ..Config::default()
    };
    for role in [Role::Client, Role::Server] {
        let mut conn = Connection::open(role, config.clone());
        let frame = |opcode: u8, len: usize| {
            let mut f = vec![opcode];
            if role == Role::Server {
                f.extend_from_slice(&[0x80 | len as u8, 0, 0, 0, 0]);
            } else {
                f.push(len as u8);
            }
            f.extend(std::iter::repeat_n(b'p', len));
            f
        };
        // A 125-byte ping and a 100-byte close reason go through...
        conn.receive(&frame(0x89, 125));
        assert!(
            matches!(conn.next_event(), Ok(Some(rfc6455::Event::Ping(p))) if p.len() == 125),
            "{role:?}"
        );
        // ...an 11-byte binary frame does not.
        conn.receive(&frame(0x82, 11));
        let err = conn.next_event().unwrap_err();
        assert_eq!(
            err.close_code(),
            Some(CloseCode::MESSAGE_TOO_BIG),
            "{role:?}"
        );
    }
}

#[test]
fn servers_and_clients_come_with_safe_defaults() {
    // Keepalive as python-websockets (20 s / 20 s), a write timeout, a
    // bound on how long a message may take, and a connection cap: a
    // server built with defaults cannot be held forever by idle,
    // trickling, non-reading or numerous peers.
    let server = format!("{:?}", ServerBuilder::new());
    for default in [
        "heartbeat: Some((20s, 20s))",
        "write_timeout: Some(30s)",
        "message: Some(60s)",
        "max_connections: 10000",
    ] {
        assert!(server.contains(default), "{default} not in {server}");
    }
    let client = format!("{:?}", ClientBuilder::new("ws://127.0.0.1/"));
    for default in [
        "heartbeat: Some((20s, 20s))",
        "write_timeout: Some(30s)",
        "message: Some(60s)",
    ] {
        assert!(client.contains(default), "{default} not in {client}");
    }
}

/// A server with `message_timeout(limit)` and no heartbeat, and a raw
/// client that sends `head` at once and then one byte every 50 ms.
/// Returns the server's error, how long its `recv` took, its close event
/// and what the client read back.
fn trickle(head: Vec<u8>, limit: Duration) -> (Error, Duration, CloseCode, Vec<u8>) {
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new()
            .no_heartbeat()
            .message_timeout(Some(limit))
            .accept(stream)
            .unwrap();
        let started = Instant::now();
        let err = ws.recv().unwrap_err();
        (err, started.elapsed(), ws.close_event().unwrap().code)
    });
    let mut client = common::raw::client(addr);
    client.write_all(&head).unwrap();
    let writer = client.try_clone().unwrap();
    let trickler = thread::spawn(move || {
        let mut writer = writer;
        for _ in 0..100 {
            if writer.write_all(&[0]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (err, elapsed, code) = server.join().unwrap();
    let mut back = Vec::new();
    let _ = client.read_to_end(&mut back);
    trickler.join().unwrap();
    (err, elapsed, code, back)
}

#[test]
fn a_message_trickled_a_byte_at_a_time_is_cut_off_at_the_message_timeout() {
    let limit = Duration::from_millis(600);
    // A 15 MiB frame (read in large pieces) and a 1,000-byte frame (read
    // through the read buffer), each trickled after its header.
    let mut large = vec![0x82, 0xff];
    large.extend_from_slice(&(15u64 << 20).to_be_bytes());
    large.extend_from_slice(&[1, 2, 3, 4]);
    let mut small = vec![0x82, 0xfe];
    small.extend_from_slice(&1000u16.to_be_bytes());
    small.extend_from_slice(&[1, 2, 3, 4]);
    // A fragmented message whose first fragment is whole: the clock runs
    // for the message, not the frame.
    let mut fragmented = vec![0x02, 0x83, 1, 2, 3, 4, 5, 6, 7];
    fragmented.extend_from_slice(&[0x00, 0xfe, 0x03, 0xe8, 1, 2, 3, 4]);
    for (name, head) in [
        ("large", large),
        ("small", small),
        ("fragmented", fragmented),
    ] {
        let (err, elapsed, code, back) = trickle(head, limit);
        assert!(matches!(err, Error::Timeout { .. }), "{name}: {err:?}");
        assert!(
            elapsed >= limit && elapsed < limit * 4,
            "{name}: cut off after {elapsed:?}"
        );
        assert_eq!(code, CloseCode::POLICY_VIOLATION, "{name}");
        // The client was told why before the connection closed.
        let frames = common::parse_frames(&back);
        assert_eq!(frames.len(), 1, "{name}: {frames:?}");
        assert_eq!(frames[0].close_code(), Some(1008), "{name}");
    }
}

#[test]
fn a_peer_that_floods_pings_and_never_reads_cannot_block_a_send_forever() {
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new()
            .no_heartbeat()
            .write_timeout(Some(Duration::from_millis(300)))
            .accept(stream)
            .unwrap();
        let started = Instant::now();
        // Every ping is answered; once the peer's receive window and ours
        // are full, the answer's write times out instead of blocking.
        let err = loop {
            match ws.recv() {
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        (err, started.elapsed(), ws.buffered_amount())
    });
    let mut flooder = common::raw::client(addr);
    let ping = common::encode_frame(true, 0, 0x9, Some([1, 2, 3, 4]), &[7; 125]);
    let burst: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1000)
        .collect();
    flooder
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) && flooder.write_all(&burst).is_ok() {}
    let (err, elapsed, buffered) = server.join().unwrap();
    assert!(matches!(&err, Error::Timeout { .. }), "{err:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    // Answers wait, bounded by the buffered-amount cap.
    assert!(
        buffered <= Config::default().max_buffered_amount + 200,
        "{buffered}"
    );
}

#[test]
fn serve_caps_the_connections_and_answers_one_too_many_with_503() {
    let (listener, addr) = listen();
    let server = ServerBuilder::new().max_connections(2);
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
    let url = format!("ws://{addr}/");
    let connect = || {
        ClientBuilder::new(&url)
            .handshake_timeout(Duration::from_secs(5))
            .connect()
    };
    let mut first = connect().unwrap();
    let mut second = connect().unwrap();
    for _ in 0..3 {
        match connect() {
            Err(Error::Handshake {
                error:
                    rfc6455::HandshakeError::Rejected {
                        status, headers, ..
                    },
                ..
            }) => {
                assert_eq!(status, 503);
                assert_eq!(headers.get("Retry-After"), Some("1"));
            }
            other => panic!("a third connection: {other:?}"),
        }
    }
    // The two admitted ones work...
    first.send_text("one").unwrap();
    assert_eq!(first.recv().unwrap().unwrap().as_bytes(), b"one");
    // ...and once one leaves, its place is free again.
    second.close(1000, "bye").unwrap();
    while second.recv().unwrap().is_some() {}
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut third = loop {
        match connect() {
            Ok(ws) => break ws,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("no place freed: {e}"),
        }
    };
    third.send_text("three").unwrap();
    assert_eq!(third.recv().unwrap().unwrap().as_bytes(), b"three");
}

#[test]
fn a_read_buffer_grown_by_flowing_traffic_is_kept_across_drains() {
    // Reads that come back full double the read size; draining the input
    // must not free that buffer (and zero a new one at the next read)
    // while traffic flows: only an idle connection gives it back.
    let mut conn = Connection::open(Role::Client, Config::default());
    let frame = [0x82, 0x7d]
        .into_iter()
        .chain([7u8; 125])
        .collect::<Vec<u8>>();
    let burst: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 200)
        .collect();
    let mut offered = Vec::new();
    for _ in 0..3 {
        let mut rest = &burst[..];
        while !rest.is_empty() {
            let buf = conn.read_buf();
            offered.push(buf.len());
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            conn.commit(n);
            rest = &rest[n..];
            while conn.next_event().unwrap().is_some() {}
        }
    }
    let largest = *offered.iter().max().unwrap();
    assert!(largest > 4096, "reads never grew: {offered:?}");
    assert!(
        conn.buffer_capacity() > 4096,
        "a buffer grown for flowing traffic was freed at a drain: {offered:?}"
    );
    // Idle: shrink_buffers gives it back.
    conn.shrink_buffers();
    assert!(
        conn.buffer_capacity() <= 8 * 1024,
        "{}",
        conn.buffer_capacity()
    );
}
