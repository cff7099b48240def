//! Packet layers below TCP's payload: the link-layer shim (Ethernet with 802.1Q/802.1ad tags,
//! Linux cooked SLL and SLL2, BSD NULL and OpenBSD LOOP, raw IPv4/IPv6), then IPv4 or IPv6
//! with extension headers and the TCP header, through etherparse's lax parsers so that
//! packets cut by the snaplen still yield what was captured.
//!
//! What this file returns is exactly what the byte ledger needs: how many bytes each layer's
//! header took, how long the TCP payload was on the wire, and how much of it was captured.

use std::net::IpAddr;

use etherparse::{LaxIpSlice, LenSource, TcpSlice, ip_number};

/// LINKTYPE_* values this reader understands.
pub mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II.
    pub const ETHERNET: u32 = 1;
    /// Raw IP (version from the first nibble).
    pub const RAW: u32 = 101;
    /// BSD/OpenBSD raw IP synonyms.
    pub const RAW_BSD_A: u32 = 12;
    /// BSD raw IP synonym.
    pub const RAW_BSD_B: u32 = 14;
    /// OpenBSD loopback: 4-byte address family, big-endian.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2 (20-byte header), `tcpdump -i any` with libpcap ≥ 1.10.
    pub const LINUX_SLL2: u32 = 276;
}

/// A TCP segment with the sizes of everything around it.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Link-layer header bytes (pseudo-header for cooked and loopback link types).
    pub link_len: u32,
    /// IP header bytes, options and extension headers included.
    pub ip_len: u32,
    /// TCP header bytes, options included.
    pub tcp_len: u32,
    /// TCP payload length on the wire, from the IP length fields.
    pub payload_len: u32,
    /// Source address and port.
    pub src: (IpAddr, u16),
    /// Destination address and port.
    pub dst: (IpAddr, u16),
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful when `ack` is set).
    pub ack_no: u32,
    /// SYN flag.
    pub syn: bool,
    /// ACK flag.
    pub ack: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// The captured part of the payload (shorter than `payload_len` when cut by the snaplen).
    pub payload: &'a [u8],
}

/// What a packet turned out to be.
#[derive(Clone, Copy, Debug)]
pub enum Parsed<'a> {
    /// A TCP segment.
    Tcp(Segment<'a>),
    /// Something else: not IP, not TCP, an IP fragment, or too short to tell. The text says
    /// which, for a one-line warning when it matters.
    Other(Skip),
}

/// Why a packet is not a TCP segment we can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// A link type this reader does not know.
    UnknownLinktype(u32),
    /// Not IPv4 or IPv6 (ARP, LLDP, ...).
    NotIp,
    /// IP carrying something other than TCP (UDP, ICMP, ...).
    NotTcp,
    /// A fragment of a fragmented IP datagram.
    Fragment,
    /// Cut by the snaplen before the end of the TCP header.
    HeadersNotCaptured,
    /// Length fields that contradict each other.
    Malformed,
}

