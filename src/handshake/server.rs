//! The server side of the handshake: the parsed request an application
//! inspects, and the rules it must meet (section 4.2.1).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::ops::Range;

use super::{head_complete, HandshakeError, Headers, MAX_HEADERS};

/// An HTTP request received by a server, before it is accepted.
///
/// ```
/// use rfc6455::{Config, Connection, Event};
/// let mut server = Connection::server(Config::default());
/// server.receive(b"GET /chat?room=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\nOrigin: http://x\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n");
/// let Some(Event::Request(req)) = server.next_event()? else { panic!() };
/// assert_eq!(req.path(), "/chat");
/// assert_eq!(req.query(), Some("room=1"));
/// assert_eq!(req.origin(), Some("http://x"));
/// assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
/// assert!(req.is_websocket());
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    /// Where the path lies in `target`; empty for an absolute-form target
    /// without one, whose path is `/`.
    path: Range<usize>,
    /// Where the query lies in `target`, after its `?`.
    query: Option<Range<usize>>,
    /// 1 for HTTP/1.1 (`http.rs` reads it).
    pub(super) http_minor: u8,
    headers: Headers,
}

impl Request {
    /// The request method (GET for a WebSocket upgrade).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent: usually a path and query (`/chat?x`),
    /// or a whole URL (`http://example.com/chat?x`) from a client that
    /// talks to a proxy. [`path`](Self::path) and [`query`](Self::query)
    /// read either form.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path of the request target, without the query; it always
    /// starts with `/`. For an absolute-form target (`GET
    /// http://example.com/chat?x HTTP/1.1`) it is the URL's path (`/chat`;
    /// `/` when the URL has none), and the server has checked that `Host`
    /// names the URL's host and port. A target with a fragment (`#...`),
    /// `*` or `host:port` was answered with 400 and never reported.
    ///
    /// The path is as sent: not %-decoded nor normalised, so `/a`, `//a`,
    /// `/./a` and `/%61` are four paths. An application that authorises
    /// by path should allow the paths it serves rather than refuse the
    /// ones it fears.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Event};
    /// let mut server = Connection::server(Config::default());
    /// server.receive(b"GET http://example.com/reject?x HTTP/1.1\r\nHost: example.com\r\n\r\n");
    /// let Some(Event::Request(req)) = server.next_event()? else { panic!() };
    /// assert_eq!(req.target(), "http://example.com/reject?x");
    /// assert_eq!((req.path(), req.query()), ("/reject", Some("x")));
    ///
    /// let mut server = Connection::server(Config::default());
    /// server.receive(b"GET /reject#x HTTP/1.1\r\nHost: example.com\r\n\r\n");
    /// assert!(server.next_event().is_err()); // and a 400 is queued
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn path(&self) -> &str {
        match &self.target[self.path.clone()] {
            "" => "/",
            path => path,
        }
    }

    /// The query string after `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.query.clone().map(|q| &self.target[q])
    }

    /// All request headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The `Origin` header. Browsers always send it; a server that serves
    /// browsers should check it against the sites it trusts, or any page on
    /// the web can open a connection with the user's cookies (cross-site
    /// WebSocket hijacking).
    pub fn origin(&self) -> Option<&str> {
        self.headers.get("Origin")
    }

    /// The `Host` header: a server reports only requests that carry
    /// exactly one, a well-formed `host[:port]` (a name, an IPv4 address
    /// or a bracketed IPv6 literal), and answers any other with 400, so an
    /// application that serves several hosts can trust it.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Event};
    /// let mut server = Connection::server(Config::default());
    /// server.receive(b"GET / HTTP/1.1\r\nHost: [::1]:9001\r\n\r\n");
    /// let Some(Event::Request(req)) = server.next_event()? else { panic!() };
    /// assert_eq!(req.host(), Some("[::1]:9001"));
    ///
    /// let mut server = Connection::server(Config::default());
    /// server.receive(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    /// assert!(server.next_event().is_err()); // and a 400 is queued
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn host(&self) -> Option<&str> {
        self.headers.get("Host")
    }

    /// The offered subprotocols, in the client's order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        self.headers.tokens("Sec-WebSocket-Protocol")
    }

    /// The offered extensions, as sent (this library negotiates none).
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.headers.tokens("Sec-WebSocket-Extensions")
    }

    /// Whether this asks for a WebSocket upgrade at all; a plain HTTP GET
    /// (a browser loading a page) does not.
    pub fn is_websocket(&self) -> bool {
        self.headers.has_token("Upgrade", "websocket")
    }
}

