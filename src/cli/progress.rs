//! What a long run is doing: a spinner naming the current phase (reading inputs, building the
//! graph, ranking) with its elapsed time when stderr is a terminal, and with `--timings` one
//! line per phase at the end, so a slow run on a whole registry shows where its time goes.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Phases finished so far in this process, in order, with their wall time.
static DONE: Mutex<Vec<(String, Duration)>> = Mutex::new(Vec::new());

/// One phase: shown while it runs, recorded when dropped.
pub struct Phase {
    name: String,
    started: Instant,
    spinner: indicatif::ProgressBar,
}

/// Starts a phase (`what` is shown as "blastradius: <what>…" while it runs).
pub fn phase(what: impl Into<String>) -> Phase {
    let name = what.into();
    let spinner = if std::io::stderr().is_terminal() {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_style(
            indicatif::ProgressStyle::with_template("{spinner} blastradius: {msg}… {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        s.set_message(name.clone());
        s.enable_steady_tick(Duration::from_millis(120));
        s
    } else {
        indicatif::ProgressBar::hidden()
    };
    Phase {
        name,
        started: Instant::now(),
        spinner,
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        self.spinner.finish_and_clear();
        if let Ok(mut done) = DONE.lock() {
            done.push((std::mem::take(&mut self.name), self.started.elapsed()));
        }
    }
}

/// The `--timings` report: one line per finished phase and the total.
pub fn timings() -> String {
    let done = DONE.lock().map(|d| d.clone()).unwrap_or_default();
    let width = done.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = String::new();
    let mut total = Duration::ZERO;
    for (name, took) in &done {
        total += *took;
        out.push_str(&format!(
            "timing: {name:<width$}  {:>8.2} s\n",
            took.as_secs_f64()
        ));
    }
    out.push_str(&format!(
        "timing: {:<width$}  {:>8.2} s\n",
        "total",
        total.as_secs_f64()
    ));
    out
}
