//! What the builders of every adapter share, written once for the blocking
//! and the tokio builders alike: the timeouts an adapter keeps for a
//! connection (the sans-IO core keeps no clock: it names the moments, the
//! adapter owns the timers) with their defaults, a client's target (its
//! URL and the request made from it), and the setters that change them.

use std::time::Duration;

use crate::error::redact_url;
use crate::{ClientRequest, Error};

/// A client's target: the URL, and the request made from it or why the URL
/// cannot make one (reported when connecting, so that a builder's setters
/// can be chained without a `Result` in between).
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) url: String,
    request: Result<ClientRequest, String>,
}

impl Target {
    pub(crate) fn new(url: String) -> Self {
        let request = ClientRequest::new(&url).map_err(|e| match e {
            Error::InvalidUrl(why) => why,
            other => other.to_string(),
        });
        Target { url, request }
    }

    /// The request to send, or why there is none.
    pub(crate) fn request(&self) -> Result<ClientRequest, Error> {
        self.request.clone().map_err(Error::InvalidUrl)
    }

    /// The request, if the URL made one.
    pub(crate) fn request_ref(&self) -> Option<&ClientRequest> {
        self.request.as_ref().ok()
    }

    /// The error `e` of a connect to this target, naming the URL (its
    /// credentials, if any, removed): a timeout or handshake failure
    /// carries it, an I/O error says it before its own message (its kind
    /// kept, for callers who match on it), a proxy's failure after its
    /// own. The other errors name their peer already (TLS) or are about
    /// the URL itself.
    pub(crate) fn naming_url(&self, e: Error) -> Error {
        let url = redact_url(&self.url);
        match e {
            Error::Timeout { what, url: None } => Error::Timeout {
                what,
                url: Some(url),
            },
            Error::Handshake { error, url: None } => Error::Handshake {
                error,
                url: Some(url),
            },
            Error::Io(io) => Error::Io(std::io::Error::new(io.kind(), format!("{url}: {io}"))),
            Error::Proxy {
                proxy,
                status,
                message,
            } => Error::Proxy {
                proxy,
                status,
                message: format!("{message} (connecting to {url})"),
            },
            other => other,
        }
    }

    /// Changes the request (a setter's work), if there is one.
    pub(crate) fn map(&mut self, change: impl FnOnce(ClientRequest) -> ClientRequest) {
        let request = std::mem::replace(&mut self.request, Err(String::new()));
        self.request = request.map(change);
    }
}

/// The timeouts of a connection, as its builder sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// The whole opening handshake (TLS included), however it trickles.
    pub(crate) handshake: Duration,
    /// The end of a connection: a client waiting for the server to close
    /// TCP after the close handshake (section 7.1.1), an end waiting for
    /// the peer's close reply.
    pub(crate) close: Duration,
    /// A ping after this much silence from the peer, and the connection
    /// dropped if nothing arrives within the second duration of it.
    pub(crate) heartbeat: Option<(Duration, Duration)>,
    /// All of a message, once its first byte arrived.
    pub(crate) message: Option<Duration>,
}

impl Default for Timeouts {
    /// A peer that never finishes its request is cut off after 10 s; a
    /// client waits 5 s for the server's close; the keepalive is
    /// python-websockets' (ping after 20 s of silence, drop after 20 s
    /// more), so a peer that vanished without a FIN or RST does not hold a
    /// connection forever; a message must arrive within 60 s of its first
    /// byte, so a trickling peer cannot either.
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(10),
            close: Duration::from_secs(5),
            heartbeat: Some((Duration::from_secs(20), Duration::from_secs(20))),
            message: Some(Duration::from_secs(60)),
        }
    }
}

/// The setters of [`Timeouts`] on a builder with a `timeouts` field. The
/// argument is an expression that makes the builder, for the examples.
macro_rules! timeout_setters {
    ($builder:literal) => {
        /// Bounds the whole opening handshake, TLS included (default
        /// 10 s), however slowly the peer's bytes trickle in.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".handshake_timeout(std::time::Duration::from_secs(3));")]
        /// ```
        pub fn handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.timeouts.handshake = timeout;
            self
        }

        /// Detects a dead or idle peer: after `interval` without hearing
        /// from the peer, send a ping; if nothing arrives within
        /// `pong_timeout` of it, drop the connection (reported as 1006,
        /// `Error::Timeout`). A silent interval also releases buffers that
        /// grew for large messages.
        ///
        /// Default: on, 20 s and 20 s (as python-websockets), so a peer
        /// that vanished without a FIN or RST does not hold the connection
        /// forever.
        ///
        /// ```
        /// use std::time::Duration;
        #[doc = concat!("let builder = ", $builder, ".heartbeat(Duration::from_secs(30), Duration::from_secs(10));")]
        /// ```
        pub fn heartbeat(
            mut self,
            interval: std::time::Duration,
            pong_timeout: std::time::Duration,
        ) -> Self {
            self.timeouts.heartbeat = Some((interval, pong_timeout));
            self
        }

        /// Turns the heartbeat off: an idle peer is then kept until the
        /// transport reports it gone (or a read timeout expires).
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".no_heartbeat();")]
        /// ```
        pub fn no_heartbeat(mut self) -> Self {
            self.timeouts.heartbeat = None;
            self
        }

        /// Bounds how long one message (a frame, or all fragments of one)
        /// may take to arrive once its first byte came; past it the
        /// connection is failed with 1008 and `recv` returns
        /// `Error::Timeout`. Default: 60 s, so a peer that trickles a
        /// large frame cannot hold the connection forever; `None` lifts
        /// the bound.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".message_timeout(None);")]
        /// ```
        pub fn message_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.timeouts.message = timeout;
            self
        }
    };
}

/// The setters of a client builder's request, on a builder with a `target`
/// field. The argument is an expression that makes the builder, for the
/// examples.
macro_rules! request_setters {
    ($builder:literal) => {
        /// Offers a subprotocol; call once per protocol, most preferred
        /// first.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".protocol(\"chat\");")]
        /// ```
        pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
            self.target.map(|r| r.protocol(protocol));
            self
        }

        /// Sends an `Origin` header.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".origin(\"http://localhost\");")]
        /// ```
        pub fn origin(mut self, origin: impl Into<String>) -> Self {
            self.target.map(|r| r.origin(origin));
            self
        }

        /// Adds a header to the upgrade request.
        ///
        /// ```
        #[doc = concat!("let builder = ", $builder, ".header(\"Authorization\", \"Bearer token\");")]
        /// ```
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.target.map(|r| r.header(name, value));
            self
        }
    };
}

pub(crate) use {request_setters, timeout_setters};
