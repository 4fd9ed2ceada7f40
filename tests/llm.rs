//! LLM labels against a real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions
//! protocol, started by each test: the happy path and the cache, 429 then success with
//! Retry-After honoured, 500 every time, a hang, a malformed body, markup in the answer, an
//! unreachable endpoint, the request budget.
//!
//! A live test against OpenAI itself is `#[ignore]`d: `OPENAI_API_KEY=... cargo test --release
//! --test llm -- --ignored`.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::server::{chat_answer as ok, serve, serve_recording, status, Reply};
use embedscope::label::llm::{llm_labels, LabelSource, LlmParams, TopicInput};

fn topics(n: usize) -> (Vec<TopicInput>, Vec<String>) {
    let t = (0..n)
        .map(|i| TopicInput {
            keywords: vec![format!("rust{i}"), "cargo".into()],
            documents: vec![format!("Rust crate number {i}.")],
        })
        .collect();
    let f = (0..n).map(|i| format!("rust{i}, cargo")).collect();
    (t, f)
}

fn params(base: &str) -> LlmParams {
    LlmParams::default()
        .base_url(base)
        .model("test-model")
        .api_key(Some("sk-test".into()))
        .backoff(Duration::from_millis(10))
}

#[test]
fn happy_path_then_the_cache_answers() {
    let (base, count) = serve(|_, body| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["model"], "test-model");
        assert!(v["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Keywords: rust"));
        ok("Rust crates")
    });
    let dir = tempfile::tempdir().unwrap();
    let (t, f) = topics(3);
    let p = params(&base).cache_dir(dir.path().to_path_buf());
    let first = llm_labels(&t, &f, &p).unwrap();
    assert!(first
        .iter()
        .all(|l| l.label == "Rust crates" && l.source == LabelSource::Llm));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let again = llm_labels(&t, &f, &p).unwrap();
    assert!(again
        .iter()
        .all(|l| l.label == "Rust crates" && l.source == LabelSource::Cache));
    assert_eq!(count.load(Ordering::SeqCst), 3, "the cache answered");
}

