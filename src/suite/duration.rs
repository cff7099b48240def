//! Durations as written in suites and on the command line: `250ms`, `1s`, `1.5s`, `2m`.

use std::time::Duration;

/// Why a duration could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// No unit, or an unknown one.
    #[error("duration '{0}' needs a unit: ms, s or m (e.g. 500ms, 1.5s)")]
    Unit(String),
    /// The number part is not a non-negative decimal.
    #[error("duration '{0}' is not a non-negative number followed by ms, s or m")]
    Number(String),
    /// Over an hour: surely a typo in a conformance suite.
    #[error("duration '{0}' is longer than the 1h maximum")]
    TooLong(String),
}

/// Parses `N ms`, `N s` or `N m` (N a decimal number, no sign). Whitespace around is ignored.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let (number, scale_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        return Err(DurationError::Unit(text.to_string()));
    };
    let number = number.trim();
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(DurationError::Number(text.to_string()));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| DurationError::Number(text.to_string()))?;
    let ms = value * scale_ms;
    if ms > 3_600_000.0 {
        return Err(DurationError::TooLong(text.to_string()));
    }
    Ok(Duration::from_micros((ms * 1000.0).round() as u64))
}

/// Renders a duration the way [`parse_duration`] reads it (`500ms`, `2s`, `1.5s`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        let ok = [
            ("0ms", 0),
            ("500ms", 500),
            ("1s", 1000),
            ("1.5s", 1500),
            (" 2m ", 120_000),
            ("0.25s", 250),
        ];
        for (text, ms) in ok {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(parse_duration("10"), Err(DurationError::Unit(_))));
        assert!(matches!(parse_duration("1h"), Err(DurationError::Unit(_))));
        assert!(matches!(
            parse_duration("-1s"),
            Err(DurationError::Number(_))
        ));
        assert!(matches!(parse_duration("s"), Err(DurationError::Number(_))));
        assert!(matches!(
            parse_duration("1..2s"),
            Err(DurationError::Number(_))
        ));
        assert!(matches!(parse_duration("2h"), Err(DurationError::Unit(_))));
        assert!(matches!(
            parse_duration("61m"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn format_round_trips() {
        for ms in [0u64, 5, 999, 1000, 1500, 60_000] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
