//! permessage-deflate (RFC 7692): the parameters two ends agree on in the
//! opening handshake, the rules of section 7.1 for what a server may answer
//! and what a client must refuse, and (in `codec`) the compressor and
//! inflater of one connection.
//!
//! The negotiation works on the `Sec-WebSocket-Extensions` header's values
//! and on [`DeflateConfig`], the policy of this end; its result is an
//! [`Agreement`], from which each role builds its codec.
//!
//! [`Connection`](crate::Connection) holds a [`Codec`] once the
//! handshake agreed on the extension: `connection/assemble.rs` inflates
//! what arrives, `connection/send.rs` compresses what is sent.

mod codec;
mod params;

pub(crate) use codec::{Compressor, InflateError, Inflater};
pub(crate) use params::{parse_extensions, Extension};

/// The header that carries extension offers and answers.
pub(crate) const EXTENSIONS_HEADER: &str = "Sec-WebSocket-Extensions";

/// The extension's registered name.
pub(crate) const EXTENSION_NAME: &str = "permessage-deflate";

/// Inflated messages up to this size are copied out of the inflate
/// buffer; longer ones take it with them.
const COPY_OUT_BELOW: usize = 4 * 1024;

/// An inflate buffer up to this capacity is kept for the next message.
const KEEP_BELOW: usize = 1024;

/// The smallest and largest LZ77 window a peer may ask for (section 7.1.2).
const MIN_WINDOW_BITS: u8 = 8;
const MAX_WINDOW_BITS: u8 = 15;

/// What this end offers (a client) or accepts (a server) of
/// permessage-deflate (RFC 7692), and how it compresses: the `deflate`
/// field of [`Config`](crate::Config), on by default.
///
/// A client offers what browsers offer (`permessage-deflate;
/// client_max_window_bits`), adding a request for each setting below that
/// asks something of the server. A server accepts the first offer its
/// policy allows, in the client's order of preference.
///
/// Each end's compressor uses the smaller of the window agreed for it and
/// its own limit (`server_max_window_bits` for a server,
/// `client_max_window_bits` for a client): a stream made with a smaller
/// window is read by any inflater, so this bounds memory whatever the
/// peer allowed. By default a server compresses with a 12-bit (4 KiB)
/// window and asks nothing of clients, a client keeps the full 15 bits,
/// and messages shorter than 64 bytes are sent as they are. zlib cannot
/// make a raw stream with an 8-bit window: an 8-bit agreement is
/// compressed with 9 bits, whose matches never reach back more than 250
/// bytes (the window less zlib's lookahead), so an 8-bit inflater reads
/// it.
///
/// ```
/// use rfc6455::{Config, DeflateConfig};
/// let config = Config {
///     deflate: Some(DeflateConfig {
///         server_no_context_takeover: true,
///         compress_threshold: 256,
///         ..DeflateConfig::default()
///     }),
///     ..Config::default()
/// };
/// # let _ = config;
/// // Off: neither offered nor accepted.
/// let plain = Config { deflate: None, ..Config::default() };
/// # let _ = plain;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// A client asks, and a server decides, that the server starts each
    /// message with an empty window: it can then release its compressor
    /// between messages, at some cost in compression.
    pub server_no_context_takeover: bool,
    /// The same for the client's compressor.
    pub client_no_context_takeover: bool,
    /// The largest window the server's compressor uses, 8 to 15 bits. A
    /// client asks the server for it when below 15; a server compresses
    /// with at most this, and answers it when the client asked for less.
    pub server_max_window_bits: u8,
    /// The largest window the client's compressor uses, 8 to 15 bits. A
    /// client compresses with at most this (and always says it can limit
    /// its window); a server asks clients for it when below 15.
    pub client_max_window_bits: u8,
    /// The compression level, 0 (store) to 9 (smallest).
    pub level: u32,
    /// Messages shorter than this many bytes are sent uncompressed (the
    /// extension allows it, and compressing a few bytes makes them longer).
    pub compress_threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 12,
            client_max_window_bits: 15,
            level: 6,
            compress_threshold: 64,
        }
    }
}

