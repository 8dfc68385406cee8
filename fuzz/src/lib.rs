//! Helpers shared by the fuzz targets: a plain-data view of events, output
//! capture, an independent parser for what a connection writes, and a
//! reference model of the receive side (RFC 6455 plus this library's
//! documented limits) to compare the real state machine against.
//!
//! Everything here panics on a violated invariant; libFuzzer reports the
//! panic as a crash and saves the input.

use rfc6455::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use rfc6455::{Config, Connection, Error, Event, Message, ReadyState, Role};

/// An event as plain data, comparable across runs (and with the model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The peer's close: code and reason, or nothing.
    Close(Option<(u16, Vec<u8>)>),
}

impl Ev {
    /// The frame-level events; `None` for handshake events.
    pub fn from_event(event: &Event) -> Option<Ev> {
        Some(match event {
            Event::Message(Message::Text(t)) => Ev::Text(t.as_bytes().to_vec()),
            Event::Message(Message::Binary(b)) => Ev::Binary(b.to_vec()),
            Event::Ping(p) => Ev::Ping(p.to_vec()),
            Event::Pong(p) => Ev::Pong(p.to_vec()),
            Event::Close(f) => Ev::Close(
                f.as_ref()
                    .map(|f| (f.code.as_u16(), f.reason.as_bytes().to_vec())),
            ),
            _ => return None,
        })
    }
}

/// The error codes a protocol violation may carry: 1002, 1007, 1009.
pub const VIOLATION_CODES: [u16; 3] = [1002, 1007, 1009];

/// Drains frame events until `None` or an error. Checks that a protocol
/// error has a violation code and leaves the connection closed and silent,
/// and that no handshake event appears on an open connection.
pub fn drain_frames(conn: &mut Connection, events: &mut Vec<Ev>) -> Option<u16> {
    drain_frames_with(conn, events, false)
}

/// [`drain_frames`], through `next_event_ref` when `borrowed` (each lent
/// event copied out with `into_owned`).
pub fn drain_frames_with(
    conn: &mut Connection,
    events: &mut Vec<Ev>,
    borrowed: bool,
) -> Option<u16> {
    for _ in 0..100_000 {
        let next = if borrowed {
            conn.next_event_ref().map(|e| e.map(|e| e.into_owned()))
        } else {
            conn.next_event()
        };
        match next {
            Ok(Some(event)) => {
                let ev = Ev::from_event(&event)
                    .unwrap_or_else(|| panic!("handshake event on an open connection: {event:?}"));
                if matches!(ev, Ev::Close(_)) {
                    assert_eq!(
                        conn.ready_state(),
                        ReadyState::Closed,
                        "Close event leaves it closed"
                    );
                }
                if let Ev::Ping(p) | Ev::Pong(p) = &ev {
                    assert!(p.len() <= 125, "control payload {} > 125", p.len());
                }
                if let Ev::Text(m) | Ev::Binary(m) = &ev {
                    assert!(
                        m.len() <= conn.config().max_message_size,
                        "message over the limit"
                    );
                }
                events.push(ev);
            }
            Ok(None) => return None,
            Err(e) => return Some(protocol_error_code(conn, &e)),
        }
    }
    panic!("next_event kept returning events");
}

/// Checks an error from `next_event` on an open connection and returns its
/// close code.
pub fn protocol_error_code(conn: &mut Connection, e: &Error) -> u16 {
    let Error::Protocol(p) = e else {
        panic!("non-protocol error from an open connection: {e:?}");
    };
    let code = p.close_code().as_u16();
    assert_eq!(e.close_code().map(|c| c.as_u16()), Some(code));
    assert!(
        VIOLATION_CODES.contains(&code),
        "close code {code} for {p:?}"
    );
    assert_eq!(conn.ready_state(), ReadyState::Closed, "closed after {p:?}");
    assert!(
        matches!(conn.next_event(), Ok(None)),
        "a failed connection reports nothing more"
    );
    code
}

/// Takes everything queued for the transport, checking that `output()`,
/// `output_io_slices()` and `buffered_amount()` agree.
pub fn take_output(conn: &mut Connection) -> Vec<u8> {
    let total = conn.buffered_amount();
    let (vectored, all_fit) = {
        let mut slices = [std::io::IoSlice::new(&[]); 64];
        let n = conn.output_io_slices(&mut slices);
        let bytes: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
        (bytes, n < slices.len())
    };
    let mut out = Vec::with_capacity(total);
    while conn.buffered_amount() > 0 {
        let chunk = conn.output().to_vec();
        assert!(
            !chunk.is_empty(),
            "buffered_amount > 0 but output() is empty"
        );
        conn.consume_output(chunk.len());
        out.extend_from_slice(&chunk);
    }
    assert_eq!(out.len(), total, "buffered_amount");
    if all_fit {
        assert_eq!(vectored, out, "output_io_slices vs output");
    }
    out
}

/// A frame the connection wrote, unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFrame {
    pub opcode: OpCode,
    pub payload: Vec<u8>,
}

