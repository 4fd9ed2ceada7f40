//! Embeddings from any OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure-style gateways,
//! vLLM, Ollama, LM Studio, text-embeddings-inference ...).
//!
//! Texts go in batches (at most `batch_size` inputs and about `max_batch_chars` characters a
//! request), at most `concurrency` requests in flight, each retried on 429/5xx/timeouts with
//! backoff and `Retry-After` honoured (the same policy as LLM labels). The vectors come back in
//! input order (the response's `index` decides), and [`super::embed_texts`] caches them on disk
//! under this embedder's [`model_id`](Embedder::model_id) (`openai:<base url>:<model>`), so a
//! re-run does not pay again and two models never share an entry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::Embedder;
use crate::error::{Error, Result};
use crate::http::{post_json, RetryPolicy, Secret};
use crate::progress::Progress;
use crate::rng::Rng;

/// Parameters of an [`OpenAiEmbedder`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiParams {
    base_url: String,
    model: String,
    api_key: Option<Secret>,
    batch_size: usize,
    max_batch_chars: usize,
    concurrency: usize,
    max_retries: usize,
    backoff: Duration,
    timeout: Duration,
    dimensions: Option<usize>,
}

impl Default for OpenAiParams {
    /// OpenAI's API without a key (see [`OpenAiParams::from_env`] for the environment's),
    /// `text-embedding-3-small`, 128 inputs and about 100,000 characters a request, 4 requests
    /// in flight, 4 retries from 0.5 s, 60 s timeout.
    fn default() -> Self {
        OpenAiParams {
            base_url: crate::http::OPENAI_BASE_URL.into(),
            model: "text-embedding-3-small".into(),
            api_key: None,
            batch_size: 128,
            max_batch_chars: 100_000,
            concurrency: 4,
            max_retries: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(60),
            dimensions: None,
        }
    }
}

impl OpenAiParams {
    /// The defaults with the base URL from `OPENAI_BASE_URL` (else OpenAI's) and the key from
    /// `OPENAI_API_KEY`: the one place the environment is read.
    pub fn from_env() -> Self {
        OpenAiParams {
            base_url: crate::http::env_base_url(),
            api_key: crate::http::env_api_key(),
            ..OpenAiParams::default()
        }
    }
    /// API base URL, up to `/v1` (default OpenAI's).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// Model name.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
    /// API key (default none, as local servers want; never printed: `Debug` redacts it).
    pub fn api_key(mut self, key: Option<String>) -> Self {
        self.api_key = key.and_then(Secret::new);
        self
    }
    /// Inputs per request at most (OpenAI allows 2048).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Requests in flight at most.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }
    /// Retries after the first attempt.
    pub fn max_retries(mut self, n: usize) -> Self {
        self.max_retries = n;
        self
    }
    /// First backoff between attempts (doubled each time, with jitter).
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }
    /// Seconds allowed per request.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// Ask for this many dimensions (models that support shortening, such as
    /// text-embedding-3-*).
    pub fn dimensions(mut self, d: Option<usize>) -> Self {
        self.dimensions = d;
        self
    }

    /// Connects: one request embeds a probe text to learn the dimension (and to fail early,
    /// with the reason, when the endpoint is unreachable or refuses).
    pub fn connect(&self) -> Result<OpenAiEmbedder> {
        if self.batch_size == 0 || self.concurrency == 0 {
            return Err(Error::param(
                "batch_size/concurrency",
                0,
                "must be at least 1",
            ));
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| Error::Http {
                url: self.base_url.clone(),
                message: format!("HTTP client: {e}"),
            })?;
        let mut e = OpenAiEmbedder {
            params: self.clone(),
            client,
            dim: 0,
            id: format!(
                "openai:{}:{}{}",
                self.base_url.trim_end_matches('/'),
                self.model,
                self.dimensions.map_or(String::new(), |d| format!(":{d}"))
            ),
            requests: AtomicUsize::new(0),
        };
        let probe = e.request(&["dimension probe"], 0)?;
        e.dim = probe.len();
        if e.dim == 0 {
            return Err(Error::Http {
                url: self.base_url.clone(),
                message: "the embeddings endpoint returned an empty vector".into(),
            });
        }
        Ok(e)
    }
}

/// An [`Embedder`] over an OpenAI-compatible embeddings API (see the [module docs](self)).
#[derive(Debug)]
pub struct OpenAiEmbedder {
    params: OpenAiParams,
    client: reqwest::blocking::Client,
    dim: usize,
    id: String,
    requests: AtomicUsize,
}

