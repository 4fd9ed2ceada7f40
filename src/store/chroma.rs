//! A Chroma server's collection as a store, through its REST API (v2, as `chroma run` serves
//! it): the collection found by name, then paged `get` requests (ids, documents, embeddings,
//! metadatas), `batch` rows a page. Columns: `id` (Chroma's ids), `text` (its documents),
//! `embedding` (its embeddings) and every metadata key seen in the first rows (labels, or
//! texts kept in metadata). Write-back: `update` requests setting metadata fields
//! `embedscope_<finding>` on every row (a null finding removes the field, so a re-run leaves
//! no stale value), plus `embedscope_audit_id`; the user's documents and embeddings are never
//! sent. Chroma has no transactions: a write-back that fails part-way leaves some rows with
//! the new audit id and the rest with the old; the summary and the error say how many.
//!
//! A token in `CHROMA_API_KEY` is sent as `x-chroma-token` and shown nowhere.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    debug_location, redact_url, store_error, with_causes, ReadColumns, ReadSummary, Record, Store,
    StoreColumn, StoreOptions, Values, WriteBack, WriteBackSummary,
};
use crate::error::Result;
use crate::http::Secret;

/// The prefix of every metadata field a write-back sets.
pub const PREFIX: &str = "embedscope_";

/// A Chroma collection.
pub struct Chroma {
    client: reqwest::blocking::Client,
    /// `http://host:port`.
    http: String,
    /// `chroma://host:port/collection`.
    shown: String,
    tenant: String,
    database: String,
    collection: String,
    /// The collection's id, once looked up.
    id: String,
    token: Option<Secret>,
}

impl std::fmt::Debug for Chroma {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_location(f, "Chroma", self)
    }
}

#[derive(Deserialize)]
struct GetResponse {
    ids: Vec<String>,
    #[serde(default)]
    documents: Option<Vec<Option<String>>>,
    #[serde(default)]
    embeddings: Option<Vec<Option<Vec<f32>>>>,
    #[serde(default)]
    metadatas: Option<Vec<Option<Map<String, Value>>>>,
}

impl Chroma {
    /// Connects to `chroma://host:port/COLLECTION` (`?tenant=...&database=...` override the
    /// options') and looks the collection up.
    pub fn open(url: &str, options: &StoreOptions) -> Result<Chroma> {
        let shown = redact_url(url);
        let rest = url.trim_start_matches("chroma://");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, collection) = path.split_once('/').unwrap_or((path, ""));
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let collection = collection.trim_end_matches('/').to_string();
        if authority.is_empty() || collection.is_empty() || collection.contains('/') {
            return Err(store_error(
                &shown,
                "expected chroma://HOST:PORT/COLLECTION",
            ));
        }
        let mut tenant = options.tenant.clone();
        let mut database = options.database.clone();
        for p in query.split('&').filter(|p| !p.is_empty()) {
            match p.split_once('=') {
                Some(("tenant", v)) => tenant = v.to_string(),
                Some(("database", v)) => database = v.to_string(),
                _ => {
                    return Err(store_error(
                        &shown,
                        format!("unknown parameter `{p}` (tenant= and database= are known)"),
                    ))
                }
            }
        }
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:8000")
        };
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| store_error(&shown, format!("HTTP client: {e}")))?;
        let mut c = Chroma {
            client,
            http: format!("http://{authority}"),
            shown: format!("chroma://{authority}/{collection}"),
            tenant,
            database,
            collection,
            id: String::new(),
            token: std::env::var("CHROMA_API_KEY").ok().and_then(Secret::new),
        };
        let found = c.call(reqwest::Method::GET, &c.collection_path(), None)?;
        c.id = found
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| c.error("the server's answer names no collection id"))?
            .to_string();
        Ok(c)
    }

    fn error(&self, message: impl Into<String>) -> crate::Error {
        store_error(&self.location(), message)
    }

    fn collection_path(&self) -> String {
        format!(
            "/api/v2/tenants/{}/databases/{}/collections/{}",
            self.tenant, self.database, self.collection
        )
    }

    fn records_path(&self, what: &str) -> String {
        format!(
            "/api/v2/tenants/{}/databases/{}/collections/{}/{what}",
            self.tenant, self.database, self.id
        )
    }

    /// One request; the answer's JSON, or an error with the server's message.
    fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let mut req = self.client.request(method, format!("{}{path}", self.http));
        if let Some(t) = &self.token {
            req = req.header("x-chroma-token", t.expose());
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .map_err(|e| self.error(format!("cannot reach the server: {}", with_causes(&e))))?;
        let status = resp.status();
        let text = resp
            .text()
            .map_err(|e| self.error(format!("reading the answer: {e}")))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        if status.is_success() {
            return Ok(value);
        }
        let said = value
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| text.chars().take(200).collect(), str::to_string);
        if status == reqwest::StatusCode::NOT_FOUND && self.id.is_empty() {
            return Err(self.error(format!(
                "no collection `{}` in tenant `{}`, database `{}` ({said})",
                self.collection, self.tenant, self.database
            )));
        }
        Err(self.error(format!("HTTP {status}: {said}")))
    }

    fn get_page(&self, offset: usize, limit: usize, include: &[&str]) -> Result<GetResponse> {
        let v = self.call(
            reqwest::Method::POST,
            &self.records_path("get"),
            Some(&json!({"limit": limit, "offset": offset, "include": include})),
        )?;
        serde_json::from_value(v)
            .map_err(|e| self.error(format!("rows {offset}..: unexpected answer: {e}")))
    }

    fn count(&self) -> Result<usize> {
        let v = self.call(reqwest::Method::GET, &self.records_path("count"), None)?;
        v.as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| self.error(format!("count: unexpected answer {v}")))
    }
}

