//! The errors a caller can match on: [`Error`], for everything that can go
//! wrong with a connection, [`ProtocolError`], the rule of RFC 6455 a peer
//! broke, and [`HandshakeError`], why an opening handshake failed (here
//! rather than in `handshake/`, so that the handshake can return [`Error`]
//! without the two modules importing each other).
//!
//! The core and the adapters share one [`Error`]: a caller matches one type
//! and `?` works across them. Some variants only an adapter produces
//! (`Io`, `Tls`, `TlsNotEnabled`, `Proxy`, `CannotTimeOut`, `Timeout`); the
//! sans-IO [`Connection`](crate::Connection) never returns them, and each
//! says so in its docs. The close code each one is answered or reported with is
//! defined beside the codes, in `close.rs`.

use crate::headers::Headers;
use crate::state::ReadyState;

/// Everything that can go wrong with a WebSocket connection.
///
/// A [`Error::Protocol`] error means the peer broke RFC 6455; the connection
/// has already queued a close frame with [`Error::close_code`] and moved to
/// [`ReadyState::Closed`], so the caller only writes out the queued bytes and
/// closes the transport.
///
/// ```
/// use rfc6455::{CloseCode, Error, ProtocolError};
/// let err = Error::Protocol(ProtocolError::InvalidUtf8);
/// assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer violated the protocol.
    #[error("protocol violation: {0}")]
    Protocol(#[from] ProtocolError),
    /// The opening handshake failed or was rejected: `error` says how,
    /// `url` is the URL a client was connecting to (`None` for a server
    /// and for the sans-IO [`Connection`](crate::Connection), which know
    /// of no URL).
    ///
    /// ```
    /// use rfc6455::{Error, HandshakeError};
    /// let err = Error::Handshake {
    ///     error: HandshakeError::AcceptMismatch,
    ///     url: Some("ws://127.0.0.1:9001/chat".into()),
    /// };
    /// assert_eq!(
    ///     err.to_string(),
    ///     "handshake with ws://127.0.0.1:9001/chat failed: Sec-WebSocket-Accept does not match the key"
    /// );
    /// // A server's, or `?` on a bare `HandshakeError`, names no URL.
    /// let err = Error::from(HandshakeError::AcceptMismatch);
    /// assert_eq!(err.to_string(), "handshake failed: Sec-WebSocket-Accept does not match the key");
    /// ```
    #[error("handshake{} failed: {error}", with_url(url))]
    Handshake {
        /// What failed.
        #[source]
        error: HandshakeError,
        /// The URL a client was connecting to, credentials removed.
        url: Option<String>,
    },
    /// The transport ended without a close handshake (reported as 1006).
    #[error("connection closed abnormally (no close frame)")]
    AbnormalClosure,
    /// A send or close was attempted while the connection is not open.
    #[error("connection is not open (ready state {0:?})")]
    NotOpen(ReadyState),
    /// The application asked to send a close code that is not allowed.
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A close reason longer than 123 bytes.
    #[error("close reason is {0} bytes; at most 123 are allowed")]
    CloseReasonTooLong(usize),
    /// A ping or pong payload longer than 125 bytes.
    #[error("control frame payload is {0} bytes; at most 125 are allowed")]
    ControlPayloadTooLong(usize),
    /// Text sent in fragments was not valid UTF-8.
    #[error("outgoing text is not valid UTF-8")]
    InvalidOutgoingUtf8,
    /// A fragment was sent out of order (a new message started before the
    /// previous fragmented one ended, or a continuation with none started).
    #[error("fragmented send out of order: {0}")]
    FragmentOrder(&'static str),
    /// Outgoing data waiting to be written exceeds the configured cap
    /// ([`crate::Config::max_buffered_amount`]); the peer is not reading.
    #[error("{buffered} bytes waiting to be written exceed the cap of {max}")]
    BufferFull {
        /// Bytes that were already waiting.
        buffered: usize,
        /// The configured cap.
        max: usize,
    },
    /// A `ws://` or `wss://` URL could not be used.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// `wss://` (or a TLS server) needs the crate's `tls` feature, which
    /// this build leaves out. Adapters only.
    #[error("TLS is not enabled: wss:// needs the `tls` feature of rfc6455")]
    TlsNotEnabled,
    /// The TLS handshake failed: the peer's certificate was refused (unknown
    /// issuer, wrong name, expired...), the peer refused ours, or the peer
    /// does not speak TLS. Adapters only.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An HTTP proxy could not open the tunnel: it refused (`status` is its
    /// answer, such as 407 or 502) or failed to answer (`status` is `None`).
    /// Adapters only.
    #[error("proxy {proxy}: {message}")]
    Proxy {
        /// The proxy, as `host:port`.
        proxy: String,
        /// The proxy's HTTP status, when it answered.
        status: Option<u16>,
        /// What went wrong, for a person.
        message: String,
    },
    /// The stream cannot time out (its `Transport` does not support read or
    /// write timeouts), so the handshake, read, heartbeat or close deadline
    /// asked for could not be kept. Adapters only.
    #[error("the stream cannot time out, so the {0} cannot be kept")]
    CannotTimeOut(&'static str),
    /// A deadline of the adapter passed; `what` says which: the TCP
    /// connect or the opening handshake (`url` is then the URL a client
    /// was connecting to), a read or write timeout the caller set (the
    /// connection stays open), an unanswered heartbeat ping or a message
    /// that took too long (both end it). Adapters only.
    ///
    /// ```
    /// use rfc6455::Error;
    /// let err = Error::Timeout {
    ///     what: "opening handshake",
    ///     url: Some("ws://127.0.0.1:9001/chat".into()),
    /// };
    /// assert_eq!(err.to_string(), "timed out: opening handshake with ws://127.0.0.1:9001/chat");
    /// let err = Error::Timeout { what: "no answer to a heartbeat ping", url: None };
    /// assert_eq!(err.to_string(), "timed out: no answer to a heartbeat ping");
    /// ```
    #[error("timed out: {what}{}", with_url(url))]
    Timeout {
        /// The deadline that passed.
        what: &'static str,
        /// The URL a client was connecting to, credentials removed; `None`
        /// once connected and for a server.
        url: Option<String>,
    },
    /// An I/O error from the transport. Adapters only.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<HandshakeError> for Error {
    /// The error naming no URL, as the sans-IO core and servers report it.
    fn from(error: HandshakeError) -> Self {
        Error::Handshake { error, url: None }
    }
}

impl Error {
    /// A timeout naming no URL.
    pub(crate) fn timeout(what: &'static str) -> Self {
        Error::Timeout { what, url: None }
    }

    /// The URL a client was connecting to when this error happened, for
    /// [`Error::Timeout`] and [`Error::Handshake`] (an I/O error from a
    /// client's connect names it in its message instead). `None` for a
    /// server's errors and after the connection opened.
    ///
    /// ```
    /// use rfc6455::{Error, HandshakeError};
    /// let err = Error::Handshake {
    ///     error: HandshakeError::Incomplete,
    ///     url: Some("wss://example.com/feed".into()),
    /// };
    /// assert_eq!(err.url(), Some("wss://example.com/feed"));
    /// assert_eq!(Error::from(HandshakeError::Incomplete).url(), None);
    /// ```
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::Timeout { url, .. } | Error::Handshake { url, .. } => url.as_deref(),
            _ => None,
        }
    }
}

