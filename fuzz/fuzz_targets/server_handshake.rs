//! A server connection (max_handshake_size 4096) fed arbitrary bytes as the
//! client's request, in pieces.
//!
//! - No panic; `buffer_capacity()` stays bounded while the head arrives.
//! - `HeadTooLarge` exactly when no blank line ends within 4096 bytes and
//!   no bare CR or LF comes before it; an `Event::Request` only when a
//!   CRLFCRLF ends the head within them with no bare CR or LF before it;
//!   a bare CR or LF is refused (400) as soon as it is seen.
//! - An `Event::Request` (and so any 101) has exactly one `Host`, a
//!   well-formed `host[:port]`, and a target without a fragment whose
//!   `path()` starts with '/' (a URL target's path, `/` if it has none);
//!   other requests are answered 400 at once.
//! - On `Event::Request`, `accept(Accept::new())` either succeeds (101
//!   queued with the right `Sec-WebSocket-Accept`, connection open, the
//!   request really a valid upgrade) or fails with a handshake error and a
//!   4xx queued, connection closed.
//! - Any other failure is a `HandshakeError` with its 4xx queued.
//! - Bytes after the head are frames: events and error match the model.
//!
//! Input layout: `piece_size, bytes...` (piece size 1 to 256).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::handshake::accept_key;
use rfc6455::HandshakeError;
use rfc6455::{Accept, Connection, Error, Event, ReadyState, Role};
use rfc6455_fuzz::{
    check_output, drain_frames, head_verdict, model, parse_output, small_config, take_output, Ev,
};

const MAX_HEAD: usize = 4096;

/// A weaker, independent check of a reported `Host`: `host[:port]`, the
/// host an IPv6 literal in brackets or printable ASCII without delimiters,
/// the port digits that fit in 16 bits.
fn host_well_formed(v: &str) -> bool {
    let (host_ok, port) = match v.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((ip, after)) => (ip.parse::<std::net::Ipv6Addr>().is_ok(), after),
        None if v.starts_with('[') => return false,
        None => {
            let cut = v.find(':').unwrap_or(v.len());
            let host = &v[..cut];
            let ok = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"[]@/?#:".contains(&b));
            (ok, &v[cut..])
        }
    };
    host_ok
        && (port.is_empty()
            || port.strip_prefix(':').is_some_and(|p| {
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
            }))
}

fn status_of(out: &[u8]) -> u16 {
    assert!(
        out.starts_with(b"HTTP/1.1 "),
        "response {:?}",
        String::from_utf8_lossy(out)
    );
    std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap()
}

