//! Feature `http`: the handshake types to and from `http::Request` and
//! `http::Response`, read with the same rules as a head off the wire.
#![cfg(feature = "http")]

mod common;

use common::{
    client_key, events, parse_head, pump, response_101, rfc_request, RFC_ACCEPT, RFC_KEY,
};
use rfc6455::{
    Accept, ClientRequest, Config, Connection, Error, Event, HandshakeError, Request, Role,
};

/// The request the RFC's example sends, as a server reads it off the wire.
fn wire_request(extra: &str) -> Request {
    let mut server = Connection::server(Config::default());
    server.receive(rfc_request(extra).as_bytes());
    match events(&mut server).as_slice() {
        [Event::Request(request)] => request.clone(),
        other => panic!("expected a request, got {other:?}"),
    }
}

/// The RFC's example request as an `http`-typed server would hold it.
fn rfc_http_request() -> http::request::Builder {
    http::Request::get("/chat")
        .header("Host", "server.example.com")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", RFC_KEY)
        .header("Origin", "http://example.com")
        .header("Sec-WebSocket-Version", "13")
}

#[test]
fn a_request_reads_the_same_from_http_as_from_the_wire() {
    let wire = wire_request("Sec-WebSocket-Protocol: chat, superchat\r\nCookie: a=1\r\n");
    let converted = http::Request::<()>::try_from(&wire).unwrap();
    assert_eq!(converted.method(), http::Method::GET);
    assert_eq!(converted.uri(), "/chat");
    assert_eq!(converted.version(), http::Version::HTTP_11);
    assert_eq!(converted.headers()["cookie"], "a=1");
    let back = Request::try_from(&converted).unwrap();
    assert_eq!(back.path(), wire.path());
    assert_eq!(back.origin(), Some("http://example.com"));
    assert_eq!(back.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    // Header names come back as `http` holds them (lowercase), values and
    // order unchanged.
    let pairs = |r: &Request| -> Vec<(String, Vec<u8>)> {
        r.headers()
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec()))
            .collect()
    };
    assert_eq!(pairs(&back), pairs(&wire));

    // An absolute-form target keeps its form.
    let absolute = http::Request::get("http://example.com:8080/p?q=1")
        .header("Host", "example.com:8080")
        .body(())
        .unwrap();
    let request = Request::try_from(&absolute).unwrap();
    assert_eq!(request.target(), "http://example.com:8080/p?q=1");
    assert_eq!((request.path(), request.query()), ("/p", Some("q=1")));
}

/// The server's checks before the application sees a request hold for a
/// request from `http` too, and the errors say what was wrong.
#[test]
fn a_request_from_http_is_checked_as_on_the_wire() {
    let no_host = http::Request::get("/").body(()).unwrap();
    assert!(matches!(
        Request::try_from(&no_host),
        Err(HandshakeError::MissingHeader("Host"))
    ));
    let two_hosts = http::Request::get("/")
        .header("Host", "a")
        .header("Host", "b")
        .body(())
        .unwrap();
    let err = Request::try_from(&two_hosts).unwrap_err();
    assert!(matches!(err, HandshakeError::InvalidHost(_)), "{err}");
    assert!(err.to_string().contains("2 Host headers"), "{err}");
    let other_host = http::Request::get("http://a.example/")
        .header("Host", "b.example")
        .body(())
        .unwrap();
    assert!(matches!(
        Request::try_from(&other_host),
        Err(HandshakeError::InvalidHost(_))
    ));
    let http2 = rfc_http_request()
        .version(http::Version::HTTP_2)
        .body(())
        .unwrap();
    let err = Request::try_from(&http2).unwrap_err();
    assert!(err.to_string().contains("HTTP/2"), "{err}");
}

#[test]
fn the_101_for_http_is_the_one_the_connection_sends() {
    let request = Request::try_from(&rfc_http_request().body(()).unwrap()).unwrap();
    let response = Accept::new()
        .header("Set-Cookie", "id=1")
        .http_response(&request)
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(response.headers()["sec-websocket-accept"], RFC_ACCEPT);
    assert_eq!(response.headers()["upgrade"], "websocket");
    assert_eq!(response.headers()["connection"], "Upgrade");
    assert_eq!(response.headers()["set-cookie"], "id=1");

    // The same request on the wire, accepted by a connection: the same
    // headers.
    let mut server = Connection::server(Config::default());
    server.receive(rfc_request("").as_bytes());
    assert!(matches!(events(&mut server)[..], [Event::Request(_)]));
    server
        .accept(Accept::new().header("Set-Cookie", "id=1"))
        .unwrap();
    let head = parse_head(server.output());
    assert_eq!(head.headers.len(), response.headers().len());
    for (name, value) in &head.headers {
        assert_eq!(response.headers()[name.as_str()], value.as_str(), "{name}");
    }
}

