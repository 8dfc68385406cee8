//! The server's answers to a request: [`Accept`] (the 101 that opens the
//! connection) and [`Reject`] (a plain HTTP response instead), encoded here
//! with the headers they carry.

use super::server::Request;
use super::{accept_key, check_header, write_headers, HandshakeError};

/// The application's decision to accept a WebSocket request.
///
/// ```
/// let accept = rfc6455::Accept::new().protocol("chat").header("Set-Cookie", "id=1");
/// # let _ = accept;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    protocol: Option<String>,
    headers: Vec<(String, String)>,
}

impl Accept {
    /// Accept with no subprotocol and no extra headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses one of the subprotocols the client offered.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a header to the 101 response.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The chosen subprotocol.
    pub fn chosen_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The 101 response bytes for a validated request.
    pub(crate) fn encode(&self, req: &Request, key: &str) -> Result<Vec<u8>, HandshakeError> {
        let mut headers = vec![
            ("Upgrade".to_owned(), "websocket".to_owned()),
            ("Connection".to_owned(), "Upgrade".to_owned()),
            (
                "Sec-WebSocket-Accept".to_owned(),
                accept_key(key.as_bytes()),
            ),
        ];
        if let Some(p) = &self.protocol {
            if !req.protocols().any(|offered| offered == p) {
                return Err(HandshakeError::ProtocolNotOffered(p.clone()));
            }
            headers.push(("Sec-WebSocket-Protocol".to_owned(), p.clone()));
        }
        headers.extend(self.headers.iter().cloned());
        for (name, value) in &headers {
            check_header(name, value)?;
        }
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
        write_headers(&mut out, &headers);
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

/// A plain HTTP answer instead of an upgrade: a rejection (403, 401, a
/// redirect...) or, for a request that is not a WebSocket upgrade at all,
/// any response such as a 200 page. The connection closes after it.
///
/// ```
/// let reject = rfc6455::Reject::new(403).body("forbidden");
/// assert_eq!(reject.status(), 403);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reject {
    /// An answer with this status (any but 1xx) and an empty body.
    pub fn new(status: u16) -> Self {
        Reject {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body (`Content-Length` is added for you).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The answer a server gives to a failed handshake.
    pub(crate) fn for_error(err: &HandshakeError) -> Reject {
        let status = err.status().unwrap_or(400);
        let mut reject = Reject::new(status).body(format!("{err}\n"));
        if status == 426 {
            reject = reject.header("Sec-WebSocket-Version", "13");
        }
        if status == 405 {
            reject = reject.header("Allow", "GET, HEAD");
        }
        reject
    }

    /// The response; without its body when it answers a `HEAD` (the
    /// `Content-Length` still that of the body, RFC 9110 section 9.3.2).
    pub(crate) fn encode_for(&self, head_only: bool) -> Result<Vec<u8>, HandshakeError> {
        if !(200..=999).contains(&self.status) {
            return Err(HandshakeError::InvalidStatus(self.status));
        }
        for (name, value) in &self.headers {
            check_header(name, value)?;
        }
        let has = |n: &str| self.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(
            format!(
                "HTTP/1.1 {} {}\r\n",
                self.status,
                reason_phrase(self.status)
            )
            .as_bytes(),
        );
        let mut headers = Vec::new();
        if !has("Content-Type") && !self.body.is_empty() {
            headers.push((
                "Content-Type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            ));
        }
        headers.push(("Content-Length".to_owned(), self.body.len().to_string()));
        headers.push(("Connection".to_owned(), "close".to_owned()));
        write_headers(&mut out, &headers);
        write_headers(&mut out, &self.headers);
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        Ok(out)
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::server::{parse_request, validate_request};

    fn validate(head: &str) -> Result<(), HandshakeError> {
        validate_request(&parse_request(head.as_bytes())?).map(|_| ())
    }

    fn request(extra: &str) -> String {
        format!(
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        )
    }

    #[test]
    fn version_rejection_says_which_version() {
        let err = validate(&request("Sec-WebSocket-Version: 8\r\n")).unwrap_err();
        let text = String::from_utf8(Reject::for_error(&err).encode_for(false).unwrap()).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("Sec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn reject_encoding() {
        let text = String::from_utf8(
            Reject::new(403)
                .header("X-Reason", "origin")
                .body("no")
                .encode_for(false)
                .unwrap(),
        )
        .unwrap();
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("X-Reason: origin\r\n"));
        assert!(text.ends_with("\r\n\r\nno"));
        assert!(Reject::new(101).encode_for(false).is_err());
        assert!(Reject::new(403)
            .header("X", "a\r\nb")
            .encode_for(false)
            .is_err());
    }
}
