//! The built-in suites cover Autobahn|Testsuite case for case: the set of `autobahn:` ids is
//! exactly the 517 ids of the current Autobahn release (1.x 16, 2.x 11, 3.x 7, 4.x 10, 5.x 20,
//! 6.x 145, 7.x 37, 9.x 54, 10.x 1, and the permessage-deflate categories 12.x 90, 13.x 126),
//! each once; `wsprobe list --case '12.*' --case '13.*'` lists exactly the 216 compression ids.

use std::collections::BTreeMap;

use std::time::Duration;

use wsprobe::suite;
use wsprobe::suite::model::PeerKind;

mod common;

/// Case counts per Autobahn subcategory, from Autobahn's case list (case/__init__.py).
const SUBCATEGORIES: &[(&str, usize)] = &[
    ("1.1", 8),
    ("1.2", 8),
    ("2", 11),
    ("3", 7),
    ("4.1", 5),
    ("4.2", 5),
    ("5", 20),
    ("6.1", 3),
    ("6.2", 4),
    ("6.3", 2),
    ("6.4", 4),
    ("6.5", 5),
    ("6.6", 11),
    ("6.7", 4),
    ("6.8", 2),
    ("6.9", 4),
    ("6.10", 3),
    ("6.11", 5),
    ("6.12", 8),
    ("6.13", 5),
    ("6.14", 10),
    ("6.15", 1),
    ("6.16", 3),
    ("6.17", 5),
    ("6.18", 5),
    ("6.19", 5),
    ("6.20", 7),
    ("6.21", 8),
    ("6.22", 34),
    ("6.23", 7),
    ("7.1", 6),
    ("7.3", 6),
    ("7.5", 1),
    ("7.7", 13),
    ("7.9", 9),
    ("7.13", 2),
    ("9.1", 6),
    ("9.2", 6),
    ("9.3", 9),
    ("9.4", 9),
    ("9.5", 6),
    ("9.6", 6),
    ("9.7", 6),
    ("9.8", 6),
    ("10.1", 1),
    // permessage-deflate: 5 corpora (12.x) and 7 offer sets on JSON (13.x), 18 message sizes each
    ("12.1", 18),
    ("12.2", 18),
    ("12.3", 18),
    ("12.4", 18),
    ("12.5", 18),
    ("13.1", 18),
    ("13.2", 18),
    ("13.3", 18),
    ("13.4", 18),
    ("13.5", 18),
    ("13.6", 18),
    ("13.7", 18),
];

/// Every expected id: a subcategory with n cases has ids `sub.1` … `sub.n`, except the
/// two-level categories 2, 3 and 5, whose ids are `2.1` … `2.11`.
fn expected_ids() -> Vec<String> {
    let mut ids = Vec::new();
    for (sub, n) in SUBCATEGORIES {
        for i in 1..=*n {
            ids.push(format!("{sub}.{i}"));
        }
    }
    ids
}

/// The Autobahn ids of the built-in cases that judge `peer`, with the cases carrying each.
fn ids_for(peer: PeerKind) -> BTreeMap<String, Vec<String>> {
    let suites = suite::load(&suite::embedded()).expect("built-in suites load");
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in suites.iter().flat_map(|s| &s.cases) {
        if let Some(a) = &case.autobahn
            && case.peers.contains(&peer)
        {
            seen.entry(a.clone()).or_default().push(case.id.clone());
        }
    }
    seen
}

/// Against clients (Autobahn's fuzzing server), every category is complete too, 12.x and 13.x
/// included (wsprobe accepts the client's permessage-deflate offer): every id once among the
/// cases that judge clients (a case whose bytes only suit one role has a twin for the other
/// with the same id).
#[test]
fn client_role_has_every_autobahn_id_once() {
    let seen = ids_for(PeerKind::Client);
    let duplicates: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "autobahn ids used twice for clients: {duplicates:?}"
    );
    let expected: Vec<String> = expected_ids();
    assert_eq!(expected.len(), 517);
    let got: Vec<&String> = seen.keys().collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "client role lacks {missing:?}");
    assert_eq!(got.len(), expected.len(), "extra ids: {got:?}");
}

#[test]
fn autobahn_ids_are_exactly_the_517_of_the_current_release() {
    let seen = ids_for(PeerKind::Server);
    let duplicates: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "autobahn ids used twice: {duplicates:?}"
    );
    let expected = expected_ids();
    assert_eq!(expected.len(), 517);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    let extra: Vec<&String> = seen.keys().filter(|id| !expected.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "autobahn ids without a case: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "ids that are not Autobahn cases: {extra:?}"
    );
    let per_category = |c: &str| {
        seen.keys()
            .filter(|id| id.split('.').next() == Some(c))
            .count()
    };
    for (category, n) in [
        ("1", 16),
        ("2", 11),
        ("3", 7),
        ("4", 10),
        ("5", 20),
        ("6", 145),
        ("7", 37),
        ("9", 54),
        ("10", 1),
        ("12", 90),
        ("13", 126),
    ] {
        assert_eq!(per_category(category), n, "category {category}");
    }
}

