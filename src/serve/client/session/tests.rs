//! Unit tests of the client session: one table row or scenario per RFC requirement and fault.

use super::*;
use crate::wire::Frame;
use crate::wire::frame::RSV1;

/// A broken frame: what, its bytes, the close code it is failed with, the fault that accepts
/// it and what that faulty client answers.
type Row = (&'static str, Vec<u8>, u16, ClientFault, Option<Opcode>);

fn session(faults: &[ClientFault]) -> (Session, MaskSource) {
    let set = FaultSet::new(faults.iter().copied());
    (Session::new(set.clone(), true), MaskSource::new(&set))
}

/// Feeds `frames` (already encoded) and returns the frames the client sent back.
fn exchange(s: &mut Session, masks: &mut MaskSource, bytes: &[u8]) -> Vec<Frame> {
    s.receive(bytes, masks).expect("entropy");
    let out = s.take_output();
    let mut d = FrameDecoder::default();
    d.push(&out);
    let mut frames = Vec::new();
    while let Decoded::Frame(f) = d.next_frame() {
        frames.push(f.frame);
    }
    assert!(d.buffered().is_empty(), "whole frames only");
    frames
}

fn frame(op: Opcode, payload: &[u8]) -> Vec<u8> {
    FrameSpec::new(op, payload.to_vec()).encode()
}

fn close_code(f: &Frame) -> Option<u16> {
    assert_eq!(f.header.opcode, Opcode::Close);
    ClosePayload::parse(&f.payload).code()
}

#[test]
fn rfc6455_5_3_echoes_whole_messages_masked_with_fresh_keys() {
    let (mut s, mut m) = session(&[]);
    let mut bytes = frame(Opcode::Text, b"hello");
    bytes.extend(frame(Opcode::Binary, &[0, 1, 2]));
    bytes.extend(
        FrameSpec::new(Opcode::Text, b"fra".to_vec())
            .fin(false)
            .encode(),
    );
    bytes.extend(frame(Opcode::Ping, b"p"));
    bytes.extend(frame(Opcode::Continuation, b"gment"));
    let out = exchange(&mut s, &mut m, &bytes);
    let got: Vec<(Opcode, &[u8])> = out
        .iter()
        .map(|f| (f.header.opcode, f.payload.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            (Opcode::Text, &b"hello"[..]),
            (Opcode::Binary, &[0, 1, 2][..]),
            (Opcode::Pong, &b"p"[..]),
            (Opcode::Text, &b"fragment"[..]),
        ]
    );
    let keys: Vec<[u8; 4]> = out.iter().map(|f| f.header.mask.expect("masked")).collect();
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    assert_eq!((s.next(), s.echoed()), (Next::Read, 3));
}

#[test]
fn masking_faults_change_only_the_keys() {
    let (mut s, mut m) = session(&[ClientFault::NoMask]);
    let out = exchange(&mut s, &mut m, &frame(Opcode::Text, b"x"));
    assert_eq!(
        (out[0].header.mask, out[0].payload.as_slice()),
        (None, &b"x"[..])
    );
    let (mut s, mut m) = session(&[ClientFault::ConstantMask]);
    let mut bytes = frame(Opcode::Text, b"a");
    bytes.extend(frame(Opcode::Text, b"b"));
    let out = exchange(&mut s, &mut m, &bytes);
    assert!(
        out.iter()
            .all(|f| f.header.mask == Some(super::super::CONSTANT_KEY))
    );
    assert_eq!(out[1].payload, b"b");
}

/// Each server-side violation: the conformant client fails the connection with the code
/// and answers nothing else; the client with the matching fault goes on as if the frame
/// were valid.
#[test]
fn rfc6455_5_server_violations_fail_unless_their_fault_is_set() {
    let masked = FrameSpec::new(Opcode::Text, b"m".to_vec())
        .masked([1, 2, 3, 4])
        .encode();
    let mut rsv = FrameSpec::new(Opcode::Text, b"r".to_vec());
    rsv.rsv = RSV1;
    let big_ping = frame(Opcode::Ping, &[7u8; 126]);
    let split_ping = FrameSpec::new(Opcode::Ping, b"p".to_vec())
        .fin(false)
        .encode();
    let table: Vec<Row> = vec![
        (
            "masked",
            masked,
            1002,
            ClientFault::AcceptMaskedFrames,
            Some(Opcode::Text),
        ),
        (
            "rsv1",
            rsv.encode(),
            1002,
            ClientFault::IgnoreRsv,
            Some(Opcode::Text),
        ),
        (
            "reserved opcode",
            frame(Opcode::ReservedData(3), b"?"),
            1002,
            ClientFault::IgnoreReservedOpcodes,
            None,
        ),
        (
            "invalid utf-8",
            frame(Opcode::Text, &[0xce, 0xba, 0xff]),
            1007,
            ClientFault::NoUtf8Check,
            Some(Opcode::Text),
        ),
        (
            "ping of 126",
            big_ping,
            1002,
            ClientFault::AcceptBadControl,
            Some(Opcode::Pong),
        ),
        (
            "fragmented ping",
            split_ping,
            1002,
            ClientFault::AcceptBadControl,
            Some(Opcode::Pong),
        ),
        (
            "close code 999",
            frame(Opcode::Close, &999u16.to_be_bytes()),
            1002,
            ClientFault::AcceptBadClose,
            Some(Opcode::Close),
        ),
        (
            "one-byte close",
            frame(Opcode::Close, &[3]),
            1002,
            ClientFault::AcceptBadClose,
            Some(Opcode::Close),
        ),
        (
            "bad close reason",
            frame(Opcode::Close, &[3, 232, 0xff]),
            1007,
            ClientFault::AcceptBadClose,
            Some(Opcode::Close),
        ),
    ];
    for (what, bytes, code, fault, answer) in table {
        let (mut s, mut m) = session(&[]);
        let out = exchange(&mut s, &mut m, &bytes);
        assert_eq!(out.len(), 1, "{what}: {out:?}");
        assert_eq!(close_code(&out[0]), Some(code), "{what}");
        assert!(
            matches!(s.state(), State::Failed { code: c, .. } if *c == code),
            "{what}"
        );
        assert_eq!(s.next(), Next::AwaitTcpClose, "{what}");

        let (mut s, mut m) = session(&[fault]);
        let out = exchange(&mut s, &mut m, &bytes);
        let ops: Vec<Opcode> = out.iter().map(|f| f.header.opcode).collect();
        assert_eq!(
            ops,
            answer.into_iter().collect::<Vec<_>>(),
            "{what} with {}",
            fault.name()
        );
        assert!(!matches!(s.state(), State::Failed { .. }), "{what}");
        if answer == Some(Opcode::Close) {
            // The close is answered as a valid one, its code echoed as it came.
            let sent = ClosePayload::parse(&bytes[2..]).code();
            assert_eq!(close_code(&out[0]), sent, "{what}");
        }
    }
}

#[test]
fn rfc6455_5_5_1_close_is_answered_with_its_code_then_tcp_is_awaited() {
    let mut bytes = frame(Opcode::Close, &3000u16.to_be_bytes());
    bytes.extend(frame(Opcode::Text, b"late"));
    let (mut s, mut m) = session(&[]);
    let out = exchange(&mut s, &mut m, &bytes);
    assert_eq!(out.len(), 1, "only the close reply: {out:?}");
    assert_eq!(close_code(&out[0]), Some(3000));
    assert_eq!(s.next(), Next::AwaitTcpClose);
    // Data after the close reply is neither echoed nor failed.
    assert!(exchange(&mut s, &mut m, &frame(Opcode::Text, b"later")).is_empty());

    let (mut s, mut m) = session(&[ClientFault::EchoAfterClose]);
    let out = exchange(&mut s, &mut m, &bytes);
    let ops: Vec<Opcode> = out.iter().map(|f| f.header.opcode).collect();
    assert_eq!(ops, [Opcode::Close, Opcode::Text]);

    let (mut s, mut m) = session(&[ClientFault::NoCloseReply]);
    assert!(exchange(&mut s, &mut m, &bytes).is_empty());
    assert_eq!(s.next(), Next::AwaitTcpClose);

    let (mut s, mut m) = session(&[ClientFault::CloseTcpFirst]);
    assert_eq!(exchange(&mut s, &mut m, &bytes).len(), 1);
    assert_eq!(s.next(), Next::CloseTcp);

    let (mut s, mut m) = session(&[]);
    let out = exchange(&mut s, &mut m, &frame(Opcode::Close, b""));
    assert_eq!(
        close_code(&out[0]),
        None,
        "an empty close is answered empty"
    );
}

#[test]
fn rfc6455_5_5_2_pings_are_answered_unless_no_pong() {
    let (mut s, mut m) = session(&[ClientFault::NoPong]);
    assert!(exchange(&mut s, &mut m, &frame(Opcode::Ping, b"p")).is_empty());
    assert_eq!(s.next(), Next::Read);
}

/// Text after the 101 ("hello" read as a fragmented close with RSV bits) fails the
/// connection at its header, before the declared payload arrives; `ignore-garbage` skips
/// the bytes until a valid frame starts.
#[test]
fn rfc6455_5_2_garbage_after_the_101() {
    let (mut s, mut m) = session(&[]);
    let out = exchange(&mut s, &mut m, b"hello");
    assert_eq!(close_code(&out[0]), Some(1002));

    // What client.handshake.after-http-body sends: the text, then 128 zero bytes.
    let (mut s, mut m) = session(&[ClientFault::IgnoreGarbage]);
    assert!(exchange(&mut s, &mut m, b"hello").is_empty());
    assert!(exchange(&mut s, &mut m, &[0u8; 128]).is_empty());
    assert_eq!((s.state(), s.next()), (&State::Open, Next::Read));
    // Valid frames from the start are not garbage.
    let (mut s, mut m) = session(&[ClientFault::IgnoreGarbage]);
    let mut bytes = frame(Opcode::Text, b"ok");
    bytes.extend(frame(Opcode::Binary, b"!"));
    let out = exchange(&mut s, &mut m, &bytes);
    let got: Vec<&[u8]> = out.iter().map(|f| f.payload.as_slice()).collect();
    assert_eq!(got, [&b"ok"[..], &b"!"[..]]);
}

/// §8.1: invalid UTF-8 fails the connection as soon as it arrives, in the middle of a frame
/// whose payload is still incomplete, and in a continuation of a text message.
#[test]
fn rfc6455_8_1_invalid_utf8_fails_before_the_frame_is_complete() {
    let mut payload = b"ok".to_vec();
    payload.push(0xff);
    payload.extend_from_slice(&[b'x'; 20]);
    let whole = frame(Opcode::Text, &payload);
    let (mut s, mut m) = session(&[]);
    assert!(
        exchange(&mut s, &mut m, &whole[..3]).is_empty(),
        "valid so far"
    );
    let out = exchange(&mut s, &mut m, &whole[3..6]);
    assert_eq!(close_code(&out[0]), Some(1007));

    let mut bytes = FrameSpec::new(Opcode::Text, vec![0xce]).fin(false).encode();
    let cont = frame(Opcode::Continuation, &[0xba, 0xce, 0x41, 0x41, 0x41]);
    bytes.extend_from_slice(&cont[..5]);
    let (mut s, mut m) = session(&[]);
    let out = exchange(&mut s, &mut m, &bytes);
    assert_eq!(
        close_code(&out[0]),
        Some(1007),
        "κ then a lead byte before 'A'"
    );

    let (mut s, mut m) = session(&[ClientFault::NoUtf8Check]);
    assert!(exchange(&mut s, &mut m, &whole[..6]).is_empty());
    let out = exchange(&mut s, &mut m, &whole[6..]);
    assert_eq!(out[0].payload, payload);
}

#[test]
fn get_case_count_connections_collect_without_echoing() {
    let mut s = Session::new(FaultSet::default(), false);
    let mut m = MaskSource::new(&FaultSet::default());
    assert!(exchange(&mut s, &mut m, &frame(Opcode::Text, b"42")).is_empty());
    assert_eq!(s.received(), [(Opcode::Text, b"42".to_vec())]);
}
