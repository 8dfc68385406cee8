//! A client connection for `ws://example.com/chat` (offering subprotocol
//! "chat") fed arbitrary bytes as the server's response, in pieces.
//!
//! The key is random, so the fuzzer cannot write the right
//! `Sec-WebSocket-Accept` itself: the harness replaces the placeholder
//! `$ACCEPT` in the input with the accept value for this run's key (and
//! `$KEY` with the key), so valid responses are reachable and the frames
//! after them get fuzzed too.
//!
//! - No panic; before the connection opens every error is an
//!   `Error::Handshake`, the connection closes and writes nothing.
//! - `Event::Open` only for a head whose status is 101 and which carries the
//!   right accept value (so never for an input without `$ACCEPT`), with a
//!   protocol that was offered.
//! - `Rejected { status }` carries the status line's code, never 101.
//! - A bare CR or LF before the head's CRLFCRLF is refused as soon as it
//!   is seen.
//! - Bytes after the head are frames for a client: events and error match
//!   the model; what the client writes is masked.
//!
//! Input layout: `piece_size, bytes...` (piece size 1 to 256).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::handshake::accept_key;
use rfc6455::HandshakeError;
use rfc6455::{ClientRequest, Config, Connection, Error, Event, ReadyState, Role};
use rfc6455_fuzz::{
    check_output, drain_frames, head_verdict, model, parse_output, take_output, tiny_config, Ev,
};

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// The head without the empty lines an HTTP parser may skip before it.
fn trim_start(head: &[u8]) -> &[u8] {
    let skip = head
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    &head[skip..]
}

/// The status code token of the first line, if it has one.
fn status_token(head: &[u8]) -> Option<&[u8]> {
    let line = trim_start(head)
        .split(|&b| b == b'\r' || b == b'\n')
        .next()?;
    line.split(|&b| b == b' ').filter(|t| !t.is_empty()).nth(1)
}

