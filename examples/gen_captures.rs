//! Deterministic capture generator: the edge-case fixtures and the synthetic benchmark capture.
//!
//! ```text
//! cargo run --release --example gen_captures -- edge fixtures            # fixtures/edge-*.pcap*,
//!                                                                         # fixtures/deflate-{violations,clean}.pcap
//! cargo run --release --example gen_captures -- synthetic big.pcap 100   # ~100 MB benchmark
//! ```
//!
//! Everything is built from scripted TCP conversations (etherparse's PacketBuilder writes the
//! packets), then transformed — segments swapped, duplicated, dropped, cut — and written as pcap
//! or pcapng with the link type each case needs. No randomness except a fixed-seed xorshift.

use std::io::Write;

use etherparse::{PacketBuilder, TcpOptionElement};

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

/// One TCP segment of a scripted conversation.
#[derive(Clone, Debug)]
struct Seg {
    from_client: bool,
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
    seq: u32,
    ack_no: u32,
    payload: Vec<u8>,
    /// Cut the stored packet to this many bytes (snaplen).
    caplen: Option<usize>,
}

/// A TCP connection being scripted.
struct Conn {
    cport: u16,
    sport: u16,
    cseq: u32,
    sseq: u32,
    segs: Vec<Seg>,
    mss: usize,
}

impl Conn {
    fn new(cport: u16, sport: u16, cisn: u32, sisn: u32) -> Conn {
        Conn {
            cport,
            sport,
            cseq: cisn,
            sseq: sisn,
            segs: Vec::new(),
            mss: 1448,
        }
    }

    fn push(&mut self, from_client: bool, syn: bool, fin: bool, rst: bool, payload: Vec<u8>) {
        let (seq, ack_no) = if from_client {
            (self.cseq, self.sseq)
        } else {
            (self.sseq, self.cseq)
        };
        let adv = payload.len() as u32 + u32::from(syn) + u32::from(fin);
        if from_client {
            self.cseq = self.cseq.wrapping_add(adv);
        } else {
            self.sseq = self.sseq.wrapping_add(adv);
        }
        let ack = !(syn && from_client);
        self.segs.push(Seg {
            from_client,
            syn,
            ack,
            fin,
            rst,
            seq,
            ack_no,
            payload,
            caplen: None,
        });
    }

    fn open(&mut self) {
        self.push(true, true, false, false, vec![]);
        self.push(false, true, false, false, vec![]);
        self.push(true, false, false, false, vec![]);
    }

    /// Sends bytes in MSS-sized segments, each answered by an ACK every second segment.
    fn send(&mut self, from_client: bool, data: &[u8]) {
        let chunks: Vec<Vec<u8>> = data.chunks(self.mss).map(<[u8]>::to_vec).collect();
        for (i, c) in chunks.into_iter().enumerate() {
            self.push(from_client, false, false, false, c);
            if i % 2 == 1 {
                self.push(!from_client, false, false, false, vec![]);
            }
        }
    }

    fn ack(&mut self, from_client: bool) {
        self.push(from_client, false, false, false, vec![]);
    }

    fn close(&mut self) {
        self.push(false, false, true, false, vec![]);
        self.push(true, false, true, false, vec![]);
        self.push(false, false, false, false, vec![]);
    }
}

