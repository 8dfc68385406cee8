//! The opening handshake (RFC 6455 sections 4.1 and 4.2), from both ends.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::*;
use rfc6455::handshake::accept_key;
use rfc6455::HandshakeError;
use rfc6455::{
    Accept, ClientRequest, CloseCode, Config, Connection, Error, Event, Message, ReadyState,
    Reject, Role,
};

fn client(url: &str) -> Connection {
    Connection::client(ClientRequest::new(url).unwrap(), Config::default()).unwrap()
}

fn request_head(req: ClientRequest) -> Head {
    let conn = Connection::client(req, Config::default()).unwrap();
    assert_eq!(conn.ready_state(), ReadyState::Connecting);
    let head = parse_head(conn.output());
    assert!(head.body.is_empty(), "nothing after the request head");
    assert_eq!(conn.buffered_amount(), conn.output().len());
    head
}

// ------------------------------------------------------------ client request

#[test]
fn client_request_carries_url_origin_protocols_and_headers() {
    let head = request_head(
        ClientRequest::new("ws://server.example.com:8080/chat?room=1&x=%20")
            .unwrap()
            .origin("http://example.com")
            .protocol("chat")
            .protocol("superchat")
            .header("Authorization", "Bearer abc")
            .header("Cookie", "a=1"),
    );
    assert_eq!(head.start, "GET /chat?room=1&x=%20 HTTP/1.1");
    assert_eq!(head.get("Host"), Some("server.example.com:8080"));
    assert_eq!(head.get("Upgrade"), Some("websocket"));
    assert_eq!(head.get("Connection"), Some("Upgrade"));
    assert_eq!(head.get("Sec-WebSocket-Version"), Some("13"));
    assert_eq!(head.get("Origin"), Some("http://example.com"));
    assert_eq!(head.get("Sec-WebSocket-Protocol"), Some("chat, superchat"));
    assert_eq!(head.get("Authorization"), Some("Bearer abc"));
    assert_eq!(head.get("Cookie"), Some("a=1"));
    let key = head.get("Sec-WebSocket-Key").unwrap();
    assert_eq!(BASE64.decode(key).unwrap().len(), 16);
    for name in ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"] {
        assert_eq!(head.count(name), 1, "{name}");
    }
}

#[test]
fn client_request_without_options_has_no_optional_headers() {
    let head = request_head(ClientRequest::new("ws://example.com").unwrap());
    assert_eq!(head.start, "GET / HTTP/1.1");
    assert_eq!(head.get("Host"), Some("example.com"));
    assert_eq!(head.get("Origin"), None);
    assert_eq!(head.get("Sec-WebSocket-Protocol"), None);
    // permessage-deflate is offered whenever the feature is on (see
    // tests/deflate.rs).
    let extensions = usize::from(cfg!(feature = "deflate"));
    assert_eq!(head.count("Sec-WebSocket-Extensions"), extensions);
    assert_eq!(head.headers.len(), 5 + extensions, "{:?}", head.headers);
}

#[test]
fn client_request_host_port_and_resource_forms() {
    // (url, host, port, Host header, request target)
    let cases = [
        ("ws://example.com", "example.com", 80, "example.com", "/"),
        (
            "ws://example.com:80/",
            "example.com",
            80,
            "example.com",
            "/",
        ),
        ("wss://example.com/", "example.com", 443, "example.com", "/"),
        (
            "wss://example.com:80/",
            "example.com",
            80,
            "example.com:80",
            "/",
        ),
        (
            "ws://example.com:443/a",
            "example.com",
            443,
            "example.com:443",
            "/a",
        ),
        (
            "ws://127.0.0.1:9001?x=1",
            "127.0.0.1",
            9001,
            "127.0.0.1:9001",
            "/?x=1",
        ),
        ("ws://h/a/b/c?d=e&f", "h", 80, "h", "/a/b/c?d=e&f"),
        ("ws://[::1]/", "::1", 80, "[::1]", "/"),
        ("ws://[::1]:9001/chat", "::1", 9001, "[::1]:9001", "/chat"),
        (
            "wss://[2001:db8::7]:8443/?q",
            "2001:db8::7",
            8443,
            "[2001:db8::7]:8443",
            "/?q",
        ),
        ("WSS://[fe80::1]", "fe80::1", 443, "[fe80::1]", "/"),
    ];
    for (url, host, port, host_header, target) in cases {
        let req = ClientRequest::new(url).unwrap();
        assert_eq!((req.host(), req.port()), (host, port), "{url}");
        assert_eq!(req.resource(), target, "{url}");
        assert_eq!(req.host_header(), host_header, "{url}");
        let head = request_head(req);
        assert_eq!(head.start, format!("GET {target} HTTP/1.1"), "{url}");
        assert_eq!(head.get("Host"), Some(host_header), "{url}");
    }
}

#[test]
fn bad_urls_are_refused() {
    for url in [
        "http://example.com/",
        "example.com",
        "ws://",
        "ws:///path",
        "ws://host:0/",
        "ws://host:65536/",
        "ws://host:port/",
        "ws://host/#fragment",
        "ws://user:pass@host/",
        "ws://[::1/",
        "ws://[not-v6]/",
        "ws://[::1]x/",
        "ws://host/a path",
    ] {
        assert!(
            matches!(ClientRequest::new(url), Err(Error::InvalidUrl(_))),
            "{url} should be refused"
        );
    }
}

#[test]
fn header_injection_in_client_request_is_refused() {
    let req = ClientRequest::new("ws://h/")
        .unwrap()
        .header("X-Evil", "a\r\nInjected: yes");
    assert!(matches!(
        Connection::client(req, Config::default()),
        Err(Error::Handshake {
            error: HandshakeError::InvalidHeader(_),
            ..
        })
    ));
    let req = ClientRequest::new("ws://h/").unwrap().protocol("two words");
    assert!(matches!(
        Connection::client(req, Config::default()),
        Err(Error::Handshake {
            error: HandshakeError::InvalidHeader(_),
            ..
        })
    ));
}

#[test]
fn each_client_uses_a_fresh_key() {
    let keys: std::collections::HashSet<String> =
        (0..16).map(|_| client_key(&client("ws://h/"))).collect();
    assert_eq!(keys.len(), 16);
}

// ------------------------------------------------------------ accept key

#[test]
fn accept_key_known_answers() {
    assert_eq!(accept_key(RFC_KEY.as_bytes()), RFC_ACCEPT);
    assert_eq!(
        accept_key(b"sN9cRrP/n9NdMgdcy2VJFQ=="),
        "fFBooB7FAkLlXgRSz0BT3v4hq5s="
    );
}