fuzz_target!(|input: &[u8]| {
    let [size, data @ ..] = input else { return };
    let piece = *size as usize + 1;
    let config = small_config(true);
    // Where the head ends, or where a bare CR or LF refuses it first.
    let (end, bare) = head_verdict(data);
    let head_fits = matches!(end, Some(e) if e <= MAX_HEAD);
    let bare_fits = matches!(bare, Some(b) if b <= MAX_HEAD);

    let mut conn = Connection::server(config.clone());
    let mut fed = 0;
    let mut opened_at = None; // head end, once open
    let mut events: Vec<Ev> = Vec::new();
    let mut frame_error = None;
    let mut out = Vec::new();
    let mut done = false;
    while fed < data.len() && !done {
        let next = (fed + piece).min(data.len());
        conn.receive(&data[fed..next]);
        fed = next;
        loop {
            if opened_at.is_some() {
                frame_error = drain_frames(&mut conn, &mut events);
                out.extend(take_output(&mut conn));
                done = frame_error.is_some() || conn.ready_state() == ReadyState::Closed;
                break;
            }
            match conn.next_event() {
                Ok(None) => {
                    assert_eq!(conn.ready_state(), ReadyState::Connecting);
                    assert!(
                        conn.output().is_empty(),
                        "nothing written before the request"
                    );
                    // Still connecting: what came so far fits and holds no head end.
                    assert!(
                        fed <= MAX_HEAD,
                        "{fed} bytes without a head and no HeadTooLarge"
                    );
                    assert!(
                        end.is_none_or(|e| e > fed),
                        "whole head ({end:?}) but no event"
                    );
                    assert!(
                        bare.is_none_or(|b| b > fed),
                        "bare CR or LF ({bare:?}) but no error"
                    );
                    let cap = conn.buffer_capacity();
                    assert!(
                        cap <= 2 * (MAX_HEAD + piece) + 8192,
                        "capacity {cap} while connecting"
                    );
                    break;
                }
                Ok(Some(Event::Request(req))) => {
                    assert!(head_fits, "request from a head that does not fit");
                    assert!(end.unwrap() <= fed);
                    // RFC 9112 3.2: exactly one Host, well-formed, before the
                    // application sees the request (so before any 101).
                    let hosts = req
                        .headers()
                        .iter()
                        .filter(|(h, _)| h.eq_ignore_ascii_case("Host"))
                        .count();
                    assert_eq!(hosts, 1, "request with {hosts} Host headers");
                    let host = req.host().expect("one Host, UTF-8");
                    assert!(host_well_formed(host), "Host {host:?}");
                    // The path an application authorises by is the one sent:
                    // no fragment anywhere, a path that starts with '/', and
                    // for a URL target, the URL's own path and query.
                    let (target, path) = (req.target(), req.path());
                    assert!(!target.contains('#'), "target {target:?}");
                    assert!(path.starts_with('/'), "path {path:?} of {target:?}");
                    match req.query() {
                        Some(q) => assert!(
                            target.ends_with(&format!("{path}?{q}"))
                                || (path == "/" && target.ends_with(&format!("?{q}")))
                        ),
                        None => assert!(target.ends_with(path) || path == "/"),
                    }
                    if !target.starts_with('/') {
                        let (_, rest) = target.split_once("://").expect("absolute form");
                        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
                        assert!(host_well_formed(authority), "authority {authority:?}");
                    }
                    match conn.accept(Accept::new()) {
                        Ok(()) => {
                            let resp = take_output(&mut conn);
                            let text = String::from_utf8(resp).expect("101 is ASCII");
                            assert!(
                                text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
                                "{text}"
                            );
                            assert!(text.ends_with("\r\n\r\n"));
                            // RFC 6455 4.2.1: exactly one key and one version header.
                            for name in ["Sec-WebSocket-Key", "Sec-WebSocket-Version"] {
                                let n = req
                                    .headers()
                                    .iter()
                                    .filter(|(h, _)| h.eq_ignore_ascii_case(name))
                                    .count();
                                assert_eq!(n, 1, "accepted with {n} {name} headers");
                            }
                            let key = req
                                .header("Sec-WebSocket-Key")
                                .expect("accepted without a key");
                            let line = format!(
                                "\r\nSec-WebSocket-Accept: {}\r\n",
                                accept_key(key.as_bytes())
                            );
                            assert!(text.contains(&line), "{text}");
                            assert_eq!(req.method(), "GET");
                            assert!(req.host().is_some() && req.is_websocket());
                            assert_eq!(key.len(), 24, "key {key:?}");
                            assert_eq!(req.header("Sec-WebSocket-Version"), Some("13"));
                            assert_eq!(conn.ready_state(), ReadyState::Open);
                            assert!(conn.protocol().is_none());
                            opened_at = end;
                        }
                        Err(Error::Handshake { error: e, .. }) => {
                            let status = e.status().expect("a server-side error has a status");
                            assert!((400..500).contains(&status), "{e:?}");
                            assert_eq!(status_of(&take_output(&mut conn)), status);
                            assert_eq!(conn.ready_state(), ReadyState::Closed);
                            assert!(matches!(conn.next_event(), Ok(None)));
                            assert!(conn.accept(Accept::new()).is_err(), "accept twice");
                            done = true;
                            break;
                        }
                        Err(e) => panic!("accept: {e:?}"),
                    }
                }
                Ok(Some(other)) => panic!("server got {other:?}"),
                Err(Error::Handshake { error: e, .. }) => {
                    let status = e.status().expect("status");
                    match e {
                        HandshakeError::HeadTooLarge { max } => {
                            assert_eq!(max, MAX_HEAD);
                            assert!(!head_fits, "HeadTooLarge but the head ends at {end:?}");
                            assert!(!bare_fits, "HeadTooLarge but a bare CR or LF at {bare:?}");
                            assert_eq!(status, 431);
                        }
                        HandshakeError::MalformedHttp(_) => {
                            assert!(head_fits || bare_fits);
                            assert_eq!(status, 400);
                        }
                        HandshakeError::MissingHeader("Host")
                        | HandshakeError::InvalidHost(_)
                        | HandshakeError::InvalidTarget(_) => {
                            assert!(head_fits);
                            assert_eq!(status, 400);
                        }
                        // Another method than GET or HEAD: 405 for a plain
                        // request, 400 for an upgrade.
                        HandshakeError::MethodNotAllowed(_) | HandshakeError::MethodNotGet(_) => {
                            assert!(head_fits);
                            assert!(status == 405 || status == 400, "{status}");
                        }
                        other => panic!("parse error {other:?}"),
                    }
                    assert_eq!(status_of(&take_output(&mut conn)), status);
                    assert_eq!(conn.ready_state(), ReadyState::Closed);
                    assert!(matches!(conn.next_event(), Ok(None)));
                    done = true;
                    break;
                }
                Err(e) => panic!("server handshake: {e:?}"),
            }
        }
    }
    if let Some(head) = opened_at {
        let expect = model(Role::Server, &config, &data[head..]);
        check_output(
            &parse_output(&out, Role::Server),
            &events,
            frame_error,
            true,
        );
        assert_eq!(events, expect.events, "events after the head vs model");
        assert_eq!(frame_error, expect.error, "error after the head vs model");
    } else if !done {
        // Everything fed and still connecting: the transport ending now
        // is an incomplete handshake.
        assert!(end.is_none() && bare.is_none() && data.len() <= MAX_HEAD);
        conn.receive_eof();
        match conn.next_event() {
            Err(Error::Handshake {
                error: HandshakeError::Incomplete,
                ..
            }) => {}
            other => panic!("EOF while connecting: {other:?}"),
        }
        assert_eq!(status_of(&take_output(&mut conn)), 400);
    }
});
