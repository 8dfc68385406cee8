//! A connection with permessage-deflate negotiated (by the real opening
//! handshake, parameters from the input) fed a stream of frames built from
//! the input: the same bytes fed whole and in arbitrary pieces must give
//! the same events, the same error and the same frames written; what was
//! compressed correctly arrives intact and in order, as the reference
//! model below predicts; inflated bytes never exceed the limits, and the
//! memory the connection holds stays bounded by them; a failure's close
//! code is 1002 (bad compressed data, RSV misuse), 1007 (bad UTF-8) or
//! 1009 (too big), the one the model predicts.
//!
//! The target is the peer: it compresses with `flate2` itself, with the
//! window and context takeover the handshake agreed for the peer's
//! direction, and masks what a client sends.
//!
//! Input layout: `flags, bits, level_n, size[0..n], op...`
//! - flags bit 0: the connection under test is the client (else the
//!   server); bit 1: `server_no_context_takeover`; bit 2:
//!   `client_no_context_takeover`; bit 3: auto-pong off; bits 4-5: the
//!   limits (see [`limits`]); bit 6: feed the pieces through
//!   `read_buf`/`commit`; bit 7: read their events with `next_event_ref`.
//! - bits: low nibble `server_max_window_bits`, high nibble
//!   `client_max_window_bits`: 0..=7 is 8..=15 bits, 8..=11 absent,
//!   12..=15 absent too, except that a client's offer then carries a bare
//!   `client_max_window_bits`.
//! - level_n: low nibble the peer's compression level (mod 10), high
//!   nibble `n % 8 + 1` piece sizes, used in turn as in connection_split
//!   (for the first 2048 pieces; the rest of the stream goes in 16 KiB
//!   pieces).
//! - ops, each an opcode byte and its arguments (see [`Stream::op`]).
#![no_main]

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use libfuzzer_sys::fuzz_target;
use rfc6455::{Accept, ClientRequest, Config, Connection, DeflateConfig, Event, ReadyState, Role};
use rfc6455_fuzz::{
    check_output, close_code_valid, drain_frames_with, parse_output, take_output, utf8_dead, Ev,
};

/// What a sync flush ends with, left off a message's last frame.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const RSV1: u8 = 0b100;
const MAX_OPS: usize = 48;
const MAX_PIECES: usize = 2048;

fn piece_size(b: u8) -> usize {
    if b < 0xf0 {
        b as usize % 48 + 1
    } else {
        ((b & 0x0f) as usize + 1) * 1024
    }
}

/// `(max_frame_size, max_message_size)`: a few KiB, so that a zip bomb of
/// a few hundred compressed bytes crosses them.
fn limits(sel: u8) -> (usize, usize) {
    match sel & 3 {
        0 => (1024, 2048),
        1 => (1024, 8192),
        2 => (4096, 4096),
        _ => (8192, 32 << 10),
    }
}

/// The input, read a byte at a time; zeroes once it runs out.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0 {
            [b, rest @ ..] => {
                self.0 = rest;
                *b
            }
            [] => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// A window parameter: `Some(Some(bits))`, `Some(None)` for a bare
/// `client_max_window_bits`, `None` when absent.
fn window_param(nibble: u8) -> Option<Option<u8>> {
    match nibble {
        0..=7 => Some(Some(8 + nibble)),
        8..=11 => None,
        _ => Some(None),
    }
}

#[derive(Clone, Copy, Debug)]
struct Params {
    role: Role,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_bits: Option<Option<u8>>,
    client_bits: Option<Option<u8>>,
}

/// What the peer (this target) may compress with: its window and whether
/// it must start each message afresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PeerTerms {
    bits: u8,
    reset: bool,
}

fn config(max_frame: usize, max_message: usize, auto_pong: bool, deflate: DeflateConfig) -> Config {
    Config {
        max_frame_size: max_frame,
        max_message_size: max_message,
        max_handshake_size: 4096,
        auto_pong,
        max_buffered_amount: 1 << 20,
        deflate: Some(deflate),
    }
}

