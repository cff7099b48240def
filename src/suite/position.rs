//! Where each node of a YAML document is: an index from a path (`cases[3].steps[1].send`) to
//! the line and column of the node and of its mapping key.
//!
//! serde_yaml's `Value` forgets positions, so the document is read a second time with
//! saphyr-parser's event parser, whose events carry start and end marks. Aliases are indexed
//! where the alias is written and never followed, so an alias bomb costs nothing here.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, Span as MarkedSpan};

/// Nodes nested deeper than this are not indexed: serde_yaml refuses documents nested much
/// less deeply, and indexing a path per node would otherwise cost depth² memory.
const MAX_INDEXED_DEPTH: usize = 160;

/// One step of a path into a YAML document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index (0-based).
    Index(usize),
}

/// A path from the document root, e.g. `cases[3].steps[1].send`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct YamlPath(Vec<Seg>);

impl YamlPath {
    /// The document root.
    pub(crate) fn root() -> YamlPath {
        YamlPath(Vec::new())
    }

    /// This path extended by a mapping key.
    pub(crate) fn key(&self, key: &str) -> YamlPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        YamlPath(segs)
    }

    /// This path extended by a sequence index.
    pub(crate) fn index(&self, index: usize) -> YamlPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        YamlPath(segs)
    }

    /// This path followed by `tail`.
    pub(crate) fn join(&self, tail: &[Seg]) -> YamlPath {
        let mut segs = self.0.clone();
        segs.extend_from_slice(tail);
        YamlPath(segs)
    }

    /// The enclosing node's path (the root is its own parent).
    pub(crate) fn parent(&self) -> YamlPath {
        let mut segs = self.0.clone();
        segs.pop();
        YamlPath(segs)
    }

    /// The segments.
    pub(crate) fn segs(&self) -> &[Seg] {
        &self.0
    }

    /// The rest of this path after `prefix`, if it starts with it.
    pub(crate) fn strip_prefix(&self, prefix: &YamlPath) -> Option<&[Seg]> {
        self.0.strip_prefix(prefix.0.as_slice())
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A stretch of one source line: 1-based line and column, length in characters (at least 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// Characters to underline.
    pub len: u32,
}

/// Which part of a mapping entry a diagnostic points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The key (`sned` in `sned: x`); sequence items have none and use the value.
    Key,
    /// The value.
    Value,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    node: Span,
    key: Option<Span>,
}

/// A key written twice in one mapping.
#[derive(Clone, Debug)]
pub(crate) struct DuplicateKey {
    /// The key text.
    pub key: String,
    /// The second occurrence.
    pub second: Span,
    /// The first occurrence.
    pub first: Span,
}

/// Path → position of every node of a document, plus facts the loader needs to place errors
/// serde_yaml reports without a position.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    /// Keyed by [`path_key`]: a hash rather than the path itself, which for a suite of 10 000
    /// cases held about 30 MB of path segments.
    entries: HashMap<u64, Entry>,
    /// Keys repeated within one mapping, in document order.
    pub duplicates: Vec<DuplicateKey>,
    /// The first alias (`*name`) in the document.
    pub first_alias: Option<Span>,
    /// The start of a second document, if the stream has more than one.
    pub second_document: Option<Span>,
}

enum Frame {
    Map {
        path: YamlPath,
        /// The key whose value comes next, once the key has been read.
        key: Option<(String, Option<Span>)>,
        first_key_len: Option<u32>,
        seen: HashMap<String, Span>,
    },
    Seq {
        path: YamlPath,
        next: usize,
    },
}

/// A key made of a collection (`? [a, b]`); never a real suite key.
const COMPLEX_KEY: &str = "\0complex-key";

