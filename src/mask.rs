//! The masking kernel (RFC 6455 section 5.3): XOR of the payload with a
//! repeating 4-byte key.
//!
//! This is the hot path of every client-to-server byte, so it works a machine
//! word at a time (which the compiler turns into vector code) instead of a
//! byte at a time, and on x86-64 CPUs with AVX2 (detected at run time) the
//! same code runs compiled for 256-bit vectors (in the crate's one `unsafe`
//! module, `kernels`). `offset` lets a payload that arrives in pieces be unmasked piece by
//! piece, in place.

use bytes::BufMut;

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
    let key = rotate_key(key, offset);
    #[cfg(target_arch = "x86_64")]
    if data.len() >= AVX2_MIN_LEN && crate::kernels::apply_mask_avx2(data, key) {
        return;
    }
    apply_mask_words(data, key);
}

/// Below this the run-time feature check costs more than wider vectors save.
#[cfg(target_arch = "x86_64")]
const AVX2_MIN_LEN: usize = 128;

/// XORs 64-byte blocks as u64 lanes, which the optimiser turns into vector
/// code, then the tail in 16-, 8- and 4-byte pieces and the last bytes
/// (short payloads are all tail: a 125-byte one takes five steps here, not
/// fifteen). Every piece starts a multiple of 4 bytes into `data`, so the
/// key's phase never changes.
#[inline(always)]
pub(crate) fn apply_mask_words(data: &mut [u8], key: [u8; 4]) {
    let word = key_word(key);
    let mut blocks = data.chunks_exact_mut(64);
    for block in &mut blocks {
        for lane in block.chunks_exact_mut(8) {
            let v = u64::from_ne_bytes(lane.try_into().unwrap()) ^ word;
            lane.copy_from_slice(&v.to_ne_bytes());
        }
    }
    let wide = u128::from(word) | (u128::from(word) << 64);
    let mut pieces = blocks.into_remainder().chunks_exact_mut(16);
    for piece in &mut pieces {
        let v = u128::from_ne_bytes(piece.try_into().unwrap()) ^ wide;
        piece.copy_from_slice(&v.to_ne_bytes());
    }
    let mut rest = pieces.into_remainder();
    if rest.len() >= 8 {
        let (piece, tail) = rest.split_at_mut(8);
        let v = u64::from_ne_bytes(piece.try_into().unwrap()) ^ word;
        piece.copy_from_slice(&v.to_ne_bytes());
        rest = tail;
    }
    if rest.len() >= 4 {
        let (piece, tail) = rest.split_at_mut(4);
        let v = u32::from_ne_bytes(piece.try_into().unwrap()) ^ u32::from_ne_bytes(key);
        piece.copy_from_slice(&v.to_ne_bytes());
        rest = tail;
    }
    for (b, k) in rest.iter_mut().zip(key) {
        *b ^= k;
    }
}

/// The key repeated over a word: the same two 4-byte halves whatever the
/// byte order.
#[inline(always)]
fn key_word(key: [u8; 4]) -> u64 {
    let half = u64::from(u32::from_ne_bytes(key));
    half | (half << 32)
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
    #[cfg(target_arch = "x86_64")]
    if src.len() >= AVX2_MIN_LEN && crate::kernels::mask_copy_avx2(dst, src, key) {
        return;
    }
    mask_copy_words(dst, src, key);
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
    #[cfg(target_arch = "x86_64")]
    if src.len() >= AVX2_MIN_LEN && crate::kernels::extend_masked_avx2(dst, src, key) {
        return;
    }
    extend_masked_blocks(dst, src, key);
}

/// [`mask_copy`] for payloads too short for the AVX2 kernel, small enough
/// to inline into an encoder.
#[inline]
pub(crate) fn mask_copy_short(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "mask_copy needs equal lengths");
    mask_copy_words(dst, src, key);
}

const BLOCK: usize = 128;

#[inline(always)]
pub(crate) fn extend_masked_blocks<B: BufMut>(dst: &mut B, src: &[u8], key: [u8; 4]) {
    let word = key_word(key);
    let mut blocks = src.chunks_exact(BLOCK);
    for block in &mut blocks {
        let mut out = [0u8; BLOCK];
        for (o, i) in out.chunks_exact_mut(8).zip(block.chunks_exact(8)) {
            let v = u64::from_ne_bytes(i.try_into().unwrap()) ^ word;
            o.copy_from_slice(&v.to_ne_bytes());
        }
        dst.put_slice(&out);
    }
    let rest = blocks.remainder();
    let mut out = [0u8; BLOCK];
    mask_copy_words(&mut out[..rest.len()], rest, key);
    dst.put_slice(&out[..rest.len()]);
}

/// Like [`apply_mask_words`], copying: 8-byte lanes, then the tail bytes.
#[inline(always)]
pub(crate) fn mask_copy_words(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let word = key_word(key);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let v = u64::from_ne_bytes(s.try_into().unwrap()) ^ word;
        d.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, (d, s)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *d = s ^ key[i & 3];
    }
}

/// The plain reference the kernels are tested against: one byte at a time.
#[cfg(test)]
pub(crate) fn apply_mask_bytewise(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(i + offset) & 3];
    }
}

/// The key as seen from `offset` bytes into the payload.
#[inline]
pub(crate) fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    (u32::from_le_bytes(key).rotate_right(8 * (offset as u32 & 3))).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
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
