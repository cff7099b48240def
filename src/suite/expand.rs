//! Templates: a case with `params` becomes one case per row, at the `Value` level, before the
//! case is read. In every string value `{name}` is replaced by the row's value; a string that
//! is exactly `{name}` becomes the row's value whatever its type; `{{name}}` writes a literal
//! `{name}`. Every name used must be defined by every row and every defined name must be used.
//!
//! Expanded nodes keep the template's paths, so errors point into the template; a node that is
//! a whole row value records an [`Origin`] so errors inside it point into the row.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::context::{Context, Origin};
use super::diagnostic::did_you_mean;
use super::position::{Anchor, YamlPath};

/// One case to read: the template itself, or one row's expansion.
#[derive(Debug)]
pub(crate) struct Expansion {
    /// The case mapping, `params` removed and placeholders replaced.
    pub value: Value,
    /// The params row (1-based) it came from.
    pub row: Option<usize>,
    /// Nodes copied whole from the row.
    pub origins: Vec<Origin>,
}

/// A piece of a string in a template.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    /// `{{name}}`: the text `{name}`.
    Escaped(&'a str),
    Param(&'a str),
}

/// The length of the identifier at the start of `s` (`[A-Za-z_][A-Za-z0-9_]*`).
fn ident_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Whether `name` can be a parameter name.
fn is_ident(name: &str) -> bool {
    !name.is_empty() && ident_len(name) == name.len()
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    while let Some(offset) = s[i..].find('{') {
        let at = i + offset;
        let rest = &s[at..];
        let escaped = rest.strip_prefix("{{").and_then(|r| {
            let n = ident_len(r);
            (n > 0 && r[n..].starts_with("}}")).then(|| &r[..n])
        });
        let param = rest.strip_prefix('{').and_then(|r| {
            let n = ident_len(r);
            (n > 0 && r[n..].starts_with('}')).then(|| &r[..n])
        });
        let (piece, len) = match (escaped, param) {
            (Some(name), _) => (Piece::Escaped(name), name.len() + 4),
            (None, Some(name)) => (Piece::Param(name), name.len() + 2),
            (None, None) => {
                i = at + 1;
                continue;
            }
        };
        if literal_start < at {
            out.push(Piece::Literal(&s[literal_start..at]));
        }
        out.push(piece);
        i = at + len;
        literal_start = i;
    }
    if literal_start < s.len() {
        out.push(Piece::Literal(&s[literal_start..]));
    }
    out
}

/// The text of a mapping key, for paths.
pub(crate) fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "~".into(),
        _ => "?".into(),
    }
}

