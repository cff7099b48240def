//! Whether a client's masking keys and handshake nonces are unpredictable, judged once over
//! every frame and connection of a run (RFC 6455 §5.3: "the masking key MUST NOT be
//! predictable" and derived from "a strong source of entropy"; §10.3; §4.1: the nonce is
//! "randomly selected" for each connection).
//!
//! No finite sample proves randomness, so the checks look for what real defects produce and
//! what 32 random bits almost never do: one key for everything, repeats far beyond the birthday
//! bound, keys that follow a counter or a fixed step, a bit position stuck or heavily biased.
//! Each threshold is set so that a good source fails with a probability below one in a
//! million per run, which keeps the verdict from flipping between runs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::result::{CaseResult, Failure, Verdict};
use crate::suite::model::Location;
use crate::wire::{Level, Violation, ViolationKind};

/// The id of the run-level result.
pub const CASE_ID: &str = "client.masking.unpredictable";

/// Keys needed before bit bias is judged.
const BIAS_MIN_KEYS: usize = 256;
/// A bit position whose count of ones is this many standard deviations from half fails
/// (p ≈ 2·10⁻⁹ per position for random keys).
const BIAS_SIGMAS: f64 = 6.0;

/// What is wrong with `keys` (in sending order), if anything.
pub fn mask_findings(keys: &[[u8; 4]]) -> Vec<String> {
    let mut found = Vec::new();
    let n = keys.len();
    if n < 2 {
        return found;
    }
    let values: Vec<u32> = keys.iter().map(|k| u32::from_be_bytes(*k)).collect();
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for v in &values {
        *counts.entry(*v).or_default() += 1;
    }
    let distinct = counts.len();
    if distinct == 1 {
        found.push(format!(
            "all {n} frames used the same mask key {:08x}",
            values[0]
        ));
        return found;
    }
    // Birthday bound: n random 32-bit keys repeat about n²/2³³ times.
    let repeats = n - distinct;
    let expected = (n as f64) * (n as f64) / 2f64.powi(33);
    if repeats as f64 > (10.0 * expected).max(3.0) {
        let (worst, times) = counts
            .iter()
            .max_by_key(|(v, c)| (**c, std::cmp::Reverse(**v)))
            .map(|(v, c)| (*v, *c))
            .unwrap_or_default();
        found.push(format!(
            "{repeats} of {n} mask keys repeat an earlier key (random keys would repeat about {expected:.2} times); {worst:08x} was used {times} times"
        ));
    }
    if n >= 4 {
        let steps: Vec<u32> = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
        let same = steps.windows(2).filter(|w| w[0] == w[1]).count();
        if same * 2 >= steps.len() - 1 {
            found.push(format!(
                "mask keys follow a fixed step: {same} of {} consecutive differences repeat the previous one (e.g. +{:#x})",
                steps.len() - 1,
                steps[0]
            ));
        }
    }
    if n >= BIAS_MIN_KEYS {
        let sd = (n as f64 / 4.0).sqrt();
        for bit in 0..32 {
            let ones = values.iter().filter(|v| *v >> (31 - bit) & 1 == 1).count();
            let z = (ones as f64 - n as f64 / 2.0).abs() / sd;
            if z > BIAS_SIGMAS {
                found.push(format!(
                    "bit {bit} of the mask key is set in {ones} of {n} keys ({z:.1} standard deviations from random)"
                ));
                break;
            }
        }
    }
    found
}

/// What is wrong with the handshake nonces, if anything.
pub fn nonce_findings(nonces: &[String]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for n in nonces {
        *seen.entry(n.as_str()).or_default() += 1;
    }
    match seen.iter().max_by_key(|(k, c)| (**c, std::cmp::Reverse(**k))) {
        // 16 random bytes never repeat in practice.
        Some((nonce, times)) if *times > 1 => vec![format!(
            "the Sec-WebSocket-Key {nonce} was sent on {times} of {} connections",
            nonces.len()
        )],
        _ => Vec::new(),
    }
}

/// The run-level result for one client.
pub fn judge(keys: &[[u8; 4]], nonces: &[String]) -> CaseResult {
    let mut violations: Vec<Violation> = mask_findings(keys)
        .into_iter()
        .map(|d| Violation::new(ViolationKind::PredictableMask, d))
        .collect();
    violations.extend(
        nonce_findings(nonces)
            .into_iter()
            .map(|d| Violation::new(ViolationKind::RepeatedNonce, d)),
    );
    let location = Location {
        file: Arc::new(PathBuf::from("(run-level check)")),
        line: 1,
        column: 1,
    };
    let failure = (!violations.is_empty()).then(|| Failure {
        summary: "the client's masking keys or nonces are predictable".into(),
        location: location.clone(),
        expected: vec![format!(
            "unpredictable mask keys and nonces over the run ({} frames, {} connections)",
            keys.len(),
            nonces.len()
        )],
        observed: violations
            .iter()
            .map(|v| v.detail.clone())
            .collect::<Vec<_>>()
            .join("; "),
    });
    CaseResult {
        id: CASE_ID.into(),
        suite: "client-masking".into(),
        title: "mask keys and handshake nonces are unpredictable across the run".into(),
        spec: "RFC 6455 §5.3, §10.3, §4.1".into(),
        level: Level::Must,
        autobahn: None,
        location,
        verdict: if violations.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        duration: Duration::ZERO,
        failure,
        violations,
        close: None,
        perf: None,
        traces: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stand-in for a good source (splitmix64).
    fn random_keys(n: usize, seed: u64) -> Vec<[u8; 4]> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                ((z ^ (z >> 31)) as u32).to_be_bytes()
            })
            .collect()
    }

    #[test]
    fn random_keys_pass() {
        for seed in 0..20 {
            assert_eq!(mask_findings(&random_keys(5000, seed)), Vec::<String>::new());
        }
    }

    #[test]
    fn a_constant_key_fails() {
        let keys = vec![[1, 2, 3, 4]; 10];
        assert!(mask_findings(&keys)[0].contains("same mask key"));
    }

    #[test]
    fn a_counter_fails() {
        let keys: Vec<[u8; 4]> = (0u32..50).map(|i| i.to_be_bytes()).collect();
        assert!(mask_findings(&keys).iter().any(|f| f.contains("fixed step")));
    }

    #[test]
    fn a_small_pool_of_keys_fails() {
        let keys: Vec<[u8; 4]> = (0..400u32).map(|i| (i % 7 * 0x1357_9bdf).to_be_bytes()).collect();
        assert!(mask_findings(&keys).iter().any(|f| f.contains("repeat")));
    }

    #[test]
    fn a_stuck_bit_fails() {
        let keys: Vec<[u8; 4]> = random_keys(1000, 7)
            .into_iter()
            .map(|k| (u32::from_be_bytes(k) & 0x7fff_ffff).to_be_bytes())
            .collect();
        assert!(mask_findings(&keys).iter().any(|f| f.contains("bit 0")));
    }

    #[test]
    fn repeated_nonces_fail_and_distinct_pass() {
        let distinct: Vec<String> = (0..5).map(|i| format!("key{i}")).collect();
        assert!(nonce_findings(&distinct).is_empty());
        let same = vec!["dGhlIHNhbXBsZSBub25jZQ==".to_string(); 3];
        assert_eq!(judge(&[], &same).verdict, Verdict::Fail);
        assert_eq!(judge(&random_keys(100, 1), &distinct).verdict, Verdict::Pass);
    }
}
