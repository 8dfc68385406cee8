//! The opening handshake as the connection drives it: a head read from
//! the input and checked (a client's response, a server's request), and a
//! server's answer to the request (`accept`, `reject`).

use super::{Connection, State};
use crate::error::Error;
use crate::handshake::{
    self, check_method, parse_request, parse_response, validate_request, Accept, HandshakeError,
    Reject, Request,
};
use crate::message::Event;
#[cfg(feature = "deflate")]
use crate::{
    deflate::{self, Codec, NegotiationError},
    handshake::Response,
};

/// The body of a response that refused the upgrade, kept for
/// [`HandshakeError::Rejected`] up to [`handshake::MAX_REJECTED_BODY`].
#[derive(Debug)]
pub(super) struct RefusalBody {
    status: u16,
    headers: handshake::Headers,
    body: Vec<u8>,
    /// How much to wait for: the `Content-Length` (capped), or the cap when
    /// the length is unknown (then until the end of the stream).
    want: usize,
}

impl RefusalBody {
    fn new(status: u16, headers: handshake::Headers) -> Self {
        let cap = handshake::MAX_REJECTED_BODY;
        let length = match headers.get("Content-Length") {
            // No body for these, whatever the headers say (RFC 9110 6.4.1).
            _ if matches!(status, 100..=199 | 204 | 304) => Some(0),
            _ if headers.get("Transfer-Encoding").is_some() => None,
            Some(n) => n.trim().parse::<usize>().ok(),
            None => None,
        };
        RefusalBody {
            status,
            headers,
            body: Vec::new(),
            want: length.map_or(cap, |n| n.min(cap)),
        }
    }
}

impl Connection {
    /// Whether a client is reading the body of a response that refused the
    /// upgrade; a runtime whose handshake deadline passes now calls
    /// [`receive_eof`](Self::receive_eof) to get the refusal with the body
    /// so far.
    pub(crate) fn reading_rejection(&self) -> bool {
        matches!(self.state, State::AwaitingRefusalBody(_))
    }

    pub(super) fn next_handshake_event(&mut self) -> Result<Option<Event>, Error> {
        if let State::AwaitingDecision(_) = self.state {
            return Ok(None);
        }
        if let State::AwaitingRefusalBody(refusal) = &mut self.state {
            let take = (refusal.want - refusal.body.len()).min(self.input.len());
            refusal.body.extend_from_slice(&self.input.data()[..take]);
            self.input.clear();
            if refusal.body.len() < refusal.want && !self.eof {
                return Ok(None);
            }
            let error = HandshakeError::Rejected {
                status: refusal.status,
                headers: std::mem::take(&mut refusal.headers),
                body: std::mem::take(&mut refusal.body),
            };
            return Err(self.handshake_failed(error));
        }
        let max = self.config.max_handshake_size;
        let end = match handshake::find_head_end(self.input.data(), self.head_scanned, max) {
            Ok(Some(end)) => end,
            Err(e) => return Err(self.handshake_failed(e)),
            Ok(None) if self.eof => return Err(self.handshake_failed(HandshakeError::Incomplete)),
            Ok(None) => {
                self.head_scanned = self.input.len();
                return Ok(None);
            }
        };
        let head = self.input.split_to(end);
        #[cfg(feature = "deflate")]
        let extensions_offered = self.config.deflate.is_some();
        #[cfg(not(feature = "deflate"))]
        let extensions_offered = false;
        match &self.state {
            State::AwaitingResponse { key, protocols } => {
                match parse_response(&head, key, protocols, extensions_offered) {
                    Ok(response) => {
                        #[cfg(feature = "deflate")]
                        if let Err(e) = self.agree_deflate(&response) {
                            return Err(self.handshake_failed(e));
                        }
                        self.opened(response.protocol().map(str::to_owned));
                        Ok(Some(Event::Open(response)))
                    }
                    // The refusal's body, if any, follows its head: wait
                    // for it.
                    Err(HandshakeError::Rejected {
                        status, headers, ..
                    }) => {
                        self.refused(RefusalBody::new(status, headers));
                        self.next_handshake_event()
                    }
                    Err(e) => Err(self.handshake_failed(e)),
                }
            }
            _ => match parse_request(&head) {
                // Only GET upgrades (section 4.1), and a plain request this
                // server answers is a page: GET or HEAD. Anything else is
                // answered here, before the application could serve it.
                Ok(request) => match check_method(&request) {
                    Ok(()) => {
                        self.request_received(request.clone());
                        Ok(Some(Event::Request(request)))
                    }
                    Err(e) => Err(self.handshake_failed(e)),
                },
                Err(e) => Err(self.handshake_failed(e)),
            },
        }
    }

