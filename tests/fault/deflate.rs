//! The `none` baseline (also what echo mode serves) with permessage-deflate (RFC 7692): its
//! answer to each offer, compressed echoes under every parameter set (checked by `wire`'s
//! inflater, which holds the server to the agreed window and context takeover), and the
//! failures of what a client may not send.

use wsprobe::serve::{Fault, ServeMode, Server};
use wsprobe::wire::deflate::{Compressor, FindingKind, forms};
use wsprobe::wire::{FrameSpec, Opcode, Role, ViolationKind};

use super::{
    Client, MAX_MESSAGE, c, close, exchange, offering, start, start_fault, text, within, z,
};

const PMD: &str = "permessage-deflate";

/// A client frame with RSV1 set and this payload as it is.
fn rsv1(frame: FrameSpec) -> FrameSpec {
    FrameSpec {
        rsv: 0b100,
        ..frame
    }
}

/// Offers and the response header value of the baseline (`None`: declined, the handshake still
/// completes without the extension).
const ANSWERS: &[(&[&str], Option<&str>)] = &[
    (&[PMD], Some(PMD)),
    (
        &["permessage-deflate; server_no_context_takeover"],
        Some("permessage-deflate; server_no_context_takeover"),
    ),
    (
        &["permessage-deflate; client_no_context_takeover"],
        Some("permessage-deflate; client_no_context_takeover"),
    ),
    (
        &["permessage-deflate; server_max_window_bits=8"],
        Some("permessage-deflate; server_max_window_bits=8"),
    ),
    (
        &["permessage-deflate; server_max_window_bits=15"],
        Some("permessage-deflate; server_max_window_bits=15"),
    ),
    (&["permessage-deflate; client_max_window_bits"], Some(PMD)),
    (
        &["permessage-deflate; client_max_window_bits=10"],
        Some("permessage-deflate; client_max_window_bits=10"),
    ),
    (
        &["permessage-deflate; client_max_window_bits; server_no_context_takeover"],
        Some("permessage-deflate; server_no_context_takeover"),
    ),
    // Invalid offers, declined (§7).
    (&["permessage-deflate; x-unknown"], None),
    (
        &["permessage-deflate; server_max_window_bits=10; server_max_window_bits=11"],
        None,
    ),
    (&["permessage-deflate; server_max_window_bits=7"], None),
    (&["permessage-deflate; server_max_window_bits=16"], None),
    (&["permessage-deflate; server_max_window_bits=abc"], None),
    (&["permessage-deflate; client_max_window_bits=16"], None),
    (
        &["permessage-deflate; client_no_context_takeover=yes"],
        None,
    ),
    // Fall-back: the first acceptable offer (§5.1).
    (
        &[
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=12",
        ],
        Some("permessage-deflate; server_max_window_bits=12"),
    ),
    (&["permessage-deflate; bogus", PMD], Some(PMD)),
    (&["x-wsprobe-unknown", PMD], Some(PMD)),
];

#[tokio::test]
async fn rfc7692_5_1_answers_each_offer_and_completes_the_handshake() {
    within(async {
        let server = start_fault(Fault::None).await;
        let mut wrong = Vec::new();
        for (offers, expected) in ANSWERS {
            let outcome = exchange(&server, &offering(&server, offers), &[close(1000)]).await;
            let got = outcome.response.header("sec-websocket-extensions");
            if outcome.response.status != 101
                || got != *expected
                || outcome.seen != ["close 1000", "eof"]
                || !outcome.violations.is_empty()
            {
                wrong.push(format!(
                    "{offers:?}: {} {got:?} {:?} {:?} (expected {expected:?})",
                    outcome.response.status, outcome.seen, outcome.violations
                ));
            }
        }
        server.shutdown().await;
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    })
    .await;
}

/// Messages a compressor shortens well and ones that repeat from far back: JSON-like text,
/// one repeated from over 8 KiB back, and binary.
fn messages() -> Vec<(Opcode, Vec<u8>)> {
    let json: String = (0..40)
        .map(|i| format!("{{\"id\":{i},\"name\":\"item {i}\",\"tags\":[\"a\",\"b\"]}},"))
        .collect();
    let (far, _) = forms::reaching_beyond(13).expect("valid window bits");
    vec![
        (Opcode::Text, b"Hello".to_vec()),
        (Opcode::Text, b"Hello".to_vec()),
        (Opcode::Text, json.clone().into_bytes()),
        (Opcode::Text, json.into_bytes()),
        (Opcode::Binary, far.clone()),
        (Opcode::Binary, far),
        (Opcode::Text, Vec::new()),
        (
            Opcode::Binary,
            (0..70_000u32).map(|i| (i % 251) as u8).collect(),
        ),
    ]
}

