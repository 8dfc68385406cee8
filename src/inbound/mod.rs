//! The read path's first stage: received bytes land in the read buffer
//! and, on a server, are unmasked as they land, so the connection only
//! ever asks for the frame at the front, its payload plain. This module
//! owns the buffer's sizing (how much a read is offered, what is kept
//! idle) and the unmasker's position in the stream; the connection owns
//! what frames mean.

mod buffer;
#[cfg(test)]
mod tests;
mod unmask;

use bytes::BytesMut;

use crate::error::ProtocolError;
use crate::frame::{FrameHeader, OpCode, MAX_SHORT_PAYLOAD};
use crate::mask::apply_mask_words;
use buffer::{ReadBuffer, MIN_READ};
use unmask::Unmasker;

/// Received bytes, unmasked on arrival once [`start_unmasking`](Self::start_unmasking)
/// was called (by a server, as its handshake ends: before that they are HTTP).
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    buf: ReadBuffer,
    unmasker: Option<Unmasker>,
}

impl Inbound {
    /// Unmasks every payload from here on, starting with frames that came
    /// in behind the handshake.
    pub(crate) fn start_unmasking(&mut self) {
        let mut unmasker = Unmasker::starting_at(self.buf.stream_offset());
        unmasker.scan(&mut self.buf);
        self.unmasker = Some(unmasker);
    }

    /// Appends `data`, unmasking payloads as they are copied.
    pub(crate) fn receive(&mut self, data: &[u8]) {
        match &mut self.unmasker {
            Some(unmasker) => unmasker.receive(&mut self.buf, data),
            None => self.buf.extend(data),
        }
    }

    /// Space for one read: at least 4 KiB, more (up to 256 KiB) while reads
    /// keep filling it, and at most as much again as is already held while
    /// the `frame_remaining` bytes of a large frame arrive.
    pub(crate) fn read_buf(&mut self, frame_remaining: usize) -> &mut [u8] {
        let frame_rest = frame_remaining.min(self.buf.len().max(MIN_READ));
        self.buf.spare(frame_rest.max(MIN_READ))
    }

    /// Marks `n` bytes of [`read_buf`](Self::read_buf) as received.
    pub(crate) fn commit(&mut self, n: usize) {
        self.buf.commit(n);
        self.scan();
    }

    /// Lends the end of the input to `fill`, reserving room for at most
    /// `frame_remaining` bytes, [`RESERVE_STEP`] or as much again as is held.
    pub(crate) fn receive_with<R>(
        &mut self,
        frame_remaining: usize,
        fill: impl FnOnce(&mut InputTail<'_>) -> R,
    ) -> R {
        let held = self.buf.len();
        let step = frame_remaining.min(RESERVE_STEP.max(held));
        let mut buf = self.buf.take_vec(held + step);
        let result = fill(&mut InputTail {
            buf: &mut buf,
            appended: 0,
        });
        self.buf.replace(buf);
        self.scan();
        result
    }

    fn scan(&mut self) {
        if let Some(unmasker) = &mut self.unmasker {
            unmasker.scan(&mut self.buf);
        }
    }

    /// The header of the frame at the front, its payload unmasked as far
    /// as it has arrived; `None` until the whole header has.
    #[inline]
    pub(crate) fn front_header(&mut self) -> Result<Option<FrameHeader>, ProtocolError> {
        if let Some(unmasker) = &mut self.unmasker {
            unmasker.unmask_front(&mut self.buf);
        }
        FrameHeader::decode(self.buf.data())
    }

    /// The common case, read in a few instructions: a whole message in one
    /// frame with a 7-bit length of at most `max_len`, masked as `masked`
    /// says, all of it at the front (its payload unmasked here if the
    /// unmasker left it masked). `None` for anything else, which goes
    /// through [`front_header`](Self::front_header) and is judged there.
    ///
    /// A second, narrower header read beside `FrameHeader::decode`, kept
    /// because the full decode and its checks cost a measurable share of a
    /// small frame (rows `decode_masked_*/rfc6455*/16B`).
    #[inline(always)]
    pub(crate) fn whole_short_message(
        &mut self,
        masked: bool,
        max_len: usize,
    ) -> Option<FrameHeader> {
        let data = self.buf.data();
        let [b0, b1, ..] = *data else {
            return None;
        };
        // FIN, no RSV bits, text or binary.
        let opcode = match b0 {
            0x81 => OpCode::Text,
            0x82 => OpCode::Binary,
            _ => return None,
        };
        let len = (b1 & 0x7f) as usize;
        let header_len = if masked { 6 } else { 2 };
        if len > MAX_SHORT_PAYLOAD
            || (b1 & 0x80 != 0) != masked
            || data.len() < header_len + len
            || len > max_len
        {
            return None;
        }
        let mask = if masked {
            let key = [data[2], data[3], data[4], data[5]];
            if let Some(unmasker) = &mut self.unmasker {
                if unmasker.take_front(&self.buf, header_len + len) {
                    // Too short for the vector kernel: inline words.
                    apply_mask_words(&mut self.buf.data_mut()[6..6 + len], key);
                }
            }
            Some(key)
        } else {
            None
        };
        Some(FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len: len as u64,
            header_len,
        })
    }

