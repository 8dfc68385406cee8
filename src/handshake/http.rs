//! Conversions to and from the `http` crate's types (feature `http`), so
//! a server built on hyper, axum or any `http`-typed stack can do the
//! upgrade itself and hand the stream to a [`Connection`](crate::Connection),
//! and a client can start from an `http::Request<()>`.
//!
//! Every conversion goes through the same code as the bytes on the wire:
//! a request from `http` is written out as an HTTP/1.1 head and read back
//! by the server's parser, with its checks (one well-formed `Host`, a
//! target without a fragment); the 101 for `http` is the one the
//! connection would send. So a request reads the same whichever way it
//! arrived.

use ::http::header::{HeaderName, HeaderValue};
use ::http::{Method, StatusCode, Uri, Version};

use super::{
    head_complete, parse_request, validate_request, Accept, ClientRequest, HandshakeError, Request,
    Response, MAX_HEADERS,
};
use crate::error::Error;

/// (Feature `http`.) A request from an `http`-typed server (hyper's
/// `Request<Incoming>`, axum's `Request`), as this crate reads one: answer it with
/// [`Accept::http_response`]. Its body is not looked at.
///
/// Fails as a request from the wire would, before the application sees
/// it: no or several `Host` headers or a malformed one
/// ([`HandshakeError::InvalidHost`], [`HandshakeError::MissingHeader`]), a
/// target that is not a path or an absolute URL
/// ([`HandshakeError::InvalidTarget`]), more than 64 headers
/// ([`HandshakeError::MalformedHttp`]); and a request over HTTP/2 or
/// HTTP/3, whose WebSocket (RFC 8441, RFC 9220) this crate does not speak
/// ([`HandshakeError::MalformedHttp`], saying so). An HTTP/1.0 request is
/// read, and refused by [`Accept::http_response`] as on the wire.
///
/// ```
/// use rfc6455::Request;
/// let request = http::Request::get("/chat?room=1")
///     .header("Host", "example.com")
///     .header("Upgrade", "websocket")
///     .body(())?;
/// let request = Request::try_from(&request)?;
/// assert_eq!((request.path(), request.query()), ("/chat", Some("room=1")));
/// assert!(request.is_websocket());
///
/// let no_host = http::Request::get("/").body(())?;
/// assert!(Request::try_from(&no_host).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<B> TryFrom<&::http::Request<B>> for Request {
    type Error = HandshakeError;

    fn try_from(request: &::http::Request<B>) -> Result<Self, HandshakeError> {
        let minor = match request.version() {
            Version::HTTP_11 => 1,
            Version::HTTP_10 => 0,
            other => return Err(not_http1(other)),
        };
        let uri = request.uri();
        let target = match (uri.scheme(), uri.path_and_query()) {
            (Some(_), _) => uri.to_string(),
            (None, Some(path)) => path.as_str().to_owned(),
            (None, None) => "/".to_owned(),
        };
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(request.method().as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(target.as_bytes());
        head.extend_from_slice(format!(" HTTP/1.{minor}\r\n").as_bytes());
        for (name, value) in request.headers() {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        parse_request(&head)
    }
}

/// (Feature `http`.) The request a server received, for `http`-typed code (a router, a
/// middleware, a cookie parser): method, target, version and headers as
/// received.
///
/// Fails only for what `http` cannot hold: a target it does not parse as
/// a URI ([`HandshakeError::InvalidTarget`]), a method or header it
/// refuses ([`HandshakeError::MalformedHttp`],
/// [`HandshakeError::InvalidHeader`]).
///
/// ```
/// use rfc6455::{Config, Connection, Event};
/// let mut server = Connection::server(Config::default());
/// server.receive(b"GET /chat HTTP/1.1\r\nHost: example.com\r\nCookie: id=1\r\n\r\n");
/// let Some(Event::Request(request)) = server.next_event()? else { panic!() };
/// let request = http::Request::<()>::try_from(&request)?;
/// assert_eq!(request.uri().path(), "/chat");
/// assert_eq!(request.headers()["cookie"], "id=1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl TryFrom<&Request> for ::http::Request<()> {
    type Error = HandshakeError;

    fn try_from(request: &Request) -> Result<Self, HandshakeError> {
        let method = Method::from_bytes(request.method().as_bytes())
            .map_err(|_| HandshakeError::MalformedHttp(format!("method {:?}", request.method())))?;
        let uri: Uri = request
            .target()
            .parse()
            .map_err(|_| HandshakeError::InvalidTarget(request.target().to_owned()))?;
        let mut out = ::http::Request::new(());
        *out.method_mut() = method;
        *out.uri_mut() = uri;
        *out.version_mut() = match request.http_minor {
            0 => Version::HTTP_10,
            _ => Version::HTTP_11,
        };
        for (name, value) in request.headers().iter() {
            let (name, value) = http_header(name, value)?;
            out.headers_mut().append(name, value);
        }
        Ok(out)
    }
}

