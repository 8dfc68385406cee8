//! Close codes (RFC 6455 section 7.4), the close frame payload (parsed and
//! checked), and the close code each [`Error`] and [`ProtocolError`] is
//! answered or reported with.
//!
//! Two different rules apply to a close code: which codes may travel on the
//! wire at all ([`CloseCode::is_valid_on_wire`]), and which ones an
//! application may pick when it starts a close the way the browser API allows
//! ([`CloseCode::is_application_sendable`]).

use std::fmt;

use crate::error::{Error, ProtocolError};
use crate::utf8::Utf8Bytes;

/// A WebSocket close status code.
///
/// Registered codes are available as associated constants; any `u16` can be
/// wrapped so unregistered application codes (3000-4999) are representable.
///
/// ```
/// use rfc6455::CloseCode;
/// assert_eq!(CloseCode::NORMAL.as_u16(), 1000);
/// assert!(CloseCode::from(4001).is_valid_on_wire());
/// assert!(!CloseCode::ABNORMAL.is_valid_on_wire()); // 1006 is only ever reported locally
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: reported locally when a close frame carried no code; never sent.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: reported locally when the connection ended without a close frame; never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's data was inconsistent with its type (invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message or frame was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (temporary overload).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway received an invalid response upstream.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: reported locally when the TLS handshake failed; never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// The numeric value.
    ///
    /// ```
    /// assert_eq!(rfc6455::CloseCode::GOING_AWAY.as_u16(), 1001);
    /// ```
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this code may appear in a close frame on the wire: the
    /// registered codes 1000-1003 and 1007-1014, and 3000-4999 (registered
    /// libraries and frameworks, then private use). A received close frame
    /// with any other code is a protocol error (1002).
    ///
    /// ```
    /// use rfc6455::CloseCode;
    /// assert!(CloseCode::from(1014).is_valid_on_wire());
    /// assert!(!CloseCode::from(1004).is_valid_on_wire());
    /// assert!(!CloseCode::from(2999).is_valid_on_wire());
    /// assert!(!CloseCode::from(5000).is_valid_on_wire());
    /// ```
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether the browser API would let an application start a close with
    /// this code: exactly 1000 or 3000-4999.
    ///
    /// ```
    /// use rfc6455::CloseCode;
    /// assert!(CloseCode::NORMAL.is_application_sendable());
    /// assert!(CloseCode::from(3000).is_application_sendable());
    /// assert!(!CloseCode::GOING_AWAY.is_application_sendable());
    /// ```
    pub const fn is_application_sendable(self) -> bool {
        matches!(self.0, 1000 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The largest close reason in bytes: a control frame carries at most 125
/// bytes, two of which are the code.
pub const MAX_REASON_LEN: usize = 123;

/// The payload of a close frame: a code and a UTF-8 reason.
///
/// ```
/// use rfc6455::{CloseCode, CloseFrame};
/// let frame = CloseFrame::new(CloseCode::NORMAL, "bye");
/// assert_eq!(frame.reason.as_str(), "bye");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most [`MAX_REASON_LEN`] bytes of UTF-8.
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// A close frame with the given code and reason.
    ///
    /// ```
    /// let f = rfc6455::CloseFrame::new(4000u16.into(), "done");
    /// assert_eq!(f.code.as_u16(), 4000);
    /// ```
    pub fn new(code: CloseCode, reason: impl Into<Utf8Bytes>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

impl Error {
    /// The close code that describes this error, as a browser would report
    /// it in a `CloseEvent`: the violation's code for protocol errors, 1006
    /// when the transport ended abnormally, `None` for errors of the
    /// caller's own making.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(e) => Some(e.close_code()),
            Error::AbnormalClosure | Error::Io(_) | Error::Timeout { .. } => {
                Some(CloseCode::ABNORMAL)
            }
            Error::Handshake { .. } | Error::Tls(_) | Error::Proxy { .. } => {
                Some(CloseCode::ABNORMAL)
            }
            _ => None,
        }
    }
}

impl ProtocolError {
    /// The close code this violation is answered with.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::FrameTooBig { .. }
            | ProtocolError::MessageTooBig { .. }
            | ProtocolError::InflatedFrameTooBig { .. } => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// Checks what an application asks to send: the code must be valid on the
/// wire and the reason must fit in a control frame.
pub(crate) fn validate_outgoing(code: CloseCode, reason: &str) -> Result<(), Error> {
    if !code.is_valid_on_wire() {
        return Err(Error::InvalidCloseCode(code.as_u16()));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(Error::CloseReasonTooLong(reason.len()));
    }
    Ok(())
}

/// Parses a received close payload. `None` means the peer sent no code.
pub(crate) fn parse_payload(payload: bytes::Bytes) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload.len() {
        0 => Ok(None),
        1 => Err(ProtocolError::InvalidClosePayload),
        _ => {
            let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
            if !code.is_valid_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.as_u16()));
            }
            let reason = Utf8Bytes::try_from(payload.slice(2..))
                .map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(Some(CloseFrame { code, reason }))
        }
    }
}

