//! PostgreSQL (with or without pgvector) as a store.
//!
//! Read: one `COPY (SELECT ...) TO STDOUT (FORMAT binary)`, parsed as it streams (pgvector's
//! `vector` and `halfvec` in their binary send format, `real[]` and `double precision[]` as
//! binary arrays; ids, texts and labels cast to `text` by the server), so memory holds one row
//! at a time besides the corpus being built. Write-back: a table of its own (default
//! `embedscope_audit`: `source`, `id`, `audit_id`, `audited_at` and the findings), replaced
//! for this source inside one transaction, so a failed write leaves the previous one whole.
//!
//! The password comes from the URL, `PGPASSWORD` or the password file (`PGPASSFILE`, else
//! `~/.pgpass`), as libpq takes it; it appears nowhere else: the location shown is
//! `postgres://user@host:port/db`.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use super::{
    debug_location, redact_url, store_error, with_causes, ReadColumns, ReadSummary, Record, Store,
    StoreColumn, StoreOptions, Values, WriteBack, WriteBackSummary,
};
use crate::error::Result;

/// The default write-back table.
pub const WRITE_BACK_TABLE: &str = "embedscope_audit";

/// A Postgres table or query.
pub struct Postgres {
    client: Client,
    /// `postgres://user@host:port/db`.
    base: String,
    relation: Relation,
    write_back_table: String,
    /// Column name -> type name, from the last [`Store::columns`].
    types: Vec<(String, String)>,
    order_by: Option<String>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_location(f, "Postgres", self)
    }
}

enum Relation {
    /// A table, as given and quoted.
    Table { name: String, quoted: String },
    /// A query.
    Query(String),
}

impl Relation {
    /// The `FROM` item.
    fn rows_item(&self) -> String {
        match self {
            Relation::Table { quoted, .. } => format!("{quoted} AS embedscope_rows"),
            Relation::Query(q) => {
                format!("({}) AS embedscope_rows", q.trim().trim_end_matches(';'))
            }
        }
    }
    /// What the write-back table's `source` column says: the table, or the query.
    fn source(&self) -> String {
        match self {
            Relation::Table { name, .. } => name.clone(),
            Relation::Query(q) => format!("query:{}", q.trim()),
        }
    }
}

/// `name` as a quoted identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `schema.table` or `table`, each part quoted.
fn quote_table(name: &str) -> String {
    name.splitn(2, '.').map(quote).collect::<Vec<_>>().join(".")
}

/// The server's message for a database error, else the client's.
fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = db.message().to_string();
            if let Some(d) = db.detail() {
                m += &format!(" ({d})");
            }
            m
        }
        None => with_causes(e),
    }
}

