//! TLS inside a capture: recognised from the bytes on any port (a client stream starting with a
//! handshake record carrying a ClientHello), its hellos parsed for `inspect` (SNI, version,
//! cipher suite, ALPN), and, with a key log, its records decrypted and the application data of
//! each direction handed to the HTTP/WebSocket dissector exactly as a plain TCP stream would be.
//!
//! Decrypted: TLS 1.3 (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305; handshake traffic keys
//! until each side's Finished, then application traffic secret 0 and the ones after KeyUpdate,
//! RFC 8446 §7) and TLS 1.2 AEAD suites (AES-GCM with the explicit nonce of RFC 5288,
//! ChaCha20-Poly1305 of RFC 7905; keys from the master secret with the PRF of RFC 5246).
//! Not decrypted, with one notice per connection saying why: a session the key log has no
//! secrets for, CBC and other non-AEAD suites, 0-RTT early data, records after a gap.
//!
//! Memory per direction is one record (at most 5 + [`record::MAX_FRAGMENT`] bytes) and the
//! handshake message being read (at most [`MAX_HANDSHAKE_KEPT`] bytes; longer ones are skipped).

pub mod keylog;
pub mod keys;
pub mod record;

use crate::wire::Direction;

use super::Ctx;
use super::dissect::Dissector;
use super::events::{Event, TlsEvent, WarningEvent};
use keylog::KeyLog;
use keys::{Protection, Suite};
use record::{
    APPLICATION_DATA, CHANGE_CIPHER_SPEC, CLIENT_HELLO, FINISHED, HANDSHAKE, KEY_UPDATE,
    SERVER_HELLO,
};

/// Largest handshake message kept to be parsed (hellos, EncryptedExtensions, Finished,
/// KeyUpdate); longer messages (certificate chains) are skipped over, not kept.
pub const MAX_HANDSHAKE_KEPT: usize = 1 << 16;

/// EncryptedExtensions (TLS 1.3).
const ENCRYPTED_EXTENSIONS: u8 = 8;

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// Whether these first bytes of a connection's `dir` stream start a TLS handshake.
pub fn starts_tls(dir: Direction, first: &[u8]) -> bool {
    record::looks_like_hello(first, dir == Direction::ClientToServer)
}

#[derive(Default)]
struct Side {
    /// The record being read: header then fragment.
    rec: Vec<u8>,
    /// Records are protected from here on.
    encrypted: bool,
    /// Current read protection.
    prot: Option<Protection>,
    /// Protection to switch to: at ChangeCipherSpec (TLS 1.2) or after Finished (TLS 1.3).
    pending: Option<Protection>,
    /// TLS 1.3 application traffic secret in use (for KeyUpdate), or to use after Finished.
    app_secret: Option<Vec<u8>>,
    /// Handshake message bytes not yet complete.
    hs: Vec<u8>,
    /// Bytes of an over-long handshake message still to skip.
    hs_skip: usize,
    /// Plaintext stream offset handed to the dissector.
    plain_pos: u64,
    /// Nothing more is decoded in this direction (a gap, a malformed record, a failed record).
    stopped: bool,
    /// TLS-layer bytes: record headers, handshake/CCS/alert records, AEAD overhead.
    tls_bytes: u64,
    /// Records opened.
    decrypted: u64,
}

/// The TLS state of one connection.
#[derive(Default)]
pub(crate) struct TlsConn {
    sides: [Side; 2],
    hello: Option<record::ClientHello>,
    server: Option<record::ServerHello>,
    suite: Option<Suite>,
    alpn: Option<String>,
    /// Why the content is not decrypted, if it is not.
    why_not: Option<String>,
    reported: bool,
    /// A failure notice was given for the connection.
    noticed: bool,
    /// 0-RTT early data records were skipped.
    early_skipped: bool,
}

impl TlsConn {
    /// A connection whose first bytes were recognised as TLS.
    pub(crate) fn new() -> TlsConn {
        TlsConn::default()
    }

    /// TLS-layer bytes of a direction (record headers, handshake, change cipher spec and alert
    /// records, AEAD nonces and tags, TLS 1.3 inner content types and padding).
    pub(crate) fn tls_bytes(&self, dir: Direction) -> u64 {
        self.sides[idx(dir)].tls_bytes
    }