/// Parses a request head (ending with the blank line). Only HTTP syntax is
/// checked here; [`validate_request`] checks the WebSocket rules.
pub(crate) fn parse_request(head: &[u8]) -> Result<Request, HandshakeError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut raw);
    head_complete(parsed.parse(head), head)?;
    let headers = Headers::from_httparse(parsed.headers);
    // Checked here, before the application sees the request, rather than
    // in `validate_request`: an application that routes or authorises by
    // host reads `host()`, which returns the first value, while a proxy in
    // front may have acted on another.
    let host = match headers.count("Host") {
        0 => return Err(HandshakeError::MissingHeader("Host")),
        1 => {
            // The raw value, not `get`'s: that skips non-UTF-8 values and
            // trims Unicode spaces, so "x\u{a0}" would pass as "x".
            let raw = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Host"));
            let host = raw.map_or(&b""[..], |(_, v)| v.trim_ascii());
            std::str::from_utf8(host)
                .ok()
                .and_then(Authority::parse)
                .ok_or_else(|| {
                    let host = String::from_utf8_lossy(host);
                    HandshakeError::InvalidHost(format!("{host:?} is not host[:port]"))
                })?
        }
        n => return Err(HandshakeError::InvalidHost(format!("{n} Host headers"))),
    };
    let target = parsed.path.unwrap_or_default();
    let form =
        Target::parse(target).ok_or_else(|| HandshakeError::InvalidTarget(target.to_owned()))?;
    // RFC 9112 section 3.2.2: an absolute-form target's authority takes
    // precedence over Host. Refusing a Host that disagrees, rather than
    // preferring one, leaves a single answer to "which host?".
    if let Some((authority, default_port)) = &form.authority {
        let same_port = |a: &Authority<'_>| a.port.unwrap_or(*default_port);
        if !authority.host.eq_ignore_ascii_case(host.host)
            || same_port(authority) != same_port(&host)
        {
            return Err(HandshakeError::InvalidHost(format!(
                "{:?} is not the target's authority",
                headers.get("Host").unwrap_or_default()
            )));
        }
    }
    Ok(Request {
        method: parsed.method.unwrap_or_default().to_owned(),
        target: target.to_owned(),
        path: form.path,
        query: form.query,
        http_minor: parsed.version.unwrap_or(0),
        headers,
    })
}

/// A request target a GET may carry (RFC 9112 section 3.2): origin form
/// (`/p?q`) or absolute form (`http://host/p?q`).
struct Target<'a> {
    /// An absolute form's authority, with its scheme's default port.
    authority: Option<(Authority<'a>, u16)>,
    path: Range<usize>,
    query: Option<Range<usize>>,
}

impl<'a> Target<'a> {
    fn parse(target: &'a str) -> Option<Self> {
        // A client never sends a fragment (RFC 9110 section 7.1, and RFC
        // 6455 section 3 forbids one in a WebSocket URI). Refused rather
        // than stripped, so the path the application sees is never a
        // shortened version of what was sent.
        if target.contains('#') {
            return None;
        }
        let (authority, path_start) = if target.starts_with('/') {
            (None, 0)
        } else {
            let (scheme, rest) = target.split_once("://")?;
            let default_port = match scheme.to_ascii_lowercase().as_str() {
                "http" | "ws" => 80,
                "https" | "wss" => 443,
                _ => return None,
            };
            let len = rest.find(['/', '?']).unwrap_or(rest.len());
            let authority = Authority::parse(&rest[..len])?;
            (Some((authority, default_port)), scheme.len() + 3 + len)
        };
        let (path, query) = match target[path_start..].find('?') {
            Some(q) => (
                path_start..path_start + q,
                Some(path_start + q + 1..target.len()),
            ),
            None => (path_start..target.len(), None),
        };
        Some(Target {
            authority,
            path,
            query,
        })
    }
}

