//! The client side: the request built from a `ws://` URL, and the check of
//! the server's answer (section 4.1).

use super::{
    accept_key, check_header, head_complete, write_headers, HandshakeError, Headers, MAX_HEADERS,
};
use crate::error::{redact_url, Error};

/// What a client asks for: the URL's host, port and resource, plus the
/// optional `Origin`, subprotocols and extra headers.
///
/// ```
/// use rfc6455::ClientRequest;
/// let req = ClientRequest::new("ws://[::1]:9001/chat?room=1")?
///     .protocol("chat")
///     .origin("http://example.com");
/// assert_eq!(req.host(), "::1");
/// assert_eq!(req.port(), 9001);
/// assert_eq!(req.resource(), "/chat?room=1");
/// assert!(!req.is_secure());
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    secure: bool,
    host: String,
    port: u16,
    resource: String,
    origin: Option<String>,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// Parses a `ws://` or `wss://` URL (section 3): host (name, IPv4 or a
    /// bracketed IPv6 literal), optional port (default 80 or 443), path and
    /// query. A fragment (`#...`) or credentials in the URL are errors.
    pub fn new(url: &str) -> Result<Self, Error> {
        // The URL as shown in the error: a password in it stays out.
        let bad = |why: &str| Error::InvalidUrl(format!("{:?}: {why}", redact_url(url)));
        let (secure, rest) = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => (false, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("wss") => (true, rest),
            _ => return Err(bad("the scheme must be ws:// or wss://")),
        };
        if rest.contains('#') {
            return Err(bad("a WebSocket URL may not have a fragment"));
        }
        if rest
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
        {
            return Err(bad("whitespace or control characters"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("invalid IPv6 address"));
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => {
                if secure {
                    443
                } else {
                    80
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return Err(bad("invalid port")),
            },
        };
        let resource = match resource {
            "" => "/".to_owned(),
            r if r.starts_with('?') => format!("/{r}"),
            r => r.to_owned(),
        };
        Ok(ClientRequest {
            secure,
            host: host.to_owned(),
            port,
            resource,
            origin: None,
            protocols: Vec::new(),
            headers: Vec::new(),
        })
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`); call once per
    /// protocol, most preferred first.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Sets the `Origin` header, as a browser does.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Adds an extra header (for example `Authorization` or `Cookie`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether the URL was `wss://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host, without brackets for IPv6 literals (what to connect to).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path and query sent in the request line.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The offered subprotocols.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The `Host` header value: the port appears only when not the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The request bytes for a given key, after checking extra headers.
    pub(crate) fn encode(&self, key: &str) -> Result<Vec<u8>, HandshakeError> {
        let mut headers = vec![
            ("Host".to_owned(), self.host_header()),
            ("Upgrade".to_owned(), "websocket".to_owned()),
            ("Connection".to_owned(), "Upgrade".to_owned()),
            ("Sec-WebSocket-Key".to_owned(), key.to_owned()),
            ("Sec-WebSocket-Version".to_owned(), "13".to_owned()),
        ];
        if let Some(origin) = &self.origin {
            headers.push(("Origin".to_owned(), origin.clone()));
        }
        if !self.protocols.is_empty() {
            for p in &self.protocols {
                if p.is_empty() || p.contains([',', ' ']) {
                    return Err(HandshakeError::InvalidHeader(format!("subprotocol {p:?}")));
                }
            }
            headers.push((
                "Sec-WebSocket-Protocol".to_owned(),
                self.protocols.join(", "),
            ));
        }
        headers.extend(self.headers.iter().cloned());
        for (name, value) in &headers {
            check_header(name, value)?;
        }
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.resource.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_headers(&mut out, &headers);
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

/// The server's accepted answer, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    headers: Headers,
    protocol: Option<String>,
}

impl Response {
    /// The negotiated subprotocol, if the server chose one.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// All response headers (for example `Set-Cookie`).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

/// Parses and checks the response head `head` (which ends with the blank
/// line) against the key and offered protocols. Extensions in the answer
/// are refused unless `extensions_offered`: the caller then checks them.
pub(crate) fn parse_response(
    head: &[u8],
    key: &str,
    offered: &[String],
    extensions_offered: bool,
) -> Result<Response, HandshakeError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut raw);
    head_complete(parsed.parse(head), head)?;
    let status = parsed.code.unwrap_or(0);
    let headers = Headers::from_httparse(parsed.headers);
    if status != 101 {
        return Err(HandshakeError::Rejected {
            status,
            headers,
            body: Vec::new(),
        });
    }
    if !headers.has_token("Upgrade", "websocket") {
        return Err(HandshakeError::MissingHeader("Upgrade: websocket"));
    }
    if !headers.has_token("Connection", "upgrade") {
        return Err(HandshakeError::MissingHeader("Connection: Upgrade"));
    }
    // Exactly one accept header, counting values that are not UTF-8 too.
    let expected = accept_key(key.as_bytes());
    match headers.count("Sec-WebSocket-Accept") {
        0 => return Err(HandshakeError::MissingHeader("Sec-WebSocket-Accept")),
        1 if headers.get("Sec-WebSocket-Accept") == Some(expected.as_str()) => {}
        _ => return Err(HandshakeError::AcceptMismatch),
    }
    if !extensions_offered {
        if let Some(ext) = headers.tokens("Sec-WebSocket-Extensions").next() {
            return Err(HandshakeError::UnexpectedExtension(ext.to_owned()));
        }
    }
    let chosen: Vec<&str> = headers.tokens("Sec-WebSocket-Protocol").collect();
    let protocol = match chosen[..] {
        [] => None,
        [p] if offered.iter().any(|o| o == p) => Some(p.to_owned()),
        [p, ..] => return Err(HandshakeError::UnexpectedProtocol(p.to_owned())),
    };
    Ok(Response { headers, protocol })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> ClientRequest {
        ClientRequest::new(u).unwrap()
    }

    #[test]
    fn url_forms() {
        let r = url("ws://example.com");
        assert_eq!((r.host(), r.port(), r.resource()), ("example.com", 80, "/"));
        assert_eq!(r.host_header(), "example.com");
        let r = url("wss://example.com/a/b?c=d&e");
        assert_eq!(
            (r.port(), r.resource(), r.is_secure()),
            (443, "/a/b?c=d&e", true)
        );
        let r = url("ws://127.0.0.1:9001?x=1");
        assert_eq!(
            (r.host(), r.port(), r.resource()),
            ("127.0.0.1", 9001, "/?x=1")
        );
        assert_eq!(r.host_header(), "127.0.0.1:9001");
        let r = url("WS://[::1]/");
        assert_eq!((r.host(), r.port()), ("::1", 80));
        assert_eq!(r.host_header(), "[::1]");
        let r = url("ws://[fe80::1]:8080/p");
        assert_eq!(r.host_header(), "[fe80::1]:8080");
    }

    #[test]
    fn bad_urls() {
        for u in [
            "http://x/",
            "ws://",
            "ws://:80/",
            "ws://x:0/",
            "ws://x:99999/",
            "ws://x:abc/",
            "ws://x/#frag",
            "ws://user:pw@x/",
            "ws://[::1/",
            "ws://[nope]:1/",
            "ws://x/a b",
            "x",
        ] {
            assert!(ClientRequest::new(u).is_err(), "{u}");
        }
    }

    #[test]
    fn request_bytes() {
        let req = url("ws://server.example.com:8080/chat")
            .origin("http://example.com")
            .protocol("chat")
            .protocol("superchat")
            .header("X-Token", "abc");
        let text = String::from_utf8(req.encode("dGhlIHNhbXBsZSBub25jZQ==").unwrap()).unwrap();
        assert!(text.starts_with("GET /chat HTTP/1.1\r\n"));
        for line in [
            "Host: server.example.com:8080\r\n",
            "Upgrade: websocket\r\n",
            "Connection: Upgrade\r\n",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            "Sec-WebSocket-Version: 13\r\n",
            "Origin: http://example.com\r\n",
            "Sec-WebSocket-Protocol: chat, superchat\r\n",
            "X-Token: abc\r\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in {text}");
        }
        assert!(text.ends_with("\r\n\r\n"));
        assert!(url("ws://x/").header("X", "a\nb").encode("k").is_err());
    }

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn response(extra: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn accepts_a_valid_response() {
        let r = parse_response(&response(""), KEY, &[], false).unwrap();
        assert_eq!(r.protocol(), None);
        let offered = ["chat".to_owned(), "superchat".to_owned()];
        let r = parse_response(
            &response("Sec-WebSocket-Protocol: superchat\r\n"),
            KEY,
            &offered,
            false,
        )
        .unwrap();
        assert_eq!(r.protocol(), Some("superchat"));
    }

    #[test]
    fn refuses_bad_responses() {
        let wrong_accept = response("").replace_ascii("s3pP", "AAAA");
        assert!(matches!(
            parse_response(&wrong_accept, KEY, &[], false),
            Err(HandshakeError::AcceptMismatch)
        ));
        assert!(matches!(
            parse_response(&response("Sec-WebSocket-Protocol: chat\r\n"), KEY, &[], false),
            Err(HandshakeError::UnexpectedProtocol(p)) if p == "chat"
        ));
        assert!(matches!(
            parse_response(
                &response("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                KEY,
                &[],
                false,
            ),
            Err(HandshakeError::UnexpectedExtension(_))
        ));
        let no_upgrade = response("").replace_ascii("Upgrade: WebSocket", "X: y");
        assert!(matches!(
            parse_response(&no_upgrade, KEY, &[], false),
            Err(HandshakeError::MissingHeader(_))
        ));
        let forbidden = b"HTTP/1.1 403 Forbidden\r\nX-Why: no\r\n\r\n";
        match parse_response(forbidden, KEY, &[], false) {
            Err(HandshakeError::Rejected {
                status, headers, ..
            }) => {
                assert_eq!(status, 403);
                assert_eq!(headers.get("x-why"), Some("no"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_response(b"garbage\r\n\r\n", KEY, &[], false),
            Err(HandshakeError::MalformedHttp(_))
        ));
    }

    trait ReplaceAscii {
        fn replace_ascii(&self, from: &str, to: &str) -> Vec<u8>;
    }
    impl ReplaceAscii for Vec<u8> {
        fn replace_ascii(&self, from: &str, to: &str) -> Vec<u8> {
            String::from_utf8(self.clone())
                .unwrap()
                .replace(from, to)
                .into_bytes()
        }
    }
}
