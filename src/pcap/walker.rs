//! The byte-ledger fast path for `overhead`: walks WebSocket frame headers with the `wire`
//! header parser and skips payloads without buffering or copying them, counting exactly what
//! [`super::websocket::WsSide`] counts when it decodes everything. The byte-ledger test checks
//! that both paths give the same totals on every fixture.

use crate::wire::frame::{HeaderStatus, parse_header};
use crate::wire::{Direction, FrameHeader, Opcode};

use super::events::GapEffect;
use super::ledger::AppCounts;
use super::reassembly::GapKind;

/// Whether a header could begin a frame sent in `dir`: RSV bits the connection allows, a
/// defined opcode, the MASK bit the sender must use, control-frame limits and a minimal
/// length. Wireshark's `websocket_tcp` heuristic makes the same test, less the mask bit.
pub fn plausible(h: &FrameHeader, dir: Direction, allowed_rsv: u8) -> bool {
    let masked_ok = h.mask.is_some() == (dir == Direction::ClientToServer);
    let known = matches!(h.opcode.as_u8(), 0 | 1 | 2 | 8 | 9 | 10);
    let control_ok = !h.opcode.is_control() || (h.fin && h.payload_len <= 125);
    h.rsv & !allowed_rsv == 0 && masked_ok && known && control_ok && h.is_minimal_length()
}

/// Counts a data message when its last frame goes by; `open` tracks a fragmented one.
pub fn count_message(open: &mut bool, opcode: Opcode, fin: bool, counts: &mut AppCounts) {
    match opcode {
        Opcode::Text | Opcode::Binary => {
            if fin {
                counts.ws_messages += 1;
            }
            *open = !fin;
        }
        Opcode::Continuation if *open && fin => {
            counts.ws_messages += 1;
            *open = false;
        }
        _ => {}
    }
}

/// Header-only walker over one direction.
#[derive(Clone, Debug)]
pub struct Walker {
    dir: Direction,
    allowed_rsv: u8,
    header: [u8; 14],
    have: usize,
    skip: u64,
    skip_is_data: bool,
    open: bool,
    resync: bool,
    /// A gap left no way to find the next frame.
    pub lost: bool,
}

impl Walker {
    /// A walker for frames sent in `dir` on a connection that allows `allowed_rsv`.
    pub fn new(dir: Direction, allowed_rsv: u8) -> Walker {
        Walker {
            dir,
            allowed_rsv,
            header: [0; 14],
            have: 0,
            skip: 0,
            skip_is_data: false,
            open: false,
            resync: false,
            lost: false,
        }
    }

    /// Walks stream bytes; returns true when a header after a gap was implausible (the
    /// direction is lost from there).
    pub fn push(&mut self, mut bytes: &[u8], counts: &mut AppCounts) -> bool {
        while !bytes.is_empty() && !self.lost {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len() as u64);
                counts.ws_payload += n;
                if self.skip_is_data {
                    counts.ws_data_payload += n;
                }
                self.skip -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            let need = if self.have < 2 {
                2
            } else {
                let ext = match self.header[1] & 0x7f {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                };
                2 + ext + if self.header[1] & 0x80 != 0 { 4 } else { 0 }
            };
            let take = (need - self.have).min(bytes.len());
            self.header[self.have..self.have + take].copy_from_slice(&bytes[..take]);
            self.have += take;
            bytes = &bytes[take..];
            if self.have < 2 || self.have < need {
                continue;
            }
            let HeaderStatus::Complete(h, n) = parse_header(&self.header[..self.have]) else {
                continue;
            };
            if self.resync && !plausible(&h, self.dir, self.allowed_rsv) {
                self.lost = true;
                return true;
            }
            self.resync = false;
            let mask = if h.mask.is_some() { 4 } else { 0 };
            counts.ws_frames += 1;
            counts.ws_header += n as u64 - mask;
            counts.ws_mask += mask;
            self.skip = h.payload_len;
            self.skip_is_data = matches!(
                h.opcode,
                Opcode::Text | Opcode::Binary | Opcode::Continuation
            );
            count_message(&mut self.open, h.opcode, h.fin, counts);
            self.have = 0;
        }
        false
    }

    /// Accepts the next header only if it is plausible.
    pub fn resync(&mut self) {
        self.resync = true;
    }

    /// What a gap of `len` bytes does here.
    pub fn gap_effect(&self, len: u64) -> GapEffect {
        if self.lost {
            GapEffect::StreamLost
        } else if self.skip > 0 {
            if len <= self.skip {
                GapEffect::SkippedInPayload
            } else {
                GapEffect::StreamLost
            }
        } else if self.have == 0 {
            GapEffect::AtFrameBoundary
        } else {
            GapEffect::StreamLost
        }
    }

    /// Applies a gap with the effect [`Walker::gap_effect`] gave.
    pub fn gap(&mut self, len: u64, kind: GapKind, effect: GapEffect, counts: &mut AppCounts) {
        match effect {
            GapEffect::SkippedInPayload => {
                self.skip -= len;
                if kind == GapKind::Truncated {
                    counts.ws_payload += len;
                    if self.skip_is_data {
                        counts.ws_data_payload += len;
                    }
                } else {
                    counts.lost_in_payload += len;
                }
            }
            GapEffect::AtFrameBoundary => self.resync = true,
            GapEffect::StreamLost | GapEffect::Harmless => self.lost = true,
        }
    }
}