#[test]
fn server_answers_the_rfc_keys_with_the_rfc_accepts() {
    for (key, accept) in [
        (RFC_KEY, RFC_ACCEPT),
        ("sN9cRrP/n9NdMgdcy2VJFQ==", "fFBooB7FAkLlXgRSz0BT3v4hq5s="),
    ] {
        let mut server = Connection::server(Config::default());
        server.receive(rfc_request("").replace(RFC_KEY, key).as_bytes());
        assert!(matches!(events(&mut server)[..], [Event::Request(_)]));
        assert_eq!(
            server.buffered_amount(),
            0,
            "nothing sent before the app decides"
        );
        server.accept(Accept::new()).unwrap();
        let head = parse_head(&drain(&mut server));
        assert_eq!(head.start, "HTTP/1.1 101 Switching Protocols");
        assert_eq!(head.get("Sec-WebSocket-Accept"), Some(accept));
        assert_eq!(head.get("Upgrade"), Some("websocket"));
        assert_eq!(head.get("Connection"), Some("Upgrade"));
        assert_eq!(head.get("Sec-WebSocket-Protocol"), None);
        assert_eq!(head.get("Sec-WebSocket-Extensions"), None);
        assert!(head.body.is_empty());
        assert_eq!(server.ready_state(), ReadyState::Open);
    }
}

// ------------------------------------------------------------ response check

/// A client whose queued request was taken, and its key.
fn pending_client(req: ClientRequest, config: Config) -> (Connection, String) {
    let mut c = Connection::client(req, config).unwrap();
    let key = client_key(&c);
    drain(&mut c);
    (c, key)
}

fn answer(response: &str) -> Result<Option<Event>, Error> {
    answer_offering(&[], response)
}

fn answer_offering(protocols: &[&str], response: &str) -> Result<Option<Event>, Error> {
    let mut req = ClientRequest::new("ws://example.com/").unwrap();
    for p in protocols {
        req = req.protocol(*p);
    }
    let (mut c, key) = pending_client(req, Config::default());
    c.receive(
        response
            .replace("{accept}", &accept_key(key.as_bytes()))
            .as_bytes(),
    );
    let mut result = c.next_event();
    if matches!(result, Ok(None)) {
        // A refusal without a length: its body ends with the stream.
        c.receive_eof();
        result = c.next_event();
    }
    match &result {
        Ok(Some(Event::Open(_))) => assert_eq!(c.ready_state(), ReadyState::Open),
        Err(_) => {
            assert_eq!(c.ready_state(), ReadyState::Closed);
            assert_eq!(
                c.buffered_amount(),
                0,
                "a client sends nothing on a failed handshake"
            );
            assert!(c.should_close_transport());
        }
        other => panic!("unexpected {other:?}"),
    }
    result
}

const OK_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                           Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n";

fn ok_response(extra: &str) -> String {
    format!("{OK_RESPONSE}{extra}\r\n")
}

#[test]
fn valid_response_opens_the_client() {
    let result = answer(&ok_response("Set-Cookie: id=1\r\n"));
    let Ok(Some(Event::Open(response))) = result else {
        panic!("{result:?}")
    };
    assert_eq!(response.protocol(), None);
    assert_eq!(response.headers().get("set-cookie"), Some("id=1"));
}

#[test]
fn upgrade_and_connection_tokens_are_case_insensitive_and_listed() {
    for (upgrade, connection) in [
        ("websocket", "Upgrade"),
        ("WebSocket", "upgrade"),
        ("WEBSOCKET", "UPGRADE"),
        ("h2c, websocket", "keep-alive, Upgrade"),
        ("websocket", "keep-alive,upgrade , close"),
    ] {
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: {upgrade}\r\nConnection: {connection}\r\n\
             Sec-WebSocket-Accept: {{accept}}\r\n\r\n"
        );
        assert!(
            matches!(answer(&response), Ok(Some(Event::Open(_)))),
            "{upgrade} / {connection}"
        );
    }
}

#[test]
fn responses_missing_upgrade_or_connection_are_refused() {
    for response in [
        ok_response("").replace("Upgrade: websocket\r\n", ""),
        ok_response("").replace("Upgrade: websocket", "Upgrade: h2c"),
        ok_response("").replace("Connection: Upgrade\r\n", ""),
        ok_response("").replace("Connection: Upgrade", "Connection: keep-alive"),
        // "upgrade" as part of another token is not the token.
        ok_response("").replace("Connection: Upgrade", "Connection: upgrade-insecure"),
    ] {
        assert!(
            matches!(
                answer(&response),
                Err(Error::Handshake {
                    error: HandshakeError::MissingHeader(_),
                    ..
                })
            ),
            "{response}"
        );
    }
}

#[test]
fn accept_mismatch_is_refused() {
    let wrong = ok_response("").replace("{accept}", RFC_ACCEPT);
    assert!(matches!(
        answer(&wrong),
        Err(Error::Handshake {
            error: HandshakeError::AcceptMismatch,
            ..
        })
    ));
    let missing = ok_response("").replace("Sec-WebSocket-Accept: {accept}\r\n", "");
    assert!(matches!(
        answer(&missing),
        Err(Error::Handshake {
            error: HandshakeError::MissingHeader(_),
            ..
        })
    ));
    let twice = ok_response("Sec-WebSocket-Accept: {accept}\r\n");
    assert!(matches!(
        answer(&twice),
        Err(Error::Handshake {
            error: HandshakeError::AcceptMismatch,
            ..
        })
    ));
}

#[test]
fn subprotocol_must_be_one_offered() {
    let chosen = answer_offering(
        &["chat", "superchat"],
        &ok_response("Sec-WebSocket-Protocol: superchat\r\n"),
    );
    let Ok(Some(Event::Open(response))) = chosen else {
        panic!("{chosen:?}")
    };
    assert_eq!(response.protocol(), Some("superchat"));

    assert!(matches!(
        answer_offering(&["chat"], &ok_response("Sec-WebSocket-Protocol: superchat\r\n")),
        Err(Error::Handshake { error: HandshakeError::UnexpectedProtocol(p), .. }) if p == "superchat"
    ));
    assert!(matches!(
        answer_offering(&[], &ok_response("Sec-WebSocket-Protocol: chat\r\n")),
        Err(Error::Handshake { error: HandshakeError::UnexpectedProtocol(p), .. }) if p == "chat"
    ));
    // The server may decline all offered protocols.
    assert!(matches!(
        answer_offering(&["chat"], &ok_response("")),
        Ok(Some(Event::Open(r))) if r.protocol().is_none()
    ));
}

