//! A real HTTP server on 127.0.0.1 for the tests of OpenAI-compatible clients (LLM labels,
//! embeddings): each test starts one with a handler that answers request number `n`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers to request number `n`.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

/// A chat-completions answer whose message is `content`.
pub fn chat_answer(content: &str) -> Reply {
    Reply {
        status: 200,
        headers: vec![],
        body: serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})
            .to_string(),
        delay: Duration::ZERO,
    }
}

/// An error status with a JSON error body.
pub fn status(code: u16) -> Reply {
    Reply {
        status: code,
        headers: vec![],
        body: r#"{"error": {"message": "nope"}}"#.into(),
        delay: Duration::ZERO,
    }
}

/// Starts a server answering with `handler(request number, request body)`; returns its base
/// URL and the request counter.
pub fn serve<F>(handler: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(usize, &str) -> Reply + Send + Sync + 'static,
{
    let (base, count, _) = serve_recording(handler);
    (base, count)
}

/// [`serve`], also recording each request's `Authorization` header (empty when absent).
pub fn serve_recording<F>(handler: F) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>)
where
    F: Fn(usize, &str) -> Reply + Send + Sync + 'static,
{
    let auth = Arc::new(Mutex::new(Vec::new()));
    let seen = auth.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(handler);
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (handler, c, seen) = (handler.clone(), c.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut len = 0usize;
                let mut authorization = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let l = line.to_ascii_lowercase();
                    if let Some(v) = l.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if l.starts_with("authorization:") {
                        authorization = line["authorization:".len()..].trim().to_string();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).unwrap();
                seen.lock().unwrap().push(authorization);
                let n = c.fetch_add(1, Ordering::SeqCst);
                let reply = handler(n, &String::from_utf8_lossy(&body));
                std::thread::sleep(reply.delay);
                let mut head = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    reply.status,
                    reply.body.len()
                );
                for (k, v) in &reply.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(reply.body.as_bytes());
            });
        }
    });
    (format!("http://{addr}/v1"), count, auth)
}
