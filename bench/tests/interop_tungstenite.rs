//! Interop with tungstenite over plain TCP on 127.0.0.1, both ways: its
//! client against our server and our client against its server. Text
//! (multibyte), empty, binary, 1 MiB of each, pings, and a close code and
//! reason echoed, with the close handshake completing on both sides.

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{ClientBuilder, ServerBuilder};
use rfc6455::{CloseCode, Event, Message};
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use tungstenite::protocol::CloseFrame as TCloseFrame;
use tungstenite::Message as TMessage;

fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    (listener, url)
}

fn big_text() -> String {
    (0..1 << 20)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect()
}

fn big_binary() -> Vec<u8> {
    (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect()
}

fn samples() -> Vec<Message> {
    vec![
        Message::from("héllo wörld €𝄞"),
        Message::from(""),
        Message::from(vec![0u8, 1, 2, 255]),
        Message::from(big_text()),
        Message::from(big_binary()),
    ]
}

fn to_tungstenite(m: &Message) -> TMessage {
    match m {
        Message::Text(t) => TMessage::text(t.as_str()),
        Message::Binary(b) => TMessage::binary(b.clone()),
    }
}

#[test]
fn tungstenite_client_against_our_server() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ServerBuilder::new().accept(stream).unwrap();
        while let Some(message) = ws.recv().unwrap() {
            ws.send(message).unwrap();
        }
        ws.close_event().cloned().unwrap()
    });
    let stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/')).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
    for message in samples() {
        let sent = to_tungstenite(&message);
        ws.send(sent.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), sent, "{} bytes", message.len());
    }
    ws.send(TMessage::Ping(b"are you there".to_vec().into()))
        .unwrap();
    match ws.read().unwrap() {
        TMessage::Pong(p) => assert_eq!(&p[..], b"are you there"),
        other => panic!("waiting for a pong: {other:?}"),
    }
    ws.close(Some(TCloseFrame {
        code: TCloseCode::from(4001),
        reason: "bye now".into(),
    }))
    .unwrap();
    let echoed = match ws.read() {
        Ok(TMessage::Close(frame)) => frame.unwrap(),
        other => panic!("waiting for the close: {other:?}"),
    };
    assert_eq!(u16::from(echoed.code), 4001);
    assert_eq!(echoed.reason.as_str(), "bye now");
    // The server closes TCP: tungstenite then reports the end.
    assert!(matches!(
        ws.read(),
        Err(tungstenite::Error::ConnectionClosed)
    ));
    let event = server.join().unwrap();
    assert!(event.was_clean);
    assert_eq!(event.code, CloseCode::from(4001));
    assert_eq!(event.reason, "bye now");
}

#[test]
fn our_client_against_a_tungstenite_server() {
    let (listener, url) = listen();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        loop {
            match ws.read() {
                Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => ws.send(m).unwrap(),
                Ok(TMessage::Close(frame)) => {
                    // tungstenite echoes the close itself; flush it out.
                    let _ = ws.flush();
                    break frame;
                }
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    });
    let mut ws = ClientBuilder::new(&url)
        .read_timeout(Some(Duration::from_secs(10)))
        .connect()
        .unwrap();
    for message in samples() {
        ws.send(message.clone()).unwrap();
        assert!(
            ws.recv().unwrap().unwrap() == message,
            "{} bytes",
            message.len()
        );
    }
    ws.ping(b"are you there").unwrap();
    match ws.next_event().unwrap() {
        Some(Event::Pong(p)) => assert_eq!(&p[..], b"are you there"),
        other => panic!("waiting for a pong: {other:?}"),
    }
    ws.close(4001, "bye now").unwrap();
    while ws.recv().unwrap().is_some() {}
    let event = ws.close_event().unwrap();
    assert!(event.was_clean, "{event:?}");
    assert_eq!(event.code, CloseCode::from(4001));
    assert_eq!(event.reason, "bye now");
    let frame = server.join().unwrap().unwrap();
    assert_eq!(u16::from(frame.code), 4001);
    assert_eq!(frame.reason.as_str(), "bye now");
}