#[test]
fn unoffered_extension_is_refused() {
    assert!(matches!(
        answer(&ok_response("Sec-WebSocket-Extensions: x-foo\r\n")),
        Err(Error::Handshake { error: HandshakeError::UnexpectedExtension(e), .. }) if e == "x-foo"
    ));
}

#[test]
fn non_101_answers_are_kept_with_status_and_headers() {
    let cases = [
        (
            "HTTP/1.1 403 Forbidden\r\nX-Reason: origin\r\nContent-Length: 2\r\n\r\nno",
            403,
            "X-Reason",
            "origin",
        ),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ws\"\r\n\r\n",
            401,
            "www-authenticate",
            "Basic realm=\"ws\"",
        ),
        (
            "HTTP/1.1 302 Found\r\nLocation: ws://elsewhere.example/chat\r\n\r\n",
            302,
            "location",
            "ws://elsewhere.example/chat",
        ),
        // A 200 with all the right headers is still not an upgrade.
        (
            "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            200,
            "Upgrade",
            "websocket",
        ),
    ];
    for (response, status, name, value) in cases {
        match answer(response) {
            Err(Error::Handshake {
                error:
                    HandshakeError::Rejected {
                        status: s, headers, ..
                    },
                ..
            }) => {
                assert_eq!(s, status);
                assert_eq!(headers.get(name), Some(value), "{response}");
            }
            other => panic!("{response}: {other:?}"),
        }
    }
}

#[test]
fn malformed_response_is_refused() {
    assert!(matches!(
        answer("HTTP/1.1 abc Nope\r\n\r\n"),
        Err(Error::Handshake {
            error: HandshakeError::MalformedHttp(_),
            ..
        })
    ));
    assert!(matches!(
        answer("garbage\r\n\r\n"),
        Err(Error::Handshake {
            error: HandshakeError::MalformedHttp(_),
            ..
        })
    ));
}

#[test]
fn eof_before_the_response_is_incomplete() {
    let (mut c, key) = pending_client(ClientRequest::new("ws://h/").unwrap(), Config::default());
    let response = response_101(&key, "");
    c.receive(&response.as_bytes()[..20]);
    assert!(matches!(c.next_event(), Ok(None)));
    c.receive_eof();
    let err = c.next_event().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake {
                error: HandshakeError::Incomplete,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.close_code(), Some(CloseCode::ABNORMAL));
    assert_eq!(c.ready_state(), ReadyState::Closed);
}

#[test]
fn response_one_byte_at_a_time() {
    let (mut c, key) = pending_client(
        ClientRequest::new("ws://h/").unwrap().protocol("chat"),
        Config::default(),
    );
    let response = response_101(&key, "Sec-WebSocket-Protocol: chat\r\n");
    let bytes = response.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        c.receive(std::slice::from_ref(b));
        let ev = c.next_event().unwrap();
        if i + 1 < bytes.len() {
            assert_eq!(ev, None, "event after {} of {} bytes", i + 1, bytes.len());
            assert_eq!(c.ready_state(), ReadyState::Connecting);
        } else {
            assert!(matches!(ev, Some(Event::Open(r)) if r.protocol() == Some("chat")));
        }
    }
    assert_eq!(c.protocol(), Some("chat"));
    assert_eq!(c.ready_state(), ReadyState::Open);
}

#[test]
fn frames_right_after_the_response_are_delivered() {
    let (mut c, key) = pending_client(ClientRequest::new("ws://h/").unwrap(), Config::default());
    let mut bytes = response_101(&key, "").into_bytes();
    bytes.extend_from_slice(b"\x81\x05Hello\x89\x02hi");
    c.receive(&bytes);
    let evs = events(&mut c);
    assert!(matches!(evs[0], Event::Open(_)));
    assert_eq!(
        evs[1..],
        [
            Event::Message(Message::from("Hello")),
            Event::Ping(rfc6455::Bytes::from_static(b"hi"))
        ]
    );
    let pong = parse_frames(&drain(&mut c));
    assert_eq!(pong.len(), 1);
    assert_eq!((pong[0].opcode, &pong[0].payload[..]), (0xA, &b"hi"[..]));
}

#[test]
fn client_response_head_limit() {
    let config = Config {
        max_handshake_size: 512,
        ..Config::default()
    };
    let (mut c, key) = pending_client(ClientRequest::new("ws://h/").unwrap(), config);
    let big = format!("X-Pad: {}\r\n", "a".repeat(600));
    c.receive(response_101(&key, &big).as_bytes());
    assert!(matches!(
        c.next_event(),
        Err(Error::Handshake {
            error: HandshakeError::HeadTooLarge { max: 512 },
            ..
        })
    ));
    assert_eq!(c.ready_state(), ReadyState::Closed);
}

// ------------------------------------------------------------ server side

/// Feeds a request to a fresh server; returns the server and the request.
fn server_with(head: &str) -> (Connection, rfc6455::Request) {
    let mut server = Connection::server(Config::default());
    server.receive(head.as_bytes());
    let mut evs = events(&mut server);
    assert_eq!(evs.len(), 1, "{evs:?}");
    let Event::Request(req) = evs.remove(0) else {
        panic!("{evs:?}")
    };
    (server, req)
}

#[test]
fn server_reports_the_request() {
    let (server, req) = server_with(&rfc_request(
        "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nX-Custom: 1\r\n",
    ));
    assert_eq!(server.ready_state(), ReadyState::Connecting);
    assert_eq!(req.method(), "GET");
    assert_eq!(req.path(), "/chat");
    assert_eq!(req.query(), None);
    assert_eq!(req.host(), Some("server.example.com"));
    assert_eq!(req.origin(), Some("http://example.com"));
    assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    assert_eq!(
        req.extensions().collect::<Vec<_>>(),
        ["permessage-deflate; client_max_window_bits"]
    );
    assert_eq!(req.header("x-custom"), Some("1"));
    assert!(req.is_websocket());
}

