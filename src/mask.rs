//! The masking kernel (RFC 6455 section 5.3): XOR of the payload with a
//! repeating 4-byte key.
//!
//! This is the hot path of every client-to-server byte, so it works a machine
//! word at a time (which the compiler turns into vector code) instead of a
//! byte at a time. `offset` lets a payload that arrives in pieces be unmasked
//! piece by piece, in place.

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
    if data.len() < 16 {
        apply_mask_bytewise(data, key, 0);
        return;
    }
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    // 32-byte blocks give the optimiser a loop body it vectorises; the rest
    // goes a word, then a byte, at a time. Every block starts at a multiple
    // of 4 bytes into the payload, so the key phase never changes.
    let mut blocks = data.chunks_exact_mut(32);
    for block in &mut blocks {
        for lane in block.chunks_exact_mut(8) {
            let v = u64::from_ne_bytes(lane.try_into().unwrap()) ^ word;
            lane.copy_from_slice(&v.to_ne_bytes());
        }
    }
    let rest = blocks.into_remainder();
    let mut words = rest.chunks_exact_mut(8);
    for lane in &mut words {
        let v = u64::from_ne_bytes(lane.try_into().unwrap()) ^ word;
        lane.copy_from_slice(&v.to_ne_bytes());
    }
    apply_mask_bytewise(words.into_remainder(), key, 0);
}

/// The plain reference: one byte at a time.
#[inline]
pub(crate) fn apply_mask_bytewise(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(i + offset) & 3];
    }
}

#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut k = key;
    k.rotate_left(offset & 3);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_at_every_length_alignment_and_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..(source.len() - start) {
                for offset in 0..4 {
                    let mut fast = source[start..start + len].to_vec();
                    let mut slow = fast.clone();
                    apply_mask(&mut fast, key, offset);
                    apply_mask_bytewise(&mut slow, key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
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
