//! The errors a caller can match on: [`Error`], for everything that can go
//! wrong with a connection, and [`ProtocolError`], the rule of RFC 6455 a
//! peer broke. The close code each one is answered or reported with is
//! defined beside the codes, in `close.rs`.

use crate::handshake::HandshakeError;
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
    /// The opening handshake failed or was rejected.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
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
    /// this build leaves out.
    #[error("TLS is not enabled: wss:// needs the `tls` feature of rfc6455")]
    TlsNotEnabled,
    /// The TLS handshake failed: the peer's certificate was refused (unknown
    /// issuer, wrong name, expired...), the peer refused ours, or the peer
    /// does not speak TLS.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An HTTP proxy could not open the tunnel: it refused (`status` is its
    /// answer, such as 407 or 502) or failed to answer (`status` is `None`).
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
    /// asked for could not be kept.
    #[error("the stream cannot time out, so the {0} cannot be kept")]
    CannotTimeOut(&'static str),
    /// A deadline of the adapter passed; the message says which: the
    /// opening handshake, a read or write timeout the caller set (the
    /// connection stays open), an unanswered heartbeat ping or a message
    /// that took too long (both end it).
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// An I/O error from the transport.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
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