/// A `Sec-WebSocket-Extensions` value's parameters (one extension).
fn ext_params(value: &str) -> Vec<(String, Option<String>)> {
    let mut parts = value.split(';').map(str::trim);
    assert_eq!(parts.next(), Some("permessage-deflate"), "answer {value:?}");
    parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
            None => (p.to_owned(), None),
        })
        .collect()
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// A server that accepts anything, opened by a client offering `p`; the
/// peer is that client.
fn open_server(p: &Params, cfg: Config) -> (Connection, PeerTerms) {
    let mut offer = String::from("permessage-deflate");
    if p.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if p.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if let Some(Some(bits)) = p.server_bits {
        offer.push_str(&format!("; server_max_window_bits={bits}"));
    }
    match p.client_bits {
        Some(Some(bits)) => offer.push_str(&format!("; client_max_window_bits={bits}")),
        Some(None) => offer.push_str("; client_max_window_bits"),
        None => {}
    }
    let mut conn = Connection::server(cfg);
    conn.receive(
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: {offer}\r\n\r\n"
        )
        .as_bytes(),
    );
    match conn.next_event() {
        Ok(Some(Event::Request(_))) => {}
        other => panic!("server: {other:?} for offer {offer:?}"),
    }
    conn.accept(Accept::new()).expect("accept");
    let head = String::from_utf8(take_output(&mut conn)).expect("answer head");
    let answer = header(&head, "Sec-WebSocket-Extensions")
        .unwrap_or_else(|| panic!("offer {offer:?} declined by a server accepting all:\n{head}"));
    let mut terms = PeerTerms {
        bits: 15,
        reset: false,
    };
    let (mut snct, mut server_bits) = (false, None);
    for (name, value) in ext_params(answer) {
        match (name.as_str(), value) {
            ("server_no_context_takeover", None) => snct = true,
            ("client_no_context_takeover", None) => terms.reset = true,
            ("server_max_window_bits", Some(v)) => server_bits = Some(v.parse::<u8>().unwrap()),
            ("client_max_window_bits", Some(v)) => terms.bits = v.parse().unwrap(),
            other => panic!("answer {answer:?} has {other:?}"),
        }
    }
    // The server's policy allows everything: it agrees to the offer as it is.
    assert_eq!(snct, p.server_no_context_takeover, "answer {answer:?}");
    assert_eq!(
        terms.reset, p.client_no_context_takeover,
        "answer {answer:?}"
    );
    assert_eq!(server_bits, p.server_bits.flatten(), "answer {answer:?}");
    assert_eq!(
        terms.bits,
        p.client_bits.flatten().unwrap_or(15),
        "answer {answer:?} to {offer:?}"
    );
    (conn, terms)
}

/// A client configured with `p`, opened by a server answering what `p`
/// says; the peer is that server.
fn open_client(p: &Params, cfg: Config) -> (Connection, PeerTerms) {
    let mut conn =
        Connection::client(ClientRequest::new("ws://example.com/").unwrap(), cfg).unwrap();
    let request = String::from_utf8(take_output(&mut conn)).unwrap();
    let key = header(&request, "Sec-WebSocket-Key").unwrap();
    let accept = rfc6455::handshake::accept_key(key.as_bytes());
    let mut answer = String::from("permessage-deflate");
    if p.server_no_context_takeover {
        answer.push_str("; server_no_context_takeover");
    }
    if p.client_no_context_takeover {
        answer.push_str("; client_no_context_takeover");
    }
    let server_bits = p.server_bits.flatten();
    if let Some(bits) = server_bits {
        answer.push_str(&format!("; server_max_window_bits={bits}"));
    }
    if let Some(Some(bits)) = p.client_bits {
        answer.push_str(&format!("; client_max_window_bits={bits}"));
    }
    conn.receive(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n"
        )
        .as_bytes(),
    );
    match conn.next_event() {
        Ok(Some(Event::Open(_))) => {}
        other => panic!("client: {other:?} for answer {answer:?} to\n{request}"),
    }
    let terms = PeerTerms {
        bits: server_bits.unwrap_or(15),
        reset: p.server_no_context_takeover,
    };
    (conn, terms)
}

// ------------------------------------------------------------------ model

/// The unfinished fragmented message.
struct Frag {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
}

/// What the connection should report for the frames sent so far: RFC 6455
/// and 7692 with the library's documented limits, applied to the inflated
/// bytes of compressed messages (each frame's at most `max_frame`, the
/// message's at most `max_message`).
struct Model {
    max_frame: usize,
    max_message: usize,
    events: Vec<Ev>,
    error: Option<u16>,
    closed: bool,
    /// Frames whose effect the model cannot tell (corrupt or random
    /// compressed data) were sent: from there on only the events before
    /// them are checked.
    exact: bool,
    frag: Option<Frag>,
}