/// Every parameter used in `value`, with the first place it is used.
fn collect_uses(value: &Value, path: &YamlPath, uses: &mut BTreeMap<String, YamlPath>) {
    match value {
        Value::String(s) => {
            for piece in pieces(s) {
                if let Piece::Param(name) = piece {
                    uses.entry(name.to_string()).or_insert_with(|| path.clone());
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_uses(item, &path.index(i), uses);
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map {
                collect_uses(v, &path.key(&key_text(k)), uses);
            }
        }
        Value::Tagged(tagged) => collect_uses(&tagged.value, path, uses),
        _ => {}
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Sequence(_) => "list",
        Value::Mapping(_) => "mapping",
        Value::Tagged(_) => "tagged value",
    }
}

struct Row<'a> {
    number: usize,
    path: YamlPath,
    values: &'a Mapping,
}

impl Row<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

fn substitute(
    cx: &mut Context<'_>,
    value: &Value,
    path: &YamlPath,
    row: &Row<'_>,
    origins: &mut Vec<Origin>,
) -> Value {
    match value {
        Value::String(s) => {
            let parts = pieces(s);
            if let [Piece::Param(name)] = parts.as_slice() {
                origins.push(Origin {
                    expanded: path.clone(),
                    source: row.path.key(name),
                });
                return row.get(name).cloned().unwrap_or(Value::Null);
            }
            let mut out = String::with_capacity(s.len());
            for part in parts {
                match part {
                    Piece::Literal(text) => out.push_str(text),
                    Piece::Escaped(name) => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                    Piece::Param(name) => match row.get(name) {
                        Some(Value::String(v)) => out.push_str(v),
                        Some(Value::Number(n)) => out.push_str(&n.to_string()),
                        Some(Value::Bool(b)) => out.push_str(&b.to_string()),
                        Some(other) => cx.error(
                            path,
                            Anchor::Value,
                            format!(
                                "parameter `{name}` of params row {} is a {}; only a string, number or boolean can be part of a longer string",
                                row.number,
                                kind(other)
                            ),
                        ),
                        None => {}
                    },
                }
            }
            Value::String(out)
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| substitute(cx, item, &path.index(i), row, origins))
                .collect(),
        ),
        Value::Mapping(map) => Value::Mapping(
            map.iter()
                .map(|(k, v)| {
                    let v = substitute(cx, v, &path.key(&key_text(k)), row, origins);
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Expands the case at `case_path`: itself when it has no `params`, one expansion per row
/// otherwise, nothing when the template is broken (the errors are in `cx`).
pub(crate) fn expand(cx: &mut Context<'_>, case_path: &YamlPath, case: Value) -> Vec<Expansion> {
    let Value::Mapping(mut template) = case else {
        return vec![Expansion {
            value: case,
            row: None,
            origins: Vec::new(),
        }];
    };
    let Some(params) = template.remove("params") else {
        return vec![Expansion {
            value: Value::Mapping(template),
            row: None,
            origins: Vec::new(),
        }];
    };
    let errors_before = cx.error_count();
    let params_path = case_path.key("params");
    let rows: Vec<Row<'_>> = match &params {
        Value::Sequence(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let path = params_path.index(i);
                match item {
                    Value::Mapping(values) => Some(Row {
                        number: i + 1,
                        path,
                        values,
                    }),
                    other => {
                        cx.error(
                            &path,
                            Anchor::Value,
                            format!(
                                "params row {} is a {}; each row is a mapping of parameter names to values",
                                i + 1,
                                kind(other)
                            ),
                        );
                        None
                    }
                }
            })
            .collect(),
        Value::Sequence(_) => {
            cx.error(&params_path, Anchor::Key, "`params` has no rows");
            Vec::new()
        }
        other => {
            cx.error(
                &params_path,
                Anchor::Value,
                format!(
                    "`params` is a {}; it is a list of rows, one mapping per expanded case",
                    kind(other)
                ),
            );
            Vec::new()
        }
    };

    // Names each row defines, in order of first definition.
    let mut defined: Vec<(String, YamlPath)> = Vec::new();
    for row in &rows {
        for key in row.values.keys() {
            let name = key_text(key);
            let path = row.path.key(&name);
            if !matches!(key, Value::String(_)) || !is_ident(&name) {
                cx.error(
                    &path,
                    Anchor::Key,
                    format!(
                        "parameter name `{name}` is not a name: use letters, digits and '_', not starting with a digit"
                    ),
                );
            } else if !defined.iter().any(|(n, _)| *n == name) {
                defined.push((name, path));
            }
        }
    }

    let template_value = Value::Mapping(template);
    let mut uses = BTreeMap::new();
    collect_uses(&template_value, case_path, &mut uses);
    for (name, used_at) in &uses {
        let missing: Vec<&Row<'_>> = rows.iter().filter(|r| r.get(name).is_none()).collect();
        if missing.len() == rows.len() {
            let help = did_you_mean(name, defined.iter().map(|(n, _)| n.as_str()))
                .unwrap_or_else(|| format!("write `{{{{{name}}}}}` for a literal `{{{name}}}`"));
            cx.error_help(
                used_at,
                Anchor::Value,
                format!("unknown parameter `{name}`: no params row defines it"),
                Some(help),
            );
        } else {
            for row in missing {
                cx.error(
                    &row.path,
                    Anchor::Value,
                    format!("params row {} does not define `{name}`", row.number),
                );
            }
        }
    }
    for (name, path) in &defined {
        if !uses.contains_key(name) {
            cx.error_help(
                path,
                Anchor::Key,
                format!("parameter `{name}` is not used by the template"),
                did_you_mean(name, uses.keys().map(String::as_str)),
            );
        }
    }
    if cx.error_count() > errors_before {
        return Vec::new();
    }

    rows.iter()
        .map(|row| {
            let mut origins = Vec::new();
            let value = substitute(cx, &template_value, case_path, row, &mut origins);
            Expansion {
                value,
                row: Some(row.number),
                origins,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::suite::position::PositionIndex;

    #[test]
    fn splits_placeholders() {
        assert_eq!(
            pieces("utf8.{n}.x"),
            vec![
                Piece::Literal("utf8."),
                Piece::Param("n"),
                Piece::Literal(".x")
            ]
        );
        assert_eq!(pieces("{then}"), vec![Piece::Param("then")]);
        assert_eq!(
            pieces("GET {{path}} {a}"),
            vec![
                Piece::Literal("GET "),
                Piece::Escaped("path"),
                Piece::Literal(" "),
                Piece::Param("a")
            ]
        );
        assert_eq!(
            pieces("{ not } {1x} {"),
            vec![Piece::Literal("{ not } {1x} {")]
        );
        assert_eq!(
            pieces("κ{a_1}λ"),
            vec![
                Piece::Literal("κ"),
                Piece::Param("a_1"),
                Piece::Literal("λ")
            ]
        );
    }

    fn run(text: &str) -> (Vec<Expansion>, Vec<String>) {
        let index = PositionIndex::build(text);
        let mut cx = Context::new(Arc::new(PathBuf::from("t.yaml")), text, &index);
        let value: Value = serde_yaml::from_str(text).expect("test yaml parses");
        let out = expand(&mut cx, &YamlPath::root(), value);
        let messages = cx.finish().into_iter().map(|d| d.message).collect();
        (out, messages)
    }

    #[test]
    fn expands_rows() {
        let (out, errors) = run(
            "id: \"u.{n}\"\nparams:\n  - { n: 1, then: { a: 1 } }\n  - { n: x, then: [1] }\nsteps: [\"{then}\", \"n={n} {{host}}\"]\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out.len(), 2);
        let expected: Value =
            serde_yaml::from_str("{id: u.1, steps: [{a: 1}, \"n=1 {host}\"]}").expect("parses");
        assert_eq!(out[0].value, expected);
        assert_eq!(out[1].row, Some(2));
        assert_eq!(out[1].origins.len(), 1);
        assert_eq!(out[1].origins[0].expanded.to_string(), "steps[0]");
        assert_eq!(out[1].origins[0].source.to_string(), "params[1].then");
    }

    #[test]
    fn reports_bad_templates() {
        let (out, errors) = run("id: \"{n}\"\nparams: [{ n: 1, m: 2 }, { x: 3 }]\n");
        assert!(out.is_empty());
        assert_eq!(
            errors,
            vec![
                "params row 2 does not define `n`",
                "parameter `m` is not used by the template",
                "parameter `x` is not used by the template",
            ]
        );
        let (_, errors) = run("id: \"{nn}\"\nparams: [{ n: 1 }]\n");
        assert_eq!(
            errors[0],
            "unknown parameter `nn`: no params row defines it"
        );
        let (_, errors) = run("id: a\nparams: []\n");
        assert_eq!(errors, vec!["`params` has no rows"]);
        let (_, errors) = run("id: \"x{n}\"\nparams: [{ n: [1] }]\n");
        assert!(errors[0].contains("is a list"), "{errors:?}");
    }
}
