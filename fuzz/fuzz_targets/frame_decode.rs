//! Frame headers and the receive path of an open connection, from
//! arbitrary bytes.
//!
//! - `FrameHeader::decode` never panics; a decoded header re-encodes (with
//!   `FrameHeader::encode`) to bytes that decode to the same header, and to
//!   the very input bytes when the input used the shortest length form;
//!   every shorter prefix needs more bytes; errors are 1002 violations.
//! - The bytes fed to `Connection::open` in both roles: no panic, errors
//!   carry 1002/1007/1009 only, and the queued output is well-formed
//!   frames: a pong per ping, the echo of a close, and after an error a
//!   close frame with that code, last. Events and error match the
//!   reference model in `rfc6455_fuzz::model`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::frame::FrameHeader;
use rfc6455::{Config, Connection, ReadyState, Role};
use rfc6455_fuzz::{
    check_output, drain_frames, model, parse_output, reencode, take_output, tiny_config,
};

fn check_header(data: &[u8]) {
    match FrameHeader::decode(data) {
        Err(e) => {
            assert_eq!(e.close_code().as_u16(), 1002, "decode error {e:?}");
            // The error is a property of the bytes read so far: more bytes
            // after them do not change it.
            let mut longer = data.to_vec();
            longer.extend_from_slice(&[0xff; 14]);
            assert_eq!(FrameHeader::decode(&longer), Err(e));
        }
        Ok(None) => assert!(data.len() < 14, "Ok(None) with {} bytes", data.len()),
        Ok(Some(h)) => {
            assert!(matches!(h.header_len, 2 | 4 | 6 | 8 | 10 | 14), "{h:?}");
            assert!(h.header_len <= data.len());
            assert!(h.rsv <= 7);
            assert!(h.payload_len >> 63 == 0);
            if h.opcode.is_control() {
                assert!(h.fin && h.payload_len <= 125, "{h:?}");
            }
            // The header alone decodes the same; any shorter prefix needs more.
            assert_eq!(FrameHeader::decode(&data[..h.header_len]), Ok(Some(h)));
            for k in 0..h.header_len {
                assert_eq!(
                    FrameHeader::decode(&data[..k]),
                    Ok(None),
                    "prefix {k} of {h:?}"
                );
            }
            let (out, n) = reencode(&h);
            let again = FrameHeader::decode(&out[..n])
                .expect("re-encoded header decodes")
                .expect("re-encoded header is whole");
            assert_eq!(again, FrameHeader { header_len: n, ..h }, "round trip");
            assert!(n <= h.header_len, "encode is at most as long as any form");
            let minimal = match data[1] & 0x7f {
                126 => h.payload_len >= 126,
                127 => h.payload_len > u16::MAX as u64,
                _ => true,
            };
            if minimal {
                assert_eq!(
                    &out[..n],
                    &data[..h.header_len],
                    "minimal form re-encodes to the input"
                );
            } else {
                assert!(n < h.header_len);
            }
        }
    }
}

fn check_connection(role: Role, config: Config, data: &[u8]) {
    let auto_pong = config.auto_pong;
    let expect = model(role, &config, data);
    let mut conn = Connection::open(role, config);
    conn.receive(data);
    let mut events = Vec::new();
    let error = drain_frames(&mut conn, &mut events);
    let out = take_output(&mut conn);
    let frames = parse_output(&out, role);
    check_output(&frames, &events, error, auto_pong);
    assert_eq!(events, expect.events, "events vs model ({role:?})");
    assert_eq!(error, expect.error, "error vs model ({role:?})");
    let closed = conn.ready_state() == ReadyState::Closed;
    assert_eq!(
        closed,
        expect.closed,
        "ready state {:?} vs model",
        conn.ready_state()
    );
    // The transport ending now is abnormal unless the close handshake or a
    // failure already ended the connection.
    conn.receive_eof();
    match conn.next_event() {
        Ok(None) if closed => {}
        Err(rfc6455::Error::AbnormalClosure) if !closed => {
            assert_eq!(conn.ready_state(), ReadyState::Closed)
        }
        other => panic!("after EOF (closed: {closed}): {other:?}"),
    }
    assert!(conn.should_close_transport());
}

fuzz_target!(|data: &[u8]| {
    check_header(data);
    for role in [Role::Server, Role::Client] {
        check_connection(role, tiny_config(true), data);
        check_connection(role, Config::default(), data);
    }
    // Without auto-pong nothing but closes is written.
    check_connection(Role::Server, tiny_config(false), data);
});
