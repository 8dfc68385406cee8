use super::*;

fn config() -> DeflateConfig {
    DeflateConfig::default()
}

/// A server that asks clients for a 12-bit window.
fn bounded() -> DeflateConfig {
    DeflateConfig {
        client_max_window_bits: 12,
        ..DeflateConfig::default()
    }
}

fn full_windows() -> DeflateConfig {
    DeflateConfig {
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        ..DeflateConfig::default()
    }
}

// ------------------------------------------------------------ grammar

#[test]
fn extension_lists_parse_with_params_quotes_and_spaces() {
    let list = parse_extensions(
        "permessage-deflate ; client_max_window_bits, permessage-deflate;server_max_window_bits=\"10\" ,x-foo",
    )
    .unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].params, [("client_max_window_bits".into(), None)]);
    assert_eq!(
        list[1].params,
        [("server_max_window_bits".into(), Some("10".into()))]
    );
    assert_eq!(list[2].name, "x-foo");
    for bad in [
        "permessage-deflate; =1",
        "permessage-deflate; a=\"1",
        "permessage-deflate; a=\"\"",
        "permessage-deflate; a=\"1 2\"",
        "permessage-deflate x",
        "; a",
    ] {
        assert!(parse_extensions(bad).is_err(), "{bad}");
    }
}

// ------------------------------------------------------------ server side

#[test]
fn server_accepts_what_browsers_offer_with_bounded_windows() {
    // The default server answers a browser's offer as it is: its own
    // 12-bit window is not said (the client did not ask, section
    // 7.1.2.1), only used (see `Codec::new`).
    let (agreement, answer) = config()
        .accept_offers(["permessage-deflate; client_max_window_bits"])
        .unwrap();
    assert_eq!(answer, "permessage-deflate");
    assert_eq!(
        agreement,
        Agreement {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    );
    // A server that wants the client's window bounded asks for it.
    let (agreement, answer) = bounded()
        .accept_offers(["permessage-deflate; client_max_window_bits"])
        .unwrap();
    assert_eq!(answer, "permessage-deflate; client_max_window_bits=12");
    assert_eq!(agreement.client_max_window_bits, 12);
    // Asked for a server window, it answers the smaller of both.
    let (agreement, answer) = config()
        .accept_offers(["permessage-deflate; server_max_window_bits=14"])
        .unwrap();
    assert_eq!(answer, "permessage-deflate; server_max_window_bits=12");
    assert_eq!(agreement.server_max_window_bits, 12);
}

#[test]
fn server_answers_each_parameter_as_section_7_1_allows() {
    let cases = [
        // Asked for: answered.
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
        ),
        // A client's own no-context-takeover is echoed.
        (
            "permessage-deflate; client_no_context_takeover",
            "permessage-deflate; client_no_context_takeover",
        ),
        // A smaller server window asked for is granted and said.
        (
            "permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=9",
        ),
        // Asked for at 15: still answered (it was asked).
        (
            "permessage-deflate; server_max_window_bits=15",
            "permessage-deflate; server_max_window_bits=15",
        ),
        // A client limit given with a value is kept (at most ours).
        (
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=10",
        ),
        // Without client_max_window_bits, no client limit may be answered.
        ("permessage-deflate", "permessage-deflate"),
    ];
    for (offer, expected) in cases {
        let (_, answer) = full_windows().accept_offers([offer]).unwrap();
        assert_eq!(answer, expected, "offer {offer}");
    }
}

#[test]
fn server_takes_the_first_acceptable_offer_in_order() {
    // The first is unacceptable (unknown parameter), the second is taken.
    let (agreement, _) = full_windows()
        .accept_offers([
            "permessage-deflate; x_unknown, permessage-deflate; server_max_window_bits=10",
            "permessage-deflate",
        ])
        .unwrap();
    assert_eq!(agreement.server_max_window_bits, 10);
    // A server that wants a client window limit skips an offer that cannot
    // keep one, and takes the next that can.
    let (agreement, _) = bounded()
        .accept_offers(["permessage-deflate, permessage-deflate; client_max_window_bits=11"])
        .unwrap();
    assert_eq!(agreement.client_max_window_bits, 11);
}

#[test]
fn server_declines_invalid_offers() {
    for offer in [
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=0x9",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; mystery",
        "x-webkit-deflate-frame",
        "permessage-deflate; \"quoted\"",
    ] {
        assert_eq!(full_windows().accept_offers([offer]), None, "{offer}");
    }
    // A client that cannot limit its window, to a server that wants it to.
    assert_eq!(bounded().accept_offers(["permessage-deflate"]), None);
}

// ------------------------------------------------------------ client side

