//! The connection's vocabulary that every layer shares: which end it is
//! ([`Role`]), where it stands in its life cycle ([`ReadyState`]), and its
//! limits ([`Config`]). It imports nothing of the crate but the
//! permessage-deflate settings (a leaf too, but for the token grammar), so
//! the error types can name a state without reaching into the connection.

/// Which end of the connection this is. Clients mask what they send and
/// require unmasked frames; servers the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that opened the connection.
    Client,
    /// The end that accepted it.
    Server,
}

/// The connection's state, with the values of the browser's
/// `WebSocket.readyState`.
///
/// ```
/// assert_eq!(rfc6455::ReadyState::Closing as u8, 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ReadyState {
    /// 0: the opening handshake is under way.
    Connecting = 0,
    /// 1: messages flow both ways.
    Open = 1,
    /// 2: this end sent a close frame and waits for the peer's.
    Closing = 2,
    /// 3: the close handshake completed, or the connection failed.
    Closed = 3,
}

/// Limits and behaviour of a connection.
///
/// The defaults admit 16 MiB frames and messages (enough for the
/// Autobahn|Testsuite) while bounding what a hostile peer can make us buffer.
///
/// ```
/// let config = rfc6455::Config {
///     max_message_size: 1 << 20,
///     ..Default::default()
/// };
/// assert_eq!(config.max_frame_size, 16 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The largest payload of one data frame; a larger declared length is
    /// refused with 1009 as soon as the header arrives. Control frames
    /// carry at most 125 bytes whatever this says. Memory is reserved as
    /// payload arrives, never for the declared length, so a large limit
    /// costs nothing until a peer sends that much. A limit beyond what the
    /// platform can address (`isize::MAX` bytes) is treated as that bound.
    pub max_frame_size: usize,
    /// The largest message (all fragments together); refused with 1009.
    /// Bounded by what the platform can address, as `max_frame_size` is.
    pub max_message_size: usize,
    /// The largest opening-handshake head (request or response line plus
    /// headers).
    pub max_handshake_size: usize,
    /// Answer every ping with a pong automatically.
    pub auto_pong: bool,
    /// How many bytes may wait to be written before sends fail with
    /// [`Error::BufferFull`](crate::Error::BufferFull). A message is always accepted when nothing is
    /// waiting, so one message larger than this still goes out.
    pub max_buffered_amount: usize,
    /// permessage-deflate (RFC 7692; feature `deflate`): what a client
    /// offers, what a server accepts. `None` turns it off. On by default,
    /// as every browser offers it. Limits apply to the inflated bytes.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 16 << 20,
            max_handshake_size: 64 << 10,
            auto_pong: true,
            max_buffered_amount: 16 << 20,
            #[cfg(feature = "deflate")]
            deflate: Some(crate::deflate::DeflateConfig::default()),
        }
    }
}
