//! The opening handshake (RFC 6455 section 4): an HTTP/1.1 Upgrade request
//! and its `101 Switching Protocols` answer.
//!
//! The [`Connection`](crate::Connection) drives it: a client connection
//! starts by queueing the request built from a [`ClientRequest`]; a server
//! connection parses the request, hands it to the application as a
//! [`Request`], and answers with [`Accept`] or [`Reject`]. Parsing is
//! incremental and bounded: the head may arrive a byte at a time, and a head
//! longer than [`Config::max_handshake_size`](crate::Config) is refused.

mod answer;
mod client;
mod server;

pub use answer::{Accept, Reject};
pub use client::{ClientRequest, Response};
pub use server::Request;

pub(crate) use client::parse_response;
pub(crate) use server::{check_method, parse_request, validate_request};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID appended to the key before hashing (section 1.3).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// How many header lines a handshake head may carry.
const MAX_HEADERS: usize = 64;

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`:
/// base64(SHA-1(key + GUID)).
///
/// ```
/// // The example of RFC 6455 section 1.3.
/// assert_eq!(
///     rfc6455::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(WEBSOCKET_GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes from a CSPRNG, base64-encoded.
///
/// ```
/// let key = rfc6455::handshake::generate_key();
/// assert_eq!(key.len(), 24);
/// assert_ne!(key, rfc6455::handshake::generate_key());
/// ```
pub fn generate_key() -> String {
    let nonce: [u8; 16] = rand::random();
    BASE64.encode(nonce)
}

/// Why an opening handshake failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head (request or status line plus headers) exceeded the limit.
    #[error("handshake head exceeds {max} bytes")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The bytes are not a well-formed HTTP/1.1 head.
    #[error("malformed HTTP: {0}")]
    MalformedHttp(String),
    /// The request method is not GET.
    #[error("method {0} is not GET")]
    MethodNotGet(String),
    /// A plain request (not an upgrade) with a method other than GET or
    /// HEAD (answered with 405 and `Allow: GET, HEAD`).
    #[error("method {0} is not allowed (only GET and HEAD are)")]
    MethodNotAllowed(String),
    /// The request is HTTP/1.0 (WebSocket needs HTTP/1.1 or later).
    #[error("HTTP/1.1 or later is required")]
    HttpVersion,
    /// A required header is missing or lacks the required token.
    #[error("missing or invalid header: {0}")]
    MissingHeader(&'static str),
    /// The request does not carry exactly one well-formed `Host` header
    /// (RFC 9112 section 3.2): it has two, or an empty or malformed value
    /// (not `host[:port]`), or one that names another host or port than
    /// an absolute-form target's authority.
    #[error("invalid Host header: {0}")]
    InvalidHost(String),
    /// The request target is neither a path (`/p?q`) nor an absolute
    /// `http`, `https`, `ws` or `wss` URL (`http://host/p?q`), or it
    /// carries a fragment (`#...`). Asterisk-form (`*`) and authority-form
    /// (`host:port`) targets are for other methods than GET.
    #[error("invalid request target {0:?}")]
    InvalidTarget(String),
    /// `Sec-WebSocket-Key` is not the base64 of 16 bytes.
    #[error("Sec-WebSocket-Key is not the base64 encoding of 16 bytes")]
    InvalidKey,
    /// `Sec-WebSocket-Version` is missing or not 13 (answered with 426).
    #[error("unsupported Sec-WebSocket-Version {0:?}; only 13 is supported")]
    UnsupportedVersion(Option<String>),
    /// The server answered with a status other than 101.
    #[error(
        "handshake answered with HTTP {status} instead of 101 Switching Protocols{}",
        body_excerpt(body)
    )]
    Rejected {
        /// The status code, e.g. 401, 403 or a redirect.
        status: u16,
        /// The response headers (e.g. `Location`, `WWW-Authenticate`).
        headers: Headers,
        /// The response body as received, at most
        /// [`MAX_REJECTED_BODY`] bytes: per `Content-Length`, or what
        /// arrived until the server closed the connection (or, for the
        /// blocking client, until the handshake deadline). Empty on the
        /// server's side of a rejection.
        body: Vec<u8>,
    },
    /// `Sec-WebSocket-Accept` does not match the key sent.
    #[error("Sec-WebSocket-Accept does not match the key")]
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer.
    #[error("server chose subprotocol {0:?}, which was not offered")]
    UnexpectedProtocol(String),
    /// The server chose an extension the client did not offer.
    #[error("server chose extension {0:?}, which was not offered")]
    UnexpectedExtension(String),
    /// The server's permessage-deflate answer breaks a rule of RFC 7692
    /// section 7.1 (a parameter not offered, given twice, out of range).
    #[error("invalid permessage-deflate answer: {0}")]
    InvalidExtensionAnswer(String),
    /// The application accepted with a subprotocol the client did not offer.
    #[error("subprotocol {0:?} was not offered by the client")]
    ProtocolNotOffered(String),
    /// A header name or value the application supplied is not valid HTTP
    /// (for example it contains CR or LF).
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// The application rejected with a status that is not a rejection.
    #[error("status {0} cannot reject a handshake")]
    InvalidStatus(u16),
    /// The transport ended before the handshake completed.
    #[error("connection closed during the handshake")]
    Incomplete,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with, if it is one a
    /// server detects.
    ///
    /// ```
    /// use rfc6455::handshake::HandshakeError;
    /// assert_eq!(HandshakeError::UnsupportedVersion(None).status(), Some(426));
    /// assert_eq!(HandshakeError::InvalidKey.status(), Some(400));
    /// assert_eq!(HandshakeError::InvalidHost("two Host headers".into()).status(), Some(400));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            HandshakeError::HeadTooLarge { .. } => Some(431),
            HandshakeError::MalformedHttp(_)
            | HandshakeError::MethodNotGet(_)
            | HandshakeError::HttpVersion
            | HandshakeError::MissingHeader(_)
            | HandshakeError::InvalidHost(_)
            | HandshakeError::InvalidTarget(_)
            | HandshakeError::InvalidKey => Some(400),
            HandshakeError::UnsupportedVersion(_) => Some(426),
            HandshakeError::MethodNotAllowed(_) => Some(405),
            HandshakeError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What a refusal's body says, for its message: its first line, if it is
