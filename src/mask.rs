//! Masking (RFC 6455 section 5.3): XOR of the payload with a repeating
//! 4-byte key, the safe front end of the loops in `kernels/mask.rs` (word
//! at a time, or AVX2 when the CPU has it). `offset` lets a payload that
//! arrives in pieces be unmasked piece by piece, in place.

use bytes::BufMut;

use crate::kernels::mask as kernels;
pub(crate) use crate::kernels::mask::{apply_mask_words, mask_copy_words};

/// XORs `data` with `key`, as if `data` started `offset` bytes into the payload.
///
/// Masking and unmasking are the same operation.
///
/// ```
/// let key = [1, 2, 3, 4];
/// let mut data = *b"Hello";
/// rfc6455::mask::apply_mask(&mut data, key, 0);
/// assert_ne!(&data, b"Hello");
/// // Unmask in two pieces: the second starts 2 bytes in.
/// let (a, b) = data.split_at_mut(2);
/// rfc6455::mask::apply_mask(a, key, 0);
/// rfc6455::mask::apply_mask(b, key, 2);
/// assert_eq!(&data, b"Hello");
/// ```
#[inline]
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    kernels::apply(data, rotate_key(key, offset));
}

/// Writes `src` masked with `key` into `dst` (which must be as long) in one
/// pass: what a client does to send a payload.
///
/// It never calls `memcpy`: on some CPUs (AMD Zen) glibc's `rep movsb`
/// copies run ten times slower when the destination sits just past the
/// source modulo 4 KiB, which a frame header's odd length makes likely.
///
/// ```
/// let mut out = [0u8; 5];
/// rfc6455::mask::mask_copy(&mut out, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
/// assert_eq!(out, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 section 5.7
/// ```
///
/// # Panics
/// If `dst` and `src` differ in length.
#[inline]
pub fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "mask_copy needs equal lengths");
    kernels::copy(dst, src, key);
}

/// Appends `src` masked with `key` to `dst` (which should have room
/// reserved), in one pass.
///
/// Safe code cannot mask into memory it has not written yet, and zeroing it
/// first would cost a pass over memory; instead each 128-byte block is
/// masked in registers and appended as a fixed-size copy, which runs at
/// about `memcpy` speed here (the block is a multiple of 4, so the key's
/// phase is the same at each).
#[inline]
pub(crate) fn extend_masked<B: BufMut>(dst: &mut B, src: &[u8], key: [u8; 4]) {
    kernels::extend(dst, src, key);
}

/// [`mask_copy`] for payloads too short for the AVX2 kernel, small enough
/// to inline into an encoder.
#[inline]
pub(crate) fn mask_copy_short(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "mask_copy needs equal lengths");
    mask_copy_words(dst, src, key);
}

/// The key as seen from `offset` bytes into the payload.
#[inline]
pub(crate) fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    (u32::from_le_bytes(key).rotate_right(8 * (offset as u32 & 3))).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::mask::{apply_mask_bytewise, extend_masked_blocks};
    use bytes::BytesMut;

    #[test]
    fn each_kernel_matches_reference_at_every_length_and_alignment() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..(source.len() - start) {
                // Masking a slice of a larger buffer keeps `start` as the
                // misalignment (a copy would be freshly aligned).
                let mut slow = source.clone();
                apply_mask_bytewise(&mut slow[start..start + len], key, 0);
                let mut words = source.clone();
                apply_mask_words(&mut words[start..start + len], key);
                assert_eq!(words, slow, "portable: start {start} len {len}");
            }
        }
    }

    #[test]
    fn matches_reference_at_every_length_alignment_and_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..(source.len() - start) {
                for offset in 0..4 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    apply_mask(&mut fast[start..start + len], key, offset);
                    apply_mask_bytewise(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn mask_copy_matches_reference_at_every_length_and_alignment() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 13 + 5) as u8).collect();
        for src_start in 0..8 {
            for dst_start in [0, 1, 3, 7, 14] {
                for len in 0..(source.len() - src_start) {
                    let src = &source[src_start..src_start + len];
                    let mut expected = src.to_vec();
                    apply_mask_bytewise(&mut expected, key, 0);
                    let mut out = vec![0u8; dst_start + len];
                    mask_copy(&mut out[dst_start..], src, key);
                    assert_eq!(
                        &out[dst_start..],
                        &expected[..],
                        "src+{src_start} dst+{dst_start} len {len}"
                    );
                    let mut portable = vec![0u8; dst_start + len];
                    mask_copy_words(&mut portable[dst_start..], src, key);
                    assert_eq!(&portable[dst_start..], &expected[..]);
                }
            }
        }
    }

    #[test]
    fn extend_masked_matches_reference_at_every_length_and_alignment() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 11 + 1) as u8).collect();
        for src_start in 0..8 {
            for dst_len in [0, 1, 3, 6] {
                for len in 0..(source.len() - src_start) {
                    let src = &source[src_start..src_start + len];
                    let mut expected = src.to_vec();
                    apply_mask_bytewise(&mut expected, key, 0);
                    let mut out = BytesMut::from(&b"prefix"[..dst_len]);
                    extend_masked(&mut out, src, key);
                    assert_eq!(&out[..dst_len], &b"prefix"[..dst_len]);
                    assert_eq!(&out[dst_len..], &expected[..], "src+{src_start} len {len}");
                    let mut portable = Vec::new();
                    extend_masked_blocks(&mut portable, src, key);
                    assert_eq!(&portable[..], &expected[..]);
                }
            }
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 section 5.7: "Hello" masked with 37 fa 21 3d.
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
