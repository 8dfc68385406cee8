//! The browser's four life-cycle events, as a trait.

use crate::blocking::Transport;

use crate::blocking::WebSocket;
use crate::{CloseCode, CloseEvent, Error, Message};

/// Event-style handling of a connection: `on_open`, then `on_message` for
/// each message, `on_error` if something went wrong, and `on_close` exactly
/// once at the end. Drive it with [`Handler::run`].
///
/// ```no_run
/// use rfc6455::blocking::{connect, Handler, Transport, WebSocket};
/// use rfc6455::CloseEvent;
/// use rfc6455::Message;
///
/// struct Printer;
/// impl<S: Transport> Handler<S> for Printer {
///     fn on_open(&mut self, ws: &mut WebSocket<S>) {
///         ws.send_text("hi").ok();
///     }
///     fn on_message(&mut self, ws: &mut WebSocket<S>, message: Message) {
///         println!("{message:?}");
///         ws.close(1000, "thanks").ok();
///     }
///     fn on_close(&mut self, event: &CloseEvent) {
///         println!("closed {} clean={}", event.code, event.was_clean);
///     }
/// }
/// let ws = connect("ws://127.0.0.1:9001/")?;
/// Printer.run(ws);
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub trait Handler<S: Transport> {
    /// The connection is open.
    fn on_open(&mut self, _ws: &mut WebSocket<S>) {}

    /// A message arrived.
    fn on_message(&mut self, ws: &mut WebSocket<S>, message: Message);

    /// The connection failed (protocol violation, I/O error); `on_close`
    /// follows.
    fn on_error(&mut self, _ws: &mut WebSocket<S>, _error: &Error) {}

    /// The connection ended.
    fn on_close(&mut self, _event: &CloseEvent) {}

    /// Runs the life cycle to its end and returns how it ended.
    fn run(&mut self, mut ws: WebSocket<S>) -> CloseEvent
    where
        Self: Sized,
    {
        self.on_open(&mut ws);
        loop {
            match ws.recv() {
                Ok(Some(message)) => self.on_message(&mut ws, message),
                Ok(None) => break,
                Err(error) => {
                    if ws.close_event().is_none() {
                        // A timeout: the browser has none, so end the connection.
                        let _ = ws.close(CloseCode::GOING_AWAY, "");
                        ws.mark_abnormal();
                    }
                    self.on_error(&mut ws, &error);
                    break;
                }
            }
        }
        let event = ws
            .close_event()
            .cloned()
            .unwrap_or_else(|| CloseEvent::abnormal(CloseCode::ABNORMAL));
        self.on_close(&event);
        event
    }
}
