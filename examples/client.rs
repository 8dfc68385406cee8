//! A minimal client: sends each message given on the command line, prints
//! what comes back, and closes cleanly.
//!
//! ```text
//! cargo run --example client -- ws://127.0.0.1:9001 "hello" "world"
//! ```

use rfc6455::blocking::connect;
use rfc6455::{Error, Message};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let mut messages: Vec<String> = args.collect();
    if messages.is_empty() {
        messages.push("hello".into());
    }

    let mut ws = connect(&url)?;
    println!(
        "connected to {url} (subprotocol {:?})",
        ws.protocol().unwrap_or("none")
    );
    for text in &messages {
        ws.send_text(text)?;
        match ws.recv()? {
            Some(Message::Text(reply)) => println!("< {reply}"),
            Some(Message::Binary(reply)) => println!("< {} bytes of binary", reply.len()),
            None => break,
        }
    }
    ws.close(1000, "done")?;
    while ws.recv()?.is_some() {}
    if let Some(event) = ws.close_event() {
        println!(
            "closed: code {} reason {:?} clean={}",
            event.code, event.reason, event.was_clean
        );
    }
    Ok(())
}
