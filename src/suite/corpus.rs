//! Generated message corpora for the compression cases (Autobahn 12.x/13.x): five kinds of
//! data as those cases use (JSON, a bitmap image, human-readable German text, HTML, a PDF-like
//! document), generated here deterministically from fixed seeds, so every run and every
//! machine sends the same bytes and no data file is shipped.
//!
//! The `echo` step sends consecutive `len`-byte windows of a corpus, wrapping at its end.
//! The text corpora are ASCII, so any window is valid UTF-8.

use std::sync::OnceLock;

/// Every corpus is exactly this long (512 KiB): a power of two, so for the power-of-two message
/// sizes of 12.x/13.x the windows repeat after `SIZE / len` messages, and a sender that
/// compresses without context takeover can reuse what it compressed before.
pub const SIZE: usize = 512 << 10;

/// One kind of generated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Corpus {
    /// JSON records (text).
    Json,
    /// A 512×1024 8-bit grayscale bitmap with a BMP header, cut at 512 KiB (binary).
    Bitmap,
    /// German prose (ASCII transliteration), sent as binary as Autobahn does.
    GermanText,
    /// An HTML document (text).
    Html,
    /// A PDF-like document: text objects and compressed-looking streams (binary).
    Pdf,
}

impl Corpus {
    /// Every corpus, in Autobahn's 12.x order (12.1 JSON … 12.5 PDF).
    pub const ALL: [Corpus; 5] = [
        Corpus::Json,
        Corpus::Bitmap,
        Corpus::GermanText,
        Corpus::Html,
        Corpus::Pdf,
    ];

    /// The name suites use (`corpus: json`).
    pub fn name(self) -> &'static str {
        match self {
            Corpus::Json => "json",
            Corpus::Bitmap => "bitmap",
            Corpus::GermanText => "german-text",
            Corpus::Html => "html",
            Corpus::Pdf => "pdf",
        }
    }

    /// Looks a corpus up by name.
    pub fn from_name(name: &str) -> Option<Corpus> {
        Corpus::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether messages of this corpus are sent as text (else binary).
    pub fn is_text(self) -> bool {
        matches!(self, Corpus::Json | Corpus::Html)
    }

    /// The corpus bytes (generated on first use).
    pub fn data(self) -> &'static [u8] {
        static CELLS: [OnceLock<Vec<u8>>; 5] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        let i = Corpus::ALL.iter().position(|&c| c == self).unwrap_or(0);
        CELLS[i].get_or_init(|| {
            let mut data = generate(self);
            data.truncate(SIZE);
            data
        })
    }

    /// Where message `index`'s window of `len` bytes starts.
    pub fn window_start(self, index: u64, len: usize) -> u64 {
        let size = self.data().len().max(1) as u128;
        ((index as u128 * len as u128) % size) as u64
    }

    /// Message `index`'s window of `len` bytes when every message takes the next `len` bytes,
    /// wrapping at the end of the corpus, written into `out` (cleared first).
    pub fn window(self, index: u64, len: usize, out: &mut Vec<u8>) {
        out.clear();
        let data = self.data();
        if data.is_empty() || len == 0 {
            return;
        }
        let mut at = self.window_start(index, len) as usize;
        while out.len() < len {
            let take = (len - out.len()).min(data.len() - at);
            out.extend_from_slice(&data[at..at + take]);
            at = 0;
        }
    }
}

/// A small deterministic generator (xorshift64*).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: [&str; 24] = [
    "und", "der", "die", "das", "ich", "nicht", "mit", "sich", "Geist", "Welt", "Herz", "Nacht",
    "Himmel", "Erde", "Leben", "Wissen", "Mephisto", "Faust", "Gretchen", "doch", "wohl", "nun",
    "so", "ein",
];

