//! `incident` output: the JSON of SPEC §5 (with evidence fields beside the required ones), a
//! table that leads with the verdict, and the incident subgraph as DOT.

use std::fmt::Write as _;

use serde::Serialize;

use super::escape::terminal;
use super::time;
use crate::engine::incident::{entry_id, Incident};
use crate::graph::Graph;

/// The window in output.
#[derive(Debug, Clone, Serialize)]
pub struct WindowOut {
    /// T0 (inclusive).
    pub from: String,
    /// T1 (exclusive).
    pub to: String,
}

/// An affected lockfile.
#[derive(Debug, Clone, Serialize)]
pub struct LockfileOut {
    /// Lockfile path.
    pub id: String,
    /// Bad versions it pins.
    pub versions: Vec<String>,
    /// From its root (workspace member) to the first bad pin.
    pub path: Vec<String>,
}

/// An affected build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildOut {
    /// Build id.
    pub id: String,
    /// `locked`, `fresh` or `mirror`.
    pub reason: &'static str,
    /// The bad version it pulled.
    pub version: String,
    /// Its lockfile.
    pub lockfile: String,
    /// When it started.
    pub started_at: String,
    /// `locked` or `fresh`.
    pub mode: &'static str,
    /// The mirror it fetched through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// Evidence: the lockfile path to the pin, or the resolved chain from the manifest.
    pub chain: Vec<String>,
    /// The chain crosses an optional requirement.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// What a mirror did.
#[derive(Debug, Clone, Serialize)]
pub struct MirrorOut {
    /// Mirror id.
    pub id: String,
    /// Synced inside the window.
    pub cached: bool,
    /// Cached and does not honour yanks.
    pub still_serving: bool,
    /// Whether it honours yanks.
    pub honors_yank: bool,
    /// Its sync-log entries inside the window.
    pub synced_in_window: Vec<String>,
}

/// Counts for the verdict line.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Affected builds.
    pub builds_affected: usize,
    /// Builds checked.
    pub builds_checked: usize,
    /// Lockfiles pinning a bad version.
    pub lockfiles_affected: usize,
    /// Mirrors that cached the bad versions.
    pub mirrors_cached: usize,
    /// Mirrors still serving them.
    pub mirrors_still_serving: usize,
}