impl PositionIndex {
    /// Indexes `text`. Never fails: on a syntax error the index holds what came before it.
    pub(crate) fn build(text: &str) -> PositionIndex {
        let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
        let span_of = |s: &MarkedSpan| -> Span {
            let line = s.start.line() as u32;
            let column = s.start.col() as u32 + 1;
            let text = lines
                .get((line as usize).saturating_sub(1))
                .copied()
                .unwrap_or("");
            let after: Vec<char> = text.chars().skip(column as usize - 1).collect();
            let mut len = if s.end.line() == s.start.line() {
                s.end.col().saturating_sub(s.start.col())
            } else {
                after.len()
            };
            // Quoted scalars in flow collections end after the following blank; trim it.
            while len > 1 && after.get(len - 1).is_some_and(|c| c.is_whitespace()) {
                len -= 1;
            }
            Span {
                line,
                column,
                len: len as u32,
            }
        };

        let mut index = PositionIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut documents = 0usize;
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok((event, marked))) = parser.next_event() {
            let span = span_of(&marked);
            match &event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents == 2 {
                        index.second_document = Some(span);
                    }
                }
                Event::Scalar(..) | Event::Alias(_) => {
                    if matches!(event, Event::Alias(_)) {
                        index.first_alias.get_or_insert(span);
                    }
                    if let Some(Frame::Map {
                        key: key @ None,
                        first_key_len,
                        seen,
                        ..
                    }) = stack.last_mut()
                    {
                        let text = match &event {
                            Event::Scalar(value, ..) => value.to_string(),
                            _ => "*".to_string(),
                        };
                        first_key_len.get_or_insert(span.len);
                        if let Some(first) = seen.get(&text) {
                            index.duplicates.push(DuplicateKey {
                                key: text.clone(),
                                second: span,
                                first: *first,
                            });
                        } else {
                            seen.insert(text.clone(), span);
                        }
                        *key = Some((text, Some(span)));
                    } else {
                        index.place(&mut stack, span);
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let path = match stack.last_mut() {
                        Some(Frame::Map {
                            path,
                            key: key @ None,
                            ..
                        }) => {
                            *key = Some((COMPLEX_KEY.to_string(), None));
                            path.key(COMPLEX_KEY)
                        }
                        _ => index.place(&mut stack, span),
                    };
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map {
                            path,
                            key: None,
                            first_key_len: None,
                            seen: HashMap::new(),
                        }
                    } else {
                        Frame::Seq { path, next: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if let Some(frame) = stack.pop() {
                        let (path, first_key_len) = match frame {
                            Frame::Map {
                                path,
                                first_key_len,
                                ..
                            } => (path, first_key_len),
                            Frame::Seq { path, .. } => (path, None),
                        };
                        index.finish_collection(&path, &marked, first_key_len, &lines);
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// Records a value node at the position the top of `stack` expects; returns its path.
    fn place(&mut self, stack: &mut [Frame], span: Span) -> YamlPath {
        let (path, key) = match stack.last_mut() {
            None => (YamlPath::root(), None),
            Some(Frame::Seq { path, next }) => {
                *next += 1;
                (path.index(*next - 1), None)
            }
            Some(Frame::Map { path, key, .. }) => match key.take() {
                Some((k, key_span)) => (path.key(&k), key_span),
                None => (path.key(COMPLEX_KEY), None),
            },
        };
        if path.segs().len() <= MAX_INDEXED_DEPTH {
            self.entries
                .entry(path_key(path.segs()))
                .or_insert(Entry { node: span, key });
        }
        path
    }

    /// Fixes the length of a collection's span once its end is known: a one-line flow
    /// collection is underlined whole, a block mapping by its first key.
    fn finish_collection(
        &mut self,
        path: &YamlPath,
        end: &MarkedSpan,
        first_key_len: Option<u32>,
        lines: &[&str],
    ) {
        let Some(entry) = self.entries.get_mut(&path_key(path.segs())) else {
            return;
        };
        let start = entry.node;
        let end_line = end.end.line() as u32;
        let end_col = end.end.col() as u32 + 1;
        let mut len = if end_line == start.line && end_col > start.column && start.len > 0 {
            end_col - start.column
        } else {
            first_key_len.unwrap_or(1)
        };
        // The end mark of a flow collection may include the blank after its bracket.
        let text = lines.get(start.line as usize - 1).copied().unwrap_or("");
        let covered: Vec<char> = text
            .chars()
            .skip(start.column as usize - 1)
            .take(len as usize)
            .collect();
        let blanks = covered
            .iter()
            .rev()
            .take_while(|c| c.is_whitespace())
            .count() as u32;
        len -= blanks.min(len);
        entry.node.len = len.max(1);
    }

    /// The position of the node at `path` (its key with [`Anchor::Key`]). A path that is not
    /// in the document (inside an alias, or produced by a template) falls back to the nearest
    /// enclosing node that is.
    pub(crate) fn lookup(&self, path: &YamlPath, anchor: Anchor) -> Option<Span> {
        if let Some(entry) = self.entries.get(&path_key(path.segs())) {
            return Some(match anchor {
                Anchor::Key => entry.key.unwrap_or(entry.node),
                Anchor::Value => entry.node,
            });
        }
        let mut segs = path.segs();
        while let Some((_, parent)) = segs.split_last() {
            segs = parent;
            if let Some(entry) = self.entries.get(&path_key(segs)) {
                return Some(entry.node);
            }
        }
        None
    }
}

/// The index key of a path: a 64-bit hash of its segments (SipHash with fixed keys, so the same
/// path always gives the same key). Two of a document's paths sharing a key would only move a
/// caret; with 100 000 nodes the chance is about 3 in 10^10.
fn path_key(segs: &[Seg]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    segs.hash(&mut h);
    h.finish()
}

/// Flow collections (`[`, `{`) nested deeper than this are refused before parsing.
const MAX_FLOW_DEPTH: usize = 256;
/// Block content starting further right than this (indentation plus `- ` indicators) is
/// refused before parsing.
const MAX_BLOCK_INDENT: usize = 1024;

/// Where `text` nests absurdly deep, found by a linear scan before any parser runs: both YAML
/// parsers take time quadratic in the nesting depth, so a small hostile file could stall
/// loading for minutes before serde_yaml's recursion limit (128) rejects it. The scan skips
/// quoted strings and comments; its limits are far above anything a suite needs.
pub(crate) fn excessive_nesting(text: &str) -> Option<Span> {
    let mut depth = 0usize;
    for (line_index, line) in text.split('\n').enumerate() {
        let line_no = line_index as u32 + 1;
        // Block nesting: indentation and compact `- ` / `? ` / `: ` indicators.
        let mut indent = 0usize;
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c == ' ' {
                indent += 1;
                chars.next();
            } else if matches!(c, '-' | '?' | ':') {
                let mut ahead = chars.clone();
                ahead.next();
                if matches!(ahead.peek(), Some(' ') | Some('\t')) {
                    indent += 1;
                    chars.next();
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        if indent > MAX_BLOCK_INDENT {
            return Some(Span {
                line: line_no,
                column: 1,
                len: 1,
            });
        }
        // Flow nesting, across lines.
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in line.chars().enumerate() {
            match quote {
                Some('"') if c == '\\' && previous != '\\' => {}
                Some(q) if c == q && !(q == '"' && previous == '\\') => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if previous.is_whitespace() || column == 0 => break,
                    '"' | '\'' if !previous.is_alphanumeric() => quote = Some(c),
                    '[' | '{' => {
                        depth += 1;
                        if depth > MAX_FLOW_DEPTH {
                            return Some(Span {
                                line: line_no,
                                column: column as u32 + 1,
                                len: 1,
                            });
                        }
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
            }
            previous = if previous == '\\' && c == '\\' {
                ' '
            } else {
                c
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segs: &[Seg]) -> YamlPath {
        YamlPath(segs.to_vec())
    }

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    const DOC: &str = "\
suite: s
cases:
  - id: a
    steps:
      - sned: { text: hello }
      - expect: { message: { text: \"x\" } }
";

    #[test]
    fn finds_keys_and_values() {
        let index = PositionIndex::build(DOC);
        let step = path(&[k("cases"), Seg::Index(0), k("steps"), Seg::Index(0)]);
        assert_eq!(
            index.lookup(&step.key("sned"), Anchor::Key),
            Some(Span {
                line: 5,
                column: 9,
                len: 4
            })
        );
        assert_eq!(
            index.lookup(&step.key("sned"), Anchor::Value),
            Some(Span {
                line: 5,
                column: 15,
                len: 15
            })
        );
        // a block mapping is underlined by its first key
        assert_eq!(
            index.lookup(&path(&[k("cases"), Seg::Index(0)]), Anchor::Value),
            Some(Span {
                line: 3,
                column: 5,
                len: 2
            })
        );
        let text = path(&[k("cases"), Seg::Index(0), k("steps"), Seg::Index(1)])
            .key("expect")
            .key("message")
            .key("text");
        assert_eq!(
            index.lookup(&text, Anchor::Value),
            Some(Span {
                line: 6,
                column: 36,
                len: 3
            })
        );
    }

    #[test]
    fn unknown_paths_fall_back_to_the_nearest_parent() {
        let index = PositionIndex::build(DOC);
        let deep = path(&[k("cases"), Seg::Index(0), k("steps"), Seg::Index(0)])
            .key("sned")
            .key("nope")
            .index(3);
        assert_eq!(
            index.lookup(&deep, Anchor::Key),
            Some(Span {
                line: 5,
                column: 15,
                len: 15
            })
        );
        assert_eq!(
            index.lookup(&path(&[k("zzz")]), Anchor::Key),
            Some(Span {
                line: 1,
                column: 1,
                len: 5
            })
        );
    }

    #[test]
    fn records_duplicates_aliases_and_documents() {
        let index = PositionIndex::build("a: &x 1\nb: *x\na: 2\n---\nc: 3\n");
        assert_eq!(index.duplicates.len(), 1);
        assert_eq!(index.duplicates[0].key, "a");
        assert_eq!(index.duplicates[0].second.line, 3);
        assert_eq!(index.duplicates[0].first.line, 1);
        assert_eq!(index.first_alias.map(|s| (s.line, s.column)), Some((2, 4)));
        assert_eq!(index.second_document.map(|s| s.line), Some(4));
    }

    #[test]
    fn survives_hostile_input() {
        let deep = "[".repeat(100_000);
        let _ = PositionIndex::build(&deep);
        let _ = PositionIndex::build("a: [1, 2\nb: }\n");
        let _ = PositionIndex::build("? [a, b]\n: c\nd: e\n");
    }

    #[test]
    fn refuses_absurd_nesting_cheaply() {
        assert_eq!(excessive_nesting("a: [1, [2, {b: 3}]]\n- - x\n"), None);
        assert_eq!(
            excessive_nesting(&"[\"[[[[\", '[[[[', # [[[[\n".repeat(200)),
            None
        );
        let deep = format!("cases:\n  {}", "[".repeat(300));
        assert_eq!(
            excessive_nesting(&deep),
            Some(Span {
                line: 2,
                column: 259,
                len: 1
            })
        );
        let block = "- ".repeat(2000) + "x";
        assert_eq!(excessive_nesting(&block).map(|s| s.line), Some(1));
    }

    #[test]
    fn displays_paths() {
        let p = path(&[
            k("cases"),
            Seg::Index(3),
            k("steps"),
            Seg::Index(1),
            k("send"),
        ]);
        assert_eq!(p.to_string(), "cases[3].steps[1].send");
    }
}