fn frame(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let n = payload.len();
    if n < 126 {
        out.push(m | n as u8);
    } else if n <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn request() -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\nHost: 10.0.0.2\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

fn response(accept: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

/// The standard session: handshake, a text each way, a 2000-byte binary from the server (two
/// segments: indices 9 and 10 of the result), close, FIN.
fn session(cport: u16, sisn: u32) -> Conn {
    let mut c = Conn::new(cport, 80, 1_000_000, sisn);
    c.open(); // 0..=2
    c.send(true, &request()); // 3
    c.ack(false); // 4
    c.send(false, &response(ACCEPT)); // 5
    c.ack(true); // 6
    c.send(
        true,
        &frame(true, 0, 1, Some([1, 2, 3, 4]), b"hello server"),
    ); // 7
    c.send(false, &frame(true, 0, 1, None, b"hello client")); // 8
    let big: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
    c.send(false, &frame(true, 0, 2, None, &big)); // 9, 10, ack 11
    c.send(true, &frame(true, 0, 8, Some([9, 9, 9, 9]), &[0x03, 0xe8])); // 12
    c.send(false, &frame(true, 0, 8, None, &[0x03, 0xe8])); // 13
    c.close();
    c
}

#[derive(Clone, Copy)]
enum Link {
    Ethernet,
    Vlan,
    Null,
    Sll,
    Raw,
    /// Raw IPv6 with a hop-by-hop extension header.
    Ipv6HopByHop,
}

impl Link {
    fn linktype(self) -> u32 {
        match self {
            Link::Ethernet | Link::Vlan => 1,
            Link::Null => 0,
            Link::Sll => 113,
            Link::Raw => 101,
            Link::Ipv6HopByHop => 229,
        }
    }
}

fn packet_bytes(c: &Conn, s: &Seg, link: Link, timestamps: bool) -> Vec<u8> {
    let (src, dst, sp, dp) = if s.from_client {
        (CLIENT, SERVER, c.cport, c.sport)
    } else {
        (SERVER, CLIENT, c.sport, c.cport)
    };
    let ip_builder = if matches!(link, Link::Ipv6HopByHop) {
        let v6 = |a: [u8; 4]| {
            let mut b = [0u8; 16];
            b[0] = 0xfd;
            b[12..].copy_from_slice(&a);
            b
        };
        PacketBuilder::ipv6(v6(src), v6(dst), 64)
    } else {
        PacketBuilder::ipv4(src, dst, 64)
    };
    let mut tcp = ip_builder.tcp(sp, dp, s.seq, 65535);
    if s.syn {
        tcp = tcp.syn();
    }
    if s.ack {
        tcp = tcp.ack(s.ack_no);
    }
    if s.fin {
        tcp = tcp.fin();
    }
    if s.rst {
        tcp = tcp.rst();
    }
    if timestamps {
        tcp = tcp
            .options(&[
                TcpOptionElement::Noop,
                TcpOptionElement::Noop,
                TcpOptionElement::Timestamp(s.seq, s.ack_no),
            ])
            .unwrap_or_else(|_| unreachable!("12 bytes of options always fit"));
    }
    let mut ip = Vec::with_capacity(s.payload.len() + 64);
    tcp.write(&mut ip, &s.payload)
        .unwrap_or_else(|_| unreachable!("writing to a vec cannot fail"));
    if matches!(link, Link::Ipv6HopByHop) {
        // Splice an 8-byte hop-by-hop options header (a PadN option) between the IPv6 header
        // and TCP: next header 0 in the IPv6 header, TCP (6) in the extension, payload length
        // 8 bytes longer. The TCP checksum does not cover extension headers.
        let mut with_ext = ip[..40].to_vec();
        with_ext[6] = 0;
        let plen = u16::from_be_bytes([ip[4], ip[5]]) + 8;
        with_ext[4..6].copy_from_slice(&plen.to_be_bytes());
        with_ext.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        with_ext.extend_from_slice(&ip[40..]);
        ip = with_ext;
    }
    let mut out = Vec::with_capacity(ip.len() + 20);
    match link {
        Link::Ethernet => {
            out.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00]);
        }
        Link::Vlan => {
            out.extend_from_slice(&[
                0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00,
            ]);
        }
        Link::Null => out.extend_from_slice(&2u32.to_le_bytes()),
        Link::Sll => {
            out.extend_from_slice(&[0, 0, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00]);
        }
        Link::Raw | Link::Ipv6HopByHop => {}
    }
    out.extend_from_slice(&ip);
    out
}

/// A pcap or pcapng file being written.
struct Writer<W: Write> {
    out: W,
    ng: bool,
    nanos: bool,
    big_endian: bool,
}

