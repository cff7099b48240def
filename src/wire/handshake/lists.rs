//! Comma-separated header lists of the opening handshake: `Connection`, `Upgrade`,
//! `Sec-WebSocket-Protocol` (RFC 6455 §4.1, §4.3, `1#token`) and `Sec-WebSocket-Extensions`
//! (§9.1, `extension-list` with `token [ "=" (token | quoted-string) ]` parameters).
//!
//! These readers are lenient on purpose: they split what is there, drop empty elements (which
//! RFC 2616 §2.1 `#rule` allows) and leave judging token syntax to the validators, so that a
//! malformed value still shows up in a report as the peer sent it.

/// One extension parameter: name and value, if any (`client_max_window_bits=10`).
pub type ExtensionParam = (String, Option<String>);

/// One Sec-WebSocket-Extensions item: the extension name and its parameters.
pub type ExtensionItem = (String, Vec<ExtensionParam>);

/// Splits a comma-separated header list into trimmed, non-empty tokens (for Connection,
/// Sec-WebSocket-Protocol). Handles multiple header lines by the caller concatenating.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(trim_ows)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a Sec-WebSocket-Extensions value into (name, params) items:
/// `permessage-deflate; client_max_window_bits=10, x-foo` →
/// `[("permessage-deflate", [("client_max_window_bits", Some("10"))]), ("x-foo", [])]`.
/// Quoted-string params are unquoted (`a="x\"y"` → `x"y`); commas and semicolons inside
/// quotes do not split. Empty items and empty parameters are dropped.
pub fn parse_extensions(value: &str) -> Vec<ExtensionItem> {
    extension_items(value)
        .into_iter()
        .map(|item| {
            let mut parts = split_outside_quotes(item, ';').into_iter();
            let name = parts.next().map(trim_ows).unwrap_or_default().to_string();
            let params = parts
                .map(trim_ows)
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (trim_ows(k).to_string(), Some(unquote(trim_ows(v)))),
                    None => (p.to_string(), None),
                })
                .collect();
            (name, params)
        })
        .collect()
}

/// The items of a Sec-WebSocket-Extensions value as sent (trimmed, empty ones dropped), e.g.
/// `permessage-deflate; client_max_window_bits=10`.
pub fn extension_items(value: &str) -> Vec<&str> {
    split_outside_quotes(value, ',')
        .into_iter()
        .map(trim_ows)
        .filter(|t| !t.is_empty())
        .collect()
}

/// The extension names of offer or response items, in order.
pub(super) fn extension_names<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    items
        .flat_map(parse_extensions)
        .map(|(name, _)| name)
        .collect()
}

/// Whether a comma list has `token` as one of its elements, ASCII case-insensitively.
pub(super) fn has_token(list: &str, token: &str) -> bool {
    split_list(list)
        .iter()
        .any(|t| t.eq_ignore_ascii_case(token))
}

/// Trims HTTP optional whitespace (SP and HTAB, RFC 7230 §3.2.3) from both ends.
pub(super) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Splits on `sep` except inside a quoted-string (RFC 2616 §2.2), honouring `\` escapes there.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// Removes the quotes and `\` escapes of a quoted-string; other values are returned as is.
fn unquote(v: &str) -> String {
    match v
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
    {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_list_trims_and_drops_empty_elements() {
        let table: [(&str, &[&str]); 7] = [
            ("Upgrade", &["Upgrade"]),
            ("keep-alive, Upgrade", &["keep-alive", "Upgrade"]),
            ("chat, superchat", &["chat", "superchat"]),
            ("  a ,\tb\t,, ,c,", &["a", "b", "c"]),
            ("", &[]),
            (" , ", &[]),
            ("x y, z", &["x y", "z"]),
        ];
        for (value, want) in table {
            assert_eq!(split_list(value), want, "{value:?}");
        }
    }

    #[test]
    fn rfc6455_9_1_parse_extensions() {
        type Items = Vec<ExtensionItem>;
        type Spec<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);
        fn items(v: &[Spec<'_>]) -> Items {
            v.iter()
                .map(|(n, ps)| {
                    (
                        n.to_string(),
                        ps.iter()
                            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                            .collect(),
                    )
                })
                .collect()
        }
        let table: Vec<(&str, Items)> = vec![
            (
                "permessage-deflate; client_max_window_bits=10, x-foo",
                items(&[
                    (
                        "permessage-deflate",
                        &[("client_max_window_bits", Some("10"))],
                    ),
                    ("x-foo", &[]),
                ]),
            ),
            (
                "permessage-deflate; client_max_window_bits; server_no_context_takeover",
                items(&[(
                    "permessage-deflate",
                    &[
                        ("client_max_window_bits", None),
                        ("server_no_context_takeover", None),
                    ],
                )]),
            ),
            (
                "foo; bar=\"a,b;c\", baz",
                items(&[("foo", &[("bar", Some("a,b;c"))]), ("baz", &[])]),
            ),
            (
                "foo; q=\"x\\\"y\"",
                items(&[("foo", &[("q", Some("x\"y"))])]),
            ),
            (
                "  mux ;max-channels = 4 ; flow-control  ",
                items(&[(
                    "mux",
                    &[("max-channels", Some("4")), ("flow-control", None)],
                )]),
            ),
            ("a,, b;", items(&[("a", &[]), ("b", &[])])),
            ("", items(&[])),
        ];
        for (value, want) in table {
            assert_eq!(parse_extensions(value), want, "{value:?}");
        }
    }

    #[test]
    fn extension_items_keep_the_text_as_sent() {
        assert_eq!(
            extension_items("permessage-deflate; client_max_window_bits=10 , x-foo;a=\"1,2\""),
            vec![
                "permessage-deflate; client_max_window_bits=10",
                "x-foo;a=\"1,2\""
            ]
        );
    }
}