/// text, shortened to 200 characters.
fn body_excerpt(body: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(body) else {
        return String::new();
    };
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(line) if line.chars().count() > 200 => {
            format!(": {}...", line.chars().take(200).collect::<String>())
        }
        Some(line) => format!(": {line}"),
        None => String::new(),
    }
}

/// At most this much of a rejecting response's body is kept in
/// [`HandshakeError::Rejected`]; the rest is not waited for.
///
/// ```
/// assert_eq!(rfc6455::handshake::MAX_REJECTED_BODY, 64 * 1024);
/// ```
pub const MAX_REJECTED_BODY: usize = 64 * 1024;

/// HTTP headers in the order received, names as sent.
///
/// ```
/// use rfc6455::handshake::Headers;
/// let mut h = Headers::default();
/// h.push("Connection", "keep-alive, Upgrade");
/// assert_eq!(h.get("connection"), Some("keep-alive, Upgrade"));
/// assert!(h.has_token("Connection", "upgrade"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Vec<u8>)>);

/// Values print as text (bytes that are not UTF-8 as `\xNN`), the way
/// they appeared on the wire, not as arrays of numbers.
///
/// ```
/// use rfc6455::handshake::Headers;
/// let mut h = Headers::default();
/// h.push("Set-Cookie", "id=1");
/// h.push("X-Raw", vec![b'a', 0xff]);
/// assert_eq!(format!("{h:?}"), r#"{"Set-Cookie": "id=1", "X-Raw": "a\xff"}"#);
/// ```
impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Value<'a>(&'a [u8]);
        impl std::fmt::Debug for Value<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match std::str::from_utf8(self.0) {
                    Ok(text) => write!(f, "{text:?}"),
                    Err(_) => write!(f, "\"{}\"", self.0.escape_ascii()),
                }
            }
        }
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| (name, Value(value))))
            .finish()
    }
}

