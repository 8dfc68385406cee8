//! Memory a peer can make a connection reserve with nothing but a frame
//! header: many connections each declare the largest frame the limits
//! allow and then send three bytes, through each of the ways the core
//! takes input (`read_buf`/`commit`, `receive`, `receive_with`). The
//! process's resident and virtual memory must grow by a small bound per
//! connection, not by the declared length.
//!
//! One test in its own binary, so no other test allocates beside it while
//! it reads `/proc/self/status`.

use rfc6455::{Config, Connection, Role};

const PEERS: usize = 200;
/// What one connection may hold after the header and three bytes: one
/// step of reading ahead (`receive_with` reserves 128 KiB at most before
/// more arrives; `read_buf` offers 4 KiB), with room for the allocator.
const PER_PEER: usize = 160 << 10;
/// Resident memory is only what was written: the bytes that arrived and
/// what `read_buf` zeroed for one read.
const PER_PEER_RESIDENT: usize = 24 << 10;
/// Noise from the allocator and the test harness itself.
const SLACK: usize = 8 << 20;

#[derive(Clone, Copy, Debug)]
enum Path {
    ReadBuf,
    Receive,
    ReceiveWith,
}

fn feed(conn: &mut Connection, path: Path, mut data: &[u8]) {
    match path {
        Path::ReadBuf => {
            while !data.is_empty() {
                let buf = conn.read_buf();
                let n = buf.len().min(data.len());
                buf[..n].copy_from_slice(&data[..n]);
                conn.commit(n);
                data = &data[n..];
            }
        }
        Path::Receive => conn.receive(data),
        Path::ReceiveWith => conn.receive_with(|tail| tail.extend_from_slice(data)),
    }
}

/// A masked binary frame header declaring `len` bytes of payload.
fn header(len: u64) -> Vec<u8> {
    let mut h = vec![0x82, 0xff];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[9, 8, 7, 6]);
    h
}

/// `VmRSS` and `VmSize` of this process, in bytes.
#[cfg(target_os = "linux")]
fn memory() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        let kib: usize = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap();
        kib << 10
    };
    (field("VmRSS:"), field("VmSize:"))
}

#[test]
// The process's memory is read from /proc: elsewhere this test would
// check nothing, so it does not exist there.
#[cfg(target_os = "linux")]
fn a_declared_length_reserves_nothing_before_its_bytes_arrive() {
    for config in [
        Config::default(),
        // Limits the platform cannot address: memory must still follow
        // what arrived, and no length overflows.
        Config {
            max_frame_size: usize::MAX,
            max_message_size: usize::MAX,
            ..Config::default()
        },
    ] {
        // A TiB, or on a 32-bit target the largest length it can address.
        let declared = (config.max_frame_size as u64)
            .min(isize::MAX as u64 - 14)
            .min(1 << 40);
        for path in [Path::ReadBuf, Path::Receive, Path::ReceiveWith] {
            let (rss_before, vsz_before) = memory();
            let mut conns = Vec::with_capacity(PEERS);
            for _ in 0..PEERS {
                let mut conn = Connection::open(Role::Server, config.clone());
                feed(&mut conn, path, &header(declared));
                assert_eq!(conn.next_event().unwrap(), None);
                feed(&mut conn, path, &[1, 2, 3]);
                assert_eq!(conn.next_event().unwrap(), None);
                assert_eq!(conn.frame_remaining() as u64, declared - 3);
                // A driver on `read_buf` asks for the next read's space
                // while it waits for the rest: that must not be the rest.
                if let Path::ReadBuf = path {
                    let offered = conn.read_buf().len();
                    assert!(offered <= 256 << 10, "{path:?}: read_buf offers {offered}");
                }
                assert!(
                    conn.buffer_capacity() <= PER_PEER,
                    "{path:?}, declared {declared}: holds {} bytes",
                    conn.buffer_capacity()
                );
                conns.push(conn);
            }
            let (rss_after, vsz_after) = memory();
            let rss = rss_after.saturating_sub(rss_before);
            let vsz = vsz_after.saturating_sub(vsz_before);
            println!(
                "{path:?}, declared {declared}: {PEERS} peers: resident +{} KiB, virtual +{} KiB",
                rss >> 10,
                vsz >> 10
            );
            assert!(
                rss <= PEERS * PER_PEER_RESIDENT + SLACK,
                "{path:?}: resident memory grew by {rss} bytes for {PEERS} peers"
            );
            assert!(
                vsz <= PEERS * PER_PEER + SLACK,
                "{path:?}: virtual memory grew by {vsz} bytes for {PEERS} peers"
            );
        }
    }
}