fuzz_target!(|input: &[u8]| {
    let [size, template @ ..] = input else { return };
    let piece = *size as usize + 1;
    let config = Config {
        max_handshake_size: 4096,
        ..tiny_config(true)
    };
    let request = ClientRequest::new("ws://example.com/chat")
        .unwrap()
        .protocol("chat");
    let mut conn = Connection::client(request, config.clone()).unwrap();
    let sent = String::from_utf8(take_output(&mut conn)).unwrap();
    assert!(sent.starts_with("GET /chat HTTP/1.1\r\n") && sent.ends_with("\r\n\r\n"));
    let key = sent
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("request has a key")
        .to_owned();
    let accept = accept_key(key.as_bytes());
    let has_placeholder = template.windows(7).any(|w| w == b"$ACCEPT");
    let data = replace(template, b"$ACCEPT", accept.as_bytes());
    let data = replace(&data, b"$KEY", key.as_bytes());
    // Where the head ends, or where a bare CR or LF refuses it first.
    let (end, bare) = head_verdict(&data);

    let mut fed = 0;
    let mut opened_at = None;
    let mut events: Vec<Ev> = Vec::new();
    let mut frame_error = None;
    let mut out = Vec::new();
    let mut done = false;
    while fed < data.len() && !done {
        let next = (fed + piece).min(data.len());
        conn.receive(&data[fed..next]);
        fed = next;
        if opened_at.is_some() {
            frame_error = drain_frames(&mut conn, &mut events);
            out.extend(take_output(&mut conn));
            done = conn.ready_state() == ReadyState::Closed;
            continue;
        }
        match conn.next_event() {
            Ok(None) => {
                assert_eq!(conn.ready_state(), ReadyState::Connecting);
                // A refusal's head may have ended: its body (at most
                // 64 KiB) is still being read.
                let refusal_body =
                    end.is_some_and(|e| e <= fed) && !data.starts_with(b"HTTP/1.1 101");
                assert!(refusal_body || (fed <= 4096 && end.is_none_or(|e| e > fed)));
                assert!(bare.is_none_or(|b| b > fed), "bare CR or LF at {bare:?}");
                assert!(conn.buffer_capacity() <= 2 * (4096 + 65536 + piece) + 8192);
            }
            Ok(Some(Event::Open(resp))) => {
                assert!(has_placeholder, "opened without the accept value");
                let e = end.expect("opened without a head end");
                assert!(e <= fed && e <= 4096);
                let head = &data[..e];
                assert!(
                    trim_start(head).starts_with(b"HTTP/1."),
                    "{:?}",
                    String::from_utf8_lossy(head)
                );
                assert_eq!(status_token(head), Some(&b"101"[..]), "opened without 101");
                // Exactly one accept header, and it is the right one.
                let accepts: Vec<&[u8]> = resp
                    .headers()
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Accept"))
                    .map(|(_, v)| v)
                    .collect();
                assert_eq!(
                    accepts.len(),
                    1,
                    "opened with {} accept headers",
                    accepts.len()
                );
                assert_eq!(
                    std::str::from_utf8(accepts[0]).map(str::trim),
                    Ok(accept.as_str())
                );
                assert!(
                    head.windows(accept.len()).any(|w| w == accept.as_bytes()),
                    "opened without the accept value in the head"
                );
                assert!(matches!(resp.protocol(), None | Some("chat")));
                assert_eq!(conn.protocol(), resp.protocol());
                assert_eq!(conn.ready_state(), ReadyState::Open);
                assert!(conn.output().is_empty());
                opened_at = Some(e);
                frame_error = drain_frames(&mut conn, &mut events);
                out.extend(take_output(&mut conn));
                done = conn.ready_state() == ReadyState::Closed;
            }
            Ok(Some(other)) => panic!("client got {other:?}"),
            Err(Error::Handshake { error: e, .. }) => {
                assert_eq!(conn.ready_state(), ReadyState::Closed);
                assert!(
                    conn.output().is_empty(),
                    "a client answers nothing to a bad response"
                );
                assert!(matches!(conn.next_event(), Ok(None)));
                match e {
                    HandshakeError::HeadTooLarge { .. } => {
                        assert!(end.is_none_or(|e| e > 4096));
                        assert!(bare.is_none_or(|b| b > 4096));
                    }
                    HandshakeError::Rejected { status, .. } => {
                        assert_ne!(status, 101);
                        let head = &data[..end.unwrap()];
                        let token = status_token(head).expect("a status line");
                        let parsed = std::str::from_utf8(token)
                            .ok()
                            .and_then(|t| t.parse::<u16>().ok());
                        assert_eq!(parsed, Some(status), "status {token:?}");
                    }
                    HandshakeError::MalformedHttp(_) if bare.is_some() => {
                        assert!(bare.is_some_and(|b| b <= 4096), "{e:?}");
                    }
                    _ => assert!(end.is_some_and(|e| e <= 4096), "{e:?}"),
                }
                done = true;
            }
            Err(e) => panic!("client handshake: {e:?}"),
        }
    }
    if let Some(head) = opened_at {
        let expect = model(Role::Client, &config, &data[head..]);
        check_output(
            &parse_output(&out, Role::Client),
            &events,
            frame_error,
            true,
        );
        assert_eq!(events, expect.events, "events after the head vs model");
        assert_eq!(frame_error, expect.error, "error after the head vs model");
    } else if !done {
        conn.receive_eof();
        if end.is_some() {
            // A refusal whose body was still being read is reported at the
            // end of the input.
            assert!(matches!(conn.next_event(), Err(Error::Handshake { .. })));
        } else {
            assert!(bare.is_none() && data.len() <= 4096);
            assert!(matches!(
                conn.next_event(),
                Err(Error::Handshake {
                    error: HandshakeError::Incomplete,
                    ..
                })
            ));
        }
        assert!(conn.output().is_empty());
    }
});