/// ` with {url}`, for the messages of errors that may name one.
fn with_url(url: &Option<String>) -> String {
    url.as_ref()
        .map(|u| format!(" with {u}"))
        .unwrap_or_default()
}

/// The URL with any credentials (`user:password@`) replaced by `…`: what
/// an error or a log may show of a URL. Everything up to the last `@`
/// after the scheme goes, so a password holding an unencoded `/` or `@`
/// is hidden too (a path with an `@` loses more than it needs to).
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}…@{}", &url[..scheme + 3], &url[at + 1..])
        }
        (None, Some(at)) => format!("…@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// What failed in a TLS handshake, for a caller to match on (the
/// [`TlsError`]'s message says it for a person).
///
/// ```
/// use rfc6455::{TlsError, TlsErrorKind};
/// let err = TlsError::new("example.com", TlsErrorKind::NameMismatch, "certificate not valid for name");
/// assert_eq!(err.kind(), TlsErrorKind::NameMismatch);
/// assert!(err.to_string().contains("example.com"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The certificate chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate is not valid for the host name (or IP address).
    NameMismatch,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate was refused for another reason (bad signature,
    /// revoked, wrong purpose, malformed).
    BadCertificate,
    /// The peer refused the handshake with an alert (for a server: often
    /// because the client did not trust its certificate).
    AlertReceived,
    /// The peer does not speak TLS (plain HTTP or garbage arrived).
    NotTls,
    /// The peer closed the connection during the handshake (a plain
    /// `ws://` server waiting for HTTP does so at its handshake timeout).
    Closed,
    /// No protocol version or cipher suite in common, or another failure.
    Other,
}

impl TlsErrorKind {
    fn describe(self) -> &'static str {
        match self {
            TlsErrorKind::UnknownIssuer => "certificate issued by an unknown authority",
            TlsErrorKind::NameMismatch => "certificate not valid for this name",
            TlsErrorKind::Expired => "certificate expired",
            TlsErrorKind::NotYetValid => "certificate not valid yet",
            TlsErrorKind::BadCertificate => "certificate refused",
            TlsErrorKind::AlertReceived => "the peer refused the handshake",
            TlsErrorKind::NotTls => "the peer does not speak TLS",
            TlsErrorKind::Closed => "the peer closed the connection during the TLS handshake",
            TlsErrorKind::Other => "handshake failed",
        }
    }
}

