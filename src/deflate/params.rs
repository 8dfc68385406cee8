//! The `Sec-WebSocket-Extensions` grammar (RFC 6455 section 9.1): a comma
//! list of extensions, each a token with `;` parameters, each parameter a
//! token with an optional value, a token or a quoted string.

use super::NegotiationError;
use crate::token::is_tchar;

/// One extension of the list, with its parameters in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Extension {
    pub(crate) name: String,
    pub(crate) params: Vec<(String, Option<String>)>,
}

/// Parses one header value into its extensions.
pub(crate) fn parse_extensions(value: &str) -> Result<Vec<Extension>, NegotiationError> {
    let mut parser = Parser {
        rest: value.as_bytes(),
    };
    let mut extensions = Vec::new();
    loop {
        parser.skip_space();
        if parser.rest.is_empty() {
            break;
        }
        if parser.eat(b',') {
            continue; // empty list elements are allowed (RFC 9110 5.6.1)
        }
        let name = parser.token()?;
        let mut params = Vec::new();
        loop {
            parser.skip_space();
            if !parser.eat(b';') {
                break;
            }
            parser.skip_space();
            let param = parser.token()?;
            parser.skip_space();
            let value = if parser.eat(b'=') {
                parser.skip_space();
                Some(parser.value()?)
            } else {
                None
            };
            params.push((param, value));
        }
        extensions.push(Extension { name, params });
        parser.skip_space();
        if !parser.rest.is_empty() && !parser.eat(b',') {
            return Err(NegotiationError::Malformed);
        }
    }
    Ok(extensions)
}

struct Parser<'a> {
    rest: &'a [u8],
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while let [b' ' | b'\t', rest @ ..] = self.rest {
            self.rest = rest;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        match self.rest {
            [b, rest @ ..] if *b == byte => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    fn token(&mut self) -> Result<String, NegotiationError> {
        let len = self.rest.iter().take_while(|b| is_tchar(**b)).count();
        if len == 0 {
            return Err(NegotiationError::Malformed);
        }
        let (token, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(String::from_utf8_lossy(token).into_owned())
    }

    /// A parameter value: a token, or a quoted string whose content must
    /// itself be a token (section 9.1).
    fn value(&mut self) -> Result<String, NegotiationError> {
        if !self.eat(b'"') {
            return self.token();
        }
        let mut value = Vec::new();
        loop {
            match self.rest {
                [b'"', rest @ ..] => {
                    self.rest = rest;
                    break;
                }
                [b'\\', escaped, rest @ ..] => {
                    value.push(*escaped);
                    self.rest = rest;
                }
                [b, rest @ ..] => {
                    value.push(*b);
                    self.rest = rest;
                }
                [] => return Err(NegotiationError::Malformed),
            }
        }
        if value.is_empty() || !value.iter().all(|b| is_tchar(*b)) {
            return Err(NegotiationError::Malformed);
        }
        Ok(String::from_utf8_lossy(&value).into_owned())
    }
}
