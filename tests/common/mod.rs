//! Helpers shared by the integration tests: paths in the repository and running the binary.

#![allow(dead_code)]

pub mod merged;
pub mod server;
pub mod stores;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path relative to the repository root.
pub fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A file of `tests/fixtures` (`inputs/`, `reference/` or `parity/`; see its README).
pub fn fixture(relative: &str) -> PathBuf {
    repo("tests/fixtures").join(relative)
}

/// The shipped sample corpus.
pub fn sample() -> PathBuf {
    repo("samples/debian-2k.parquet")
}

/// Runs the `embedscope` binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// What the binary wrote to stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the binary with `args` (a `--json` command), asserts that it succeeded (showing its
/// stderr if not) and returns the JSON object it printed.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// The first `n` documents of the sample corpus, with their vectors.
pub fn sample_head(n: usize) -> embedscope::Corpus {
    let full = embedscope::io::load(&repo("samples/debian-2k.parquet"), &Default::default())
        .expect("the sample corpus loads");
    let rows: Vec<usize> = (0..n).collect();
    let mut c = embedscope::Corpus::from_texts(full.texts.expect("texts")[..n].to_vec());
    c.ids = full.ids[..n].to_vec();
    c.vectors = Some(full.vectors.expect("vectors").select(&rows));
    c.source = "debian-head.parquet".into();
    c
}

/// Two snapshots of the sample (with its `section` labels): A its first 1,500 documents, B
/// its last 1,500 plus copies of A's first `copies` under new ids (`copy-<i>`).
pub fn sample_snapshots(copies: usize) -> (embedscope::Corpus, embedscope::Corpus) {
    let options = embedscope::io::LoadOptions {
        label_column: Some("section".into()),
        ..Default::default()
    };
    let full = embedscope::io::load(&repo("samples/debian-2k.parquet"), &options)
        .expect("the sample corpus loads");
    let mut a = full.select(&(0..1500).collect::<Vec<_>>());
    a.source = "debian-first-1500.parquet".into();
    let mut b = full.select(&(500..2000).chain(0..copies).collect::<Vec<_>>());
    for (i, id) in b.ids[1500..].iter_mut().enumerate() {
        *id = format!("copy-{i}");
    }
    b.source = "debian-last-1500.parquet".into();
    (a, b)
}

/// Documents that try to run script or break out of attributes and script elements; each
/// sets `data-pwned` on `<html>` if it ever runs.
pub const HOSTILE: [&str; 4] = [
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>",
    "\"quoted\" 'single' </script><script>document.documentElement.setAttribute('data-pwned','close')</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
    "--><!-- </title></style><b>bold</b> & ampersand",
];

/// `base` with the [`HOSTILE`] documents appended, each a near copy (same vector) of one of the
/// first rows, so they also appear among the duplicates and cluster examples.
pub fn hostile_corpus(mut c: embedscope::Corpus) -> embedscope::Corpus {
    let v = c.vectors.take().expect("vectors");
    let mut data = v.as_f32().to_vec();
    for (i, text) in HOSTILE.iter().enumerate() {
        data.extend_from_slice(&v.row(i));
        c.ids.push(format!("hostile-{i}"));
        c.texts.as_mut().expect("texts").push(text.to_string());
    }
    c.vectors = Some(embedscope::Embeddings::new(data, v.dim()).expect("valid vectors"));
    c
}

/// The report's explorable map data (`<script id="explore-data">`: base64 of gzip-compressed
/// JSON), decoded.
pub fn explore_data(page: &str) -> serde_json::Value {
    let b64 = page
        .split("<script type=\"application/octet-stream\" id=\"explore-data\">")
        .nth(1)
        .and_then(|r| r.split("</script>").next())
        .expect("explore data in the page");
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            other => panic!("not base64: {other}"),
        }
    };
    let mut bytes = Vec::new();
    for chunk in b64.trim().as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk
            .iter()
            .map(|&c| if c == b'=' { 0 } else { value(c) })
            .fold(0u32, |acc, v| (acc << 6) | v);
        bytes.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json)
        .expect("gzip");
    serde_json::from_str(&json).expect("JSON")
}
