//! Sending: the application's calls (`send_*`, `ping`, `pong`, `close`)
//! become frames in the write queue, masked with a fresh key by a client,
//! and the queue is handed to the transport (`output`, `consume_output`).

use std::io::{self, IoSlice, Write};

use rand::RngCore;

use super::{Connection, State};
use crate::close::{self, CloseCode};
use crate::error::Error;
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, MAX_SHORT_PAYLOAD};
use crate::message::{Message, MessageKind};
use crate::state::ReadyState;

impl Connection {
    /// Bytes queued for the transport and not yet written (the browser's
    /// `bufferedAmount`, counting frame headers too).
    #[inline]
    pub fn buffered_amount(&self) -> usize {
        self.output.len()
    }

    /// The first contiguous piece of the queued output: one chunk of
    /// possibly several, not all of it. Write it, call
    /// [`consume_output`](Self::consume_output), and look again until
    /// [`buffered_amount`](Self::buffered_amount) is 0. Empty when nothing
    /// waits.
    ///
    /// A large message queued by reference is a chunk of its own, so after
    /// [`send`](Self::send) of 100 KB this ends with the frame's header. To
    /// write everything, use [`write_output_to`](Self::write_output_to), or
    /// [`output_io_slices`](Self::output_io_slices) for a vectored write.
    ///
    /// ```
    /// use rfc6455::{Bytes, Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send(Bytes::from(vec![7u8; 100_000]))?;
    /// assert_eq!(conn.buffered_amount(), 100_010);
    /// assert_eq!(conn.output().len(), 10); // the header; the payload is next
    /// let mut wire = Vec::new();
    /// while !conn.output().is_empty() {
    ///     wire.extend_from_slice(conn.output());
    ///     conn.consume_output(conn.output().len());
    /// }
    /// assert_eq!(wire.len(), 100_010);
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    #[inline]
    pub fn output(&self) -> &[u8] {
        self.output.chunk()
    }

