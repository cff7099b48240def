//! Key logs in the NSS SSLKEYLOGFILE format that browsers, curl, OpenSSL and rustls write:
//! `LABEL <client random hex> <secret hex>` per line, `#` comments. TLS 1.2 needs
//! `CLIENT_RANDOM` (the 48-byte master secret); TLS 1.3 the handshake and first application
//! traffic secrets. Other labels (EXPORTER_SECRET, early traffic secrets) are ignored.

use std::collections::HashMap;

/// Largest key log read (a log line is under 300 bytes; this holds a hundred thousand sessions).
pub const MAX_KEYLOG: u64 = 32 << 20;

/// The secrets of one session, keyed by its ClientHello random.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2 master secret.
    pub master: Option<Vec<u8>>,
    /// TLS 1.3 client handshake traffic secret.
    pub client_handshake: Option<Vec<u8>>,
    /// TLS 1.3 server handshake traffic secret.
    pub server_handshake: Option<Vec<u8>>,
    /// TLS 1.3 client application traffic secret 0.
    pub client_traffic: Option<Vec<u8>>,
    /// TLS 1.3 server application traffic secret 0.
    pub server_traffic: Option<Vec<u8>>,
}

/// Secrets of many sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], Secrets>,
    /// Whether any key log was given at all (an empty one included).
    pub given: bool,
}

/// A line of a key log that is not in the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct KeyLogError {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong, in lower case.
    pub why: String,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

impl KeyLog {
    /// Parses a whole key log. Unknown labels are skipped; a known label with a malformed
    /// random or secret is an error naming the line.
    pub fn parse(text: &str) -> Result<KeyLog, KeyLogError> {
        let mut log = KeyLog {
            given: true,
            ..KeyLog::default()
        };
        log.add(text)?;
        Ok(log)
    }

    /// Adds the lines of `text` (a file or a pcapng Decryption Secrets Block).
    pub fn add(&mut self, text: &str) -> Result<(), KeyLogError> {
        self.given = true;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |why: String| KeyLogError { line: i + 1, why };
            let mut parts = line.split_ascii_whitespace();
            let label = parts.next().unwrap_or_default();
            let known = matches!(
                label,
                "CLIENT_RANDOM"
                    | "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                    | "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                    | "CLIENT_TRAFFIC_SECRET_0"
                    | "SERVER_TRAFFIC_SECRET_0"
            );
            if !known {
                if label
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                {
                    continue;
                }
                return Err(err(format!(
                    "expected `LABEL <client random> <secret>`, found {:?}",
                    crate::trace::preview(label.as_bytes())
                )));
            }
            let (Some(random), Some(secret), None) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(err(format!(
                    "{label} needs exactly two hex fields: the client random and the secret"
                )));
            };
            let random: [u8; 32] = unhex(random)
                .and_then(|r| r.try_into().ok())
                .ok_or_else(|| err(format!("{label}: the client random is not 64 hex digits")))?;
            let secret = unhex(secret)
                .filter(|s| matches!(s.len(), 32 | 48 | 64))
                .ok_or_else(|| {
                    err(format!(
                        "{label}: the secret is not 64 or 96 hex digits (32 or 48 bytes)"
                    ))
                })?;
            if label == "CLIENT_RANDOM" && secret.len() != 48 {
                return Err(err(
                    "CLIENT_RANDOM: the master secret is not 96 hex digits (48 bytes)".into(),
                ));
            }
            let s = self.sessions.entry(random).or_default();
            let slot = match label {
                "CLIENT_RANDOM" => &mut s.master,
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut s.client_handshake,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut s.server_handshake,
                "CLIENT_TRAFFIC_SECRET_0" => &mut s.client_traffic,
                _ => &mut s.server_traffic,
            };
            *slot = Some(secret);
        }
        Ok(())
    }

    /// The secrets logged for a ClientHello random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.sessions.get(client_random)
    }

    /// Sessions known.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// No session known.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "5160f6a4aef8f2527c9273f2b850938a04341cb8aeb27fd87f40e4b6b093db71";

    #[test]
    fn parses_both_versions_and_skips_comments_and_unknown_labels() {
        let ms = "ab".repeat(48);
        let ts = "cd".repeat(48);
        let text = format!(
            "# comment\n\nCLIENT_RANDOM {R} {ms}\nEXPORTER_SECRET {R} {ts}\r\nSERVER_TRAFFIC_SECRET_0 {R} {ts}\n"
        );
        let log = KeyLog::parse(&text).expect("parses");
        let r: [u8; 32] = unhex(R).expect("hex").try_into().expect("32");
        let s = log.get(&r).expect("session");
        assert_eq!(s.master.as_deref(), Some(&[0xab; 48][..]));
        assert_eq!(s.server_traffic.as_deref(), Some(&[0xcd; 48][..]));
        assert!(s.client_traffic.is_none());
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for (text, line, what) in [
            (format!("# x\nCLIENT_RANDOM {R}\n"), 2, "exactly two"),
            (
                format!("CLIENT_RANDOM zz {}\n", "ab".repeat(48)),
                1,
                "client random",
            ),
            (format!("\n\nCLIENT_RANDOM {R} abc\n"), 3, "secret"),
            (
                format!("CLIENT_RANDOM {R} {}\n", "ab".repeat(32)),
                1,
                "master secret",
            ),
            ("hello world\n".to_string(), 1, "expected"),
        ] {
            let e = KeyLog::parse(&text).expect_err("malformed");
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.why.contains(what), "{e}");
        }
    }
}
