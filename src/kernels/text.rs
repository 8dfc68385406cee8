//! UTF-8 checks that hand back a `str` without std checking the bytes a
//! second time: short text told ASCII by words, mid-sized text checked only
//! between its first and last non-ASCII byte (found with AVX2), long text
//! by `simdutf8` in whole 64-byte blocks; and [`as_str`], which picks among
//! them by length. The `decode_masked_text/*/{16B,125B,1048576B}` rows
//! measure them.

use bytes::Bytes;
use bytestring::ByteString;

#[cfg(target_arch = "x86_64")]
use super::has_avx2;

/// Short `bytes` as a `str` if they are UTF-8: the 8-byte words at the
/// start that are ASCII are told by their high bits, and std checks only
/// from the first word that has one. A short text message is usually
/// ASCII or mostly so, and a call into std's check costs more than the
/// check itself at these sizes (row `decode_masked_text/rfc6455_borrowed/16B`).
#[inline]
pub(crate) fn short_str(bytes: &[u8]) -> Option<&str> {
    let mut ascii = 0;
    for word in bytes.chunks_exact(8) {
        if u64::from_ne_bytes(word.try_into().unwrap()) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        ascii += 8;
    }
    let rest = &bytes[ascii..];
    if rest.len() >= 8 || !rest.is_ascii() {
        std::str::from_utf8(rest).ok()?;
    }
    // SAFETY: `bytes[..ascii]` has no byte with its high bit set (checked
    // above), so it is ASCII: UTF-8, ending on a character boundary. `rest`
    // is UTF-8 too (all ASCII, or checked by std just above), and UTF-8
    // followed by UTF-8 is UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// `bytes` as a `str` if they are UTF-8: the whole 64-byte blocks checked
/// by `simdutf8`, the rest by [`short_str`].
///
/// `simdutf8` copies a partial last block byte by byte into a vector-sized
/// buffer and then loads it whole, which stalls store forwarding: a large
/// share of a 125-byte text frame's time (row
/// `decode_masked_text/rfc6455_borrowed/125B`). A long text pays it once,
/// and its check by `simdutf8`'s faster basic form is worth a partial
/// block there (row `decode_masked_text/rfc6455/1048576B`).
#[inline]
pub(crate) fn blocks_str(bytes: &[u8]) -> Option<&str> {
    let blocks = bytes.len() & !63;
    let split = if bytes.len() < LONG_TEXT {
        match simdutf8::compat::from_utf8(&bytes[..blocks]) {
            Ok(_) => blocks,
            // A code point cut at the end of the blocks: the rest checks it.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return None,
        }
    } else {
        let split = code_point_start(bytes, blocks);
        simdutf8::basic::from_utf8(&bytes[..split]).ok()?;
        split
    };
    short_str(&bytes[split..])?;
    // SAFETY: `bytes[..split]` is UTF-8 (so `simdutf8` found, whose verdict
    // agrees with std's: tested below), `bytes[split..]` is UTF-8
    // (`short_str`), and UTF-8 followed by UTF-8 is UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// From this length on, [`blocks_str`] checks with `simdutf8`'s basic form.
pub(crate) const LONG_TEXT: usize = 1024;

/// `at`, or the start of a code point that `at` cuts (if `bytes` are
/// UTF-8 there; otherwise any place does, as both sides get checked).
pub(crate) fn code_point_start(bytes: &[u8], at: usize) -> usize {
    for back in 1..=3.min(at) {
        let byte = bytes[at - back];
        if byte & 0xc0 != 0x80 {
            // ASCII or a lead byte: cut if its sequence is longer than what
            // lies before `at`.
            let len = byte.leading_ones() as usize;
            return if len > back { at - back } else { at };
        }
    }
    at
}

/// `bytes` (at least 32 of them) as a `str` if they are UTF-8, told by
/// where their non-ASCII bytes are: ASCII bytes are whole characters, so
/// the text is UTF-8 exactly when the span from its first to its last byte
/// with the high bit set is, and only that span is checked. Text that is
/// mostly ASCII (JSON, logs, chat) has a short span, found with one vector
/// load per 32 bytes from each end. `None` also when the CPU lacks AVX2:
/// the caller then checks the usual way.
#[inline]
pub(crate) fn ascii_span_str(bytes: &[u8]) -> Option<Option<&str>> {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 32 && has_avx2() {
        // SAFETY: AVX2 is present (checked just above), and the function
        // needs only that and at least 32 bytes (checked too).
        let span = unsafe { high_bytes_span_avx2(bytes) };
        let checked = match span {
            None => true,
            Some((first, end)) => {
                let span = &bytes[first..end];
                if span.len() < 64 {
                    std::str::from_utf8(span).is_ok()
                } else {
                    blocks_str(span).is_some()
                }
            }
        };
        // SAFETY: the bytes outside `first..end` have no high bit set
        // (`high_bytes_span_avx2`), so they are ASCII characters and no
        // code point crosses `first` or `end`; the span is UTF-8 (checked
        // just above); so the whole is UTF-8.
        return Some(checked.then(|| unsafe { std::str::from_utf8_unchecked(bytes) }));
    }
    let _ = bytes;
    None
}

/// The first byte with its high bit set and one past the last, or `None`
/// if every byte is ASCII.
///
/// # Safety
/// The CPU must have AVX2, and `bytes` must be at least 32 bytes long.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn high_bytes_span_avx2(bytes: &[u8]) -> Option<(usize, usize)> {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_movemask_epi8};
    let len = bytes.len();
    debug_assert!(len >= 32);
    // The high bit of each of the 32 bytes at `at` (bit i for byte at + i).
    let high = |at: usize| -> u32 {
        debug_assert!(at + 32 <= len);
        // SAFETY: `at + 32 <= len`, so the 32 bytes read lie in `bytes`;
        // `loadu` needs no alignment.
        let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().add(at).cast::<__m256i>()) };
        _mm256_movemask_epi8(v) as u32
    };
    // Forward to the first high byte; the last 32 bytes are read whole
    // (overlapping the previous read) rather than as a partial vector.
    let mut at = 0;
    let first = loop {
        let start = at.min(len - 32);
        let mask = high(start);
        if mask != 0 {
            break start + mask.trailing_zeros() as usize;
        }
        if start == len - 32 {
            return None;
        }
        at += 32;
    };
    // Back from the end to the last one: it is at `first` or after it, so
    // the loop ends there at the latest.
    let mut end = len;
    loop {
        let start = end.saturating_sub(32);
        let mut mask = high(start);
        if end < 32 {
            mask &= (1u32 << end) - 1;
        }
        if mask != 0 {
            return Some((first, start + 32 - mask.leading_zeros() as usize));
        }
        end = start;
    }
}

