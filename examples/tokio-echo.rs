//! The echo server of `examples/echo.rs` on the tokio adapter: every text
//! and binary message comes back unchanged.
//!
//! ```text
//! cargo run --release --features tokio --example tokio-echo -- [ADDR] [--current-thread] [--quiet]
//! cargo run --release --features tokio --example tokio-echo -- --tls-cert cert.pem --tls-key key.pem [ADDR]
//! ```
//!
//! With `--tls-cert` and `--tls-key` (PEM files: the certificate chain, leaf
//! first, and its private key) it serves `wss://` and its page over
//! `https://` instead, as `echo` does.
//!
//! - any path is accepted, except `/reject`, refused with 403;
//! - a client offering subprotocols gets `chat` or `superchat` if it offered
//!   one of them, otherwise none;
//! - permessage-deflate is accepted when offered (`Config::default`, with
//!   the `deflate` feature);
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
#[path = "shared/server_args.rs"]
mod server_args;

use echo_rules::decide;
use rfc6455::tokio::ServerBuilder;
use rfc6455::Config;
use server_args::args_with_switches;
use tokio::net::{TcpListener, TcpStream};

// Errors end the program with their message (`Display`), not the
// `Debug` form that returning them from `main` would print.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = args_with_switches("127.0.0.1:9001", &["--current-thread", "--quiet"])?;
    let (addr, tls) = (args.addr, args.tls);
    let flag = |name: &str| args.switches.iter().any(|a| a == name);
    let runtime = if flag("--current-thread") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    // 16 MiB messages and frames: what the Autobahn|Testsuite sends.
    let server = ServerBuilder::new().config(Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    });
    let server = match tls {
        #[cfg(feature = "tls")]
        Some((cert, key)) => {
            println!("echo server on wss://{addr}/ (test page: https://{addr}/)");
            server.tls(rfc6455::tls::server_config_from_pem(cert, key)?)
        }
        #[cfg(not(feature = "tls"))]
        Some(_) => return Err("--tls-cert needs the `tls` feature".into()),
        None => {
            println!("echo server on ws://{addr}/ (test page: http://{addr}/)");
            server
        }
    };
    let quiet = flag("--quiet");
    Ok(runtime.block_on(serve(addr, server, quiet))?)
}

async fn serve(addr: String, server: ServerBuilder, quiet: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
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