/// Parses what a connection of `role` wrote: whole frames only, FIN set, no
/// RSV bits, masked exactly when a client wrote them.
pub fn parse_output(mut bytes: &[u8], role: Role) -> Vec<OutFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let h = FrameHeader::decode(bytes)
            .unwrap_or_else(|e| panic!("connection wrote an invalid frame: {e:?}"))
            .unwrap_or_else(|| panic!("connection wrote a partial header {bytes:02x?}"));
        assert!(h.fin && h.rsv == 0, "written frame {h:?}");
        assert_eq!(
            h.mask.is_some(),
            role == Role::Client,
            "masking of written {h:?}"
        );
        let end = h.header_len + h.payload_len as usize;
        assert!(end <= bytes.len(), "connection wrote a partial frame");
        let mut payload = bytes[h.header_len..end].to_vec();
        if let Some(key) = h.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(OutFrame {
            opcode: h.opcode,
            payload,
        });
        bytes = &bytes[end..];
    }
    frames
}

/// Checks the output frames against what the events and error demand:
/// a pong per ping (with auto-pong), the echo of a received close, or a
/// close with the violation's code last.
pub fn check_output(frames: &[OutFrame], events: &[Ev], error: Option<u16>, auto_pong: bool) {
    let mut expected = Vec::new();
    for ev in events {
        match ev {
            Ev::Ping(p) if auto_pong => expected.push(OutFrame {
                opcode: OpCode::Pong,
                payload: p.clone(),
            }),
            Ev::Close(c) => {
                let payload = c.as_ref().map_or(Vec::new(), |(code, reason)| {
                    let mut v = code.to_be_bytes().to_vec();
                    v.extend_from_slice(reason);
                    v
                });
                expected.push(OutFrame {
                    opcode: OpCode::Close,
                    payload,
                });
            }
            _ => {}
        }
    }
    match error {
        None => assert_eq!(frames, &expected[..], "output frames"),
        Some(code) => {
            let (last, rest) = frames
                .split_last()
                .unwrap_or_else(|| panic!("error {code} but no close frame written"));
            assert_eq!(
                rest,
                &expected[..],
                "output frames before the failure's close"
            );
            assert_eq!(last.opcode, OpCode::Close, "the failure's frame is a close");
            assert!(
                last.payload.len() >= 2,
                "the failure's close carries a code"
            );
            assert_eq!(
                u16::from_be_bytes([last.payload[0], last.payload[1]]),
                code,
                "close code written vs error"
            );
            assert!(last.payload.len() <= 125);
            assert!(
                std::str::from_utf8(&last.payload[2..]).is_ok(),
                "reason is UTF-8"
            );
        }
    }
}

/// Re-encodes a decoded header (RSV bits too) with the library's encoder.
pub fn reencode(h: &FrameHeader) -> ([u8; MAX_HEADER_LEN], usize) {
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = FrameHeader::encode(&mut out, h.fin, h.opcode, h.mask, h.payload_len);
    out[0] |= h.rsv << 4;
    (out, n)
}

// ------------------------------------------------------------------ model

/// What the reference model predicts for a byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<Ev>,
    /// The close code of the violation, if the stream breaks the protocol.
    pub error: Option<u16>,
    /// Whether the connection ends closed: a close was received or the
    /// stream broke the protocol.
    pub closed: bool,
}

/// Whether `bytes` can never become valid UTF-8, whatever follows.
pub fn utf8_dead(bytes: &[u8]) -> bool {
    matches!(std::str::from_utf8(bytes), Err(e) if e.error_len().is_some())
}

