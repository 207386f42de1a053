//! Docs that cannot rot: every relative link and `#anchor` in README.md (and any Markdown under docs/) resolves,
//! anchors as GitHub makes them from headings (lowercase; letters, digits, `-` and `_` kept, spaces to `-`, the rest
//! dropped; a repeated heading gets `-1`, `-2`, ...).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The anchors of a Markdown text's headings (outside code fences).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#').trim();
        let base: String = heading
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                '-' | '_' => Some(c),
                c if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap_or(c)),
                _ => None,
            })
            .collect();
        let mut anchor = base.clone();
        let mut n = 0;
        while out.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        out.insert(anchor);
    }
    out
}

/// The link targets of a Markdown text (`[..](target)` and `![..](target)`), outside code fences and code spans.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop code spans: a link inside backticks is text.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else {
                break;
            };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push(target.to_string());
            rest = &after[end..];
        }
    }
    out
}

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "md") {
                files.push(e.path());
            }
        }
    }
    files
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let root = bpi_testkit::workspace_root();
    let mut broken = Vec::new();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(links(&readme).len() > 20, "the README's links are read");
    assert!(anchors(&readme).contains("bursts-that-recur-the-forecaster"));
    for file in markdown_files(&root) {
        let text = std::fs::read_to_string(&file).expect("read");
        let own = anchors(&text);
        for target in links(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                file.clone()
            } else {
                file.parent().expect("a folder").join(path)
            };
            if !linked.exists() {
                broken.push(format!("{}: {target}: no such file", file.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let known = if path.is_empty() {
                    own.clone()
                } else {
                    anchors(&std::fs::read_to_string(&linked).unwrap_or_default())
                };
                if !known.contains(anchor) {
                    broken.push(format!("{}: {target}: no such heading", file.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    let a = anchors("# A: b's `c`\n## A: b's `c`\n```\n# not a heading\n```\n### What changed ÷ 2");
    assert_eq!(
        a,
        ["a-bs-c", "a-bs-c-1", "what-changed--2"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    assert_eq!(
        links("see [x](#a) and `[y](#no)` and ![c](docs/c.svg)"),
        ["#a", "docs/c.svg"]
    );
}