/// A failed TLS handshake: with which peer, what failed, and the TLS
/// library's own words.
///
/// ```
/// use rfc6455::{TlsError, TlsErrorKind};
/// let err = TlsError::new("127.0.0.1", TlsErrorKind::UnknownIssuer, "invalid peer certificate: UnknownIssuer");
/// assert_eq!(
///     err.to_string(),
///     "TLS with 127.0.0.1: certificate issued by an unknown authority (invalid peer certificate: UnknownIssuer)"
/// );
/// ```
#[derive(Clone, Debug)]
pub struct TlsError {
    peer: String,
    kind: TlsErrorKind,
    detail: String,
}

impl TlsError {
    /// A TLS error with `peer` (a host name or address), what failed, and
    /// the details.
    pub fn new(peer: impl Into<String>, kind: TlsErrorKind, detail: impl Into<String>) -> Self {
        TlsError {
            peer: peer.into(),
            kind,
            detail: detail.into(),
        }
    }

    /// What failed.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    /// The peer: the host a client connected to, or a server's client
    /// address.
    pub fn peer(&self) -> &str {
        &self.peer
    }
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS with {}: {}", self.peer, self.kind.describe())?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for TlsError {}

/// Which rule of RFC 6455 the peer broke. Each maps to the close code the
/// connection sends: 1002 for framing and protocol rules, 1007 for invalid
/// UTF-8, 1009 for size limits.
///
/// ```
/// use rfc6455::{CloseCode, ProtocolError};
/// assert_eq!(ProtocolError::ReservedBits(0b100).close_code(), CloseCode::PROTOCOL_ERROR);
/// assert_eq!(ProtocolError::MessageTooBig { max: 10 }.close_code(), CloseCode::MESSAGE_TOO_BIG);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A server received a frame without a mask (section 5.1).
    #[error("client frame is not masked")]
    UnmaskedClientFrame,
    /// A client received a masked frame (section 5.1).
    #[error("server frame is masked")]
    MaskedServerFrame,
    /// An opcode reserved for future use.
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// RSV bits set without a negotiated extension (bits as RSV1=0b100).
    #[error("reserved bits {0:#05b} set without an extension")]
    ReservedBits(u8),
    /// A control frame with more than 125 bytes of payload.
    #[error("control frame payload longer than 125 bytes")]
    ControlFrameTooLong,
    /// A control frame without FIN.
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A 64-bit length with its most significant bit set.
    #[error("64-bit payload length has its most significant bit set")]
    InvalidLength,
    /// A continuation frame with no fragmented message started.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is unfinished.
    #[error("new data frame inside an unfinished fragmented message")]
    ExpectedContinuation,
    /// A close frame whose payload is a single byte.
    #[error("close frame payload of 1 byte")]
    InvalidClosePayload,
    /// A close code that may not appear on the wire.
    #[error("invalid close code {0} on the wire")]
    InvalidCloseCode(u16),
    /// A close reason that is not valid UTF-8.
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
    /// A text message that is not valid UTF-8.
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// A frame whose declared payload exceeds the frame limit.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    FrameTooBig {
        /// The declared length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message that would exceed the message limit.
    #[error("message exceeds the limit of {max} bytes")]
    MessageTooBig {
        /// The configured limit.
        max: usize,
    },
    /// A compressed message (permessage-deflate) whose data does not
    /// inflate (RFC 7692 section 8); answered with 1002, as a broken
    /// frame is.
    #[error("compressed message does not inflate: {0}")]
    InvalidCompressedData(String),
    /// An inflated frame larger than the frame limit (the limits apply
    /// to inflated bytes).
    #[error("inflated frame exceeds the limit of {max} bytes")]
    InflatedFrameTooBig {
        /// The configured limit.
        max: usize,
    },
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
        /// [`MAX_REJECTED_BODY`](crate::handshake::MAX_REJECTED_BODY) bytes: per `Content-Length`, or what
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