#[test]
fn rate_limit_then_success_honours_retry_after() {
    let (base, count) = serve(|n, _| {
        if n == 0 {
            Reply {
                headers: vec![("Retry-After", "1".into())],
                ..status(429)
            }
        } else {
            ok("Package managers")
        }
    });
    let (t, f) = topics(1);
    let started = Instant::now();
    let got = llm_labels(&t, &f, &params(&base)).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(got[0].label, "Package managers");
    assert_eq!(got[0].requests, 2);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn server_errors_fall_back_with_the_reason() {
    let (base, count) = serve(|_, _| status(500));
    let (t, f) = topics(2);
    let got = llm_labels(&t, &f, &params(&base).max_retries(2)).unwrap();
    for (l, want) in got.iter().zip(&f) {
        assert_eq!(&l.label, want);
        assert_eq!(l.source, LabelSource::Keywords);
        assert!(l.reason.as_ref().unwrap().contains("HTTP 500"), "{l:?}");
        assert_eq!(l.requests, 3);
    }
    assert_eq!(count.load(Ordering::SeqCst), 6);
}

#[test]
fn a_hanging_server_times_out() {
    let (base, _) = serve(|_, _| Reply {
        delay: Duration::from_secs(3),
        ..ok("too late")
    });
    let (t, f) = topics(1);
    let got = llm_labels(
        &t,
        &f,
        &params(&base)
            .timeout(Duration::from_millis(300))
            .max_retries(0),
    )
    .unwrap();
    assert_eq!(got[0].source, LabelSource::Keywords);
    assert!(
        got[0].reason.as_ref().unwrap().contains("timeout"),
        "{:?}",
        got[0]
    );
}

#[test]
fn malformed_bodies_and_markup_are_handled() {
    let (base, _) = serve(|n, _| match n {
        0 => Reply {
            body: "this is not json".into(),
            ..ok("")
        },
        _ => ok("<b>Rust</b> <script>ecosystem</script>\nand a second line"),
    });
    let (t, f) = topics(1);
    let got = llm_labels(&t, &f, &params(&base).concurrency(1)).unwrap();
    assert_eq!(got[0].source, LabelSource::Keywords);
    assert!(
        got[0].reason.as_ref().unwrap().contains("malformed"),
        "{:?}",
        got[0]
    );
    let got = llm_labels(&t, &f, &params(&base).concurrency(1)).unwrap();
    assert_eq!(got[0].label, "Rust ecosystem");
    assert!(!got[0].label.contains('<') && !got[0].label.contains('\n'));
}

#[test]
fn unreachable_endpoint_and_budget() {
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (t, f) = topics(2);
    let got = llm_labels(
        &t,
        &f,
        &params(&format!("http://{closed}/v1")).max_retries(1),
    )
    .unwrap();
    assert!(got
        .iter()
        .all(|l| l.source == LabelSource::Keywords
            && l.reason.as_ref().unwrap().contains("unreachable")));

    let (base, count) = serve(|_, _| ok("Budgeted"));
    let got = llm_labels(&t, &f, &params(&base).max_requests(1).concurrency(1)).unwrap();
    assert_eq!(got[0].label, "Budgeted");
    assert_eq!(got[1].source, LabelSource::Keywords);
    assert!(got[1].reason.as_ref().unwrap().contains("budget"));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn at_most_concurrency_requests_in_flight() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f1, p1) = (in_flight.clone(), peak.clone());
    let (base, count) = serve(move |_, _| {
        let now = f1.fetch_add(1, Ordering::SeqCst) + 1;
        p1.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        f1.fetch_sub(1, Ordering::SeqCst);
        ok("Busy")
    });
    let (t, f) = topics(6);
    let got = llm_labels(&t, &f, &params(&base).concurrency(2)).unwrap();
    assert!(got.iter().all(|l| l.label == "Busy"));
    assert_eq!(count.load(Ordering::SeqCst), 6);
    assert_eq!(peak.load(Ordering::SeqCst), 2, "peak requests in flight");
}

