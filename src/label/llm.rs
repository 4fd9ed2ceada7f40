//! Topic labels from a language model over any OpenAI-compatible chat-completions API
//! (OpenAI, Ollama, vLLM, llama.cpp servers): one request per cluster with the cluster's
//! keywords and representative documents, at most `concurrency` in flight, retries with
//! exponential backoff and jitter on 429, 5xx, timeouts and connection errors (a `Retry-After`
//! header wins), an on-disk cache keyed by (base URL, model, prompt), and request and token
//! budgets.
//! Whatever fails, the cluster keeps its keyword label and the reason is recorded: labelling
//! never aborts an audit.
//!
//! A plain HTTP client instead of `async-openai`: its errors do not carry the response
//! headers, so `Retry-After` could not be honoured.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::{post_json, RetryPolicy, Secret};
use crate::rng::Rng;

/// The seed's prompt, fed with the representative documents and the keywords.
pub const DEFAULT_PROMPT: &str = "Generate a short (2-4 word) topic label for these documents:

{% for d in documents %}- {{ d }}
{% endfor %}
Keywords: {{ keywords | join(\", \") }}

Answer with the label only.";

/// The prompt for a group of questions the corpus has no answer to (coverage gaps of
/// [`crate::queries`]), fed with the questions and their keywords; used where the seed's
/// prompt would be.
pub const GAP_PROMPT: &str = "Users asked a document collection these questions, and it holds nothing close to them. Generate a short (2-4 word) label for what they ask about:

{% for d in documents %}- {{ d }}
{% endfor %}
Keywords: {{ keywords | join(\", \") }}

Answer with the label only.";

/// Where a cluster's label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// The model answered now.
    Llm,
    /// A cached answer of the model (same base URL, model and prompt).
    Cache,
    /// The model could not be used; the keyword label stands (see `reason`).
    Keywords,
}

/// One cluster's label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmLabel {
    /// The label (sanitised: one line, at most 60 characters).
    pub label: String,
    /// Where it came from.
    pub source: LabelSource,
    /// Why the model's answer is missing, when it is.
    pub reason: Option<String>,
    /// HTTP requests made for this cluster.
    pub requests: usize,
}

/// What the prompt is made of, per cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicInput {
    /// Top keywords.
    pub keywords: Vec<String>,
    /// Representative documents.
    pub documents: Vec<String>,
}

/// Parameters of [`llm_labels`].
#[derive(Debug, Clone, PartialEq)]
pub struct LlmParams {
    base_url: String,
    model: String,
    api_key: Option<Secret>,
    concurrency: usize,
    max_retries: usize,
    timeout: Duration,
    max_requests: Option<usize>,
    max_tokens: Option<usize>,
    template: String,
    cache_dir: Option<PathBuf>,
    backoff: Duration,
    seed: u64,
}

impl Default for LlmParams {
    /// OpenAI's API without a key (see [`LlmParams::from_env`] for the environment's) and
    /// `gpt-4o-mini` (the seed's); 4 requests in flight, 4 retries, 30 s timeout, no budget, the
    /// seed's prompt, no cache.
    fn default() -> Self {
        LlmParams {
            base_url: crate::http::OPENAI_BASE_URL.into(),
            model: "gpt-4o-mini".into(),
            api_key: None,
            concurrency: 4,
            max_retries: 4,
            timeout: Duration::from_secs(30),
            max_requests: None,
            max_tokens: None,
            template: DEFAULT_PROMPT.into(),
            cache_dir: None,
            backoff: Duration::from_millis(500),
            seed: 42,
        }
    }
}

impl LlmParams {
    /// The defaults with the base URL from `OPENAI_BASE_URL` (else OpenAI's) and the key from
    /// `OPENAI_API_KEY`: the one place the environment is read.
    pub fn from_env() -> Self {
        LlmParams {
            base_url: crate::http::env_base_url(),
            api_key: crate::http::env_api_key(),
            ..LlmParams::default()
        }
    }
    /// API base URL, up to `/v1` (default OpenAI's).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// Model name (default `gpt-4o-mini`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
    /// API key (default none, as local servers want; never printed: `Debug` redacts it).
    pub fn api_key(mut self, key: Option<String>) -> Self {
        self.api_key = key.and_then(Secret::new);
        self
    }
    /// Requests in flight at most (default 4).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }
    /// Retries per cluster after the first attempt (default 4).
    pub fn max_retries(mut self, n: usize) -> Self {
        self.max_retries = n;
        self
    }
    /// Time allowed for one request (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    /// HTTP requests allowed over all clusters (default: no limit).
    pub fn max_requests(mut self, n: usize) -> Self {
        self.max_requests = Some(n);
        self
    }
    /// Tokens allowed over all clusters, as the server counts them (`usage.total_tokens`);
    /// once spent, the remaining clusters keep their keyword labels (default: no limit).
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.max_tokens = Some(n);
        self
    }
    /// The prompt, a minijinja template over `keywords` and `documents` (default
    /// [`DEFAULT_PROMPT`]).
    pub fn template(mut self, t: impl Into<String>) -> Self {
        self.template = t.into();
        self
    }
    /// `prompt` instead of the seed's, unless another was set with
    /// [`template`](Self::template): a user's own prompt always wins.
    pub fn with_default_prompt(mut self, prompt: &str) -> Self {
        if self.template == DEFAULT_PROMPT {
            self.template = prompt.into();
        }
        self
    }
    /// Cache answers in this folder (default: no cache).
    pub fn cache_dir(mut self, dir: PathBuf) -> Self {
        self.cache_dir = Some(dir);
        self
    }
    /// First backoff delay, doubled per retry, with jitter (default 0.5 s).
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }

    /// Validates the parameters (and that the template parses).
    pub fn check(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::param("concurrency", 0, "must be at least 1"));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::param(
                "base_url",
                &self.base_url,
                "must start with http:// or https://",
            ));
        }
        let mut env = minijinja::Environment::new();
        env.add_template("prompt", &self.template)
            .map_err(Error::template)?;
        Ok(())
    }

    fn render(&self, topic: &TopicInput) -> Result<String> {
        let mut env = minijinja::Environment::new();
        env.add_template("prompt", &self.template)
            .map_err(Error::template)?;
        env.get_template("prompt")
            .and_then(|t| {
                t.render(minijinja::context! {
                    keywords => topic.keywords,
                    documents => topic.documents,
                })
            })
            .map_err(Error::template)
    }

    fn cache_file(&self, prompt: &str) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let key = xxhash_rust::xxh3::xxh3_128(
            format!("{}\n{}\n{}", self.base_url, self.model, prompt).as_bytes(),
        );
        Some(dir.join(format!("{key:032x}.txt")))
    }
}