impl Model {
    fn running(&self) -> bool {
        self.exact && self.error.is_none() && !self.closed
    }

    fn fail(&mut self, code: u16) {
        self.error = Some(code);
    }

    /// One frame; `inflated` is what a compressed message's frame
    /// inflates to (`None` for other frames).
    fn frame(&mut self, fin: bool, rsv: u8, opcode: u8, payload: &[u8], inflated: Option<&[u8]>) {
        if !self.running() {
            return;
        }
        let control = opcode >= 8;
        let starts_compressed = rsv == RSV1 && matches!(opcode, 1 | 2);
        if rsv != 0 && !starts_compressed {
            return self.fail(1002);
        }
        if !control && payload.len() > self.max_frame {
            return self.fail(1009);
        }
        match (opcode, &self.frag) {
            (0, None) | (1 | 2, Some(_)) => return self.fail(1002),
            _ => {}
        }
        let continues_compressed = opcode == 0 && self.frag.as_ref().is_some_and(|f| f.compressed);
        let compressed = starts_compressed || continues_compressed;
        if !control && !compressed {
            let so_far = self.frag.as_ref().map_or(0, |f| f.data.len());
            if so_far + payload.len() > self.max_message {
                return self.fail(1009);
            }
        }
        match opcode {
            9 => return self.events.push(Ev::Ping(payload.to_vec())),
            10 => return self.events.push(Ev::Pong(payload.to_vec())),
            8 => {
                // Only valid closes are sent (code and UTF-8 reason).
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                assert!(close_code_valid(code));
                self.events
                    .push(Ev::Close(Some((code, payload[2..].to_vec()))));
                self.closed = true;
                return;
            }
            _ => {}
        }
        let text = opcode == 1 || (opcode == 0 && self.frag.as_ref().is_some_and(|f| f.text));
        let mut data = match opcode {
            0 => self.frag.take().expect("checked").data,
            _ => Vec::new(),
        };
        if compressed {
            let inflated = inflated.expect("a compressed frame's inflated bytes");
            let before = data.len();
            if before + inflated.len() > self.max_message.min(before + self.max_frame) {
                return self.fail(1009);
            }
            data.extend_from_slice(inflated);
        } else {
            data.extend_from_slice(payload);
        }
        if text
            && (if fin {
                std::str::from_utf8(&data).is_err()
            } else {
                utf8_dead(&data)
            })
        {
            return self.fail(1007);
        }
        if fin {
            self.events.push(if text {
                Ev::Text(data)
            } else {
                Ev::Binary(data)
            });
        } else {
            self.frag = Some(Frag {
                text,
                compressed,
                data,
            });
        }
    }
}

// ------------------------------------------------------------------ peer

/// The peer's compressor, and a reference inflater telling what each frame
/// it sends inflates to.
struct Peer {
    compressor: Compress,
    reference: Decompress,
    terms: PeerTerms,
    level: u32,
}

fn compress_into(c: &mut Compress, data: &[u8], out: &mut Vec<u8>) {
    let start = c.total_in();
    loop {
        let done = (c.total_in() - start) as usize;
        out.reserve(data.len() - done + 1024);
        c.compress_vec(&data[done..], out, FlushCompress::Sync)
            .expect("compress");
        if (c.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
            return;
        }
    }
}

impl Peer {
    fn new(terms: PeerTerms, level: u32) -> Self {
        Peer {
            // zlib makes no raw stream with an 8-bit window; a 9-bit
            // one never reaches back further than 250 bytes.
            compressor: Compress::new_with_window_bits(
                Compression::new(level),
                false,
                terms.bits.max(9),
            ),
            reference: Decompress::new_with_window_bits(false, 15),
            terms,
            level,
        }
    }

    /// A message compressed in `chunks` (each ending in a sync flush): one
    /// payload per chunk, the last without the tail.
    fn compress(&mut self, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = chunks
            .iter()
            .map(|chunk| {
                let mut v = Vec::new();
                compress_into(&mut self.compressor, chunk, &mut v);
                v
            })
            .collect();
        let last = out.last_mut().expect("a chunk");
        if last.is_empty() {
            // Nothing since the last flush: the stream is where a flush
            // leaves it; an empty stored block's first byte says so.
            last.push(0x00);
        } else {
            assert!(last.ends_with(&TAIL), "sync flush tail");
            last.truncate(last.len() - TAIL.len());
        }
        if self.terms.reset {
            self.compressor.reset();
        }
        out
    }

