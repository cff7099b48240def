//! The browser WebSocket API as a page sees it: readyState and the open / message / error /
//! close events, following the WHATWG WebSocket standard and RFC 6455 §7.
//!
//! This is pure bookkeeping: the connection code reports what happened on the wire and this
//! state machine says which state and events follow, and whether a close frame must be sent.

use std::sync::Arc;

use crate::trace::{BrowserEvent, ReadyState};
use crate::wire::Opcode;

/// Close code a browser reports when the close frame had no code (RFC 6455 §7.1.5).
pub const NO_STATUS: u16 = 1005;
/// Close code a browser reports when the connection closed abnormally (RFC 6455 §7.1.5).
pub const ABNORMAL: u16 = 1006;

/// The client-side state of one connection.
#[derive(Clone, Debug)]
pub struct Browser {
    state: ReadyState,
    /// Events fired so far, in order.
    events: Vec<BrowserEvent>,
    /// State changes in order (for the trace).
    changes: Vec<ReadyState>,
    close_sent: bool,
    close_received: Option<(Option<u16>, String)>,
    failed: bool,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

impl Browser {
    /// A connection that has started its handshake.
    pub fn new() -> Browser {
        Browser {
            state: ReadyState::Connecting,
            events: Vec::new(),
            changes: Vec::new(),
            close_sent: false,
            close_received: None,
            failed: false,
        }
    }

    /// Current readyState.
    pub fn state(&self) -> ReadyState {
        self.state
    }

    /// Every event fired so far.
    pub fn events(&self) -> &[BrowserEvent] {
        &self.events
    }

    /// Whether a close frame was sent by the client.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// The code and reason of the server's close frame, once received.
    pub fn close_received(&self) -> Option<&(Option<u16>, String)> {
        self.close_received.as_ref()
    }

    fn set(&mut self, state: ReadyState) {
        if self.state != state {
            self.state = state;
            self.changes.push(state);
        }
    }

    /// State changes since the last call, for the trace.
    pub fn take_changes(&mut self) -> Vec<ReadyState> {
        std::mem::take(&mut self.changes)
    }

    /// The handshake succeeded: OPEN, `open`.
    pub fn opened(&mut self) {
        if self.state == ReadyState::Connecting {
            self.set(ReadyState::Open);
            self.events.push(BrowserEvent::Open);
        }
    }

    /// A data message arrived. Fired only while OPEN (WHATWG: messages in CLOSING are dropped).
    pub fn message(&mut self, opcode: Opcode, data: &Arc<[u8]>) -> bool {
        if self.state == ReadyState::Open {
            self.events.push(BrowserEvent::Message {
                opcode,
                data: Arc::clone(data),
            });
            true
        } else {
            false
        }
    }

    /// Drops this state machine's hold on a delivered message's data (the events keep the
    /// message, with an empty body).
    pub fn release(&mut self, data: &Arc<[u8]>) {
        for event in self.events.iter_mut().rev() {
            if let BrowserEvent::Message { data: held, .. } = event
                && Arc::ptr_eq(held, data)
            {
                *held = Arc::from(Vec::new());
                return;
            }
        }
    }

    /// A close frame arrived. Returns true when the client must answer with its own close
    /// frame (it has not sent one yet; RFC 6455 §5.5.1).
    pub fn close_frame_received(&mut self, code: Option<u16>, reason: String) -> bool {
        if self.close_received.is_some() || self.state == ReadyState::Closed {
            return false;
        }
        self.close_received = Some((code, reason));
        self.set(ReadyState::Closing);
        !self.close_sent
    }

    /// The client is sending a close frame (its own initiative or as an answer).
    pub fn close_frame_sent(&mut self) {
        self.close_sent = true;
        if self.state == ReadyState::Open {
            self.set(ReadyState::Closing);
        }
    }

    /// What `close()` must do now.
    pub fn close_called(&mut self) -> CloseAction {
        match self.state {
            ReadyState::Connecting => {
                self.fail();
                CloseAction::Abort
            }
            ReadyState::Open => CloseAction::SendClose,
            ReadyState::Closing | ReadyState::Closed => CloseAction::Nothing,
        }
    }