impl Headers {
    /// The first value of `name` (case-insensitive), if it is UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// Every UTF-8 value of `name` (case-insensitive).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// The comma-separated tokens of every `name` header, trimmed.
    pub fn tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// How many `name` headers there are (case-insensitive), UTF-8 or not:
    /// for the headers that must appear exactly once.
    pub(crate) fn count(&self, name: &str) -> usize {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// Whether `name` carries `token` in its comma list (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// Every header as (name, raw value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// How many header lines there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.0.push((name.into(), value.into()));
    }

    fn from_httparse(headers: &[httparse::Header<'_>]) -> Self {
        Headers(
            headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
        )
    }
}

/// Where the head ends: the index just past its blank line, once that has
/// arrived within the first `max` bytes of `buf`.
///
/// Lines must end in CRLF, and a bare LF or bare CR is refused as soon as
/// it arrives. RFC 9112 section 2.2 lets a recipient take a bare LF as a
/// line end, and httparse does; a scan for CRLFCRLF does not, so the two
/// once disagreed on where `...\n\nJUNK\r\n\r\n` ended and JUNK vanished
/// between them, while a head of bare LFs waited for a CRLFCRLF that never
/// came. With bare line ends refused, the first CRLFCRLF is where httparse
/// ends the head too, and the parsers check that it does ([`head_complete`])
/// before reading it; refusing is also what keeps a proxy in front, which
/// may split lines only at CRLF, from reading other headers than we do.
///
/// `scanned` is how far an earlier call looked, so feeding a head one byte
/// at a time costs linear, not quadratic, time.
pub(crate) fn find_head_end(
    buf: &[u8],
    scanned: usize,
    max: usize,
) -> Result<Option<usize>, HandshakeError> {
    let window = &buf[..buf.len().min(max)];
    // One byte back: a CR that ended the last call's bytes is judged by
    // the byte that follows it, which may have just arrived.
    let mut i = scanned.saturating_sub(1).min(window.len());
    while let Some(p) = window[i..].iter().position(|&b| b == b'\r' || b == b'\n') {
        let at = i + p;
        if window[at] == b'\n' {
            if at == 0 || window[at - 1] != b'\r' {
                return Err(HandshakeError::MalformedHttp(
                    "bare LF: lines must end in CRLF".into(),
                ));
            }
            if at >= 3 && window[at - 3..at] == *b"\r\n\r" {
                return Ok(Some(at + 1));
            }
        } else {
            match window.get(at + 1) {
                Some(b'\n') => {}
                Some(_) => {
                    return Err(HandshakeError::MalformedHttp(
                        "bare CR: lines must end in CRLF".into(),
                    ))
                }
                None => break,
            }
        }
        i = at + 1;
    }
    if buf.len() > max {
        return Err(HandshakeError::HeadTooLarge { max });
    }
    Ok(None)
}

/// httparse's verdict on a head [`find_head_end`] delimited: it must end
/// exactly there. It does unless the head is empty lines only (httparse
/// skips empty lines before the start line, so it is still waiting), and
/// a head that ended somewhere else would leave bytes between two verdicts.
fn head_complete(verdict: httparse::Result<usize>, head: &[u8]) -> Result<(), HandshakeError> {
    match verdict {
        Ok(httparse::Status::Complete(n)) if n == head.len() => Ok(()),
        Ok(httparse::Status::Complete(_)) => Err(HandshakeError::MalformedHttp(
            "the head does not end at its first blank line".into(),
        )),
        Ok(httparse::Status::Partial) => Err(HandshakeError::MalformedHttp(
            "a blank line before the start line".into(),
        )),
        Err(e) => Err(HandshakeError::MalformedHttp(e.to_string())),
    }
}

/// Rejects header names and values that would break the HTTP framing
/// (header injection through CR/LF) or are not tokens.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), HandshakeError> {
    let name_ok = !name.is_empty() && name.bytes().all(crate::token::is_tchar);
    let value_ok = value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));
    if name_ok && value_ok {
        Ok(())
    } else {
        Err(HandshakeError::InvalidHeader(name.to_owned()))
    }
}