#[test]
fn an_invalid_upgrade_gets_the_status_to_refuse_with() {
    let status = |builder: http::request::Builder, accept: Accept| {
        let request = Request::try_from(&builder.body(()).unwrap()).unwrap();
        let err = accept.http_response(&request).unwrap_err();
        (err.status(), err.to_string())
    };
    let no_key = http::Request::get("/")
        .header("Host", "x")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Version", "13");
    let (code, text) = status(no_key, Accept::new());
    assert_eq!(code, Some(400));
    assert!(text.contains("Sec-WebSocket-Key"), "{text}");
    let old_version = rfc_http_request().header("Sec-WebSocket-Version", "8");
    assert_eq!(status(old_version, Accept::new()).0, Some(426));
    let (code, text) = status(rfc_http_request(), Accept::new().protocol("chat"));
    assert_eq!(code, None); // the server's own mistake: answer 500
    assert!(text.contains("\"chat\""), "{text}");
    let http10 = rfc_http_request().version(http::Version::HTTP_10);
    assert_eq!(status(http10, Accept::new()).0, Some(400));
}

#[test]
fn a_client_request_from_http() {
    let request = http::Request::get("https://example.com:8443/feed?x=1")
        .header("Host", "example.com:8443")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", RFC_KEY)
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Protocol", "v2, v1")
        .header("Origin", "https://example.com")
        .header("Authorization", "Bearer abc")
        .body(())
        .unwrap();
    let request = ClientRequest::try_from(&request).unwrap();
    assert!(request.is_secure());
    assert_eq!(
        (request.host(), request.port(), request.resource()),
        ("example.com", 8443, "/feed?x=1")
    );
    assert_eq!(request.protocols(), ["v2", "v1"]);
    let client = Connection::client(request, Config::default()).unwrap();
    let head = parse_head(client.output());
    // The handshake's own headers once each, with a fresh key.
    for name in [
        "Host",
        "Upgrade",
        "Connection",
        "Sec-WebSocket-Key",
        "Origin",
    ] {
        let count = head
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count();
        assert_eq!(count, 1, "{name} in {head:?}");
    }
    assert_ne!(client_key(&client), RFC_KEY);
    assert_eq!(head.get("Origin"), Some("https://example.com"));
    assert_eq!(head.get("Authorization"), Some("Bearer abc"));
    assert_eq!(head.get("Sec-WebSocket-Protocol"), Some("v2, v1"));
}

#[test]
fn a_client_request_from_http_says_what_is_wrong() {
    let err = |builder: http::request::Builder| {
        ClientRequest::try_from(&builder.body(()).unwrap())
            .unwrap_err()
            .to_string()
    };
    let text = err(http::Request::get("/relative"));
    assert!(text.contains("absolute"), "{text}");
    let text = err(http::Request::get("ftp://example.com/"));
    assert!(text.contains("ws://"), "{text}");
    let text = err(http::Request::post("ws://example.com/"));
    assert!(text.contains("POST"), "{text}");
    let text = err(http::Request::get("ws://example.com/").header("Host", "other.example"));
    assert!(text.contains("other.example"), "{text}");
    let text = err(http::Request::get("ws://example.com/").header("Sec-WebSocket-Version", "8"));
    assert!(text.contains("\"8\""), "{text}");
    let text = err(http::Request::get("ws://example.com/").version(http::Version::HTTP_2));
    assert!(text.contains("HTTP/2"), "{text}");
    let raw = http::header::HeaderValue::from_bytes(b"\xff").unwrap();
    let text = err(http::Request::get("ws://example.com/").header("X-Raw", raw));
    assert!(text.contains("x-raw"), "{text}");
    // The Host the URI implies passes, with the port only when not the
    // default.
    let ok = http::Request::get("ws://example.com:80/")
        .header("Host", "example.com")
        .body(())
        .unwrap();
    assert!(ClientRequest::try_from(&ok).is_ok());
    assert!(matches!(
        ClientRequest::try_from(&http::Request::get("ws://a@b/").body(()).unwrap()),
        Err(Error::InvalidUrl(_))
    ));
}

#[test]
fn the_clients_101_for_http() {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/").unwrap(),
        Config::default(),
    )
    .unwrap();
    let key = client_key(&client);
    let mut server = Connection::open(Role::Server, Config::default());
    pump(&mut client, &mut server);
    client.receive(response_101(&key, "Set-Cookie: id=1\r\nSet-Cookie: b=2\r\n").as_bytes());
    let response = match client.next_event().unwrap() {
        Some(Event::Open(response)) => response,
        other => panic!("expected the opening, got {other:?}"),
    };
    let response = http::Response::<()>::try_from(&response).unwrap();
    assert_eq!(response.status(), 101);
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["id=1", "b=2"]);
    assert_eq!(
        response.headers()["sec-websocket-accept"],
        rfc6455::handshake::accept_key(key.as_bytes()).as_str()
    );
}
