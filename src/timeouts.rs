//! The timeouts every adapter keeps for a connection (the sans-IO core
//! keeps no clock: it names the moments, the adapter owns the timers),
//! their defaults in one place, and the builder setters that change them,
//! written once for the blocking and the tokio builders alike.

use std::time::Duration;

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

pub(crate) use timeout_setters;