/// `incident` output (SPEC §5).
#[derive(Debug, Clone, Serialize)]
pub struct IncidentReport {
    /// Bad version ids.
    pub bad: Vec<String>,
    /// Bad versions whose registry metadata says they run code when installed (npm install
    /// scripts, PyPI source-only releases that run a build backend): every machine that
    /// installed one ran the attacker's code, not only the builds that shipped it. Absent
    /// when none does or the metadata does not list the bad versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub install_scripts: Vec<String>,
    /// The window.
    pub window: WindowOut,
    /// Affected lockfiles, by id.
    pub lockfiles: Vec<LockfileOut>,
    /// Affected builds, by id.
    pub builds: Vec<BuildOut>,
    /// Mirrors of the bad versions' ecosystems, by id.
    pub mirrors: Vec<MirrorOut>,
    /// Counts.
    pub summary: Summary,
    /// Inputs skipped under `--keep-going` and caveats about the metadata (times that are not
    /// publication times, unknown owners), sorted; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl IncidentReport {
    /// Builds the report.
    pub fn new(g: &Graph, inc: &Incident) -> Self {
        let bad_id = |i: usize| inc.bad[i].id();
        let mut lockfiles: Vec<LockfileOut> = inc
            .lockfiles
            .iter()
            .map(|h| LockfileOut {
                id: g.lockfile(h.lockfile).id.clone(),
                versions: h.versions.iter().map(|&i| bad_id(i)).collect(),
                path: h.path.iter().map(|&e| entry_id(g, h.lockfile, e)).collect(),
            })
            .collect();
        lockfiles.sort_by(|a, b| a.id.cmp(&b.id));
        let mut builds: Vec<BuildOut> = inc
            .builds
            .iter()
            .map(|h| {
                let b = g.build_node(h.build);
                BuildOut {
                    id: b.id.clone(),
                    reason: h.reason.as_str(),
                    version: bad_id(h.version),
                    lockfile: g.lockfile(b.lockfile).id.clone(),
                    started_at: time(b.started_at),
                    mode: if b.fresh { "fresh" } else { "locked" },
                    mirror: b.mirror.map(|m| g.mirror(m).id.clone()),
                    chain: h.chain.clone(),
                    optional: h.optional,
                }
            })
            .collect();
        builds.sort_by(|a, b| a.id.cmp(&b.id));
        let mut mirrors: Vec<MirrorOut> = inc
            .mirrors
            .iter()
            .map(|m| MirrorOut {
                id: g.mirror(m.mirror).id.clone(),
                cached: m.cached,
                still_serving: m.still_serving,
                honors_yank: g.mirror(m.mirror).honors_yank,
                synced_in_window: m.synced.iter().map(|t| time(*t)).collect(),
            })
            .collect();
        mirrors.sort_by(|a, b| a.id.cmp(&b.id));
        // Sorted by id as SPEC §5 asks (the engine orders by name, so `chalk@5.6.1` came
        // before `chalk-template@1.1.1`).
        let mut bad: Vec<String> = inc.bad.iter().map(|b| b.id()).collect();
        bad.sort();
        let mut install_scripts: Vec<String> = inc
            .bad
            .iter()
            .filter(|b| b.node.is_some_and(|v| g.version(v).install_script))
            .map(|b| b.id())
            .collect();
        install_scripts.sort();
        IncidentReport {
            bad,
            install_scripts,
            window: WindowOut {
                from: time(inc.window.from),
                to: time(inc.window.to),
            },
            summary: Summary {
                builds_affected: builds.len(),
                builds_checked: inc.builds_checked,
                lockfiles_affected: lockfiles.len(),
                mirrors_cached: mirrors.iter().filter(|m| m.cached).count(),
                mirrors_still_serving: mirrors.iter().filter(|m| m.still_serving).count(),
            },
            lockfiles,
            builds,
            mirrors,
            warnings: Vec::new(),
        }
    }

