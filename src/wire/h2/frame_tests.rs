//! Frame decoder and encoder tests: round trips of every type, header bits, length bounds
//! and each malformed case with its RFC 9113 section.

use super::encode::*;
use super::frame::*;

fn one(bytes: &[u8]) -> (RawFrame<'_>, usize) {
    match decode_frame(bytes, DEFAULT_MAX_FRAME_SIZE).unwrap() {
        Status::Complete { frame, consumed } => (frame, consumed),
        Status::NeedMore(n) => panic!("need {n} more"),
    }
}

fn round_trip(p: Payload<'_>, opts: FrameOpts, unknown: u8) {
    let mut out = Vec::new();
    encode(&mut out, &p, opts, unknown);
    let (f, consumed) = one(&out);
    assert_eq!(consumed, out.len());
    assert_eq!(f.header.stream_id, opts.stream_id);
    assert_eq!(f.header.reserved, opts.reserved);
    assert_eq!(f.header.flags & opts.flags, opts.flags);
    let back = f.parse().unwrap();
    match (&p, &back) {
        (Payload::Unknown(a), Payload::Unknown(b)) => {
            assert_eq!(a, b);
            assert_eq!(f.header.kind, FrameType::Unknown(unknown));
        }
        _ => assert_eq!(p, back),
    }
}

#[test]
fn rfc9113_4_1_every_type_round_trips() {
    let prio = PrioritySpec {
        exclusive: true,
        dependency: 3,
        weight: 15,
    };
    let with_pad = |sid, flags, pad| FrameOpts {
        stream_id: sid,
        flags,
        reserved: false,
        padding: pad,
    };
    round_trip(
        Payload::Data {
            data: b"hello",
            pad_len: Some(3),
        },
        with_pad(1, FLAG_END_STREAM, Some(3)),
        0,
    );
    round_trip(
        Payload::Data {
            data: b"",
            pad_len: None,
        },
        FrameOpts::new(0x7fff_ffff, 0),
        0,
    );
    round_trip(
        Payload::Headers {
            priority: Some(prio),
            block: b"\x82\x86",
            pad_len: Some(0),
        },
        with_pad(3, FLAG_END_HEADERS, Some(0)),
        0,
    );
    round_trip(
        Payload::Headers {
            priority: None,
            block: b"\x82",
            pad_len: None,
        },
        FrameOpts::new(5, FLAG_END_HEADERS),
        0,
    );
    round_trip(Payload::Priority(prio), FrameOpts::new(7, 0), 0);
    round_trip(
        Payload::RstStream(ErrorCode::CANCEL),
        FrameOpts::new(1, 0),
        0,
    );
    round_trip(
        Payload::Settings(vec![(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1), (0x2a2a, 7)]),
        FrameOpts::default(),
        0,
    );
    round_trip(Payload::Settings(vec![]), FrameOpts::new(0, FLAG_ACK), 0);
    round_trip(
        Payload::PushPromise {
            reserved: true,
            promised: 2,
            block: b"\x82",
            pad_len: Some(2),
        },
        with_pad(1, FLAG_END_HEADERS, Some(2)),
        0,
    );
    round_trip(Payload::Ping(*b"12345678"), FrameOpts::new(0, FLAG_ACK), 0);
    round_trip(
        Payload::GoAway {
            reserved: false,
            last_stream_id: 9,
            code: ErrorCode(0x1234),
            debug: b"bye",
        },
        FrameOpts::default(),
        0,
    );
    round_trip(
        Payload::WindowUpdate {
            reserved: true,
            increment: 65_535,
        },
        FrameOpts {
            reserved: true,
            ..FrameOpts::new(1, 0)
        },
        0,
    );
    round_trip(
        Payload::Continuation(b"\x84"),
        FrameOpts::new(1, FLAG_END_HEADERS),
        0,
    );
    round_trip(Payload::Unknown(b"grease"), FrameOpts::new(0, 0xff), 0xfa);
}

