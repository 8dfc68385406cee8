//! The same bytes fed to an open connection whole and in arbitrary pieces
//! must give the same events, the same error (by close code) and the same
//! frames written, and both must agree with the reference model. While fed
//! in pieces, the memory the connection holds stays bounded by the limits.
//!
//! Input layout: `flags, n, size[0..n], data...`
//! - flags bit 0: client role (else server); bit 1: the 64 KiB / 128 KiB
//!   config (else a tiny one: 100 B frames, 250 B messages); bit 2:
//!   auto-pong off; bit 3: feed through `read_buf`/`commit` instead of
//!   `receive`; bit 4: read the pieces' events with `next_event_ref`
//!   instead of `next_event`; bit 5: feed through `receive_with` (when bit
//!   3 is clear); bit 6: no useful limits at all (`usize::MAX`), so only
//!   the bound by what arrived holds memory in.
//! - `n % 8 + 1` piece sizes, used in turn: a byte below 0xf0 is 1 to 48
//!   bytes, 0xf0..=0xff is 1 to 16 KiB.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::{Connection, ReadyState, Role};
use rfc6455_fuzz::{
    check_output, drain_frames, drain_frames_with, model, parse_output, small_config, take_output,
    tiny_config, unlimited_config, Ev,
};

fn piece_size(b: u8) -> usize {
    if b < 0xf0 {
        b as usize % 48 + 1
    } else {
        ((b & 0x0f) as usize + 1) * 1024
    }
}

fuzz_target!(|input: &[u8]| {
    let [flags, n, rest @ ..] = input else { return };
    let n = (*n as usize % 8 + 1).min(rest.len());
    let (sizes, data) = rest.split_at(n);
    if sizes.is_empty() {
        return;
    }
    let role = if flags & 1 != 0 {
        Role::Client
    } else {
        Role::Server
    };
    let auto_pong = flags & 4 == 0;
    let config = if flags & 64 != 0 {
        unlimited_config(auto_pong)
    } else if flags & 2 != 0 {
        small_config(auto_pong)
    } else {
        tiny_config(auto_pong)
    };
    let zero_copy = flags & 8 != 0;
    let appending = flags & 32 != 0;
    let borrowed = flags & 16 != 0;
    let max_piece = sizes.iter().map(|&b| piece_size(b)).max().unwrap();
    // What the connection may hold: a partial frame and the piece after
    // it, twice over for the buffer's growth, the largest message, and
    // slack for the minimum read size and an idle output buffer.
    let bound = (config.max_frame_size.saturating_add(14 + max_piece))
        .saturating_mul(2)
        .saturating_add(config.max_message_size)
        .saturating_add(80 << 10);
    // Whatever the limits, a header cannot make the connection reserve
    // what has not arrived: it holds at most twice what arrived (buffers
    // double as they grow) plus one step of reading ahead (`read_buf`'s
    // largest offer, `receive_with`'s reserve step) and an idle output
    // buffer.
    let by_arrival = |arrived: usize| 2 * arrived + (256 << 10) + (80 << 10);

    let expect = model(role, &config, data);

    // Whole.
    let mut whole = Connection::open(role, config.clone());
    whole.receive(data);
    let mut events_whole: Vec<Ev> = Vec::new();
    let error_whole = drain_frames(&mut whole, &mut events_whole);
    let out_whole = take_output(&mut whole);
    assert!(
        whole.buffer_capacity() <= bound.saturating_add(2 * data.len())
            && whole.buffer_capacity() <= by_arrival(data.len()),
        "whole: capacity {} for {} bytes",
        whole.buffer_capacity(),
        data.len()
    );

    // In pieces.
    let mut split = Connection::open(role, config.clone());
    let mut events_split: Vec<Ev> = Vec::new();
    let mut error_split = None;
    let mut out_split = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() {
        let end = (pos + piece_size(sizes[i % sizes.len()])).min(data.len());
        i += 1;
        let piece = &data[pos..end];
        pos = end;
        if zero_copy {
            let mut piece = piece;
            while !piece.is_empty() {
                let buf = split.read_buf();
                assert!(buf.len() >= 4096, "read_buf offers {} bytes", buf.len());
                let k = buf.len().min(piece.len());
                buf[..k].copy_from_slice(&piece[..k]);
                split.commit(k);
                piece = &piece[k..];
            }
        } else if appending {
            split.receive_with(|tail| tail.extend_from_slice(piece));
        } else {
            split.receive(piece);
        }
        if error_split.is_none() {
            error_split = drain_frames_with(&mut split, &mut events_split, borrowed);
        } else {
            assert!(matches!(split.next_event(), Ok(None)));
        }
        out_split.extend(take_output(&mut split));
        assert!(
            split.buffer_capacity() <= bound,
            "pieces: capacity {} > bound {bound} after {pos} of {} bytes",
            split.buffer_capacity(),
            data.len()
        );
        assert!(
            split.buffer_capacity() <= by_arrival(pos),
            "pieces: capacity {} for {pos} bytes arrived",
            split.buffer_capacity(),
        );
    }

    assert_eq!(
        events_split, events_whole,
        "events: pieces vs whole ({role:?})"
    );
    assert_eq!(
        error_split, error_whole,
        "error: pieces vs whole ({role:?})"
    );
    assert_eq!(split.ready_state(), whole.ready_state());
    // Client frames are masked with fresh random keys: compare unmasked.
    let frames_whole = parse_output(&out_whole, role);
    let frames_split = parse_output(&out_split, role);
    assert_eq!(
        frames_split, frames_whole,
        "frames written: pieces vs whole"
    );
    check_output(&frames_whole, &events_whole, error_whole, auto_pong);

    assert_eq!(events_whole, expect.events, "events vs model ({role:?})");
    assert_eq!(error_whole, expect.error, "error vs model ({role:?})");
    assert_eq!(
        whole.ready_state() == ReadyState::Closed,
        expect.closed,
        "closed vs model"
    );
});
