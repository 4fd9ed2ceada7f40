//! Corpus loading: every format, and every kind of bad input named with its file, line or row,
//! and column.

use std::path::{Path, PathBuf};

use embedscope::io::{load, LoadOptions};
use embedscope::Error;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inputs")
        .join(name)
}

fn load_default(name: &str) -> Result<embedscope::Corpus, Error> {
    load(&fixture(name), &LoadOptions::default())
}

fn err(name: &str) -> String {
    load_default(name)
        .expect_err("bad input must be rejected")
        .to_string()
}

#[test]
fn jsonl_skips_blank_lines_and_reads_ids() {
    let c = load_default("tiny.jsonl").unwrap();
    assert_eq!(c.ids, ["a", "b"]);
    assert_eq!(c.texts.unwrap(), ["alpha", "beta"]);
    assert!(c.vectors.is_none());
}

#[test]
fn csv_reads_texts_and_vectors() {
    let c = load_default("tiny.csv").unwrap();
    assert_eq!(c.ids, ["a", "b"]);
    let v = c.vectors.unwrap();
    assert_eq!((v.rows(), v.dim()), (2, 2));
    assert_eq!(&*v.row(1), &[0.0, 1.0]);
}

#[test]
fn parquet_reads_lists_normalises_and_labels() {
    let opts = LoadOptions {
        label_column: Some("section".into()),
        ..LoadOptions::default()
    };
    let c = load(&fixture("tiny.parquet"), &opts).unwrap();
    assert_eq!(c.ids, ["a", "b", "c"]);
    assert_eq!(c.labels.unwrap(), ["x", "y", "x"]);
    let v = c.vectors.unwrap();
    assert_eq!(
        &*v.row(2),
        &[0.0, 0.0, 1.0],
        "rows are L2-normalised once on load"
    );
}

#[test]
fn parquet_fixed_size_lists_and_integer_ids() {
    let c = load_default("tiny-fixed.parquet").unwrap();
    assert_eq!(c.vectors.unwrap().dim(), 2);
    assert_eq!(c.ids, ["0", "1"], "row numbers when there is no id column");
}

#[test]
fn sample_corpus_loads_with_its_vectors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/debian-2k.parquet");
    let c = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(c.len(), 2000);
    assert_eq!(c.vectors.as_ref().unwrap().dim(), 384);
    assert!(c.texts.as_ref().unwrap()[0].starts_with("cross (turbo) assembler"));
}

#[test]
fn npy_round_trip_through_load() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.npy");
    let mut f = std::fs::File::create(&p).unwrap();
    embedscope::io::npy::write_npy(&mut f, &[3.0, 4.0, 0.0, 1.0], 2, 2).unwrap();
    drop(f);
    let c = load(&p, &LoadOptions::default()).unwrap();
    assert!(c.texts.is_none());
    assert_eq!(&*c.vectors.unwrap().row(0), &[0.6, 0.8]);
}

/// Every bad file in `tests/fixtures/inputs` and what its error must say: the file, the line
/// (text formats) or row (Parquet), the column and the value.
const BAD_FILES: &[(&str, &[&str])] = &[
    (
        "does-not-exist.jsonl",
        &["does-not-exist.jsonl", "no such file"],
    ),
    ("no-text.csv", &["no column `text`", "id, body"]),
    (
        "bad-line.jsonl",
        &["bad-line.jsonl: line 2: not a JSON object"],
    ),
    (
        "ragged.jsonl",
        &["line 2", "3 values, expected 2 like line 1"],
    ),
    (
        "tiny-ragged.parquet",
        &["row 2", "2 values, expected 3 like row 0"],
    ),
    ("nan.csv", &["nan.csv: line 3", "not finite"]),
    ("tiny-nan.parquet", &["row 1", "element 0", "NaN"]),
    ("bad-fields.csv", &["line 3", "3 fields, expected 2"]),
    (
        "tiny-null-text.parquet",
        &["row 1", "`text` is missing or null"],
    ),
    (
        "tiny-int-text.parquet",
        &["column `text`", "expected strings"],
    ),
    ("empty.jsonl", &["empty.jsonl", "the corpus is empty"]),
    (
        "tiny-empty.parquet",
        &["tiny-empty.parquet", "the corpus is empty"],
    ),
];

