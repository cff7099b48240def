//! One memory budget for a whole run: everything wsprobe keeps of what servers send (decoder
//! buffers, partial and complete messages, kept frames, pings, trace events) counts against
//! `--max-memory`, across all the cases in flight at once.
//!
//! RFC 6455 §10.4 lets an implementation limit what it accepts; wsprobe keeps everything a case
//! received for matching, so without a bound shared by the whole run the per-connection limits
//! multiply by `--jobs`. The budget is divided so that a greedy server can only ever fail its
//! own case, never an innocent one:
//!
//! - every case in flight may keep up to its **share** (`limit / (2 × jobs)`) without asking
//!   anyone;
//! - one case at a time, the **senior**, may keep more, up to the **case cap**
//!   (`limit − (jobs − 1) × share`, more than half the budget). Cases that need more than their
//!   share while another is senior wait in arrival order: their connections stop reading (TCP
//!   pushes back on the server) until the senior has given its memory back;
//! - a case that would need more than the cap is failed at once (its server sent more than
//!   one case may keep: a finding about that server). The cap depends only on `--max-memory`
//!   and `--jobs`, not on what other cases do, so the same server gets the same verdict
//!   whatever runs beside it.
//!
//! With at most `jobs` cases in flight, `(jobs − 1) × share + cap = limit`: the sum of all grants
//! never exceeds the limit. A case that waits is never failed for it; it can only run out of
//! its own time while a senior holds memory, and a senior holds it at most until its case ends.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Default `--max-memory`: 64 MiB.
pub const DEFAULT_MAX_MEMORY: u64 = 64 * 1024 * 1024;
/// Smallest `--max-memory` accepted: below this even the handshake-sized reads of a few cases
/// would not fit.
pub const MIN_MAX_MEMORY: u64 = 1024 * 1024;
/// A case queued for seniority that has not asked again for this long has stopped waiting
/// (its step ended); it loses its place so it cannot block the cases behind it.
const STALE: Duration = Duration::from_millis(250);
/// How often a waiting connection looks again even without a release (a stale queue entry
/// expires without anybody releasing memory).
pub const RETRY: Duration = Duration::from_millis(100);

/// The run's budget. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Budget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: u64,
    share: u64,
    cap: u64,
    state: Mutex<State>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct State {
    used: u64,
    peak: u64,
    next_case: u64,
    held: HashMap<u64, u64>,
    senior: Option<u64>,
    queue: VecDeque<(u64, Instant)>,
}

/// What asking for memory gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// The memory is granted.
    Granted,
    /// Not now: other cases hold it. Stop reading and ask again after [`Budget::changed`] or
    /// [`RETRY`].
    Wait,
    /// More than one case may ever keep ([`Budget::cap`]): a finding about the server.
    Exceeded,
}

impl Budget {
    /// A budget of `limit` bytes for a run with at most `jobs` cases in flight. With more cases
    /// in flight than `jobs` the limit still holds, but a case may then wait even within its
    /// share.
    pub fn new(limit: u64, jobs: usize) -> Budget {
        let jobs = jobs.max(1) as u64;
        let share = limit / (2 * jobs);
        let cap = limit - (jobs - 1) * share;
        Budget {
            inner: Arc::new(Inner {
                limit,
                share,
                cap,
                state: Mutex::new(State::default()),
                notify: Notify::new(),
            }),
        }
    }

    /// The whole budget in bytes (`--max-memory`).
    pub fn limit(&self) -> u64 {
        self.inner.limit
    }

    /// What a case may keep without waiting.
    pub fn share(&self) -> u64 {
        self.inner.share
    }

    /// The most one case may keep (as senior).
    pub fn cap(&self) -> u64 {
        self.inner.cap
    }

    /// Bytes granted right now, over all cases.
    pub fn used(&self) -> u64 {
        self.inner.lock().used
    }

    /// The most ever granted at once.
    pub fn peak(&self) -> u64 {
        self.inner.lock().peak
    }

    /// An account for one case; its connections take [`Lease`]s from it.
    pub fn case(&self) -> CaseMemory {
        let id = {
            let mut s = self.inner.lock();
            s.next_case += 1;
            let id = s.next_case;
            s.held.insert(id, 0);
            id
        };
        CaseMemory {
            inner: Arc::new(CaseInner {
                budget: Arc::clone(&self.inner),
                id,
            }),
        }
    }

    /// Resolves when memory is given back. Create it *before* asking, so a release between
    /// the refusal and the wait is not missed ([`Notify::notify_waiters`] counts from creation).
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.notify.notified()
    }
}