#[test]
fn server_accept_with_a_subprotocol_and_header() {
    let (mut server, _) = server_with(&rfc_request("Sec-WebSocket-Protocol: chat, superchat\r\n"));
    server
        .accept(
            Accept::new()
                .protocol("superchat")
                .header("Set-Cookie", "id=7"),
        )
        .unwrap();
    assert_eq!(server.protocol(), Some("superchat"));
    let head = parse_head(&drain(&mut server));
    assert_eq!(head.start, "HTTP/1.1 101 Switching Protocols");
    assert_eq!(head.get("Sec-WebSocket-Protocol"), Some("superchat"));
    assert_eq!(head.get("Set-Cookie"), Some("id=7"));
    assert_eq!(head.get("Sec-WebSocket-Accept"), Some(RFC_ACCEPT));
}

#[test]
fn server_refuses_to_choose_a_protocol_not_offered_and_answers_500() {
    // A subprotocol the client did not offer, with an offer and without
    // one, and a bad extra header: the answer cannot be sent, so the
    // client gets 500 and the server the reason.
    for (extra, accept) in [
        (
            "Sec-WebSocket-Protocol: chat\r\n",
            Accept::new().protocol("superchat"),
        ),
        ("", Accept::new().protocol("chat")),
        ("", Accept::new().header("X", "a\nb")),
    ] {
        let (mut server, _) = server_with(&rfc_request(extra));
        let err = server.accept(accept).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Handshake {
                    error: HandshakeError::ProtocolNotOffered(_) | HandshakeError::InvalidHeader(_),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(server.ready_state(), ReadyState::Closed);
        assert!(parse_head(&drain(&mut server))
            .start
            .starts_with("HTTP/1.1 500 "));
        // Once answered, it cannot be answered again.
        assert!(matches!(
            server.accept(Accept::new()),
            Err(Error::NotOpen(_))
        ));
    }
}

/// An invalid request, the status the server must answer it with, and a
/// check of the error it reports.
type InvalidCase = (String, u16, fn(&HandshakeError) -> bool);

fn invalid_request_cases() -> Vec<InvalidCase> {
    let req = rfc_request("");
    let key15 = BASE64.encode([7u8; 15]);
    let key17 = BASE64.encode([7u8; 17]);
    vec![
        (
            req.replace("GET", "HEAD"),
            400,
            |e| matches!(e, HandshakeError::MethodNotGet(m) if m == "HEAD"),
        ),
        (req.replace("HTTP/1.1", "HTTP/1.0"), 400, |e| {
            matches!(e, HandshakeError::HttpVersion)
        }),
        (
            req.replace("Upgrade: websocket", "Upgrade: h2c"),
            400,
            |e| matches!(e, HandshakeError::MissingHeader(_)),
        ),
        (req.replace("Upgrade: websocket\r\n", ""), 400, |e| {
            matches!(e, HandshakeError::MissingHeader(_))
        }),
        (
            req.replace("Connection: Upgrade", "Connection: keep-alive"),
            400,
            |e| matches!(e, HandshakeError::MissingHeader(_)),
        ),
        (req.replace("Connection: Upgrade\r\n", ""), 400, |e| {
            matches!(e, HandshakeError::MissingHeader(_))
        }),
        (
            req.replace(&format!("Sec-WebSocket-Key: {RFC_KEY}\r\n"), ""),
            400,
            |e| matches!(e, HandshakeError::MissingHeader(_)),
        ),
        (req.replace(RFC_KEY, &key15), 400, |e| {
            matches!(e, HandshakeError::InvalidKey)
        }),
        (req.replace(RFC_KEY, &key17), 400, |e| {
            matches!(e, HandshakeError::InvalidKey)
        }),
        (req.replace(RFC_KEY, "not base64 at all!!!!!!!"), 400, |e| {
            matches!(e, HandshakeError::InvalidKey)
        }),
        (
            rfc_request(&format!(
                "Sec-WebSocket-Key: {}\r\n",
                BASE64.encode([1u8; 16])
            )),
            400,
            |e| matches!(e, HandshakeError::InvalidKey),
        ),
        (req.replace("Sec-WebSocket-Version: 13\r\n", ""), 426, |e| {
            matches!(e, HandshakeError::UnsupportedVersion(None))
        }),
        (
            req.replace("Version: 13", "Version: 8"),
            426,
            |e| matches!(e, HandshakeError::UnsupportedVersion(Some(v)) if v == "8"),
        ),
        (
            req.replace("Version: 13", "Version: 14"),
            426,
            |e| matches!(e, HandshakeError::UnsupportedVersion(Some(v)) if v == "14"),
        ),
    ]
}

#[test]
fn server_validates_requests_and_queues_the_error_status() {
    for (head, status, is_expected) in invalid_request_cases() {
        let (mut server, _) = server_with(&head);
        let err = server.accept(Accept::new()).unwrap_err();
        match &err {
            Error::Handshake { error: e, .. } => {
                assert!(is_expected(e), "{head:?}: got {e:?}");
                assert_eq!(e.status(), Some(status));
            }
            other => panic!("{head:?}: {other:?}"),
        }
        assert_eq!(server.ready_state(), ReadyState::Closed, "{head:?}");
        let out = drain(&mut server);
        let response = parse_head(&out);
        assert!(
            response.start.starts_with(&format!("HTTP/1.1 {status} ")),
            "{head:?}: {}",
            response.start
        );
        if status == 426 {
            assert_eq!(
                response.get("Sec-WebSocket-Version"),
                Some("13"),
                "{head:?}"
            );
        } else {
            assert_eq!(response.get("Sec-WebSocket-Version"), None);
        }
        let len: usize = response.get("Content-Length").unwrap().parse().unwrap();
        // A HEAD gets the head alone.
        let body = if head.starts_with("HEAD") { 0 } else { len };
        assert_eq!(body, response.body.len(), "{head:?}");
        assert!(server.should_close_transport());
        // Nothing more happens on this connection.
        assert!(matches!(server.next_event(), Ok(None)));
        assert!(matches!(
            server.send_text("x"),
            Err(Error::NotOpen(ReadyState::Closed))
        ));
    }
}

/// Only GET upgrades and only GET or HEAD are served: other methods are
/// answered by the core before the application sees them, 400 for an
/// upgrade, 405 with `Allow` for a plain request.
#[test]
fn server_answers_other_methods_before_the_application_sees_them() {
    for (head, status) in [
        (rfc_request("").replace("GET", "POST"), 400),
        ("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n".to_owned(), 405),
    ] {
        let mut server = Connection::server(Config::default());
        server.receive(head.as_bytes());
        let err = server.next_event().unwrap_err();
        let Error::Handshake { error: e, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.status(), Some(status), "{e:?}");
        let response = parse_head(&drain(&mut server));
        assert!(response.start.starts_with(&format!("HTTP/1.1 {status} ")));
        if status == 405 {
            assert_eq!(response.get("Allow"), Some("GET, HEAD"));
        }
        assert_eq!(server.ready_state(), ReadyState::Closed);
    }
}

/// A HEAD request gets the response's head, its `Content-Length` that of
/// the body left out (RFC 9110 section 9.3.2).
#[test]
fn a_head_request_is_answered_without_the_body() {
    let mut server = Connection::server(Config::default());
    server.receive(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server.reject(Reject::new(200).body("page")).unwrap();
    let out = drain(&mut server);
    assert!(out.ends_with(b"Content-Length: 4\r\nConnection: close\r\n\r\n"));
}

#[test]
fn a_head_upgrade_is_refused_with_the_head_of_a_400_only() {
    // A HEAD cannot upgrade (section 4.1): accepting it fails with 400,
    // and a HEAD gets no body, whoever answers it.
    let head = rfc_request("").replacen("GET", "HEAD", 1);
    let (mut server, _) = server_with(&head);
    let err = server.accept(Accept::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake {
                error: HandshakeError::MethodNotGet(_),
                ..
            }
        ),
        "{err:?}"
    );
    let out = String::from_utf8(drain(&mut server)).unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.ends_with("\r\n\r\n"), "a body after the head: {out:?}");
    assert!(!out.contains("Content-Length: 0\r\n"), "{out:?}");
}