    /// The bytes held, from the frame at the front on.
    #[inline]
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.data()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Takes the first `n` bytes out and lends them until the next change.
    #[inline]
    pub(crate) fn lend(&mut self, n: usize) -> &[u8] {
        self.buf.lend(n)
    }

    /// The last `n` bytes [`lend`](Self::lend) lent out.
    #[inline]
    pub(crate) fn lent(&self, n: usize) -> &[u8] {
        self.buf.lent(n)
    }

    /// Takes the first `n` bytes out, sharing the allocation.
    #[inline]
    pub(crate) fn split_to(&mut self, n: usize) -> BytesMut {
        self.buf.split_to(n)
    }

    /// Drops everything held (the connection closed or failed).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Called whenever the input is drained: releases a large buffer the
    /// latest input did not need.
    pub(crate) fn shrink_if_unused(&mut self) {
        self.buf.shrink_if_unused();
    }

    /// Releases the buffer if it is empty and larger than one small read.
    pub(crate) fn shrink(&mut self) {
        self.buf.shrink();
    }

    /// The bytes of allocation held.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// How much room [`Inbound::receive_with`] reserves ahead of what has
/// arrived, at least (it reserves as much again as the input holds when
/// that is more, so a large frame's buffer doubles rather than being
/// copied at every step).
const RESERVE_STEP: usize = 128 * 1024;

/// The end of a connection's input, lent by
/// [`Connection::receive_with`](crate::Connection::receive_with):
/// bytes can be appended to it, never removed or rewritten, so what the
/// connection already holds (and, on a server, has already unmasked) stays
/// as it was.
///
/// ```
/// use rfc6455::{Config, Connection, Event, Message, Role};
/// let mut conn = Connection::open(Role::Client, Config::default());
/// let appended = conn.receive_with(|tail| {
///     tail.extend_from_slice(&[0x81, 0x02]);
///     tail.extend_from_slice(b"hi");
///     tail.appended()
/// });
/// assert_eq!(appended, 4);
/// assert_eq!(conn.next_event()?, Some(Event::Message(Message::from("hi"))));
/// # Ok::<(), rfc6455::Error>(())
/// ```
///
/// What is already held cannot be shortened (which would misalign the
/// unmasking of what follows) or rewritten:
///
/// ```compile_fail
/// use rfc6455::{Config, Connection, Role};
/// let mut conn = Connection::open(Role::Server, Config::default());
/// conn.receive_with(|tail| tail.truncate(0));
/// ```
#[derive(Debug)]
pub struct InputTail<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
    appended: usize,
}

impl InputTail<'_> {
    /// Reads from `reader` until `limit` bytes were appended, it reports
    /// the end of its stream, or it fails; returns how many bytes this
    /// call appended. On an error (a timeout, say) the bytes read before
    /// it are kept, and [`appended`](Self::appended) counts them.
    ///
    /// The bytes go straight into spare capacity, without zeroing it
    /// first (`Read::read_to_end`).
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Client, Config::default());
    /// let mut socket: &[u8] = &[0x82, 0x01, 0xff, 0x82];
    /// let n = conn.receive_with(|tail| tail.read_from(&mut socket, 3))?;
    /// assert_eq!(n, 3);
    /// assert_eq!(socket, &[0x82]); // past the limit, left unread
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_from<R: std::io::Read + ?Sized>(
        &mut self,
        reader: &mut R,
        limit: usize,
    ) -> std::io::Result<usize> {
        use std::io::Read;
        let before = self.buf.len();
        let result = Read::take(&mut *reader, limit as u64).read_to_end(self.buf);
        let got = self.buf.len() - before;
        self.appended += got;
        result.map(|_| got)
    }

    /// Appends `data`.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Client, Config::default());
    /// conn.receive_with(|tail| tail.extend_from_slice(&[0x89, 0x00])); // a ping
    /// assert!(conn.next_event()?.is_some());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.appended += data.len();
    }

    /// How many bytes were appended through this tail so far.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Client, Config::default());
    /// let n = conn.receive_with(|tail| {
    ///     tail.extend_from_slice(b"\x8a");
    ///     tail.appended()
    /// });
    /// assert_eq!(n, 1);
    /// ```
    pub fn appended(&self) -> usize {
        self.appended
    }
}