fn write_headers(out: &mut Vec<u8>, headers: &[(String, String)]) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_known_answers() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            accept_key(b"sN9cRrP/n9NdMgdcy2VJFQ=="),
            "fFBooB7FAkLlXgRSz0BT3v4hq5s="
        );
    }

    #[test]
    fn generated_keys_decode_to_16_bytes() {
        for _ in 0..32 {
            assert_eq!(BASE64.decode(generate_key()).unwrap().len(), 16);
        }
    }

    #[test]
    fn head_end_found_incrementally() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
        let mut scanned = 0;
        for n in 0..=head.len() {
            let found = find_head_end(&head[..n], scanned, 1024).unwrap();
            if n < 27 {
                assert_eq!(found, None, "at {n}");
            } else {
                assert_eq!(found, Some(27));
                break;
            }
            scanned = n;
        }
        assert_eq!(find_head_end(head, 0, 1024).unwrap(), Some(27));
        // Bytes after the end are not looked at: frames may follow.
        assert_eq!(find_head_end(b"A\r\n\r\n\n\r", 0, 1024).unwrap(), Some(5));
    }

    #[test]
    fn bare_line_ends_are_refused_as_they_arrive() {
        let malformed = |buf: &[u8], scanned| {
            matches!(
                find_head_end(buf, scanned, 1024),
                Err(HandshakeError::MalformedHttp(_))
            )
        };
        assert!(malformed(b"\n", 0));
        assert!(malformed(b"GET / HTTP/1.1\n", 0));
        assert!(malformed(b"GET / HTTP/1.1\r\nHost: x\n\n", 0));
        assert!(malformed(b"GET / HTTP/1.1\rX", 0));
        // A CR at the end waits for the byte after it, judged next call.
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r", 0, 1024).unwrap(), None);
        assert!(malformed(b"GET / HTTP/1.1\rX", 15));
        assert!(malformed(b"GET / HTTP/1.1\r\r", 15));
        assert_eq!(find_head_end(b"G\r\n", 2, 1024).unwrap(), None);
    }

    #[test]
    fn head_limit_counts_only_the_first_max_bytes() {
        let head = b"GET / HTTP/1.1\r\n\r\n";
        assert_eq!(
            find_head_end(head, 0, head.len()).unwrap(),
            Some(head.len())
        );
        assert!(matches!(
            find_head_end(head, 0, head.len() - 1),
            Err(HandshakeError::HeadTooLarge { max: 17 })
        ));
        // A bare LF past the limit is not seen: the head is too large first.
        assert!(matches!(
            find_head_end(b"GET\n", 0, 3),
            Err(HandshakeError::HeadTooLarge { max: 3 })
        ));
        assert_eq!(find_head_end(b"GET", 0, 3).unwrap(), None);
    }

    #[test]
    fn httparse_must_end_the_head_where_it_was_found() {
        let verdict = |head: &[u8]| {
            let mut raw = [httparse::EMPTY_HEADER; 4];
            head_complete(httparse::Request::new(&mut raw).parse(head), head)
        };
        assert!(verdict(b"GET / HTTP/1.1\r\n\r\n").is_ok());
        assert!(verdict(b"\r\nGET / HTTP/1.1\r\n\r\n").is_ok());
        assert!(verdict(b"\r\n\r\n").is_err());
        assert!(verdict(b"GET / HTTP/1.1\r\n\r\nX").is_err());
        assert!(verdict(b"GET /\r\n\r\n").is_err());
    }

    #[test]
    fn header_injection_is_refused() {
        assert!(check_header("X-Ok", "fine value").is_ok());
        assert!(check_header("X-Bad", "a\r\nInjected: 1").is_err());
        assert!(check_header("Bad Name", "v").is_err());
        assert!(check_header("", "v").is_err());
    }
}
