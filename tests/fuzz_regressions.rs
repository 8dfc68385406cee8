//! Inputs the fuzz targets (fuzz/, run by scripts/fuzz.sh) found to break
//! an invariant, reduced by hand and replayed through the public API.

use rfc6455::handshake::accept_key;
use rfc6455::HandshakeError;
use rfc6455::{Accept, ClientRequest, Config, Connection, Error, Event, ReadyState};

/// Everything the connection queued, consumed.
fn take(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while conn.buffered_amount() > 0 {
        let chunk = conn.output().to_vec();
        conn.consume_output(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out
}

fn request_with(extra: &[u8]) -> Vec<u8> {
    let mut head =
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".to_vec();
    head.extend_from_slice(extra);
    head.extend_from_slice(b"\r\n");
    head
}

/// Feeds a request to a server, accepts it, and returns the result and
/// what the server wrote.
fn accept(head: &[u8]) -> (Result<(), Error>, Vec<u8>, ReadyState) {
    let mut server = Connection::server(Config::default());
    server.receive(head);
    match server.next_event() {
        Ok(Some(Event::Request(_))) => {}
        other => panic!("expected a request, got {other:?}"),
    }
    let result = server.accept(Accept::new());
    let out = take(&mut server);
    (result, out, server.ready_state())
}

const KEY: &[u8] = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const V13: &[u8] = b"Sec-WebSocket-Version: 13\r\n";

// server_handshake, crash-1b804cfe (minimised to 187 bytes): a request with
// two Sec-WebSocket-Key headers, the first not UTF-8, was accepted: the
// duplicate check only saw UTF-8 values, while `Request::header` (first
// value only) returned None for the key the server had just accepted.
// RFC 6455 section 4.2.1 allows exactly one key.
#[test]
fn duplicate_key_with_non_utf8_value_is_refused() {
    for keys in [
        [&b"Sec-WebSocket-Key: \xff\r\n"[..], KEY].concat(),
        [KEY, &b"Sec-WebSocket-Key: G\xcbj=\r\n"[..]].concat(),
    ] {
        let (result, out, state) = accept(&request_with(&[V13, &keys].concat()));
        assert!(
            matches!(
                result,
                Err(Error::Handshake {
                    error: HandshakeError::InvalidKey,
                    ..
                })
            ),
            "{result:?}"
        );
        assert!(
            out.starts_with(b"HTTP/1.1 400 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert_eq!(state, ReadyState::Closed);
    }
}

// The same hole for the version: "13" plus a non-UTF-8 duplicate.
#[test]
fn duplicate_version_with_non_utf8_value_is_refused() {
    let head = request_with(&[KEY, V13, b"Sec-WebSocket-Version: \xff\r\n"].concat());
    let (result, out, state) = accept(&head);
    assert!(
        matches!(
            result,
            Err(Error::Handshake {
                error: HandshakeError::UnsupportedVersion(_),
                ..
            })
        ),
        "{result:?}"
    );
    assert!(
        out.starts_with(b"HTTP/1.1 426 "),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(state, ReadyState::Closed);
}

// A lone key that is not UTF-8 is an invalid key (400), as before.
#[test]
fn non_utf8_key_is_invalid() {
    let (result, out, _) = accept(&request_with(
        &[V13, b"Sec-WebSocket-Key: \xff\xfe\r\n"].concat(),
    ));
    assert!(result.is_err());
    assert!(out.starts_with(b"HTTP/1.1 400 "));
}

// The client-side twin: a 101 with the right Sec-WebSocket-Accept plus a
// second, non-UTF-8 one opened the connection.
#[test]
fn duplicate_accept_with_non_utf8_value_is_refused() {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/").unwrap(),
        Config::default(),
    )
    .unwrap();
    let request = String::from_utf8(take(&mut client)).unwrap();
    let key = request
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let response = [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            .as_slice(),
        format!("Sec-WebSocket-Accept: {}\r\n", accept_key(key.as_bytes())).as_bytes(),
        b"Sec-WebSocket-Accept: \xff\r\n\r\n",
    ]
    .concat();
    client.receive(&response);
    let result = client.next_event();
    assert!(
        matches!(
            result,
            Err(Error::Handshake {
                error: HandshakeError::AcceptMismatch,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(client.ready_state(), ReadyState::Closed);
}

// A valid request still opens (guards the fix against over-reach).
#[test]
fn single_key_and_version_still_accepted() {
    let (result, out, state) = accept(&request_with(&[KEY, V13].concat()));
    result.unwrap();
    assert!(out.starts_with(b"HTTP/1.1 101 "));
    assert_eq!(state, ReadyState::Open);
}