#[test]
fn client_offer_and_answers_it_accepts() {
    let offer = full_windows();
    assert_eq!(
        offer.client_offer(),
        "permessage-deflate; client_max_window_bits"
    );
    let accepted = [
        ("permessage-deflate", (false, false, 15, 15)),
        (
            "permessage-deflate; server_no_context_takeover",
            (true, false, 15, 15),
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            (false, true, 15, 15),
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            (false, false, 8, 15),
        ),
        (
            "PerMessage-Deflate; Client_Max_Window_Bits=\"9\"",
            (false, false, 15, 9),
        ),
    ];
    for (answer, (snct, cnct, sbits, cbits)) in accepted {
        let agreement = offer.check_answer([answer]).unwrap().unwrap();
        assert_eq!(
            (
                agreement.server_no_context_takeover,
                agreement.client_no_context_takeover,
                agreement.server_max_window_bits,
                agreement.client_max_window_bits
            ),
            (snct, cnct, sbits, cbits),
            "{answer}"
        );
    }
    assert_eq!(offer.check_answer([]), Ok(None));
}

#[test]
fn client_refuses_answers_section_7_1_forbids() {
    let offer = DeflateConfig {
        server_no_context_takeover: true,
        server_max_window_bits: 10,
        client_max_window_bits: 12,
        ..DeflateConfig::default()
    };
    assert_eq!(
        offer.client_offer(),
        "permessage-deflate; server_no_context_takeover; client_max_window_bits; server_max_window_bits=10"
    );
    let good = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
    assert!(offer.check_answer([good]).unwrap().is_some());
    for bad in [
        // Not offered at all.
        "x-webkit-deflate-frame",
        // Twice.
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10, permessage-deflate",
        // A parameter the extension does not define.
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; foo",
        // A duplicate.
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover; server_max_window_bits=10",
        // Out of range, or a larger window than offered.
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=7",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=16",
        // client_max_window_bits without a value.
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits",
        // A value where none belongs.
        "permessage-deflate; server_no_context_takeover=true; server_max_window_bits=10",
        // What the client asked for is not answered.
        "permessage-deflate; server_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover",
        // Not an extension list.
        "permessage-deflate;;",
    ] {
        assert!(offer.check_answer([bad]).is_err(), "{bad}");
    }
    // Two headers, one extension each: still twice.
    assert_eq!(
        offer.check_answer([good, good]),
        Err(NegotiationError::Repeated)
    );
}

#[test]
fn what_the_server_answers_the_client_accepts() {
    // Every combination of the four parameters, offered by our client and
    // answered by our server, agrees on both sides.
    for bits in [8u8, 9, 12, 15] {
        for flags in 0..4 {
            let client = DeflateConfig {
                server_no_context_takeover: flags & 1 != 0,
                client_no_context_takeover: flags & 2 != 0,
                server_max_window_bits: bits,
                client_max_window_bits: bits,
                ..DeflateConfig::default()
            };
            for server in [config(), bounded(), full_windows()] {
                let offer = client.client_offer();
                let (agreed, answer) = server
                    .accept_offers([offer.as_str()])
                    .unwrap_or_else(|| panic!("{offer} declined"));
                let checked = client.check_answer([answer.as_str()]).unwrap().unwrap();
                assert_eq!(checked, agreed, "{offer} -> {answer}");
                // What the client asked of the server, it got.
                assert!(agreed.server_max_window_bits <= bits.max(8));
                // What the server asked of the client, it got.
                assert!(agreed.client_max_window_bits <= server.client_max_window_bits);
            }
        }
    }
}

// ------------------------------------------------------------ codec

fn roundtrip(messages: &[&[u8]], bits: u8, no_takeover: bool) {
    let mut compressor = Compressor::new(6, bits, no_takeover);
    let mut inflater = Inflater::new(bits, no_takeover);
    for message in messages {
        let mut wire = Vec::new();
        compressor.compress(message, true, &mut wire);
        assert!(!wire.ends_with(&[0, 0, 0xff, 0xff]) || message.is_empty());
        let mut out = Vec::new();
        inflater.inflate(&wire, true, &mut out, usize::MAX).unwrap();
        assert_eq!(out, *message, "bits {bits}");
    }
}

fn json(n: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"hello there\"}},",
            i % 7
        ));
    }
    s.into_bytes()
}

#[test]
fn messages_survive_compression_at_every_window_with_and_without_takeover() {
    let big = json(2000);
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let messages: [&[u8]; 5] = [b"", b"hello", &big, &noise, &big];
    for bits in 8..=15 {
        roundtrip(&messages, bits, false);
        roundtrip(&messages, bits, true);
    }
}

