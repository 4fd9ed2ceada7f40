//! Progress from the core to a Python callable `callback(stage, done, total)`: called when a
//! stage starts (done 0), at most every 100 ms while it runs, and when it ends (done = total).
//! The core calls [`Progress`] from worker threads with the GIL released; each report takes the
//! GIL for the call only. An exception in the callback is printed by Python and otherwise
//! ignored (progress never stops the work).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use embedscope::progress::Progress;
use pyo3::prelude::*;

/// Shortest time between two calls of the callback within a stage.
const EVERY: Duration = Duration::from_millis(100);

/// Forwards progress to a Python callable.
pub struct Callback {
    callback: Py<PyAny>,
    stage: Mutex<(String, u64, Instant)>,
    done: AtomicU64,
}

impl Callback {
    /// Forwards to `callback`.
    pub fn new(callback: Py<PyAny>) -> Self {
        Callback {
            callback,
            stage: Mutex::new((String::new(), 0, Instant::now())),
            done: AtomicU64::new(0),
        }
    }

    fn call(&self, stage: &str, done: u64, total: u64) {
        Python::attach(|py| {
            if let Err(e) = self.callback.call1(py, (stage, done, total)) {
                e.print(py);
            }
        });
    }
}

impl Progress for Callback {
    fn start(&self, stage: &str, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut s) = self.stage.lock() {
            *s = (stage.to_string(), total, Instant::now());
        }
        self.call(stage, 0, total);
    }

    fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        let due = match self.stage.try_lock() {
            Ok(mut s) if s.2.elapsed() >= EVERY => {
                s.2 = Instant::now();
                Some((s.0.clone(), s.1))
            }
            _ => None,
        };
        if let Some((stage, total)) = due {
            self.call(&stage, done, total);
        }
    }

    fn finish(&self) {
        let (stage, total) = match self.stage.lock() {
            Ok(s) => (s.0.clone(), s.1),
            Err(_) => return,
        };
        let done = self.done.load(Ordering::Relaxed);
        self.call(&stage, if total > 0 { total } else { done }, total);
    }
}

/// The progress sink for an optional callback.
pub fn sink(callback: Option<Py<PyAny>>) -> Box<dyn Progress + Send> {
    match callback {
        Some(c) => Box::new(Callback::new(c)),
        None => Box::new(embedscope::progress::Silent),
    }
}