impl Default for Budget {
    /// The default budget for the default number of jobs.
    fn default() -> Self {
        Budget::new(DEFAULT_MAX_MEMORY, super::default_jobs())
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated without panicking code in between; a poisoned
        // lock still holds consistent numbers.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One case's account. Cloning shares it; the case's memory is given back (and its place as
/// senior or in the queue) when the last clone and the last lease are gone.
#[derive(Clone, Debug)]
pub struct CaseMemory {
    inner: Arc<CaseInner>,
}

#[derive(Debug)]
struct CaseInner {
    budget: Arc<Inner>,
    id: u64,
}

impl Drop for CaseInner {
    fn drop(&mut self) {
        let mut s = self.budget.lock();
        if let Some(held) = s.held.remove(&self.id) {
            s.used = s.used.saturating_sub(held);
        }
        s.queue.retain(|(id, _)| *id != self.id);
        if s.senior == Some(self.id) {
            s.senior = None;
        }
        drop(s);
        self.budget.notify.notify_waiters();
    }
}

impl CaseMemory {
    /// The run's budget this account draws from.
    pub fn budget(&self) -> Budget {
        Budget {
            inner: Arc::clone(&self.inner.budget),
        }
    }

    /// Bytes this case holds now, over all its connections.
    pub fn held(&self) -> u64 {
        let s = self.inner.budget.lock();
        s.held.get(&self.inner.id).copied().unwrap_or(0)
    }
}

/// What one connection holds of its case's account; given back when dropped.
#[derive(Debug)]
pub struct Lease {
    case: CaseMemory,
    granted: u64,
}

impl Lease {
    /// An empty lease on `case`.
    pub fn new(case: &CaseMemory) -> Lease {
        Lease {
            case: case.clone(),
            granted: 0,
        }
    }

    /// Bytes this lease holds.
    pub fn granted(&self) -> u64 {
        self.granted
    }

    /// The run's budget.
    pub fn budget(&self) -> Budget {
        self.case.budget()
    }

    /// Makes the lease at least `want` bytes, if the rules above allow it now.
    pub fn grow_to(&mut self, want: u64) -> Grant {
        if want <= self.granted {
            return Grant::Granted;
        }
        let bytes = want - self.granted;
        let inner = &self.case.inner;
        let b = &inner.budget;
        let id = inner.id;
        let mut s = b.lock();
        let held = s.held.get(&id).copied().unwrap_or(0);
        let new_held = held.saturating_add(bytes);
        if new_held > b.cap {
            return Grant::Exceeded;
        }
        let fits = s.used.saturating_add(bytes) <= b.limit;
        if new_held > b.share && s.senior != Some(id) {
            let now = Instant::now();
            if s.senior.is_none() {
                while s
                    .queue
                    .front()
                    .is_some_and(|&(q, asked)| q != id && now.duration_since(asked) > STALE)
                {
                    s.queue.pop_front();
                }
                if s.queue.front().is_none_or(|&(q, _)| q == id) {
                    s.queue.retain(|&(q, _)| q != id);
                    s.senior = Some(id);
                }
            }
            if s.senior != Some(id) {
                match s.queue.iter_mut().find(|(q, _)| *q == id) {
                    Some(entry) => entry.1 = now,
                    None => s.queue.push_back((id, now)),
                }
                return Grant::Wait;
            }
        }
        if !fits {
            return Grant::Wait;
        }
        s.used += bytes;
        s.peak = s.peak.max(s.used);
        s.held.insert(id, new_held);
        self.granted = want;
        Grant::Granted
    }

    /// Gives back what the lease holds beyond `keep` bytes.
    pub fn shrink_to(&mut self, keep: u64) {
        if keep >= self.granted {
            return;
        }
        let bytes = self.granted - keep;
        self.granted = keep;
        let inner = &self.case.inner;
        let b = &inner.budget;
        let mut s = b.lock();
        s.used = s.used.saturating_sub(bytes);
        let held = s
            .held
            .get(&inner.id)
            .copied()
            .unwrap_or(0)
            .saturating_sub(bytes);
        s.held.insert(inner.id, held);
        if s.senior == Some(inner.id) && held <= b.share {
            s.senior = None;
        }
        drop(s);
        b.notify.notify_waiters();
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.shrink_to(0);
    }
}

/// Parses a byte size: a number, optionally followed by `KiB`, `MiB` or `GiB` (or `K`, `M`,
/// `G`, all powers of 1024), e.g. `67108864`, `64MiB`, `1G`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size: write bytes, or a number with KiB, MiB or GiB"
            ));
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| {
            format!("`{text}` is not a size: write bytes, or a number with KiB, MiB or GiB")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn shares_and_cap_add_up_to_the_limit() {
        for jobs in [1, 2, 8, 32] {
            let b = Budget::new(64 * MIB, jobs);
            assert_eq!(b.cap() + (jobs as u64 - 1) * b.share(), 64 * MIB, "{jobs}");
            assert!(b.cap() > 32 * MIB, "{jobs}");
        }
        let b = Budget::new(64 * MIB, 8);
        assert_eq!((b.share(), b.cap()), (4 * MIB, 36 * MIB));
    }

    #[test]
    fn a_case_within_its_share_never_waits() {
        let b = Budget::new(64 * MIB, 8);
        let cases: Vec<CaseMemory> = (0..8).map(|_| b.case()).collect();
        let mut leases: Vec<Lease> = cases.iter().map(Lease::new).collect();
        // One case is senior and holds its whole cap.
        assert_eq!(leases[0].grow_to(36 * MIB), Grant::Granted);
        for l in &mut leases[1..] {
            assert_eq!(l.grow_to(4 * MIB), Grant::Granted);
        }
        assert_eq!(b.used(), 64 * MIB);
    }

    #[test]
    fn one_senior_at_a_time_in_arrival_order() {
        let b = Budget::new(64 * MIB, 8);
        let (c1, c2, c3) = (b.case(), b.case(), b.case());
        let (mut l1, mut l2, mut l3) = (Lease::new(&c1), Lease::new(&c2), Lease::new(&c3));
        assert_eq!(l1.grow_to(20 * MIB), Grant::Granted);
        assert_eq!(l2.grow_to(20 * MIB), Grant::Wait);
        assert_eq!(l3.grow_to(20 * MIB), Grant::Wait);
        // Waiting costs nothing; within the share still works while queued.
        assert_eq!(l3.grow_to(2 * MIB), Grant::Granted);
        assert_eq!(l3.grow_to(20 * MIB), Grant::Wait);
        // The senior gives back; the first in the queue (c2) goes next, not c3.
        l1.shrink_to(MIB);
        assert_eq!(l3.grow_to(20 * MIB), Grant::Wait);
        assert_eq!(l2.grow_to(20 * MIB), Grant::Granted);
        drop(l2);
        drop(c2);
        assert_eq!(l3.grow_to(20 * MIB), Grant::Granted);
        assert_eq!(b.used(), MIB + 20 * MIB);
    }

    #[test]
    fn more_than_the_cap_is_exceeded_whatever_else_runs() {
        let b = Budget::new(64 * MIB, 8);
        let c = b.case();
        let mut l = Lease::new(&c);
        assert_eq!(l.grow_to(36 * MIB + 1), Grant::Exceeded);
        assert_eq!(l.grow_to(36 * MIB), Grant::Granted);
        // Two connections of one case share its account.
        let mut other = Lease::new(&c);
        assert_eq!(other.grow_to(1), Grant::Exceeded);
    }

    #[test]
    fn a_stale_queue_entry_does_not_block_the_others() {
        let b = Budget::new(64 * MIB, 8);
        let (c1, c2, c3) = (b.case(), b.case(), b.case());
        let (mut l1, mut l2, mut l3) = (Lease::new(&c1), Lease::new(&c2), Lease::new(&c3));
        assert_eq!(l1.grow_to(20 * MIB), Grant::Granted);
        assert_eq!(l2.grow_to(20 * MIB), Grant::Wait);
        assert_eq!(l3.grow_to(20 * MIB), Grant::Wait);
        drop(l1);
        // c2 stopped asking; once its entry is stale, c3 may go.
        std::thread::sleep(STALE + Duration::from_millis(50));
        assert_eq!(l3.grow_to(20 * MIB), Grant::Granted);
        assert_eq!(l2.grow_to(20 * MIB), Grant::Wait);
    }

    #[test]
    fn dropping_gives_everything_back() {
        let b = Budget::new(64 * MIB, 4);
        let c = b.case();
        let mut l = Lease::new(&c);
        assert_eq!(l.grow_to(10 * MIB), Grant::Granted);
        assert_eq!(c.held(), 10 * MIB);
        drop(l);
        assert_eq!((b.used(), c.held()), (0, 0));
        assert_eq!(b.peak(), 10 * MIB);
    }

    #[test]
    fn parses_sizes() {
        for (text, bytes) in [
            ("1048576", Some(MIB)),
            ("64MiB", Some(64 * MIB)),
            ("64 mib", Some(64 * MIB)),
            ("512K", Some(512 * 1024)),
            ("1G", Some(1024 * MIB)),
            ("1.5G", None),
            ("MiB", None),
            ("-1", None),
            ("99999999999999999999", None),
            ("18446744073709551615G", None),
        ] {
            assert_eq!(parse_size(text).ok(), bytes, "{text}");
        }
    }
}