/// The parameters both ends agreed on: for each direction, the window its
/// compressor uses and whether it keeps its context across messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Agreement {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The window of the server's compressor, in bits.
    pub server_max_window_bits: u8,
    /// The window of the client's compressor, in bits.
    pub client_max_window_bits: u8,
}

/// Why a server's permessage-deflate answer is refused by the client (the
/// client then fails the connection, section 7.1.1 and following).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum NegotiationError {
    /// The server answered an extension the client did not offer.
    #[error("the server answered extension {0:?}, which was not offered")]
    NotOffered(String),
    /// The server answered permessage-deflate more than once.
    #[error("permessage-deflate answered more than once")]
    Repeated,
    /// A parameter this extension does not define.
    #[error("unknown permessage-deflate parameter {0:?}")]
    UnknownParameter(String),
    /// A parameter given twice.
    #[error("permessage-deflate parameter {0:?} given twice")]
    DuplicateParameter(String),
    /// A parameter's value is missing, not a number from 8 to 15, or given
    /// where none is allowed.
    #[error("permessage-deflate parameter {name:?} has an invalid value {value:?}")]
    InvalidValue {
        /// The parameter.
        name: String,
        /// The value as sent (`None` when it was missing).
        value: Option<String>,
    },
    /// The answer breaks what the client offered: a window larger than it
    /// allowed, a window limit it did not say it could keep, or a missing
    /// answer to one of its requests.
    #[error("the server's answer does not fit the offer: {0}")]
    Mismatch(&'static str),
    /// The header is not a well-formed extension list.
    #[error("malformed Sec-WebSocket-Extensions header")]
    Malformed,
}

impl DeflateConfig {
    /// The `Sec-WebSocket-Extensions` value a client sends for this
    /// configuration.
    pub(crate) fn client_offer(&self) -> String {
        let mut offer = String::from(EXTENSION_NAME);
        if self.server_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        // The client's compressor can keep any window the server asks for
        // (it uses the smaller of that and its own limit), so the offer
        // says so without a value, as browsers do.
        offer.push_str("; client_max_window_bits");
        let server_bits = clamp_bits(self.server_max_window_bits);
        if server_bits < MAX_WINDOW_BITS {
            offer.push_str(&format!("; server_max_window_bits={server_bits}"));
        }
        offer
    }