    /// The client fails the connection (handshake refused, or the server broke the protocol):
    /// `error` will fire before `close`.
    pub fn fail(&mut self) {
        if self.state != ReadyState::Closed {
            self.failed = true;
            if self.state == ReadyState::Open {
                self.set(ReadyState::Closing);
            }
        }
    }

    /// The TCP connection is gone: CLOSED, then `error` if the connection was failed, then
    /// `close` with the code, reason and wasClean a browser reports.
    pub fn tcp_closed(&mut self) {
        if self.state == ReadyState::Closed {
            return;
        }
        self.set(ReadyState::Closed);
        let clean = !self.failed && self.close_sent && self.close_received.is_some();
        if self.failed {
            self.events.push(BrowserEvent::Error);
        }
        let (code, reason) = match (&self.close_received, clean) {
            (Some((code, reason)), true) => (code.unwrap_or(NO_STATUS), reason.clone()),
            _ => (ABNORMAL, String::new()),
        };
        self.events.push(BrowserEvent::Close {
            code,
            reason,
            was_clean: clean,
        });
    }
}

/// What a `close()` call results in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseAction {
    /// Send a close frame.
    SendClose,
    /// Abort the connection (called while CONNECTING).
    Abort,
    /// Already closing or closed.
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close_event(b: &Browser) -> Option<&BrowserEvent> {
        b.events().last()
    }

    #[test]
    fn normal_open_and_client_close() {
        let mut b = Browser::new();
        b.opened();
        assert_eq!(b.state(), ReadyState::Open);
        assert_eq!(b.close_called(), CloseAction::SendClose);
        b.close_frame_sent();
        assert_eq!(b.state(), ReadyState::Closing);
        assert!(!b.close_frame_received(Some(1000), "bye".into()));
        b.tcp_closed();
        assert_eq!(b.state(), ReadyState::Closed);
        assert_eq!(
            b.events(),
            &[
                BrowserEvent::Open,
                BrowserEvent::Close {
                    code: 1000,
                    reason: "bye".into(),
                    was_clean: true
                }
            ]
        );
        assert_eq!(
            b.take_changes(),
            vec![ReadyState::Open, ReadyState::Closing, ReadyState::Closed]
        );
    }

    #[test]
    fn server_initiated_close_is_answered() {
        let mut b = Browser::new();
        b.opened();
        assert!(b.close_frame_received(None, String::new()));
        b.close_frame_sent();
        b.tcp_closed();
        assert_eq!(
            close_event(&b),
            Some(&BrowserEvent::Close {
                code: NO_STATUS,
                reason: String::new(),
                was_clean: true
            })
        );
    }

    #[test]
    fn refused_handshake_is_error_then_close_1006() {
        let mut b = Browser::new();
        b.fail();
        b.tcp_closed();
        assert_eq!(
            b.events(),
            &[
                BrowserEvent::Error,
                BrowserEvent::Close {
                    code: ABNORMAL,
                    reason: String::new(),
                    was_clean: false
                }
            ]
        );
    }

    #[test]
    fn tcp_drop_without_close_is_1006_without_error() {
        let mut b = Browser::new();
        b.opened();
        b.tcp_closed();
        assert_eq!(
            close_event(&b),
            Some(&BrowserEvent::Close {
                code: ABNORMAL,
                reason: String::new(),
                was_clean: false
            })
        );
        assert!(!b.events().contains(&BrowserEvent::Error));
    }

    #[test]
    fn close_while_connecting_aborts() {
        let mut b = Browser::new();
        assert_eq!(b.close_called(), CloseAction::Abort);
        b.tcp_closed();
        assert_eq!(b.events()[0], BrowserEvent::Error);
    }

    #[test]
    fn messages_after_close_are_not_fired() {
        let mut b = Browser::new();
        b.opened();
        assert!(b.message(Opcode::Text, &Arc::from(&b"a"[..])));
        b.close_frame_sent();
        assert!(!b.message(Opcode::Text, &Arc::from(&b"late"[..])));
        assert_eq!(b.events().len(), 2);
    }

    #[test]
    fn close_without_answer_from_server_is_unclean() {
        let mut b = Browser::new();
        b.opened();
        b.close_frame_sent();
        b.tcp_closed();
        assert_eq!(
            close_event(&b),
            Some(&BrowserEvent::Close {
                code: ABNORMAL,
                reason: String::new(),
                was_clean: false
            })
        );
    }
}