impl Postgres {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db`, libpq's parameters
    /// after `?`), reading `options.table` or `options.query`. Unset parts come from
    /// `PGUSER`, `PGHOST`, `PGPORT`, `PGDATABASE` as in libpq.
    pub fn open(url: &str, options: &StoreOptions) -> Result<Postgres> {
        let shown = redact_url(url);
        let mut config: Config = url.parse().map_err(|e: postgres::Error| {
            store_error(&shown, format!("not a Postgres URL: {e}"))
        })?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if config.get_user().is_none() {
            config.user(
                &env("PGUSER")
                    .or_else(|| env("USER"))
                    .unwrap_or("postgres".into()),
            );
        }
        if config.get_hosts().is_empty() {
            config.host(&env("PGHOST").unwrap_or("localhost".into()));
        }
        if config.get_ports().is_empty() {
            if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
                config.port(p);
            }
        }
        if config.get_dbname().is_none() {
            if let Some(d) = env("PGDATABASE") {
                config.dbname(&d);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("").to_string();
        let db = config.get_dbname().unwrap_or(&user).to_string();
        let base = format!("postgres://{user}@{host}:{port}/{db}");
        if config.get_password().is_none() {
            if let Some(p) = env("PGPASSWORD").or_else(|| pgpass(&host, port, &db, &user)) {
                config.password(p);
            }
        }
        let relation =
            match (&options.table, &options.query) {
                (Some(t), None) => Relation::Table {
                    name: t.clone(),
                    quoted: quote_table(t),
                },
                (None, Some(q)) => Relation::Query(q.clone()),
                (Some(_), Some(_)) => {
                    return Err(store_error(&base, "give --table or --query, not both"))
                }
                (None, None) => return Err(store_error(
                    &base,
                    "which rows? name a table or a query (--table NAME or --sql \"SELECT ...\")",
                )),
            };
        let client = config
            .connect(NoTls)
            .map_err(|e| store_error(&base, format!("cannot connect: {}", message(&e))))?;
        Ok(Postgres {
            client,
            base,
            relation,
            write_back_table: options
                .write_back_table
                .clone()
                .unwrap_or_else(|| WRITE_BACK_TABLE.into()),
            types: Vec::new(),
            order_by: options.order_by.clone(),
        })
    }

    fn error(&self, message: impl Into<String>) -> crate::Error {
        store_error(&self.location(), message)
    }

    fn type_of(&self, column: &str) -> Option<&str> {
        self.types
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, t)| t.as_str())
    }
}

/// How a vector column is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VectorKind {
    Vector,
    Half,
    Real,
    Double,
}

/// Shown type names: `real[]` rather than `_float4`.
fn shown_type(name: &str) -> String {
    match name {
        "_float4" => "real[]".into(),
        "_float8" => "double precision[]".into(),
        "float4" => "real".into(),
        "float8" => "double precision".into(),
        n if n.starts_with('_') => format!("{}[]", &n[1..]),
        n => n.into(),
    }
}

impl Store for Postgres {
    fn location(&self) -> String {
        match &self.relation {
            Relation::Table { name, .. } => format!("{} table {name}", self.base),
            Relation::Query(_) => format!("{} query", self.base),
        }
    }

    fn columns(&mut self) -> Result<Vec<StoreColumn>> {
        let probe = format!("SELECT * FROM {} LIMIT 0", self.relation.rows_item());
        let stmt = match self.client.prepare(&probe) {
            Ok(s) => s,
            Err(e) => return Err(self.error(message(&e))),
        };
        self.types = stmt
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.type_().name().to_string()))
            .collect();
        Ok(self
            .types
            .iter()
            .map(|(n, t)| StoreColumn {
                name: n.clone(),
                kind: shown_type(t),
            })
            .collect())
    }

    fn read(
        &mut self,
        columns: &ReadColumns,
        batch: usize,
        out: &mut dyn FnMut(Vec<Record>) -> Result<()>,
    ) -> Result<ReadSummary> {
        if self.types.is_empty() {
            self.columns()?;
        }
        let kind = match &columns.vector {
            None => None,
            Some(v) => Some(match self.type_of(v) {
                Some("vector") => VectorKind::Vector,
                Some("halfvec") => VectorKind::Half,
                Some("_float4") => VectorKind::Real,
                Some("_float8") => VectorKind::Double,
                Some(other) => {
                    return Err(self.error(format!(
                        "column `{v}` is of type {}; expected vector, halfvec, real[] or double precision[]",
                        shown_type(other)
                    )))
                }
                None => return Err(self.error(format!("no column `{v}`"))),
            }),
        };
        let as_text = |c: &Option<String>| {
            c.as_deref().map_or_else(
                || "NULL::text".to_string(),
                |c| format!("{}::text", quote(c)),
            )
        };
        // A table's rows are sorted by id after the read (in `store::load`), so that an
        // audit repeats whatever the table's physical order; a query keeps its own order;
        // `--order-by COL` has the server sort.
        let order = match self.order_by.as_deref() {
            None | Some("none") => String::new(),
            Some(c) => {
                if self.type_of(c).is_none() {
                    return Err(self.error(format!("--order-by: no column `{c}`")));
                }
                // Qualified: the bare name would mean the output column, cast to text.
                format!(" ORDER BY embedscope_rows.{}", quote(c))
            }
        };
        let sort_by_id = self.order_by.is_none()
            && matches!(self.relation, Relation::Table { .. })
            && columns.id.is_some();
        let sql = format!(
            "COPY (SELECT {}, {}, {}, {} FROM {}{order}) TO STDOUT (FORMAT binary)",
            as_text(&columns.id),
            as_text(&columns.text),
            as_text(&columns.label),
            columns
                .vector
                .as_deref()
                .map_or_else(|| "NULL::real[]".to_string(), quote),
            self.relation.rows_item()
        );
        let location = self.location();
        let vector_column = columns.vector.clone().unwrap_or_default();
        let reader = self
            .client
            .copy_out(&sql)
            .map_err(|e| store_error(&location, message(&e)))?;
        let mut r = BufReader::with_capacity(1 << 20, reader);
        let io = |e: std::io::Error| store_error(&location, format!("reading the rows: {e}"));
        let mut signature = [0u8; 11];
        r.read_exact(&mut signature).map_err(io)?;
        if &signature != b"PGCOPY\n\xff\r\n\0" {
            return Err(store_error(
                &location,
                "the server's COPY stream is not binary COPY",
            ));
        }
        let _flags = read_i32(&mut r).map_err(io)?;
        let extension = read_i32(&mut r).map_err(io)?;
        skip(&mut r, extension.max(0) as usize).map_err(io)?;
        let mut records: Vec<Record> = Vec::with_capacity(batch.min(100_000));
        let mut field = Vec::new();
        let mut rows = 0usize;
        loop {
            let fields = read_i16(&mut r).map_err(io)?;
            if fields == -1 {
                break;
            }
            if fields != 4 {
                return Err(store_error(
                    &location,
                    format!("row {rows}: {fields} fields in the COPY stream, expected 4"),
                ));
            }
            let mut text_field = |r: &mut BufReader<_>| -> Result<Option<String>> {
                Ok(match read_field(r, &mut field).map_err(io)? {
                    false => None,
                    true => Some(String::from_utf8_lossy(&field).into_owned()),
                })
            };
            let id = text_field(&mut r)?;
            let text = text_field(&mut r)?;
            let label = text_field(&mut r)?;
            let vector = match read_field(&mut r, &mut field).map_err(io)? {
                false => None,
                true => match kind {
                    None => None,
                    Some(k) => Some(decode_vector(k, &field).map_err(|m| {
                        let who = id
                            .as_deref()
                            .map_or_else(String::new, |id| format!(" (id {id:?})"));
                        store_error(
                            &location,
                            format!("row {rows}{who}: column `{vector_column}`: {m}"),
                        )
                    })?),
                },
            };
            records.push(Record {
                id,
                text,
                label,
                vector,
            });
            rows += 1;
            if records.len() >= batch {
                out(std::mem::replace(
                    &mut records,
                    Vec::with_capacity(batch.min(100_000)),
                ))?;
            }
        }
        if !records.is_empty() {
            out(records)?;
        }
        // Drain what follows the trailer so the connection is ready for the next command.
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).map_err(io)?;
        Ok(ReadSummary {
            rows,
            half: kind == Some(VectorKind::Half),
            sort_by_id,
        })
    }

    fn write_back(&mut self, rows: &WriteBack) -> Result<WriteBackSummary> {
        rows.check()?;
        let table = quote_table(&self.write_back_table);
        let target = format!("{} table {}", self.base, self.write_back_table);
        let fail = |e: postgres::Error| {
            store_error(
                &target,
                format!(
                    "write-back failed, the previous one stands: {}",
                    message(&e)
                ),
            )
        };
        let source = self.relation.source();
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (source text NOT NULL, id text NOT NULL, \
             audit_id text NOT NULL, audited_at timestamptz NOT NULL DEFAULT now(), \
             PRIMARY KEY (source, id))"
        ))
        .map_err(fail)?;
        for (name, values) in &rows.columns {
            let ty = match values {
                Values::Int(_) => "bigint",
                Values::Float(_) => "double precision",
                Values::Bool(_) => "boolean",
                Values::Text(_) => "text",
            };
            tx.batch_execute(&format!(
                "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {} {ty}",
                quote(name)
            ))
            .map_err(fail)?;
        }
        tx.execute(
            &format!("DELETE FROM {table} WHERE source = $1"),
            &[&source],
        )
        .map_err(fail)?;
        let names: Vec<String> = ["source", "id", "audit_id"]
            .into_iter()
            .map(quote)
            .chain(rows.columns.iter().map(|(n, _)| quote(n)))
            .collect();
        let writer = tx
            .copy_in(&format!("COPY {table} ({}) FROM STDIN", names.join(", ")))
            .map_err(fail)?;
        let mut w = BufWriter::with_capacity(1 << 20, writer);
        let mut line = String::new();
        let io = |e: std::io::Error| {
            store_error(
                &target,
                format!("write-back failed, the previous one stands: {e}"),
            )
        };
        for (r, id) in rows.ids.iter().enumerate() {
            line.clear();
            copy_text(&mut line, &source);
            line.push('\t');
            copy_text(&mut line, id);
            line.push('\t');
            copy_text(&mut line, &rows.audit_id);
            for (_, values) in &rows.columns {
                line.push('\t');
                copy_value(&mut line, values, r);
            }
            line.push('\n');
            w.write_all(line.as_bytes()).map_err(io)?;
        }
        let writer = w
            .into_inner()
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        writer.finish().map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(WriteBackSummary {
            target,
            rows: rows.ids.len(),
            columns: rows.columns.iter().map(|(n, _)| n.clone()).collect(),
        })
    }
}

/// Appends `s` escaped for COPY's text format.
fn copy_text(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Appends row `r` of `values` in COPY's text format (`\N` for NULL).
fn copy_value(out: &mut String, values: &Values, r: usize) {
    use std::fmt::Write as _;
    match values {
        Values::Int(v) => match v[r] {
            Some(x) => {
                let _ = write!(out, "{x}");
            }
            None => out.push_str("\\N"),
        },
        Values::Float(v) => match v[r] {
            Some(x) if x.is_nan() => out.push_str("NaN"),
            Some(x) if x.is_infinite() => {
                out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Some(x) => {
                let _ = write!(out, "{x}");
            }
            None => out.push_str("\\N"),
        },
        Values::Bool(v) => match v[r] {
            Some(true) => out.push('t'),
            Some(false) => out.push('f'),
            None => out.push_str("\\N"),
        },
        Values::Text(v) => match &v[r] {
            Some(s) => copy_text(out, s),
            None => out.push_str("\\N"),
        },
    }
}

fn read_i16(r: &mut impl Read) -> std::io::Result<i16> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    Ok(i16::from_be_bytes(b))
}

fn read_i32(r: &mut impl Read) -> std::io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_be_bytes(b))
}

fn skip(r: &mut impl BufRead, mut n: usize) -> std::io::Result<()> {
    while n > 0 {
        let got = r.fill_buf()?.len().min(n);
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        r.consume(got);
        n -= got;
    }
    Ok(())
}

/// Reads one field into `buf`; false when it is NULL.
fn read_field(r: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let len = read_i32(r)?;
    if len < 0 {
        return Ok(false);
    }
    buf.resize(len as usize, 0);
    r.read_exact(buf)?;
    Ok(true)
}

/// A vector from its binary send format.
fn decode_vector(kind: VectorKind, b: &[u8]) -> std::result::Result<Vec<f32>, String> {
    let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    match kind {
        VectorKind::Vector | VectorKind::Half => {
            if b.len() < 4 {
                return Err(format!("{} bytes is no vector", b.len()));
            }
            let dim = be16(0) as usize;
            let width = if kind == VectorKind::Vector { 4 } else { 2 };
            if b.len() != 4 + width * dim {
                return Err(format!("{} bytes for {dim} dimensions", b.len()));
            }
            Ok((0..dim)
                .map(|i| {
                    let at = 4 + width * i;
                    if kind == VectorKind::Vector {
                        f32::from_bits(be32(at))
                    } else {
                        half::f16::from_bits(be16(at)).to_f32()
                    }
                })
                .collect())
        }
        VectorKind::Real | VectorKind::Double => {
            if b.len() < 12 {
                return Err(format!("{} bytes is no array", b.len()));
            }
            let ndim = be32(0) as i32;
            if ndim == 0 {
                return Ok(Vec::new());
            }
            if ndim != 1 {
                return Err(format!(
                    "a {ndim}-dimensional array; a vector is one-dimensional"
                ));
            }
            if b.len() < 20 {
                return Err(format!("{} bytes is no array", b.len()));
            }
            let n = be32(12) as usize;
            let width = if kind == VectorKind::Real { 4 } else { 8 };
            let mut out = Vec::with_capacity(n);
            let mut at = 20;
            for i in 0..n {
                if at + 4 > b.len() {
                    return Err("the array ends early".into());
                }
                let len = be32(at) as i32;
                at += 4;
                if len < 0 {
                    return Err(format!("element {i} is NULL"));
                }
                if len as usize != width || at + width > b.len() {
                    return Err(format!("element {i} has {len} bytes, expected {width}"));
                }
                out.push(if width == 4 {
                    f32::from_bits(be32(at))
                } else {
                    f64::from_bits(u64::from_be_bytes(
                        b[at..at + 8].try_into().expect("8 bytes"),
                    )) as f32
                });
                at += width;
            }
            Ok(out)
        }
    }
}

/// The password for (host, port, db, user) in the password file (`PGPASSFILE`, else
/// `~/.pgpass`): the first line whose fields match (`*` matches anything), `\:` and `\\`
/// escaped as libpq reads them.
fn pgpass(host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let port = port.to_string();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields = split_pgpass(line);
            if fields.len() < 5 {
                return None;
            }
            let host_ok =
                |f: &str| f == "*" || f == host || (f == "localhost" && host.starts_with('/'));
            let ok = host_ok(&fields[0])
                && (fields[1] == "*" || fields[1] == port)
                && (fields[2] == "*" || fields[2] == db)
                && (fields[3] == "*" || fields[3] == user);
            ok.then(|| fields[4].clone())
        })
}

/// A password-file line split at unescaped colons.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("a field").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("a field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_decode_from_their_send_formats() {
        // vector: dim 2, unused 0, then 1.5 and -2.0 as big-endian f32.
        let mut b = vec![0, 2, 0, 0];
        b.extend(1.5f32.to_be_bytes());
        b.extend((-2.0f32).to_be_bytes());
        assert_eq!(decode_vector(VectorKind::Vector, &b).unwrap(), [1.5, -2.0]);
        assert!(decode_vector(VectorKind::Vector, &b[..7]).is_err());
        // halfvec.
        let mut h = vec![0, 2, 0, 0];
        h.extend(half::f16::from_f32(0.5).to_bits().to_be_bytes());
        h.extend(half::f16::from_f32(-1.0).to_bits().to_be_bytes());
        assert_eq!(decode_vector(VectorKind::Half, &h).unwrap(), [0.5, -1.0]);
        // real[]: ndim 1, no nulls, oid 700, size 2, lower bound 1, two elements.
        let mut a = Vec::new();
        for x in [1i32, 0, 700, 2, 1] {
            a.extend(x.to_be_bytes());
        }
        for x in [0.25f32, 4.0] {
            a.extend(4i32.to_be_bytes());
            a.extend(x.to_be_bytes());
        }
        assert_eq!(decode_vector(VectorKind::Real, &a).unwrap(), [0.25, 4.0]);
        // A NULL element is named.
        let mut n = Vec::new();
        for x in [1i32, 1, 700, 1, 1, -1] {
            n.extend(x.to_be_bytes());
        }
        assert_eq!(
            decode_vector(VectorKind::Real, &n).unwrap_err(),
            "element 0 is NULL"
        );
    }

    #[test]
    fn copy_text_escapes_and_nulls() {
        let mut s = String::new();
        copy_text(&mut s, "a\tb\nc\\d");
        assert_eq!(s, "a\\tb\\nc\\\\d");
        let mut s = String::new();
        copy_value(&mut s, &Values::Float(vec![None, Some(f64::INFINITY)]), 0);
        copy_value(&mut s, &Values::Float(vec![None, Some(f64::INFINITY)]), 1);
        assert_eq!(s, "\\NInfinity");
    }

    #[test]
    fn password_file_lines_match_with_wildcards_and_escapes() {
        assert_eq!(
            split_pgpass("h:5432:db:ann:pa\\:ss:word"),
            ["h", "5432", "db", "ann", "pa:ss:word"]
        );
        assert_eq!(quote_table("public.my\"t"), "\"public\".\"my\"\"t\"");
    }
}
