//! Property tests: any sequence of messages (text with arbitrary Unicode,
//! binary, sent whole or in arbitrary fragments with pings in between)
//! arrives identical at the other end, in both directions and whatever the
//! read boundaries; a clean close handshake follows.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::*;
use proptest::prelude::*;
use rfc6455::{Bytes, CloseCode, CloseFrame, Connection, Event, Message, MessageKind, ReadyState};

#[derive(Clone, Debug)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    /// A message sent with `send_fragment`, cut at these byte offsets
    /// (code points may be split), with an optional ping after fragment
    /// `ping_after`.
    Fragmented {
        kind: MessageKind,
        data: Vec<u8>,
        cuts: Vec<usize>,
        ping: Option<(usize, Vec<u8>)>,
    },
    Ping(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let text = any::<String>().prop_map(Op::Text);
    let long_text = prop::collection::vec(any::<char>(), 0..3000)
        .prop_map(|cs| Op::Text(cs.into_iter().collect()));
    let binary = prop::collection::vec(any::<u8>(), 0..2000).prop_map(Op::Binary);
    let big_binary = prop::collection::vec(any::<u8>(), 60_000..70_000).prop_map(Op::Binary);
    let fragmented = (
        prop_oneof![
            any::<String>().prop_map(|s| (MessageKind::Text, s.into_bytes())),
            prop::collection::vec(any::<u8>(), 0..500).prop_map(|b| (MessageKind::Binary, b)),
        ],
        prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        prop::option::of((
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 0..=125),
        )),
    )
        .prop_map(|((kind, data), cut_idx, ping)| {
            let mut cuts: Vec<usize> = cut_idx.iter().map(|i| i.index(data.len() + 1)).collect();
            cuts.sort_unstable();
            let n_fragments = cuts.len() + 1;
            let ping = ping.map(|(i, p)| (i.index(n_fragments), p));
            Op::Fragmented {
                kind,
                data,
                cuts,
                ping,
            }
        });
    let ping = prop::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping);
    prop_oneof![
        4 => text,
        1 => long_text,
        4 => binary,
        1 => big_binary,
        3 => fragmented,
        2 => ping,
    ]
}

/// Sends `ops` from `tx`; returns the events the receiver must report.
fn send_all(tx: &mut Connection, ops: &[Op]) -> Vec<Event> {
    let mut expected = Vec::new();
    for op in ops {
        match op {
            Op::Text(s) => {
                tx.send_text(s).unwrap();
                expected.push(Event::Message(Message::from(s.as_str())));
            }
            Op::Binary(b) => {
                tx.send_binary(b).unwrap();
                expected.push(Event::Message(Message::from(b.clone())));
            }
            Op::Fragmented {
                kind,
                data,
                cuts,
                ping,
            } => {
                let mut bounds = vec![0];
                bounds.extend_from_slice(cuts);
                bounds.push(data.len());
                let n = bounds.len() - 1;
                for i in 0..n {
                    tx.send_fragment(*kind, &data[bounds[i]..bounds[i + 1]], i + 1 == n)
                        .unwrap();
                    if let Some((after, payload)) = ping {
                        if *after == i && i + 1 < n {
                            tx.ping(payload).unwrap();
                            expected.push(Event::Ping(Bytes::from(payload.clone())));
                        }
                    }
                }
                expected.push(Event::Message(match kind {
                    MessageKind::Text => Message::from(String::from_utf8(data.clone()).unwrap()),
                    MessageKind::Binary => Message::from(data.clone()),
                }));
            }
            Op::Ping(p) => {
                tx.ping(p).unwrap();
                expected.push(Event::Ping(Bytes::from(p.clone())));
            }
        }
    }
    expected
}

fn pongs_for(expected: &[Event]) -> Vec<Event> {
    expected
        .iter()
        .filter_map(|e| match e {
            Event::Ping(p) => Some(Event::Pong(p.clone())),
            _ => None,
        })
        .collect()
}

