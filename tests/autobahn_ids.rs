//! The built-in suites cover Autobahn|Testsuite categories 1–10 case for case: the set of
//! `autobahn:` ids is exactly the 301 ids of the current Autobahn release outside compression
//! (1.x 16, 2.x 11, 3.x 7, 4.x 10, 5.x 20, 6.x 145, 7.x 37, 9.x 54, 10.x 1), each once.

use std::collections::BTreeMap;

use wsprobe::suite;

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

#[test]
fn autobahn_ids_are_exactly_the_301_of_categories_1_to_10() {
    let suites = suite::load(&suite::embedded()).expect("built-in suites load");
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in suites.iter().flat_map(|s| &s.cases) {
        if let Some(a) = &case.autobahn {
            seen.entry(a.clone()).or_default().push(case.id.clone());
        }
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "autobahn ids used twice: {duplicates:?}"
    );
    let expected = expected_ids();
    assert_eq!(expected.len(), 301);
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
        "ids that are not Autobahn 1–10 cases: {extra:?}"
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
    ] {
        assert_eq!(per_category(category), n, "category {category}");
    }
}