/// How a connection ended, as the browser's `CloseEvent`.
///
/// `was_clean` is true when the close handshake completed. An abnormal end
/// reports 1006 (transport dropped, timeout) or the code of the protocol
/// violation that failed the connection (1002, 1007, 1009). The adapters
/// report it; the sans-IO core reports the close frames themselves.
///
/// ```no_run
/// let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
/// ws.close(1000, "done")?;
/// while ws.recv()?.is_some() {}
/// let event: &rfc6455::CloseEvent = ws.close_event().unwrap();
/// assert!(event.was_clean);
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseEvent {
    /// The close code: the peer's, 1005 when its close frame had none, or
    /// the abnormal code.
    pub code: CloseCode,
    /// The peer's reason, if any.
    pub reason: String,
    /// Whether the close handshake completed.
    pub was_clean: bool,
}

impl CloseEvent {
    /// The end of a completed close handshake, with the peer's close frame
    /// (1005 and no reason when it had none).
    pub(crate) fn clean(frame: Option<&CloseFrame>) -> Self {
        let (code, reason) = match frame {
            Some(f) => (f.code, f.reason.to_string()),
            None => (CloseCode::NO_STATUS, String::new()),
        };
        CloseEvent {
            code,
            reason,
            was_clean: true,
        }
    }

    /// An end without a completed close handshake, reported with `code`.
    pub(crate) fn abnormal(code: CloseCode) -> Self {
        CloseEvent {
            code,
            reason: String::new(),
            was_clean: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn wire_validity_matches_rfc_ranges() {
        for code in 0u16..=u16::MAX {
            let expected = (1000..=1003).contains(&code)
                || (1007..=1014).contains(&code)
                || (3000..=4999).contains(&code);
            assert_eq!(CloseCode(code).is_valid_on_wire(), expected, "code {code}");
        }
    }

    #[test]
    fn reserved_codes_are_refused_on_the_wire() {
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
        ] {
            let payload = Bytes::copy_from_slice(&u16::to_be_bytes(code));
            assert_eq!(
                parse_payload(payload),
                Err(ProtocolError::InvalidCloseCode(code))
            );
        }
    }

    #[test]
    fn parses_code_and_reason() {
        let frame = parse_payload(Bytes::from_static(b"\x03\xe8bye"))
            .unwrap()
            .unwrap();
        assert_eq!(frame.code, CloseCode::NORMAL);
        assert_eq!(frame.reason.as_str(), "bye");
        assert_eq!(parse_payload(Bytes::new()), Ok(None));
        assert_eq!(
            parse_payload(Bytes::from_static(b"\x03")),
            Err(ProtocolError::InvalidClosePayload)
        );
        assert_eq!(
            parse_payload(Bytes::from_static(b"\x03\xe8\xff")),
            Err(ProtocolError::InvalidCloseReason)
        );
    }

    #[test]
    fn outgoing_validation() {
        assert!(validate_outgoing(CloseCode::NORMAL, "ok").is_ok());
        assert!(validate_outgoing(CloseCode::GOING_AWAY, "").is_ok());
        assert!(matches!(
            validate_outgoing(CloseCode::ABNORMAL, ""),
            Err(Error::InvalidCloseCode(1006))
        ));
        let long = "x".repeat(124);
        assert!(matches!(
            validate_outgoing(CloseCode::NORMAL, &long),
            Err(Error::CloseReasonTooLong(124))
        ));
        assert!(validate_outgoing(CloseCode::NORMAL, &long[..123]).is_ok());
    }
}