impl Skip {
    /// A lower-case description for warnings.
    pub fn describe(self) -> String {
        match self {
            Skip::UnknownLinktype(l) => format!("unsupported link type {l}"),
            Skip::NotIp => "not an ip packet".into(),
            Skip::NotTcp => "not a tcp segment".into(),
            Skip::Fragment => "ip fragment (not reassembled)".into(),
            Skip::HeadersNotCaptured => "packet cut by the snaplen inside its headers".into(),
            Skip::Malformed => "malformed ip or tcp header".into(),
        }
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Splits off the link-layer header; returns its length and whether what follows is IP.
fn link(linktype: u32, data: &[u8]) -> Result<usize, Skip> {
    use linktype::*;
    let be16 = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
    };
    let ip_ethertype = |t: u16| t == ETHERTYPE_IPV4 || t == ETHERTYPE_IPV6;
    match linktype {
        ETHERNET => {
            let mut at = 12;
            let mut ty = be16(at).ok_or(Skip::HeadersNotCaptured)?;
            // 802.1Q, 802.1ad and the pre-standard QinQ tag, possibly stacked.
            while matches!(ty, 0x8100 | 0x88a8 | 0x9100) {
                at += 4;
                ty = be16(at).ok_or(Skip::HeadersNotCaptured)?;
            }
            if ip_ethertype(ty) {
                Ok(at + 2)
            } else {
                Err(Skip::NotIp)
            }
        }
        LINUX_SLL => {
            let ty = be16(14).ok_or(Skip::HeadersNotCaptured)?;
            if ip_ethertype(ty) {
                Ok(16)
            } else {
                Err(Skip::NotIp)
            }
        }
        LINUX_SLL2 => {
            let ty = be16(0).ok_or(Skip::HeadersNotCaptured)?;
            if data.len() < 20 {
                return Err(Skip::HeadersNotCaptured);
            }
            if ip_ethertype(ty) {
                Ok(20)
            } else {
                Err(Skip::NotIp)
            }
        }
        NULL | LOOP => {
            let b = data.get(..4).ok_or(Skip::HeadersNotCaptured)?;
            let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            // NULL is in the capturing host's byte order: a value above 0xffff is swapped.
            let af = if linktype == NULL && be > 0xffff {
                be.swap_bytes()
            } else {
                be
            };
            match af {
                2 | 24 | 28 | 30 => Ok(4),
                _ => Err(Skip::NotIp),
            }
        }
        RAW | RAW_BSD_A | RAW_BSD_B | IPV4 | IPV6 => Ok(0),
        other => Err(Skip::UnknownLinktype(other)),
    }
}

/// Parses link, IP and TCP headers of one captured packet.
pub fn parse(linktype: u32, data: &[u8]) -> Parsed<'_> {
    match parse_inner(linktype, data) {
        Ok(seg) => Parsed::Tcp(seg),
        Err(skip) => Parsed::Other(skip),
    }
}