/// Every parameter alone and combined: each echo arrives compressed, inflates to the message
/// sent, and `wire`'s inflater finds the server within the agreed window and context rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7692_7_compressed_echoes_under_every_parameter_set() {
    within(async {
        let server = start_fault(Fault::None).await;
        let offers = [
            PMD,
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; client_no_context_takeover",
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=12",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=9",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=11",
        ];
        let mut wrong = Vec::new();
        for offer in offers {
            let (mut client, _) = Client::open(&server, &offering(&server, &[offer])).await;
            let negotiated = client.negotiated.expect("the baseline accepts the offer");
            // The client compresses as agreed for its own direction.
            let mut compressor =
                Compressor::for_sender(&negotiated, Role::Client, 6).expect("valid window bits");
            let mut frames = Vec::new();
            let mut expected = Vec::new();
            for (opcode, message) in messages() {
                let payload = compressor.compress(&message).expect("compresses");
                frames.push(FrameSpec {
                    rsv: 0b100,
                    ..c(opcode, payload)
                });
                let words = match (opcode, message.len()) {
                    (Opcode::Text, 0) => "text".to_string(),
                    (Opcode::Text, n) if n <= 40 => {
                        format!("text {}", String::from_utf8_lossy(&message))
                    }
                    (op, n) => format!("{op} ({n} bytes)"),
                };
                expected.push(format!("{words} (deflate)"));
            }
            // An uncompressed message in between is echoed compressed too (§6.1 lets either
            // end compress any message).
            frames.push(text("plain"));
            expected.push("text plain (deflate)".into());
            frames.push(close(1000));
            expected.extend(["close 1000".into(), "eof".into()]);
            client.send(&frames).await;
            let mut violations = client.negotiation.clone();
            let seen = client.observe(&mut violations).await;
            if seen != expected || !violations.is_empty() {
                wrong.push(format!("{offer}: saw {seen:?}, violations {violations:?}"));
            }
        }
        server.shutdown().await;
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    })
    .await;
}

/// The payload forms of §7.2.3 a receiver must accept, and a compressed message sent in
/// fragments with a ping between them.
#[tokio::test]
async fn rfc7692_7_2_3_accepts_every_valid_form() {
    within(async {
        let server = start_fault(Fault::None).await;
        let [first, last] = forms::with_empty_final_fragment(b"Hello").expect("compresses");
        let whole = z(Opcode::Text, "Hello, fragments").payload;
        let (a, b) = whole.split_at(whole.len() / 2);
        let frames = vec![
            rsv1(c(Opcode::Text, forms::stored_blocks(b"stored"))),
            rsv1(c(
                Opcode::Text,
                forms::two_blocks(b"two blocks", 3).expect("compresses"),
            )),
            rsv1(c(
                Opcode::Text,
                forms::bfinal(b"bfinal").expect("compresses"),
            )),
            rsv1(c(Opcode::Text, first).fin(false)),
            c(Opcode::Continuation, last),
            rsv1(c(Opcode::Text, a.to_vec()).fin(false)),
            c(Opcode::Ping, "between"),
            c(Opcode::Continuation, b.to_vec()),
            close(1000),
        ];
        let outcome = exchange(&server, &offering(&server, &[PMD]), &frames).await;
        assert_eq!(
            outcome.seen,
            [
                "text stored (deflate)",
                "text two blocks (deflate)",
                "text bfinal (deflate)",
                "text Hello (deflate)",
                "pong between",
                "text Hello, fragments (deflate)",
                "close 1000",
                "eof"
            ]
        );
        assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
        server.shutdown().await;
    })
    .await;
}

/// What a client may not send fails the connection with the RFC's close code.
#[tokio::test]
async fn rfc7692_failures_close_with_the_rfc_code() {
    within(async {
        let server = start(ServeMode::Fault(Fault::None), 1 << 20).await;
        let hello = z(Opcode::Text, "Hello").payload;
        let cases: Vec<(&str, &str, Vec<FrameSpec>, &str)> = vec![
            (
                "invalid data (reserved block type)",
                PMD,
                vec![rsv1(c(
                    Opcode::Binary,
                    forms::Invalid::ReservedBlockType.payload().to_vec(),
                ))],
                "close 1002",
            ),
            (
                "invalid data (stored length mismatch)",
                PMD,
                vec![rsv1(c(
                    Opcode::Binary,
                    forms::Invalid::StoredLengthMismatch.payload().to_vec(),
                ))],
                "close 1002",
            ),
            (
                "reference before the start",
                PMD,
                vec![rsv1(c(
                    Opcode::Text,
                    forms::Invalid::ReferenceBeforeStart.payload().to_vec(),
                ))],
                "close 1002",
            ),
            (
                "rsv1 on a continuation frame",
                PMD,
                vec![
                    rsv1(c(Opcode::Text, hello[..2].to_vec()).fin(false)),
                    rsv1(c(Opcode::Continuation, hello[2..].to_vec())),
                ],
                "close 1002",
            ),
            (
                "rsv1 on a ping",
                PMD,
                vec![rsv1(c(Opcode::Ping, "p"))],
                "close 1002",
            ),
            (
                "rsv1 on a close",
                PMD,
                vec![rsv1(close(1000))],
                "close 1002",
            ),
            (
                "rsv1 without the extension",
                "x-wsprobe-unknown",
                vec![z(Opcode::Text, "Hello")],
                "close 1002",
            ),
            (
                "inflated text not utf-8",
                PMD,
                vec![z(Opcode::Text, [0xce, 0xba, 0xff])],
                "close 1007",
            ),
            (
                "bomb: 8 MiB of zeros against a 1 MiB limit",
                PMD,
                vec![z(Opcode::Binary, vec![0u8; 8 << 20])],
                "close 1009",
            ),
            (
                "client window exceeded",
                "permessage-deflate; client_max_window_bits=9",
                vec![rsv1(c(
                    Opcode::Binary,
                    forms::reaching_beyond(9).expect("valid window bits").1,
                ))],
                "close 1002",
            ),
            (
                "client context takeover after promising not to",
                "permessage-deflate; client_no_context_takeover",
                {
                    let mut shared = Compressor::new(15, false, 6).expect("valid settings");
                    let first = shared.compress(b"Hello").expect("compresses");
                    let second = shared.compress(b"Hello").expect("compresses");
                    vec![rsv1(c(Opcode::Text, first)), rsv1(c(Opcode::Text, second))]
                },
                "close 1002",
            ),
        ];
        let mut wrong = Vec::new();
        for (name, offer, frames, code) in cases {
            let outcome = exchange(&server, &offering(&server, &[offer]), &frames).await;
            let seen: Vec<&str> = outcome
                .seen
                .iter()
                .map(String::as_str)
                .filter(|s| !s.starts_with("text Hello"))
                .collect();
            if seen != [code, "eof"] {
                wrong.push(format!("{name}: saw {:?} (expected {code})", outcome.seen));
            }
        }
        server.shutdown().await;
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    })
    .await;
}

