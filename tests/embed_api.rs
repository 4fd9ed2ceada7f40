//! Embeddings from an OpenAI-compatible API, against a real HTTP server on 127.0.0.1: batching,
//! order, concurrency, retries with Retry-After, the on-disk cache (no second request, models
//! kept apart), failures with the reason, and the CLI (`embed --embedder openai`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{serve, status, Reply};
use common::{repo, run, run_json};
use embedscope::embed::{embed_texts, Embedder, EmbeddingCache, OpenAiParams};
use embedscope::progress::Silent;

/// A deterministic fake embedding of a text: `[len, vowels, 1]`.
fn fake(text: &str) -> Vec<f32> {
    let vowels = text.chars().filter(|c| "aeiou".contains(*c)).count();
    vec![text.len() as f32, vowels as f32, 1.0]
}

/// An OpenAI embeddings response for the request `body`, answered in reverse order (the client
/// must sort by `index`).
fn answer(body: &str) -> Reply {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let inputs: Vec<String> = v["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    let data: Vec<serde_json::Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| serde_json::json!({"object": "embedding", "index": i, "embedding": fake(t)}))
        .collect();
    Reply {
        status: 200,
        headers: vec![],
        body: serde_json::json!({"object": "list", "data": data, "model": v["model"]}).to_string(),
        delay: Duration::ZERO,
    }
}

fn params(base: &str) -> OpenAiParams {
    OpenAiParams::default()
        .base_url(base)
        .model("test-embed")
        .api_key(Some("sk-test".into()))
        .backoff(Duration::from_millis(10))
}

fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("document number {i} about rust"))
        .collect()
}

#[test]
fn batches_come_back_in_order_and_the_cache_answers_a_rerun() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let s = sizes.clone();
    let (base, count) = serve(move |_, body| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        if v["model"] == "test-embed" {
            s.lock().unwrap().push(v["input"].as_array().unwrap().len());
        }
        answer(body)
    });
    let e = params(&base)
        .batch_size(4)
        .concurrency(3)
        .connect()
        .unwrap();
    assert_eq!(e.dim(), 3);
    assert!(
        e.model_id().starts_with("openai:http://127.0.0.1:")
            && e.model_id().ends_with(":test-embed")
    );
    let t = texts(10);
    let dir = tempfile::tempdir().unwrap();
    let mut cache = EmbeddingCache::open(dir.path(), e.model_id(), e.dim()).unwrap();
    let (v, stats) = embed_texts(&e, &t, Some(&mut cache), &Silent).unwrap();
    assert_eq!((v.rows(), v.dim(), stats.embedded), (10, 3, 10));
    for (i, text) in t.iter().enumerate() {
        let want = fake(text);
        let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
        for (a, b) in v.row(i).iter().zip(&want) {
            assert!((a - b / norm).abs() < 1e-6, "row {i} out of order");
        }
    }
    // The probe, then 10 texts in batches of at most 4.
    let mut got = sizes.lock().unwrap().clone();
    got.sort_unstable();
    assert_eq!(got, vec![1, 2, 4, 4]);
    assert_eq!(count.load(Ordering::SeqCst), 4);
    // A rerun is answered by the cache.
    let mut cache = EmbeddingCache::open(dir.path(), e.model_id(), e.dim()).unwrap();
    let (_, stats) = embed_texts(&e, &t, Some(&mut cache), &Silent).unwrap();
    assert_eq!((stats.cache_hits, stats.embedded), (10, 0));
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "no request for cached texts"
    );
    // Another model is another cache key.
    let other = params(&base).model("other-model").connect().unwrap();
    assert_ne!(other.model_id(), e.model_id());
    assert_eq!(
        sizes.lock().unwrap().len(),
        4,
        "other-model's probe is counted apart"
    );
}

#[test]
fn rate_limits_are_retried_after_the_servers_wait() {
    let (base, count) = serve(|n, body| {
        if n == 1 {
            let mut r = status(429);
            r.headers.push(("Retry-After", "1".into()));
            r
        } else {
            answer(body)
        }
    });
    let e = params(&base).connect().unwrap();
    let started = Instant::now();
    let v = e
        .embed(&["one text"], &embedscope::progress::Silent)
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured"
    );
    assert_eq!(v, fake("one text"));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert_eq!(e.requests(), 3);
}

#[test]
fn failures_say_why() {
    // 500 on every embedding request (after the probe): retries, then the reason.
    let (base, count) = serve(|n, body| if n == 0 { answer(body) } else { status(500) });
    let e = params(&base).max_retries(2).connect().unwrap();
    let err = e
        .embed(&["x"], &embedscope::progress::Silent)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 500") && err.contains("test-embed"),
        "{err}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 4, "probe + 1 + 2 retries");
    // A malformed body.
    let (base, _) = serve(|n, body| {
        if n == 0 {
            answer(body)
        } else {
            Reply {
                status: 200,
                headers: vec![],
                body: "{\"data\": 3}".into(),
                delay: Duration::ZERO,
            }
        }
    });
    let err = params(&base)
        .connect()
        .unwrap()
        .embed(&["x"], &embedscope::progress::Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no `data` array"), "{err}");
    // Nobody listening: connect fails with the address.
    let err = params("http://127.0.0.1:9/v1")
        .max_retries(0)
        .connect()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("127.0.0.1:9") && err.contains("unreachable"),
        "{err}"
    );
}

#[test]
fn in_flight_requests_stay_within_the_limit() {
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n2, p2) = (now.clone(), peak.clone());
    let (base, _) = serve(move |_, body| {
        let c = n2.fetch_add(1, Ordering::SeqCst) + 1;
        p2.fetch_max(c, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        n2.fetch_sub(1, Ordering::SeqCst);
        answer(body)
    });
    let e = params(&base)
        .batch_size(1)
        .concurrency(2)
        .connect()
        .unwrap();
    let t = texts(8);
    let refs: Vec<&str> = t.iter().map(String::as_str).collect();
    e.embed(&refs, &embedscope::progress::Silent).unwrap();
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn the_cli_embeds_through_the_api_and_records_the_model() {
    let (base, _) = serve(|_, body| answer(body));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.npy");
    let args = [
        "embed",
        repo("tests/fixtures/parity/seed6.jsonl").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--embedder",
        "openai",
        "--embedding-base-url",
        &base,
        "--embedding-model",
        "test-embed",
        "--cache-dir",
        dir.path().join("cache").to_str().unwrap(),
        "--json",
    ]
    .map(String::from);
    let j = run_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!((j["rows"].as_u64(), j["dim"].as_u64()), (Some(6), Some(3)));
    assert!(j["model"].as_str().unwrap().ends_with(":test-embed"));
    // The audit records which model made the vectors.
    let json = dir.path().join("a.json");
    let mut audit_args = vec![
        "audit".to_string(),
        repo("tests/fixtures/parity/seed6.jsonl")
            .display()
            .to_string(),
        "--out".into(),
        dir.path().join("r.html").display().to_string(),
        "--json".into(),
        json.display().to_string(),
        "--k-max".into(),
        "3".into(),
    ];
    audit_args.extend(args[4..12].iter().cloned());
    let o = run(&audit_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(a["corpus"]["vectors"]["kind"], "model");
    assert!(a["corpus"]["vectors"]["model"]
        .as_str()
        .unwrap()
        .starts_with("openai:"));
    // An unreachable endpoint is an input error (exit 2) naming it.
    let mut bad = args.clone();
    bad[7] = "http://127.0.0.1:9/v1".into();
    let o = run(&bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("127.0.0.1:9"));
}