#[test]
fn an_accept_that_cannot_be_sent_is_answered_500_by_the_core() {
    let (mut server, _) = server_with(&rfc_request("Sec-WebSocket-Protocol: chat\r\n"));
    let err = server.accept(Accept::new().protocol("mqtt")).unwrap_err();
    assert!(matches!(err, Error::Handshake { .. }), "{err:?}");
    assert_eq!(server.ready_state(), ReadyState::Closed);
    let out = String::from_utf8(drain(&mut server)).unwrap();
    assert!(out.starts_with("HTTP/1.1 500"), "{out}");
}

#[test]
fn server_accepts_header_variants() {
    let req = rfc_request("");
    for head in [
        req.replace("Upgrade: websocket", "Upgrade: WebSocket"),
        req.replace("Upgrade: websocket", "upgrade: WEBSOCKET"),
        req.replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
        req.replace("Connection: Upgrade", "connection: upgrade"),
        req.replace("Host: server.example.com", "host: [::1]:9001"),
    ] {
        let (mut server, _) = server_with(&head);
        server
            .accept(Accept::new())
            .unwrap_or_else(|e| panic!("{head:?}: {e}"));
        assert_eq!(server.ready_state(), ReadyState::Open);
    }
}

#[test]
fn malformed_request_gets_400_at_once() {
    for head in [
        "GARBAGE\r\n\r\n".to_owned(),
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n".to_owned(),
        "GET / HTTP/1.1\r\nHost: x\r\nBad\0Name: v\r\n\r\n".to_owned(),
    ] {
        let mut server = Connection::server(Config::default());
        server.receive(head.as_bytes());
        let err = server.next_event().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Handshake {
                    error: HandshakeError::MalformedHttp(_),
                    ..
                }
            ),
            "{head:?}: {err}"
        );
        assert_eq!(server.ready_state(), ReadyState::Closed);
        let response = parse_head(&drain(&mut server));
        assert!(
            response.start.starts_with("HTTP/1.1 400 "),
            "{}",
            response.start
        );
        assert!(server.should_close_transport());
    }
}

#[test]
fn server_reject_with_403_reaches_the_client() {
    let mut client = Connection::client(
        ClientRequest::new("ws://h/")
            .unwrap()
            .origin("http://evil.example"),
        Config::default(),
    )
    .unwrap();
    let mut server = Connection::server(Config::default());
    pump(&mut client, &mut server);
    let Some(Event::Request(req)) = server.next_event().unwrap() else {
        panic!()
    };
    assert_eq!(req.origin(), Some("http://evil.example"));
    server
        .reject(
            Reject::new(403)
                .header("X-Reason", "origin")
                .body("forbidden"),
        )
        .unwrap();
    assert_eq!(server.ready_state(), ReadyState::Closed);
    let out = drain(&mut server);
    let head = parse_head(&out);
    assert_eq!(head.start, "HTTP/1.1 403 Forbidden");
    assert_eq!(head.get("Content-Length"), Some("9"));
    assert_eq!(head.body, b"forbidden");
    assert!(server.should_close_transport());

    client.receive(&out);
    match client.next_event() {
        Err(Error::Handshake {
            error:
                HandshakeError::Rejected {
                    status,
                    headers,
                    body,
                },
            ..
        }) => {
            assert_eq!(status, 403);
            assert_eq!(headers.get("x-reason"), Some("origin"));
            assert_eq!(body, b"forbidden");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.ready_state(), ReadyState::Closed);
}

#[test]
fn reject_refuses_an_informational_status() {
    let (mut server, _) = server_with(&rfc_request(""));
    assert!(matches!(
        server.reject(Reject::new(101)),
        Err(Error::Handshake {
            error: HandshakeError::InvalidStatus(101),
            ..
        })
    ));
    assert_eq!(server.buffered_amount(), 0);
    assert_eq!(server.ready_state(), ReadyState::Connecting);
}

#[test]
fn plain_get_is_reported_and_can_be_answered_with_200() {
    let (mut server, req) = server_with(
        "GET /index.html?v=2 HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n",
    );
    assert!(!req.is_websocket());
    assert_eq!(req.path(), "/index.html");
    assert_eq!(req.query(), Some("v=2"));
    assert_eq!(req.header("accept"), Some("text/html"));
    server
        .reject(
            Reject::new(200)
                .header("Content-Type", "text/html")
                .body("<h1>hi</h1>"),
        )
        .unwrap();
    let out = drain(&mut server);
    let head = parse_head(&out);
    assert_eq!(head.start, "HTTP/1.1 200 OK");
    assert_eq!(head.get("Content-Type"), Some("text/html"));
    assert_eq!(head.count("Content-Type"), 1);
    assert_eq!(head.get("Content-Length"), Some("11"));
    assert_eq!(head.body, b"<h1>hi</h1>");
    assert_eq!(server.ready_state(), ReadyState::Closed);
    assert!(server.should_close_transport());

    // Accepting a plain GET is refused with 400.
    let (mut server, _) = server_with("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert!(matches!(
        server.accept(Accept::new()),
        Err(Error::Handshake {
            error: HandshakeError::MissingHeader(_),
            ..
        })
    ));
    assert!(parse_head(&drain(&mut server))
        .start
        .starts_with("HTTP/1.1 400 "));
}

