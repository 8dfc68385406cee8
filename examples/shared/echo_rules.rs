//! What every echo example answers, whatever drives it (threads, mio,
//! tokio): the test page at `/`, 404 for other plain requests, 403 for
//! `/reject`, and the subprotocol `chat` or `superchat` when offered
//! (browsers fail the handshake when they offered protocols and none is
//! chosen).

use rfc6455::{Accept, Reject, Request};

/// The page that runs the browser's WebSocket API against the server.
pub const PAGE: &str = include_str!("../echo.html");

/// Accepts or answers a request as the echo examples do.
pub fn decide(request: &Request) -> Result<Accept, Reject> {
    if !request.is_websocket() {
        return Err(match request.path() {
            "/" => Reject::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(PAGE),
            _ => Reject::new(404).body("not found\n"),
        });
    }
    if request.path() == "/reject" {
        return Err(Reject::new(403).body("this path is refused\n"));
    }
    Ok(
        match request
            .protocols()
            .find(|p| *p == "chat" || *p == "superchat")
        {
            Some(protocol) => Accept::new().protocol(protocol),
            None => Accept::new(),
        },
    )
}