#[test]
fn rfc9113_4_1_header_fields() {
    let bytes = [0x00, 0x01, 0x02, 0x08, 0x05, 0x80, 0x00, 0x00, 0x07];
    let h = FrameHeader::parse(&bytes).unwrap();
    assert_eq!(h.length, 0x102);
    assert_eq!(h.kind, FrameType::WindowUpdate);
    assert_eq!(h.flags, 5);
    assert!(h.reserved);
    assert_eq!(h.stream_id, 7);
    assert_eq!(h.to_bytes(), bytes);
    assert!(FrameHeader::parse(&bytes[..8]).is_none());
}

#[test]
fn rfc9113_4_2_length_bounded_before_payload() {
    // 16,385 declared, only the header present: the error comes before any wait.
    let bytes = [0x00, 0x40, 0x01, 0x00, 0x00, 0, 0, 0, 1];
    let err = decode_frame(&bytes, DEFAULT_MAX_FRAME_SIZE).unwrap_err();
    assert!(matches!(err, FrameError::TooLarge { max: 16_384, .. }));
    assert_eq!(err.section(), "RFC 9113 §4.2");
    assert_eq!(err.code(), ErrorCode::FRAME_SIZE_ERROR);
    // With a larger limit the same header just needs its payload.
    assert_eq!(
        decode_frame(&bytes, MAX_FRAME_SIZE_LIMIT).unwrap(),
        Status::NeedMore(16_385)
    );
}

#[test]
fn need_more_counts_missing_octets() {
    assert_eq!(decode_frame(&[], 100).unwrap(), Status::NeedMore(9));
    assert_eq!(decode_frame(&[0, 0], 100).unwrap(), Status::NeedMore(7));
    let mut out = Vec::new();
    data(&mut out, 1, b"abcd", false);
    assert_eq!(decode_frame(&out[..10], 100).unwrap(), Status::NeedMore(3));
    // Two frames back to back: the first consumes only its own octets.
    data(&mut out, 3, b"", true);
    let (f, consumed) = one(&out);
    assert_eq!(consumed, 13);
    assert_eq!(f.payload, b"abcd");
}

fn parse_err(kind: u8, flags: u8, sid: u32, payload: &[u8]) -> FrameError {
    let mut out = Vec::new();
    encode_raw(&mut out, kind, flags, sid, payload);
    one(&out).0.parse().unwrap_err()
}

#[test]
fn malformed_frames_name_their_section() {
    let table: &[(u8, u8, &[u8], &str)] = &[
        (0x0, FLAG_PADDED, b"", "RFC 9113 §6.1"),
        (0x0, FLAG_PADDED, b"\x05abc", "RFC 9113 §6.1"),
        (0x1, FLAG_PADDED, b"\x02\x82", "RFC 9113 §6.2"),
        (0x1, FLAG_PRIORITY, b"\x00\x00", "RFC 9113 §6.2"),
        (
            0x1,
            FLAG_PADDED | FLAG_PRIORITY,
            b"\x00\x00\x00",
            "RFC 9113 §6.2",
        ),
        (0x2, 0, b"\x00\x00\x00\x01", "RFC 9113 §6.3"),
        (0x3, 0, b"\x00\x00\x00\x08\x00", "RFC 9113 §6.4"),
        (0x4, 0, b"\x00\x08\x00\x00\x00", "RFC 9113 §6.5"),
        (0x4, FLAG_ACK, b"\x00\x08\x00\x00\x00\x01", "RFC 9113 §6.5"),
        (0x5, 0, b"\x00\x00", "RFC 9113 §6.6"),
        (0x5, FLAG_PADDED, b"\x09\x00\x00\x00\x02", "RFC 9113 §6.6"),
        (0x6, 0, b"1234567", "RFC 9113 §6.7"),
        (0x7, 0, b"\x00\x00\x00\x01\x00\x00", "RFC 9113 §6.8"),
        (0x8, 0, b"\x00\x00\x01", "RFC 9113 §6.9"),
    ];
    for (kind, flags, payload, section) in table {
        let err = parse_err(*kind, *flags, 1, payload);
        assert_eq!(&err.section(), section, "type {kind:#x}: {err}");
        assert!(!err.to_string().is_empty());
    }
    assert!(matches!(
        parse_err(0x4, 0, 0, b"12345"),
        FrameError::SettingsLength { length: 5 }
    ));
    assert!(matches!(
        parse_err(0x0, FLAG_PADDED, 1, b"\x04abc"),
        FrameError::PadTooLong {
            pad_len: 4,
            available: 3,
            ..
        }
    ));
}