    fn warn(&mut self, packet: u64, ctx: &mut Ctx<'_>, msg: &str) {
        ctx.sink.event(&Event::Warning(WarningEvent {
            packet: Some(packet),
            conn: Some(ctx.conn),
            message: msg,
        }));
    }

    /// Reports the connection's TLS parameters once.
    fn report(&mut self, packet: u64, ctx: &mut Ctx<'_>) {
        if self.reported {
            return;
        }
        self.reported = true;
        let hello = self.hello.clone().unwrap_or_default();
        let ev = TlsEvent {
            at: ctx.at(packet),
            sni: hello.sni.as_deref(),
            version: self.server.as_ref().map(|s| s.version),
            suite: self.server.as_ref().map(|s| s.suite),
            alpn: self.alpn.as_deref(),
            offered_alpn: &hello.alpn,
            not_decrypted: self.why_not.as_deref(),
        };
        ctx.sink.event(&Event::Tls(ev));
        // One notice per connection: not again when a failure was already reported.
        if let Some(why) = self.why_not.clone()
            && !self.noticed
        {
            let msg = format!(
                "connection {}: tls{} not decrypted: {why}; its content is counted, not decoded",
                ctx.conn,
                hello
                    .sni
                    .as_deref()
                    .map(|s| format!(" to {}", crate::trace::preview(s.as_bytes())))
                    .unwrap_or_default()
            );
            self.noticed = true;
            self.warn(packet, ctx, &msg);
        }
    }

    /// A notice that decryption stopped (once per connection).
    fn fail(&mut self, d: usize, packet: u64, ctx: &mut Ctx<'_>, why: &str) {
        self.sides[d].stopped = true;
        self.sides[d].prot = None;
        if !self.reported && self.why_not.is_none() {
            // The parameters are not reported yet (TLS 1.3 waits for the server's Finished):
            // they will say why the content is not decrypted.
            self.why_not = Some(why.to_string());
        }
        if self.noticed {
            return;
        }
        self.noticed = true;
        let dir = if d == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let msg = format!(
            "connection {}: {} tls {why}; the rest of this direction is not decrypted",
            ctx.conn,
            dir.arrow()
        );
        self.warn(packet, ctx, &msg);
    }

    /// Bytes of `dir`'s stream in order, brought by `packet`.
    pub(crate) fn data(
        &mut self,
        dir: Direction,
        mut bytes: &[u8],
        packet: u64,
        keys: &KeyLog,
        dissector: Option<&mut Dissector>,
        ctx: &mut Ctx<'_>,
    ) {
        let d = idx(dir);
        let mut dissector = dissector;
        while !bytes.is_empty() && !self.sides[d].stopped {
            let side = &mut self.sides[d];
            let want = if side.rec.len() < 5 {
                5
            } else {
                let h: [u8; 5] = [
                    side.rec[0],
                    side.rec[1],
                    side.rec[2],
                    side.rec[3],
                    side.rec[4],
                ];
                match record::header(&h) {
                    Ok(h) => 5 + h.len,
                    Err(why) => {
                        let msg = format!("stream is not tls any more ({why})");
                        self.fail(d, packet, ctx, &msg);
                        return;
                    }
                }
            };
            let n = (want - side.rec.len()).min(bytes.len());
            side.rec.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if side.rec.len() == want && want > 5 {
                let mut rec = std::mem::take(&mut self.sides[d].rec);
                self.record(d, &mut rec, packet, keys, dissector.as_deref_mut(), ctx);
                rec.clear();
                if self.sides[d].rec.capacity() == 0 {
                    self.sides[d].rec = rec;
                }
            } else if side.rec.len() == 5 {
                // A header alone: check it now, so that a bad one stops at once.
                let h: [u8; 5] = [
                    side.rec[0],
                    side.rec[1],
                    side.rec[2],
                    side.rec[3],
                    side.rec[4],
                ];
                if let Err(why) = record::header(&h) {
                    let msg = format!("stream is not tls any more ({why})");
                    self.fail(d, packet, ctx, &msg);
                    return;
                }
                if h[3] == 0 && h[4] == 0 {
                    // An empty record.
                    self.sides[d].tls_bytes += 5;
                    self.sides[d].rec.clear();
                }
            }
        }
    }

