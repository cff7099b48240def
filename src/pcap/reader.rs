//! Streaming capture reading: pcap (microsecond and nanosecond magic, either byte order) and
//! pcapng, through pcap-parser's buffered reader. Each packet is handed to a callback with its
//! 1-based number (as tshark numbers frames), its timestamp in nanoseconds, its link type and
//! its captured and original lengths; the reader keeps nothing once the callback returns, so
//! memory does not grow with the file.
//!
//! Timestamps are converted here rather than with pcap-parser's helpers, which in 0.17 reject
//! power-of-two `if_tsresol` values and truncate seconds to 32 bits.

use std::io::Read;

use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};

/// Initial read buffer: 1 MiB, which holds a 256 KiB-snaplen packet and avoids small reads.
pub const READ_BUFFER: usize = 1 << 20;

/// Largest single block the reader grows its buffer for; a longer record length is absurd and
/// ends reading with a warning.
pub const MAX_BLOCK: usize = 64 << 20;

/// One packet as stored in the capture.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// 1-based packet number, as tshark's `frame.number`.
    pub number: u64,
    /// Capture timestamp in nanoseconds since the epoch (0 when the format has none).
    pub ts_ns: i128,
    /// The link type (LINKTYPE_* value) of the interface the packet was captured on.
    pub linktype: u32,
    /// Bytes on the wire (`frame.len`).
    pub origlen: u32,
    /// Captured bytes; shorter than `origlen` when the snaplen cut the packet.
    pub data: &'a [u8],
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Neither a pcap nor a pcapng header.
    #[error("not a pcap or pcapng capture (unrecognised file header)")]
    NotACapture,
    /// The file ended before its header was complete, or is empty.
    #[error("the file is empty or ends inside the capture header")]
    Empty,
    /// A capture header, then nothing readable: the first record is cut or malformed.
    #[error("no packet could be read: {0}")]
    NoPackets(String),
    /// The operating system failed to read.
    #[error("cannot read the capture: {0}")]
    Io(String),
}

/// What reading noticed about the file itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Packets handed to the callback.
    pub packets: u64,
    /// Problems with the file, each a one-line message (truncation, bad blocks).
    pub warnings: Vec<String>,
    /// File format: `pcap` or `pcapng`.
    pub format: &'static str,
}

/// Per-interface facts of a pcapng section.
#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    /// Timestamp ticks per second.
    units: u64,
    offset_s: i64,
}

impl Interface {
    fn ts_ns(&self, ticks: u64) -> i128 {
        let units = i128::from(self.units.max(1));
        let t = i128::from(ticks);
        i128::from(self.offset_s) * 1_000_000_000
            + t / units * 1_000_000_000
            + (t % units) * 1_000_000_000 / units
    }
}

/// `if_tsresol`: bit 7 clear means 10^-n seconds, set means 2^-n; default 6 (microseconds).
fn units_per_second(tsresol: u8) -> u64 {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        1u64.checked_shl(n).unwrap_or(u64::MAX)
    } else {
        10u64.checked_pow(n).unwrap_or(u64::MAX)
    }
}

/// What a capture file holds that the dissector uses.
pub enum Item<'a> {
    /// A packet.
    Packet(&'a RawPacket<'a>),
    /// A TLS key log embedded in a pcapng Decryption Secrets Block (secrets type `TLSK`).
    TlsKeyLog(&'a [u8]),
}

/// Secrets type of a Decryption Secrets Block holding a TLS key log ("TLSK").
const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;