    /// Fills `dst` with the queued output, in order, for one vectored
    /// write (`write_vectored`); returns how many slices were filled. Then
    /// call [`consume_output`](Self::consume_output) with the count the
    /// write returned.
    ///
    /// The slices may not cover all that is queued: `dst` may be too
    /// short, and a client's large payload is offered a piece at a time
    /// (it is masked as it is written). Repeat until
    /// [`buffered_amount`](Self::buffered_amount) is 0, or use
    /// [`write_output_to`](Self::write_output_to), which does.
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// use rfc6455::{Bytes, Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send_text("first")?;
    /// conn.send(Bytes::from(vec![7u8; 100_000]))?;
    /// let mut wire = Vec::new();
    /// while conn.buffered_amount() > 0 {
    ///     let mut slices = [IoSlice::new(&[]); 16];
    ///     let count = conn.output_io_slices(&mut slices);
    ///     let written = wire.write_vectored(&slices[..count])?;
    ///     conn.consume_output(written);
    /// }
    /// assert_eq!(wire.len(), 7 + 100_010);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn output_io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        self.output.io_slices(dst)
    }

    /// Writes the queued output to `writer` with vectored writes, and drops
    /// what was written from the queue; returns how many bytes that was.
    /// This is the one call that moves everything queued, on a blocking
    /// writer or a non-blocking socket alike. It never calls `flush`.
    ///
    /// It writes until one of these, and then returns:
    /// - the queue is empty: `Ok` with the bytes written;
    /// - the writer returns [`WouldBlock`](std::io::ErrorKind::WouldBlock)
    ///   (a non-blocking socket whose send buffer is full, or on Unix a
    ///   blocking one whose write timeout passed): `Ok` with the bytes
    ///   written before it, perhaps 0; the rest stays queued, so wait
    ///   until the socket is writable and call again;
    /// - a short write that ends partway through a slice it was offered
    ///   (the writer took what room it had: on a non-blocking socket, the
    ///   next write would be `WouldBlock`): `Ok`, the same way. A short
    ///   write that ends where a slice ends is followed by the next
    ///   write, since writers without vectored writes (std's default
    ///   `write_vectored`) take one slice per call;
    /// - a write returns `Ok(0)`: `Err` of kind
    ///   [`WriteZero`](std::io::ErrorKind::WriteZero);
    /// - any other error but [`Interrupted`](std::io::ErrorKind::Interrupted)
    ///   (which is retried): that error. Bytes written before it were
    ///   dropped from the queue, as
    ///   [`buffered_amount`](Self::buffered_amount) shows.
    ///
    /// So, `buffered_amount() > 0` after an `Ok` means the writer is full:
    /// on a non-blocking socket, ask to be woken when it is writable.
    ///
    /// ```
    /// use rfc6455::{Bytes, Config, Connection, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send(Bytes::from(vec![7u8; 100_000]))?;
    /// let mut socket = Vec::new(); // or a TcpStream, a mio TcpStream...
    /// assert_eq!(conn.write_output_to(&mut socket)?, 100_010);
    /// assert_eq!(conn.buffered_amount(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_output_to(&mut self, writer: &mut impl Write) -> io::Result<usize> {
        let mut total = 0;
        while !self.output.is_empty() {
            let mut slices = [IoSlice::new(&[]); 32];
            let count = self.output.io_slices(&mut slices);
            let offered = &slices[..count];
            let written = match writer.write_vectored(offered) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) => return Err(e),
            };
            let full = ends_inside_a_slice(offered, written);
            self.output.consume(written);
            total += written;
            if full {
                break;
            }
        }
        Ok(total)
    }

    /// Drops `n` bytes from the front of the output, after they were written.
    ///
    /// # Panics
    /// If `n` exceeds [`buffered_amount`](Self::buffered_amount).
    #[inline]
    pub fn consume_output(&mut self, n: usize) {
        self.output.consume(n);
    }

    pub(super) fn check_sendable(&self, payload_len: usize) -> Result<(), Error> {
        if !matches!(self.state, State::Open) {
            return Err(Error::NotOpen(self.ready_state()));
        }
        let buffered = self.output.len();
        if buffered > 0 && buffered + payload_len > self.config.max_buffered_amount {
            return Err(Error::BufferFull {
                buffered,
                max: self.config.max_buffered_amount,
            });
        }
        Ok(())
    }

    /// Queues a text message (compressed when permessage-deflate was
    /// agreed and it is at least
    /// [`compress_threshold`](crate::DeflateConfig::compress_threshold)
    /// long; the same for every `send_*`).
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.check_data_send(text.len())?;
        #[cfg(feature = "deflate")]
        if self.compresses(text.len()) {
            self.write_compressed(OpCode::Text, true, text.as_bytes());
            return Ok(());
        }
        self.write_frame(OpCode::Text, true, text.as_bytes());
        Ok(())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_data_send(data.len())?;
        #[cfg(feature = "deflate")]
        if self.compresses(data.len()) {
            self.write_compressed(OpCode::Binary, true, data);
            return Ok(());
        }
        self.write_frame(OpCode::Binary, true, data);
        Ok(())
    }

    /// Whether a whole message of `len` bytes goes out compressed.
    #[cfg(feature = "deflate")]
    #[inline]
    fn compresses(&self, len: usize) -> bool {
        self.deflate
            .as_ref()
            .is_some_and(|codec| codec.compresses(len))
    }

    /// Compresses a message's next piece (all of it when `fin` and it is
    /// the first) and queues it as one frame; the message's first frame
    /// has RSV1 (RFC 7692 section 6).
    #[cfg(feature = "deflate")]
    fn write_compressed(&mut self, opcode: OpCode, fin: bool, data: &[u8]) {
        let codec = self.deflate.as_mut().expect("compressing when negotiated");
        let mut payload = Vec::new();
        codec.compress(data, fin, &mut payload);
        codec.sending_compressed = !fin;
        let mask = self
            .mask_keys
            .as_mut()
            .map(|keys| keys.next_u32().to_ne_bytes());
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = FrameHeader::encode(&mut header, fin, opcode, mask, payload.len() as u64);
        if opcode != OpCode::Continuation {
            header[0] |= RSV1_BIT;
        }
        match mask {
            None => self.output.extend_frame(&header[..n], &payload),
            Some(key) => self.output.extend_masked(&header[..n], &payload, key),
        }
    }

    /// Queues a message. A large payload (16 KiB or more) is queued by
    /// reference instead of copied: a server writes it as it is, with a
    /// vectored write; a client masks it a piece at a time as the writes
    /// take it, so it is never copied whole.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.check_data_send(message.len())?;
        let (opcode, payload) = match message {
            Message::Text(t) => (OpCode::Text, t.into_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
        };
        #[cfg(feature = "deflate")]
        if self.compresses(payload.len()) {
            self.write_compressed(opcode, true, &payload);
            return Ok(());
        }
        if payload.len() >= SHARE_THRESHOLD {
            let mask = self
                .mask_keys
                .as_mut()
                .map(|keys| keys.next_u32().to_ne_bytes());
            let mut header = [0u8; MAX_HEADER_LEN];
            let n = FrameHeader::encode(&mut header, true, opcode, mask, payload.len() as u64);
            self.output.extend(&header[..n]);
            match mask {
                None => self.output.push_shared(payload),
                Some(key) => self.output.push_masked(payload, key),
            }
        } else {
            self.write_frame(opcode, true, &payload);
        }
        Ok(())
    }

    /// Queues one fragment of a message, to stream a large message without
    /// building it whole. The first call starts a message of `kind`; later
    /// calls continue it (with the same `kind`) until one passes
    /// `fin = true`. Text may split code points between fragments; the
    /// whole must be valid UTF-8. With permessage-deflate agreed, a
    /// fragmented message is compressed whatever its length (its length is
    /// not known at its first fragment), each fragment as it is given.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, MessageKind, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// conn.send_fragment(MessageKind::Text, "hel".as_bytes(), false)?;
    /// conn.send_fragment(MessageKind::Text, "lo".as_bytes(), true)?;
    /// assert_eq!(conn.output(), b"\x01\x03hel\x80\x02lo");
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.check_sendable(data.len())?;
        let opcode = match self.send_fragmented {
            None => {
                self.send_utf8.reset();
                match kind {
                    MessageKind::Text => OpCode::Text,
                    MessageKind::Binary => OpCode::Binary,
                }
            }
            Some(current) if current == kind => OpCode::Continuation,
            Some(_) => return Err(Error::FragmentOrder("fragment of a different kind")),
        };
        if kind == MessageKind::Text {
            let mut check = self.send_utf8.clone();
            check.feed(data).map_err(|_| Error::InvalidOutgoingUtf8)?;
            if fin {
                check.finish().map_err(|_| Error::InvalidOutgoingUtf8)?;
            }
            self.send_utf8 = check;
        }
        self.send_fragmented = if fin { None } else { Some(kind) };
        #[cfg(feature = "deflate")]
        if let Some(codec) = &self.deflate {
            if opcode != OpCode::Continuation || codec.sending_compressed {
                self.write_compressed(opcode, fin, data);
                return Ok(());
            }
        }
        self.write_frame(opcode, fin, data);
        Ok(())
    }

    pub(super) fn check_data_send(&self, len: usize) -> Result<(), Error> {
        self.check_sendable(len)?;
        if self.send_fragmented.is_some() {
            return Err(Error::FragmentOrder(
                "a fragmented message is still being sent",
            ));
        }
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues an unsolicited pong (payload at most 125 bytes), for example a
    /// heartbeat, or the answer to a ping when `auto_pong` is off.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, payload)
    }

    pub(super) fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong(payload.len()));
        }
        self.check_sendable(payload.len())?;
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    /// Starts the close handshake with `code` and `reason` (at most 123
    /// bytes); the connection becomes [`ReadyState::Closing`] and sends no
    /// more data. Closing while connecting abandons the handshake; closing
    /// when already closing or closed does nothing.
    ///
    /// `code` is a [`CloseCode`] or a `u16`. Any code valid on the wire
    /// that an endpoint may send is allowed (RFC 6455 section 7.4,
    /// [`CloseCode::is_valid_on_wire`]: 1000-1003, 1007-1014, 3000-4999);
    /// others fail with [`Error::InvalidCloseCode`]. The browser's narrower
    /// rule is [`CloseCode::is_application_sendable`], for callers who
    /// imitate its API. The blocking adapters apply the same rule.
    ///
    /// ```
    /// use rfc6455::{CloseCode, Config, Connection, Error, ReadyState, Role};
    /// let mut conn = Connection::open(Role::Server, Config::default());
    /// assert!(matches!(conn.close(1005, ""), Err(Error::InvalidCloseCode(1005))));
    /// conn.close(CloseCode::NORMAL, "bye")?;
    /// assert_eq!(conn.ready_state(), ReadyState::Closing);
    /// assert_eq!(conn.output(), b"\x88\x05\x03\xe8bye");
    /// assert!(conn.send_text("late").is_err());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        let code = code.into();
        close::validate_outgoing(code, reason)?;
        match self.ready_state() {
            ReadyState::Connecting => self.abandoned(),
            ReadyState::Open => self.sent_close(code, reason),
            ReadyState::Closing | ReadyState::Closed => {}
        }
        Ok(())
    }

    pub(super) fn write_close(&mut self, code: CloseCode, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        payload[..2].copy_from_slice(&code.as_u16().to_be_bytes());
        payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
        self.write_frame(OpCode::Close, true, &payload[..2 + reason.len()]);
    }

    /// Encodes one frame into the output: a client masks with a fresh
    /// random key as it copies the payload.
    pub(super) fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let mask = self
            .mask_keys
            .as_mut()
            .map(|keys| keys.next_u32().to_ne_bytes());
        if payload.len() <= MAX_SHORT_PAYLOAD {
            let (header, n) = FrameHeader::encode_short(fin, opcode, mask, payload.len());
            self.output.extend_short_frame(header, n, payload, mask);
            return;
        }
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = FrameHeader::encode(&mut header, fin, opcode, mask, payload.len() as u64);
        match mask {
            None => self.output.extend_frame(&header[..n], payload),
            Some(key) => self.output.extend_masked(&header[..n], payload, key),
        }
    }
}

/// RSV1 in a frame's first byte: the message is compressed.
#[cfg(feature = "deflate")]
const RSV1_BIT: u8 = 0x40;

/// Payloads at least this large are queued by reference, not copied.
const SHARE_THRESHOLD: usize = 16 * 1024;

/// Whether a write of `written` bytes stopped partway through one of the
/// `offered` slices, which is how a writer says it has no more room.
fn ends_inside_a_slice(offered: &[IoSlice<'_>], mut written: usize) -> bool {
    for slice in offered {
        if written < slice.len() {
            return written > 0;
        }
        written -= slice.len();
    }
    false
}