    /// A gap in `dir`'s stream: records cannot be found after it.
    pub(crate) fn gap(&mut self, dir: Direction, len: u64, packet: u64, ctx: &mut Ctx<'_>) {
        let d = idx(dir);
        if self.sides[d].stopped {
            return;
        }
        let why = format!("stream has {len} bytes not in the capture");
        self.fail(d, packet, ctx, &why);
    }

    /// The connection ended: reports what was found if nothing was yet.
    pub(crate) fn finish(&mut self, packet: u64, ctx: &mut Ctx<'_>) {
        if !self.reported {
            if self.why_not.is_none() && self.server.is_none() {
                self.why_not = Some("no ServerHello in the capture".into());
            }
            self.report(packet, ctx);
        }
    }

    fn record(
        &mut self,
        d: usize,
        rec: &mut [u8],
        packet: u64,
        keys: &KeyLog,
        dissector: Option<&mut Dissector>,
        ctx: &mut Ctx<'_>,
    ) {
        let header: [u8; 5] = [rec[0], rec[1], rec[2], rec[3], rec[4]];
        let content_type = header[0];
        let body = &mut rec[5..];
        let side = &mut self.sides[d];
        side.tls_bytes += 5;
        let tls13 = self.suite.is_some_and(|s| s.tls13)
            || self.server.as_ref().is_some_and(|s| s.version == 0x0304);
        if content_type == CHANGE_CIPHER_SPEC {
            side.tls_bytes += body.len() as u64;
            if !tls13 {
                side.encrypted = true;
                side.prot = side.pending.take();
            }
            return;
        }
        if !side.encrypted {
            if content_type == APPLICATION_DATA {
                // Protected data before any key change was seen (a capture without the hellos).
                return;
            }
            side.tls_bytes += body.len() as u64;
            if content_type == HANDSHAKE {
                let body = body.to_vec();
                self.handshake(d, &body, packet, keys, ctx);
            }
            return;
        }
        let Some(prot) = side.prot.as_mut() else {
            // Protected and no key: the content type is all that can be told.
            if content_type != APPLICATION_DATA {
                side.tls_bytes += body.len() as u64;
            }
            return;
        };
        let wire_len = body.len() as u64;
        let seq = prot.seq;
        let early = d == 0
            && tls13
            && side.decrypted == 0
            && self.hello.as_ref().is_some_and(|h| h.early_data);
        let Some(opened) = prot.open(&header, body) else {
            if early {
                // 0-RTT early data, protected with the early traffic secret: skipped.
                if !self.early_skipped {
                    self.early_skipped = true;
                    let msg = format!(
                        "connection {}: c->s tls 0-rtt early data is not decrypted",
                        ctx.conn
                    );
                    self.warn(packet, ctx, &msg);
                }
                return;
            }
            let why = format!(
                "record {seq} (packet {packet}) does not decrypt with the key log's secrets (a wrong key log, or records missing)"
            );
            self.fail(d, packet, ctx, &why);
            return;
        };
        let side = &mut self.sides[d];
        side.decrypted += 1;
        let plain = &body[opened.start..opened.start + opened.len];
        side.tls_bytes += wire_len - plain.len() as u64;
        match opened.content_type {
            APPLICATION_DATA => {
                let at = side.plain_pos;
                side.plain_pos += plain.len() as u64;
                if let Some(dis) = dissector
                    && !plain.is_empty()
                {
                    let dir = if d == 0 {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    };
                    dis.data(dir, at, plain, packet, ctx);
                }
            }
            HANDSHAKE => {
                side.tls_bytes += plain.len() as u64;
                let plain = plain.to_vec();
                self.handshake(d, &plain, packet, keys, ctx);
            }
            _ => side.tls_bytes += plain.len() as u64,
        }
    }

