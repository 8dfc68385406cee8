//! The HTTP token grammar (RFC 9110 section 5.6.2), shared by the
//! handshake's header checks and the extension parameters of
//! `Sec-WebSocket-Extensions`. A leaf: it imports nothing of the crate.

/// Whether `b` may appear in a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
