//! The client side of the Autobahn|Testsuite protocol: runs every case the
//! fuzzing server offers, echoing each message, then asks it to write its
//! reports. Built with the `deflate` feature, it offers permessage-deflate (the
//! default `Config` then does), so the
//! compression cases (12.* and 13.*) run too.
//!
//! ```text
//! cargo run --release --example autobahn-client -- [ws://127.0.0.1:9001] [AGENT]
//! ```

use rfc6455::blocking::ClientBuilder;
use rfc6455::{Config, Error};

// Errors end the program with their message (`Display`), not the
// `Debug` form that returning them from `main` would print.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "rfc6455".into());
    let config = Config {
        max_frame_size: 16 << 20,
        max_message_size: 16 << 20,
        ..Config::default()
    };

    let mut ws = ClientBuilder::new(format!("{base}/getCaseCount")).connect()?;
    let count: u32 = match ws.recv()? {
        Some(message) => String::from_utf8_lossy(message.as_bytes())
            .trim()
            .parse()
            .map_err(|_| Error::InvalidUrl("case count is not a number".into()))?,
        None => return Err(Error::AbnormalClosure),
    };
    while ws.recv()?.is_some() {}
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match ClientBuilder::new(url).config(config.clone()).connect() {
            Ok(mut ws) => {
                // Errors are part of the tests (the suite sends bad frames on
                // purpose); the connection already sent the right close code.
                while let Ok(Some(message)) = ws.recv() {
                    if ws.queue(message).is_err() {
                        break;
                    }
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }

    let mut ws = ClientBuilder::new(format!("{base}/updateReports?agent={agent}")).connect()?;
    while ws.recv()?.is_some() {}
    println!("reports updated for agent {agent}");
    Ok(())
}
