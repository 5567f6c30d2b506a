//! The layer order of src/ (see src/lib.rs and docs/architecture.md): a module may use only
//! the layers below its own. This test scans every `crate::<layer>` path outside comments and
//! fails on any that points up, and on cycles between the modules of one layer. Unit tests
//! (`#[cfg(test)]` modules, compiled only for tests) may build their inputs from any layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top; the same list as src/lib.rs.
const LAYERS: &[&str] = &[
    "base",
    "spectral",
    "optim",
    "nn",
    "task",
    "experiment",
    "record",
    "engine",
    "analysis",
    "plot",
    "app",
    "cli",
];

/// Edges left out of the cycle check (each with the reason at its use).
const ALLOWED_CYCLE_EDGES: &[(&str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Code of a file without comments (line comments and doc comments; no block comments are used).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim_start();
        if t.starts_with("//") {
            None
        } else {
            Some((i + 1, l.split(" //").next().unwrap_or(l)))
        }
    })
}

/// `crate::a::b` paths in a line: (a, b) with b empty when absent.
fn crate_paths(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + 7..];
        let seg = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let a = seg(after);
        let b = after[a.len()..]
            .strip_prefix("::")
            .map(seg)
            .unwrap_or_default();
        out.push((a, b));
        rest = after;
        rest = &rest[rest.len().min(1)..];
    }
    out
}

/// `super::x` paths in a line (x only; `super::super` is ignored).
fn super_paths(line: &str) -> Vec<String> {
    line.match_indices("super::")
        .filter(|(i, _)| !line[..*i].ends_with("::"))
        .map(|(i, _)| {
            line[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|m| {
            !m.is_empty() && m != "super" && m.chars().next().is_some_and(|c| c.is_lowercase())
        })
        .collect()
}

/// (layer, module within the layer) of a file under src/.
fn place(src: &Path, file: &Path) -> Option<(String, String)> {
    let rel = file.strip_prefix(src).ok()?;
    let mut parts = rel.iter().map(|s| s.to_string_lossy().to_string());
    let layer = parts.next()?;
    if !LAYERS.contains(&layer.as_str()) {
        return None; // lib.rs, main.rs
    }
    let module = parts.next().unwrap_or_default();
    Some((layer, module.trim_end_matches(".rs").to_string()))
}

#[test]
fn no_use_points_up_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let rank = |l: &str| LAYERS.iter().position(|x| *x == l);
    let mut bad = Vec::new();
    for f in &files {
        let Some((layer, _)) = place(&src, f) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests (`#[cfg(test)]`, last in a file) are not part of the library.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code_lines(text) {
            for (to, _) in crate_paths(line) {
                match (rank(&layer), rank(&to)) {
                    (Some(a), Some(b)) if b > a => bad.push(format!(
                        "{}:{n}: layer `{layer}` uses `crate::{to}`, which is above it",
                        f.strip_prefix(&src).unwrap().display()
                    )),
                    (_, None) => bad.push(format!(
                        "{}:{n}: `crate::{to}` is not a layer (add it to LAYERS and src/lib.rs)",
                        f.strip_prefix(&src).unwrap().display()
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(bad.is_empty(), "upward uses:\n{}", bad.join("\n"));
}

/// The module path of a file under src/ (`engine/run.rs` -> engine::run, `app/sweep/mod.rs`
/// -> app::sweep).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().to_string())
        .collect();
    let last = parts.pop().unwrap();
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    parts
}

#[test]
fn no_cycles_between_sibling_modules() {
    // Nodes are modules; an edge a -> b means a uses b, where a and b are files of one folder
    // (siblings). A folder's mod.rs is left out: its re-exports are the folder's interface.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        if place(&src, f).is_none() || f.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        let me = module_path(&src, f);
        let parent = &me[..me.len() - 1];
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests may reach anywhere.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (_, line) in code_lines(text) {
            let mut targets: Vec<String> = super_paths(line);
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                let path: Vec<String> = rest[i + 7..]
                    .split("::")
                    .map(|s| {
                        s.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect()
                    })
                    .take_while(|s: &String| !s.is_empty())
                    .collect();
                if path.len() > parent.len() && path[..parent.len()] == *parent {
                    targets.push(path[parent.len()].clone());
                }
                rest = &rest[i + 7..];
            }
            for t in targets {
                if t != *me.last().unwrap() && t.chars().next().is_some_and(|c| c.is_lowercase()) {
                    let mut to = parent.to_vec();
                    to.push(t);
                    edges
                        .entry(me.join("::"))
                        .or_default()
                        .insert(to.join("::"));
                }
            }
        }
    }
    assert!(!edges.is_empty(), "the scanner found no edges at all");
    // Edges left out of the cycle check, each with its reason (none today).
    for (a, b) in ALLOWED_CYCLE_EDGES {
        edges.entry(a.to_string()).or_default().remove(*b);
    }
    // Depth-first search for a back edge.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let i = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[i..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    let nodes: Vec<String> = edges.keys().cloned().collect();
    for n in nodes {
        if !state.contains_key(&n) {
            if let Some(c) = visit(&n, &edges, &mut state, &mut Vec::new()) {
                panic!("module cycle: {}", c.join(" -> "));
            }
        }
    }
}

#[test]
fn the_scanner_sees_paths_and_skips_comments() {
    assert_eq!(
        crate_paths("use crate::record::load::RunData; x(crate::base::rng::stream)"),
        vec![
            ("record".into(), "load".into()),
            ("base".into(), "rng".into())
        ]
    );
    let text = "// crate::cli::x\nlet a = crate::base::gemm; // crate::app\n";
    let seen: Vec<_> = code_lines(text).flat_map(|(_, l)| crate_paths(l)).collect();
    assert_eq!(seen, vec![("base".to_string(), "gemm".to_string())]);
}
