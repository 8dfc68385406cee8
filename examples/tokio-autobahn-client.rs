//! The client side of the Autobahn|Testsuite protocol on the tokio adapter:
//! runs every case the fuzzing server offers, echoing each message, then
//! asks it to write its reports. Built with the `deflate` feature, it offers
//! permessage-deflate (the default `Config` then does), so the compression cases (12.* and 13.*) run too.
//!
//! ```text
//! cargo run --release --features tokio --example tokio-autobahn-client -- [ws://127.0.0.1:9001] [AGENT]
//! ```

use rfc6455::tokio::ClientBuilder;
use rfc6455::{Config, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "rfc6455-tokio".into());
    let config = Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    };

    let mut ws = ClientBuilder::new(format!("{base}/getCaseCount"))
        .connect()
        .await?;
    let count: u32 = match ws.recv().await? {
        Some(message) => String::from_utf8_lossy(message.as_bytes())
            .trim()
            .parse()
            .map_err(|_| Error::InvalidUrl("case count is not a number".into()))?,
        None => return Err(Error::AbnormalClosure),
    };
    while ws.recv().await?.is_some() {}
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match ClientBuilder::new(url)
            .config(config.clone())
            .connect()
            .await
        {
            Ok(mut ws) => {
                // Errors are part of the tests (the suite sends bad frames on
                // purpose); the connection already sent the right close code.
                while let Ok(Some(message)) = ws.recv().await {
                    if ws.queue(message).is_err() {
                        break;
                    }
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }

    let mut ws = ClientBuilder::new(format!("{base}/updateReports?agent={agent}"))
        .connect()
        .await?;
    while ws.recv().await?.is_some() {}
    println!("reports updated for agent {agent}");
    Ok(())
}
