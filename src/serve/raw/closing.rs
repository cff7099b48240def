//! The end of a raw server's connection: the closing handshake as far as it is left (the
//! client's close answered, a failure's close frame, 1001 on shutdown) and then TCP, server
//! first (RFC 6455 §7.1.1, §7.1.7), with the closing faults applied where the baseline makes
//! the decision each one changes. Every wait is bounded.

use tokio::sync::watch;
use tokio::time::{Duration, Instant, timeout};

use super::{Conn, Ending, Read};
use crate::serve::connection::close_tcp;
use crate::serve::fault::Fault;
use crate::serve::{CLOSE_TIMEOUT, stopped};
use crate::wire::close::GOING_AWAY;
use crate::wire::{ClosePayload, Decoded, Opcode};

/// How long `no-tcp-close` keeps TCP open after the closing handshake, waiting for the client
/// to close it.
const HOLD_OPEN: Duration = Duration::from_secs(10);

/// Longest close reason that fits a control frame: 125 bytes less the 2-byte code (§5.5).
const MAX_CLOSE_REASON: usize = 123;

/// The reason length `oversized-close-reason` pads to: 2 + 130 bytes is over the 125 limit.
const OVERSIZED_REASON: usize = 130;

impl Conn {
    /// Carries out the ending: the closing handshake as far as it is left, then TCP.
    pub(super) async fn finish(mut self, ending: Ending, stop: &mut watch::Receiver<bool>) {
        match ending {
            Ending::Gone => {}
            Ending::Answered if matches!(self.fault, Fault::NoTcpClose | Fault::H2NoEndStream) => {
                self.hold_open(stop).await;
                return;
            }
            Ending::Answered => {}
            Ending::Fail(code, reason) => {
                if self.fault != Fault::DropOnError {
                    let reason = self.failure_reason(&reason);
                    let payload = ClosePayload::Code {
                        code,
                        reason: reason.into_bytes(),
                    };
                    self.queue(Opcode::Close, payload.to_bytes());
                    self.flush().await;
                }
            }
            Ending::Shutdown => {
                let payload = ClosePayload::Code {
                    code: GOING_AWAY,
                    reason: b"server shutting down".to_vec(),
                };
                self.queue(Opcode::Close, payload.to_bytes());
                if self.flush().await {
                    let _ = timeout(CLOSE_TIMEOUT, self.await_close()).await;
                }
            }
        }
        close_tcp(self.tcp).await;
    }

    /// The reason sent with a failure: the violation, cut to fit a control frame, or padded
    /// past it for `oversized-close-reason`.
    fn failure_reason(&self, detail: &str) -> String {
        let mut end = detail.len().min(MAX_CLOSE_REASON);
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        let mut reason = detail[..end].to_string();
        if self.fault == Fault::OversizedCloseReason {
            while reason.len() < OVERSIZED_REASON {
                reason.push('.');
            }
        }
        reason
    }

    /// Reads until the client's close frame arrives or the client goes away.
    async fn await_close(&mut self) {
        loop {
            loop {
                match self.decoder.next_frame() {
                    Decoded::Frame(f) if f.frame.header.opcode == Opcode::Close => return,
                    Decoded::Frame(_) => {}
                    Decoded::NeedMore(_) | Decoded::Oversized { .. } => break,
                }
            }
            if !matches!(self.read_more(None).await, Read::Data) {
                return;
            }
        }
    }

    /// `no-tcp-close`: leaves TCP open until the client closes it, [`HOLD_OPEN`] passes or the
    /// server stops, and only then drops the socket.
    async fn hold_open(mut self, stop: &mut watch::Receiver<bool>) {
        let until = Instant::now() + HOLD_OPEN;
        loop {
            tokio::select! {
                () = stopped(stop) => return,
                read = self.read_more(Some(until)) => if !matches!(read, Read::Data) {
                    return;
                },
            }
            // Whatever the client still sends is read and dropped.
            while let Decoded::Frame(_) = self.decoder.next_frame() {}
        }
    }
}