#[test]
fn request_one_byte_at_a_time() {
    let head = rfc_request("Sec-WebSocket-Protocol: chat\r\n");
    let bytes = head.as_bytes();
    let mut server = Connection::server(Config::default());
    for (i, b) in bytes.iter().enumerate() {
        server.receive(std::slice::from_ref(b));
        let ev = server.next_event().unwrap();
        if i + 1 < bytes.len() {
            assert_eq!(ev, None, "event after {} of {} bytes", i + 1, bytes.len());
        } else {
            assert!(matches!(ev, Some(Event::Request(r)) if r.path() == "/chat"));
        }
    }
    server.accept(Accept::new().protocol("chat")).unwrap();
    assert_eq!(
        parse_head(&drain(&mut server)).get("Sec-WebSocket-Accept"),
        Some(RFC_ACCEPT)
    );
}

#[test]
fn frames_sent_right_after_the_request_are_not_lost() {
    // RFC 6455 section 5.7: a masked "Hello", then a masked ping.
    let hello = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let ping = frame_to(Role::Server, true, 0x9, b"p");
    let mut bytes = rfc_request("").into_bytes();
    bytes.extend_from_slice(&hello);
    bytes.extend_from_slice(&ping);

    for piece in [bytes.len(), 1, 7] {
        let mut server = Connection::server(Config::default());
        let mut evs = Vec::new();
        for chunk in bytes.chunks(piece) {
            server.receive(chunk);
            evs.extend(events(&mut server));
        }
        assert!(matches!(evs[..], [Event::Request(_)]), "{evs:?}");
        // Nothing is decoded before the decision.
        assert_eq!(server.next_event().unwrap(), None);
        server.accept(Accept::new()).unwrap();
        assert_eq!(
            events(&mut server),
            [
                Event::Message(Message::from("Hello")),
                Event::Ping(rfc6455::Bytes::from_static(b"p"))
            ],
            "piece size {piece}"
        );
        let out = drain(&mut server);
        let head = parse_head(&out);
        assert_eq!(head.start, "HTTP/1.1 101 Switching Protocols");
        // The pong follows the 101 response.
        assert_eq!(head.body, b"\x8a\x01p");
    }
}

#[test]
fn server_head_limit_default_64k_without_unbounded_buffering() {
    let mut server = Connection::server(Config::default());
    assert_eq!(server.config().max_handshake_size, 64 * 1024);
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n");
    let mut fed = 26;
    let line = format!("X-Pad: {}\r\n", "a".repeat(1014)); // 1 KiB per line
    let err = loop {
        server.receive(line.as_bytes());
        fed += line.len();
        match server.next_event() {
            Ok(None) => assert!(fed <= 64 * 1024, "still buffering at {fed} bytes"),
            Ok(Some(ev)) => panic!("{ev:?}"),
            Err(e) => break e,
        }
    };
    assert!(
        fed > 64 * 1024 && fed <= 64 * 1024 + line.len(),
        "failed at {fed}"
    );
    assert!(matches!(
        err,
        Error::Handshake {
            error: HandshakeError::HeadTooLarge { max: 65536 },
            ..
        }
    ));
    assert_eq!(server.ready_state(), ReadyState::Closed);
    let head = parse_head(&drain(&mut server));
    assert!(head.start.starts_with("HTTP/1.1 431 "), "{}", head.start);
    // The buffered head was released, and later input is not kept.
    assert!(
        server.buffer_capacity() < 8 * 1024,
        "{}",
        server.buffer_capacity()
    );
    server.receive(&vec![b'a'; 1 << 20]);
    assert!(
        server.buffer_capacity() < 8 * 1024,
        "{}",
        server.buffer_capacity()
    );
    assert!(matches!(server.next_event(), Ok(None)));
}

#[test]
fn server_head_limit_configured_smaller() {
    let config = Config {
        max_handshake_size: 300,
        ..Config::default()
    };
    let base = rfc_request("");
    assert!(base.len() < 300);
    // A head of exactly the limit passes; one byte more does not.
    let pad = |total: usize| {
        let fill = total - base.len() - "X: \r\n".len();
        rfc_request(&format!("X: {}\r\n", "a".repeat(fill)))
    };
    let exact = pad(300);
    assert_eq!(exact.len(), 300);
    let mut server = Connection::server(config.clone());
    server.receive(exact.as_bytes());
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));

    let over = pad(301);
    for piece in [over.len(), 1] {
        let mut server = Connection::server(config.clone());
        let mut result = Ok(None);
        for chunk in over.as_bytes().chunks(piece) {
            server.receive(chunk);
            result = server.next_event();
            if result.is_err() {
                break;
            }
        }
        assert!(
            matches!(
                result,
                Err(Error::Handshake {
                    error: HandshakeError::HeadTooLarge { max: 300 },
                    ..
                })
            ),
            "piece {piece}: {result:?}"
        );
        assert!(parse_head(&drain(&mut server))
            .start
            .starts_with("HTTP/1.1 431 "));
    }

    // A head without its end is refused as soon as it exceeds the limit.
    let mut server = Connection::server(config);
    let endless = "GET / HTTP/1.1\r\n".to_owned() + &"a".repeat(1000);
    let mut fed = 0;
    for b in endless.as_bytes() {
        server.receive(std::slice::from_ref(b));
        fed += 1;
        if server.next_event().is_err() {
            break;
        }
    }
    assert_eq!(fed, 301);
}

#[test]
fn eof_during_request_is_incomplete() {
    let mut server = Connection::server(Config::default());
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n");
    assert!(matches!(server.next_event(), Ok(None)));
    server.receive_eof();
    assert!(matches!(
        server.next_event(),
        Err(Error::Handshake {
            error: HandshakeError::Incomplete,
            ..
        })
    ));
    assert_eq!(server.ready_state(), ReadyState::Closed);
}