/// Splits: piece sizes drawn from the given list, cycled.
fn split_feeder(sizes: &[usize]) -> impl FnMut() -> usize + '_ {
    let mut i = 0;
    move || {
        let n = sizes[i % sizes.len()];
        i += 1;
        n
    }
}

fn run(ops: &[Op], splits: &[usize], client_sends: bool) -> Result<(), TestCaseError> {
    let (mut client, mut server) = default_pair();
    let (tx, rx) = if client_sends {
        (&mut client, &mut server)
    } else {
        (&mut server, &mut client)
    };
    let expected = send_all(tx, ops);
    let wire = drain(tx);
    let got = feed_in_pieces(rx, &wire, &mut split_feeder(splits));
    prop_assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        prop_assert!(g == e, "got {:?}\nexpected {:?}", g, e);
    }

    // The automatic pongs come back, in order.
    let back = drain(rx);
    let pongs = feed_in_pieces(tx, &back, &mut split_feeder(splits));
    prop_assert_eq!(pongs, pongs_for(&expected));

    // A clean close, started by the sender; the reply echoes code and reason.
    tx.close(CloseCode::NORMAL, "done").unwrap();
    let wire = drain(tx);
    let evs = feed_in_pieces(rx, &wire, &mut split_feeder(splits));
    let close = Event::Close(Some(CloseFrame::new(CloseCode::NORMAL, "done")));
    prop_assert_eq!(evs, vec![close]);
    let wire = drain(rx);
    let evs = feed_in_pieces(tx, &wire, &mut split_feeder(splits));
    prop_assert_eq!(evs.len(), 1);
    prop_assert!(
        matches!(&evs[0], Event::Close(Some(f)) if f.code == CloseCode::NORMAL && f.reason == "done")
    );
    prop_assert_eq!(client.ready_state(), ReadyState::Closed);
    prop_assert_eq!(server.ready_state(), ReadyState::Closed);
    prop_assert!(server.should_close_transport());
    prop_assert_eq!(client.buffered_amount(), 0);
    Ok(())
}

/// Feeds `wire` to `conn` in pieces, each through one of the three ways in
/// (`receive`, `read_buf` + `commit`, `receive_with`), in turn.
fn feed_every_way(conn: &mut Connection, wire: &[u8], splits: &[usize]) -> Vec<Event> {
    let mut feeder = split_feeder(splits);
    let mut rest = wire;
    let mut events = Vec::new();
    let mut way = 0;
    while !rest.is_empty() {
        let n = feeder().clamp(1, rest.len());
        let piece = &rest[..n];
        match way % 3 {
            0 => conn.receive(piece),
            1 => {
                let mut piece = piece;
                while !piece.is_empty() {
                    let buf = conn.read_buf();
                    let k = buf.len().min(piece.len());
                    buf[..k].copy_from_slice(&piece[..k]);
                    conn.commit(k);
                    piece = &piece[k..];
                }
            }
            _ => conn.receive_with(|tail| tail.extend_from_slice(piece)),
        }
        way += 1;
        rest = &rest[n..];
        events.extend(events_until_error(conn).0);
    }
    events
}

/// Feeds `wire` in the same pieces to two connections, one read with
/// `next_event`, the other with `next_event_ref`: same events, same error,
/// same bytes to send, same state.
fn compare_apis(
    role: rfc6455::Role,
    config: rfc6455::Config,
    wire: &[u8],
    splits: &[usize],
) -> Result<(), TestCaseError> {
    let mut owned = Connection::open(role, config.clone());
    let mut borrowed = Connection::open(role, config);
    let mut feeder = split_feeder(splits);
    let mut rest = wire;
    while !rest.is_empty() {
        let n = feeder().clamp(1, rest.len());
        owned.receive(&rest[..n]);
        borrowed.receive(&rest[..n]);
        rest = &rest[n..];
        let (a, a_err) = events_until_error(&mut owned);
        let (b, b_err) = events_until_error_ref(&mut borrowed);
        prop_assert_eq!(a, b);
        prop_assert_eq!(a_err.map(|e| e.to_string()), b_err.map(|e| e.to_string()));
        // Frames, not bytes: a client masks each with a fresh random key.
        let unmasked = |conn: &mut Connection| {
            let mut frames = parse_frames(&drain(conn));
            frames.iter_mut().for_each(|f| f.mask = None);
            frames
        };
        prop_assert_eq!(unmasked(&mut owned), unmasked(&mut borrowed));
        prop_assert_eq!(owned.ready_state(), borrowed.ready_state());
    }
    Ok(())
}

