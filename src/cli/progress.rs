//! What a long run is doing: a spinner naming the current phase (reading inputs, building the
//! graph, ranking) with its elapsed time when stderr is a terminal and the phase runs longer
//! than a second, turning into a progress bar when the phase counts its work (files read,
//! blocks of sources ranked: [`crate::tally`]), and with `--timings` one line per phase at
//! the end, so a slow run on a whole registry shows where its time goes.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Phases finished so far in this process, in order, with their wall time.
static DONE: Mutex<Vec<(String, Duration)>> = Mutex::new(Vec::new());

/// A phase shorter than this never draws anything: quick runs (and tests reading a terminal)
/// see no spinner, as with cargo's progress bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// One phase: shown while it runs (after [`SHOW_AFTER`]), recorded when dropped.
pub struct Phase {
    name: String,
    started: Instant,
    /// Tells the spinner thread the phase is over.
    stop: Option<std::sync::mpsc::Sender<()>>,
    spinner: Option<std::thread::JoinHandle<()>>,
}

/// Starts a phase (`what` is shown as "blastradius: <what>… <elapsed>" while it runs).
pub fn phase(what: impl Into<String>) -> Phase {
    let name = what.into();
    let started = Instant::now();
    crate::tally::TALLY.reset();
    let interactive =
        std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    let (stop, spinner) = if interactive {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let message = name.clone();
        let handle = std::thread::spawn(move || {
            if rx.recv_timeout(SHOW_AFTER).is_ok() {
                return;
            }
            let s = indicatif::ProgressBar::new_spinner();
            s.set_style(
                indicatif::ProgressStyle::with_template("{spinner} blastradius: {msg}… {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            s.set_message(message);
            s.enable_steady_tick(Duration::from_millis(120));
            let mut counting = false;
            // Redraw with the tally until the phase ends.
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(Duration::from_millis(120))
            {
                let (done, total) = crate::tally::TALLY.get();
                if total > 0 {
                    if !counting {
                        counting = true;
                        s.set_style(
                            indicatif::ProgressStyle::with_template(
                                "{spinner} blastradius: {msg}… {elapsed} [{bar:30}] {pos}/{len}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                            .progress_chars("=> "),
                        );
                    }
                    s.set_length(total);
                    s.set_position(done.min(total));
                }
            }
            s.finish_and_clear();
        });
        (Some(tx), Some(handle))
    } else {
        (None, None)
    };
    Phase {
        name,
        started,
        stop,
        spinner,
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        let took = self.started.elapsed();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.spinner.take() {
            let _ = handle.join();
        }
        if let Ok(mut done) = DONE.lock() {
            done.push((std::mem::take(&mut self.name), took));
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