    /// Server side: picks the first of the client's offers this policy can
    /// accept (offers come in the client's order of preference) and returns
    /// the agreement with the header value to answer it. `None` when no
    /// offer is acceptable: the server then answers without the extension.
    pub(crate) fn accept_offers<'a>(
        &self,
        header_values: impl IntoIterator<Item = &'a str>,
    ) -> Option<(Agreement, String)> {
        let mut offers = Vec::new();
        for value in header_values {
            // A malformed list is ignored as a whole: none of it can be
            // trusted to mean what the client meant.
            offers.extend(parse_extensions(value).ok()?);
        }
        offers
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(EXTENSION_NAME))
            .find_map(|offer| self.accept_offer(offer))
    }

    fn accept_offer(&self, offer: &Extension) -> Option<(Agreement, String)> {
        let mut server_no_takeover = false;
        let mut client_no_takeover = false;
        let mut server_bits = None;
        let mut client_bits = None;
        let mut seen = Vec::new();
        for (name, value) in &offer.params {
            let name = name.to_ascii_lowercase();
            if seen.contains(&name) {
                return None; // a duplicate makes the offer invalid
            }
            match (name.as_str(), value) {
                ("server_no_context_takeover", None) => server_no_takeover = true,
                ("client_no_context_takeover", None) => client_no_takeover = true,
                ("server_max_window_bits", Some(v)) => server_bits = Some(parse_bits(v)?),
                ("client_max_window_bits", None) => client_bits = Some(MAX_WINDOW_BITS),
                ("client_max_window_bits", Some(v)) => client_bits = Some(parse_bits(v)?),
                _ => return None, // unknown, or a value where none belongs
            }
            seen.push(name);
        }
        let ours_server = clamp_bits(self.server_max_window_bits);
        let ours_client = clamp_bits(self.client_max_window_bits);
        let server_window = server_bits.map_or(MAX_WINDOW_BITS, |asked| asked.min(ours_server));
        let client_window = match client_bits {
            Some(limit) => limit.min(ours_client),
            // The client did not say it can limit its window.
            None if ours_client < MAX_WINDOW_BITS => return None,
            None => MAX_WINDOW_BITS,
        };
        let agreement = Agreement {
            server_no_context_takeover: server_no_takeover || self.server_no_context_takeover,
            client_no_context_takeover: client_no_takeover || self.client_no_context_takeover,
            server_max_window_bits: server_window,
            client_max_window_bits: client_window,
        };
        let mut answer = String::from(EXTENSION_NAME);
        if agreement.server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        if agreement.client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        // Answered only when asked (section 7.1.2.1): unasked, the server
        // still compresses with its own smaller window, which any inflater
        // with the full window reads.
        if server_bits.is_some() {
            answer.push_str(&format!("; server_max_window_bits={server_window}"));
        }
        if client_bits.is_some() && client_window < MAX_WINDOW_BITS {
            answer.push_str(&format!("; client_max_window_bits={client_window}"));
        }
        Some((agreement, answer))
    }

    /// Client side: checks the server's `Sec-WebSocket-Extensions` answer
    /// against what [`client_offer`](Self::client_offer) sent, by every
    /// rule of RFC 7692 section 7.1. `Ok(None)` when the server declined
    /// the extension.
    pub(crate) fn check_answer<'a>(
        &self,
        header_values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Agreement>, NegotiationError> {
        let mut answered = None;
        for value in header_values {
            for extension in parse_extensions(value)? {
                if !extension.name.eq_ignore_ascii_case(EXTENSION_NAME) {
                    return Err(NegotiationError::NotOffered(extension.name));
                }
                if answered.replace(extension).is_some() {
                    return Err(NegotiationError::Repeated);
                }
            }
        }
        let Some(answer) = answered else {
            return Ok(None);
        };
        let offered_server_bits = clamp_bits(self.server_max_window_bits);
        let mut agreement = Agreement {
            server_no_context_takeover: false,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
        };
        let mut server_bits_answered = false;
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in &answer.params {
            let lower = name.to_ascii_lowercase();
            if seen.contains(&lower) {
                return Err(NegotiationError::DuplicateParameter(name.clone()));
            }
            let invalid = || NegotiationError::InvalidValue {
                name: name.clone(),
                value: value.clone(),
            };
            match lower.as_str() {
                "server_no_context_takeover" => {
                    value.is_none().then_some(()).ok_or_else(invalid)?;
                    agreement.server_no_context_takeover = true;
                }
                "client_no_context_takeover" => {
                    value.is_none().then_some(()).ok_or_else(invalid)?;
                    agreement.client_no_context_takeover = true;
                }
                "server_max_window_bits" => {
                    let bits = value.as_deref().and_then(parse_bits).ok_or_else(invalid)?;
                    if bits > offered_server_bits {
                        return Err(NegotiationError::Mismatch(
                            "server_max_window_bits above the offered limit",
                        ));
                    }
                    agreement.server_max_window_bits = bits;
                    server_bits_answered = true;
                }
                "client_max_window_bits" => {
                    // The offer says, without a value, that the client can
                    // limit its window; the answer must then give the limit.
                    let bits = value.as_deref().and_then(parse_bits).ok_or_else(invalid)?;
                    agreement.client_max_window_bits = bits;
                }
                _ => return Err(NegotiationError::UnknownParameter(name.clone())),
            }
            seen.push(lower);
        }
        if self.server_no_context_takeover && !agreement.server_no_context_takeover {
            return Err(NegotiationError::Mismatch(
                "server_no_context_takeover was asked for and not answered",
            ));
        }
        if offered_server_bits < MAX_WINDOW_BITS && !server_bits_answered {
            return Err(NegotiationError::Mismatch(
                "server_max_window_bits was asked for and not answered",
            ));
        }
        Ok(Some(agreement))
    }
}