impl<W: Write> Writer<W> {
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn new(
        mut out: W,
        linktype: u32,
        ng: bool,
        nanos: bool,
        big_endian: bool,
    ) -> std::io::Result<Writer<W>> {
        let w = Writer {
            out: Vec::new(),
            ng,
            nanos,
            big_endian,
        };
        let mut h = Vec::new();
        if ng {
            // Section header block.
            h.extend_from_slice(&w.u32(0x0a0d0d0a));
            h.extend_from_slice(&w.u32(28));
            h.extend_from_slice(&w.u32(0x1a2b3c4d));
            h.extend_from_slice(&w.u16(1));
            h.extend_from_slice(&w.u16(0));
            h.extend_from_slice(&[0xff; 8]);
            h.extend_from_slice(&w.u32(28));
            // Interface description block with if_tsresol = 9 (nanoseconds).
            h.extend_from_slice(&w.u32(1));
            h.extend_from_slice(&w.u32(32));
            h.extend_from_slice(&w.u16(linktype as u16));
            h.extend_from_slice(&w.u16(0));
            h.extend_from_slice(&w.u32(0));
            h.extend_from_slice(&w.u16(9));
            h.extend_from_slice(&w.u16(1));
            h.extend_from_slice(&[9, 0, 0, 0]);
            h.extend_from_slice(&[0, 0, 0, 0]);
            h.extend_from_slice(&w.u32(32));
        } else {
            h.extend_from_slice(&w.u32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
            h.extend_from_slice(&w.u16(2));
            h.extend_from_slice(&w.u16(4));
            h.extend_from_slice(&w.u32(0));
            h.extend_from_slice(&w.u32(0));
            h.extend_from_slice(&w.u32(262_144));
            h.extend_from_slice(&w.u32(linktype));
        }
        out.write_all(&h)?;
        Ok(Writer {
            out,
            ng,
            nanos,
            big_endian,
        })
    }

    fn packet(&mut self, ts_ns: u64, data: &[u8], origlen: usize) -> std::io::Result<()> {
        let mut h = Vec::with_capacity(32);
        if self.ng {
            let pad = (4 - data.len() % 4) % 4;
            let total = 32 + data.len() + pad;
            h.extend_from_slice(&self.u32(6));
            h.extend_from_slice(&self.u32(total as u32));
            h.extend_from_slice(&self.u32(0));
            h.extend_from_slice(&self.u32((ts_ns >> 32) as u32));
            h.extend_from_slice(&self.u32(ts_ns as u32));
            h.extend_from_slice(&self.u32(data.len() as u32));
            h.extend_from_slice(&self.u32(origlen as u32));
            self.out.write_all(&h)?;
            self.out.write_all(data)?;
            self.out.write_all(&[0u8; 3][..pad])?;
            let t = self.u32(total as u32);
            self.out.write_all(&t)
        } else {
            let frac = if self.nanos {
                ts_ns % 1_000_000_000
            } else {
                ts_ns % 1_000_000_000 / 1000
            };
            h.extend_from_slice(&self.u32((ts_ns / 1_000_000_000) as u32));
            h.extend_from_slice(&self.u32(frac as u32));
            h.extend_from_slice(&self.u32(data.len() as u32));
            h.extend_from_slice(&self.u32(origlen as u32));
            self.out.write_all(&h)?;
            self.out.write_all(data)
        }
    }
}

struct Case {
    name: &'static str,
    link: Link,
    ng: bool,
    nanos: bool,
    big_endian: bool,
    /// (connection, segments in the order to write them)
    conns: Vec<(Conn, Vec<Seg>)>,
}

fn simple(name: &'static str, conn: Conn, f: impl FnOnce(&mut Vec<Seg>)) -> Case {
    let mut segs = conn.segs.clone();
    f(&mut segs);
    Case {
        name,
        link: Link::Ethernet,
        ng: false,
        nanos: false,
        big_endian: false,
        conns: vec![(conn, segs)],
    }
}

fn write_case(dir: &std::path::Path, case: &Case) -> std::io::Result<()> {
    let file = std::fs::File::create(dir.join(case.name))?;
    let mut w = Writer::new(
        std::io::BufWriter::new(file),
        case.link.linktype(),
        case.ng,
        case.nanos,
        case.big_endian,
    )?;
    let mut ts = 1_700_000_000_000_000_000u64;
    for (conn, segs) in &case.conns {
        for s in segs {
            let bytes = packet_bytes(conn, s, case.link, false);
            let cap = s.caplen.unwrap_or(bytes.len()).min(bytes.len());
            w.packet(ts, &bytes[..cap], bytes.len())?;
            ts += 1_000_123;
        }
    }
    w.out.flush()
}

fn edge(dir: &std::path::Path) -> std::io::Result<()> {
    let mut cases = Vec::new();
    // Two segments of the 2000-byte frame arrive swapped.
    cases.push(simple(
        "edge-out-of-order.pcap",
        session(40001, 5000),
        |s| s.swap(9, 10),
    ));
    // An exact duplicate, and a partial re-send overlapping old and new bytes.
    cases.push(simple(
        "edge-retransmission.pcap",
        session(40002, 5000),
        |s| {
            let dup = s[8].clone();
            s.insert(9, dup);
            let mut partial = s[11].clone();
            partial.seq = partial.seq.wrapping_sub(100);
            let mut bytes = s[10].payload[s[10].payload.len() - 100..].to_vec();
            bytes.extend_from_slice(&s[11].payload);
            partial.payload = bytes;
            s[11] = partial;
        },
    ));
    // The second half of the big frame arrives first, then a different copy of some of it, then
    // the first half: the first copy wins and the conflict is counted.
    cases.push(simple("edge-overlap.pcap", session(40003, 5000), |s| {
        s.swap(9, 10);
        let mut liar = s[9].clone();
        liar.payload = vec![0xee; 40];
        s.insert(10, liar);
    }));
    // Every packet cut to 256 bytes, as `tcpdump -s 256` does: the handshake survives, the big
    // frame's segments lose most of their payload.
    cases.push(simple("edge-snaplen.pcap", session(40004, 5000), |s| {
        for seg in s.iter_mut() {
            seg.caplen = Some(256);
        }
    }));
    // The same cut at 96 bytes: even the handshake is lost.
    cases.push(simple("edge-snaplen-96.pcap", session(40013, 5000), |s| {
        for seg in s.iter_mut() {
            seg.caplen = Some(96);
        }
    }));
    // Every packet cut to 160 bytes: the handshake heads are cut after their start lines, a
    // masked text of two-byte characters loses most of its payload (zeros unmasked with this
    // key would be invalid UTF-8), and the server's close frame is captured up to its header
    // only (zeros would read as close code 0). Nothing may be judged from those bytes.
    let mut cut = Conn::new(40015, 80, 1_000_000, 5000);
    cut.open();
    cut.send(true, &request());
    cut.send(false, &response(ACCEPT));
    let text = "é".repeat(150);
    cut.send(
        true,
        &frame(true, 0, 1, Some([0x80, 0x81, 0x82, 0x83]), text.as_bytes()),
    );
    let mut tail = frame(true, 0, 2, None, &[0x42; 102]);
    let mut close = vec![0x03, 0xe9];
    close.extend_from_slice(b"going away now");
    tail.extend(frame(true, 0, 8, None, &close));
    cut.send(false, &tail);
    cut.send(true, &frame(true, 0, 8, Some([1, 2, 3, 4]), &[0x03, 0xe9]));
    cut.close();
    cases.push(simple("edge-snaplen-160.pcap", cut, |s| {
        for seg in s.iter_mut() {
            seg.caplen = Some(160);
        }
    }));
    // The capture starts after the handshake: decode with --port 80.
    cases.push(simple("edge-midstream.pcap", session(40005, 5000), |s| {
        s.drain(..7);
    }));
    // The server's sequence numbers wrap past 2^32 inside the big frame.
    cases.push(simple(
        "edge-wrap.pcap",
        session(40006, u32::MAX - 300),
        |_| {},
    ));
    // A lost segment inside the big payload (skipped), on a second connection one that holds a
    // frame header (the direction is lost from there).
    let mut gap = simple("edge-gap.pcap", session(40007, 5000), |s| {
        s.remove(10);
    });
    let lost = session(40008, 5000);
    let mut lost_segs = lost.segs.clone();
    lost_segs.remove(8);
    gap.conns.push((lost, lost_segs));
    cases.push(gap);
    // Protocol violations for --check: a wrong Accept, an unmasked client frame, a masked server
    // frame with RSV bits and a reserved opcode, a close code that must not be sent.
    let mut v = Conn::new(40009, 80, 1_000_000, 5000);
    v.open();
    v.send(true, &request());
    v.send(false, &response("d3JvbmcgYWNjZXB0IHZhbHVlIQ=="));
    v.send(true, &frame(true, 0, 1, None, b"unmasked"));
    v.send(
        false,
        &frame(true, 0b010, 1, Some([1, 1, 1, 1]), b"masked with rsv2"),
    );
    v.send(false, &frame(true, 0, 0x3, None, b"opcode 3"));
    v.send(false, &frame(true, 0, 8, None, &[0x03, 0xed]));
    v.close();
    cases.push(simple("edge-violations.pcap", v, |_| {}));
    // The same session on other link types and file flavours.
    for (name, link, ng, nanos, big_endian) in [
        ("edge-null.pcap", Link::Null, false, false, false),
        ("edge-sll.pcap", Link::Sll, false, true, false),
        ("edge-raw-be.pcap", Link::Raw, false, true, true),
        ("edge-vlan.pcapng", Link::Vlan, true, true, false),
        (
            "edge-ipv6-ext.pcap",
            Link::Ipv6HopByHop,
            false,
            false,
            false,
        ),
    ] {
        let c = session(40010, 5000);
        let segs = c.segs.clone();
        cases.push(Case {
            name,
            link,
            ng,
            nanos,
            big_endian,
            conns: vec![(c, segs)],
        });
    }
    // A fragmented message with a ping between its fragments (RFC 6455 §5.4), several frames
    // in one segment, a frame split over three segments, and a non-minimal length.
    let mut frag = Conn::new(40014, 80, 1_000_000, 5000);
    frag.open();
    frag.send(true, &request());
    frag.send(false, &response(ACCEPT));
    let mut three = frame(false, 0, 1, Some([7, 7, 7, 7]), b"frag");
    three.extend(frame(true, 0, 9, Some([8, 8, 8, 8]), b"between"));
    three.extend(frame(true, 0, 0, Some([9, 9, 9, 9]), b"ment"));
    frag.send(true, &three);
    frag.send(false, &frame(true, 0, 10, None, b"between"));
    let split = frame(true, 0, 1, None, &[b'x'; 300]);
    frag.send(false, &split[..1]);
    frag.send(false, &split[1..100]);
    frag.send(false, &split[100..]);
    let mut long16 = vec![0x81, 0x7e, 0x00, 0x03];
    long16.extend_from_slice(b"abc");
    frag.send(false, &long16);
    frag.send(true, &frame(true, 0, 8, Some([1, 2, 3, 4]), &[0x03, 0xe8]));
    frag.send(false, &frame(true, 0, 8, None, &[0x03, 0xe8]));
    frag.close();
    cases.push(simple("edge-fragments.pcap", frag, |_| {}));
    // Not WebSocket at all: an SSH-like banner exchange.
    let mut ssh = Conn::new(40011, 22, 7, 9);
    ssh.open();
    ssh.send(false, b"SSH-2.0-OpenSSH_9.2\r\n");
    ssh.send(true, b"SSH-2.0-client\r\n");
    ssh.close();
    cases.push(simple("edge-not-websocket.pcap", ssh, |_| {}));
    // A frame that declares 2^62 payload bytes, then the connection resets.
    let mut absurd = Conn::new(40012, 80, 1_000_000, 5000);
    absurd.open();
    absurd.send(true, &request());
    absurd.send(false, &response(ACCEPT));
    let mut head = vec![0x82, 0x7f];
    head.extend_from_slice(&(1u64 << 62).to_be_bytes());
    head.extend_from_slice(b"only a little");
    absurd.send(false, &head);
    absurd.push(true, false, false, true, vec![]);
    cases.push(simple("edge-absurd-length.pcap", absurd, |_| {}));
    reorder_cases(&mut cases);
    deflate_cases(&mut cases)?;
    for case in &cases {
        write_case(dir, case)?;
    }
    // A capture cut inside its last record.
    let whole = std::fs::read(dir.join("edge-out-of-order.pcap"))?;
    std::fs::write(
        dir.join("edge-truncated-file.pcap"),
        &whole[..whole.len() - 30],
    )?;
    // Not a capture at all.
    std::fs::write(
        dir.join("edge-garbage.pcap"),
        b"this is a text file that someone named .pcap\n",
    )?;
    // A link type this tool does not read (LINKTYPE_USER0 = 147).
    let file = std::fs::File::create(dir.join("edge-unknown-linktype.pcap"))?;
    let mut w = Writer::new(std::io::BufWriter::new(file), 147, false, false, false)?;
    w.packet(
        1_000_000_000,
        b"\x01\x02\x03\x04 opaque user link-layer bytes",
        33,
    )?;
    w.out.flush()?;
    // An absurd record length in the file itself.
    let mut bad = std::fs::read(dir.join("edge-null.pcap"))?;
    bad.extend_from_slice(&[
        0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f,
    ]);
    bad.extend_from_slice(&[0u8; 64]);
    std::fs::write(dir.join("edge-absurd-record.pcap"), bad)?;
    Ok(())
}

/// permessage-deflate for the generator: raw DEFLATE with a sync flush per message and the
/// trailing `00 00 ff ff` removed (RFC 7692 §7.2.1), the context kept between messages.
struct Deflater(flate2::Compress);

impl Deflater {
    fn new() -> Deflater {
        Deflater(flate2::Compress::new(flate2::Compression::default(), false))
    }

    fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        let mut input = data;
        loop {
            let before_in = self.0.total_in();
            out.reserve(4096);
            self.0
                .compress_vec(input, &mut out, flate2::FlushCompress::Sync)
                .unwrap_or_else(|_| unreachable!("compressing into a vec does not fail"));
            let used = (self.0.total_in() - before_in) as usize;
            input = &input[used..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
        out
    }
}

/// Words from a fixed-seed generator: text that compresses, but not to nothing.
fn words(rng: &mut Rng, len: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "socket", "frame", "capture", "reorder", "segment", "window", "deflate", "message",
        "client", "server", "header", "payload", "mask", "close", "ping", "stream",
    ];
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let r = rng.next();
        out.extend_from_slice(WORDS[(r % 16) as usize].as_bytes());
        out.extend_from_slice(&(r >> 8).to_string().as_bytes()[..(r >> 60) as usize % 4]);
        out.push(b' ');
    }
    out.truncate(len);
    out
}

/// Index of the `n`-th segment (from 0) that the server sent with a payload.
fn server_data(segs: &[Seg], n: usize) -> usize {
    segs.iter()
        .enumerate()
        .filter(|(_, s)| !s.from_client && !s.payload.is_empty())
        .nth(n)
        .map(|(i, _)| i)
        .unwrap_or_else(|| unreachable!("the scripted session has that many server segments"))
}