#[test]
fn full_handshake_negotiates_the_same_protocol_on_both_ends() {
    let mut client = Connection::client(
        ClientRequest::new("ws://[::1]:9001/chat?room=7")
            .unwrap()
            .protocol("v1.chat")
            .protocol("v2.chat"),
        Config::default(),
    )
    .unwrap();
    let mut server = Connection::server(Config::default());
    pump(&mut client, &mut server);
    let Some(Event::Request(req)) = server.next_event().unwrap() else {
        panic!()
    };
    assert_eq!(req.host(), Some("[::1]:9001"));
    assert_eq!(req.target(), "/chat?room=7");
    let choice = req.protocols().last().unwrap().to_owned();
    server.accept(Accept::new().protocol(choice)).unwrap();
    pump(&mut server, &mut client);
    let Some(Event::Open(resp)) = client.next_event().unwrap() else {
        panic!()
    };
    assert_eq!(resp.protocol(), Some("v2.chat"));
    assert_eq!(client.protocol(), Some("v2.chat"));
    assert_eq!(server.protocol(), Some("v2.chat"));
    assert_eq!(client.role(), Role::Client);
    assert_eq!(server.role(), Role::Server);
}

#[test]
fn frames_behind_the_request_are_unmasked_once_accepted() {
    // RFC 6455 section 5.7: a masked "Hello".
    let hello = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    // Two of them in the same read as the request, then (or not) the rest
    // of a third after the accept.
    for cut in [hello.len(), 7, 1] {
        let mut server = Connection::server(Config::default());
        let mut wire = rfc_request("").into_bytes();
        wire.extend_from_slice(&hello);
        wire.extend_from_slice(&hello);
        wire.extend_from_slice(&hello[..cut]);
        server.receive(&wire);
        assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
        server.accept(rfc6455::Accept::new()).unwrap();
        let mut got = events(&mut server);
        server.receive(&hello[cut..]);
        got.extend(events(&mut server));
        assert_eq!(got, vec![Event::Message("Hello".into()); 3], "cut {cut}");
    }
}

// ------------------------------------------------ head end, target and Host
//
// Issue #17: an application that authorises by path or Host must see the
// path and Host the request really names, and the head must end where the
// one parser that reads it says it ends.

/// Feeds `head` to a fresh server and expects it refused with 400 before
/// the application sees a request; returns the error.
fn refused_at_once(head: &[u8]) -> HandshakeError {
    let mut server = Connection::server(Config::default());
    server.receive(head);
    let err = match server.next_event() {
        Err(Error::Handshake { error: e, .. }) => e,
        other => panic!(
            "{:?}: expected a 400, got {other:?}",
            String::from_utf8_lossy(head)
        ),
    };
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(server.ready_state(), ReadyState::Closed);
    let response = parse_head(&drain(&mut server));
    assert!(
        response.start.starts_with("HTTP/1.1 400 "),
        "{}",
        response.start
    );
    assert!(server.should_close_transport());
    err
}

/// The RFC request with another request target and Host.
fn request_for(target: &str, host: &str) -> String {
    rfc_request("")
        .replacen("/chat", target, 1)
        .replace("Host: server.example.com", &format!("Host: {host}"))
}

#[test]
fn absolute_form_target_gives_its_path_and_query() {
    // (target, Host, path, query)
    for (target, host, path, query) in [
        ("http://example.com/reject", "example.com", "/reject", None),
        ("HTTP://Example.COM/reject", "example.com", "/reject", None),
        (
            "ws://example.com/chat?room=1",
            "example.com",
            "/chat",
            Some("room=1"),
        ),
        ("wss://example.com/a/b?", "example.com", "/a/b", Some("")),
        ("https://example.com", "example.com", "/", None),
        ("http://example.com?x=1", "example.com", "/", Some("x=1")),
        ("http://[::1]:9001/p", "[::1]:9001", "/p", None),
        // The scheme's default port may be written in one and not the other.
        ("http://example.com:80/p", "example.com", "/p", None),
        ("wss://example.com/p", "example.com:443", "/p", None),
    ] {
        let (mut server, req) = server_with(&request_for(target, host));
        assert_eq!((req.path(), req.query()), (path, query), "{target}");
        assert_eq!(req.target(), target);
        server.accept(Accept::new()).unwrap();
        assert_eq!(server.ready_state(), ReadyState::Open, "{target}");
    }
    // The origin form is unchanged.
    let (_, req) = server_with(&request_for("/a/b?c=d?e", "x"));
    assert_eq!((req.path(), req.query()), ("/a/b", Some("c=d?e")));
}

#[test]
fn a_path_refused_by_name_cannot_be_reached_in_another_form() {
    // examples/echo refuses "/reject"; each of these named it.
    for target in ["http://example.com/reject", "/reject#x", "/reject#"] {
        let head = request_for(target, "example.com");
        let mut server = Connection::server(Config::default());
        server.receive(head.as_bytes());
        match server.next_event() {
            Ok(Some(Event::Request(req))) => assert_eq!(req.path(), "/reject", "{target}"),
            Err(Error::Handshake { error: e, .. }) => assert_eq!(e.status(), Some(400), "{target}"),
            other => panic!("{target}: {other:?}"),
        }
    }
}

#[test]
fn fragments_are_refused() {
    for target in ["/reject#x", "/#", "/a?b#c", "http://example.com/a#b"] {
        let err = refused_at_once(request_for(target, "example.com").as_bytes());
        assert!(
            matches!(&err, HandshakeError::InvalidTarget(t) if t == target),
            "{err:?}"
        );
    }
}

#[test]
fn asterisk_authority_and_other_targets_are_refused() {
    for target in [
        "*",
        "example.com:80",
        "example.com",
        "ftp://example.com/",
        "http:///x",
        "http://",
        "http://user@example.com/",
        "http://example.com:abc/",
        "http://[::1/",
        "chat",
        "?x",
    ] {
        let err = refused_at_once(request_for(target, "example.com").as_bytes());
        assert!(
            matches!(err, HandshakeError::InvalidTarget(_)),
            "{target}: {err:?}"
        );
    }
}

#[test]
fn absolute_form_authority_and_host_must_agree() {
    for (target, host) in [
        ("http://other.example/chat", "example.com"),
        ("http://example.com:8080/", "example.com"),
        ("http://example.com/", "example.com:8080"),
        ("ws://[::1]/", "[::2]"),
        ("wss://example.com/", "example.com:80"),
    ] {
        let err = refused_at_once(request_for(target, host).as_bytes());
        assert!(
            matches!(err, HandshakeError::InvalidHost(_)),
            "{target}: {err:?}"
        );
    }
}