    /// What each payload of a message inflates to, read as the receiver
    /// reads it (the tail put back after the last).
    fn inflate(&mut self, payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let n = payloads.len();
        let result = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut input = p.clone();
                if i + 1 == n {
                    input.extend_from_slice(&TAIL);
                }
                let mut out = Vec::new();
                let start = self.reference.total_in();
                loop {
                    let done = (self.reference.total_in() - start) as usize;
                    out.reserve(64 << 10);
                    let status = self
                        .reference
                        .decompress_vec(&input[done..], &mut out, FlushDecompress::Sync)
                        .expect("the peer's own stream inflates");
                    assert!(!matches!(status, Status::StreamEnd));
                    if (self.reference.total_in() - start) as usize == input.len()
                        && out.len() < out.capacity()
                    {
                        break out;
                    }
                }
            })
            .collect();
        if self.terms.reset {
            self.reference = Decompress::new_with_window_bits(false, 15);
        }
        result
    }

    /// After data the model cannot follow, the peer's compressor starts
    /// afresh (harmless: a new stream needs no history).
    fn restart(&mut self) {
        self.compressor = Compress::new_with_window_bits(
            Compression::new(self.level),
            false,
            self.terms.bits.max(9),
        );
        self.reference = Decompress::new_with_window_bits(false, 15);
    }
}

// ---------------------------------------------------------------- stream

struct Stream {
    wire: Vec<u8>,
    /// Frames are masked (the connection under test is a server).
    mask: bool,
    keys: u32,
    model: Model,
    peer: Peer,
}

/// Payload bytes: `len` of them from the input, repeated when it runs
/// short (so compressible), made valid UTF-8 when `text` unless the first
/// is 0xfe (kept as they are, to reach 1007 too).
fn content(input: &mut Input, len: usize, text: bool) -> Vec<u8> {
    let src = input.take(len);
    let mut v: Vec<u8> = if src.is_empty() {
        vec![b'a'; len]
    } else {
        src.iter().copied().cycle().take(len).collect()
    };
    if text && src.first() != Some(&0xfe) {
        v = String::from_utf8_lossy(&v).into_owned().into_bytes();
    }
    v
}

/// Splits `data` into `k` pieces at cut points drawn from the input.
fn split<'d>(input: &mut Input, data: &'d [u8], k: usize) -> Vec<&'d [u8]> {
    let mut cuts: Vec<usize> = (1..k)
        .map(|_| {
            if data.is_empty() {
                0
            } else {
                input.byte() as usize * data.len() / 255
            }
        })
        .collect();
    cuts.sort_unstable();
    let mut pieces = Vec::with_capacity(k);
    let mut prev = 0;
    for c in cuts.into_iter().chain([data.len()]) {
        pieces.push(&data[prev..c]);
        prev = c;
    }
    pieces
}

/// One frame of a message as sent: `inflated` for a compressed one's.
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: Vec<u8>,
    inflated: Option<Vec<u8>>,
}

impl Stream {
    fn send(&mut self, f: &Frame) {
        self.model
            .frame(f.fin, f.rsv, f.opcode, &f.payload, f.inflated.as_deref());
        self.raw(f.fin, f.rsv, f.opcode, &f.payload);
    }

