//! One JSON POST to an OpenAI-compatible endpoint, with the retry policy every caller shares:
//! up to `max_retries` more attempts on 429, 5xx, timeouts and connection errors; the server's
//! `Retry-After` (seconds, at most 60) when it sends one, else exponential backoff with jitter.

use std::time::Duration;

use crate::rng::Rng;

/// OpenAI's API, the base URL when none is given.
pub(crate) const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// The API base URL from `OPENAI_BASE_URL`, else OpenAI's. Read only by the `from_env`
/// constructors, never by `Default`.
pub(crate) fn env_base_url() -> String {
    std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| OPENAI_BASE_URL.into())
}

/// The API key from `OPENAI_API_KEY` (None when unset or empty).
pub(crate) fn env_api_key() -> Option<Secret> {
    std::env::var("OPENAI_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .map(Secret)
}

/// An API key. Its text leaves only as the bearer header of a request: `Debug` prints
/// `<redacted>`, and it has no `Display` and no `Serialize`, so no log line, error, `audit.json`
/// or report can carry it by accident.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps a key (None when empty).
    pub(crate) fn new(key: String) -> Option<Secret> {
        (!key.is_empty()).then_some(Secret(key))
    }
    /// The key itself, for the request header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: usize,
    /// First backoff; doubled each attempt, times a jitter in [0.5, 1.5).
    pub backoff: Duration,
    /// Per-request timeout (for messages; the client enforces it).
    pub timeout: Duration,
}

/// Posts `body` to `url` (bearer `key` when given) until a 2xx answer, a non-retryable failure
/// or the retries run out. `before_each` may veto an attempt (a spent budget) with a reason.
/// Returns the 2xx body or the last failure, and the number of requests made.
pub(crate) fn post_json(
    client: &reqwest::blocking::Client,
    url: &str,
    key: Option<&Secret>,
    body: &serde_json::Value,
    policy: &RetryPolicy,
    rng: &mut Rng,
    mut before_each: impl FnMut() -> Result<(), String>,
) -> (Result<String, String>, usize) {
    let mut requests = 0;
    let mut last_error = String::new();
    for attempt in 0..=policy.max_retries {
        if let Err(reason) = before_each() {
            return (Err(reason), requests);
        }
        requests += 1;
        let mut req = client.post(url).json(body);
        if let Some(key) = key {
            req = req.bearer_auth(key.expose());
        }
        let (retry, wait) = match req.send() {
            Ok(resp) => {
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .map(|s| Duration::from_secs_f64(s.clamp(0.0, 60.0)));
                if status.is_success() {
                    return (Ok(resp.text().unwrap_or_default()), requests);
                }
                let text: String = resp.text().unwrap_or_default().chars().take(200).collect();
                last_error = format!("HTTP {} from {url}: {}", status.as_u16(), text.trim());
                let retryable = status.as_u16() == 429 || status.is_server_error();
                (retryable, retry_after)
            }
            Err(e) if e.is_timeout() => {
                last_error = format!("timeout after {:?} from {url}", policy.timeout);
                (true, None)
            }
            Err(e) => {
                last_error = format!("{url} unreachable: {e}");
                (e.is_connect() || e.is_request(), None)
            }
        };
        if !retry || attempt == policy.max_retries {
            break;
        }
        let delay = wait.unwrap_or_else(|| {
            let base = policy.backoff.as_secs_f64() * 2f64.powi(attempt as i32);
            Duration::from_secs_f64(base * (0.5 + rng.next_f64()))
        });
        std::thread::sleep(delay);
    }
    (Err(last_error), requests)
}