/// A label as one tidy line: the first non-empty line, markup and quotes removed, spaces
/// collapsed, at most 60 characters.
///
/// ```
/// use embedscope::label::llm::sanitise;
/// assert_eq!(sanitise("\n  \"<b>Rust</b> crates\"\nbecause ..."), "Rust crates");
/// ```
pub fn sanitise(raw: &str) -> String {
    let line = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut out = String::new();
    let mut in_tag = false;
    for ch in line.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let joined = words.join(" ");
    let trimmed = joined
        .trim_start_matches(|c: char| "\"'`*#:-".contains(c) || c.is_whitespace())
        .trim_end_matches(|c: char| "\"'`*.:".contains(c) || c.is_whitespace());
    let trimmed = trimmed
        .strip_prefix("Label: ")
        .or_else(|| trimmed.strip_prefix("label: "))
        .unwrap_or(trimmed);
    trimmed
        .chars()
        .take(60)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Labels every topic, falling back to `fallback[i]` where the model cannot answer.
pub fn llm_labels(
    topics: &[TopicInput],
    fallback: &[String],
    params: &LlmParams,
) -> Result<Vec<LlmLabel>> {
    params.check()?;
    if fallback.len() != topics.len() {
        return Err(Error::param(
            "fallback",
            fallback.len(),
            format!("one per topic ({} topics)", topics.len()),
        ));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(params.timeout)
        .build()
        .map_err(|e| Error::Http {
            url: params.base_url.clone(),
            message: format!("HTTP client: {e}"),
        })?;
    let next = AtomicUsize::new(0);
    let spent = Spent::default();
    let mut results: Vec<Option<LlmLabel>> = vec![None; topics.len()];
    let slots: Vec<std::sync::Mutex<&mut Option<LlmLabel>>> =
        results.iter_mut().map(std::sync::Mutex::new).collect();
    std::thread::scope(|s| {
        for _ in 0..params.concurrency.min(topics.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= topics.len() {
                    break;
                }
                let label = one(&client, i, &topics[i], &fallback[i], params, &spent);
                **slots[i].lock().expect("result slot") = Some(label);
            });
        }
    });
    drop(slots);
    Ok(results
        .into_iter()
        .map(|r| r.expect("every topic labelled"))
        .collect())
}