/// A metadata value as a label or text.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Store for Chroma {
    fn location(&self) -> String {
        self.shown.clone()
    }

    fn columns(&mut self) -> Result<Vec<StoreColumn>> {
        let mut cols: Vec<StoreColumn> = [
            ("id", "id"),
            ("text", "document"),
            ("embedding", "embedding"),
        ]
        .into_iter()
        .map(|(n, k)| StoreColumn {
            name: n.into(),
            kind: k.into(),
        })
        .collect();
        let page = self.get_page(0, 100, &["metadatas"])?;
        for m in page.metadatas.unwrap_or_default().into_iter().flatten() {
            for k in m.keys() {
                if !cols.iter().any(|c| &c.name == k) {
                    cols.push(StoreColumn {
                        name: k.clone(),
                        kind: "metadata".into(),
                    });
                }
            }
        }
        Ok(cols)
    }

    fn read(
        &mut self,
        columns: &ReadColumns,
        batch: usize,
        out: &mut dyn FnMut(Vec<Record>) -> Result<()>,
    ) -> Result<ReadSummary> {
        let is = |c: &Option<String>, name: &str| c.as_deref() == Some(name);
        if let Some(v) = columns.vector.as_deref().filter(|v| *v != "embedding") {
            return Err(self.error(format!(
                "column `{v}`: a Chroma collection's vectors are its embeddings (`embedding`)"
            )));
        }
        let documents = is(&columns.text, "text");
        let embeddings = columns.vector.is_some();
        let meta = |c: &Option<String>, builtin: &str| -> Option<String> {
            c.clone().filter(|c| c != builtin)
        };
        let (id_key, text_key, label_key) = (
            meta(&columns.id, "id"),
            meta(&columns.text, "text"),
            columns.label.clone(),
        );
        let mut include = Vec::new();
        if documents {
            include.push("documents");
        }
        if embeddings {
            include.push("embeddings");
        }
        if id_key.is_some() || text_key.is_some() || label_key.is_some() {
            include.push("metadatas");
        }
        let total = self.count()?;
        let mut rows = 0usize;
        while rows < total {
            let page = self.get_page(rows, batch, &include)?;
            let n = page.ids.len();
            if n == 0 {
                break;
            }
            let docs = page.documents.unwrap_or_default();
            let vecs = page.embeddings.unwrap_or_default();
            let metas = page.metadatas.unwrap_or_default();
            let field = |i: usize, key: &Option<String>| -> Option<String> {
                let k = key.as_deref()?;
                metas.get(i)?.as_ref()?.get(k).and_then(as_text)
            };
            let records: Vec<Record> = (0..n)
                .map(|i| Record {
                    id: if columns.id.is_none() {
                        None
                    } else if id_key.is_some() {
                        field(i, &id_key)
                    } else {
                        Some(page.ids[i].clone())
                    },
                    text: if documents {
                        docs.get(i).cloned().flatten()
                    } else {
                        field(i, &text_key)
                    },
                    label: field(i, &label_key),
                    vector: if embeddings {
                        vecs.get(i).cloned().flatten()
                    } else {
                        None
                    },
                })
                .collect();
            out(records)?;
            rows += n;
        }
        // Chroma pages in the order rows were added: a defined order, kept.
        Ok(ReadSummary {
            rows,
            half: false,
            sort_by_id: false,
        })
    }

    fn write_back(&mut self, rows: &WriteBack) -> Result<WriteBackSummary> {
        rows.check()?;
        let n = rows.ids.len();
        let mut done = 0usize;
        const PAGE: usize = 1000;
        for start in (0..n).step_by(PAGE) {
            let end = (start + PAGE).min(n);
            let metadatas: Vec<Value> = (start..end)
                .map(|r| {
                    let mut m = Map::new();
                    for (name, values) in &rows.columns {
                        let v = match values {
                            Values::Int(v) => v[r].map_or(Value::Null, Value::from),
                            Values::Float(v) => v[r]
                                .filter(|x| x.is_finite())
                                .map_or(Value::Null, Value::from),
                            Values::Bool(v) => v[r].map_or(Value::Null, Value::from),
                            Values::Text(v) => v[r]
                                .as_ref()
                                .map_or(Value::Null, |s| Value::from(s.as_str())),
                        };
                        m.insert(format!("{PREFIX}{name}"), v);
                    }
                    m.insert(
                        format!("{PREFIX}audit_id"),
                        Value::from(rows.audit_id.as_str()),
                    );
                    Value::Object(m)
                })
                .collect();
            let body = json!({"ids": &rows.ids[start..end], "metadatas": metadatas});
            if let Err(e) = self.call(
                reqwest::Method::POST,
                &self.records_path("update"),
                Some(&body),
            ) {
                return Err(self.error(format!(
                    "write-back stopped after {done} of {n} rows (those carry audit id {}, the rest the previous one): {e}",
                    rows.audit_id
                )));
            }
            done = end;
        }
        let mut columns: Vec<String> = rows
            .columns
            .iter()
            .map(|(c, _)| format!("{PREFIX}{c}"))
            .collect();
        columns.push(format!("{PREFIX}audit_id"));
        Ok(WriteBackSummary {
            target: format!("{} metadata {PREFIX}*", self.location()),
            rows: n,
            columns,
        })
    }
}