/// Captures whose packets were recorded out of order (as merged or multi-queue captures
/// record them): every byte is in the file, so each must decode as if it were in order.
fn reorder_cases(cases: &mut Vec<Case>) {
    // The client's ACK for both segments of the 2000-byte frame recorded before them.
    cases.push(simple(
        "edge-reorder-ack-first.pcap",
        session(40020, 5000),
        |s| {
            let ack = s.remove(11);
            s.insert(9, ack);
        },
    ));
    // Three server messages written as one stream, so segments end inside frames; the first
    // segment (the whole first message and the start of the second) is recorded after the
    // second, and the client's ACK for both before them.
    let mut b = Conn::new(40021, 80, 1_000_000, 7000);
    b.open();
    b.send(true, &request());
    b.send(false, &response(ACCEPT));
    let mut stream = frame(true, 0, 1, None, &[b'a'; 1000]);
    stream.extend(frame(true, 0, 2, None, &[0x5a; 2500]));
    stream.extend(frame(
        true,
        0,
        1,
        None,
        b"third message, after the boundary",
    ));
    b.send(false, &stream);
    b.send(true, &frame(true, 0, 8, Some([5, 6, 7, 8]), &[0x03, 0xe8]));
    b.send(false, &frame(true, 0, 8, None, &[0x03, 0xe8]));
    b.close();
    cases.push(simple("edge-reorder-boundary.pcap", b, |s| {
        // The stream's segments: [text 1000, binary start], [binary middle], ACK, [rest].
        let first = server_data(s, 1);
        s.swap(first, first + 1);
        let ack = s.remove(first + 2);
        s.insert(first, ack);
    }));
    // permessage-deflate with context takeover: a 24 KiB compressed text in many segments, two
    // of them swapped and the ACK for them recorded first, then two more compressed messages
    // that need the context the first one built.
    let mut rng = Rng(0x0dd_ba11);
    let mut d = Conn::new(40022, 80, 1_000_000, 9000);
    d.open();
    let req = String::from_utf8_lossy(&request()).replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    );
    d.send(true, req.as_bytes());
    let resp = String::from_utf8_lossy(&response(ACCEPT)).replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    );
    d.send(false, resp.as_bytes());
    let mut z = Deflater::new();
    let big = words(&mut rng, 24 * 1024);
    d.send(false, &frame(true, 0b100, 1, None, &z.message(&big)));
    let again = big[..300].to_vec();
    d.send(false, &frame(true, 0b100, 1, None, &z.message(&again)));
    d.send(
        false,
        &frame(
            true,
            0b100,
            1,
            None,
            &z.message(b"the context survived the reordering"),
        ),
    );
    d.send(true, &frame(true, 0, 8, Some([1, 1, 2, 2]), &[0x03, 0xe8]));
    d.send(false, &frame(true, 0, 8, None, &[0x03, 0xe8]));
    d.close();
    cases.push(simple("edge-reorder-deflate.pcap", d, |s| {
        let third = server_data(s, 3);
        s.swap(third, third + 1);
        // The ACK that follows every second segment, recorded before both.
        let ack = (third..s.len())
            .find(|&i| s[i].from_client && s[i].payload.is_empty())
            .unwrap_or_else(|| unreachable!("the server's data is acknowledged"));
        let ack = s.remove(ack);
        s.insert(third, ack);
    }));
    // The server's FIN recorded before its last data segment (its close frame).
    cases.push(simple(
        "edge-reorder-fin-first.pcap",
        session(40023, 5000),
        |s| s.swap(13, 14),
    ));
}