#[test]
fn an_empty_message_is_one_zero_byte() {
    let mut compressor = Compressor::new(6, 15, false);
    let mut wire = Vec::new();
    compressor.compress(b"", true, &mut wire);
    assert_eq!(wire, [0x00]);
}

#[test]
fn context_takeover_shrinks_a_repeated_message_and_no_takeover_does_not() {
    let message = json(20);
    let sizes = |no_takeover: bool| {
        let mut compressor = Compressor::new(6, 15, no_takeover);
        let mut sizes = Vec::new();
        for _ in 0..2 {
            let mut wire = Vec::new();
            compressor.compress(&message, true, &mut wire);
            sizes.push(wire.len());
        }
        sizes
    };
    let with = sizes(false);
    let without = sizes(true);
    assert!(with[1] * 4 < with[0], "{with:?}");
    assert_eq!(without[0], without[1]);
}

#[test]
fn fragments_compress_and_inflate_piece_by_piece() {
    let message = json(500);
    let mut compressor = Compressor::new(6, 15, false);
    let mut inflater = Inflater::new(15, false);
    let pieces: Vec<&[u8]> = message.chunks(1000).collect();
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let mut wire = Vec::new();
        compressor.compress(piece, last, &mut wire);
        inflater.inflate(&wire, last, &mut out, usize::MAX).unwrap();
        // Each fragment's bytes are out before the next arrives.
        let end = ((i + 1) * 1000).min(message.len());
        assert_eq!(out, message[..end]);
    }
    assert_eq!(out, message);
}

#[test]
fn a_zip_bomb_is_refused_after_inflating_at_most_the_limit() {
    let bomb = vec![0u8; 64 << 20];
    let mut compressor = Compressor::new(9, 15, false);
    let mut wire = Vec::new();
    compressor.compress(&bomb, true, &mut wire);
    assert!(wire.len() < 100 << 10, "{}", wire.len());
    let limit = 1 << 20;
    let mut inflater = Inflater::new(15, false);
    let mut out = Vec::new();
    assert_eq!(
        inflater.inflate(&wire, true, &mut out, limit),
        Err(InflateError::TooBig)
    );
    assert!(
        out.capacity() <= limit + 1 + 16 * 1024,
        "{}",
        out.capacity()
    );
    // Exactly at the limit is fine.
    let mut compressor = Compressor::new(9, 15, false);
    let mut wire = Vec::new();
    compressor.compress(&bomb[..limit], true, &mut wire);
    let mut out = Vec::new();
    Inflater::new(15, false)
        .inflate(&wire, true, &mut out, limit)
        .unwrap();
    assert_eq!(out.len(), limit);
}

#[test]
fn data_that_is_not_deflate_fails_to_inflate() {
    let mut out = Vec::new();
    // BTYPE 11 is reserved.
    let result = Inflater::new(15, false).inflate(&[0xff, 0xff, 0xff], true, &mut out, 1 << 20);
    assert!(
        matches!(result, Err(InflateError::Corrupt(_))),
        "{result:?}"
    );
}

#[test]
fn an_eight_bit_agreement_compresses_with_nine_bits_and_reads_back() {
    // zlib makes no 8-bit raw stream, so an 8-bit agreement sends a 9-bit
    // one (whose distances stay within 250 bytes, so that an 8-bit
    // inflater reads it: to be shown against a peer's 8-bit inflater in
    // the interop tests), and inflates with a window at least that large.
    let message = json(300);
    let mut wire = Vec::new();
    Compressor::new(6, 8, false).compress(&message, true, &mut wire);
    let mut out = Vec::new();
    Inflater::new(8, false)
        .inflate(&wire, true, &mut out, usize::MAX)
        .unwrap();
    assert_eq!(out, message);
}

#[test]
fn without_context_takeover_the_codec_state_can_be_released_between_messages() {
    let mut compressor = Compressor::new(6, 15, true);
    let mut inflater = Inflater::new(15, true);
    for _ in 0..3 {
        let mut wire = Vec::new();
        compressor.compress(b"hello hello hello", true, &mut wire);
        let mut out = Vec::new();
        inflater.inflate(&wire, true, &mut out, 100).unwrap();
        assert_eq!(out, b"hello hello hello");
        // The inflater is built afresh for each message; the compressor
        // is reset, and kept until released.
        assert!(compressor.is_allocated() && !inflater.is_allocated());
        compressor.release();
        inflater.release();
        assert!(!compressor.is_allocated() && !inflater.is_allocated());
    }
    // With takeover the state is the context: it is kept.
    let mut compressor = Compressor::new(6, 15, false);
    let mut wire = Vec::new();
    compressor.compress(b"x", true, &mut wire);
    compressor.release();
    assert!(compressor.is_allocated());
}
