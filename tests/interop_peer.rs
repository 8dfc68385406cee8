//! Our blocking client against another implementation's echo server,
//! named by `RFC6455_PEER_URL` (`scripts/interop.sh` starts
//! python-websockets and runs this). Ignored by `cargo test`, which must
//! pass on a machine without that peer.
//!
//! With `RFC6455_DEFLATE=COMBO` (feature `deflate`; COMBO as
//! `scripts/interop/peer.py` names them) the client offers what COMBO
//! asks of a server, the peer (at `/deflate/COMBO`) runs the server policy
//! COMBO, and the test checks what was agreed: `compression_negotiated()`
//! here, and the parameters the peer reports for the connection.

use std::time::Duration;

use rfc6455::blocking::ClientBuilder;
use rfc6455::{Bytes, CloseCode, Config, Event, Message};

/// Our client's configuration for `combo`, and what the peer's server
/// policy `combo` must agree to its offer (in `peer.py`'s terms).
#[cfg(feature = "deflate")]
fn deflate_combo(combo: &str) -> (Config, &'static str, String) {
    use rfc6455::DeflateConfig;
    let (offer, expected) = match combo {
        // The peer declines, or we offer nothing.
        "off" => (Some(DeflateConfig::default()), "none".to_owned()),
        "ours-off" => (None, "none".to_owned()),
        // Our default offer (server_max_window_bits=12) to python's
        // default policy (12 bits both ways).
        "default" => (
            Some(DeflateConfig::default()),
            "snct=0 cnct=0 server_bits=12 client_bits=12".to_owned(),
        ),
        _ => {
            let mut d = DeflateConfig {
                server_max_window_bits: 15,
                client_max_window_bits: 15,
                ..DeflateConfig::default()
            };
            // The client window the policy sets (our offer says, bare,
            // that we can limit ours); else 15.
            let mut client_bits = 15;
            for part in combo.split('+') {
                match part {
                    "snct" => d.server_no_context_takeover = true,
                    "cnct" => d.client_no_context_takeover = true,
                    "c" => {}
                    _ => {
                        let bits: u8 = part[1..].parse().expect("window bits");
                        match &part[..1] {
                            // We ask for the window the policy sets.
                            "s" => d.server_max_window_bits = bits,
                            "c" => {
                                d.client_max_window_bits = bits;
                                client_bits = bits;
                            }
                            _ => panic!("bad combo {combo:?}"),
                        }
                    }
                }
            }
            let expected = format!(
                "snct={} cnct={} server_bits={} client_bits={client_bits}",
                u8::from(d.server_no_context_takeover),
                u8::from(d.client_no_context_takeover),
                d.server_max_window_bits,
            );
            (Some(d), expected)
        }
    };
    let label = if offer.is_some() {
        "offered"
    } else {
        "not offered"
    };
    (
        Config {
            deflate: offer,
            ..Config::default()
        },
        label,
        expected,
    )
}

#[test]
#[ignore = "needs a peer echo server: run scripts/interop.sh"]
fn our_client_against_a_peer_echo_server() {
    let url = std::env::var("RFC6455_PEER_URL").expect("RFC6455_PEER_URL");
    let combo = std::env::var("RFC6455_DEFLATE").ok();
    #[cfg(not(feature = "deflate"))]
    assert!(combo.is_none(), "RFC6455_DEFLATE needs --features deflate");
    #[cfg(feature = "deflate")]
    let (config, expected) = match &combo {
        Some(combo) => {
            let (config, label, expected) = deflate_combo(combo);
            eprintln!("{combo}: deflate {label}, expecting {expected}");
            (config, Some(expected))
        }
        None => (Config::default(), None),
    };
    #[cfg(not(feature = "deflate"))]
    let config = Config::default();
    let mut ws = ClientBuilder::new(&url)
        .config(config)
        .read_timeout(Some(Duration::from_secs(30)))
        .connect()
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    #[cfg(feature = "deflate")]
    if let Some(expected) = expected {
        assert_eq!(
            ws.connection().compression_negotiated(),
            expected != "none",
            "compression_negotiated() with {combo:?}"
        );
        ws.send(Message::from("__negotiated__")).unwrap();
        let agreed = ws.recv().unwrap().expect("the peer's answer");
        assert_eq!(
            agreed,
            Message::from(expected.as_str()),
            "parameters the peer agreed for {combo:?}"
        );
    }
    let big_text: String = (0..1 << 20)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let big_binary: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    for message in [
        Message::from("héllo wörld €𝄞"),
        Message::from(""),
        Message::from(vec![0u8, 1, 2, 255]),
        Message::from(big_text),
        Message::from(Bytes::from(big_binary)),
    ] {
        ws.send(message.clone()).unwrap();
        let echoed = ws.recv().unwrap().expect("an echo");
        assert!(
            echoed == message,
            "{} bytes came back different",
            message.len()
        );
    }
    // Many messages in a row, through the context each side keeps (or
    // resets) between messages.
    let many: Vec<Message> = (0..200)
        .map(|i| Message::from(format!("message {i} ").repeat(i % 7)))
        .collect();
    for message in &many {
        ws.send(message.clone()).unwrap();
    }
    for message in &many {
        assert_eq!(&ws.recv().unwrap().expect("an echo"), message);
    }
    // A ping is answered with its payload.
    ws.ping(b"are you there").unwrap();
    loop {
        match ws.next_event().unwrap() {
            Some(Event::Pong(payload)) => {
                assert_eq!(&payload[..], b"are you there");
                break;
            }
            Some(Event::Ping(_)) => {}
            other => panic!("waiting for a pong: {other:?}"),
        }
    }
    ws.close(4001, "bye now").unwrap();
    while ws.recv().unwrap().is_some() {}
    let event = ws.close_event().unwrap();
    assert!(event.was_clean, "{event:?}");
    assert_eq!(event.code, CloseCode::from(4001));
    assert_eq!(event.reason, "bye now");
}