/// At the limit the inflated message is echoed; one byte over, 1009. A fault without the limit
/// echoes the larger one.
#[tokio::test]
async fn rfc6455_10_4_inflated_size_counts_against_the_limit() {
    within(async {
        let limit = 64 * 1024;
        let baseline = start(ServeMode::Fault(Fault::None), limit).await;
        let unbounded = start(ServeMode::Fault(Fault::DeflateInflateUnbounded), limit).await;
        let at = z(Opcode::Binary, vec![7u8; limit]);
        let over = z(Opcode::Binary, vec![7u8; limit + 1]);
        let echoed = |n: usize| format!("binary ({n} bytes) (deflate)");
        let outcome = exchange(&baseline, &offering(&baseline, &[PMD]), &[at, close(1000)]).await;
        assert_eq!(outcome.seen, [echoed(limit).as_str(), "close 1000", "eof"]);
        let outcome = exchange(
            &baseline,
            &offering(&baseline, &[PMD]),
            std::slice::from_ref(&over),
        )
        .await;
        assert_eq!(outcome.seen, ["close 1009", "eof"]);
        let outcome = exchange(
            &unbounded,
            &offering(&unbounded, &[PMD]),
            &[over, close(1000)],
        )
        .await;
        assert_eq!(
            outcome.seen,
            [echoed(limit + 1).as_str(), "close 1000", "eof"]
        );
        baseline.shutdown().await;
        unbounded.shutdown().await;
    })
    .await;
}

/// `deflate-window-exceeded` really reaches beyond the agreed window for every window below 15
/// with long-range repeats, and the baseline never does.
#[tokio::test]
async fn window_fault_reaches_beyond_every_small_window() {
    within(async {
        let baseline = start_fault(Fault::None).await;
        let faulty = start_fault(Fault::DeflateWindowExceeded).await;
        for bits in 8..=14u8 {
            let offer = format!("permessage-deflate; server_max_window_bits={bits}");
            let offer: &str = &offer;
            let (message, _) = forms::reaching_beyond(bits).expect("valid window bits");
            let frames = [z(Opcode::Binary, &message), close(1000)];
            let good = exchange(&baseline, &offering(&baseline, &[offer]), &frames).await;
            assert!(good.violations.is_empty(), "{bits}: {:?}", good.violations);
            let bad = exchange(&faulty, &offering(&faulty, &[offer]), &frames).await;
            assert_eq!(
                bad.violations,
                [ViolationKind::Deflate(FindingKind::ServerWindowExceeded)],
                "{bits}"
            );
        }
        baseline.shutdown().await;
        faulty.shutdown().await;
    })
    .await;
}

/// Echo mode is the same server: it negotiates and compresses.
#[tokio::test]
async fn echo_mode_speaks_permessage_deflate() {
    within(async {
        let server: Server = start(ServeMode::Echo, MAX_MESSAGE).await;
        let outcome = exchange(
            &server,
            &offering(&server, &["permessage-deflate; server_max_window_bits=10"]),
            &[z(Opcode::Text, "Hello"), close(1000)],
        )
        .await;
        assert_eq!(
            outcome.response.header("sec-websocket-extensions"),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        assert_eq!(outcome.seen, ["text Hello (deflate)", "close 1000", "eof"]);
        assert!(outcome.violations.is_empty());
        server.shutdown().await;
    })
    .await;
}
