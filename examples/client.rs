//! A minimal client: sends each message given on the command line, prints
//! what comes back, and closes cleanly.
//!
//! ```text
//! cargo run --example client -- ws://127.0.0.1:9001 "hello" "world"
//! cargo run --example client -- wss://127.0.0.1:9443 --ca cert.pem "hello"
//! ```
//!
//! `wss://` URLs are verified against Mozilla's roots, plus the PEM
//! certificates of `--ca FILE` (a private CA, or a self-signed server
//! certificate itself).

use rfc6455::blocking::ClientBuilder;
use rfc6455::{Error, Message};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let mut url = None;
    let mut ca = None;
    let mut messages = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => {
                let file = args.next();
                ca = Some(file.ok_or(Error::InvalidUrl("--ca needs a file".into()))?);
            }
            _ if url.is_none() => url = Some(arg),
            _ => messages.push(arg),
        }
    }
    let url = url.unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    if messages.is_empty() {
        messages.push("hello".into());
    }

    let builder = ClientBuilder::new(&url);
    let builder = match ca {
        #[cfg(feature = "tls")]
        Some(ca) => builder.tls_config(rfc6455::tls::client_config_with_ca_pem(ca)?),
        #[cfg(not(feature = "tls"))]
        Some(_) => return Err(Error::TlsNotEnabled),
        None => builder,
    };
    let mut ws = builder.connect()?;
    let extensions = ws
        .response()
        .and_then(|r| r.headers().get("Sec-WebSocket-Extensions"))
        .unwrap_or("none");
    println!(
        "connected to {url} (subprotocol {:?}, extensions {extensions:?})",
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
