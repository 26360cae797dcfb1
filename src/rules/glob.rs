//! Rule-file patterns as Prometheus's `rule_files` reads them (Go's
//! `filepath.Glob`): `*`, `?` and `[…]` in any path component, matches in
//! lexical order, a pattern without them naming one file.

use std::path::{Path, PathBuf};

/// Most files one pattern may match; a pattern is config, `/*/*/*` is not.
const MAX_MATCHES: usize = 10_000;

/// The files `pattern` matches, relative to `base` unless absolute.
pub fn expand(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    if !has_meta(pattern) {
        return Ok(vec![full]);
    }
    let mut found = vec![PathBuf::new()];
    for comp in full.components() {
        let part = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for dir in &found {
            if !has_meta(&part) {
                next.push(dir.join(comp.as_os_str()));
                continue;
            }
            let read = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir.as_path()
            };
            let Ok(entries) = std::fs::read_dir(read) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| matches(&part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
            if next.len() > MAX_MATCHES {
                return Err(format!(
                    "pattern {pattern:?} matches over {MAX_MATCHES} files"
                ));
            }
        }
        found = next;
    }
    found.retain(|p| p.is_file());
    Ok(found)
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Go's `filepath.Match` for one component.
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_at(&p, &n)
}

fn match_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| match_at(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && match_at(&p[1..], &n[1..]),
        Some('[') => {
            let Some(end) = p.iter().position(|&c| c == ']') else {
                return false;
            };
            let Some(&c) = n.first() else {
                return false;
            };
            let class = &p[1..end];
            let (negate, class) = match class.first() {
                Some('^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && match_at(&p[end + 1..], &n[1..])
        }
        Some(&c) => n.first() == Some(&c) && match_at(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_patterns() {
        assert!(matches("*.yaml", "a.yaml"));
        assert!(!matches("*.yaml", "a.yml"));
        assert!(matches("rule?.y*", "rule1.yaml"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[^a-c]x", "bx"));
    }

    #[test]
    fn expands_in_lexical_order_relative_to_the_base() {
        let dir = tempfile::tempdir().expect("tempdir");
        for n in ["b.yaml", "a.yaml", "c.txt"] {
            std::fs::write(dir.path().join(n), "").expect("write");
        }
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/z.yaml"), "").expect("write");
        let got = expand(dir.path(), "*.yaml").expect("expands");
        assert_eq!(got, [dir.path().join("a.yaml"), dir.path().join("b.yaml")]);
        let got = expand(dir.path(), "*/*.yaml").expect("expands");
        assert_eq!(got, [dir.path().join("sub/z.yaml")]);
        assert_eq!(
            expand(dir.path(), "plain.yaml").expect("one"),
            [dir.path().join("plain.yaml")]
        );
    }
}
