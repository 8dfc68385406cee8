//! A client's tunnel through an HTTP proxy: `CONNECT host:port` (RFC 9110
//! section 9.3.6), with Basic credentials when the proxy URL has them.

use std::io::{self, Read, Write};

use base64::Engine;

use crate::error::redact_url as redact;
use crate::Error;

/// An answer from the proxy longer than this is not a proxy's answer.
const MAX_ANSWER: usize = 16 * 1024;

/// An HTTP proxy: where it is and the credentials to give it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    host: String,
    port: u16,
    /// `user:password`, base64-encoded, for `Proxy-Authorization: Basic`.
    auth: Option<String>,
}

impl std::fmt::Debug for Proxy {
    // The credentials stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("auth", &self.auth.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Proxy {
    /// Parses `http://[user:password@]host[:port][/]` (port 80 by default);
    /// `user` and `password` may be percent-encoded.
    pub(crate) fn parse(url: &str) -> Result<Proxy, String> {
        let bad = |why: &str| format!("proxy URL {:?}: {why}", redact(url));
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(bad("only http:// proxies are supported")),
            None => url,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(bad("a proxy URL has no path"));
        }
        let (auth, authority) = match rest.rsplit_once('@') {
            Some((creds, authority)) => {
                let (user, pass) = creds.split_once(':').unwrap_or((creds, ""));
                let plain = format!("{}:{}", percent_decode(user)?, percent_decode(pass)?);
                (
                    Some(base64::engine::general_purpose::STANDARD.encode(plain)),
                    authority,
                )
            }
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p.parse().map_err(|_| bad("invalid port"))?,
        };
        Ok(Proxy {
            host: host.to_string(),
            port,
            auth,
        })
    }

    /// The proxy the environment names for a connection to `host`:
    /// `HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for `ws://` (either case),
    /// unless `NO_PROXY` (either case) exempts `host`.
    pub(crate) fn from_env(secure: bool, host: &str) -> Option<Result<Proxy, String>> {
        let var = |name: &str| {
            std::env::var(name)
                .or_else(|_| std::env::var(name.to_ascii_lowercase()))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        let url = var(if secure { "HTTPS_PROXY" } else { "HTTP_PROXY" })?;
        if var("NO_PROXY").is_some_and(|list| exempt(&list, host)) {
            return None;
        }
        Some(Proxy::parse(url.trim()))
    }

    /// `host:port`, for messages and for the TCP connection.
    pub(crate) fn authority(&self) -> String {
        authority(&self.host, self.port)
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Asks the proxy for a tunnel to `host:port` and reads its answer. On
    /// success the stream is the tunnel: nothing of the answer's head is
    /// left unread, and nothing past it has been read.
    pub(crate) fn tunnel<S: Read + Write>(
        &self,
        stream: &mut S,
        host: &str,
        port: u16,
    ) -> Result<(), Error> {
        let target = authority(host, port);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(auth) = &self.auth {
            request.push_str(&format!("Proxy-Authorization: Basic {auth}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| self.io_error(e))?;

        // Byte by byte: the tunnel's first bytes (the server's) must stay
        // in the stream. The answer is short and read once per connection.
        let mut answer = Vec::with_capacity(256);
        let mut byte = [0u8];
        while !answer.ends_with(b"\r\n\r\n") {
            if answer.len() >= MAX_ANSWER {
                return Err(self.error(None, "answered CONNECT with an oversized head"));
            }
            match stream.read(&mut byte) {
                Ok(0) => {
                    return Err(self.error(
                        None,
                        &format!("closed the connection before answering CONNECT {target}"),
                    ))
                }
                Ok(_) => answer.push(byte[0]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&answer) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(self.error(None, "answered CONNECT with something not HTTP")),
        }
        let status = response.code.unwrap_or(0);
        if (200..300).contains(&status) {
            return Ok(());
        }
        let reason = response.reason.unwrap_or("");
        let hint = match status {
            407 if self.auth.is_none() => {
                " (the proxy wants credentials: http://user:password@host:port)"
            }
            407 => " (the credentials were refused)",
            _ => "",
        };
        Err(self.error(
            Some(status),
            &format!("refused the tunnel to {target}: {status} {reason}{hint}"),
        ))
    }

    fn error(&self, status: Option<u16>, message: &str) -> Error {
        Error::Proxy {
            proxy: self.authority(),
            status,
            message: message.to_string(),
        }
    }

    fn io_error(&self, e: io::Error) -> Error {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                Error::timeout("opening handshake (proxy CONNECT)")
            }
            _ => Error::Io(e),
        }
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "bad percent-encoding in the proxy credentials".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "proxy credentials are not UTF-8".to_string())
}

/// Whether a `NO_PROXY` list exempts `host`: `*` exempts all; an entry
/// matches the host itself and its subdomains (a leading `.` is optional);
/// a port on an entry is ignored.
fn exempt(list: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry
            .strip_prefix('[')
            .map_or(entry, |e| e.split(']').next().unwrap_or(e));
        let entry = match entry.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') && port.parse::<u16>().is_ok() => name,
            _ => entry,
        };
        let entry = entry
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        !entry.is_empty()
            && (host == entry
                || host
                    .strip_suffix(&entry)
                    .is_some_and(|prefix| prefix.ends_with('.')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_urls() {
        let p = Proxy::parse("http://u%40x:p%3Aw@proxy.local:3128/").unwrap();
        assert_eq!((p.host(), p.port()), ("proxy.local", 3128));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(p.auth.as_deref().unwrap())
            .unwrap();
        assert_eq!(decoded, b"u@x:p:w");
        assert_eq!(
            Proxy::parse("127.0.0.1:8080").unwrap().authority(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            Proxy::parse("http://[::1]").unwrap().authority(),
            "[::1]:80"
        );
        assert!(Proxy::parse("https://proxy:443").is_err());
        assert!(Proxy::parse("http://proxy:99999").is_err());
        let err = Proxy::parse("socks5://user:secret@proxy:1080").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
        assert!(!format!("{p:?}").contains(p.auth.as_deref().unwrap()));
    }

    #[test]
    fn no_proxy_lists() {
        assert!(exempt("*", "example.com"));
        assert!(exempt("localhost, .example.com", "api.example.com"));
        assert!(exempt("example.com", "example.com"));
        assert!(exempt("example.com:443", "a.example.com"));
        assert!(exempt("127.0.0.1", "127.0.0.1"));
        assert!(exempt("[::1]", "::1"));
        assert!(!exempt("example.com", "notexample.com"));
        assert!(!exempt("", "example.com"));
        assert!(!exempt("127.0.0.1", "127.0.0.2"));
    }
}
