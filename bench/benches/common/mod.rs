//! Shared pieces of the benchmarks: criterion settings, payloads, wire
//! buffers, in-memory streams for tungstenite, and the reference kernels
//! (memcpy and the fastest copy+unmask we know) that bound what a decoder
//! or encoder can reach.
#![allow(dead_code)] // each bench uses a different subset

use std::io::{self, Cursor, Read, Write};
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::Criterion;
use rfc6455::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use rfc6455::mask::apply_mask;

/// Payload sizes: empty, tiny, the largest 7-bit length, a 16-bit length,
/// and two 64-bit lengths.
pub const SIZES: [usize; 6] = [0, 16, 125, 1024, 64 << 10, 1 << 20];

/// Short runs: the machine has two cores shared with others. Command-line
/// flags (`--measurement-time`, `--warm-up-time`, `--sample-size`) override.
fn base_config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}

/// Runs a bench: by default timed in this thread's CPU time, so that other
/// processes on the (shared, two-core) machine do not inflate the numbers;
/// `BENCH_CLOCK=wall` times wall-clock time instead (criterion's default).
pub fn main_with(cpu: fn(&mut Criterion<CpuTime>), wall: fn(&mut Criterion<WallTime>)) {
    if std::env::var_os("BENCH_CLOCK").is_some_and(|v| v == "wall") {
        let mut c = base_config().configure_from_args();
        wall(&mut c);
        c.final_summary();
    } else {
        let mut c = base_config()
            .with_measurement(CpuTime::THREAD)
            .configure_from_args();
        cpu(&mut c);
        c.final_summary();
    }
}

/// CPU time (user + system, so page faults and allocation count), in
/// nanoseconds, as a criterion measurement: of the calling thread
/// ([`CpuTime::THREAD`], the codec benches) or of the whole process
/// ([`CpuTime::PROCESS`], the end-to-end bench's client and server threads).
pub struct CpuTime {
    #[cfg(unix)]
    clock: libc::clockid_t,
}

impl CpuTime {
    pub const THREAD: CpuTime = CpuTime {
        #[cfg(unix)]
        clock: libc::CLOCK_THREAD_CPUTIME_ID,
    };
    pub const PROCESS: CpuTime = CpuTime {
        #[cfg(unix)]
        clock: libc::CLOCK_PROCESS_CPUTIME_ID,
    };

    #[cfg(unix)]
    fn now(&self) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        let rc = unsafe { libc::clock_gettime(self.clock, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime({})", self.clock);
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    #[cfg(not(unix))]
    fn now(&self) -> u64 {
        // No portable CPU clock: fall back to wall time.
        static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        EPOCH
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
    }
}

static WALL: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        self.now()
    }
    fn end(&self, start: u64) -> u64 {
        self.now() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Same unit (nanoseconds) as wall time, so the same formatting.
        WALL.formatter()
    }
}

/// How many frames one iteration handles: enough for about 4 MiB on the
/// wire, at least 4 frames, at most 65536.
pub fn frame_count(payload_len: usize) -> usize {
    let frame_len = payload_len + MAX_HEADER_LEN;
    (4usize << 20).div_ceil(frame_len).clamp(4, 65536)
}

/// The benchmark parameter: payload size and frame count, e.g. `16B_x65536`.
pub fn param(payload_len: usize, frames: usize) -> String {
    format!("{payload_len}B_x{frames}")
}

/// Deterministic pseudo-random bytes (xorshift64).
pub fn binary_payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Mostly-ASCII text (about 2% of bytes in 2- to 4-byte code points, like
/// chat or JSON with the odd accented name or emoji), exactly `len` bytes.
pub fn text_payload(len: usize) -> String {
    const PIECES: [&str; 8] = [
        "{\"id\":12345,\"user\":\"jürgen\",",
        "\"text\":\"The quick brown fox jumps over the lazy dog.\",",
        "\"tags\":[\"alpha\",\"beta\",\"gamma\"],\"score\":0.875,",
        "\"price\":\"12.50 €\",\"ok\":true,\"items\":[1,2,3,4,5,6,7,8],",
        "\"note\":\"lorem ipsum dolor sit amet, consectetur adipiscing elit\",",
        "\"mood\":\"😀\",\"lang\":\"en-US\",\"ts\":1700000000000},",
        "\"path\":\"/api/v1/messages/stream\",\"retry\":3,\"ttl\":60,",
        "\"body\":\"sed do eiusmod tempor incididunt ut labore et dolore\",",
    ];
    let mut s = String::with_capacity(len + 64);
    let mut i = 0;
    while s.len() < len {
        s.push_str(PIECES[i % PIECES.len()]);
        i += 1;
    }
    // Cut at a char boundary and pad with ASCII to the exact length.
    let mut cut = len;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    while s.len() < len {
        s.push(' ');
    }
    s
}

/// A payload of `len` bytes, text or binary.
pub fn payload(len: usize, text: bool) -> Vec<u8> {
    if text {
        text_payload(len).into_bytes()
    } else {
        binary_payload(len, 0x9e37_79b9_7f4a_7c15 ^ len as u64)
    }
}

/// A mask key that differs from frame to frame, as a real client's does.
pub fn mask_key(i: usize) -> [u8; 4] {
    ((i as u32).wrapping_mul(0x9e37_79b9) ^ 0x5bd1_e995).to_le_bytes()
}

/// `frames` single-frame messages carrying `payload`, masked (client to
/// server) or not (server to client), back to back.
pub fn wire(payload: &[u8], frames: usize, text: bool, masked: bool) -> Vec<u8> {
    let opcode = if text { OpCode::Text } else { OpCode::Binary };
    let mut out = Vec::with_capacity(frames * (payload.len() + MAX_HEADER_LEN));
    let mut header = [0u8; MAX_HEADER_LEN];
    for i in 0..frames {
        let mask = masked.then(|| mask_key(i));
        let n = FrameHeader::encode(&mut header, true, opcode, mask, payload.len() as u64);
        out.extend_from_slice(&header[..n]);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }
    out
}

/// An in-memory transport for tungstenite: reads come from `input`, writes
/// go to `output`.
pub struct MemStream {
    pub input: Cursor<Vec<u8>>,
    pub output: Vec<u8>,
}

impl MemStream {
    pub fn new(input: Vec<u8>, output_capacity: usize) -> Self {
        MemStream {
            input: Cursor::new(input),
            output: Vec::with_capacity(output_capacity),
        }
    }
}

impl Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ------------------------------------------------------------ reference kernels

/// `dst = src ^ key` (repeating), in one pass: the least work a decoder
/// that copies received bytes and unmasks them can do. AVX2 when the CPU
/// has it.
pub fn copy_unmask(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len());
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present; the lengths are equal.
        unsafe { avx2::copy_unmask(dst, src, key) };
        return;
    }
    copy_unmask_portable(dst, src, key);
}

