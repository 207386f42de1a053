//! Docs that cannot rot: every relative link and `#anchor` in README.md (and any Markdown under docs/) resolves,
//! anchors as GitHub makes them from headings (lowercase; letters, digits, `-` and `_` kept, spaces to `-`, the rest
//! dropped; a repeated heading gets `-1`, `-2`, ...).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The lines of a Markdown text outside code fences.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// The anchors of a Markdown text's headings (outside code fences).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in prose_lines(text) {
        if !line.starts_with('#') {
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
    for line in prose_lines(text) {
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
    assert!(links(&readme).len() > 10, "the README's links are read");
    let concepts =
        std::fs::read_to_string(root.join("docs/concepts.md")).expect("docs/concepts.md");
    assert!(anchors(&concepts).contains("bursts-that-recur-the-forecaster"));
    assert!(markdown_files(&root).len() >= 8, "the docs pages are read");
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

/// The README is first contact: what it is, the two commands, the diagram, the headline, deploy, attach, where
/// next. The depth lives in docs/, so the README stays short enough to read in five minutes.
#[test]
fn the_readme_stays_short_and_links_every_docs_page() {
    let root = bpi_testkit::workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: move the depth to docs/"
    );
    let index = std::fs::read_to_string(root.join("docs/README.md")).expect("docs/README.md");
    for file in markdown_files(&root) {
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name");
        if file.parent().is_some_and(|p| p.ends_with("docs")) && name != "README.md" {
            assert!(
                index.contains(&format!("]({name})")),
                "docs/README.md does not list {name}"
            );
        }
    }
}

/// Every alarm the templates create is in the operator's table of docs/operate.md, with what to do when it fires.
#[test]
fn every_alarm_of_the_templates_has_a_runbook_entry() {
    let root = bpi_testkit::workspace_root();
    let operate = std::fs::read_to_string(root.join("docs/operate.md")).expect("docs/operate.md");
    let mut names = Vec::new();
    for template in ["deploy/stack.yaml", "deploy/fleet.yaml"] {
        let text = std::fs::read_to_string(root.join(template)).expect("template");
        for line in text.lines() {
            // `AlarmName: !Sub "${AWS::StackName}-dlq-not-empty"`: the part after the stack's name.
            if let Some(rest) = line
                .trim()
                .strip_prefix("AlarmName: !Sub \"${AWS::StackName}")
            {
                names.push(rest.trim_end_matches('"').to_string());
            }
        }
    }
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        assert!(
            operate.contains(&format!("stack>{name}`")),
            "docs/operate.md has no runbook entry for the alarm <stack>{name}"
        );
    }
}

/// The repository paths a text names in code spans (`` `crates/…` ``, `` `deploy/…` ``, …) outside code fences, a
/// `:line` suffix dropped.
fn named_paths(text: &str) -> Vec<String> {
    const ROOTS: [&str; 6] = ["crates/", "deploy/", "docs/", "examples/", "bench/", ".ci/"];
    let mut out = Vec::new();
    for line in prose_lines(text) {
        for span in line.split('`').skip(1).step_by(2) {
            if ROOTS.iter().any(|r| span.starts_with(r)) && !span.contains(char::is_whitespace) {
                out.push(span.split(':').next().unwrap_or(span).to_string());
            }
        }
    }
    out
}

/// A file moved or renamed leaves no page pointing at where it was: every repository path the README and docs/
/// name in a code span exists (found stale twice: `crates/core/src/forecast.rs` after the forecaster's split,
/// `crates/sim/tests/readme.rs` after the tables moved to docs/).
#[test]
fn every_repository_path_the_docs_name_exists() {
    let root = bpi_testkit::workspace_root();
    assert_eq!(
        named_paths("see `crates/a.rs:12`, `cargo test`, `deploy/x.sh --help` and `docs/`"),
        ["crates/a.rs", "docs/"]
    );
    let mut missing = Vec::new();
    let mut named = 0;
    for file in markdown_files(&root) {
        let text = std::fs::read_to_string(&file).expect("read");
        for path in named_paths(&text) {
            named += 1;
            if !root.join(&path).exists() {
                missing.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(named > 50, "the pages' paths are read ({named})");
    assert!(missing.is_empty(), "no such file:\n{}", missing.join("\n"));
}