#[test]
fn pad_length_equal_to_rest_leaves_empty_data() {
    let mut out = Vec::new();
    encode_raw(&mut out, 0x0, FLAG_PADDED, 1, b"\x03abc");
    assert_eq!(
        one(&out).0.parse().unwrap(),
        Payload::Data {
            data: b"",
            pad_len: Some(3)
        }
    );
}

#[test]
fn rfc9113_stream_id_rules() {
    let h = |kind: u8, sid: u32| FrameHeader {
        length: 0,
        kind: FrameType::from_u8(kind),
        flags: 0,
        reserved: false,
        stream_id: sid,
    };
    for kind in [0x0, 0x1, 0x2, 0x3, 0x5, 0x9] {
        let e = stream_id_error(&h(kind, 0)).unwrap();
        assert!(matches!(e, FrameError::StreamZero { .. }));
        assert_eq!(stream_id_error(&h(kind, 1)), None);
    }
    for kind in [0x4, 0x6, 0x7] {
        assert!(matches!(
            stream_id_error(&h(kind, 3)),
            Some(FrameError::StreamNonZero { stream_id: 3, .. })
        ));
        assert_eq!(stream_id_error(&h(kind, 0)), None);
    }
    assert_eq!(stream_id_error(&h(0x8, 0)), None);
    assert_eq!(stream_id_error(&h(0x8, 5)), None);
    assert_eq!(stream_id_error(&h(0xfa, 5)), None);
}

#[test]
fn names_of_settings_and_codes() {
    assert_eq!(
        setting_name(SETTINGS_ENABLE_CONNECT_PROTOCOL),
        Some("SETTINGS_ENABLE_CONNECT_PROTOCOL")
    );
    assert_eq!(setting_name(0x2a2a), None);
    assert_eq!(ErrorCode::CANCEL.to_string(), "CANCEL");
    assert_eq!(ErrorCode(0xd).to_string(), "HTTP_1_1_REQUIRED");
    assert_eq!(ErrorCode(0xe).to_string(), "0xe");
    assert_eq!(FrameType::Unknown(0xfa).to_string(), "UNKNOWN(0xfa)");
    assert_eq!(FrameType::from_u8(0x8).to_string(), "WINDOW_UPDATE");
    assert_eq!(PREFACE.len(), 24);
}

#[test]
fn helpers_write_what_they_say() {
    let mut out = Vec::new();
    settings(&mut out, &[(SETTINGS_ENABLE_CONNECT_PROTOCOL, 1)]);
    settings_ack(&mut out);
    window_update(&mut out, 0, 1000);
    rst_stream(&mut out, 3, ErrorCode::CANCEL);
    ping(&mut out, [1; 8], true);
    goaway(&mut out, 5, ErrorCode::NO_ERROR, b"");
    headers(&mut out, 1, b"\x82", true);
    let mut rest = &out[..];
    let mut kinds = Vec::new();
    while !rest.is_empty() {
        let (f, n) = one(rest);
        kinds.push((f.header.kind, f.header.flags, f.header.stream_id));
        f.parse().unwrap();
        rest = &rest[n..];
    }
    assert_eq!(
        kinds,
        vec![
            (FrameType::Settings, 0, 0),
            (FrameType::Settings, FLAG_ACK, 0),
            (FrameType::WindowUpdate, 0, 0),
            (FrameType::RstStream, 0, 3),
            (FrameType::Ping, FLAG_ACK, 0),
            (FrameType::GoAway, 0, 0),
            (FrameType::Headers, FLAG_END_HEADERS | FLAG_END_STREAM, 1),
        ]
    );
}
