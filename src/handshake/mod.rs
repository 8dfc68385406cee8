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
#[cfg(feature = "http")]
mod http;
mod server;

pub use answer::{Accept, Reject};
pub use client::{ClientRequest, Response};
pub use server::Request;

pub use crate::error::HandshakeError;
pub use crate::headers::Headers;

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

/// At most this much of a rejecting response's body is kept in
/// [`HandshakeError::Rejected`]; the rest is not waited for.
///
/// ```
/// assert_eq!(rfc6455::handshake::MAX_REJECTED_BODY, 64 * 1024);
/// ```
pub const MAX_REJECTED_BODY: usize = 64 * 1024;

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