#[test]
fn host_must_be_one_non_empty_well_formed_value() {
    let head = rfc_request("");
    let host = "Host: server.example.com\r\n";
    let mut refused: Vec<Vec<u8>> = [
        "",
        "Host: \r\n",
        "Host: [::1\r\n",
        "Host: [::1]x\r\n",
        "Host: [nope]:80\r\n",
        "Host: a b\r\n",
        "Host: x:abc\r\n",
        "Host: x:99999\r\n",
        "Host: x:\r\n",
        "Host: :80\r\n",
        "Host: u@x\r\n",
        "Host: x/y\r\n",
        "Host: x%zz\r\n",
        "Host: server.example.com\r\nHost: server.example.com\r\n",
        "Host: server.example.com\r\nhost: other\r\n",
    ]
    .iter()
    .map(|h| head.replace(host, h).into_bytes())
    .collect();
    // A second Host that is not UTF-8 counts too.
    let mut not_utf8 = head.replace(host, "Host: x\r\nHost: \r\n").into_bytes();
    let at = not_utf8
        .windows(8)
        .rposition(|w| w == b"Host: \r\n")
        .unwrap()
        + 6;
    not_utf8.insert(at, 0xff);
    refused.push(not_utf8);
    for head in refused {
        let err = refused_at_once(&head);
        assert!(
            matches!(
                err,
                HandshakeError::InvalidHost(_) | HandshakeError::MissingHeader("Host")
            ),
            "{:?}: {err:?}",
            String::from_utf8_lossy(&head)
        );
    }
    for value in [
        "example.com",
        "EXAMPLE.com:9001",
        "127.0.0.1:80",
        "[::1]:80",
        "[::1]",
        "[fe80::1]",
        "a-b_c~.d",
        "x%41y",
        "localhost:0",
    ] {
        let (mut server, req) = server_with(&head.replace(host, &format!("Host: {value}\r\n")));
        assert_eq!(req.host(), Some(value));
        server.accept(Accept::new()).unwrap();
    }
}

#[test]
fn bare_lf_heads_are_refused_at_once() {
    for head in [
        // A whole request with bare LF line ends: before, it waited for a
        // CRLF blank line that never came, until the handshake timeout.
        rfc_request("").replace("\r\n", "\n"),
        // Refused as soon as the first bare LF arrives.
        "GET / HTTP/1.1\n".to_owned(),
        "GET / HTTP/1.1\r\nHost: x\n".to_owned(),
        // A bare CR, likewise.
        "GET / HTTP/1.1\rX".to_owned(),
    ] {
        let err = refused_at_once(head.as_bytes());
        assert!(
            matches!(err, HandshakeError::MalformedHttp(_)),
            "{head:?}: {err:?}"
        );
    }
}

#[test]
fn nothing_after_a_bare_lf_blank_line_is_dropped() {
    // httparse ends this head at "\n\n"; a scan for CRLFCRLF ended it after
    // JUNK, and JUNK vanished between the two.
    let head = rfc_request("").replace("13\r\n\r\n", "13\n\nJUNK\r\n\r\n");
    let err = refused_at_once(head.as_bytes());
    assert!(matches!(err, HandshakeError::MalformedHttp(_)), "{err:?}");
}

#[test]
fn one_leading_empty_line_is_ignored_and_no_more() {
    // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line
    // before the request line.
    let (mut server, req) = server_with(&format!("\r\n{}", rfc_request("")));
    assert_eq!(req.path(), "/chat");
    server.accept(Accept::new()).unwrap();
    refused_at_once(format!("\r\n\r\n{}", rfc_request("")).as_bytes());
}

#[test]
fn client_refuses_a_bare_lf_response_at_once() {
    let cases: [fn(&str) -> String; 2] = [
        // Before, this waited for the handshake timeout...
        |_| "HTTP/1.1 101 Switching Protocols\n".to_owned(),
        // ...and this opened, with JUNK dropped.
        |key| response_101(key, "").replace("\r\n\r\n", "\n\nJUNK\r\n\r\n"),
    ];
    for response in cases {
        let (mut c, key) =
            pending_client(ClientRequest::new("ws://h/").unwrap(), Config::default());
        let response = response(&key);
        c.receive(response.as_bytes());
        let err = c.next_event().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Handshake {
                    error: HandshakeError::MalformedHttp(_),
                    ..
                }
            ),
            "{response:?}: {err}"
        );
        assert_eq!(c.ready_state(), ReadyState::Closed);
        assert_eq!(c.buffered_amount(), 0, "a client answers nothing");
    }
}

/// A refusal's body is kept for the caller: read per `Content-Length` across
/// receives, or until the end of the stream, and never more than
/// `MAX_REJECTED_BODY`.
#[test]
fn a_refusal_keeps_its_body_bounded() {
    use rfc6455::handshake::MAX_REJECTED_BODY;
    let rejected = |c: &mut Connection| match c.next_event() {
        Err(Error::Handshake {
            error: HandshakeError::Rejected { status, body, .. },
            ..
        }) => (status, body),
        other => panic!("{other:?}"),
    };
    let fresh = || pending_client(ClientRequest::new("ws://h/").unwrap(), Config::default()).0;

    let mut c = fresh();
    c.receive(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nlog in");
    assert!(matches!(c.next_event(), Ok(None)), "waits for the rest");
    c.receive(b" first");
    assert_eq!(rejected(&mut c), (401, b"log in first".to_vec()));

    let mut c = fresh();
    c.receive(b"HTTP/1.1 500 Oops\r\n\r\nuntil the end");
    assert!(matches!(c.next_event(), Ok(None)));
    c.receive_eof();
    assert_eq!(rejected(&mut c), (500, b"until the end".to_vec()));

    let mut c = fresh();
    c.receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000\r\n\r\n");
    c.receive(&vec![b'x'; MAX_REJECTED_BODY + 10]);
    let (status, body) = rejected(&mut c);
    assert_eq!((status, body.len()), (403, MAX_REJECTED_BODY));

    let mut c = fresh();
    c.receive(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    assert_eq!(rejected(&mut c), (304, Vec::new()));
}

/// A refusal's message says what its body says (first line, shortened),
/// so a person reading the error learns why.
#[test]
fn a_refusal_message_quotes_its_body() {
    let rejected = |body: &[u8]| HandshakeError::Rejected {
        status: 403,
        headers: Default::default(),
        body: body.to_vec(),
    };
    assert_eq!(
        rejected(b"\n  origin not allowed\nmore").to_string(),
        "handshake answered with HTTP 403 instead of 101 Switching Protocols: origin not allowed"
    );
    assert!(rejected(b"").to_string().ends_with("Protocols"));
    assert!(rejected(&[0xff, 0xfe]).to_string().ends_with("Protocols"));
    assert!(rejected("x".repeat(300).as_bytes())
        .to_string()
        .ends_with("x..."));
}