    /// The incident subgraph: bad versions → lockfiles → builds, and bad versions → mirrors
    /// that cached them.
    pub fn to_dot(&self) -> String {
        let mut paths: Vec<Vec<(String, &'static str)>> = Vec::new();
        for l in &self.lockfiles {
            for v in &l.versions {
                paths.push(vec![(v.clone(), "version"), (l.id.clone(), "lockfile")]);
            }
        }
        for b in &self.builds {
            match b.reason {
                "locked" => paths.push(vec![
                    (b.version.clone(), "version"),
                    (b.lockfile.clone(), "lockfile"),
                    (b.id.clone(), "build"),
                ]),
                _ => {
                    let mut p = vec![(b.version.clone(), "version")];
                    if let Some(m) = &b.mirror {
                        if b.reason == "mirror" {
                            p.push((m.clone(), "mirror"));
                        }
                    }
                    p.push((b.id.clone(), "build"));
                    paths.push(p);
                }
            }
        }
        for m in self.mirrors.iter().filter(|m| m.cached) {
            for v in &self.bad {
                paths.push(vec![(v.clone(), "version"), (m.id.clone(), "mirror")]);
            }
        }
        let title = format!(
            "blastradius incident: {} in [{}, {})",
            self.bad.join(", "),
            self.window.from,
            self.window.to
        );
        super::dot::paths_to_dot(&title, &paths)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The table: verdict first, then each finding with its reason and evidence.
pub fn table(r: &IncidentReport) -> String {
    use anstyle::{AnsiColor, Style};
    let bold = Style::new().bold();
    let red = AnsiColor::Red.on_default().bold();
    let green = AnsiColor::Green.on_default().bold();
    let dim = Style::new().dimmed();
    let s = &r.summary;
    let mut out = String::new();
    let verdict = format!(
        "{} affected, {}, {} still serving",
        plural(s.builds_affected, "build", "builds"),
        plural(s.lockfiles_affected, "lockfile", "lockfiles"),
        plural(s.mirrors_still_serving, "mirror", "mirrors")
    );
    let style = if s.builds_affected + s.lockfiles_affected + s.mirrors_still_serving > 0 {
        red
    } else {
        green
    };
    let _ = writeln!(out, "{style}{verdict}{style:#}");
    let bad: Vec<String> = r.bad.iter().map(|b| terminal(b).into_owned()).collect();
    let _ = writeln!(
        out,
        "{dim}bad: {} · window [{}, {}) · {} builds checked{dim:#}",
        bad.join(", "),
        r.window.from,
        r.window.to,
        s.builds_checked
    );
    if !r.install_scripts.is_empty() {
        let scripts: Vec<String> = r
            .install_scripts
            .iter()
            .map(|b| terminal(b).into_owned())
            .collect();
        let _ = writeln!(
            out,
            "{red}runs code at install: {} (machines that installed it ran the attacker's code){red:#}",
            scripts.join(", ")
        );
    }
    if !r.builds.is_empty() {
        let _ = writeln!(out, "\n{bold}Builds{bold:#}");
        let w = r
            .builds
            .iter()
            .map(|b| terminal(&b.id).chars().count())
            .max()
            .unwrap_or(0);
        // A timeline reads best under pressure: oldest first.
        let mut timeline: Vec<&BuildOut> = r.builds.iter().collect();
        timeline.sort_by(|a, b| (&a.started_at, &a.id).cmp(&(&b.started_at, &b.id)));
        for b in timeline {
            let id = terminal(&b.id);
            let pad = " ".repeat(w.saturating_sub(id.chars().count()));
            let why = match b.reason {
                "locked" => format!("its lockfile {} pins it", terminal(&b.lockfile)),
                "fresh" => "resolved it fresh inside the window".to_string(),
                _ => format!(
                    "{} it after the window from {}, which kept serving it",
                    if b.mode == "fresh" {
                        "resolved"
                    } else {
                        "installed"
                    },
                    terminal(b.mirror.as_deref().unwrap_or("?"))
                ),
            };
            let _ = writeln!(
                out,
                "  {bold}{id}{bold:#}{pad}  {red}{:<6}{red:#}  {}  {} — {why}",
                b.reason,
                b.started_at,
                terminal(&b.version)
            );
            let chain: Vec<String> = b.chain.iter().map(|c| terminal(c).into_owned()).collect();
            let _ = writeln!(
                out,
                "  {}  {dim}{}{}{dim:#}",
                " ".repeat(w),
                chain.join(" → "),
                if b.optional {
                    " (through an optional dependency)"
                } else {
                    ""
                }
            );
        }
    }
    if !r.lockfiles.is_empty() {
        let _ = writeln!(out, "\n{bold}Lockfiles pinning a bad version{bold:#}");
        for l in &r.lockfiles {
            let versions: Vec<String> = l
                .versions
                .iter()
                .map(|v| terminal(v).into_owned())
                .collect();
            let _ = writeln!(
                out,
                "  {bold}{}{bold:#}  {}",
                terminal(&l.id),
                versions.join(", ")
            );
            let path: Vec<String> = l.path.iter().map(|c| terminal(c).into_owned()).collect();
            let _ = writeln!(out, "    {dim}{}{dim:#}", path.join(" → "));
        }
    }
    if !r.mirrors.is_empty() {
        let _ = writeln!(out, "\n{bold}Mirrors{bold:#}");
        let w = r
            .mirrors
            .iter()
            .map(|m| terminal(&m.id).chars().count())
            .max()
            .unwrap_or(0);
        for m in &r.mirrors {
            let state = match (m.cached, m.still_serving) {
                (true, true) => {
                    format!("{red}STILL SERVING{red:#} (cached in the window, ignores yanks)")
                }
                (true, false) => {
                    "cached in the window, stopped serving (honours yanks)".to_string()
                }
                _ => format!("{green}not cached{green:#} (no sync inside the window)"),
            };
            let synced = if m.synced_in_window.is_empty() {
                String::new()
            } else {
                format!(" {dim}synced {}{dim:#}", m.synced_in_window.join(", "))
            };
            let id = terminal(&m.id);
            let pad = " ".repeat(w.saturating_sub(id.chars().count()));
            let _ = writeln!(out, "  {bold}{id}{bold:#}{pad}  {state}{synced}");
        }
    }
    out
}