/// A `host[:port]`, as a `Host` header or a URI's authority carries it
/// (RFC 9110 section 7.2, RFC 3986 section 3.2): a registered name or IPv4
/// address (unreserved characters, sub-delims and %-escapes), or an IPv6
/// literal in brackets; the port, if there is a colon, one to five digits
/// that fit in 16 bits. Userinfo (`user@`) and an empty host are refused.
#[derive(Debug, PartialEq, Eq)]
struct Authority<'a> {
    host: &'a str,
    port: Option<u16>,
}

impl<'a> Authority<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let (host, port) = match s.strip_prefix('[') {
            Some(literal) => {
                let (ip, after) = literal.split_once(']')?;
                ip.parse::<std::net::Ipv6Addr>().ok()?;
                let port = match after {
                    "" => None,
                    p => Some(p.strip_prefix(':')?),
                };
                (&s[..ip.len() + 2], port)
            }
            None => {
                let (host, port) = match s.split_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (s, None),
                };
                if host.is_empty() || !is_reg_name(host) {
                    return None;
                }
                (host, port)
            }
        };
        let port = match port {
            None => None,
            Some(p) if (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse().ok()?)
            }
            Some(_) => return None,
        };
        Some(Authority { host, port })
    }
}

/// RFC 3986's reg-name (which an IPv4 address also is): unreserved
/// characters, sub-delims, and `%` with two hex digits.
fn is_reg_name(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

/// The methods a server answers at all: GET upgrades (section 4.1), and a
/// plain request (a page) may be GET or HEAD. Anything else is answered
/// before the application could serve it: 400 for an upgrade, 405 for a
/// plain request.
pub(crate) fn check_method(request: &Request) -> Result<(), HandshakeError> {
    match request.method() {
        "GET" | "HEAD" => Ok(()),
        method if request.is_websocket() => Err(HandshakeError::MethodNotGet(method.to_owned())),
        method => Err(HandshakeError::MethodNotAllowed(method.to_owned())),
    }
}

/// The WebSocket rules for a request (section 4.2.1); returns the key.
pub(crate) fn validate_request(req: &Request) -> Result<&str, HandshakeError> {
    if req.method != "GET" {
        return Err(HandshakeError::MethodNotGet(req.method.clone()));
    }
    if req.http_minor < 1 {
        return Err(HandshakeError::HttpVersion);
    }
    if !req.is_websocket() {
        return Err(HandshakeError::MissingHeader("Upgrade: websocket"));
    }
    if !req.headers.has_token("Connection", "upgrade") {
        return Err(HandshakeError::MissingHeader("Connection: Upgrade"));
    }
    // Exactly one key and one version (section 4.2.1), counting values
    // that are not UTF-8 too: `get_all` skips those, so a duplicate with a
    // non-UTF-8 value would otherwise slip through.
    let key = match req.headers.count("Sec-WebSocket-Key") {
        0 => return Err(HandshakeError::MissingHeader("Sec-WebSocket-Key")),
        1 => req
            .headers
            .get("Sec-WebSocket-Key")
            .ok_or(HandshakeError::InvalidKey)?,
        _ => return Err(HandshakeError::InvalidKey),
    };
    if !matches!(BASE64.decode(key), Ok(nonce) if nonce.len() == 16) {
        return Err(HandshakeError::InvalidKey);
    }
    let version = req.headers.get("Sec-WebSocket-Version");
    if req.headers.count("Sec-WebSocket-Version") != 1 || version != Some("13") {
        return Err(HandshakeError::UnsupportedVersion(
            version.map(str::to_owned),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::Accept;

    fn request(extra: &str) -> String {
        format!(
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        )
    }

    fn validate(head: &str) -> Result<(), HandshakeError> {
        validate_request(&parse_request(head.as_bytes())?).map(|_| ())
    }

    #[test]
    fn rfc_example_request_is_accepted() {
        let head = request("Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n");
        let req = parse_request(head.as_bytes()).unwrap();
        let key = validate_request(&req).unwrap().to_owned();
        let out = Accept::new().protocol("chat").encode(&req, &key).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: chat\r\n"));
        assert!(matches!(
            Accept::new().protocol("other").encode(&req, &key),
            Err(HandshakeError::ProtocolNotOffered(_))
        ));
    }

    #[test]
    fn invalid_requests_and_their_status() {
        let v13 = "Sec-WebSocket-Version: 13\r\n";
        let cases: Vec<(String, u16)> = vec![
            (request(v13).replace("GET", "POST"), 400),
            (request(v13).replace("HTTP/1.1", "HTTP/1.0"), 400),
            (
                request(v13).replace("Upgrade: websocket", "Upgrade: h2c"),
                400,
            ),
            (
                request(v13).replace("Connection: Upgrade", "Connection: close"),
                400,
            ),
            (
                request(v13).replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="),
                400,
            ),
            (request(v13).replace("dGhlIHNhbXBsZSBub25jZQ==", "!!!"), 400),
            (request(""), 426),
            (request("Sec-WebSocket-Version: 8\r\n"), 426),
        ];
        for (head, status) in cases {
            let err = validate(&head).unwrap_err();
            assert_eq!(err.status(), Some(status), "{head:?}: {err}");
        }
        assert!(
            validate(&request(v13).replace("Upgrade: websocket", "Upgrade: WebSocket")).is_ok()
        );
        assert!(validate(
            &request(v13).replace("Connection: Upgrade", "Connection: keep-alive, Upgrade")
        )
        .is_ok());
    }

    #[test]
    fn host_forms() {
        let ok = |s, host, port| {
            assert_eq!(Authority::parse(s), Some(Authority { host, port }), "{s}");
        };
        ok("example.com", "example.com", None);
        ok("Example.COM:80", "Example.COM", Some(80));
        ok("127.0.0.1:65535", "127.0.0.1", Some(65535));
        ok("[::1]", "[::1]", None);
        ok("[fe80::1]:8080", "[fe80::1]", Some(8080));
        ok("a%2Fb", "a%2Fb", None);
        for bad in [
            "", ":80", "x:", "x:65536", "x:123456", "x:+80", "x:8a", "[::1", "[::1]x", "[::1]:",
            "[x]", "::1", "a b", "u@x", "x/y", "x?", "x#", "%", "%4", "%zz", "é",
        ] {
            assert_eq!(Authority::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn target_forms() {
        type Parts<'a> = (
            &'a str,
            Option<&'a str>,
            Option<(&'a str, Option<u16>, u16)>,
        );
        fn parts(t: &str) -> Option<Parts<'_>> {
            let form = Target::parse(t)?;
            let path = &t[form.path];
            let query = form.query.map(|q| &t[q]);
            let authority = form.authority.map(|(a, port)| (a.host, a.port, port));
            Some((path, query, authority))
        }
        assert_eq!(parts("/"), Some(("/", None, None)));
        assert_eq!(parts("/a?b?c"), Some(("/a", Some("b?c"), None)));
        assert_eq!(parts("//x/y"), Some(("//x/y", None, None)));
        assert_eq!(
            parts("http://h:8080/a?b"),
            Some(("/a", Some("b"), Some(("h", Some(8080), 80))))
        );
        assert_eq!(parts("WSS://h"), Some(("", None, Some(("h", None, 443)))));
        assert_eq!(
            parts("ws://[::1]?q"),
            Some(("", Some("q"), Some(("[::1]", None, 80))))
        );
        for bad in [
            "*",
            "h:80",
            "h",
            "",
            "?q",
            "/a#",
            "#",
            "http://h/#f",
            "ftp://h/",
            "http:/h/",
            "http://",
            "http:///",
            "http://u@h/",
            "http://h:x/",
            "http://[::1/",
            "mailto:x",
        ] {
            assert!(parts(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn host_is_checked_when_the_request_is_parsed() {
        let v13 = "Sec-WebSocket-Version: 13\r\n";
        let head = request(v13);
        let parse = |head: String| parse_request(head.as_bytes());
        assert!(parse(head.clone()).is_ok());
        assert!(matches!(
            parse(head.replace("Host: server.example.com\r\n", "")),
            Err(HandshakeError::MissingHeader("Host"))
        ));
        for bad in [
            "Host: \r\n",
            "Host: a b\r\n",
            "Host: x\u{a0}\r\n",
            "Host: x\r\nHost: x\r\n",
        ] {
            let err = parse(head.replace("Host: server.example.com\r\n", bad)).unwrap_err();
            assert!(
                matches!(err, HandshakeError::InvalidHost(_)),
                "{bad:?}: {err}"
            );
            assert_eq!(err.status(), Some(400));
        }
    }
}