/// `data ^= key` (repeating) in place, AVX2 when the CPU has it: the
/// fastest unmask kernel, with no copy.
pub fn unmask_in_place(data: &mut [u8], key: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present.
        unsafe { avx2::unmask_in_place(data, key) };
        return;
    }
    apply_mask(data, key, 0);
}

fn copy_unmask_portable(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let v = u64::from_ne_bytes(s.try_into().unwrap()) ^ word;
        d.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, (d, s)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *d = s ^ key[i & 3];
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must support AVX2; `dst` and `src` have equal lengths.
    #[target_feature(enable = "avx2")]
    pub unsafe fn copy_unmask(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
        let k = _mm256_set1_epi32(i32::from_ne_bytes(key));
        let len = src.len();
        let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
        let mut i = 0;
        while i + 128 <= len {
            let a = _mm256_loadu_si256(s.add(i) as *const __m256i);
            let b = _mm256_loadu_si256(s.add(i + 32) as *const __m256i);
            let c = _mm256_loadu_si256(s.add(i + 64) as *const __m256i);
            let e = _mm256_loadu_si256(s.add(i + 96) as *const __m256i);
            _mm256_storeu_si256(d.add(i) as *mut __m256i, _mm256_xor_si256(a, k));
            _mm256_storeu_si256(d.add(i + 32) as *mut __m256i, _mm256_xor_si256(b, k));
            _mm256_storeu_si256(d.add(i + 64) as *mut __m256i, _mm256_xor_si256(c, k));
            _mm256_storeu_si256(d.add(i + 96) as *mut __m256i, _mm256_xor_si256(e, k));
            i += 128;
        }
        while i + 32 <= len {
            let a = _mm256_loadu_si256(s.add(i) as *const __m256i);
            _mm256_storeu_si256(d.add(i) as *mut __m256i, _mm256_xor_si256(a, k));
            i += 32;
        }
        while i < len {
            *d.add(i) = *s.add(i) ^ key[i & 3];
            i += 1;
        }
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn unmask_in_place(data: &mut [u8], key: [u8; 4]) {
        let k = _mm256_set1_epi32(i32::from_ne_bytes(key));
        let len = data.len();
        let p = data.as_mut_ptr();
        let mut i = 0;
        while i + 128 <= len {
            let a = _mm256_loadu_si256(p.add(i) as *const __m256i);
            let b = _mm256_loadu_si256(p.add(i + 32) as *const __m256i);
            let c = _mm256_loadu_si256(p.add(i + 64) as *const __m256i);
            let e = _mm256_loadu_si256(p.add(i + 96) as *const __m256i);
            _mm256_storeu_si256(p.add(i) as *mut __m256i, _mm256_xor_si256(a, k));
            _mm256_storeu_si256(p.add(i + 32) as *mut __m256i, _mm256_xor_si256(b, k));
            _mm256_storeu_si256(p.add(i + 64) as *mut __m256i, _mm256_xor_si256(c, k));
            _mm256_storeu_si256(p.add(i + 96) as *mut __m256i, _mm256_xor_si256(e, k));
            i += 128;
        }
        while i + 32 <= len {
            let a = _mm256_loadu_si256(p.add(i) as *const __m256i);
            _mm256_storeu_si256(p.add(i) as *mut __m256i, _mm256_xor_si256(a, k));
            i += 32;
        }
        while i < len {
            *p.add(i) ^= key[i & 3];
            i += 1;
        }
    }
}

/// Checks the reference kernels against `apply_mask` (called once per bench
/// run, so a wrong kernel cannot produce a flattering ceiling).
pub fn check_kernels() {
    let src = binary_payload(1000, 7);
    for len in [0, 1, 31, 32, 33, 127, 128, 129, 1000] {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut expect = src[..len].to_vec();
        apply_mask(&mut expect, key, 0);
        let mut got = vec![0u8; len];
        copy_unmask(&mut got, &src[..len], key);
        assert_eq!(got, expect, "copy_unmask len {len}");
        copy_unmask_portable(&mut got, &src[..len], key);
        assert_eq!(got, expect, "copy_unmask_portable len {len}");
        let mut inplace = src[..len].to_vec();
        unmask_in_place(&mut inplace, key);
        assert_eq!(inplace, expect, "unmask_in_place len {len}");
    }
}