fn generate(corpus: Corpus) -> Vec<u8> {
    let mut g = Gen(0x5eed_0000 + corpus as u64 + 1);
    match corpus {
        Corpus::Json => {
            let mut s = String::from("[\n");
            let mut id = 0u64;
            while s.len() < 512 << 10 {
                id += 1;
                s.push_str(&format!(
                    "  {{\"id\": {id}, \"user\": \"{}{}\", \"active\": {}, \"score\": {}.{}, \"tags\": [\"{}\", \"{}\"]}},\n",
                    g.pick(&WORDS).to_lowercase(),
                    g.below(1000),
                    g.below(2) == 0,
                    g.below(100),
                    g.below(100),
                    g.pick(&WORDS).to_lowercase(),
                    g.pick(&WORDS).to_lowercase()
                ));
            }
            s.push_str("  {}\n]\n");
            s.into_bytes()
        }
        Corpus::Html => {
            let mut s =
                String::from("<!DOCTYPE html>\n<html><head><title>Corpus</title></head><body>\n");
            while s.len() < 512 << 10 {
                let tag = g.pick(&["p", "li", "td", "span", "div"]);
                s.push_str(&format!("<{tag} class=\"c{}\">", g.below(8)));
                for _ in 0..(4 + g.below(12)) {
                    s.push_str(g.pick(&WORDS));
                    s.push(' ');
                }
                s.push_str(&format!("</{tag}>\n"));
            }
            s.push_str("</body></html>\n");
            s.into_bytes()
        }
        Corpus::GermanText => {
            let mut s = String::new();
            while s.len() < SIZE {
                for _ in 0..(6 + g.below(10)) {
                    s.push_str(g.pick(&WORDS));
                    s.push(' ');
                }
                s.push_str(g.pick(&[".\n", ",\n", "!\n", "?\n"]));
            }
            s.into_bytes()
        }
        Corpus::Bitmap => {
            let (w, h) = (512u32, 1024u32);
            let mut out = Vec::with_capacity((w * h) as usize + 1078);
            out.extend_from_slice(b"BM");
            out.extend_from_slice(&(w * h + 1078).to_le_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(&1078u32.to_le_bytes());
            out.extend_from_slice(&40u32.to_le_bytes());
            out.extend_from_slice(&w.to_le_bytes());
            out.extend_from_slice(&h.to_le_bytes());
            out.extend_from_slice(&1u16.to_le_bytes());
            out.extend_from_slice(&8u16.to_le_bytes());
            out.extend_from_slice(&[0; 24]);
            for i in 0..=255u8 {
                out.extend_from_slice(&[i, i, i, 0]);
            }
            // A photograph-like picture: shaded regions of 16×16 pixels with sensor noise on
            // a quarter of the pixels.
            for y in 0..h {
                for x in 0..w {
                    let base = ((x / 16) * 7 + (y / 16) * 13 + (x + y) / 64) % 220;
                    let noise = if g.below(4) == 0 { g.below(3) } else { 0 };
                    out.push((u64::from(base) + noise) as u8);
                }
            }
            out
        }
        Corpus::Pdf => {
            let mut out = b"%PDF-1.4\n".to_vec();
            let mut obj = 1;
            while out.len() < 1 << 20 {
                out.extend_from_slice(
                    format!("{obj} 0 obj\n<< /Length 4096 /Filter /FlateDecode >>\nstream\n")
                        .as_bytes(),
                );
                // Half of each stream is incompressible (an embedded image's compressed
                // bytes), half page content (drawing operators and text).
                for _ in 0..2048 {
                    out.push(g.next() as u8);
                }
                for _ in 0..64 {
                    out.extend_from_slice(
                        format!(
                            "{} {} Td ({}) Tj ",
                            g.below(600),
                            g.below(800),
                            g.pick(&WORDS)
                        )
                        .as_bytes(),
                    );
                }
                out.extend_from_slice(b"\nendstream\nendobj\n");
                obj += 1;
            }
            out.extend_from_slice(b"%%EOF\n");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpora_are_deterministic_and_text_corpora_are_ascii() {
        for c in Corpus::ALL {
            assert_eq!(&generate(c)[..SIZE], c.data(), "{}", c.name());
            assert_eq!(c.data().len(), SIZE, "{}", c.name());
            if c.is_text() {
                assert!(c.data().is_ascii(), "{}", c.name());
            }
            assert_eq!(Corpus::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn windows_wrap_at_the_end() {
        let data = Corpus::Json.data();
        let mut w = Vec::new();
        let len = data.len() / 2 + 1;
        Corpus::Json.window(1, len, &mut w);
        assert_eq!(w.len(), len);
        assert_eq!(&w[..data.len() - len], &data[len..]);
        assert_eq!(&w[data.len() - len..], &data[..2 * len - data.len()]);
    }
}
