//! UTF-8 for text messages: an incremental validator that fails fast, and
//! [`Utf8Bytes`], the shared string type that text messages arrive in. The
//! checks themselves are the kernels' (`kernels/text.rs`); this is their
//! safe front end.
//!
//! A text message may be split across frames and a frame across reads, so a
//! code point can straddle any boundary. The validator carries at most three
//! bytes of an unfinished code point from one piece to the next and reports
//! an error on the first byte that can no longer start or continue valid
//! UTF-8, so a bad message is refused as soon as the bad byte arrives.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

use crate::kernels::text::{code_point_start, utf8_string, LONG_TEXT};

/// `bytes` as a `str` if they are UTF-8, checked once, the fastest way for
/// their length.
#[inline]
pub(crate) fn as_str(bytes: &[u8]) -> Result<&str, InvalidUtf8> {
    crate::kernels::text::as_str(bytes).ok_or(InvalidUtf8)
}

/// Validates UTF-8 delivered in pieces.
///
/// ```
/// use rfc6455::utf8::Utf8Validator;
/// let euro = "€".as_bytes(); // e2 82 ac
/// let mut v = Utf8Validator::new();
/// assert!(v.feed(&euro[..1]).is_ok());
/// assert!(v.feed(&euro[1..]).is_ok());
/// assert!(v.finish().is_ok());
///
/// let mut v = Utf8Validator::new();
/// assert!(v.feed(&[0xe2, 0x28]).is_err()); // fails at once, not at the end
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    pending: [u8; 4],
    pending_len: u8,
}

/// The input is not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

impl fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl std::error::Error for InvalidUtf8 {}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates the next piece; an error means no continuation can make
    /// the text valid.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        // First finish the code point left over from the previous piece.
        while self.pending_len > 0 {
            let Some((&byte, rest)) = input.split_first() else {
                return Ok(());
            };
            self.pending[self.pending_len as usize] = byte;
            self.pending_len += 1;
            input = rest;
            match std::str::from_utf8(&self.pending[..self.pending_len as usize]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {}
            }
        }
        if input.len() >= LONG_TEXT {
            // The fastest SIMD check takes all but a code point cut at the
            // end (any error before it is final: a continuation cannot
            // mend it); the rest, at most three bytes, goes below.
            let cut = code_point_start(input, input.len());
            simdutf8::basic::from_utf8(&input[..cut]).map_err(|_| InvalidUtf8)?;
            input = &input[cut..];
        }
        // SIMD validation: several times std's speed on ASCII and more on
        // other text, with the same error details (valid_up_to, error_len).
        match simdutf8::compat::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let tail = &input[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Ends the text: an unfinished code point at the end is an error.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Forgets any state, ready for a new text.
    pub fn reset(&mut self) {
        self.pending_len = 0;
    }
}

/// An immutable UTF-8 string that can share its storage with the buffer it
/// was received in: a received text of more than 128 bytes reaches the
/// caller without a copy (a shorter one is copied out, which costs less
/// than sharing the buffer).
///
/// It dereferences to `str`.
///
/// ```
/// use rfc6455::Utf8Bytes;
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.len(), 6);
/// assert!(text.starts_with("hé"));
/// assert_eq!(text, "héllo");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(ByteString);

impl Utf8Bytes {
    /// The text as a `str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes, without copying.
    ///
    /// ```
    /// let text = rfc6455::Utf8Bytes::from("hi");
    /// assert_eq!(&text.into_bytes()[..], b"hi");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = InvalidUtf8;
    /// Validates `bytes` (one SIMD pass) and wraps them without copying.
    ///
    /// ```
    /// use rfc6455::{Bytes, Utf8Bytes};
    /// assert_eq!(Utf8Bytes::try_from(Bytes::from("hé")).unwrap(), "hé");
    /// assert!(Utf8Bytes::try_from(Bytes::from_static(b"\xc3\x28")).is_err());
    /// ```
    fn try_from(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        utf8_string(bytes).map(Utf8Bytes).map_err(|_| InvalidUtf8)
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(ByteString::from(s))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(ByteString::from(s))
    }
}

