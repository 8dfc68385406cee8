//! HTTP header fields as a handshake head carried them: names as sent,
//! values as bytes, in order. A leaf, so that both the handshake and the
//! errors that quote a refusal's headers can hold them.

/// HTTP headers in the order received, names as sent.
///
/// ```
/// use rfc6455::handshake::Headers;
/// let mut h = Headers::default();
/// h.push("Connection", "keep-alive, Upgrade");
/// assert_eq!(h.get("connection"), Some("keep-alive, Upgrade"));
/// assert!(h.has_token("Connection", "upgrade"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Vec<u8>)>);

/// Values print as text (bytes that are not UTF-8 as `\xNN`), the way
/// they appeared on the wire, not as arrays of numbers.
///
/// ```
/// use rfc6455::handshake::Headers;
/// let mut h = Headers::default();
/// h.push("Set-Cookie", "id=1");
/// h.push("X-Raw", vec![b'a', 0xff]);
/// assert_eq!(format!("{h:?}"), r#"{"Set-Cookie": "id=1", "X-Raw": "a\xff"}"#);
/// ```
impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Value<'a>(&'a [u8]);
        impl std::fmt::Debug for Value<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match std::str::from_utf8(self.0) {
                    Ok(text) => write!(f, "{text:?}"),
                    Err(_) => write!(f, "\"{}\"", self.0.escape_ascii()),
                }
            }
        }
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| (name, Value(value))))
            .finish()
    }
}

impl Headers {
    /// The first value of `name` (case-insensitive), if it is UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// Every UTF-8 value of `name` (case-insensitive).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// The comma-separated tokens of every `name` header, trimmed.
    pub fn tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// How many `name` headers there are (case-insensitive), UTF-8 or not:
    /// for the headers that must appear exactly once.
    pub(crate) fn count(&self, name: &str) -> usize {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// Whether `name` carries `token` in its comma list (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// Every header as (name, raw value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// How many header lines there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.0.push((name.into(), value.into()));
    }

    pub(crate) fn from_httparse(headers: &[httparse::Header<'_>]) -> Self {
        Headers(
            headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
        )
    }
}
