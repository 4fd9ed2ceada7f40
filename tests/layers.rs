//! The library's modules depend on each other one way: basics at the bottom, the audit and its
//! renderings at the top, the binary (`src/bin`) above everything. This test reads every
//! `crate::` path in the library's non-test code and fails on an arrow that points up, naming
//! the file and line, so the house stays one-way. A new top-level module must be given its
//! place in [`LAYERS`].

use std::path::{Path, PathBuf};

/// Top-level modules of `src/`, lowest first. A module may use only modules listed before it.
const LAYERS: &[&str] = &[
    // Basics: errors, randomness, progress, the distance, union-find, display building
    // blocks, arithmetic, f32/f16 storage, the similarity kernel, the vector matrix, HTTP.
    "error",
    "rng",
    "progress",
    "metric",
    "union_find",
    "display",
    "linalg",
    "matrix",
    "kernel",
    "embeddings",
    "http",
    // Reading and writing corpora, files and stores; turning texts into vectors; checking
    // the texts first.
    "io",
    "store",
    "embed",
    "health",
    // kNN graphs, clustering and its stability, the IVF index, duplicates.
    "neighbors",
    "cluster",
    "stability",
    "index",
    "dedup",
    // Retrieval evaluation, labels, projections; real queries against the corpus.
    "retrieve",
    "label",
    "project",
    "queries",
    // The whole run, two runs compared, and their renderings.
    "audit",
    "compare",
    "report",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to: `src/cluster/kmeans.rs` -> `cluster`, `src/kernel.rs` ->
/// `kernel`.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .expect("a path below src")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// The file's code without its test module and comments (doc links are not dependencies).
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..end]
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let code = line.split("//").next().unwrap_or("");
            (i + 1, code.to_string())
        })
        .collect()
}

/// The identifier at the start of `s` (after white space).
fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every `crate::name` on a line (also inside `use crate::{a, b::c}` groups spread over lines:
/// the group's first line names `crate::{`, then each item's first segment is a module).
fn arrows(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_group = false;
    for (line_no, line) in code_lines(text) {
        if in_group {
            found.extend(
                line.split(',')
                    .map(ident)
                    .filter(|n| n.starts_with(|c: char| c.is_ascii_lowercase()))
                    .map(|n| (line_no, n)),
            );
            in_group = !line.contains("};");
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            match rest.strip_prefix('{') {
                Some(inner) => match inner.find('}') {
                    Some(close) => found.extend(
                        inner[..close]
                            .split(',')
                            .map(ident)
                            .filter(|n| !n.is_empty())
                            .map(|n| (line_no, n)),
                    ),
                    None => in_group = true,
                },
                None => found.push((line_no, ident(rest))),
            }
        }
    }
    found
}

/// What the crate root re-exports (`pub use error::{Error, Result};` -> Error: error, ...), so
/// that `crate::Error` counts as a use of `error`.
fn root_exports(lib: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("pub use ") else {
            continue;
        };
        let module = ident(rest);
        let names = rest[module.len()..].trim_start_matches("::");
        let names = names
            .trim_end_matches(';')
            .trim_matches(|c| c == '{' || c == '}');
        for name in names.split(',') {
            let name = name.rsplit("::").next().unwrap_or("").trim();
            out.push((name.to_string(), module.clone()));
        }
    }
    out
}

#[test]
fn every_import_points_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let exports = root_exports(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    let mut modules = std::collections::BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("below src");
        if relative.starts_with("bin") || relative == Path::new("lib.rs") {
            continue;
        }
        let from = module_of(relative);
        modules.insert(from.clone());
        let Some(from_rank) = rank(&from) else {
            wrong.push(format!(
                "{}: module `{from}` has no place in LAYERS",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a source file");
        for (line, to) in arrows(&text) {
            let to = exports
                .iter()
                .find(|(name, _)| *name == to)
                .map_or(to, |(_, module)| module.clone());
            if to == from {
                continue;
            }
            match rank(&to) {
                Some(r) if r < from_rank => {}
                Some(_) => wrong.push(format!(
                    "src/{}:{line}: `{from}` uses `{to}`, which sits above it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "src/{}:{line}: `{from}` uses `{to}`, which has no place in LAYERS",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports pointing the wrong way:\n{}",
        wrong.join("\n")
    );
    // Every listed layer exists, so the list cannot rot.
    for layer in LAYERS {
        assert!(
            modules.contains(*layer),
            "LAYERS names `{layer}`, which src/ does not have"
        );
    }
}

#[test]
fn the_reader_sees_grouped_and_inline_paths() {
    let text = "use crate::a::B;\nuse crate::{b, c::D};\nuse crate::{\n    d::E,\n    e,\n};\nfn f() { crate::f::g(); } // crate::z\n#[cfg(test)]\nmod tests { use crate::y; }\n";
    let names: Vec<String> = arrows(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
    let lib =
        "pub mod audit;\npub use audit::Audit;\npub use error::{EmbeddingsError, Error, Result};\n";
    assert_eq!(
        root_exports(lib),
        [
            ("Audit", "audit"),
            ("EmbeddingsError", "error"),
            ("Error", "error"),
            ("Result", "error")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}