/// `bytes` as a `str`, if they are UTF-8: below 32 bytes by [`short_str`]
/// (a call into `simdutf8` costs more than std's check at these sizes, as
/// it pays for a partial last 64-byte block); below [`LONG_TEXT`] only the
/// span between the first and the last non-ASCII byte
/// ([`ascii_span_str`]); past that by [`blocks_str`].
#[inline]
pub(crate) fn as_str(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < 32 {
        return short_str(bytes);
    }
    if bytes.len() < LONG_TEXT {
        if let Some(checked) = ascii_span_str(bytes) {
            return checked;
        }
    }
    if bytes.len() < 64 {
        short_str(bytes)
    } else {
        blocks_str(bytes)
    }
}

/// Whether `bytes` are UTF-8.
#[inline]
pub(crate) fn is_utf8(bytes: &[u8]) -> bool {
    as_str(bytes).is_some()
}

/// `bytes` as a string if they are valid UTF-8, checked once (with SIMD
/// unless short, see [`as_str`]); otherwise the bytes back.
pub(crate) fn utf8_string(bytes: Bytes) -> Result<ByteString, Bytes> {
    if !is_utf8(&bytes) {
        return Err(bytes);
    }
    // SAFETY: these exact bytes were just accepted as UTF-8 (as all ASCII,
    // or by std, or by `simdutf8`, whose verdict agrees with std's; tested
    // below), and `Bytes` is immutable, so they stay valid.
    Ok(unsafe { ByteString::from_bytes_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid and invalid texts: every kind of code point, and every kind of
    /// malformation placed at every position of a 100-byte text and around
    /// the 64- and 128-byte block ends of a longer text with code points
    /// of every length.
    fn cases() -> Vec<Vec<u8>> {
        let valid = "aé€𝄞".repeat(10).into_bytes(); // 1-4 byte code points
        let bad: [&[u8]; 9] = [
            b"\x80",             // lone continuation
            b"\xc0\xaf",         // overlong
            b"\xe0\x80\xaf",     // overlong
            b"\xed\xa0\x80",     // surrogate
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xf8\x88\x80\x80", // 5-byte form
            b"\xe2\x82",         // truncated
            b"\xff",             // never valid
            b"\xc3\x28",         // bad continuation
        ];
        // Miri (which checks the `unsafe` here) interprets every step: there,
        // a few places only.
        let step = if cfg!(miri) { 23 } else { 1 };
        let long = "aé€𝄞".repeat(20).into_bytes();
        let mut out = vec![valid.clone(), Vec::new(), long.clone()];
        for b in bad {
            for at in (0..100).step_by(step) {
                let mut t = b"x".repeat(100);
                t.splice(at..at, b.iter().copied());
                out.push(t);
            }
            for at in (56..72).chain(120..136).step_by(step) {
                let mut t = long.clone();
                t.splice(at..at, b.iter().copied());
                out.push(t);
            }
        }
        // Mostly ASCII: one or two characters of each length (or a bad
        // byte) among ASCII, at the ends, in the middle, at vector edges.
        let chars = if cfg!(miri) {
            &["€"][..]
        } else {
            &["é", "€", "𝄞", "\u{80}", "\u{10ffff}"]
        };
        for ch in chars {
            for at in (0..300).step_by(step * 3) {
                let mut t = b"x".repeat(300);
                t.splice(at..at, ch.bytes());
                out.push(t.clone());
                let back = t.len() - at / 2;
                t.splice(back..back, ch.bytes());
                out.push(t.clone());
                t.splice(at / 3..at / 3, [0xffu8]);
                out.push(t);
            }
        }
        out
    }

    /// The span kernel against a plain search, at every length from 32 and
    /// with high bytes at every place (Miri: a sample of each).
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn high_bytes_span_finds_the_first_and_last_high_byte() {
        if !has_avx2() {
            return;
        }
        let reference = |b: &[u8]| {
            let first = b.iter().position(|&x| x >= 0x80)?;
            let last = b.iter().rposition(|&x| x >= 0x80)?;
            Some((first, last + 1))
        };
        let step = if cfg!(miri) { 13 } else { 1 };
        for len in (32..200).step_by(step) {
            let mut b = vec![b'x'; len];
            // SAFETY: AVX2 is present and `b` has at least 32 bytes.
            assert_eq!(unsafe { high_bytes_span_avx2(&b) }, None);
            for i in (0..len).step_by(step) {
                for j in (i..len).step_by(step * 7) {
                    b[i] = 0x80;
                    b[j] = 0xff;
                    // SAFETY: as above.
                    assert_eq!(
                        unsafe { high_bytes_span_avx2(&b) },
                        reference(&b),
                        "{len} {i} {j}"
                    );
                    b[i] = b'x';
                    b[j] = b'x';
                }
            }
        }
    }

    #[test]
    fn short_str_agrees_with_std_on_ascii_with_a_high_byte_anywhere() {
        let len = if cfg!(miri) { 40 } else { 200 };
        let text: Vec<u8> = (0..len).map(|i| (i * 37 % 128) as u8).collect();
        for start in 0..8 {
            for end in start..=text.len() {
                let piece = &text[start..end];
                assert_eq!(short_str(piece), std::str::from_utf8(piece).ok());
                for at in 0..piece.len() {
                    for high in [0x80, 0xc3, 0xff] {
                        let mut bad = piece.to_vec();
                        bad[at] = high;
                        assert_eq!(short_str(&bad), None, "{start}..{end}, at {at}");
                    }
                }
            }
        }
    }

    /// Past `LONG_TEXT`, cut anywhere at their end: the last block end
    /// cuts code points of every length at every place.
    #[test]
    fn long_texts_agree_with_std_wherever_a_block_end_cuts_them() {
        let text = "aé€𝄞".repeat(120).into_bytes();
        let step = if cfg!(miri) { 17 } else { 1 };
        for start in 0..4 {
            for end in (LONG_TEXT + start..LONG_TEXT + 80).step_by(step) {
                let mut piece = text[start..end].to_vec();
                assert_eq!(blocks_str(&piece), std::str::from_utf8(&piece).ok());
                for at in [1, 40, 70] {
                    let at = piece.len() - at;
                    let byte = std::mem::replace(&mut piece[at], 0xff);
                    assert_eq!(blocks_str(&piece), None, "{start}..{end}, at {at}");
                    piece[at] = byte;
                }
            }
        }
    }

    #[test]
    fn utf8_checks_agree_with_std_at_every_length_and_alignment() {
        // Under Miri, one alignment and every eleventh length.
        let (starts, step) = if cfg!(miri) { (1, 11) } else { (8, 1) };
        for text in cases() {
            for start in 0..starts.min(text.len() + 1) {
                for end in (start..=text.len()).step_by(step) {
                    let piece = Bytes::copy_from_slice(&text[start..end]);
                    assert_eq!(short_str(&piece), std::str::from_utf8(&piece).ok());
                    assert_eq!(blocks_str(&piece), std::str::from_utf8(&piece).ok());
                    if let Some(span) = ascii_span_str(&piece) {
                        assert_eq!(span, std::str::from_utf8(&piece).ok());
                    }
                    let ours = utf8_string(piece.clone());
                    match std::str::from_utf8(&piece) {
                        Ok(s) => assert_eq!(&ours.expect("valid")[..], s),
                        Err(_) => assert_eq!(ours.expect_err("invalid"), piece),
                    }
                }
            }
        }
    }
}
