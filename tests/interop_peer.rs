//! Our blocking client against another implementation's echo server,
//! named by `RFC6455_PEER_URL` (`scripts/interop.sh` starts
//! python-websockets and runs this). Ignored by `cargo test`, which must
//! pass on a machine without that peer.

use std::time::Duration;

use rfc6455::blocking::ClientBuilder;
use rfc6455::{Bytes, CloseCode, Event, Message};

#[test]
#[ignore = "needs a peer echo server: run scripts/interop.sh"]
fn our_client_against_a_peer_echo_server() {
    let url = std::env::var("RFC6455_PEER_URL").expect("RFC6455_PEER_URL");
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(Duration::from_secs(30)))
        .connect()
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
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
