//! The masking loops (RFC 6455 section 5.3: XOR with a repeating 4-byte
//! key): in place, copying, and appending. They work a machine word at a
//! time, which the optimiser turns into vector code; on x86-64 CPUs with
//! AVX2 (detected at run time) the same loops run compiled for 256-bit
//! vectors (the `decode_masked_binary/*/1048576B` and
//! `encode_client_masked/*/1048576B` rows, and `apply_mask_in_place`,
//! measure them). The key's phase never changes inside a loop: callers
//! rotate the key for a payload that starts part-way.

use bytes::BufMut;

#[cfg(target_arch = "x86_64")]
use super::has_avx2;

/// Below this the run-time feature check costs more than wider vectors save.
#[cfg(target_arch = "x86_64")]
const AVX2_MIN_LEN: usize = 128;

/// XORs `data` with `key` in place.
#[inline]
pub(crate) fn apply(data: &mut [u8], key: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= AVX2_MIN_LEN && apply_mask_avx2(data, key) {
        return;
    }
    apply_mask_words(data, key);
}

/// Writes `src` masked with `key` into `dst`, which is as long.
#[inline]
pub(crate) fn copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if src.len() >= AVX2_MIN_LEN && mask_copy_avx2(dst, src, key) {
        return;
    }
    mask_copy_words(dst, src, key);
}

/// Appends `src` masked with `key` to `dst`.
#[inline]
pub(crate) fn extend<B: BufMut>(dst: &mut B, src: &[u8], key: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if src.len() >= AVX2_MIN_LEN && extend_masked_avx2(dst, src, key) {
        return;
    }
    extend_masked_blocks(dst, src, key);
}

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

/// [`apply_mask_words`] with 256-bit vectors, or `false` (and nothing
/// done) when the CPU lacks AVX2.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn apply_mask_avx2(data: &mut [u8], key: [u8; 4]) -> bool {
    if !has_avx2() {
        return false;
    }
    // SAFETY: the function is safe code compiled with AVX2 enabled; its
    // only requirement is a CPU with AVX2, checked just above.
    unsafe { apply_mask_words_avx2(data, key) };
    true
}

/// [`mask_copy_words`] with 256-bit vectors, or `false` (and nothing
/// done) when the CPU lacks AVX2.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn mask_copy_avx2(dst: &mut [u8], src: &[u8], key: [u8; 4]) -> bool {
    if !has_avx2() {
        return false;
    }
    // SAFETY: as above: safe code, compiled for AVX2, which is present.
    unsafe { mask_copy_words_avx2(dst, src, key) };
    true
}

/// [`extend_masked_blocks`] with 256-bit vectors, or `false` (and nothing
/// done) when the CPU lacks AVX2.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn extend_masked_avx2<B: BufMut>(dst: &mut B, src: &[u8], key: [u8; 4]) -> bool {
    if !has_avx2() {
        return false;
    }
    // SAFETY: as above: safe code, compiled for AVX2, which is present.
    unsafe { extend_masked_blocks_avx2(dst, src, key) };
    true
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn extend_masked_blocks_avx2<B: BufMut>(dst: &mut B, src: &[u8], key: [u8; 4]) {
    extend_masked_blocks(dst, src, key);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_mask_words_avx2(data: &mut [u8], key: [u8; 4]) {
    apply_mask_words(data, key);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn mask_copy_words_avx2(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    mask_copy_words(dst, src, key);
}

/// The plain reference the kernels are tested against: one byte at a time.
#[cfg(test)]
pub(crate) fn apply_mask_bytewise(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(i + offset) & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_mask_kernels_match_reference_at_every_length_and_alignment() {
        if !has_avx2() {
            return;
        }
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        let source = &source[..if cfg!(miri) { 140 } else { 700 }];
        for start in 0..8 {
            for len in 0..(source.len() - start) {
                let mut slow = source.to_vec();
                apply_mask_bytewise(&mut slow[start..start + len], key, 0);
                let mut wide = source.to_vec();
                assert!(apply_mask_avx2(&mut wide[start..start + len], key));
                assert_eq!(wide, slow, "in place: start {start} len {len}");

                let mut appended = b"x".to_vec();
                assert!(extend_masked_avx2(
                    &mut appended,
                    &source[start..start + len],
                    key
                ));
                assert_eq!(
                    &appended[1..],
                    &slow[start..start + len],
                    "append: len {len}"
                );

                for dst_start in [0, 1, 7] {
                    let mut out = vec![0u8; dst_start + len];
                    let src = &source[start..start + len];
                    assert!(mask_copy_avx2(&mut out[dst_start..], src, key));
                    assert_eq!(
                        &out[dst_start..],
                        &slow[start..start + len],
                        "copy: src+{start} dst+{dst_start} len {len}"
                    );
                }
            }
        }
    }
}
