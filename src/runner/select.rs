//! Choosing which cases run: id globs, tags, exclusions and CI partitions.

use crate::suite::model::Case;

/// Case selection as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Run only cases whose id or Autobahn id matches one of these globs.
    pub cases: Vec<String>,
    /// Run only cases carrying one of these tags.
    pub tags: Vec<String>,
    /// Leave out cases whose id or Autobahn id matches one of these globs.
    pub exclude: Vec<String>,
    /// `(k, n)`: run the k-th (1-based) of n slices of the sorted selection.
    pub partition: Option<(usize, usize)>,
}

/// `*` matches any run of characters, `?` one character; everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn matches_any(globs: &[String], case: &Case) -> bool {
    globs.iter().any(|g| {
        glob_match(g, &case.id) || case.autobahn.as_deref().is_some_and(|a| glob_match(g, a))
    })
}

/// Parses `K/N` with 1 ≤ K ≤ N.
pub fn parse_partition(text: &str) -> Result<(usize, usize), String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("partition '{text}' must look like K/N, e.g. 1/4"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("partition '{text}': K is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("partition '{text}': N is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("partition '{text}' needs 1 <= K <= N"));
    }
    Ok((k, n))
}

/// Applies the selection. The order of the returned cases is the input order; partitions
/// slice the selection sorted by id, so every shard sees the same split.
pub fn select(cases: Vec<Case>, sel: &Selection) -> Vec<Case> {
    let mut chosen: Vec<Case> = cases
        .into_iter()
        .filter(|c| sel.cases.is_empty() || matches_any(&sel.cases, c))
        .filter(|c| sel.tags.is_empty() || c.tags.iter().any(|t| sel.tags.contains(t)))
        .filter(|c| !matches_any(&sel.exclude, c))
        .collect();
    if let Some((k, n)) = sel.partition {
        let mut ids: Vec<String> = chosen.iter().map(|c| c.id.clone()).collect();
        ids.sort();
        let len = ids.len();
        let start = len * (k - 1) / n;
        let end = len * k / n;
        let keep: std::collections::HashSet<&String> = ids[start..end].iter().collect();
        chosen.retain(|c| keep.contains(&c.id));
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("framing.*", "framing.text-125"));
        assert!(glob_match("*125", "framing.text-125"));
        assert!(glob_match("2.?", "2.5"));
        assert!(!glob_match("2.?", "2.10"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acd"));
        assert!(glob_match("a*b*c", "axxbyyc"));
    }

    #[test]
    fn partitions() {
        assert_eq!(parse_partition("2/3"), Ok((2, 3)));
        assert!(parse_partition("0/3").is_err());
        assert!(parse_partition("4/3").is_err());
        assert!(parse_partition("x").is_err());
    }
}