/// Reads every packet of a pcap or pcapng stream and calls `on_packet` for each, in file order.
pub fn read_packets<R, F>(input: R, mut on_packet: F) -> Result<ReadSummary, ReadError>
where
    R: Read + Send,
    F: FnMut(&RawPacket<'_>),
{
    read_items(input, |item| {
        if let Item::Packet(p) = item {
            on_packet(p);
        }
    })
}

/// Reads every packet and embedded TLS key log of a pcap or pcapng stream, in file order.
///
/// A file that ends inside a record (a capture killed mid-write) yields every whole packet and
/// a warning; only a file with no readable header is an error.
pub fn read_items<R, F>(input: R, mut on_item: F) -> Result<ReadSummary, ReadError>
where
    R: Read + Send,
    F: FnMut(Item<'_>),
{
    let mut capacity = READ_BUFFER;
    let mut reader = match create_reader(capacity, input) {
        Ok(r) => r,
        Err(PcapError::HeaderNotRecognized) => return Err(ReadError::NotACapture),
        Err(PcapError::ReadError) => return Err(ReadError::Io("read failed".into())),
        Err(_) => return Err(ReadError::Empty),
    };
    let mut summary = ReadSummary {
        format: "pcap",
        ..ReadSummary::default()
    };
    let mut legacy_linktype = 1u32;
    let mut legacy_nanos = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut header_seen = false;
    let mut unknown_if_warned = false;
    loop {
        match reader.next() {
            Ok((consumed, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        header_seen = true;
                        legacy_linktype = h.network.0 as u32;
                        legacy_nanos = h.is_nanosecond_precision();
                    }
                    PcapBlockOwned::Legacy(b) => {
                        summary.packets += 1;
                        let frac = if legacy_nanos {
                            i128::from(b.ts_usec)
                        } else {
                            i128::from(b.ts_usec) * 1000
                        };
                        let caplen = (b.caplen as usize).min(b.data.len());
                        on_item(Item::Packet(&RawPacket {
                            number: summary.packets,
                            ts_ns: i128::from(b.ts_sec) * 1_000_000_000 + frac,
                            linktype: legacy_linktype,
                            origlen: b.origlen.max(caplen as u32),
                            data: &b.data[..caplen],
                        }));
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        header_seen = true;
                        summary.format = "pcapng";
                        interfaces.clear();
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype.0 as u32,
                            snaplen: idb.snaplen,
                            units: units_per_second(idb.if_tsresol),
                            offset_s: idb.if_tsoffset,
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        summary.packets += 1;
                        match interfaces.get(epb.if_id as usize) {
                            Some(iface) => {
                                let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                let data = epb.packet_data();
                                on_item(Item::Packet(&RawPacket {
                                    number: summary.packets,
                                    ts_ns: iface.ts_ns(ticks),
                                    linktype: iface.linktype,
                                    origlen: epb.origlen.max(data.len() as u32),
                                    data,
                                }));
                            }
                            None if !unknown_if_warned => {
                                unknown_if_warned = true;
                                summary.warnings.push(format!(
                                    "packet {}: refers to interface {} which was never described; skipped",
                                    summary.packets, epb.if_id
                                ));
                            }
                            None => {}
                        }
                    }
                    PcapBlockOwned::NG(Block::DecryptionSecrets(dsb))
                        if dsb.secrets_type.0 == SECRETS_TLS_KEY_LOG =>
                    {
                        let n = (dsb.secrets_len as usize).min(dsb.data.len());
                        on_item(Item::TlsKeyLog(&dsb.data[..n]));
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        summary.packets += 1;
                        if let Some(iface) = interfaces.first() {
                            let data = spb.packet_data();
                            let cut = if iface.snaplen == 0 {
                                data.len()
                            } else {
                                data.len().min(iface.snaplen as usize)
                            };
                            on_item(Item::Packet(&RawPacket {
                                number: summary.packets,
                                ts_ns: 0,
                                linktype: iface.linktype,
                                origlen: spb.origlen.max(cut as u32),
                                data: &data[..cut],
                            }));
                        }
                    }
                    _ => {}
                }
                reader.consume(consumed);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    summary.warnings.push(format!(
                        "read error after packet {}; the rest of the file is ignored",
                        summary.packets
                    ));
                    break;
                }
            }
            Err(PcapError::BufferTooSmall) => {
                if capacity >= MAX_BLOCK {
                    summary.warnings.push(format!(
                        "packet {}: record longer than {} MiB; the rest of the file is ignored",
                        summary.packets + 1,
                        MAX_BLOCK >> 20
                    ));
                    break;
                }
                capacity *= 2;
                reader.grow(capacity);
                if reader.refill().is_err() {
                    summary.warnings.push(format!(
                        "read error after packet {}; the rest of the file is ignored",
                        summary.packets
                    ));
                    break;
                }
            }
            Err(PcapError::UnexpectedEof) => {
                if !header_seen && summary.packets == 0 {
                    return Err(ReadError::Empty);
                }
                if summary.packets == 0 {
                    return Err(ReadError::NoPackets(
                        "the file ends inside its first record".into(),
                    ));
                }
                summary.warnings.push(format!(
                    "the file is truncated: it ends inside the record after packet {}",
                    summary.packets
                ));
                break;
            }
            Err(PcapError::ReadError) => {
                if summary.packets == 0 && !header_seen {
                    return Err(ReadError::Io("read failed".into()));
                }
                summary.warnings.push(format!(
                    "read error after packet {}; the rest of the file is ignored",
                    summary.packets
                ));
                break;
            }
            Err(PcapError::HeaderNotRecognized) => return Err(ReadError::NotACapture),
            Err(PcapError::NomError(_, kind)) | Err(PcapError::OwnedNomError(_, kind)) => {
                if summary.packets == 0 && !header_seen {
                    return Err(ReadError::NotACapture);
                }
                if summary.packets == 0 {
                    return Err(ReadError::NoPackets(format!(
                        "the first record is malformed ({})",
                        kind.description().to_ascii_lowercase()
                    )));
                }
                summary.warnings.push(format!(
                    "packet {}: malformed record ({}); the rest of the file is ignored",
                    summary.packets + 1,
                    kind.description().to_ascii_lowercase()
                ));
                break;
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian microsecond pcap with the given link type and packets.
    pub(crate) fn pcap_bytes(linktype: u32, nanos: bool, packets: &[(u32, &[u8])]) -> Vec<u8> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut out = Vec::new();
        out.extend_from_slice(&magic.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&linktype.to_le_bytes());
        for (i, (origlen, data)) in packets.iter().enumerate() {
            out.extend_from_slice(&(1000 + i as u32).to_le_bytes());
            out.extend_from_slice(&5u32.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&origlen.to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    /// (number, timestamp, link type, original length, captured length) per packet.
    type Seen = Vec<(u64, i128, u32, u32, usize)>;

    fn collect(bytes: &[u8]) -> Result<(Seen, ReadSummary), ReadError> {
        let mut seen = Vec::new();
        let summary = read_packets(bytes, |p| {
            seen.push((p.number, p.ts_ns, p.linktype, p.origlen, p.data.len()))
        })?;
        Ok((seen, summary))
    }

    #[test]
    fn microsecond_and_nanosecond_timestamps() {
        let (us, _) = collect(&pcap_bytes(1, false, &[(3, b"abc")])).expect("reads");
        assert_eq!(us, vec![(1, 1_000_000_005_000, 1, 3, 3)]);
        let (ns, _) = collect(&pcap_bytes(113, true, &[(9, b"abc")])).expect("reads");
        assert_eq!(ns, vec![(1, 1_000_000_000_005, 113, 9, 3)]);
    }

    #[test]
    fn truncated_file_keeps_whole_packets_and_warns() {
        let whole = pcap_bytes(1, false, &[(4, b"abcd"), (4, b"efgh")]);
        let (seen, summary) = collect(&whole[..whole.len() - 2]).expect("reads");
        assert_eq!(seen.len(), 1);
        assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
        assert!(summary.warnings[0].contains("truncated"));
    }

    #[test]
    fn a_header_alone_is_an_empty_capture_but_a_cut_first_record_is_an_error() {
        let header_only = pcap_bytes(1, false, &[]);
        let (seen, summary) = collect(&header_only).expect("an empty capture reads");
        assert!(seen.is_empty() && summary.warnings.is_empty());
        let one = pcap_bytes(1, false, &[(4, b"abcd")]);
        let err = collect(&one[..one.len() - 2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no packet could be read: the file ends inside its first record"
        );
    }

    #[test]
    fn garbage_and_empty_files_are_errors() {
        assert!(matches!(
            collect(b"this is not a capture file at all, just some text\n"),
            Err(ReadError::NotACapture)
        ));
        assert!(collect(b"").is_err());
        assert!(collect(&[0xd4, 0xc3, 0xb2]).is_err());
    }

    #[test]
    fn tsresol_units() {
        assert_eq!(units_per_second(6), 1_000_000);
        assert_eq!(units_per_second(9), 1_000_000_000);
        assert_eq!(units_per_second(0x80 | 10), 1024);
        let iface = Interface {
            linktype: 1,
            snaplen: 0,
            units: 1024,
            offset_s: 1,
        };
        assert_eq!(iface.ts_ns(1024 + 512), 2_500_000_000);
    }
}