    /// Handshake bytes of side `d`: complete messages are acted on.
    fn handshake(
        &mut self,
        d: usize,
        mut data: &[u8],
        packet: u64,
        keys: &KeyLog,
        ctx: &mut Ctx<'_>,
    ) {
        while !data.is_empty() {
            let side = &mut self.sides[d];
            if side.hs_skip > 0 {
                let n = side.hs_skip.min(data.len());
                side.hs_skip -= n;
                data = &data[n..];
                continue;
            }
            if side.hs.len() < 4 {
                let n = (4 - side.hs.len()).min(data.len());
                side.hs.extend_from_slice(&data[..n]);
                data = &data[n..];
                if side.hs.len() < 4 {
                    return;
                }
            }
            let kind = side.hs[0];
            let len = (usize::from(side.hs[1]) << 16)
                | (usize::from(side.hs[2]) << 8)
                | usize::from(side.hs[3]);
            if len > MAX_HANDSHAKE_KEPT {
                side.hs.clear();
                side.hs_skip = len;
                if matches!(kind, CLIENT_HELLO | SERVER_HELLO) {
                    let why = format!("handshake message of {len} bytes is too long for a hello");
                    self.fail(d, packet, ctx, &why);
                    return;
                }
                continue;
            }
            let n = (4 + len - side.hs.len()).min(data.len());
            side.hs.extend_from_slice(&data[..n]);
            data = &data[n..];
            if side.hs.len() < 4 + len {
                return;
            }
            let msg = std::mem::take(&mut side.hs);
            self.message(d, kind, &msg[4..], packet, keys, ctx);
            if self.sides[d].stopped {
                return;
            }
        }
    }

    fn message(
        &mut self,
        d: usize,
        kind: u8,
        body: &[u8],
        packet: u64,
        keys: &KeyLog,
        ctx: &mut Ctx<'_>,
    ) {
        match (d, kind) {
            (0, CLIENT_HELLO) => match record::client_hello(body) {
                // A second ClientHello (after a HelloRetryRequest) keeps the first's random,
                // which is the one key logs name.
                Ok(h) if self.hello.is_none() => self.hello = Some(h),
                Ok(_) => {}
                Err(why) => self.fail(d, packet, ctx, &format!("ClientHello is malformed ({why})")),
            },
            (1, SERVER_HELLO) => match record::server_hello(body) {
                Ok((h, _)) if h.retry => {}
                Ok((h, alpn)) => {
                    self.alpn = alpn;
                    self.server_hello(h, packet, keys, ctx);
                }
                Err(why) => self.fail(d, packet, ctx, &format!("ServerHello is malformed ({why})")),
            },
            (1, ENCRYPTED_EXTENSIONS) => {
                if let Ok(alpn) = record::encrypted_extensions_alpn(body) {
                    self.alpn = alpn;
                }
            }
            (_, FINISHED) => {
                let Some(suite) = self.suite.filter(|s| s.tls13) else {
                    return;
                };
                let side = &mut self.sides[d];
                side.prot = side
                    .app_secret
                    .as_deref()
                    .and_then(|s| Protection::tls13(suite, s));
                if d == 1 {
                    self.report(packet, ctx);
                }
            }
            (_, KEY_UPDATE) => {
                let Some(suite) = self.suite.filter(|s| s.tls13) else {
                    return;
                };
                let side = &mut self.sides[d];
                side.app_secret = side
                    .app_secret
                    .as_deref()
                    .and_then(|s| keys::next_secret(suite.hash, s));
                side.prot = side
                    .app_secret
                    .as_deref()
                    .and_then(|s| Protection::tls13(suite, s));
            }
            _ => {}
        }
    }

