//! The client through an HTTP proxy: a small CONNECT proxy that the tests
//! start on 127.0.0.1, tunnelling to our servers (ws:// and wss://), asking
//! for credentials, refusing, or dropping the tunnel. Every wait bounded.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientBuilder, ServerBuilder};
use rfc6455::{Error, Message};

const LIMIT: Duration = Duration::from_secs(10);

/// What the test proxy does with the one connection it serves.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Opens the tunnel (after checking `Basic` credentials when given).
    Tunnel(Option<&'static str>),
    /// Answers with this status and closes.
    Refuse(u16),
    /// Answers 200, then closes at once.
    DropTunnel,
    /// Closes without answering.
    Hangup,
    /// Never answers.
    Silent,
}

/// Starts the proxy for one connection; returns its port and a handle
/// giving the request head it received.
fn start_proxy(behaviour: Behaviour) -> (u16, thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        client.set_read_timeout(Some(LIMIT)).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            if client.read(&mut byte).unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let target = head
            .strip_prefix("CONNECT ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap()
            .to_string();
        let answer = |client: &mut TcpStream, status: &str, extra: &str| {
            let text = format!("HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\n\r\n");
            client.write_all(text.as_bytes()).unwrap();
        };
        match behaviour {
            Behaviour::Refuse(status) => answer(&mut client, &format!("{status} No"), ""),
            Behaviour::Hangup => {}
            Behaviour::Silent => {
                let _ = client.read(&mut [0u8; 16]);
            }
            Behaviour::DropTunnel => {
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
            }
            Behaviour::Tunnel(Some(expected))
                if !head.contains(&format!("\r\nProxy-Authorization: Basic {expected}\r\n")) =>
            {
                answer(
                    &mut client,
                    "407 Proxy Authentication Required",
                    "Proxy-Authenticate: Basic realm=\"test\"\r\n",
                );
            }
            Behaviour::Tunnel(_) => {
                let upstream = TcpStream::connect(&target).unwrap();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                client.set_read_timeout(None).unwrap();
                let (mut up_read, mut down_write) =
                    (upstream.try_clone().unwrap(), client.try_clone().unwrap());
                let down = thread::spawn(move || {
                    let _ = std::io::copy(&mut up_read, &mut down_write);
                    let _ = down_write.shutdown(Shutdown::Write);
                });
                let mut up_write = upstream;
                let _ = std::io::copy(&mut client, &mut up_write);
                let _ = up_write.shutdown(Shutdown::Write);
                down.join().unwrap();
            }
        }
        head
    });
    (port, handle)
}

/// Our echo server for one connection, set up by `setup` (TLS for
/// wss://), returning whether it closed cleanly.
fn echo_server_with(
    setup: impl FnOnce(ServerBuilder) -> ServerBuilder + Send + 'static,
) -> (u16, thread::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let server = setup(ServerBuilder::new().read_timeout(Some(LIMIT)));
        let Ok(mut ws) = server.accept(stream) else {
            return false;
        };
        while let Ok(Some(m)) = ws.recv() {
            ws.send(m).unwrap();
        }
        ws.close_event().is_some_and(|e| e.was_clean)
    });
    (port, handle)
}

fn echo_server() -> (u16, thread::JoinHandle<bool>) {
    echo_server_with(|server| server)
}

fn echo_and_close(mut ws: rfc6455::blocking::WebSocket<rfc6455::blocking::Stream>) {
    ws.send_text("through the tunnel").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Some(Message::from("through the tunnel"))
    );
    ws.close(1000, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    assert!(ws.close_event().unwrap().was_clean);
}

