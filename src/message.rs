//! What the connection hands the application: complete messages, owned
//! ([`Message`]) or lent ([`MessageRef`]), and the events around them
//! ([`Event`], [`EventRef`]); [`MessageKind`] names a message's type when
//! it is sent in fragments.

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::handshake::{Request, Response};
use crate::utf8::Utf8Bytes;

/// A complete data message.
///
/// ```
/// use rfc6455::Message;
/// let m = Message::from("hi");
/// assert!(m.is_text());
/// assert_eq!(m.as_bytes(), b"hi");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The message, borrowed.
    ///
    /// ```
    /// use rfc6455::{Message, MessageRef};
    /// assert_eq!(Message::from("hi").as_ref(), MessageRef::Text("hi"));
    /// ```
    pub fn as_ref(&self) -> MessageRef<'_> {
        match self {
            Message::Text(t) => MessageRef::Text(t),
            Message::Binary(b) => MessageRef::Binary(b),
        }
    }

    /// The payload, without copying.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(t) => t.into_bytes(),
            Message::Binary(b) => b,
        }
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(s.into())
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b.into())
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

/// A complete data message lent by [`Connection::next_event_ref`](crate::Connection::next_event_ref).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRef<'a> {
    /// A text message, validated UTF-8.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> MessageRef<'a> {
    /// The payload bytes.
    ///
    /// ```
    /// assert_eq!(rfc6455::MessageRef::Text("hi").as_bytes(), b"hi");
    /// ```
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            MessageRef::Text(t) => t.as_bytes(),
            MessageRef::Binary(b) => b,
        }
    }

    /// An owned copy, to keep past the loan.
    ///
    /// ```
    /// use rfc6455::{Message, MessageRef};
    /// assert_eq!(MessageRef::Text("hi").to_owned(), Message::from("hi"));
    /// ```
    pub fn to_owned(&self) -> Message {
        match self {
            MessageRef::Text(t) => Message::Text(Utf8Bytes::from(*t)),
            MessageRef::Binary(b) => Message::Binary(Bytes::copy_from_slice(b)),
        }
    }
}

/// The kind of a data message, for sending one in fragments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A text message.
    Text,
    /// A binary message.
    Binary,
}

/// What the connection reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server only: a request arrived. Answer it with [`Connection::accept`](crate::Connection::accept)
    /// or [`Connection::reject`](crate::Connection::reject); until then no more events come.
    Request(Request),
    /// Client only: the server accepted; the connection is open.
    Open(Response),
    /// A complete message.
    Message(Message),
    /// A ping (already answered with a pong when `auto_pong` is on).
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's close frame (`None` if it carried no code). If this end
    /// had not yet sent a close, the reply echoing the code and reason is
    /// already queued. The connection is now [`ReadyState::Closed`](crate::ReadyState::Closed).
    Close(Option<CloseFrame>),
}

/// What [`Connection::next_event_ref`](crate::Connection::next_event_ref) reports: data messages, pings and
/// pongs lent from the connection's buffer, anything else owned.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventRef<'a> {
    /// A complete message.
    Message(MessageRef<'a>),
    /// A ping (already answered with a pong when `auto_pong` is on).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A handshake or close event, as [`Connection::next_event`](crate::Connection::next_event) reports it
    /// (never a message, ping or pong). Boxed: these are rare, and keeping
    /// `EventRef` small lets the common events reach the caller in
    /// registers.
    Other(Box<Event>),
}

impl EventRef<'_> {
    /// The same event owned (copying a lent payload), to keep past the loan.
    ///
    /// ```
    /// use rfc6455::{Event, EventRef, Message, MessageRef};
    /// let event = EventRef::Message(MessageRef::Text("hi"));
    /// assert_eq!(event.into_owned(), Event::Message(Message::from("hi")));
    /// ```
    pub fn into_owned(self) -> Event {
        match self {
            EventRef::Message(message) => Event::Message(message.to_owned()),
            EventRef::Ping(payload) => Event::Ping(Bytes::copy_from_slice(payload)),
            EventRef::Pong(payload) => Event::Pong(Bytes::copy_from_slice(payload)),
            EventRef::Other(event) => *event,
        }
    }
}
