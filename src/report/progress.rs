//! The progress line drawn on stderr while a run is under way: `\r[ 42/301] running… 3 failed`,
//! redrawn in place after each case and wiped when the run ends (on drop), so the report that
//! follows starts on a clean line. Wiping overwrites with spaces instead of an ANSI erase, so
//! nothing but `\r` and text reaches the terminal when color is off.

use std::io::Write;

use super::text::{Style, paint, width};
use crate::runner::Progress;
use crate::runner::result::{CaseResult, Verdict};

/// A [`Progress`] that redraws one line on `out`.
pub struct LineProgress<W: Write + Send> {
    out: W,
    color: bool,
    failed: usize,
    /// Width of the text last drawn, to wipe it.
    drawn: usize,
}

impl<W: Write + Send> LineProgress<W> {
    /// A progress line on `out`, colored when `color`.
    pub fn new(out: W, color: bool) -> LineProgress<W> {
        LineProgress {
            out,
            color,
            failed: 0,
            drawn: 0,
        }
    }
}

/// The text of the line (without `\r`): `[ 42/301] running… 3 failed`.
pub fn line(done: usize, total: usize, failed: usize, color: bool) -> String {
    let digits = total.to_string().len();
    let mut text = format!("[{done:>digits$}/{total}] running…");
    if failed > 0 {
        text.push(' ');
        text.push_str(&paint(&format!("{failed} failed"), Style::RedBold, color));
    }
    text
}

impl<W: Write + Send> Progress for LineProgress<W> {
    fn finished(&mut self, result: &CaseResult, done: usize, total: usize) {
        if matches!(result.verdict, Verdict::Fail | Verdict::Error) {
            self.failed += 1;
        }
        let text = line(done, total, self.failed, self.color);
        let plain = width(&line(done, total, self.failed, false));
        // Pad over a longer previous line; the progress line is cosmetic, so a failed write
        // to stderr is ignored rather than aborting the run.
        let pad = " ".repeat(self.drawn.saturating_sub(plain));
        let _ = write!(self.out, "\r{text}{pad}");
        let _ = self.out.flush();
        self.drawn = plain;
    }
}

impl<W: Write + Send> Drop for LineProgress<W> {
    fn drop(&mut self) {
        if self.drawn > 0 {
            let _ = write!(self.out, "\r{}\r", " ".repeat(self.drawn));
            let _ = self.out.flush();
        }
    }
}