#[test]
fn ws_through_a_proxy() {
    let (server_port, server) = echo_server();
    let (proxy_port, proxy) = start_proxy(Behaviour::Tunnel(None));
    let ws = ClientBuilder::new(format!("ws://127.0.0.1:{server_port}/"))
        .proxy(&format!("http://127.0.0.1:{proxy_port}"))
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    echo_and_close(ws);
    assert!(server.join().unwrap());
    let head = proxy.join().unwrap();
    assert!(
        head.starts_with(&format!(
            "CONNECT 127.0.0.1:{server_port} HTTP/1.1\r\nHost: 127.0.0.1:{server_port}\r\n"
        )),
        "{head}"
    );
    assert!(!head.contains("Proxy-Authorization"));
}

#[cfg(feature = "tls")]
mod certs;

#[cfg(feature = "tls")]
#[test]
fn wss_through_a_proxy_with_credentials() {
    let pki = certs::Pki::new("rfc6455 proxy CA");
    let (server_port, server) = echo_server_with({
        let config = pki.server_config();
        move |server| server.tls(config)
    });
    // "alice:p@ss:w0rd" in base64.
    let expected = "YWxpY2U6cEBzczp3MHJk";
    let (proxy_port, proxy) = start_proxy(Behaviour::Tunnel(Some(expected)));
    let ws = ClientBuilder::new(format!("wss://127.0.0.1:{server_port}/"))
        .tls_config(pki.client_config())
        .proxy(&format!(
            "http://alice:p%40ss%3Aw0rd@127.0.0.1:{proxy_port}/"
        ))
        .read_timeout(Some(LIMIT))
        .connect()
        .unwrap();
    assert!(ws.get_ref().is_tls());
    echo_and_close(ws);
    assert!(server.join().unwrap());
    let head = proxy.join().unwrap();
    assert!(
        head.contains(&format!("Proxy-Authorization: Basic {expected}\r\n")),
        "{head}"
    );
}

fn proxy_error(result: Result<impl std::fmt::Debug, Error>) -> (Option<u16>, String) {
    match result {
        Err(e @ Error::Proxy { status, .. }) => (status, e.to_string()),
        other => panic!("expected a proxy error, got {other:?}"),
    }
}

#[test]
fn a_proxy_refusal_carries_its_status() {
    for status in [403, 502] {
        let (proxy_port, proxy) = start_proxy(Behaviour::Refuse(status));
        let result = ClientBuilder::new("ws://127.0.0.1:9/")
            .proxy(&format!("127.0.0.1:{proxy_port}"))
            .connect();
        let (got, text) = proxy_error(result);
        assert_eq!(got, Some(status));
        assert!(
            text.contains(&format!("proxy 127.0.0.1:{proxy_port}"))
                && text.contains(&format!("refused the tunnel to 127.0.0.1:9: {status}"))
                && text.ends_with("(connecting to ws://127.0.0.1:9/)"),
            "{text}"
        );
        proxy.join().unwrap();
    }
}

#[test]
fn a_proxy_wanting_credentials_answers_407() {
    // Without credentials.
    let (proxy_port, proxy) = start_proxy(Behaviour::Tunnel(Some("dXNlcjpwYXNz")));
    let result = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy(&format!("http://127.0.0.1:{proxy_port}"))
        .connect();
    let (status, text) = proxy_error(result);
    assert_eq!(status, Some(407));
    assert!(text.contains("wants credentials"), "{text}");
    proxy.join().unwrap();
    // With the wrong ones; the message does not show them.
    let (proxy_port, proxy) = start_proxy(Behaviour::Tunnel(Some("dXNlcjpwYXNz")));
    let result = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy(&format!("http://user:wrong@127.0.0.1:{proxy_port}"))
        .connect();
    let (status, text) = proxy_error(result);
    assert_eq!(status, Some(407));
    assert!(
        text.contains("credentials were refused") && !text.contains("wrong"),
        "{text}"
    );
    proxy.join().unwrap();
}

