//! The "Per-Message Compressed" bit (RFC 7692 §6, §6.1, §6.2): with permessage-deflate agreed,
//! RSV1 on the first frame of a data message says the message is compressed; it is never set on
//! control frames or continuation frames, and a receiver fails the connection when it is.
//!
//! [`MessageRsv`] follows the messages of one direction frame by frame, so a receiver (live or
//! in a capture) knows for each frame whether its payload belongs to a compressed message and
//! which RSV1 finding, if any, the frame carries.

use super::{Finding, FindingKind};
use crate::wire::Opcode;

/// Whether a sender sets RSV1 on a frame: only on the first frame of a compressed data message
/// (§6.1).
pub fn sender_rsv1(opcode: Opcode, first_frame_of_message: bool, compressed: bool) -> bool {
    compressed && first_frame_of_message && matches!(opcode, Opcode::Text | Opcode::Binary)
}

/// What RSV1 means on one received frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rsv1State {
    /// The frame's payload belongs to a compressed message and goes through the inflater.
    pub compressed: bool,
    /// The frame starts a compressed message (the inflater begins a message here).
    pub starts_message: bool,
    /// The RSV1 rule this frame breaks, if any.
    pub finding: Option<Finding>,
}

/// Tracks the data messages of one direction for the RSV1 rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageRsv {
    negotiated: bool,
    /// `Some(compressed)` while a fragmented data message is open.
    open: Option<bool>,
}

impl MessageRsv {
    /// A tracker; `negotiated` says whether permessage-deflate was agreed on the connection.
    pub fn new(negotiated: bool) -> MessageRsv {
        MessageRsv {
            negotiated,
            open: None,
        }
    }

    /// Judges one received frame (in order) and says whether its payload is compressed.
    pub fn on_frame(&mut self, opcode: Opcode, fin: bool, rsv1: bool) -> Rsv1State {
        let mut state = Rsv1State {
            compressed: false,
            starts_message: false,
            finding: None,
        };
        match opcode {
            Opcode::Text | Opcode::Binary => {
                if rsv1 && !self.negotiated {
                    state.finding = Some(Finding::new(
                        FindingKind::Rsv1NotNegotiated,
                        "rsv1 set on a data frame but no extension giving it a meaning was agreed",
                    ));
                }
                state.compressed = rsv1 && self.negotiated;
                state.starts_message = state.compressed;
                self.open = (!fin).then_some(state.compressed);
            }
            Opcode::Continuation => {
                state.compressed = self.open.unwrap_or(false);
                if rsv1 {
                    state.finding = Some(if self.negotiated {
                        Finding::new(
                            FindingKind::Rsv1OnContinuation,
                            "rsv1 set on a continuation frame",
                        )
                    } else {
                        Finding::new(
                            FindingKind::Rsv1NotNegotiated,
                            "rsv1 set on a continuation frame and no extension was agreed",
                        )
                    });
                }
                if fin {
                    self.open = None;
                }
            }
            Opcode::Close | Opcode::Ping | Opcode::Pong if rsv1 => {
                state.finding = Some(if self.negotiated {
                    Finding::new(
                        FindingKind::Rsv1OnControlFrame,
                        format!("rsv1 set on a {} frame", opcode_name(opcode)),
                    )
                } else {
                    Finding::new(
                        FindingKind::Rsv1NotNegotiated,
                        format!(
                            "rsv1 set on a {} frame and no extension was agreed",
                            opcode_name(opcode)
                        ),
                    )
                });
            }
            Opcode::ReservedData(_) | Opcode::ReservedControl(_) if rsv1 => {
                state.finding = Some(Finding::new(
                    FindingKind::Rsv1NotNegotiated,
                    "rsv1 set on a frame with a reserved opcode, which no extension gives a meaning",
                ));
            }
            _ => {}
        }
        state
    }
}

fn opcode_name(opcode: Opcode) -> &'static str {
    match opcode {
        Opcode::Close => "close",
        Opcode::Ping => "ping",
        Opcode::Pong => "pong",
        _ => "data",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = (&'static str, Opcode, bool, bool, bool, Option<FindingKind>);

    /// Feeds frames in order: (name, opcode, fin, rsv1, expected compressed, expected finding).
    fn run(negotiated: bool, rows: &[Row]) {
        let mut t = MessageRsv::new(negotiated);
        for (name, opcode, fin, rsv1, compressed, finding) in rows {
            let s = t.on_frame(*opcode, *fin, *rsv1);
            assert_eq!(s.compressed, *compressed, "{name}: compressed");
            assert_eq!(s.finding.map(|f| f.kind), *finding, "{name}: finding");
        }
    }

    #[test]
    fn rfc7692_6_1_rsv1_only_on_first_frame_of_data_message() {
        run(
            true,
            &[
                ("compressed text", Opcode::Text, true, true, true, None),
                ("plain binary", Opcode::Binary, true, false, false, None),
                ("first fragment", Opcode::Text, false, true, true, None),
                ("ping between", Opcode::Ping, true, false, false, None),
                (
                    "continuation",
                    Opcode::Continuation,
                    false,
                    false,
                    true,
                    None,
                ),
                (
                    "last fragment",
                    Opcode::Continuation,
                    true,
                    false,
                    true,
                    None,
                ),
                ("plain fragment", Opcode::Binary, false, false, false, None),
                ("plain last", Opcode::Continuation, true, false, false, None),
            ],
        );
    }

    #[test]
    fn rfc7692_6_1_rsv1_on_continuation_is_a_finding() {
        run(
            true,
            &[
                ("first", Opcode::Text, false, false, false, None),
                (
                    "rsv1 continuation",
                    Opcode::Continuation,
                    true,
                    true,
                    false,
                    Some(FindingKind::Rsv1OnContinuation),
                ),
            ],
        );
    }

    #[test]
    fn rfc7692_6_1_rsv1_on_control_frame_is_a_finding() {
        for opcode in [Opcode::Ping, Opcode::Pong, Opcode::Close] {
            run(
                true,
                &[(
                    "control",
                    opcode,
                    true,
                    true,
                    false,
                    Some(FindingKind::Rsv1OnControlFrame),
                )],
            );
        }
    }

    #[test]
    fn rfc7692_6_rsv1_without_the_extension_is_a_finding() {
        run(
            false,
            &[
                (
                    "text",
                    Opcode::Text,
                    true,
                    true,
                    false,
                    Some(FindingKind::Rsv1NotNegotiated),
                ),
                (
                    "ping",
                    Opcode::Ping,
                    true,
                    true,
                    false,
                    Some(FindingKind::Rsv1NotNegotiated),
                ),
                (
                    "reserved",
                    Opcode::ReservedData(3),
                    true,
                    true,
                    false,
                    Some(FindingKind::Rsv1NotNegotiated),
                ),
            ],
        );
    }

    #[test]
    fn rfc7692_6_1_sender_sets_rsv1_on_first_data_frame_only() {
        assert!(sender_rsv1(Opcode::Text, true, true));
        assert!(sender_rsv1(Opcode::Binary, true, true));
        assert!(!sender_rsv1(Opcode::Text, true, false));
        assert!(!sender_rsv1(Opcode::Continuation, false, true));
        assert!(!sender_rsv1(Opcode::Ping, true, true));
    }
}