impl From<Utf8Bytes> for String {
    fn from(s: Utf8Bytes) -> Self {
        s.as_str().to_owned()
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Utf8Bytes {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(input: &[u8]) -> Vec<bool> {
        // For every split point, feed in two pieces and report validity.
        (0..=input.len())
            .map(|at| {
                let mut v = Utf8Validator::new();
                v.feed(&input[..at]).is_ok() && v.feed(&input[at..]).is_ok() && v.finish().is_ok()
            })
            .collect()
    }

    #[test]
    fn agrees_with_std_at_every_split() {
        let samples: &[&[u8]] = &[
            "κόσμε".as_bytes(),
            "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
            "𝄞 music €".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf4\x90\x80\x80",
            b"\xc0\xaf",
            b"\xe2\x82",
            b"\xed\x9f\xbf\xee\x80\x80",
        ];
        for s in samples {
            let valid = std::str::from_utf8(s).is_ok();
            for (at, ok) in split_everywhere(s).into_iter().enumerate() {
                assert_eq!(ok, valid, "{s:?} split at {at}");
            }
        }
    }

    /// Whether some continuation could still make `prefix` valid: what
    /// a fail-fast validator must answer after being fed it.
    fn could_be_valid(prefix: &[u8]) -> bool {
        match std::str::from_utf8(prefix) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
    }

    #[test]
    fn long_pieces_fail_exactly_when_std_says_no_continuation_can_help() {
        let text = "aé€𝄞".repeat(200).into_bytes();
        assert!(text.len() > LONG_TEXT);
        let bad: [&[u8]; 6] = [
            b"\xff",
            b"\x80",
            b"\xed\xa0",
            b"\xc0",
            b"\xf4\x90",
            b"\xe2\x82(",
        ];
        for end in text.len() - 12..=text.len() {
            for (i, bad) in bad.iter().enumerate() {
                for at in [0, 500, end - 5, end] {
                    let mut piece = text[..end].to_vec();
                    piece.splice(at..at, bad.iter().copied());
                    let mut v = Utf8Validator::new();
                    let fed = v.feed(&piece).is_ok();
                    assert_eq!(fed, could_be_valid(&piece), "end {end}, bad {i} at {at}");
                    let whole = fed && v.finish().is_ok();
                    assert_eq!(
                        whole,
                        std::str::from_utf8(&piece).is_ok(),
                        "end {end}, bad {i} at {at}"
                    );
                }
            }
            // Valid up to a cut code point: pending, then completed.
            let mut v = Utf8Validator::new();
            assert_eq!(v.feed(&text[..end]).is_ok(), could_be_valid(&text[..end]));
            assert!(
                v.feed(&text[end..]).is_ok() && v.finish().is_ok(),
                "end {end}"
            );
        }
    }

    #[test]
    fn byte_at_a_time_fails_on_the_first_bad_byte() {
        // Autobahn 6.4.1: κόσμε followed by a UTF-16 surrogate (ed a0 80).
        let input = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited";
        let mut v = Utf8Validator::new();
        let first_bad = input
            .iter()
            .position(|&b| v.feed(&[b]).is_err())
            .expect("must fail");
        assert_eq!(
            first_bad, 12,
            "the a0 after ed is the first impossible byte"
        );
    }

    #[test]
    fn out_of_range_code_point_fails_on_second_byte() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xf4]).is_ok());
        assert!(v.feed(&[0x90]).is_err());
    }

    #[test]
    fn unfinished_code_point_fails_at_finish() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xe2, 0x82]).is_ok());
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }

    #[test]
    fn utf8_bytes_roundtrip() {
        let b = Bytes::from_static("ünïcödé".as_bytes());
        let t = Utf8Bytes::try_from(b.clone()).unwrap();
        assert_eq!(t.as_str(), "ünïcödé");
        assert_eq!(t.into_bytes(), b);
        assert!(Utf8Bytes::try_from(Bytes::from_static(b"\xff")).is_err());
    }
}
