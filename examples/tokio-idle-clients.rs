//! Opens many connections to an echo server, sends one 512-byte message on
//! each and checks its echo, then keeps them all open and idle: the load
//! under which to read an echo server's memory per idle connection.
//!
//! ```text
//! cargo run --release --features tokio --example tokio-idle-clients -- ws://127.0.0.1:9001 10000 [--no-deflate]
//! grep VmRSS /proc/$(pgrep -n tokio-echo)/status    # the server's, before and after
//! ```
//!
//! It prints `ready N` once every connection has had its echo, and holds
//! them (answering the server's heartbeat pings) until it is stopped.
//! Built with the `deflate` feature the clients offer permessage-deflate
//! (the default `Config` then does), so the 512-byte echo is compressed
//! both ways; `--no-deflate` offers none.

use rfc6455::tokio::ClientBuilder;
use rfc6455::{Config, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), rfc6455::Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    // Without the deflate feature the clients offer nothing to turn off.
    let no_deflate = args.any(|a| a == "--no-deflate");
    let config = Config {
        #[cfg(feature = "deflate")]
        deflate: if no_deflate {
            None
        } else {
            Config::default().deflate
        },
        ..Config::default()
    };
    #[cfg(not(feature = "deflate"))]
    let _ = no_deflate;
    let client = ClientBuilder::new(url).no_heartbeat().config(config);
    let payload = Message::from(vec![0x5a; 512]);
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        let mut ws = client.connect().await?;
        ws.send(payload.clone()).await?;
        assert_eq!(ws.recv().await?, Some(payload.clone()), "echo differs");
        sockets.push(ws);
    }
    println!("ready {count}");
    // Answers pings while idle; ends when the server goes away.
    let mut tasks = tokio::task::JoinSet::new();
    for mut ws in sockets {
        tasks.spawn(async move { while let Ok(Some(_)) = ws.recv().await {} });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}
