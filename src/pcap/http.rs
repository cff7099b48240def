//! HTTP/1.x message framing for the capture dissector: start lines, the body length a head
//! declares (RFC 9112 §6: Content-Length, chunked transfer coding), and a chunked-body state
//! machine that counts body bytes apart from chunk framing, for the byte ledger.

use crate::wire::handshake::{RequestHead, ResponseHead};

/// Where a chunked body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunked {
    /// Reading a chunk-size line.
    Size,
    /// Inside chunk data.
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd(u8),
    /// Trailer lines after the last chunk, until an empty line.
    Trailer,
}

/// `GET /path HTTP/1.1`.
pub fn start_line_request(h: &RequestHead) -> String {
    format!("{} {} HTTP/1.{}", h.method, h.path, h.version)
}

/// `HTTP/1.1 200 OK` (without a reason if none was sent).
pub fn start_line_response(h: &ResponseHead) -> String {
    if h.reason.is_empty() {
        format!("HTTP/1.{} {}", h.version, h.status)
    } else {
        format!("HTTP/1.{} {} {}", h.version, h.status, h.reason)
    }
}

/// Whether a comma-list header (all its fields) contains `token`, ASCII case-insensitively.
pub fn has_token(values: &[&[u8]], token: &str) -> bool {
    values.iter().any(|v| {
        String::from_utf8_lossy(v)
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    })
}

/// The first Content-Length, if it is a number.
pub fn content_length(headers: &[(String, Vec<u8>)]) -> Option<u64> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse().ok())
}

/// Whether Transfer-Encoding names chunked.
pub fn is_chunked(headers: &[(String, Vec<u8>)]) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .any(|(_, v)| {
            String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains("chunked")
        })
}

/// Runs the chunked-body state machine over `data`: (next state, or None when the body
/// ended; bytes used; body bytes; framing bytes). `line` holds a size or trailer line split
/// across calls. An unreadable chunk size is taken as the last chunk: the rest is then read as
/// trailers and HTTP heads, which is as far as a capture of a broken peer can be followed.
pub fn chunked(
    mut state: Chunked,
    data: &[u8],
    line: &mut Vec<u8>,
) -> (Option<Chunked>, usize, u64, u64) {
    let mut used = 0;
    let mut body = 0u64;
    let mut framing = 0u64;
    while used < data.len() {
        match state {
            Chunked::Data(left) => {
                let n = left.min((data.len() - used) as u64);
                body += n;
                used += n as usize;
                state = if left == n {
                    Chunked::DataEnd(2)
                } else {
                    Chunked::Data(left - n)
                };
            }
            Chunked::DataEnd(left) => {
                used += 1;
                framing += 1;
                state = if left <= 1 {
                    Chunked::Size
                } else {
                    Chunked::DataEnd(left - 1)
                };
            }
            Chunked::Size | Chunked::Trailer => {
                let b = data[used];
                used += 1;
                framing += 1;
                if b != b'\n' {
                    if line.len() < 4096 {
                        line.push(b);
                    }
                    continue;
                }
                let text = String::from_utf8_lossy(line).trim().to_string();
                line.clear();
                if state == Chunked::Trailer {
                    if text.is_empty() {
                        return (None, used, body, framing);
                    }
                    continue;
                }
                let hex = text.split(';').next().unwrap_or("").trim();
                let size = u64::from_str_radix(hex, 16).unwrap_or(0);
                state = if size == 0 {
                    Chunked::Trailer
                } else {
                    Chunked::Data(size)
                };
            }
        }
    }
    (Some(state), used, body, framing)
}
