//! The opening handshake as the connection drives it: a head read from
//! the input and checked (a client's response, a server's request), and a
//! server's answer to the request (`accept`, `reject`).

use super::{Connection, State};
use crate::error::Error;
use crate::handshake::{
    self, parse_request, parse_response, validate_request, Accept, HandshakeError, Reject,
};
use crate::message::Event;

impl Connection {
    pub(super) fn next_handshake_event(&mut self) -> Result<Option<Event>, Error> {
        if let State::AwaitingDecision(_) = self.state {
            return Ok(None);
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
        match &self.state {
            State::AwaitingResponse { key, protocols } => {
                match parse_response(&head, key, protocols) {
                    Ok(response) => {
                        self.opened(response.protocol().map(str::to_owned));
                        Ok(Some(Event::Open(response)))
                    }
                    Err(e) => Err(self.handshake_failed(e)),
                }
            }
            _ => match parse_request(&head) {
                // Only GET upgrades (section 4.1), and a plain request this
                // server answers is a page: GET or HEAD. Anything else is
                // answered here, before the application could serve it.
                Ok(request) if !matches!(request.method(), "GET" | "HEAD") => {
                    let method = request.method().to_owned();
                    Err(self.handshake_failed(if request.is_websocket() {
                        HandshakeError::MethodNotGet(method)
                    } else {
                        HandshakeError::MethodNotAllowed(method)
                    }))
                }
                Ok(request) => {
                    self.request_received(request.clone());
                    Ok(Some(Event::Request(request)))
                }
                Err(e) => Err(self.handshake_failed(e)),
            },
        }
    }

    /// Server: accepts the request reported by [`Event::Request`], queueing
    /// the 101 response. If the request is not a valid WebSocket upgrade,
    /// the right error status (400, or 426 for a wrong version) is queued
    /// instead, the connection closes, and the error is returned. An invalid
    /// `accept` (a subprotocol the client did not offer, a bad header)
    /// returns an error and leaves the request pending.
    pub fn accept(&mut self, accept: Accept) -> Result<(), Error> {
        let State::AwaitingDecision(request) = &self.state else {
            return Err(Error::NotOpen(self.ready_state()));
        };
        let key = match validate_request(request) {
            Ok(key) => key,
            Err(e) => return Err(self.handshake_failed(e)),
        };
        let bytes = accept.encode(request, key)?;
        self.output.extend(&bytes);
        self.opened(accept.chosen_protocol().map(str::to_owned));
        Ok(())
    }

    /// Server: answers the request with a plain HTTP response instead of
    /// upgrading; the connection is then closed. A `HEAD` request gets the
    /// head of the response without its body.
    pub fn reject(&mut self, reject: Reject) -> Result<(), Error> {
        let State::AwaitingDecision(request) = &self.state else {
            return Err(Error::NotOpen(self.ready_state()));
        };
        let bytes = reject.encode_for(request.method() == "HEAD")?;
        self.output.extend(&bytes);
        self.rejected();
        Ok(())
    }
}
