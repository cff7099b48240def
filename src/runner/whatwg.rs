//! What the WHATWG WebSockets Standard requires of a browser's `WebSocket` object, checked
//! against the events a page recorded while wsprobe, as the server, ran a case on the wire.
//!
//! The page (`/browser`) reports, per case, every `open`, `message`, `error` and `close`
//! event with the `readyState` read inside the handler (and `code`, `reason`, `wasClean` for
//! `close`). The checks tie those events to the wire: who closed, with which code, whether the
//! browser failed the connection.

use serde::Deserialize;

use super::result::{CaseResult, Closer, Failure, Verdict};
use crate::wire::{Violation, ViolationKind};

/// One API event as the page recorded it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ApiEvent {
    /// `open`, `message`, `error`, `close` or `exception` (a `send` that threw).
    #[serde(rename = "type")]
    pub kind: String,
    /// `readyState` inside the handler.
    #[serde(rename = "readyState", default)]
    pub ready_state: Option<u8>,
    /// `close`: the code.
    #[serde(default)]
    pub code: Option<u16>,
    /// `close`: the reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// `close`: wasClean.
    #[serde(rename = "wasClean", default)]
    pub was_clean: Option<bool>,
    /// `message`: `text` or `binary`.
    #[serde(rename = "kind", default)]
    pub data_kind: Option<String>,
    /// `message`: bytes (text: its UTF-8 length).
    #[serde(default)]
    pub length: Option<u64>,
    /// `exception`: the exception's name.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct Report {
    events: Vec<ApiEvent>,
}

/// Reads the page's report (`{"case": N, "events": [...]}`); `None` when malformed.
pub fn parse_report(data: &[u8]) -> Option<Vec<ApiEvent>> {
    serde_json::from_slice::<Report>(data)
        .ok()
        .map(|r| r.events)
}

/// What the events break, given how the case went on the wire.
pub fn findings(result: &CaseResult, events: &[ApiEvent]) -> Vec<String> {
    let mut found = Vec::new();
    let api: Vec<&ApiEvent> = events.iter().filter(|e| e.kind != "exception").collect();
    let closes: Vec<usize> = (0..api.len()).filter(|&i| api[i].kind == "close").collect();
    let Some(&last) = closes.last() else {
        found.push("no close event was fired".into());
        return found;
    };
    if closes.len() > 1 {
        found.push(format!("{} close events were fired", closes.len()));
    }
    if last + 1 != api.len() {
        found.push(format!(
            "a {} event came after the close event",
            api[last + 1].kind
        ));
    }
    let close = api[last];
    if close.ready_state != Some(3) {
        found.push(format!(
            "readyState was {:?} in the close event, not 3 (CLOSED)",
            close.ready_state
        ));
    }
    let opens = api.iter().filter(|e| e.kind == "open").count();
    if opens > 1 {
        found.push(format!("{opens} open events were fired"));
    }
    if opens == 1 && api[0].kind != "open" {
        found.push(format!("the first event was {}, not open", api[0].kind));
    }
    for e in &api {
        match e.kind.as_str() {
            "open" | "message" if e.ready_state != Some(1) => found.push(format!(
                "readyState was {:?} in a {} event, not 1 (OPEN)",
                e.ready_state, e.kind
            )),
            _ => {}
        }
    }
    if opens == 0 && api.iter().any(|e| e.kind == "message") {
        found.push("a message event was fired without an open event".into());
    }
    let errors: Vec<usize> = (0..api.len()).filter(|&i| api[i].kind == "error").collect();
    if let Some(&e) = errors.last()
        && e + 1 != last
    {
        found.push("an error event was not followed by the close event".into());
    }
    if !errors.is_empty() && close.was_clean == Some(true) {
        found.push("an error event was fired but the close event says wasClean: true".into());
    }
    let code = close.code.unwrap_or(0);
    let clean = close.was_clean.unwrap_or(false);
    if opens == 0 {
        // The handshake was refused: "fail the WebSocket connection" (code 1006).
        if clean || code != 1006 {
            found.push(format!(
                "the connection never opened, but the close event has code {code}, wasClean {clean} (expected 1006, false)"
            ));
        }
        if errors.is_empty() {
            found.push("the connection never opened, but no error event was fired".into());
        }
        return found;
    }
    if let Some(c) = &result.close {
        // The browser failed the connection when its close frame says so, whoever closed
        // first (it may be answering a close frame wsprobe made invalid on purpose).
        // An echo of wsprobe's own code is the closing handshake, not a failure.
        let browser_failed = matches!(c.remote_code, Some(1002 | 1007 | 1009 | 1010 | 1011))
            && c.remote_code != c.local_code
            || !result.violations.is_empty();
        if browser_failed {
            if clean || code != 1006 || errors.is_empty() {
                found.push(format!(
                    "the browser failed the connection, but the API reported code {code}, wasClean {clean}{} (expected an error event, then close 1006, false)",
                    if errors.is_empty() { ", no error event" } else { "" }
                ));
            }
        } else if matches!(c.initiator, Some(Closer::Client)) && c.clean {
            let want = c.local_code.unwrap_or(1005);
            if !clean || code != want {
                found.push(format!(
                    "wsprobe closed with {want} and the closing handshake completed, but the close event has code {code}, wasClean {clean}"
                ));
            }
        }
    }
    found
}

/// Adds the browser's API findings to a case result (failing it when there are any).
pub fn judge(result: &mut CaseResult, events: &[ApiEvent]) {
    let found = findings(result, events);
    if found.is_empty() {
        return;
    }
    let violations: Vec<Violation> = found
        .iter()
        .map(|d| Violation::new(ViolationKind::BrowserApi, d.clone()))
        .collect();
    if result.failure.is_none() {
        result.failure = Some(Failure {
            summary: "the WebSocket API events break the WHATWG standard".into(),
            location: result.location.clone(),
            expected: vec!["events as the WHATWG WebSockets Standard specifies".into()],
            observed: found.join("; "),
        });
    }
    result.violations.extend(violations);
    // An INFORMATIONAL case records behaviour the RFC leaves open; its API events are
    // reported with it, never turned into a failure.
    if matches!(result.verdict, Verdict::Pass | Verdict::NonStrict) {
        result.verdict = Verdict::Fail;
    }
}