fn splits() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        Just(vec![usize::MAX]),
        Just(vec![1]),
        prop::collection::vec(1usize..20, 1..8),
        prop::collection::vec(1usize..5000, 1..8),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn client_to_server(ops in prop::collection::vec(op(), 0..12), splits in splits()) {
        run(&ops, &splits, true)?;
    }

    #[test]
    fn server_to_client(ops in prop::collection::vec(op(), 0..12), splits in splits()) {
        run(&ops, &splits, false)?;
    }

    /// `next_event_ref` reports exactly what `next_event` does (and the two
    /// connections answer the same), for valid traffic in any pieces.
    #[test]
    fn borrowed_events_match_owned(
        ops in prop::collection::vec(op(), 0..12),
        splits in splits(),
        client_sends in any::<bool>(),
    ) {
        let (tx_role, rx_role) = if client_sends {
            (rfc6455::Role::Client, rfc6455::Role::Server)
        } else {
            (rfc6455::Role::Server, rfc6455::Role::Client)
        };
        let mut tx = Connection::open(tx_role, rfc6455::Config::default());
        send_all(&mut tx, &ops);
        tx.close(CloseCode::NORMAL, "done").unwrap();
        let wire = drain(&mut tx);
        compare_apis(rx_role, rfc6455::Config::default(), &wire, &splits)?;
    }

    /// A server unmasks what it receives whichever way the bytes come in,
    /// and whether a frame arrives behind the request or later.
    #[test]
    fn server_receives_every_way(ops in prop::collection::vec(op(), 0..12), splits in splits()) {
        let mut tx = Connection::open(rfc6455::Role::Client, rfc6455::Config::default());
        let expected = send_all(&mut tx, &ops);
        let wire = drain(&mut tx);
        let mut rx = Connection::open(rfc6455::Role::Server, rfc6455::Config::default());
        let got = feed_every_way(&mut rx, &wire, &splits);
        prop_assert_eq!(got, expected);
    }

    /// Any bytes at all, fed to either end in any pieces, never panic and
    /// either produce events or one protocol error with a close frame queued.
    #[test]
    fn arbitrary_input_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        splits in prop::collection::vec(1usize..40, 1..6),
        server in any::<bool>(),
    ) {
        let role = if server { rfc6455::Role::Server } else { rfc6455::Role::Client };
        let config = rfc6455::Config { max_frame_size: 256, max_message_size: 512, ..Default::default() };
        compare_apis(role, config.clone(), &bytes, &splits)?;
        let mut conn = Connection::open(role, config);
        let mut rest = &bytes[..];
        let mut feeder = split_feeder(&splits);
        while !rest.is_empty() {
            let n = feeder().min(rest.len());
            conn.receive(&rest[..n]);
            rest = &rest[n..];
            let (_, err) = events_until_error(&mut conn);
            if let Some(err) = err {
                prop_assert!(matches!(err, rfc6455::Error::Protocol(_)), "{}", err);
                prop_assert_eq!(conn.ready_state(), ReadyState::Closed);
                let frames = parse_frames(&drain(&mut conn));
                let last = frames.last().unwrap();
                prop_assert_eq!(last.opcode, 0x8);
                prop_assert_eq!(last.close_code(), err.close_code().map(u16::from));
                break;
            }
        }
    }
}
