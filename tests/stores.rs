//! Stores with real servers on loopback (started here, stopped when each test ends):
//! Postgres 18 with pgvector and a Chroma server. The sample loaded as `vector(384)` and
//! `real[]`, the half-float fixture as `halfvec`, and the sample as a Chroma collection:
//! `audit` on each gives the same `audit.json` (no timings) as the Parquet file, and the
//! write-back rows equal `assignments.parquet` row for row; a re-run replaces the
//! write-back, a failed one leaves the previous whole; bad input (unreachable server, wrong
//! password, missing table, column or collection, a NULL vector, mixed dimensions) exits 2
//! naming the host, table, row and id, and the password appears in no output.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::stores::{read_raw, skip_reason, ChromaServer, PgServer, Raw, PG_PASSWORD};
use common::{fixture, sample, stderr};
use polars::prelude::*;

/// COPY text-format escaping.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// Creates `table` with the rows, the vectors in a column of `vector_type`.
fn pg_load(c: &mut postgres::Client, table: &str, vector_type: &str, raw: &Raw) {
    use std::io::Write;
    let array = vector_type.ends_with("[]");
    let mut cols = vec!["id bigint".to_string()];
    if raw.texts.is_some() {
        cols.push("text text".into());
    }
    if raw.sections.is_some() {
        cols.push("section text".into());
    }
    cols.push(format!("embedding {vector_type}"));
    c.batch_execute(&format!("CREATE TABLE {table} ({})", cols.join(", ")))
        .unwrap();
    let mut w = c.copy_in(&format!("COPY {table} FROM STDIN")).unwrap();
    for (r, v) in raw.vectors.iter().enumerate() {
        let mut line = raw.ids[r].clone();
        if let Some(t) = &raw.texts {
            line += &format!("\t{}", esc(&t[r]));
        }
        if let Some(s) = &raw.sections {
            line += &format!("\t{}", esc(&s[r]));
        }
        let values: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
        let (open, close) = if array { ("{", "}") } else { ("[", "]") };
        line += &format!("\t{open}{}{close}\n", values.join(","));
        w.write_all(line.as_bytes()).unwrap();
    }
    w.finish().unwrap();
}

/// Runs the binary with the Postgres password in `PGPASSWORD`.
fn run_pg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args(args)
        .env("PGPASSWORD", PG_PASSWORD)
        .output()
        .unwrap()
}

/// The flags every audit of the round trips shares: the sections that take longest
/// (stability, noise) left out, no timings.
const AUDIT_FLAGS: [&str; 6] = [
    "--stability-runs",
    "0",
    "--no-noise",
    "--no-timings",
    "--k-max",
    "6",
];