/// A connection on `cport` whose handshake offers `offer` and is answered `answer` (the
/// `Sec-WebSocket-Extensions` values).
fn deflate_conn(cport: u16, offer: &str, answer: &str) -> Conn {
    let mut c = Conn::new(cport, 80, 1_000_000, 11_000);
    c.open();
    let req = String::from_utf8_lossy(&request()).replace(
        "\r\n\r\n",
        &format!("\r\nSec-WebSocket-Extensions: {offer}\r\n\r\n"),
    );
    c.send(true, req.as_bytes());
    let resp = String::from_utf8_lossy(&response(ACCEPT)).replace(
        "\r\n\r\n",
        &format!("\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n"),
    );
    c.send(false, resp.as_bytes());
    c
}

/// Closing handshake (1000 each way) and FIN.
fn close_deflate_conn(c: &mut Conn) {
    c.send(true, &frame(true, 0, 8, Some([7, 7, 7, 7]), &[0x03, 0xe8]));
    c.send(false, &frame(true, 0, 8, None, &[0x03, 0xe8]));
    c.close();
}

/// One case of several connections, written one after the other.
fn multi(name: &'static str, conns: Vec<Conn>) -> Case {
    Case {
        name,
        link: Link::Ethernet,
        ng: false,
        nanos: false,
        big_endian: false,
        conns: conns
            .into_iter()
            .map(|c| {
                let segs = c.segs.clone();
                (c, segs)
            })
            .collect(),
    }
}