/// The permessage-deflate state of one open connection: the agreed codec
/// of each direction, and the message being inflated or compressed.
#[derive(Debug)]
pub(crate) struct Codec {
    compressor: Compressor,
    inflater: Inflater,
    compress_threshold: usize,
    /// A message is being sent in fragments, compressed.
    pub(crate) sending_compressed: bool,
    /// The compressed message being received, inflated so far.
    pub(crate) inflated: Vec<u8>,
}

impl Codec {
    /// The codec of one end (`server` says which) for what was agreed:
    /// each compressor keeps the smaller of the agreed window and its own
    /// end's limit (a smaller window than agreed is always readable), each
    /// inflater the window the peer may use.
    pub(crate) fn new(config: &DeflateConfig, agreement: &Agreement, server: bool) -> Self {
        let (own_bits, own_limit, own_reset, peer_bits, peer_reset) = if server {
            (
                agreement.server_max_window_bits,
                config.server_max_window_bits,
                agreement.server_no_context_takeover,
                agreement.client_max_window_bits,
                agreement.client_no_context_takeover,
            )
        } else {
            (
                agreement.client_max_window_bits,
                config.client_max_window_bits,
                agreement.client_no_context_takeover,
                agreement.server_max_window_bits,
                agreement.server_no_context_takeover,
            )
        };
        Codec {
            compressor: Compressor::new(
                config.level,
                own_bits.min(clamp_bits(own_limit)),
                own_reset,
            ),
            inflater: Inflater::new(peer_bits, peer_reset),
            compress_threshold: config.compress_threshold,
            sending_compressed: false,
            inflated: Vec::new(),
        }
    }

    /// Whether a whole message of `len` bytes is sent compressed.
    #[inline]
    pub(crate) fn compresses(&self, len: usize) -> bool {
        len >= self.compress_threshold
    }

    /// Compresses a message's next piece onto `out` (see
    /// [`Compressor::compress`]).
    pub(crate) fn compress(&mut self, data: &[u8], last: bool, out: &mut Vec<u8>) {
        self.compressor.compress(data, last, out);
    }

    /// Inflates a compressed message's next frame onto
    /// [`inflated`](Self::inflated), which may hold at most `limit` bytes
    /// (see [`Inflater::inflate`]).
    pub(crate) fn inflate(
        &mut self,
        data: &[u8],
        last: bool,
        limit: usize,
    ) -> Result<(), InflateError> {
        self.inflater.inflate(data, last, &mut self.inflated, limit)
    }

    /// The message inflated so far, handed out whole. A short one is
    /// copied out, so that a message kept for long holds only its own
    /// bytes, not the inflater's step of buffer; a long one takes the
    /// buffer with it, without a copy. The connection keeps the buffer
    /// for the next message only when it is small (chat lines then cost
    /// no allocation of their own for inflating), and
    /// [`release`](Self::release) frees even that.
    pub(crate) fn take_inflated(&mut self) -> bytes::Bytes {
        if self.inflated.len() > COPY_OUT_BELOW {
            return bytes::Bytes::from(std::mem::take(&mut self.inflated));
        }
        let data = bytes::Bytes::copy_from_slice(&self.inflated);
        if self.inflated.capacity() <= KEEP_BELOW {
            self.inflated.clear();
        } else {
            self.inflated = Vec::new();
        }
        data
    }

    /// Frees what holds nothing worth keeping: the codec state of a
    /// direction without context takeover, between messages, and the
    /// inflate buffer (unless a compressed message is being `receiving`).
    pub(crate) fn release(&mut self, receiving: bool) {
        if !self.sending_compressed {
            self.compressor.release();
        }
        if !receiving {
            self.inflater.release();
            self.inflated = Vec::new();
        }
    }

    /// Whether each direction's state is allocated now (compressor,
    /// inflater).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> (bool, bool) {
        (self.compressor.is_allocated(), self.inflater.is_allocated())
    }
}

/// A window size as the configuration gives it, brought into 8..=15.
fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// A window size as the grammar allows it: a decimal from 8 to 15 without
/// leading zeroes (section 7.1.2.1).
fn parse_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [b @ b'8'..=b'9'] => Some(b - b'0'),
        [b'1', b @ b'0'..=b'5'] => Some(10 + b - b'0'),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
