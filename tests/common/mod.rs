//! Helpers shared by the integration tests: moving bytes between two cores,
//! draining events, and an independent (test-side) codec for frames and
//! HTTP heads, so the tests check the wire bytes without trusting the
//! library's own decoder.
#![allow(dead_code)]

use rfc6455::{Accept, ClientRequest, Config, Connection, Error, Event, ReadyState, Role};

/// Takes everything `conn` has queued for the transport.
pub fn drain(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while conn.buffered_amount() > 0 {
        let chunk = conn.output().to_vec();
        assert!(!chunk.is_empty(), "buffered_amount > 0 but output() empty");
        conn.consume_output(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out
}

/// Moves all queued bytes of `from` into `to`; returns how many moved.
pub fn pump(from: &mut Connection, to: &mut Connection) -> usize {
    let bytes = drain(from);
    to.receive(&bytes);
    bytes.len()
}

/// Every event available now; panics on an error.
pub fn events(conn: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        match conn.next_event() {
            Ok(Some(event)) => out.push(event),
            Ok(None) => return out,
            Err(e) => panic!("unexpected error after {out:?}: {e}"),
        }
    }
}

/// Events until `None` or the first error.
pub fn events_until_error(conn: &mut Connection) -> (Vec<Event>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match conn.next_event() {
            Ok(Some(event)) => out.push(event),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// Like [`events_until_error`], through `next_event_ref` (copying each
/// lent event out).
pub fn events_until_error_ref(conn: &mut Connection) -> (Vec<Event>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match conn.next_event_ref() {
            Ok(Some(event)) => out.push(event.into_owned()),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// A client and a server core, both open after an in-memory handshake.
pub fn open_pair(client_config: Config, server_config: Config) -> (Connection, Connection) {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/chat").unwrap(),
        client_config,
    )
    .unwrap();
    let mut server = Connection::server(server_config);
    pump(&mut client, &mut server);
    match events(&mut server).as_slice() {
        [Event::Request(req)] => assert_eq!(req.path(), "/chat"),
        other => panic!("expected a request, got {other:?}"),
    }
    server.accept(Accept::new()).unwrap();
    pump(&mut server, &mut client);
    match events(&mut client).as_slice() {
        [Event::Open(_)] => {}
        other => panic!("expected open, got {other:?}"),
    }
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert_eq!(server.ready_state(), ReadyState::Open);
    (client, server)
}

pub fn default_pair() -> (Connection, Connection) {
    open_pair(Config::default(), Config::default())
}

// ------------------------------------------------------------ frames

/// A frame as seen on the wire, payload already unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload: Vec<u8>,
    /// How the length was encoded: 0 (7-bit), 126 (16-bit) or 127 (64-bit).
    pub len_form: u8,
}

impl WireFrame {
    /// The close code carried by a close frame, if any.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, 0x8, "not a close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    pub fn close_reason(&self) -> &str {
        std::str::from_utf8(&self.payload[2..]).expect("close reason is UTF-8")
    }
}

/// Parses a byte string made of whole frames (panics on a trailing partial
/// frame).
pub fn parse_frames(mut bytes: &[u8]) -> Vec<WireFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "truncated frame header");
        let (b0, b1) = (bytes[0], bytes[1]);
        let mut pos = 2;
        let len_form = b1 & 0x7f;
        let len = match len_form {
            126 => {
                let l = u16::from_be_bytes([bytes[2], bytes[3]]) as u64;
                pos = 4;
                l
            }
            127 => {
                let l = u64::from_be_bytes(bytes[2..10].try_into().unwrap());
                pos = 10;
                l
            }
            n => n as u64,
        };
        let mask = if b1 & 0x80 != 0 {
            let key: [u8; 4] = bytes[pos..pos + 4].try_into().unwrap();
            pos += 4;
            Some(key)
        } else {
            None
        };
        let end = pos + len as usize;
        assert!(bytes.len() >= end, "truncated frame payload");
        let mut payload = bytes[pos..end].to_vec();
        if let Some(key) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(WireFrame {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x7,
            opcode: b0 & 0x0f,
            mask,
            payload,
            len_form: if len_form >= 126 { len_form } else { 0 },
        });
        bytes = &bytes[end..];
    }
    frames
}

/// Encodes a frame by hand (shortest length form), masking with `mask`.
pub fn encode_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = vec![(fin as u8) << 7 | (rsv & 7) << 4 | (opcode & 0x0f)];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// The fixed key the tests mask with when playing the client.
pub const TEST_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame as the peer of `receiver` must send it: masked towards a server,
/// unmasked towards a client.
pub fn frame_to(receiver: Role, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = match receiver {
        Role::Server => Some(TEST_KEY),
        Role::Client => None,
    };
    encode_frame(fin, 0, opcode, mask, payload)
}

/// Asserts that `conn` queued exactly one close frame with `code`, masked
/// according to its role, and returns it.
pub fn assert_single_close(conn: &mut Connection, code: u16) -> WireFrame {
    let bytes = drain(conn);
    let frames = parse_frames(&bytes);
    assert_eq!(frames.len(), 1, "expected one close frame, got {frames:?}");
    let f = frames.into_iter().next().unwrap();
    assert_eq!(f.opcode, 0x8, "{f:?}");
    assert!(f.fin);
    assert_eq!(f.rsv, 0);
    assert_eq!(
        f.mask.is_some(),
        conn.role() == Role::Client,
        "mask bit for {:?}",
        conn.role()
    );
    assert_eq!(f.close_code(), Some(code), "{f:?}");
    assert!(f.payload.len() <= 125);
    let _ = f.close_reason();
    f
}