    fn raw(&mut self, fin: bool, rsv: u8, opcode: u8, payload: &[u8]) {
        let w = &mut self.wire;
        w.push((u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f));
        let mbit = if self.mask { 0x80 } else { 0 };
        match payload.len() {
            n @ 0..=125 => w.push(mbit | n as u8),
            n @ 126..=0xffff => {
                w.push(mbit | 126);
                w.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                w.push(mbit | 127);
                w.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if self.mask {
            self.keys = self.keys.wrapping_add(1);
            let key = self.keys.wrapping_mul(0x9e37_79b9).to_be_bytes();
            w.extend_from_slice(&key);
            w.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            w.extend_from_slice(payload);
        }
    }

    /// A compressed message's frames: compressed in chunks (a sync flush
    /// each, one chunk a frame) or, when `bytewise`, compressed whole and
    /// cut anywhere.
    fn compressed_frames(
        &mut self,
        input: &mut Input,
        data: &[u8],
        text: bool,
        k: usize,
        bytewise: bool,
    ) -> Vec<Frame> {
        let payloads = if bytewise {
            let whole = self.peer.compress(&[data]).pop().unwrap();
            split(input, &whole, k)
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect()
        } else {
            let chunks = split(input, data, k);
            self.peer.compress(&chunks)
        };
        let inflated = self.peer.inflate(&payloads);
        let n = payloads.len();
        payloads
            .into_iter()
            .zip(inflated)
            .enumerate()
            .map(|(i, (payload, inflated))| Frame {
                fin: i + 1 == n,
                rsv: if i == 0 { RSV1 } else { 0 },
                opcode: if i > 0 {
                    0
                } else if text {
                    1
                } else {
                    2
                },
                payload,
                inflated: Some(inflated),
            })
            .collect()
    }

    fn plain_frames(&mut self, input: &mut Input, data: &[u8], text: bool, k: usize) -> Vec<Frame> {
        let pieces = split(input, data, k);
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| Frame {
                fin: i + 1 == n,
                rsv: 0,
                opcode: if i > 0 {
                    0
                } else if text {
                    1
                } else {
                    2
                },
                payload: p.to_vec(),
                inflated: None,
            })
            .collect()
    }

    /// Sends a message's frames, a ping after the first when `ping`.
    fn send_message(&mut self, frames: &[Frame], ping: bool) {
        for (i, f) in frames.iter().enumerate() {
            self.send(f);
            if ping && i == 0 {
                self.send(&Frame {
                    fin: true,
                    rsv: 0,
                    opcode: 9,
                    payload: b"between".to_vec(),
                    inflated: None,
                });
            }
        }
    }

    /// Appends one op's frames. Op byte `o`: its low nibble mod 10 the
    /// kind, bit 4 text, bit 5 a variant, bits 6-7 the number of frames
    /// less one.
    fn op(&mut self, input: &mut Input) {
        let o = input.byte();
        let text = o & 0x10 != 0;
        let variant = o & 0x20 != 0;
        let k = (o >> 6) as usize + 1;
        let kind = (o & 0x0f) % 10;
        match kind {
            // A message compressed correctly, up to ~4 KiB.
            0 | 1 => {
                let b = input.byte();
                let len = if kind == 1 {
                    b as usize * 17
                } else {
                    b as usize
                };
                let data = content(input, len, text);
                let frames = self.compressed_frames(input, &data, text, k, variant);
                let ping = input.byte() & 1 != 0 && k > 1;
                self.send_message(&frames, ping);
            }
            // A zip bomb: up to 64 KiB (twice the largest limit) of one
            // byte, a few hundred bytes compressed.
            2 => {
                let len = (input.byte() as usize % 64 + 1) << 10;
                let data = vec![if text { b'a' } else { 0 }; len];
                let frames = self.compressed_frames(input, &data, text, k, variant);
                self.send_message(&frames, false);
            }
            // A message sent uncompressed.
            3 => {
                let len = input.byte() as usize * if variant { 17 } else { 1 };
                let data = content(input, len, text);
                let frames = self.plain_frames(input, &data, text, k);
                let ping = input.byte() & 1 != 0 && k > 1;
                self.send_message(&frames, ping);
            }
            // A ping or pong, with RSV1 set when `variant` (a violation).
            4 => {
                let len = input.byte() as usize % 126;
                let payload = input.take(len).to_vec();
                self.send(&Frame {
                    fin: true,
                    rsv: if variant { RSV1 } else { 0 },
                    opcode: if text { 10 } else { 9 },
                    payload,
                    inflated: None,
                });
            }
            // RSV misuse: a message whose frame `r` carries RSV bits
            // `bits` (RSV1 on a continuation, or RSV2/RSV3 anywhere).
            5 => {
                let b = input.byte();
                let data = content(input, b as usize, text);
                let k = k.max(2);
                let mut frames = if variant {
                    self.compressed_frames(input, &data, text, k, false)
                } else {
                    self.plain_frames(input, &data, text, k)
                };
                let r = input.byte() as usize % frames.len();
                let bits = match input.byte() % 4 {
                    0 => RSV1,
                    1 => 0b010,
                    2 => 0b001,
                    _ => 0b111,
                };
                frames[r].rsv = if r == 0 && bits == RSV1 {
                    0b110 // RSV1 on the first frame is no misuse
                } else {
                    bits
                };
                self.send_message(&frames, false);
            }
            // Compressed data the model cannot follow: a correct message
            // corrupted (a byte changed, cut short, or bytes appended).
            6 | 7 => {
                let b = input.byte();
                let data = content(input, b as usize * 4, text);
                let frames = self.compressed_frames(input, &data, text, k, variant);
                let mut frames: Vec<(bool, u8, u8, Vec<u8>)> = frames
                    .into_iter()
                    .map(|f| (f.fin, f.rsv, f.opcode, f.payload))
                    .collect();
                let which = input.byte() as usize % frames.len();
                let how = input.byte();
                let at = input.byte() as usize;
                let p = &mut frames[which].3;
                match how % 3 {
                    0 if !p.is_empty() => {
                        let i = at % p.len();
                        p[i] ^= how | 1;
                    }
                    1 => p.truncate(at % (p.len() + 1)),
                    _ => p.extend_from_slice(input.take(at % 16 + 1)),
                }
                self.model.exact = false;
                for (fin, rsv, opcode, payload) in frames {
                    self.raw(fin, rsv, opcode, &payload);
                }
                self.peer.restart();
            }
            // A raw frame with RSV1 and whatever header bits and bytes.
            8 => {
                let h = input.byte();
                let len = input.byte() as usize;
                let payload = input.take(len).to_vec();
                self.model.exact = false;
                self.raw(h & 0x80 != 0, RSV1 | ((h >> 4) & 3), h & 0x0f, &payload);
                self.peer.restart();
            }
            // A close, normal or with a code and a reason.
            _ => {
                let mut payload = vec![0x03, 0xe8];
                if variant {
                    payload.extend_from_slice(b"bye");
                }
                self.send(&Frame {
                    fin: true,
                    rsv: 0,
                    opcode: 8,
                    payload,
                    inflated: None,
                });
            }
        }
    }
}

fn open(p: &Params, cfg: Config) -> (Connection, PeerTerms) {
    let (conn, terms) = match p.role {
        Role::Server => open_server(p, cfg),
        Role::Client => open_client(p, cfg),
    };
    assert!(conn.compression_negotiated(), "{p:?}");
    assert_eq!(conn.ready_state(), ReadyState::Open);
    (conn, terms)
}

fn drain(conn: &mut Connection, events: &mut Vec<Ev>, borrowed: bool) -> Option<u16> {
    let error = drain_frames_with(conn, events, borrowed);
    let max = conn.config().max_message_size;
    for ev in events.iter() {
        if let Ev::Text(m) | Ev::Binary(m) = ev {
            assert!(m.len() <= max, "message of {} > {max}", m.len());
        }
    }
    error
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    let bits = input.byte();
    let level_n = input.byte();
    let n = (level_n >> 4) as usize % 8 + 1;
    let sizes = input.take(n).to_vec();
    if sizes.is_empty() {
        return;
    }
    let p = Params {
        role: if flags & 1 != 0 {
            Role::Client
        } else {
            Role::Server
        },
        server_no_context_takeover: flags & 2 != 0,
        client_no_context_takeover: flags & 4 != 0,
        server_bits: window_param(bits & 0x0f),
        client_bits: window_param(bits >> 4),
    };
    let auto_pong = flags & 8 == 0;
    let (max_frame, max_message) = limits(flags >> 4);
    let deflate = DeflateConfig {
        server_no_context_takeover: p.server_no_context_takeover,
        client_no_context_takeover: p.client_no_context_takeover,
        server_max_window_bits: match p.role {
            Role::Client => p.server_bits.flatten().unwrap_or(15),
            Role::Server => 15,
        },
        client_max_window_bits: match p.role {
            Role::Client => p.client_bits.flatten().unwrap_or(15),
            Role::Server => 15,
        },
        ..DeflateConfig::default()
    };
    let cfg = config(max_frame, max_message, auto_pong, deflate);
    let zero_copy = flags & 64 != 0;
    let borrowed = flags & 128 != 0;

    let (mut whole, terms) = open(&p, cfg.clone());
    let (mut split_conn, terms_split) = open(&p, cfg);
    assert_eq!(terms, terms_split);

    let mut stream = Stream {
        wire: Vec::new(),
        mask: p.role == Role::Server,
        keys: 0,
        model: Model {
            max_frame,
            max_message,
            events: Vec::new(),
            error: None,
            closed: false,
            exact: true,
            frag: None,
        },
        peer: Peer::new(terms, (level_n & 0x0f) as u32 % 10),
    };
    for _ in 0..MAX_OPS {
        if input.0.is_empty() || stream.model.error.is_some() || stream.model.closed {
            break;
        }
        stream.op(&mut input);
    }
    let wire = std::mem::take(&mut stream.wire);
    let model = stream.model;

    // Whole.
    whole.receive(&wire);
    let mut events_whole = Vec::new();
    let error_whole = drain(&mut whole, &mut events_whole, false);
    let out_whole = take_output(&mut whole);

    // In pieces, the memory held bounded by the limits throughout: a
    // partial frame and the piece after it (twice, for growth), a
    // fragmented message, the inflate buffer (at most one byte past the
    // message limit), an idle output buffer and reading ahead.
    // The ops make a wire many times the input (repeated content, bombs):
    // past `MAX_PIECES` pieces the rest goes in 16 KiB ones, which keeps
    // each run short (a piece costs a drain and a buffer check).
    let piece = |i: usize| {
        if i < MAX_PIECES {
            piece_size(sizes[i % sizes.len()])
        } else {
            16 << 10
        }
    };
    let mut max_piece = sizes.iter().map(|&b| piece_size(b)).max().unwrap();
    if wire.len() > MAX_PIECES {
        max_piece = max_piece.max(16 << 10);
    }
    let bound = 2 * (max_frame + 14 + max_piece) + 2 * (max_message + 1) + (96 << 10);
    let mut events_split = Vec::new();
    let mut error_split = None;
    let mut out_split = Vec::new();
    let (mut pos, mut i) = (0, 0);
    while pos < wire.len() {
        let end = (pos + piece(i)).min(wire.len());
        i += 1;
        let mut piece = &wire[pos..end];
        pos = end;
        if zero_copy {
            while !piece.is_empty() {
                let buf = split_conn.read_buf();
                let k = buf.len().min(piece.len());
                buf[..k].copy_from_slice(&piece[..k]);
                split_conn.commit(k);
                piece = &piece[k..];
            }
        } else {
            split_conn.receive(piece);
        }
        if error_split.is_none() {
            error_split = drain(&mut split_conn, &mut events_split, borrowed);
        } else {
            assert!(matches!(split_conn.next_event(), Ok(None)));
        }
        if split_conn.buffered_amount() > 0 {
            out_split.extend(take_output(&mut split_conn));
        }
        assert!(
            split_conn.buffer_capacity() <= bound,
            "pieces: capacity {} > bound {bound} after {pos} of {} bytes",
            split_conn.buffer_capacity(),
            wire.len()
        );
    }
    assert!(
        whole.buffer_capacity() <= bound + 2 * wire.len(),
        "whole: capacity {} for {} bytes",
        whole.buffer_capacity(),
        wire.len()
    );

    assert_eq!(events_split, events_whole, "events: pieces vs whole");
    assert_eq!(error_split, error_whole, "error: pieces vs whole");
    assert_eq!(split_conn.ready_state(), whole.ready_state());
    let frames_whole = parse_output(&out_whole, p.role);
    let frames_split = parse_output(&out_split, p.role);
    assert_eq!(
        frames_split, frames_whole,
        "frames written: pieces vs whole"
    );
    check_output(&frames_whole, &events_whole, error_whole, auto_pong);

    if std::env::var_os("RFC6455_FUZZ_VERBOSE").is_some() {
        eprintln!(
            "{p:?} {terms:?} limits {max_frame}/{max_message}: {} wire bytes, {} events, \
             error {error_whole:?}; model: {} events, error {:?}, exact {}",
            wire.len(),
            events_whole.len(),
            model.events.len(),
            model.error,
            model.exact
        );
    }
    if model.exact || model.error.is_some() {
        assert_eq!(events_whole, model.events, "events vs model ({p:?})");
        assert_eq!(error_whole, model.error, "error vs model ({p:?})");
        assert_eq!(
            whole.ready_state() == ReadyState::Closed,
            model.error.is_some() || model.closed,
            "closed vs model"
        );
    } else {
        // What came before the frames the model cannot follow arrived.
        assert!(
            events_whole.len() >= model.events.len()
                && events_whole[..model.events.len()] == model.events[..],
            "events before the unpredictable frames ({p:?})"
        );
    }
});