    fn server_hello(
        &mut self,
        h: record::ServerHello,
        packet: u64,
        keys: &KeyLog,
        ctx: &mut Ctx<'_>,
    ) {
        let tls13 = h.version == 0x0304;
        let suite_code = h.suite;
        let server_random = h.random;
        self.server = Some(h);
        if tls13 {
            // Everything after the ServerHello is protected, in both directions.
            self.sides[0].encrypted = true;
            self.sides[1].encrypted = true;
        }
        let hello = self.hello.clone();
        let why_not = match (keys::suite(suite_code), &hello) {
            _ if !keys.given => Some("no key log (give one with --keylog FILE)".to_string()),
            (None, _) => Some(format!(
                "cipher suite {} is not one wsprobe decrypts (AEAD suites only: AES-GCM, ChaCha20-Poly1305)",
                keys::suite_name(suite_code)
            )),
            (_, None) => Some(
                "no ClientHello in the capture, so no client random to find its secrets by".into(),
            ),
            (Some(suite), Some(hello)) => match keys.get(&hello.random) {
                None => Some(format!(
                    "the key log has no secrets for this session (client random {})",
                    hex(&hello.random[..8])
                )),
                Some(s) if tls13 => {
                    let need = [
                        (&s.client_handshake, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
                        (&s.server_handshake, "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
                        (&s.client_traffic, "CLIENT_TRAFFIC_SECRET_0"),
                        (&s.server_traffic, "SERVER_TRAFFIC_SECRET_0"),
                    ];
                    match need.iter().find(|(v, _)| v.is_none()) {
                        Some((_, label)) => {
                            Some(format!("the key log has no {label} for this session"))
                        }
                        None => {
                            self.suite = Some(suite);
                            let c = &mut self.sides[0];
                            c.prot = s
                                .client_handshake
                                .as_deref()
                                .and_then(|k| Protection::tls13(suite, k));
                            c.app_secret = s.client_traffic.clone();
                            let sv = &mut self.sides[1];
                            sv.prot = s
                                .server_handshake
                                .as_deref()
                                .and_then(|k| Protection::tls13(suite, k));
                            sv.app_secret = s.server_traffic.clone();
                            None
                        }
                    }
                }
                Some(s) => match &s.master {
                    None => Some("the key log has no CLIENT_RANDOM line for this session".into()),
                    Some(master) => {
                        match Protection::tls12(suite, master, &hello.random, &server_random) {
                            Some((c, sv)) => {
                                self.suite = Some(suite);
                                self.sides[0].pending = Some(c);
                                self.sides[1].pending = Some(sv);
                                None
                            }
                            None => Some("its keys could not be derived".into()),
                        }
                    }
                },
            },
        };
        self.why_not = why_not;
        if self.why_not.is_some() || !tls13 {
            self.report(packet, ctx);
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::events::Sink;

    #[derive(Default)]
    struct Collect {
        requests: Vec<String>,
        warnings: Vec<String>,
        tls: Vec<Option<String>>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: &Event<'_>) {
            match event {
                Event::Http(h) => self.requests.push(h.start_line.to_string()),
                Event::Warning(w) => self.warnings.push(w.message.to_string()),
                Event::Tls(t) => self.tls.push(t.not_decrypted.map(str::to_string)),
                _ => {}
            }
        }
    }

    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn handshake_msg(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind, 0];
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    fn client_hello(random: [u8; 32]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&random);
        b.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        b.extend_from_slice(&[0, 7, 0, 43, 0, 3, 2, 3, 4]);
        handshake_msg(CLIENT_HELLO, &b)
    }

    fn server_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[0x55; 32]);
        b.extend_from_slice(&[0, 0x13, 0x01, 0]);
        b.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
        handshake_msg(SERVER_HELLO, &b)
    }

    /// A TLS 1.3 session with a KeyUpdate from the client between two requests: the request
    /// after it decrypts only with the next secret of RFC 8446 §7.2.
    #[test]
    fn tls13_key_update_and_finished_switch_keys() {
        let random = [0x42u8; 32];
        let secrets = [[1u8; 32], [2u8; 32], [3u8; 32], [4u8; 32]];
        let hexs = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let r = hexs(&random);
        let log = format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {r} {}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {r} {}\n\
             CLIENT_TRAFFIC_SECRET_0 {r} {}\nSERVER_TRAFFIC_SECRET_0 {r} {}\n",
            hexs(&secrets[0]),
            hexs(&secrets[1]),
            hexs(&secrets[2]),
            hexs(&secrets[3])
        );
        let keys = KeyLog::parse(&log).expect("log");
        let suite = keys::suite(0x1301).expect("suite");
        let mut client_hs = Protection::tls13(suite, &secrets[0]).expect("k");
        let mut server_hs = Protection::tls13(suite, &secrets[1]).expect("k");
        let mut client_app = Protection::tls13(suite, &secrets[2]).expect("k");
        let next = keys::next_secret(suite.hash, &secrets[2]).expect("next");
        let mut client_app1 = Protection::tls13(suite, &next).expect("k");