    /// Server: accepts the request reported by [`Event::Request`], queueing
    /// the 101 response. If the request is not a valid WebSocket upgrade,
    /// the right error status (400, or 426 for a wrong version) is queued
    /// instead, the connection closes, and the error is returned. An
    /// `accept` that cannot be sent (a subprotocol the client did not
    /// offer, a bad header) is answered `500`, so the client learns that
    /// the server failed rather than seeing its connection drop, and the
    /// error says why.
    pub fn accept(&mut self, accept: Accept) -> Result<(), Error> {
        let State::AwaitingDecision(request) = &self.state else {
            return Err(Error::NotOpen(self.ready_state()));
        };
        let key = match validate_request(request) {
            Ok(key) => key,
            Err(e) => return Err(self.handshake_failed(e)),
        };
        #[cfg(feature = "deflate")]
        let (accept, deflate) = match &self.config.deflate {
            Some(config) => {
                let offers = request.headers().get_all(deflate::EXTENSIONS_HEADER);
                match config.accept_offers(offers) {
                    Some((agreement, answer)) => (
                        accept.header(deflate::EXTENSIONS_HEADER, answer),
                        Some(Box::new(Codec::new(config, &agreement, true))),
                    ),
                    None => (accept, None),
                }
            }
            None => (accept, None),
        };
        let bytes = match accept.encode(request, key) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.reject(Reject::new(500))?;
                return Err(Error::from(e));
            }
        };
        self.output.extend(&bytes);
        #[cfg(feature = "deflate")]
        {
            self.deflate = deflate;
        }
        self.opened(accept.chosen_protocol().map(str::to_owned));
        Ok(())
    }

    /// Client: checks the server's permessage-deflate answer against the
    /// offer (RFC 7692 section 7.1) and, if it agreed, sets up the codec.
    #[cfg(feature = "deflate")]
    fn agree_deflate(&mut self, response: &Response) -> Result<(), HandshakeError> {
        let Some(config) = &self.config.deflate else {
            return Ok(());
        };
        let answers = response.headers().get_all(deflate::EXTENSIONS_HEADER);
        match config.check_answer(answers) {
            Ok(Some(agreement)) => {
                self.deflate = Some(Box::new(Codec::new(config, &agreement, false)));
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(NegotiationError::NotOffered(name)) => {
                Err(HandshakeError::UnexpectedExtension(name))
            }
            Err(e) => Err(HandshakeError::InvalidExtensionAnswer(e.to_string())),
        }
    }

    /// Whether permessage-deflate was agreed in the handshake: messages
    /// may then arrive compressed, and those at least
    /// [`compress_threshold`](crate::DeflateConfig::compress_threshold)
    /// long are sent compressed.
    ///
    /// ```
    /// use rfc6455::{Accept, ClientRequest, Config, Connection, Event};
    /// let mut client = Connection::client(ClientRequest::new("ws://localhost/")?, Config::default())?;
    /// let mut server = Connection::server(Config::default());
    /// server.receive(client.output());
    /// let Some(Event::Request(_)) = server.next_event()? else { panic!() };
    /// server.accept(Accept::new())?;
    /// client.receive(server.output());
    /// let Some(Event::Open(_)) = client.next_event()? else { panic!() };
    /// assert!(client.compression_negotiated() && server.compression_negotiated());
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    #[cfg(feature = "deflate")]
    pub fn compression_negotiated(&self) -> bool {
        self.deflate.is_some()
    }

    /// Server: answers the request with a plain HTTP response instead of
    /// upgrading; the connection is then closed. A `HEAD` request gets the
    /// head of the response without its body.
    pub fn reject(&mut self, reject: Reject) -> Result<(), Error> {
        let State::AwaitingDecision(request) = &self.state else {
            return Err(Error::NotOpen(self.ready_state()));
        };
        let bytes = reject.encode_for(is_head(request))?;
        self.output.extend(&bytes);
        self.rejected();
        Ok(())
    }
}

/// A `HEAD` request is answered with the head of the response only.
pub(super) fn is_head(request: &Request) -> bool {
    request.method() == "HEAD"
}