/// (Feature `http`.) The client's view of the server's 101, for `http`-typed code (a cookie
/// jar reading `Set-Cookie`): status 101 and the headers as received.
///
/// ```
/// use rfc6455::{ClientRequest, Config, Connection, Event};
/// let mut client = Connection::client(ClientRequest::new("ws://example.com/")?, Config::default())?;
/// # let key = {
/// #     let head = String::from_utf8(client.output().to_vec())?;
/// #     head.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap().to_owned()
/// # };
/// # let accept = rfc6455::handshake::accept_key(key.as_bytes());
/// # client.receive(format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
/// #     Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSet-Cookie: id=1\r\n\r\n").as_bytes());
/// // ... the server's 101 arrives ...
/// let Some(Event::Open(response)) = client.next_event()? else { panic!() };
/// let response = http::Response::<()>::try_from(&response)?;
/// assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
/// assert_eq!(response.headers()["set-cookie"], "id=1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl TryFrom<&Response> for ::http::Response<()> {
    type Error = HandshakeError;

    fn try_from(response: &Response) -> Result<Self, HandshakeError> {
        let mut out = ::http::Response::new(());
        *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        for (name, value) in response.headers().iter() {
            let (name, value) = http_header(name, value)?;
            out.headers_mut().append(name, value);
        }
        Ok(out)
    }
}

/// (Feature `http`.) A client request from an `http::Request<()>`: `GET` with an absolute
/// URI (`ws://`, `wss://`, or `http://`/`https://` for the same), and any
/// headers to send.
///
/// The handshake's own headers are the connection's to write:
/// `Upgrade`, `Connection` and `Sec-WebSocket-Key` are dropped (each
/// connection sends a fresh random key, section 4.1); `Host` must name
/// the URI's host and port, and `Sec-WebSocket-Version` be 13, or the
/// conversion fails. `Sec-WebSocket-Protocol` becomes the offered
/// subprotocols and `Origin` the origin; every other header is sent as
/// it is (its name lowercase, as `http` holds it), and must be UTF-8.
///
/// Errors: [`Error::InvalidUrl`] for the URI (relative, another scheme,
/// credentials), [`Error::Handshake`] for the method
/// ([`HandshakeError::MethodNotGet`]), a version other than HTTP/1.1
/// ([`HandshakeError::MalformedHttp`]) or a header
/// ([`HandshakeError::InvalidHost`], [`HandshakeError::UnsupportedVersion`],
/// [`HandshakeError::InvalidHeader`]).
///
/// ```
/// use rfc6455::{ClientRequest, Config, Connection};
/// let request = http::Request::get("wss://example.com/feed")
///     .header("Authorization", "Bearer abc")
///     .header("Sec-WebSocket-Protocol", "v2.feed, v1.feed")
///     .body(())?;
/// let request = ClientRequest::try_from(&request)?;
/// assert_eq!((request.host(), request.port(), request.resource()), ("example.com", 443, "/feed"));
/// assert_eq!(request.protocols(), ["v2.feed", "v1.feed"]);
/// let client = Connection::client(request, Config::default())?; // or blocking::ClientBuilder
/// let head = String::from_utf8(client.output().to_vec())?;
/// assert!(head.contains("authorization: Bearer abc\r\n")); // as `http` names it
///
/// let relative = http::Request::get("/feed").body(())?;
/// assert!(ClientRequest::try_from(&relative).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl TryFrom<&::http::Request<()>> for ClientRequest {
    type Error = Error;

    fn try_from(request: &::http::Request<()>) -> Result<Self, Error> {
        if request.method() != Method::GET {
            let method = request.method().as_str().to_owned();
            return Err(Error::from(HandshakeError::MethodNotGet(method)));
        }
        if request.version() != Version::HTTP_11 {
            return Err(Error::from(not_http1(request.version())));
        }
        let uri = request.uri();
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("ws") || s.eq_ignore_ascii_case("http") => "ws",
            Some(s) if s.eq_ignore_ascii_case("wss") || s.eq_ignore_ascii_case("https") => "wss",
            _ => {
                return Err(Error::InvalidUrl(format!(
                    "{uri:?}: the URI must be absolute, ws://, wss://, http:// or https://"
                )))
            }
        };
        let authority = uri.authority().map_or("", |a| a.as_str());
        let resource = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut client = ClientRequest::new(&format!("{scheme}://{authority}{resource}"))?;
        for (name, value) in request.headers() {
            let text = std::str::from_utf8(value.as_bytes())
                .map_err(|_| HandshakeError::InvalidHeader(format!("{name}: not UTF-8")))?;
            client = match name.as_str() {
                "upgrade" | "connection" | "sec-websocket-key" => client,
                "host" if text.trim().eq_ignore_ascii_case(&client.host_header()) => client,
                "host" => {
                    return Err(Error::from(HandshakeError::InvalidHost(format!(
                        "{text:?} is not the URI's {:?}",
                        client.host_header()
                    ))))
                }
                "sec-websocket-version" if text.trim() == "13" => client,
                "sec-websocket-version" => {
                    let version = Some(text.to_owned());
                    return Err(Error::from(HandshakeError::UnsupportedVersion(version)));
                }
                "sec-websocket-protocol" => text
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .fold(client, |c, p| c.protocol(p)),
                "origin" => client.origin(text),
                _ => client.header(name.as_str(), text),
            };
        }
        Ok(client)
    }
}

