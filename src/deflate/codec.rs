//! The compressor and the inflater of one connection (RFC 7692 section
//! 7.2), on `flate2` with the zlib-rs backend.
//!
//! A message is compressed as raw DEFLATE ending in a sync flush, whose
//! last four bytes (`00 00 ff ff`) are not sent; the inflater puts them
//! back after the message's last frame. The inflater writes into a buffer
//! it never lets grow past the limit it is given, so a small message that
//! would inflate to gigabytes is refused after inflating at most the limit.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// What a sync flush ends with, and what the sender leaves off.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// zlib makes no raw stream with an 8-bit window: a 9-bit one is used
/// instead. It never refers back more than 250 bytes (its window less
/// zlib's 262-byte lookahead), so an 8-bit inflater reads it.
const ZLIB_MIN_BITS: u8 = 9;
/// Output is reserved this much at a time, so that a message's first
/// bytes do not cost the limit's worth of memory.
const INFLATE_STEP: usize = 16 * 1024;
/// A final frame up to this size is inflated together with the tail.
const JOIN_BELOW: usize = 512;

/// Why a compressed message could not be inflated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// It inflates to more than the limit allows.
    TooBig,
    /// The bytes are not a valid DEFLATE stream.
    Corrupt(String),
}

/// The compressor of this end's messages.
pub(crate) struct Compressor {
    /// Built on first use, and dropped by [`release`](Self::release).
    inner: Option<Compress>,
    level: Compression,
    window_bits: u8,
    /// Each message starts with an empty window (no context takeover).
    reset_each_message: bool,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("window_bits", &self.window_bits)
            .field("reset_each_message", &self.reset_each_message)
            .field("allocated", &self.inner.is_some())
            .finish()
    }
}

impl Compressor {
    pub(crate) fn new(level: u32, window_bits: u8, reset_each_message: bool) -> Self {
        Compressor {
            inner: None,
            level: Compression::new(level.min(9)),
            window_bits: window_bits.max(ZLIB_MIN_BITS),
            reset_each_message,
        }
    }

    /// Compresses the next piece of a message onto `out`. The message's
    /// last piece (`last`) ends it: the sync flush's tail is left off, and
    /// without context takeover the next message starts afresh. An empty
    /// message compresses to one `0x00` byte.
    pub(crate) fn compress(&mut self, data: &[u8], last: bool, out: &mut Vec<u8>) {
        let (level, bits) = (self.level, self.window_bits);
        let inner = self
            .inner
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        let start = out.len();
        let mut rest = data;
        loop {
            // Incompressible data grows by a few bytes per block.
            out.reserve(rest.len() + rest.len() / 64 + 64);
            let before = inner.total_in();
            // A sync flush only fails for a stream zlib itself broke.
            let _ = inner
                .compress_vec(rest, out, FlushCompress::Sync)
                .expect("deflate of valid input");
            rest = &rest[(inner.total_in() - before) as usize..];
            // Done when all input is in and the flush had room to finish.
            if rest.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if last {
            if out.len() == start {
                // Nothing came in since the last flush (an empty message
                // after another, an empty last fragment): zlib then
                // flushes nothing, and the stream is already where a sync
                // flush leaves it. An empty stored block's first byte
                // says the same, and is what an empty message compresses to.
                out.push(0x00);
            } else {
                debug_assert!(
                    out[start..].ends_with(&TAIL),
                    "a sync flush ends in 00 00 ff ff"
                );
                out.truncate(out.len() - TAIL.len());
            }
            if self.reset_each_message {
                inner.reset();
            }
        }
    }

    /// Frees the compressor's state when it holds nothing worth keeping
    /// (no context takeover, between messages).
    pub(crate) fn release(&mut self) {
        if self.reset_each_message {
            self.inner = None;
        }
    }

    /// Whether the compressor's state is allocated now.
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.inner.is_some()
    }
}

/// The inflater of the peer's messages.
pub(crate) struct Inflater {
    inner: Option<Decompress>,
    window_bits: u8,
    reset_each_message: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("reset_each_message", &self.reset_each_message)
            .field("allocated", &self.inner.is_some())
            .finish()
    }
}

impl Inflater {
    pub(crate) fn new(window_bits: u8, reset_each_message: bool) -> Self {
        Inflater {
            inner: None,
            // A larger window than the peer's reads its stream all the same.
            window_bits: window_bits.max(ZLIB_MIN_BITS),
            reset_each_message,
        }
    }

    /// Inflates the next frame's payload of a compressed message onto
    /// `out`; `last` for the message's final frame, after which the
    /// stripped tail is put back. Fails with [`InflateError::TooBig`] as
    /// soon as `out` would hold more than `limit` bytes: at most `limit`
    /// bytes and one step are ever inflated.
    pub(crate) fn inflate(
        &mut self,
        data: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        if last && data.len() <= JOIN_BELOW {
            // A short final frame and the tail in one call to the codec,
            // not two: chat-sized messages are mostly call overhead.
            let mut joined = [0; JOIN_BELOW + TAIL.len()];
            joined[..data.len()].copy_from_slice(data);
            joined[data.len()..][..TAIL.len()].copy_from_slice(&TAIL);
            self.feed(&joined[..data.len() + TAIL.len()], out, limit)?;
        } else {
            self.feed(data, out, limit)?;
            if last {
                self.feed(&TAIL, out, limit)?;
            }
        }
        if last && self.reset_each_message {
            // Built afresh: a reset would forget the window size it was
            // made with.
            self.inner = None;
        }
        Ok(())
    }

    fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        let bits = self.window_bits;
        let inner = self
            .inner
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        loop {
            if out.len() == out.capacity() {
                // One byte past the limit is room enough to see it crossed.
                // The buffer grows by doubling (so a large message is not
                // copied over and over), never past that.
                // The first step is sized by the input, so that a short
                // message costs a short buffer.
                let step = if out.capacity() == 0 {
                    input.len().saturating_mul(4).clamp(64, INFLATE_STEP)
                } else {
                    out.len().max(INFLATE_STEP)
                };
                let room = limit.saturating_add(1).saturating_sub(out.len()).min(step);
                if room == 0 {
                    return Err(InflateError::TooBig);
                }
                out.reserve_exact(room);
            }
            let (before_in, before_out) = (inner.total_in(), out.len());
            let status = inner
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            input = &input[(inner.total_in() - before_in) as usize..];
            let progress = inner.total_in() != before_in || out.len() != before_out;
            match status {
                // A block with BFINAL ends the stream; what follows, if
                // anything, starts a new one (with an empty window).
                Status::StreamEnd => {
                    *inner = Decompress::new_with_window_bits(false, bits);
                    if input.is_empty() {
                        return Ok(());
                    }
                }
                _ if input.is_empty() && out.len() < out.capacity() => return Ok(()),
                _ if !progress && out.len() < out.capacity() => {
                    return Err(InflateError::Corrupt("the stream makes no progress".into()))
                }
                _ => {}
            }
        }
    }

    /// Frees the inflater's state when it holds nothing worth keeping (no
    /// context takeover, between messages).
    pub(crate) fn release(&mut self) {
        if self.reset_each_message {
            self.inner = None;
        }
    }

    /// Whether the inflater's state is allocated now.
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.inner.is_some()
    }
}