/// Audits `input` (extra flags `more`) into `dir/NAME.{html,json}` and `dir/NAME-tables`;
/// returns audit.json with the input's name and the report's path blanked.
fn audit(input: &str, name: &str, dir: &Path, more: &[&str]) -> (serde_json::Value, Output) {
    let html = dir.join(format!("{name}.html"));
    let json = dir.join(format!("{name}.json"));
    let tables = dir.join(format!("{name}-tables"));
    let mut args = vec![
        "audit",
        input,
        "--out",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--tables",
        tables.to_str().unwrap(),
    ];
    args.extend(AUDIT_FLAGS);
    args.extend(more);
    let o = run_pg(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    let text = std::fs::read_to_string(&json).unwrap();
    for (what, t) in [
        ("audit.json", text.clone()),
        ("report", std::fs::read_to_string(&html).unwrap()),
        ("stderr", stderr(&o)),
    ] {
        assert!(!t.contains(PG_PASSWORD), "the password is in the {what}");
    }
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["report"] = serde_json::Value::Null;
    v["corpus"]["source"] = serde_json::Value::Null;
    (v, o)
}

/// The first difference between two JSON values, as a path.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (p, q) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_difference(p, q, &format!("{at}.{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

fn assert_same_audit(file: &serde_json::Value, store: &serde_json::Value, what: &str) {
    if let Some(d) = first_difference(file, store, "") {
        let dump = std::env::temp_dir().join(format!(
            "store-audit-{}",
            what.replace(['(', ')', '[', ']'], "")
        ));
        std::fs::write(
            dump.with_extension("file.json"),
            serde_json::to_string_pretty(file).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dump.with_extension("store.json"),
            serde_json::to_string_pretty(store).unwrap(),
        )
        .unwrap();
        panic!("{what}: audit.json differs from the Parquet file's at {d}");
    }
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// The write-back rows of `source` equal assignments.parquet, row for row, column for column.
fn assert_write_back_equals(c: &mut postgres::Client, source: &str, tables: &Path) -> String {
    let df = read_parquet(&tables.join("assignments.parquet"));
    let rows = c
        .query(
            "SELECT * FROM embedscope_audit WHERE source = $1 ORDER BY row",
            &[&source],
        )
        .unwrap();
    assert_eq!(rows.len(), df.height(), "{source}: one row per document");
    let audit_id: String = rows[0].get("audit_id");
    for col in df.columns() {
        let name = col.name().as_str();
        let want: Vec<String> = (0..df.height())
            .map(|r| {
                let v = col.get(r).unwrap();
                match v {
                    AnyValue::Null => "NULL".into(),
                    AnyValue::Float32(x) => format!("{x:?}"),
                    AnyValue::String(s) => s.to_string(),
                    other => other.to_string(),
                }
            })
            .collect();
        let got: Vec<String> = rows
            .iter()
            .map(|row| {
                let idx = row
                    .columns()
                    .iter()
                    .position(|c| c.name() == name)
                    .unwrap_or_else(|| panic!("no column {name} written back"));
                match row.columns()[idx].type_().name() {
                    "int8" => row
                        .get::<_, Option<i64>>(idx)
                        .map_or("NULL".into(), |x| x.to_string()),
                    "float8" => row
                        .get::<_, Option<f64>>(idx)
                        .map_or("NULL".into(), |x| format!("{:?}", x as f32)),
                    "bool" => row
                        .get::<_, Option<bool>>(idx)
                        .map_or("NULL".into(), |x| x.to_string()),
                    _ => row
                        .get::<_, Option<String>>(idx)
                        .unwrap_or_else(|| "NULL".into()),
                }
            })
            .collect();
        assert_eq!(got, want, "write-back column {name} of {source}");
    }
    audit_id
}

#[test]
fn postgres_tables_audit_as_their_parquet_files_and_take_the_findings_back() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: no Postgres with pgvector here ({why})");
        return;
    }
    let pg = PgServer::start();
    let mut c = pg.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let raw = read_raw(&sample());
    pg_load(&mut c, "docs_vector", "vector(384)", &raw);
    pg_load(&mut c, "docs_array", "real[]", &raw);
    let half = read_raw(&fixture("inputs/debian-500-f16-list.parquet"));
    pg_load(&mut c, "half_docs", "halfvec(384)", &half);

    // The Parquet file, then the same rows in each table.
    let label = ["--label-column", "section"];
    let (want, _) = audit(sample().to_str().unwrap(), "file", dir.path(), &label);
    let url = pg.url();
    let mut more = vec!["--table", "docs_vector", "--write-back"];
    more.extend(label);
    let (got, o) = audit(&url, "vector", dir.path(), &more);
    assert_same_audit(&want, &got, "vector(384)");
    assert!(
        stderr(&o).contains("wrote back 2000 rows"),
        "{}",
        stderr(&o)
    );
    let first = assert_write_back_equals(&mut c, "docs_vector", &dir.path().join("vector-tables"));

    let mut more = vec!["--table", "docs_array"];
    more.extend(label);
    let (got, _) = audit(&url, "array", dir.path(), &more);
    assert_same_audit(&want, &got, "real[]");

    let (want_half, _) = audit(
        fixture("inputs/debian-500-f16-list.parquet")
            .to_str()
            .unwrap(),
        "half-file",
        dir.path(),
        &[],
    );
    let (got_half, _) = audit(&url, "half", dir.path(), &["--table", "half_docs"]);
    assert_same_audit(&want_half, &got_half, "halfvec(384)");

    // A query instead of a table, the password in the URL instead of PGPASSWORD: the same.
    let sql = "SELECT id, text, section, embedding FROM docs_vector";
    let o = Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args(["cluster", &pg.url_with_password(), "--sql", sql, "--k", "4"])
        .args([
            "--out",
            dir.path().join("sql.csv").to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains(PG_PASSWORD));
    assert!(!stderr(&o).contains(PG_PASSWORD));

    // The password from a password file (PGPASSFILE, libpq's format), none in the URL or
    // the environment; and a store's Debug shows its location only.
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# host:port:db:user:password\n127.0.0.1:{}:*:embedscope:{PG_PASSWORD}\n",
            pg.port
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args(["cluster", &url, "--table", "half_docs", "--k", "3"])
        .args(["--out", dir.path().join("pgpass.csv").to_str().unwrap()])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let options = embedscope::store::StoreOptions {
        table: Some("docs_vector".into()),
        ..Default::default()
    };
    let store = embedscope::store::open(&pg.url_with_password(), &options).unwrap();
    let shown = format!("{store:?} {}", store.location());
    assert!(
        !shown.contains(PG_PASSWORD) && shown.contains("docs_vector"),
        "{shown}"
    );

    // A re-run replaces the write-back (same rows, a new audit id) ...
    let mut more = vec!["--table", "docs_vector", "--write-back"];
    more.extend(label);
    audit(&url, "vector2", dir.path(), &more);
    let second =
        assert_write_back_equals(&mut c, "docs_vector", &dir.path().join("vector2-tables"));
    assert_ne!(first, second);
    // ... and a failed one leaves the previous whole: a constraint only the current audit id
    // satisfies makes the next write-back fail inside its transaction.
    c.batch_execute(&format!(
        "ALTER TABLE embedscope_audit ADD CONSTRAINT only_this CHECK (audit_id = '{second}')"
    ))
    .unwrap();
    let out = dir.path().join("failed.html");
    let mut args = vec!["audit", &url, "--table", "docs_vector", "--write-back"];
    args.extend(AUDIT_FLAGS);
    let outs = out.to_str().unwrap();
    args.extend(["--out", outs]);
    let o = run_pg(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("write-back failed, the previous one stands")
            && stderr(&o).contains("only_this"),
        "{}",
        stderr(&o)
    );
    let kept: Vec<String> = c
        .query(
            "SELECT DISTINCT audit_id FROM embedscope_audit WHERE source = 'docs_vector'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kept, [second]);
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM embedscope_audit WHERE source = 'docs_vector'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 2000);
    // The user's table is untouched.
    let cols: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'docs_vector'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(cols, 4);

    // Bad input, each exit 2 with the host, table, row or id named and no password.
    c.batch_execute(
        "CREATE TABLE holes (id text, embedding vector(3));
         INSERT INTO holes VALUES ('a', '[1,0,0]'), ('b', NULL);
         CREATE TABLE ragged (id text, embedding real[]);
         INSERT INTO ragged VALUES ('a', '{1,0,0}'), ('b', '{1,0,0}'), ('short', '{1,0}');",
    )
    .unwrap();
    let closed = common::stores::free_port();
    let unreachable = format!("postgres://embedscope:{PG_PASSWORD}@127.0.0.1:{closed}/postgres");
    let wrong = format!(
        "postgres://embedscope:not-the-password@127.0.0.1:{}/postgres",
        pg.port
    );
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec![&unreachable, "--table", "docs_vector"],
            vec![format!("127.0.0.1:{closed}"), "cannot connect".into()],
        ),
        (
            vec![&wrong, "--table", "docs_vector"],
            vec!["password authentication failed".into()],
        ),
        (
            vec![&url, "--table", "no_such_table"],
            vec!["no_such_table".into(), "does not exist".into()],
        ),
        (
            vec![&url, "--table", "docs_vector", "--vector-column", "nope"],
            vec!["no column `nope`".into(), "docs_vector".into()],
        ),
        (
            vec![&url, "--table", "holes"],
            vec![
                "row 1 (id \"b\")".into(),
                "`embedding` is missing or null".into(),
            ],
        ),
        (
            vec![&url, "--table", "ragged"],
            vec![
                "row 2 (id \"short\")".into(),
                "has 2 values, expected 3".into(),
            ],
        ),
        (vec![&url], vec!["--table NAME or --sql".into()]),
    ];
    let assignments = dir.path().join("never.csv");
    for (input, expected) in cases {
        let mut args = vec!["cluster"];
        args.extend(input.iter().copied());
        args.extend(["--k", "2", "--out", assignments.to_str().unwrap()]);
        let started = Instant::now();
        let o = run_pg(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{args:?} took {:?}",
            started.elapsed()
        );
        for x in expected {
            assert!(e.contains(&x), "{args:?}: expected {x:?} in: {e}");
        }
        assert!(
            !e.contains(PG_PASSWORD) && !e.contains("not-the-password"),
            "{e}"
        );
    }
    // --write-back needs a store.
    let o = run_pg(&["audit", sample().to_str().unwrap(), "--write-back"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tables for files"), "{}", stderr(&o));
}

#[test]
fn a_chroma_collection_audits_as_its_parquet_file_and_takes_the_findings_as_metadata() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: no Chroma server here ({why})");
        return;
    }
    let chroma = ChromaServer::start();
    // The collection holds the file's rows as they are (Chroma keeps float32 as given).
    let raw = read_raw(&sample());
    let id = chroma.add("debian-sample", &raw);
    let dir = tempfile::tempdir().unwrap();
    let label = ["--label-column", "section"];
    let (want, _) = audit(sample().to_str().unwrap(), "file", dir.path(), &label);
    let url = chroma.url("debian-sample");
    let mut more = vec!["--write-back", "--batch-rows", "700"];
    more.extend(label);
    let (got, o) = audit(&url, "chroma", dir.path(), &more);
    assert_same_audit(&want, &got, "Chroma");
    assert!(
        stderr(&o).contains("wrote back 2000 rows"),
        "{}",
        stderr(&o)
    );

    // The metadata now carries embedscope_* fields equal to assignments.parquet.
    let df = read_parquet(&dir.path().join("chroma-tables/assignments.parquet"));
    let base =
        format!("/api/v2/tenants/default_tenant/databases/default_database/collections/{id}/get");
    let got = chroma
        .call(
            "POST",
            &base,
            Some(serde_json::json!({"limit": 3000, "include": ["metadatas", "documents"]})),
        )
        .unwrap();
    let ids: Vec<&str> = got["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let metas = got["metadatas"].as_array().unwrap();
    let by_id: std::collections::HashMap<&str, &serde_json::Value> =
        ids.iter().copied().zip(metas.iter()).collect();
    let df_ids = df.column("id").unwrap().str().unwrap().clone();
    for name in [
        "cluster",
        "label",
        "duplicate_group",
        "kept",
        "centroid_cosine",
    ] {
        let col = df.column(name).unwrap();
        for r in 0..df.height() {
            let m = by_id[df_ids.get(r).unwrap()];
            let row = raw
                .ids
                .iter()
                .position(|i| i == df_ids.get(r).unwrap())
                .unwrap();
            assert_eq!(
                m["section"],
                raw.sections.as_ref().unwrap()[row],
                "the user's metadata stays"
            );
            let field = &m[format!("embedscope_{name}")];
            let want = col.get(r).unwrap();
            let ok = match want {
                AnyValue::UInt32(x) => field.as_i64() == Some(x as i64),
                AnyValue::Int32(x) => field.as_i64() == Some(x as i64),
                AnyValue::Boolean(x) => field.as_bool() == Some(x),
                AnyValue::String(s) => field.as_str() == Some(s),
                AnyValue::Float32(x) => field.as_f64().map(|f| f as f32) == Some(x),
                other => panic!("{other:?}"),
            };
            assert!(ok, "row {r} {name}: {field} vs {want:?}");
        }
    }
    // The documents are untouched.
    let first = raw.ids.iter().position(|i| i == ids[0]).unwrap();
    assert_eq!(
        got["documents"][0].as_str().unwrap(),
        raw.texts.as_ref().unwrap()[first]
    );

    // A collection that does not exist, a server that is not there: exit 2, named.
    for (input, expected) in [
        (
            chroma.url("no-such-collection"),
            "no collection `no-such-collection`".to_string(),
        ),
        (
            format!("chroma://127.0.0.1:{}/x", common::stores::free_port()),
            "cannot reach the server".to_string(),
        ),
    ] {
        let out = dir.path().join("never.csv");
        let o = run_pg(&[
            "cluster",
            &input,
            "--k",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(&expected), "{}", stderr(&o));
    }
}