/// permessage-deflate (RFC 7692) sessions built with wsprobe's own `wire::deflate` compressor
/// and forms: `deflate-violations.pcap` breaks one rule per place (the packets are listed in
/// fixtures/README.md and asserted by tests/capture_deflate.rs), `deflate-clean.pcap` uses
/// every valid form and breaks none.
fn deflate_cases(cases: &mut Vec<Case>) -> std::io::Result<()> {
    use wsprobe::wire::deflate::{Compressor, forms};
    let fail = |e: wsprobe::wire::deflate::DeflateError| std::io::Error::other(e.to_string());
    let z = |bits: u8, nct: bool| Compressor::new(bits, nct, 1).map_err(fail);
    const RSV1: u8 = 0b100;
    const M: Option<[u8; 4]> = Some([0x11, 0x22, 0x33, 0x44]);

    // Connection 0 (packets 1–16): RSV1 on a continuation (8), on a ping (9), invalid data
    // (10); the server's next message needs the window the invalid one broke (11): not
    // inflated, nobody blamed.
    let mut a = deflate_conn(
        40030,
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate",
    );
    let (mut zc, mut zs) = (z(15, false)?, z(15, false)?);
    a.send(
        true,
        &frame(true, RSV1, 1, M, &zc.compress(b"Hello").map_err(fail)?),
    ); // 6
    let first = zs
        .compress_fragment(b"rsv1 on the first fragment, ", false)
        .map_err(fail)?;
    let second = zs
        .compress_fragment(b"and wrongly on the second", true)
        .map_err(fail)?;
    a.send(false, &frame(false, RSV1, 1, None, &first)); // 7
    a.send(false, &frame(true, RSV1, 0, None, &second)); // 8
    a.send(true, &frame(true, RSV1, 9, M, b"compressed?")); // 9
    a.send(
        false,
        &frame(
            true,
            RSV1,
            2,
            None,
            forms::Invalid::ReservedBlockType.payload(),
        ),
    ); // 10
    a.send(
        false,
        &frame(
            true,
            RSV1,
            1,
            None,
            &zs.compress(b"after the broken one").map_err(fail)?,
        ),
    ); // 11
    close_deflate_conn(&mut a); // 12–16

    // Connection 1 (17–27): the server agreed to a 1 KiB window (server_max_window_bits=10)
    // and reaches 1,152 bytes back (22).
    let mut b = deflate_conn(
        40031,
        "permessage-deflate; server_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10",
    );
    let (_, far) = forms::reaching_beyond(10).map_err(fail)?;
    b.send(false, &frame(true, RSV1, 2, None, &far)); // 22
    close_deflate_conn(&mut b); // 23–27

    // Connection 2 (28–39): server_no_context_takeover agreed, but the server's second message
    // refers to its first (34).
    let mut c = deflate_conn(
        40032,
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover",
    );
    let mut keeps = z(15, false)?;
    let text = b"a message the next one repeats word for word";
    c.send(
        false,
        &frame(true, RSV1, 1, None, &keeps.compress(text).map_err(fail)?),
    ); // 33
    c.send(
        false,
        &frame(true, RSV1, 1, None, &keeps.compress(text).map_err(fail)?),
    ); // 34
    close_deflate_conn(&mut c); // 35–39

    // Connection 3 (40–52): the response has client_max_window_bits, which the offer did not
    // (44); a clean exchange (45, 46); a message that kept its 00 00 ff ff tail (47).
    let mut d = deflate_conn(
        40033,
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits=10",
    );
    let (mut zc, mut zs) = (z(10, false)?, z(15, false)?);
    d.send(
        true,
        &frame(true, RSV1, 1, M, &zc.compress(b"echo me").map_err(fail)?),
    ); // 45
    d.send(
        false,
        &frame(true, RSV1, 1, None, &zs.compress(b"echo me").map_err(fail)?),
    ); // 46
    let kept = zs.compress_fragment(b"tail kept", false).map_err(fail)?;
    d.send(false, &frame(true, RSV1, 1, None, &kept)); // 47
    close_deflate_conn(&mut d); // 48–52
    cases.push(multi("deflate-violations.pcap", vec![a, b, c, d]));

    // Clean: windows of 12 bits with context takeover, then no context takeover both ways.
    let mut e = deflate_conn(
        40040,
        "permessage-deflate; client_max_window_bits; server_max_window_bits=12",
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    );
    let (mut zc, mut zs) = (z(12, false)?, z(12, false)?);
    for _ in 0..2 {
        let hello = b"Hello, permessage-deflate!";
        e.send(
            true,
            &frame(true, RSV1, 1, M, &zc.compress(hello).map_err(fail)?),
        );
        e.send(
            false,
            &frame(true, RSV1, 1, None, &zs.compress(hello).map_err(fail)?),
        );
    }
    // A fragmented compressed message with a ping between its fragments (RSV1 on the first).
    let p1 = zc.compress_fragment(b"fragmented, ", false).map_err(fail)?;
    let p2 = zc
        .compress_fragment(b"compressed, and pinged", true)
        .map_err(fail)?;
    e.send(true, &frame(false, RSV1, 1, M, &p1));
    e.send(true, &frame(true, 0, 9, M, b"between"));
    e.send(true, &frame(true, 0, 0, M, &p2));
    e.send(false, &frame(true, 0, 10, None, b"between"));
    let echoed = zs
        .compress(b"fragmented, compressed, and pinged")
        .map_err(fail)?;
    e.send(false, &frame(true, RSV1, 1, None, &echoed));
    // Uncompressed although negotiated (§6.1 allows it), then a large compressed text.
    e.send(false, &frame(true, 0, 1, None, b"not compressed"));
    let mut rng = Rng(0xdef1_a7e5);
    let big = words(&mut rng, 24 * 1024);
    e.send(
        false,
        &frame(true, RSV1, 1, None, &zs.compress(&big).map_err(fail)?),
    );
    // The §7.2.3 forms, each from its own compressor; the server's compressor starts afresh
    // after them (its window no longer matches the receiver's).
    e.send(
        false,
        &frame(true, RSV1, 1, None, &forms::stored_blocks(b"stored block")),
    );
    e.send(
        false,
        &frame(
            true,
            RSV1,
            1,
            None,
            &forms::bfinal(b"bfinal set").map_err(fail)?,
        ),
    );
    let two = forms::two_blocks(b"two deflate blocks", 4).map_err(fail)?;
    e.send(false, &frame(true, RSV1, 1, None, &two));
    let [head, tail] = forms::with_empty_final_fragment(b"empty final fragment").map_err(fail)?;
    e.send(false, &frame(false, RSV1, 1, None, &head));
    e.send(false, &frame(true, 0, 0, None, &tail));
    let mut fresh = z(12, false)?;
    e.send(
        false,
        &frame(
            true,
            RSV1,
            1,
            None,
            &fresh.compress(b"afresh").map_err(fail)?,
        ),
    );
    e.send(
        true,
        &frame(true, RSV1, 2, M, &zc.compress(&[0u8; 2000]).map_err(fail)?),
    );
    close_deflate_conn(&mut e);

    let mut f = deflate_conn(
        40041,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    );
    let (mut zc, mut zs) = (z(15, true)?, z(15, true)?);
    for _ in 0..2 {
        let again = b"each message on its own, each message on its own";
        f.send(
            true,
            &frame(true, RSV1, 1, M, &zc.compress(again).map_err(fail)?),
        );
        f.send(
            false,
            &frame(true, RSV1, 1, None, &zs.compress(again).map_err(fail)?),
        );
    }
    close_deflate_conn(&mut f);
    cases.push(multi("deflate-clean.pcap", vec![e, f]));
    Ok(())
}