// ------------------------------------------------------------ HTTP heads

/// An HTTP head: start line and headers, parsed by hand.
#[derive(Debug)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
    /// Bytes after the blank line.
    pub body: Vec<u8>,
}

impl Head {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
}

pub fn parse_head(bytes: &[u8]) -> Head {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head ends with a blank line");
    let text = std::str::from_utf8(&bytes[..end]).expect("head is UTF-8");
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap().to_owned();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("header line has a colon");
            (n.to_owned(), v.trim().to_owned())
        })
        .collect();
    Head {
        start,
        headers,
        body: bytes[end + 4..].to_vec(),
    }
}

pub const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The request of RFC 6455 section 1.2 (with version 13), plus `extra`
/// header lines (each ending in CRLF).
pub fn rfc_request(extra: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {RFC_KEY}\r\n\
         Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// A valid 101 answer for `key`, plus `extra` header lines.
pub fn response_101(key: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        rfc6455::handshake::accept_key(key.as_bytes())
    )
}

/// The key a client connection put in its queued request.
pub fn client_key(client: &Connection) -> String {
    let head = parse_head(client.output());
    head.get("Sec-WebSocket-Key").unwrap().to_owned()
}

// ------------------------------------------------------------ randomness

/// A small deterministic generator (xorshift64*), for reproducible splits.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Feeds `bytes` to `conn` in pieces of the given sizes (cycled), collecting
/// events after each piece.
pub fn feed_in_pieces(
    conn: &mut Connection,
    bytes: &[u8],
    sizes: &mut dyn FnMut() -> usize,
) -> Vec<Event> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = sizes().clamp(1, rest.len());
        conn.receive(&rest[..n]);
        rest = &rest[n..];
        out.extend(events(conn));
    }
    out
}

/// Loopback helpers: a peer that speaks the handshake by hand, so a test can
/// then send any bytes it likes.
pub mod raw {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    /// Sends the RFC's example upgrade request on `stream` and reads the
    /// response head; asserts it is a 101.
    pub fn client_handshake(stream: &mut TcpStream) {
        stream
            .write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
    }

    /// Connects to `addr` and completes a hand-made client handshake.
    pub fn client(addr: SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        client_handshake(&mut stream);
        stream
    }

    /// Reads a client's upgrade request from `stream` and answers 101.
    pub fn server_handshake(stream: &mut TcpStream) {
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_string();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key")
            .trim()
            .to_owned();
        let accept = rfc6455::handshake::accept_key(key.as_bytes());
        write!(
            stream,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .unwrap();
    }
}

/// The size and count of the messages each end sends in
/// [`split_exchange`]: together more than loopback sockets buffer.
pub const SPLIT_SIZE: usize = 12 << 20;
pub const SPLIT_COUNT: usize = 2;
/// The write timeout both ends of a split exchange set: a write that
/// waits this long on a peer that does not read fails the test.
pub const SPLIT_WRITE_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Splits `ws`, sends [`SPLIT_COUNT`] binary messages of [`SPLIT_SIZE`]
/// incompressible bytes (from the seed `fill`, so that compression cannot
/// shrink them below the socket buffers) from another thread while this
/// one receives as many from the peer, each checked against what the
/// peer's seed `peer_fill` makes; returns that seed for each message
/// received whole, and how the sends went.
pub fn split_exchange<S: rfc6455::blocking::Split + Send + 'static>(
    ws: rfc6455::blocking::WebSocket<S>,
    fill: u8,
    peer_fill: u8,
) -> (Vec<u8>, Result<(), Error>) {
    let (mut reader, sender) = ws.split().unwrap();
    let sending = std::thread::spawn(move || -> Result<(), Error> {
        for _ in 0..SPLIT_COUNT {
            sender.send_binary(&incompressible(SPLIT_SIZE, fill.into()))?;
        }
        Ok(())
    });
    let mut made_of = Vec::new();
    for _ in 0..SPLIT_COUNT {
        match reader.recv().unwrap() {
            Some(rfc6455::Message::Binary(data)) => {
                assert!(data == incompressible(SPLIT_SIZE, peer_fill.into()));
                made_of.push(peer_fill);
            }
            other => panic!("expected a binary message, got {other:?}"),
        }
    }
    (made_of, sending.join().unwrap())
}

/// Bytes no compressor can shrink (xorshift from `seed`), so that a test
/// about how much a socket or a queue holds means the same with
/// permessage-deflate negotiated (the workspace's test run turns the
/// feature on).
pub fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Checks a client's handshake timeout: `Error::Timeout` naming `url`, in
/// `url()` and in its message.
pub fn assert_timeout_names(err: &Error, url: &str) {
    assert!(
        matches!(err, Error::Timeout { url: Some(u), .. } if u == url),
        "{err:?}"
    );
    assert_eq!(err.url(), Some(url));
    assert_eq!(
        err.to_string(),
        format!("timed out: opening handshake with {url}")
    );
}

/// Checks a client's refusal by a server answering 403 "go away":
/// `Error::Handshake` naming `url`, the status and the body.
pub fn assert_refusal_names(err: &Error, url: &str) {
    assert!(
        matches!(
            err,
            Error::Handshake {
                error: rfc6455::HandshakeError::Rejected { status: 403, .. },
                url: Some(u),
            } if u == url
        ),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("handshake with {url} failed: ")),
        "{shown}"
    );
    assert!(
        shown.contains("HTTP 403") && shown.contains("go away"),
        "{shown}"
    );
    assert!(std::error::Error::source(err).is_some());
}