/// Whether a close code may appear on the wire.
pub fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A straightforward, whole-buffer reading of RFC 6455 section 5 with the
/// library's rules: checks in the order header decode (opcode, length,
/// control rules), RSV, masking, frame limit, fragmentation order, message
/// limit; invalid UTF-8 fails as soon as a byte makes the text unfixable,
/// even inside a frame that has not fully arrived.
pub fn model(role: Role, config: &Config, data: &[u8]) -> Outcome {
    let mut events = Vec::new();
    // The unfinished fragmented message: (is_text, data).
    let mut frag: Option<(bool, Vec<u8>)> = None;
    let mut pos = 0;
    let fail = |events: Vec<Ev>, code: u16| Outcome {
        events,
        error: Some(code),
        closed: true,
    };
    loop {
        let buf = &data[pos..];
        if buf.len() < 2 {
            break;
        }
        let (b0, b1) = (buf[0], buf[1]);
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 7;
        let opcode = b0 & 0x0f;
        if !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) {
            return fail(events, 1002);
        }
        let control = opcode >= 8;
        let (len, mut hlen) = match b1 & 0x7f {
            126 => {
                if buf.len() < 4 {
                    break;
                }
                (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
            }
            127 => {
                if buf.len() < 10 {
                    break;
                }
                let len = u64::from_be_bytes(buf[2..10].try_into().unwrap());
                if len >> 63 != 0 {
                    return fail(events, 1002);
                }
                (len, 10)
            }
            n => (n as u64, 2),
        };
        if control && (!fin || len > 125) {
            return fail(events, 1002);
        }
        let masked = b1 & 0x80 != 0;
        let mut key = [0u8; 4];
        if masked {
            if buf.len() < hlen + 4 {
                break;
            }
            key.copy_from_slice(&buf[hlen..hlen + 4]);
            hlen += 4;
        }
        if rsv != 0 {
            return fail(events, 1002);
        }
        if masked != (role == Role::Server) {
            return fail(events, 1002);
        }
        // The limits as the platform can honour them; control frames are
        // bounded by 125 bytes alone.
        let addressable = |limit: usize| limit.min(isize::MAX as usize - 14) as u64;
        if !control && len > addressable(config.max_frame_size) {
            return fail(events, 1009);
        }
        match (opcode, &frag) {
            (0, None) | (1 | 2, Some(_)) => return fail(events, 1002),
            _ => {}
        }
        if !control {
            let so_far = frag.as_ref().map_or(0, |f| f.1.len() as u64);
            if so_far + len > addressable(config.max_message_size) {
                return fail(events, 1009);
            }
        }
        let len = len as usize;
        let available = (buf.len() - hlen).min(len);
        let mut payload = buf[hlen..hlen + available].to_vec();
        if masked {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        let text = opcode == 1 || (opcode == 0 && frag.as_ref().is_some_and(|f| f.0));
        // The text of the message so far, with this frame's bytes.
        let mut so_far = match (opcode, &frag) {
            (0, Some((_, d))) => d.clone(),
            _ => Vec::new(),
        };
        so_far.extend_from_slice(&payload);
        if available < len {
            if text && utf8_dead(&so_far) {
                return fail(events, 1007);
            }
            break;
        }
        pos += hlen + len;
        match opcode {
            0..=2 => {
                if text
                    && (if fin {
                        std::str::from_utf8(&so_far).is_err()
                    } else {
                        utf8_dead(&so_far)
                    })
                {
                    return fail(events, 1007);
                }
                if !fin {
                    frag = Some((text, so_far));
                    continue;
                }
                frag = None;
                events.push(if text {
                    Ev::Text(so_far)
                } else {
                    Ev::Binary(so_far)
                });
            }
            9 => events.push(Ev::Ping(payload)),
            10 => events.push(Ev::Pong(payload)),
            _ => {
                let close = match payload.len() {
                    0 => None,
                    1 => return fail(events, 1002),
                    _ => {
                        let code = u16::from_be_bytes([payload[0], payload[1]]);
                        if !close_code_valid(code) {
                            return fail(events, 1002);
                        }
                        if std::str::from_utf8(&payload[2..]).is_err() {
                            return fail(events, 1007);
                        }
                        Some((code, payload[2..].to_vec()))
                    }
                };
                events.push(Ev::Close(close));
                return Outcome {
                    events,
                    error: None,
                    closed: true,
                };
            }
        }
    }
    Outcome {
        events,
        error: None,
        closed: false,
    }
}

/// A config with small limits so the fuzzer reaches them with short inputs.
pub fn tiny_config(auto_pong: bool) -> Config {
    Config {
        max_frame_size: 100,
        max_message_size: 250,
        max_handshake_size: 4096,
        auto_pong,
        max_buffered_amount: 1 << 20,
        deflate: None,
    }
}

/// No limit worth the name: what a connection holds must then be bounded
/// by what arrived, not by what a header declares.
pub fn unlimited_config(auto_pong: bool) -> Config {
    Config {
        max_frame_size: usize::MAX,
        max_message_size: usize::MAX,
        max_handshake_size: 4096,
        auto_pong,
        max_buffered_amount: 1 << 20,
        deflate: None,
    }
}

/// The limits the task asks the memory bound to be checked with.
pub fn small_config(auto_pong: bool) -> Config {
    Config {
        max_frame_size: 64 << 10,
        max_message_size: 128 << 10,
        max_handshake_size: 4096,
        auto_pong,
        max_buffered_amount: 1 << 20,
        deflate: None,
    }
}

/// The reference for where a handshake head ends: `(end, bare)`, where
/// `end` is the index just past the first CRLFCRLF and `bare` is how many
/// bytes show a bare LF or bare CR before it (a CR needs the byte after
/// it). At most one is `Some`: whichever comes first. Lines end in CRLF
/// only; anything else is refused as soon as it is seen.
pub fn head_verdict(data: &[u8]) -> (Option<usize>, Option<usize>) {
    for (i, &b) in data.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| data[p]);
        if b == b'\n' {
            if prev != Some(b'\r') {
                return (None, Some(i + 1));
            }
            if i >= 3 && &data[i - 3..i] == b"\r\n\r" {
                return (Some(i + 1), None);
            }
        } else if prev == Some(b'\r') {
            return (None, Some(i + 1));
        }
    }
    (None, None)
}