impl Accept {
    /// (Feature `http`.) The `101 Switching Protocols` that accepts
    /// `request`, for a server
    /// whose HTTP stack (hyper, axum...) sends the response and then hands
    /// over the upgraded stream: wrap that stream around
    /// [`Connection::open`](crate::Connection::open) with
    /// [`Role::Server`](crate::Role::Server) (or
    /// [`blocking::WebSocket::from_connection`](crate::blocking::WebSocket::from_connection)).
    ///
    /// It is the response [`Connection::accept`](crate::Connection::accept)
    /// would write, after the same checks: `request` must be a valid
    /// upgrade (the error's [`status`](HandshakeError::status) is the
    /// refusal to answer with: 400, or 426 with `Sec-WebSocket-Version:
    /// 13`), and the chosen subprotocol one the client offered (else
    /// [`HandshakeError::ProtocolNotOffered`]: answer 500).
    ///
    /// The whole flow, with plain std types where a framework would have
    /// its own (the request read by hand, as hyper would have parsed it):
    ///
    /// ```
    /// use std::io::{BufRead, BufReader, Write};
    /// use rfc6455::{blocking::WebSocket, Accept, Config, Connection, Request, Role};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let url = format!("ws://{}/chat", listener.local_addr()?);
    /// let client = std::thread::spawn(move || -> Result<_, rfc6455::Error> {
    ///     let mut ws = rfc6455::blocking::ClientBuilder::new(&url).protocol("chat").connect()?;
    ///     ws.send_text("hello")?;
    ///     Ok(ws.recv()?)
    /// });
    ///
    /// // The framework's side: it parses the request into an http::Request...
    /// let (stream, _) = listener.accept()?;
    /// let mut reader = BufReader::new(stream);
    /// let mut line = String::new();
    /// reader.read_line(&mut line)?;
    /// let target = line.split(' ').nth(1).unwrap_or("/").to_owned();
    /// let mut http_request = http::Request::get(target);
    /// loop {
    ///     line.clear();
    ///     reader.read_line(&mut line)?;
    ///     match line.trim_end().split_once(": ") {
    ///         Some((name, value)) => http_request = http_request.header(name, value),
    ///         None => break, // the blank line
    ///     }
    /// }
    /// let http_request = http_request.body(())?;
    ///
    /// // ...the application decides, and this crate makes the 101...
    /// let request = Request::try_from(&http_request)?;
    /// let response = Accept::new().protocol("chat").http_response(&request)?;
    ///
    /// // ...the framework writes it and hands over the stream.
    /// let mut stream = reader.into_inner();
    /// write!(stream, "HTTP/1.1 101 Switching Protocols\r\n")?;
    /// for (name, value) in response.headers() {
    ///     write!(stream, "{name}: {}\r\n", value.to_str()?)?;
    /// }
    /// write!(stream, "\r\n")?;
    /// let mut ws = WebSocket::from_connection(stream, Connection::open(Role::Server, Config::default()));
    /// let message = ws.recv()?.expect("the client's message");
    /// ws.send(message)?;
    /// assert_eq!(client.join().unwrap()?, Some(rfc6455::Message::from("hello")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_response(&self, request: &Request) -> Result<::http::Response<()>, HandshakeError> {
        let key = validate_request(request)?;
        let bytes = self.encode(request, key)?;
        let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut raw);
        head_complete(parsed.parse(&bytes), &bytes)?;
        let mut out = ::http::Response::new(());
        *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        for header in parsed.headers.iter() {
            let (name, value) = http_header(header.name, header.value)?;
            out.headers_mut().append(name, value);
        }
        Ok(out)
    }
}

/// The error for a request over another HTTP than 1.x: HTTP/0.9 has no
/// headers, and HTTP/2 and 3 carry WebSocket another way.
fn not_http1(version: Version) -> HandshakeError {
    HandshakeError::MalformedHttp(format!(
        "{version:?}: only HTTP/1.1 upgrades are supported, not WebSocket over HTTP/2 or 3 \
         (RFC 8441, RFC 9220)"
    ))
}

/// A header as `http` holds it: names lowercase, values as bytes.
fn http_header(name: &str, value: &[u8]) -> Result<(HeaderName, HeaderValue), HandshakeError> {
    let name_ok = HeaderName::from_bytes(name.as_bytes());
    let value_ok = HeaderValue::from_bytes(value);
    match (name_ok, value_ok) {
        (Ok(name), Ok(value)) => Ok((name, value)),
        _ => Err(HandshakeError::InvalidHeader(name.to_owned())),
    }
}