/// xorshift64*, fixed seed: the synthetic capture is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// About `mb` megabytes of WebSocket sessions: 16 interleaved at a time, 100 messages each of
/// 16 B–5 KB (3% at 70 KB), 30% from the (masking) client, MSS 1448, TCP timestamps.
fn synthetic(path: &std::path::Path, mb: u64) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut w = Writer::new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        1,
        false,
        false,
        false,
    )?;
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let sessions = (mb * 21 / 10).max(1);
    let mut ts = 1_700_000_000_000_000_000u64;
    let mut written = 0u64;
    let payload_pool: Vec<u8> = (0..80_000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789 "[(i % 37) as usize])
        .collect();
    let mut s = 0;
    while s < sessions {
        let batch = (sessions - s).min(16);
        let mut conns: Vec<Conn> = (0..batch)
            .map(|i| {
                let mut c = Conn::new(
                    20000 + ((s + i) % 40000) as u16,
                    8080,
                    rng.next() as u32,
                    rng.next() as u32,
                );
                c.open();
                c.send(true, &request());
                c.send(false, &response(ACCEPT));
                c
            })
            .collect();
        for _ in 0..100 {
            for c in conns.iter_mut() {
                let r = rng.next();
                let len = if r % 100 < 3 {
                    70_000
                } else {
                    16 + (r >> 8) as usize % 5000
                };
                let from_client = (r >> 40) % 10 < 3;
                let mask = from_client.then(|| (r as u32).to_be_bytes());
                let f = frame(true, 0, 1, mask, &payload_pool[..len]);
                c.send(from_client, &f);
            }
            // Write what the batch produced so far and forget it.
            for c in conns.iter_mut() {
                let segs = std::mem::take(&mut c.segs);
                for seg in &segs {
                    let bytes = packet_bytes(c, seg, Link::Ethernet, true);
                    w.packet(ts, &bytes, bytes.len())?;
                    written += bytes.len() as u64 + 16;
                    ts += 2_000;
                }
            }
        }
        for c in conns.iter_mut() {
            c.send(true, &frame(true, 0, 8, Some([1, 2, 3, 4]), &[0x03, 0xe8]));
            c.send(false, &frame(true, 0, 8, None, &[0x03, 0xe8]));
            c.close();
            let segs = std::mem::take(&mut c.segs);
            for seg in &segs {
                let bytes = packet_bytes(c, seg, Link::Ethernet, true);
                w.packet(ts, &bytes, bytes.len())?;
                written += bytes.len() as u64 + 16;
                ts += 2_000;
            }
        }
        s += batch;
    }
    w.out.flush()?;
    eprintln!(
        "wrote {} ({written} bytes, {sessions} sessions)",
        path.display()
    );
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["edge", dir] => edge(std::path::Path::new(dir)),
        ["synthetic", path, mb] => synthetic(
            std::path::Path::new(path),
            mb.parse()
                .map_err(|_| std::io::Error::other("size in MB expected"))?,
        ),
        _ => {
            eprintln!("usage: gen_captures edge DIR | gen_captures synthetic FILE MB");
            std::process::exit(2);
        }
    }
}