#[test]
fn token_budget_stops_further_requests() {
    let (base, count) = serve(|_, _| Reply {
        body: serde_json::json!({
            "choices": [{"message": {"content": "Spent"}}],
            "usage": {"prompt_tokens": 90, "completion_tokens": 10, "total_tokens": 100}
        })
        .to_string(),
        ..ok("")
    });
    let (t, f) = topics(3);
    let got = llm_labels(&t, &f, &params(&base).max_tokens(150).concurrency(1)).unwrap();
    assert_eq!(got[0].label, "Spent");
    assert_eq!(got[1].label, "Spent");
    assert!(
        got[2].reason.as_ref().unwrap().contains("token budget"),
        "{:?}",
        got[2]
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn bad_parameters_are_errors() {
    let (t, f) = topics(1);
    let rule = |r: embedscope::Result<Vec<embedscope::label::llm::LlmLabel>>| match r {
        Err(embedscope::Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        rule(llm_labels(
            &t,
            &f,
            &LlmParams::default().base_url("ftp://x")
        )),
        "base_url"
    );
    assert_eq!(
        rule(llm_labels(&t, &f, &LlmParams::default().concurrency(0))),
        "concurrency"
    );
    assert_eq!(rule(llm_labels(&t, &[], &LlmParams::default())), "fallback");
    // A prompt that does not parse: minijinja's error, with the template's name and line.
    match llm_labels(&t, &f, &LlmParams::default().template("ok\n{% for %}")) {
        Err(embedscope::Error::Template { name, line, .. }) => {
            assert_eq!((name.as_str(), line), ("prompt", Some(2)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
#[ignore = "needs OPENAI_API_KEY and the network"]
fn live_openai() {
    let (t, f) = topics(1);
    let got = llm_labels(&t, &f, &LlmParams::default()).unwrap();
    assert_eq!(got[0].source, LabelSource::Llm, "{:?}", got[0]);
}

#[test]
fn cli_label_and_audit_use_the_model_and_survive_its_failure() {
    use std::process::Command;
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/debian-2k.parquet");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_embedscope"))
            .args(args)
            .env("OPENAI_API_KEY", SECRET)
            .output()
            .unwrap()
    };
    let assignments = dir.path().join("a.csv");
    let o = run(&[
        "cluster",
        sample.to_str().unwrap(),
        "--k",
        "4",
        "--out",
        assignments.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (base, count) = serve(|n, _| ok(&format!("Topic {n}")));
    let o = run(&[
        "label",
        sample.to_str().unwrap(),
        "--assignments",
        assignments.to_str().unwrap(),
        "--llm",
        "--llm-base-url",
        &base,
        "--llm-no-cache",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for c in j["clusters"].as_array().unwrap() {
        assert!(c["label"].as_str().unwrap().starts_with("Topic "), "{c}");
        assert_eq!(c["label_source"], "llm");
    }
    assert_eq!(count.load(Ordering::SeqCst), 4);

    // The endpoint is down: the audit still completes, labels fall back, the reason is kept.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let html = dir.path().join("r.html");
    let json = dir.path().join("a.json");
    let o = run(&[
        "audit",
        sample.to_str().unwrap(),
        "--k-max",
        "3",
        "--out",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--llm",
        "--llm-base-url",
        &format!("http://{closed}/v1"),
        "--llm-no-cache",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for c in v["clusters"].as_array().unwrap() {
        assert_eq!(c["label_source"], "keywords");
        assert!(
            c["label_reason"].as_str().unwrap().contains("unreachable"),
            "{c}"
        );
    }
    assert!(v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().starts_with("LLM labels:")));
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.contains("LLM label failed"));
    // The key reached neither the outputs nor the log.
    for (what, text) in [
        ("report", report),
        ("audit.json", std::fs::read_to_string(&json).unwrap()),
        ("stderr", String::from_utf8_lossy(&o.stderr).into_owned()),
        ("stdout", String::from_utf8_lossy(&o.stdout).into_owned()),
    ] {
        assert!(!text.contains(SECRET), "the API key is in the {what}");
    }
}

/// A key no output may show.
const SECRET: &str = "sk-SECRET-4f1c9a";

#[test]
fn api_keys_never_print() {
    use embedscope::embed::OpenAiParams;
    let llm = LlmParams::default().api_key(Some(SECRET.into()));
    let embed = OpenAiParams::default().api_key(Some(SECRET.into()));
    for shown in [
        format!("{llm:?}"),
        format!("{llm:#?}"),
        format!("{embed:?}"),
        format!("{embed:#?}"),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
    // A failing connection names the endpoint, not the key.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = embed
        .base_url(format!("http://{closed}/v1"))
        .max_retries(0)
        .connect()
        .unwrap_err();
    let (shown, debug) = (err.to_string(), format!("{err:?}"));
    assert!(shown.contains(&closed.to_string()), "{shown}");
    assert!(
        !shown.contains(SECRET) && !debug.contains(SECRET),
        "{debug}"
    );
    // Default reads no environment: no key unless one is given or `from_env` asks.
    assert!(format!("{:?}", LlmParams::default()).contains("api_key: None"));
    assert!(format!("{:?}", OpenAiParams::default()).contains("api_key: None"));
}

#[test]
fn the_key_is_sent_as_a_bearer_token() {
    let (base, _, auth) = serve_recording(|_, _| ok("Label"));
    let (t, f) = topics(1);
    let got = llm_labels(&t, &f, &params(&base).api_key(Some(SECRET.into()))).unwrap();
    assert_eq!(got[0].source, LabelSource::Llm);
    assert_eq!(*auth.lock().unwrap(), vec![format!("Bearer {SECRET}")]);
}
