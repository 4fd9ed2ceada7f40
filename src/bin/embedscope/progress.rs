//! Progress on stderr for the library's [`Progress`] reports: indicatif bars (rate and ETA) on
//! a terminal, one log line as each stage starts and ends otherwise (CI logs, `nohup`, pipes).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use embedscope::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Bars on a terminal, log lines elsewhere.
pub struct Bars {
    terminal: bool,
    state: Mutex<Option<Stage>>,
}

/// The stage under way.
struct Stage {
    name: String,
    total: u64,
    done: u64,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Default for Bars {
    fn default() -> Self {
        Bars {
            terminal: std::io::stderr().is_terminal(),
            state: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        let bar = self.terminal.then(|| {
            let bar = if total > 0 {
                let b = ProgressBar::new(total);
                b.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                b
            } else {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("{prefix:>10} {spinner} {elapsed}")
                        .expect("valid template"),
                );
                b.enable_steady_tick(std::time::Duration::from_millis(200));
                b
            };
            bar.set_prefix(stage.to_string());
            bar
        });
        if !self.terminal {
            let steps = if total > 0 {
                format!(" ({total} steps)")
            } else {
                String::new()
            };
            // A closed stderr must not stop the run: the line is lost, nothing else.
            let _ = writeln!(std::io::stderr(), "embedscope: {stage}: started{steps}");
        }
        let mut state = self.state.lock().expect("progress lock");
        if let Some(old) = state.take().and_then(|s| s.bar) {
            old.finish_and_clear();
        }
        *state = Some(Stage {
            name: stage.to_string(),
            total,
            done: 0,
            started: Instant::now(),
            bar,
        });
    }
    fn advance(&self, n: u64) {
        if let Some(s) = self.state.lock().expect("progress lock").as_mut() {
            s.done += n;
            if let Some(b) = &s.bar {
                b.inc(n);
            }
        }
    }
    fn finish(&self) {
        if let Some(s) = self.state.lock().expect("progress lock").take() {
            if let Some(b) = s.bar {
                b.finish_and_clear();
            }
            if !self.terminal {
                let secs = s.started.elapsed().as_secs_f64();
                let rate = if s.total > 0 && secs > 0.0 {
                    format!(", {:.1}/s", s.done as f64 / secs)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    std::io::stderr(),
                    "embedscope: {}: done in {secs:.1} s{rate}",
                    s.name
                );
            }
        }
    }
}