/// Labels one topic (never fails: the fallback carries the reason).
fn one(
    client: &reqwest::blocking::Client,
    i: usize,
    topic: &TopicInput,
    fallback: &str,
    params: &LlmParams,
    spent: &Spent,
) -> LlmLabel {
    let keep = |reason: String, requests: usize| LlmLabel {
        label: fallback.to_string(),
        source: LabelSource::Keywords,
        reason: Some(reason),
        requests,
    };
    let prompt = match params.render(topic) {
        Ok(p) => p,
        Err(e) => return keep(e.to_string(), 0),
    };
    let cache = params.cache_file(&prompt);
    if let Some(text) = cache.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
        return LlmLabel {
            label: text,
            source: LabelSource::Cache,
            reason: None,
            requests: 0,
        };
    }
    let url = format!("{}/chat/completions", params.base_url.trim_end_matches('/'));
    let body = serde_json::json!({
        "model": params.model,
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0,
        "max_tokens": 24,
    });
    let mut rng = Rng::new(params.seed, i as u64);
    let policy = RetryPolicy {
        max_retries: params.max_retries,
        backoff: params.backoff,
        timeout: params.timeout,
    };
    let (answer, requests) = post_json(
        client,
        &url,
        params.api_key.as_ref(),
        &body,
        &policy,
        &mut rng,
        || {
            if let Some(budget) = params.max_tokens {
                if spent.tokens.load(Ordering::SeqCst) >= budget {
                    return Err(format!("token budget of {budget} spent"));
                }
            }
            if let Some(budget) = params.max_requests {
                if spent.requests.fetch_add(1, Ordering::SeqCst) >= budget {
                    return Err(format!("request budget of {budget} spent"));
                }
            }
            Ok(())
        },
    );
    let text = match answer {
        Ok(text) => text,
        Err(reason) => return keep(reason, requests),
    };
    spent.tokens.fetch_add(used_tokens(&text), Ordering::SeqCst);
    match parse_answer(&text) {
        Some(answer) if !sanitise(&answer).is_empty() => {
            let label = sanitise(&answer);
            if let Some(f) = &cache {
                let _ = crate::io::write_atomic(f, |w| w.write_all(label.as_bytes()));
            }
            LlmLabel {
                label,
                source: LabelSource::Llm,
                reason: None,
                requests,
            }
        }
        _ => keep(
            format!("malformed response from {url}: {}", snippet(&text)),
            requests,
        ),
    }
}

/// Requests and tokens spent so far, over all clusters.
#[derive(Default)]
struct Spent {
    requests: AtomicUsize,
    tokens: AtomicUsize,
}

/// `usage.total_tokens` of a response (0 when the server does not say).
fn used_tokens(body: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("usage")?.get("total_tokens")?.as_u64())
        .unwrap_or(0) as usize
}

/// `choices[0].message.content` of a chat-completions response.
fn parse_answer(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("choices")?
        .get(0)?
        .get("message")?
        .get("content")?
        .as_str()
        .map(str::to_string)
}

fn snippet(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitising_keeps_one_clean_line() {
        assert_eq!(sanitise("Label: Rust crates."), "Rust crates");
        assert_eq!(
            sanitise("<b>Web</b> <i>frameworks</i>\nmore text"),
            "Web frameworks"
        );
        assert_eq!(sanitise(&"a".repeat(100)).len(), 60);
        assert_eq!(sanitise("\n\n"), "");
    }

    #[test]
    fn the_default_prompt_renders() {
        let p = LlmParams::default()
            .render(&TopicInput {
                keywords: vec!["rust".into(), "cargo".into()],
                documents: vec!["A crate.".into()],
            })
            .unwrap();
        assert!(
            p.contains("- A crate.") && p.contains("Keywords: rust, cargo"),
            "{p}"
        );
    }
}