#[test]
fn every_bad_file_is_named_with_its_place() {
    for (name, wants) in BAD_FILES {
        let e = err(name);
        for want in *wants {
            assert!(e.contains(want), "{name}: `{e}` lacks `{want}`");
        }
    }
    for name in ["empty.jsonl", "tiny-empty.parquet"] {
        assert!(matches!(load_default(name), Err(Error::EmptyCorpus { .. })));
    }
}

#[test]
fn unsupported_extension_and_missing_vector_column() {
    let e = load(Path::new("corpus.txt"), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unsupported format") && e.contains("corpus.txt"),
        "{e}"
    );
    let opts = LoadOptions {
        vector_column: Some("vec".into()),
        ..LoadOptions::default()
    };
    let e = load(&fixture("tiny.jsonl"), &opts).unwrap_err().to_string();
    assert!(e.contains("no column `vec`"), "{e}");
}

#[test]
fn zero_vector_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("z.jsonl");
    std::fs::write(
        &p,
        "{\"text\": \"a\", \"vector\": [1, 2]}\n{\"text\": \"b\", \"vector\": [0, 0]}\n",
    )
    .unwrap();
    let e = load(&p, &LoadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("all zeros"), "{e}");
}

/// The sample's vectors as a float16 `.npy` (numpy's `<f2` layout, header written by hand).
fn write_f16_npy(path: &Path, data: &[f32], rows: usize, cols: usize) {
    let dict = format!("{{'descr': '<f2', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&header);
    for &v in data {
        bytes.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn float16_npy_gives_the_same_clusters_as_float32() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/debian-2k.parquet");
    let c = load(&sample, &LoadOptions::default()).unwrap();
    let v = c.vectors.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("debian-2k-f16.npy");
    write_f16_npy(&path, &v.as_f32(), v.rows(), v.dim());
    assert_eq!(
        std::fs::metadata(&path).unwrap().len() as usize,
        128 + v.rows() * v.dim() * 2,
        "half the bytes of float32"
    );
    let h = load(&path, &LoadOptions::default())
        .unwrap()
        .vectors
        .unwrap();
    assert_eq!((h.rows(), h.dim()), (v.rows(), v.dim()));
    let worst = (0..v.rows())
        .map(|i| {
            v.row(i)
                .iter()
                .zip(h.row(i).iter())
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum::<f64>()
        })
        .fold(1.0f64, f64::min);
    assert!(
        worst > 0.9999,
        "cosine of a widened row to its f32 row: {worst}"
    );
    use embedscope::cluster::{label_agreement, KMeans};
    let a = KMeans::params(10).n_init(10).seed(42).fit(&v).unwrap();
    let b = KMeans::params(10).n_init(10).seed(42).fit(&h).unwrap();
    // Every widened row falls in the cluster its f32 row is in.
    assert_eq!(a.predict(&h).unwrap(), a.labels());
    // Fitted on the f16 rows, K-Means reaches the same inertia (to 1e-4) and nearly the same
    // partition: debian-2k's structure is weak (silhouette 0.03), so near-equal optima differ
    // in a few border rows (measured: ARI 0.976, inertia 1461.709 vs 1461.701).
    let rel = (a.inertia() - b.inertia()).abs() / a.inertia();
    assert!(rel < 1e-4, "inertia {} vs {}", a.inertia(), b.inertia());
    let ari = label_agreement(a.labels(), b.labels()).ari;
    assert!(ari > 0.95, "K-Means on f16 vs f32: ARI {ari}");
}