        let c2s = Direction::ClientToServer;
        let s2c = Direction::ServerToClient;
        let mut turns: Vec<(Direction, Vec<u8>)> = vec![
            (c2s, record(HANDSHAKE, &client_hello(random))),
            (s2c, record(HANDSHAKE, &server_hello())),
            (s2c, record(CHANGE_CIPHER_SPEC, &[1])),
            (
                s2c,
                server_hs.seal13(HANDSHAKE, &handshake_msg(FINISHED, &[9; 32])),
            ),
            (
                c2s,
                client_hs.seal13(HANDSHAKE, &handshake_msg(FINISHED, &[8; 32])),
            ),
            (
                c2s,
                client_app.seal13(APPLICATION_DATA, b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n"),
            ),
            (
                c2s,
                client_app.seal13(HANDSHAKE, &handshake_msg(KEY_UPDATE, &[0])),
            ),
            (
                c2s,
                client_app1.seal13(APPLICATION_DATA, b"GET /two HTTP/1.1\r\nHost: a\r\n\r\n"),
            ),
        ];
        // The whole client stream in one-byte pieces: records span deliveries.
        let mut sink = Collect::default();
        let mut tls = TlsConn::new();
        let mut dis = Dissector::new(false);
        let mut ctx = Ctx {
            conn: 0,
            time_ns: 0,
            sink: &mut sink,
            decode: true,
            max_message: 1 << 20,
            stream: None,
        };
        for (n, (dir, bytes)) in turns.drain(..).enumerate() {
            for b in bytes.chunks(1) {
                tls.data(dir, b, n as u64 + 1, &keys, Some(&mut dis), &mut ctx);
            }
        }
        tls.finish(9, &mut ctx);
        let tls_bytes = tls.tls_bytes(c2s);
        assert!(sink.warnings.is_empty(), "{:?}", sink.warnings);
        assert_eq!(sink.requests, ["GET /one HTTP/1.1", "GET /two HTTP/1.1"]);
        assert_eq!(sink.tls, [None], "reported once, decrypted");
        // Client: 5 records of headers, the ClientHello, Finished and KeyUpdate (with their
        // inner type byte and tag), and two application records' type bytes and tags.
        let hello = client_hello(random).len() as u64;
        let expected = 5 * 5 + hello + (36 + 17) + (5 + 17) + 2 * 17;
        assert_eq!(tls_bytes, expected);
    }

    #[test]
    fn a_bad_record_header_stops_the_direction_with_one_notice() {
        let keys = KeyLog::default();
        let mut sink = Collect::default();
        let mut tls = TlsConn::new();
        let mut ctx = Ctx {
            conn: 3,
            time_ns: 0,
            sink: &mut sink,
            decode: true,
            max_message: 1 << 20,
            stream: None,
        };
        let mut bytes = record(HANDSHAKE, &client_hello([1; 32]));
        bytes.extend_from_slice(&[99, 3, 3, 0xff, 0xff, 0, 0]);
        bytes.extend_from_slice(&[23, 3, 3, 0xff, 0xff]);
        tls.data(Direction::ClientToServer, &bytes, 1, &keys, None, &mut ctx);
        tls.data(Direction::ClientToServer, &bytes, 2, &keys, None, &mut ctx);
        tls.finish(2, &mut ctx);
        assert_eq!(sink.warnings.len(), 1, "{:?}", sink.warnings);
        assert!(
            sink.warnings[0].contains("not tls any more"),
            "{:?}",
            sink.warnings
        );
        // Reported once, at the end, with the reason decoding stopped.
        assert_eq!(sink.tls.len(), 1);
        assert!(
            sink.tls[0]
                .as_deref()
                .is_some_and(|w| w.contains("record content type 99")),
            "{:?}",
            sink.tls
        );
    }
}
