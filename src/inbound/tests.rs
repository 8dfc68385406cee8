//! Tests of the read path's two parts: the buffer, and unmasking on arrival.

use super::buffer::ReadBuffer;
use super::unmask::Unmasker;
use crate::frame::FrameHeader;
use crate::mask::apply_mask;

#[test]
fn read_buffer_reuses_scratch_and_splits() {
    let mut r = ReadBuffer::default();
    let spare = r.spare(10);
    assert!(spare.len() >= 10);
    spare[..5].copy_from_slice(b"hello");
    r.commit(5);
    r.extend(b" world");
    assert_eq!(r.data(), b"hello world");
    assert_eq!(&r.split_to(6)[..], b"hello ");
    assert_eq!(r.data(), b"world");
    assert_eq!(&r.split_to(5)[..], b"world");
    assert_eq!(r.len(), 0);
}

fn masked_frame(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut header = [0u8; crate::frame::MAX_HEADER_LEN];
    let n = FrameHeader::encode(
        &mut header,
        true,
        crate::frame::OpCode::Binary,
        Some(key),
        payload.len() as u64,
    );
    let mut frame = header[..n].to_vec();
    let mut masked = payload.to_vec();
    apply_mask(&mut masked, key, 0);
    frame.extend(masked);
    frame
}

/// A short frame that arrived whole stays masked, and so does all
/// behind it, until the decoder takes it (`take_front`) or asks for it
/// unmasked (`unmask_front`); a frame arriving in pieces is unmasked as
/// it comes.
#[test]
fn short_whole_frames_are_left_to_the_decoder() {
    let key = [1, 2, 3, 4];
    let short = masked_frame(b"short", key);
    let large = masked_frame(&[7u8; 5000], key);
    let mut input = ReadBuffer::default();
    let mut unmasker = Unmasker::default();
    let wire: Vec<u8> = [&short[..], &short, &large].concat();
    unmasker.receive(&mut input, &wire);
    assert_eq!(input.data(), &wire[..], "nothing unmasked yet");

    // The decoder unmasks the first itself.
    assert!(unmasker.take_front(&input, short.len()));
    input.lend(short.len());
    // The general path asks for the second unmasked; the scan then
    // stops at nothing short, so it goes on through the large frame.
    unmasker.unmask_front(&mut input);
    assert_eq!(&input.data()[6..11], b"short");
    assert!(
        !unmasker.take_front(&input, short.len()),
        "already unmasked"
    );
    input.lend(short.len());
    assert!(input.data()[8..].iter().all(|&b| b == 7));

    // A large frame at a frame boundary: its header is taken in alone,
    // then the whole payload unmasked as it is copied.
    let mut input = ReadBuffer::default();
    let mut unmasker = Unmasker::default();
    unmasker.receive(&mut input, &[&large[..], &short].concat());
    assert_eq!(&input.data()[..8], &large[..8]);
    assert!(input.data()[8..large.len()].iter().all(|&b| b == 7));
    assert_eq!(
        &input.data()[large.len()..],
        &short[..],
        "left to the decoder"
    );

    // A short frame in two pieces is unmasked as it arrives.
    let mut input = ReadBuffer::default();
    let mut unmasker = Unmasker::default();
    unmasker.receive(&mut input, &short[..8]);
    unmasker.receive(&mut input, &short[8..]);
    assert_eq!(&input.data()[6..], b"short");
    assert!(!unmasker.take_front(&input, short.len()));
}