impl OpenAiEmbedder {
    /// HTTP requests made so far (the probe included, retries counted).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// One request for `texts`: their vectors, concatenated in input order.
    fn request(&self, texts: &[&str], batch: usize) -> Result<Vec<f32>> {
        let p = &self.params;
        let url = format!("{}/embeddings", p.base_url.trim_end_matches('/'));
        let mut body =
            serde_json::json!({"model": p.model, "input": texts, "encoding_format": "float"});
        if let Some(d) = p.dimensions {
            body["dimensions"] = d.into();
        }
        let policy = RetryPolicy {
            max_retries: p.max_retries,
            backoff: p.backoff,
            timeout: p.timeout,
        };
        let mut rng = Rng::new(42, batch as u64);
        let (answer, requests) = post_json(
            &self.client,
            &url,
            p.api_key.as_ref(),
            &body,
            &policy,
            &mut rng,
            || Ok(()),
        );
        self.requests.fetch_add(requests, Ordering::SeqCst);
        let text = answer.map_err(|reason| Error::Http {
            url: url.clone(),
            message: format!("embeddings (model {}): {reason}", p.model),
        })?;
        parse_embeddings(&text, texts.len(), self.dim).map_err(|m| Error::Http {
            url: url.clone(),
            message: format!("embeddings: {m}"),
        })
    }
}

/// `data[*].embedding` of a response, ordered by `index`: `n` vectors of equal length (`dim`
/// when non-zero), concatenated.
fn parse_embeddings(body: &str, n: usize, dim: usize) -> std::result::Result<Vec<f32>, String> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("malformed JSON ({e})"))?;
    let data = v
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or("no `data` array in the response")?;
    if data.len() != n {
        return Err(format!("{} vectors for {n} inputs", data.len()));
    }
    let mut rows: Vec<(usize, Vec<f32>)> = Vec::with_capacity(n);
    for (pos, item) in data.iter().enumerate() {
        let index = item
            .get("index")
            .and_then(|i| i.as_u64())
            .map_or(pos, |i| i as usize);
        let vec: Vec<f32> = item
            .get("embedding")
            .and_then(|e| e.as_array())
            .ok_or(format!("item {pos} has no `embedding` list"))?
            .iter()
            .map(|x| {
                x.as_f64()
                    .map(|x| x as f32)
                    .ok_or(format!("item {pos}: a non-number"))
            })
            .collect::<std::result::Result<_, _>>()?;
        rows.push((index, vec));
    }
    rows.sort_by_key(|r| r.0);
    if rows.iter().enumerate().any(|(i, r)| r.0 != i) {
        return Err("the `index` values are not 0..n".into());
    }
    let width = if dim > 0 { dim } else { rows[0].1.len() };
    let mut out = Vec::with_capacity(n * width);
    for (i, r) in rows {
        if r.len() != width {
            return Err(format!(
                "vector {i} has {} values, expected {width}",
                r.len()
            ));
        }
        out.extend(r);
    }
    Ok(out)
}

impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str], progress: &dyn Progress) -> Result<Vec<f32>> {
        let p = &self.params;
        // Batches by count and by size.
        let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
        let (mut start, mut chars) = (0, 0);
        for (i, t) in texts.iter().enumerate() {
            let c = t.chars().count();
            if i > start && (i - start >= p.batch_size || chars + c > p.max_batch_chars) {
                batches.push(start..i);
                start = i;
                chars = 0;
            }
            chars += c;
        }
        if start < texts.len() {
            batches.push(start..texts.len());
        }
        let results: Vec<Mutex<Option<Vec<f32>>>> =
            batches.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..p.concurrency.min(batches.len()) {
                s.spawn(|| loop {
                    let b = next.fetch_add(1, Ordering::SeqCst);
                    if b >= batches.len() || failed.lock().expect("lock").is_some() {
                        return;
                    }
                    let range = batches[b].clone();
                    match self.request(&texts[range.clone()], b + 1) {
                        Ok(v) => {
                            *results[b].lock().expect("lock") = Some(v);
                            progress.advance(range.len() as u64);
                        }
                        Err(e) => {
                            failed.lock().expect("lock").get_or_insert(e);
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().expect("lock") {
            return Err(e);
        }
        let mut out = Vec::with_capacity(texts.len() * self.dim);
        for r in results {
            out.extend(r.into_inner().expect("lock").expect("every batch answered"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_put_back_in_input_order() {
        let body =
            r#"{"data": [{"index": 1, "embedding": [3, 4]}, {"index": 0, "embedding": [1, 2]}]}"#;
        assert_eq!(
            parse_embeddings(body, 2, 0).unwrap(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        assert!(parse_embeddings(body, 3, 0)
            .unwrap_err()
            .contains("2 vectors for 3"));
        assert!(parse_embeddings(body, 2, 3)
            .unwrap_err()
            .contains("expected 3"));
        assert!(parse_embeddings("{}", 1, 0)
            .unwrap_err()
            .contains("no `data`"));
        assert!(parse_embeddings("not json", 1, 0)
            .unwrap_err()
            .contains("malformed"));
        let dup = r#"{"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]}"#;
        assert!(parse_embeddings(dup, 2, 0).is_err());
    }
}