/// The Autobahn ids of categories 12 and 13 in Autobahn's order (12.1.1 … 12.5.18, 13.1.1 …
/// 13.7.18).
fn compression_ids() -> Vec<String> {
    let mut ids = Vec::new();
    for (category, subs) in [(12, 5), (13, 7)] {
        for sub in 1..=subs {
            for case in 1..=18 {
                ids.push(format!("{category}.{sub}.{case}"));
            }
        }
    }
    ids
}

#[test]
fn wsprobe_list_case_12_13_shows_exactly_the_216_compression_ids_in_autobahn_order() {
    let out = common::wsprobe(
        &[
            "list", "--case", "12.*", "--case", "13.*", "--format", "json",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, 0, "wsprobe list failed: {}", out.stderr);
    let mut listed = Vec::new();
    for line in out.stdout.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        let a = row["autobahn"]
            .as_str()
            .expect("every selected case has an Autobahn id");
        listed.push(a.to_string());
    }
    let expected = compression_ids();
    assert_eq!(expected.len(), 216);
    assert_eq!(listed, expected, "12.x/13.x ids as listed");
}

/// Autobahn's (message length, case timer in seconds, auto-fragment size) for cases x.y.1–18
/// (MSG_SIZES of case12_x_x.py; every case sends 1000 messages).
const MSG_SIZES: [(usize, u64, Option<usize>); 18] = [
    (16, 60, None),
    (64, 60, None),
    (256, 120, None),
    (1024, 240, None),
    (4096, 480, None),
    (8192, 480, None),
    (16384, 480, None),
    (32768, 480, None),
    (65536, 480, None),
    (131072, 480, None),
    (8192, 480, Some(256)),
    (16384, 480, Some(256)),
    (32768, 480, Some(256)),
    (65536, 480, Some(256)),
    (131072, 480, Some(256)),
    (131072, 480, Some(1024)),
    (131072, 480, Some(4096)),
    (131072, 480, Some(32768)),
];

#[test]
fn every_compression_case_has_autobahns_offer_corpus_sizes_and_judgement() {
    use wsprobe::suite::corpus::Corpus;
    use wsprobe::suite::model::StepKind;

    const DEFAULT: &str = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
    let suites = suite::load(&suite::embedded()).expect("built-in suites load");
    let mut checked = 0;
    for case in suites.iter().flat_map(|s| &s.cases) {
        let Some(id) = case.autobahn.as_deref() else {
            continue;
        };
        let parts: Vec<usize> = id.split('.').filter_map(|p| p.parse().ok()).collect();
        let [category @ (12 | 13), sub, n] = parts[..] else {
            continue;
        };
        let (corpus, offers): (Corpus, Vec<String>) = if category == 12 {
            (Corpus::ALL[sub - 1], vec![DEFAULT.to_string()])
        } else {
            let one = |extra: &str| format!("{DEFAULT}{extra}");
            let offers = match sub {
                1 => vec![one("")],
                2 => vec![one("; server_no_context_takeover")],
                3 => vec![one("; server_max_window_bits=9")],
                4 => vec![one("; server_max_window_bits=15")],
                5 => vec![one(
                    "; server_no_context_takeover; server_max_window_bits=9",
                )],
                6 => vec![one(
                    "; server_no_context_takeover; server_max_window_bits=15",
                )],
                _ => vec![
                    one("; server_no_context_takeover; server_max_window_bits=9"),
                    one("; server_no_context_takeover"),
                    one(""),
                ],
            };
            (Corpus::Json, offers)
        };
        let (len, timer, fragment) = MSG_SIZES[n - 1];
        let [connect, echo] = &case.steps[..] else {
            panic!("{id}: expected connect and echo, got {:?}", case.steps);
        };
        let StepKind::Connect(connect) = &connect.kind else {
            panic!("{id}: first step is not connect");
        };
        assert_eq!(connect.extensions.as_ref(), Some(&offers), "{id}: offers");
        assert_eq!(
            connect.expect.requires_extension.as_deref(),
            Some("permessage-deflate"),
            "{id}: a declining server must be UNIMPLEMENTED"
        );
        let StepKind::Echo(echo) = &echo.kind else {
            panic!("{id}: second step is not echo");
        };
        assert_eq!(echo.corpus, corpus, "{id}: corpus");
        assert_eq!(echo.len, len, "{id}: message length");
        assert_eq!(echo.count, 1000, "{id}: message count");
        assert_eq!(echo.fragment_size, fragment, "{id}: auto-fragment size");
        assert_eq!(
            echo.timeout,
            Some(Duration::from_secs(timer)),
            "{id}: case timer"
        );
        assert_eq!(
            case.closing.initiator,
            suite::model::Initiator::Client,
            "{id}"
        );
        assert!(case.closing.clean, "{id}: clean close required");
        assert_eq!(case.closing.codes, vec![1000], "{id}: close code");
        checked += 1;
    }
    assert_eq!(checked, 216);
}
