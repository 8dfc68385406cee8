//! `Connection::write_output_to` against writers that behave as sockets
//! and streams do: each documented way it returns, tested.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

use rfc6455::{Bytes, Config, Connection, Role};

/// What a scripted writer does on each call, in order; once the script is
/// over, it takes everything.
enum Step {
    /// Takes at most this many bytes.
    Take(usize),
    /// Fails with this kind.
    Fail(io::ErrorKind),
}

struct Scripted {
    steps: VecDeque<Step>,
    written: Vec<u8>,
    calls: usize,
    /// Whether `write_vectored` writes all the slices it is given, or only
    /// the first (std's default for writers that have no vectored write).
    vectored: bool,
}

impl Scripted {
    fn new(steps: impl IntoIterator<Item = Step>, vectored: bool) -> Self {
        Scripted {
            steps: steps.into_iter().collect(),
            written: Vec::new(),
            calls: 0,
            vectored,
        }
    }

    fn take(&mut self, data: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        let limit = match self.steps.pop_front() {
            Some(Step::Take(n)) => n,
            Some(Step::Fail(kind)) => return Err(kind.into()),
            None => usize::MAX,
        };
        let n = data.len().min(limit);
        self.written.extend_from_slice(&data[..n]);
        Ok(n)
    }
}

impl Write for Scripted {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.take(data)
    }

    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        if !self.vectored {
            let first = slices.iter().find(|s| !s.is_empty()).map_or(&[][..], |s| s);
            return self.take(first);
        }
        let joined: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
        self.take(&joined)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A server with small frames in its tail and a large message queued by
/// reference behind them, so the output is several slices; and the bytes
/// it must write.
fn queued() -> (Connection, Vec<u8>) {
    let mut conn = Connection::open(Role::Server, Config::default());
    conn.send_text("one").unwrap();
    conn.send(Bytes::from(vec![7u8; 100_000])).unwrap();
    conn.send_text("two").unwrap();
    let mut expected = b"\x81\x03one\x82\x7f".to_vec();
    expected.extend_from_slice(&100_000u64.to_be_bytes());
    expected.extend_from_slice(&[7u8; 100_000]);
    expected.extend_from_slice(b"\x81\x03two");
    assert_eq!(conn.buffered_amount(), expected.len());
    (conn, expected)
}

#[test]
fn writes_everything_to_a_writer_with_room() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new([], true);
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), expected.len());
    assert_eq!(conn.buffered_amount(), 0);
    assert!(writer.written == expected);
    // Nothing queued: no write at all.
    let calls = writer.calls;
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), 0);
    assert_eq!(writer.calls, calls);
}

/// A writer without vectored writes takes one slice per call: each such
/// write ends where a slice ends, and the next follows.
#[test]
fn a_writer_taking_one_slice_per_call_still_gets_everything() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new([], false);
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), expected.len());
    assert!(writer.written == expected);
    assert!(writer.calls >= 3, "{} calls", writer.calls);
}

#[test]
fn would_block_returns_what_was_written_and_keeps_the_rest() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new([Step::Fail(io::ErrorKind::WouldBlock)], true);
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), 0);
    assert_eq!(conn.buffered_amount(), expected.len());

    // After a write that ends at a slice's end (the first slice is the
    // small frame and the large one's header), the next one blocks.
    let mut writer = Scripted::new(
        [Step::Take(15), Step::Fail(io::ErrorKind::WouldBlock)],
        true,
    );
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), 15);
    assert_eq!(writer.calls, 2);
    assert_eq!(conn.buffered_amount(), expected.len() - 15);
    // Ready again: the rest follows, in order.
    let mut rest = Scripted::new([], true);
    conn.write_output_to(&mut rest).unwrap();
    assert!([writer.written, rest.written].concat() == expected);
}

/// A write that stops inside a slice means the writer is full: no second
/// write is tried (a non-blocking socket would answer it `WouldBlock`).
#[test]
fn a_short_write_inside_a_slice_ends_the_call() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new([Step::Take(1000)], true);
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), 1000);
    assert_eq!(writer.calls, 1);
    assert_eq!(conn.buffered_amount(), expected.len() - 1000);
    assert_eq!(
        conn.write_output_to(&mut writer).unwrap(),
        expected.len() - 1000
    );
    assert!(writer.written == expected);
}

#[test]
fn interrupted_is_retried() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new([Step::Fail(io::ErrorKind::Interrupted)], true);
    assert_eq!(conn.write_output_to(&mut writer).unwrap(), expected.len());
    assert!(writer.written == expected);
}

#[test]
fn a_write_of_zero_bytes_is_write_zero() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new([Step::Take(0)], true);
    let err = conn.write_output_to(&mut writer).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    assert_eq!(conn.buffered_amount(), expected.len());
}

/// Another error is returned; what was written before it is no longer
/// queued, and the rest can still be written.
#[test]
fn an_error_keeps_what_was_not_written() {
    let (mut conn, expected) = queued();
    let mut writer = Scripted::new(
        [Step::Take(15), Step::Fail(io::ErrorKind::ConnectionReset)],
        false,
    );
    let err = conn.write_output_to(&mut writer).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(conn.buffered_amount(), expected.len() - 15);
    let mut rest = Scripted::new([], true);
    conn.write_output_to(&mut rest).unwrap();
    assert!([writer.written, rest.written].concat() == expected);
}

/// A client's large payload is masked a piece at a time as it is
/// written: one call writes all of it, masked, whatever the pieces.
#[test]
fn a_clients_large_payload_is_written_whole_and_masked() {
    let mut conn = Connection::open(Role::Client, Config::default());
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    conn.send(Bytes::from(payload.clone())).unwrap();
    let mut writer = Scripted::new([], true);
    assert_eq!(
        conn.write_output_to(&mut writer).unwrap(),
        14 + payload.len()
    );
    let wire = writer.written;
    assert_eq!(&wire[..2], &[0x82, 0xff]);
    let key = [wire[10], wire[11], wire[12], wire[13]];
    let unmasked: Vec<u8> = wire[14..]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    assert!(unmasked == payload);
}
