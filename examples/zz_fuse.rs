use std::time::Instant;
fn main() {
    let n = 1 << 20;
    let frames = 4;
    let text: Vec<u8> = (0..n)
        .map(|i| {
            if i % 97 == 0 {
                b'x'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect();
    let key = [1u8, 2, 3, 4];
    let mut wire = Vec::new();
    for _ in 0..frames {
        let mut t = text.clone();
        rfc6455::mask::apply_mask(&mut t, key, 0);
        wire.extend_from_slice(&t);
    }
    let mut dst = vec![0u8; n * frames];
    for piece in [n, 256 << 10, 64 << 10, 32 << 10, 16 << 10] {
        let mut best = f64::MAX;
        for _ in 0..200 {
            let t0 = Instant::now();
            for f in 0..frames {
                let (s, d) = (&wire[f * n..(f + 1) * n], &mut dst[f * n..(f + 1) * n]);
                for (sc, dc) in s.chunks(piece).zip(d.chunks_mut(piece)) {
                    rfc6455::mask::mask_copy(dc, sc, key);
                    std::hint::black_box(simdutf8::basic::from_utf8(dc).is_ok());
                }
            }
            best = best.min(t0.elapsed().as_secs_f64());
        }
        let mut times = vec![];
        for _ in 0..200 {
            let t0 = Instant::now();
            for f in 0..frames {
                let (s, d) = (&wire[f * n..(f + 1) * n], &mut dst[f * n..(f + 1) * n]);
                for (sc, dc) in s.chunks(piece).zip(d.chunks_mut(piece)) {
                    rfc6455::mask::mask_copy(dc, sc, key);
                    std::hint::black_box(simdutf8::basic::from_utf8(dc).is_ok());
                }
            }
            times.push(t0.elapsed().as_secs_f64());
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "piece {:>8}: best {:.1} us/MiB  median {:.1} us/MiB  ({:.1} GiB/s median)",
            piece,
            best / frames as f64 * 1e6,
            times[100] / frames as f64 * 1e6,
            (n * frames) as f64 / times[100] / (1u64 << 30) as f64
        );
    }
}