#[test]
fn a_proxy_that_drops_the_tunnel() {
    // Before answering.
    let (proxy_port, proxy) = start_proxy(Behaviour::Hangup);
    let result = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy(&format!("127.0.0.1:{proxy_port}"))
        .connect();
    let (status, text) = proxy_error(result);
    assert_eq!(status, None);
    assert!(
        text.contains("closed the connection before answering"),
        "{text}"
    );
    proxy.join().unwrap();

    // Right after opening it: the WebSocket handshake finds no server.
    let (proxy_port, proxy) = start_proxy(Behaviour::DropTunnel);
    let result = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy(&format!("127.0.0.1:{proxy_port}"))
        .handshake_timeout(LIMIT)
        .connect();
    assert!(
        matches!(result, Err(Error::Handshake { .. } | Error::Io(_))),
        "{result:?}"
    );
    proxy.join().unwrap();

    #[cfg(feature = "tls")]
    {
        // Over wss://, the TLS handshake finds the tunnel gone.
        let (proxy_port, proxy) = start_proxy(Behaviour::DropTunnel);
        let result = ClientBuilder::new("wss://127.0.0.1:9/")
            .proxy(&format!("127.0.0.1:{proxy_port}"))
            .handshake_timeout(LIMIT)
            .connect();
        // An end of stream, or a reset when the ClientHello reached the
        // closed socket first.
        match result {
            Err(Error::Tls(e)) => assert_eq!(e.kind(), rfc6455::TlsErrorKind::Closed),
            Err(Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) => {}
            other => panic!("{other:?}"),
        }
        proxy.join().unwrap();
    }
}

#[test]
fn a_silent_proxy_is_bounded_by_the_handshake_timeout() {
    let (proxy_port, proxy) = start_proxy(Behaviour::Silent);
    let started = Instant::now();
    let result = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy(&format!("127.0.0.1:{proxy_port}"))
        .handshake_timeout(Duration::from_millis(300))
        .connect();
    assert!(
        matches!(&result, Err(e @ Error::Timeout { .. })
            if e.to_string() == "timed out: opening handshake (proxy CONNECT) with ws://127.0.0.1:9/"),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(result);
    proxy.join().unwrap();
}

#[test]
fn proxy_urls_are_checked() {
    let result = ClientBuilder::new("ws://127.0.0.1:9/")
        .proxy("https://proxy.invalid:443")
        .connect();
    assert!(
        matches!(result, Err(Error::InvalidUrl(ref why)) if why.contains("only http://")),
        "{result:?}"
    );
}

/// The environment is read only when asked, and NO_PROXY exempts hosts.
/// (The one test here that touches the environment.)
#[test]
fn proxy_from_env_is_opt_in() {
    let (proxy_port, proxy) = start_proxy(Behaviour::Refuse(403));
    std::env::set_var("HTTP_PROXY", format!("http://127.0.0.1:{proxy_port}"));
    std::env::set_var("NO_PROXY", "example.com, 127.0.0.1");
    let (port1, server1) = echo_server();
    let exempt = ClientBuilder::new(format!("ws://127.0.0.1:{port1}/"))
        .read_timeout(Some(LIMIT))
        .proxy_from_env();
    std::env::remove_var("NO_PROXY");
    let (port2, server2) = echo_server();
    let not_asked =
        ClientBuilder::new(format!("ws://127.0.0.1:{port2}/")).read_timeout(Some(LIMIT));
    let (port3, server3) = echo_server();
    let asked = ClientBuilder::new(format!("ws://127.0.0.1:{port3}/")).proxy_from_env();
    std::env::remove_var("HTTP_PROXY");

    echo_and_close(exempt.connect().unwrap());
    assert!(server1.join().unwrap());
    echo_and_close(not_asked.connect().unwrap());
    assert!(server2.join().unwrap());
    let (status, _) = proxy_error(asked.connect());
    assert_eq!(status, Some(403));
    assert!(proxy
        .join()
        .unwrap()
        .starts_with(&format!("CONNECT 127.0.0.1:{port3} ")));
    // The third server was never reached; end it.
    drop(TcpStream::connect(("127.0.0.1", port3)).unwrap());
    assert!(!server3.join().unwrap());
}