fn parse_inner(linktype: u32, data: &[u8]) -> Result<Segment<'_>, Skip> {
    let link_len = link(linktype, data)?;
    let ip_bytes = &data[link_len..];
    let (ip, _ext_err) = LaxIpSlice::from_slice(ip_bytes).map_err(|e| match e {
        etherparse::err::ip::LaxHeaderSliceError::Len(_) => Skip::HeadersNotCaptured,
        etherparse::err::ip::LaxHeaderSliceError::Content(_) => Skip::Malformed,
    })?;
    let payload = ip.payload();
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    if payload.ip_number != ip_number::TCP {
        return Err(Skip::NotTcp);
    }
    let (ip_len, declared_ip_payload) = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let hl =
                v4.header().slice().len() + v4.extensions().auth.map_or(0, |a| a.slice().len());
            let total = usize::from(v4.header().total_len());
            // A total length of 0 (segmentation offload) leaves the captured length.
            let declared = if (payload.incomplete || payload.len_source != LenSource::Slice)
                && total >= hl + payload.payload.len()
            {
                total - hl
            } else {
                payload.payload.len()
            };
            (hl, declared)
        }
        LaxIpSlice::Ipv6(v6) => {
            let ext = v6.extensions().slice().len();
            let plen = usize::from(v6.header().payload_length());
            let declared = if (payload.incomplete || payload.len_source != LenSource::Slice)
                && plen >= ext + payload.payload.len()
            {
                plen - ext
            } else {
                payload.payload.len()
            };
            (40 + ext, declared)
        }
    };
    let tcp = TcpSlice::from_slice(payload.payload).map_err(|e| match e {
        etherparse::err::tcp::HeaderSliceError::Len(_) => Skip::HeadersNotCaptured,
        etherparse::err::tcp::HeaderSliceError::Content(_) => Skip::Malformed,
    })?;
    let tcp_len = tcp.header_slice().len();
    if declared_ip_payload < tcp_len {
        return Err(Skip::Malformed);
    }
    let payload_len = declared_ip_payload - tcp_len;
    let captured = tcp.payload();
    let captured = &captured[..captured.len().min(payload_len)];
    Ok(Segment {
        link_len: link_len as u32,
        ip_len: ip_len as u32,
        tcp_len: tcp_len as u32,
        payload_len: payload_len as u32,
        src: (ip.source_addr(), tcp.source_port()),
        dst: (ip.destination_addr(), tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack_no: tcp.acknowledgment_number(),
        syn: tcp.syn(),
        ack: tcp.ack(),
        fin: tcp.fin(),
        rst: tcp.rst(),
        payload: captured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_v4(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(40000, 8080, 1000, 512)
            .ack(7)
            .write(&mut out, payload)
            .expect("writes to a vec");
        out
    }

    #[test]
    fn ethernet_ipv4_tcp_sizes() {
        let pkt = tcp_v4(b"hello");
        let Parsed::Tcp(s) = parse(linktype::ETHERNET, &pkt) else {
            panic!("tcp expected")
        };
        assert_eq!(
            (s.link_len, s.ip_len, s.tcp_len, s.payload_len),
            (14, 20, 20, 5)
        );
        assert_eq!(s.payload, b"hello");
        assert_eq!(s.src.1, 40000);
        assert_eq!(s.seq, 1000);
        assert!(s.ack && !s.syn);
    }

    #[test]
    fn snaplen_cut_keeps_declared_length() {
        let pkt = tcp_v4(&[7u8; 100]);
        let Parsed::Tcp(s) = parse(linktype::ETHERNET, &pkt[..60]) else {
            panic!("tcp expected")
        };
        assert_eq!(s.payload_len, 100);
        assert_eq!(s.payload.len(), 6);
        assert!(matches!(
            parse(linktype::ETHERNET, &pkt[..40]),
            Parsed::Other(Skip::HeadersNotCaptured)
        ));
    }

    #[test]
    fn vlan_sll_sll2_null_and_raw_link_types() {
        let eth = tcp_v4(b"x");
        let ip = &eth[14..];
        let mut vlan = eth[..12].to_vec();
        vlan.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        vlan.extend_from_slice(&eth[12..]);
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(ip);
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(ip);
        let mut null_le = 2u32.to_le_bytes().to_vec();
        null_le.extend_from_slice(ip);
        let mut loop_be = 2u32.to_be_bytes().to_vec();
        loop_be.extend_from_slice(ip);
        let table: [(&str, u32, &[u8], u32); 6] = [
            ("vlan", linktype::ETHERNET, &vlan, 18),
            ("sll", linktype::LINUX_SLL, &sll, 16),
            ("sll2", linktype::LINUX_SLL2, &sll2, 20),
            ("null", linktype::NULL, &null_le, 4),
            ("loop", linktype::LOOP, &loop_be, 4),
            ("raw", linktype::RAW, ip, 0),
        ];
        for (name, lt, bytes, link_len) in table {
            let Parsed::Tcp(s) = parse(lt, bytes) else {
                panic!("{name}: tcp expected")
            };
            assert_eq!(s.link_len, link_len, "{name}");
            assert_eq!(s.payload, b"x", "{name}");
        }
        assert!(matches!(
            parse(147, &eth),
            Parsed::Other(Skip::UnknownLinktype(147))
        ));
    }

    #[test]
    fn ipv6_with_extension_header() {
        let mut out = Vec::new();
        PacketBuilder::ipv6([0; 16], [1; 16], 64)
            .tcp(1, 2, 3, 4)
            .write(&mut out, b"abc")
            .expect("writes");
        // Insert an 8-byte hop-by-hop header: next header in byte 6 becomes 0, the extension
        // header carries TCP (6) as its next header, payload length grows by 8.
        let mut v6 = out[..40].to_vec();
        v6[6] = 0;
        let plen = u16::from_be_bytes([v6[4], v6[5]]) + 8;
        v6[4..6].copy_from_slice(&plen.to_be_bytes());
        v6.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        v6.extend_from_slice(&out[40..]);
        let Parsed::Tcp(s) = parse(linktype::IPV6, &v6) else {
            panic!("tcp expected")
        };
        assert_eq!(s.ip_len, 48);
        assert_eq!(s.payload, b"abc");
        assert_eq!(s.payload_len, 3);
    }

    #[test]
    fn garbage_is_never_a_panic() {
        for len in 0..80 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            for lt in [0, 1, 101, 108, 113, 228, 229, 276] {
                let _ = parse(lt, &junk);
            }
        }
    }
}
