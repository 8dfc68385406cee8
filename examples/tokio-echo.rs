//! The echo server of `examples/echo.rs` on the tokio adapter: every text
//! and binary message comes back unchanged.
//!
//! ```text
//! cargo run --release --features tokio --example tokio-echo -- [ADDR] [--current-thread]
//! ```
//!
//! - any path is accepted, except `/reject`, refused with 403;
//! - a client offering subprotocols gets `chat` or `superchat` if it offered
//!   one of them, otherwise none;
//! - permessage-deflate is accepted when offered (`Config::default`);
//! - the peer's close code is echoed;
//! - a plain HTTP GET of `/` gets the test page of `examples/echo.html`
//!   (the rules of `examples/shared/echo_rules.rs`, which every echo
//!   example shares).
//!
//! A task per connection on tokio's multi-threaded runtime, or on one
//! thread with `--current-thread`; one line is printed per connection
//! opened and closed (none with `--quiet`).

#[path = "shared/echo_rules.rs"]
mod echo_rules;

use echo_rules::decide;
use rfc6455::tokio::ServerBuilder;
use rfc6455::Config;
use tokio::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let runtime = if flag("--current-thread") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    let quiet = flag("--quiet");
    runtime.block_on(serve(addr, quiet))
}

async fn serve(addr: String, quiet: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server on ws://{addr}/ (test page: http://{addr}/)");
    // 16 MiB messages and frames: what the Autobahn|Testsuite sends.
    let server = ServerBuilder::new().config(Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move { echo(&server, stream, peer.to_string(), quiet).await });
    }
}

async fn echo(server: &ServerBuilder, stream: TcpStream, peer: String, quiet: bool) {
    let _ = stream.set_nodelay(true);
    let mut ws = match server.accept_with(stream, decide).await {
        Ok(ws) => ws,
        Err(e) => {
            if !quiet {
                println!("{peer}: not opened: {e}");
            }
            return;
        }
    };
    if !quiet {
        println!(
            "{peer}: open (subprotocol {:?})",
            ws.protocol().unwrap_or("none")
        );
    }
    // `queue` leaves the echo in the output buffer; `recv` writes all that
    // is queued once its input is drained, so a burst of pipelined messages
    // is answered with one write.
    let result = loop {
        match ws.recv().await {
            Ok(Some(message)) => {
                if let Err(e) = ws.queue(message) {
                    break Err(e);
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    if quiet {
        return;
    }
    match (result, ws.close_event()) {
        (Ok(()), Some(ev)) => println!(
            "{peer}: closed {} {:?} clean={}",
            ev.code, ev.reason, ev.was_clean
        ),
        (Err(e), Some(ev)) => println!("{peer}: closed {} ({e})", ev.code),
        (Err(e), None) => println!("{peer}: error: {e}"),
        (Ok(()), None) => println!("{peer}: closed"),
    }
}
