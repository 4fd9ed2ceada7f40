//! Parquet datasets in shards (a folder, or a glob): the same audit as the single file, and
//! every bad shard named with its column, exit 2, nothing written.

use std::path::Path;

use polars::prelude::*;

use crate::common::{run, sample, stderr};

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn write(path: &Path, df: &mut DataFrame) {
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(df)
        .unwrap();
}

/// The sample split into `parts` shards `train-0000i-of-0000N.parquet` in `dir`.
fn split(dir: &Path, parts: usize) {
    let df = read(&sample());
    let n = df.height();
    for i in 0..parts {
        let (lo, hi) = (i * n / parts, (i + 1) * n / parts);
        let mut part = df.slice(lo as i64, hi - lo);
        write(
            &dir.join(format!("train-{i:05}-of-{parts:05}.parquet")),
            &mut part,
        );
    }
}

fn audit_json(input: &str, dir: &Path, name: &str) -> serde_json::Value {
    let json = dir.join(format!("{name}.json"));
    let o = run(&[
        "audit",
        input,
        "--out",
        dir.join(format!("{name}.html")).to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--k-max",
        "5",
        "--no-timings",
    ]);
    assert!(o.status.success(), "{input}: {}", stderr(&o));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // Where it came from and where the report went differ; nothing else may.
    v["corpus"]["source"] = serde_json::Value::Null;
    v["report"] = serde_json::Value::Null;
    v
}

#[test]
fn five_shards_audit_as_the_single_file() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = tmp.path().join("data");
    std::fs::create_dir(&shards).unwrap();
    split(&shards, 5);
    let single = audit_json(sample().to_str().unwrap(), tmp.path(), "single");
    let folder = audit_json(shards.to_str().unwrap(), tmp.path(), "folder");
    assert_eq!(single, folder, "a folder of shards");
    let glob = shards.join("train-*-of-00005.parquet");
    let globbed = audit_json(glob.to_str().unwrap(), tmp.path(), "glob");
    assert_eq!(single, globbed, "a glob of shards");
}

/// Runs `cluster` on `input` expecting exit 2, the message holding every `want`, and no
/// output written.
fn refused(input: &Path, want: &[&str]) {
    let out = input.parent().unwrap().join("labels.csv");
    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--k",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    for w in want {
        assert!(e.contains(w), "stderr lacks {w:?}: {e}");
    }
    assert!(!out.exists(), "nothing written");
}

#[test]
fn bad_shards_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    // A shard without the text column.
    let a = tmp.path().join("schema");
    std::fs::create_dir(&a).unwrap();
    split(&a, 3);
    let p = a.join("train-00001-of-00003.parquet");
    let mut df = read(&p).drop("text").unwrap();
    write(&p, &mut df);
    refused(
        &a,
        &["train-00001-of-00003.parquet", "column `text`", "missing"],
    );

    // A shard whose vectors have another dimension.
    let b = tmp.path().join("dim");
    std::fs::create_dir(&b).unwrap();
    split(&b, 2);
    let p = b.join("train-00001-of-00002.parquet");
    let df = read(&p);
    let rows = df.height();
    let short: Vec<Series> = (0..rows)
        .map(|i| Series::new("".into(), vec![1.0f32, 0.5, 0.25 + i as f32]))
        .collect();
    let list = Series::new("embedding".into(), short)
        .cast(&DataType::Array(Box::new(DataType::Float32), 3))
        .unwrap();
    let mut df = df.drop("embedding").unwrap();
    df.with_column(list.into_column()).unwrap();
    write(&p, &mut df);
    refused(
        &b,
        &["train-00001-of-00002.parquet", "column `embedding`", "type"],
    );

    // A folder with no Parquet files.
    let c = tmp.path().join("empty");
    std::fs::create_dir(&c).unwrap();
    std::fs::write(c.join("notes.txt"), "not data").unwrap();
    refused(&c, &["empty", "no .parquet files"]);

    // A truncated shard.
    let d = tmp.path().join("cut");
    std::fs::create_dir(&d).unwrap();
    split(&d, 2);
    let p = d.join("train-00000-of-00002.parquet");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    refused(&d, &["train-00000-of-00002.parquet", "Parquet"]);
}
