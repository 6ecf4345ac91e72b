//! Tables for people. Rendered with ANSI styles into a string; the CLI strips them when
//! the output is not a colour terminal or `NO_COLOR` is set. Every registry string goes
//! through [`terminal`].

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::escape::terminal;
use super::{ExplainReport, Item, RankReport, ReachReport, Section, Summary};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const GREEN: Style = AnsiColor::Green.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();

fn paint(style: Style, s: &str) -> String {
    format!("{style}{s}{style:#}")
}

/// Pads a cell to `width` display columns (escaped text is ASCII-safe for width purposes
/// except wide characters, which only cost alignment).
fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

/// Renders a path as `a → b → c`.
pub fn path(ids: &[String]) -> String {
    ids.iter()
        .map(|s| terminal(s).into_owned())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The ranking table, with the top paths spelled out below it by the caller.
pub fn rank(r: &RankReport, top_paths: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {}, at {}, versions {}, hops {}",
        paint(BOLD, "blastradius rank:"),
        r.credentials.len(),
        r.subject,
        r.at,
        r.versions.as_str(),
        r.hops
    );
    let _ = writeln!(out);
    let headers = [
        "#",
        if r.subject == "accounts" {
            "ACCOUNT"
        } else {
            "CREDENTIAL"
        },
        "SCORE",
        "PKGS",
        "LOCKFILES",
        "ENVS",
        "MIRRORS",
        "STOLEN",
        "DISRUPT",
        "RISK FACTORS",
    ];
    let rows: Vec<[String; 10]> = r
        .credentials
        .iter()
        .enumerate()
        .map(|(i, c)| {
            [
                (i + 1).to_string(),
                terminal(&c.id).into_owned(),
                c.score.to_string(),
                c.inject.packages.to_string(),
                c.inject.lockfiles.to_string(),
                c.inject.environments.to_string(),
                c.inject.mirrors.to_string(),
                c.inject.credentials.to_string(),
                c.disrupt.score().to_string(),
                c.risk_factors.join(", "),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numeric = |i: usize| (2..9).contains(&i) || i == 0;
    let cell = |i: usize, s: &str| {
        if numeric(i) {
            format!(
                "{}{s}",
                " ".repeat(widths[i].saturating_sub(s.chars().count()))
            )
        } else {
            pad(s, widths[i])
        }
    };
    let header: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| cell(i, h))
        .collect();
    let _ = writeln!(out, "{}", paint(BOLD, header.join("  ").trim_end()));
    for (ri, row) in rows.iter().enumerate() {
        let mut cells: Vec<String> = row.iter().enumerate().map(|(i, s)| cell(i, s)).collect();
        let score = r.credentials[ri].score;
        let style = if score == 0 {
            DIM
        } else if ri < 3 {
            RED
        } else {
            YELLOW
        };
        cells[2] = paint(style, &cells[2]);
        if score == 0 {
            cells[1] = paint(DIM, &cells[1]);
        }
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    if !top_paths.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            paint(
                BOLD,
                "How the top entries get there (one witness path each):"
            )
        );
        for (id, p) in top_paths {
            let _ = writeln!(out, "  {}", paint(CYAN, &terminal(id)));
            let _ = writeln!(out, "    {}", path(p));
        }
    }
    if let Some(s) = &r.summary {
        summary(&mut out, r, s);
    }
    out
}

/// `n` as a share of `total`, one decimal: `42.0 %`.
pub fn share(n: usize, total: usize) -> String {
    let pct = if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    };
    format!("{pct:.1} %")
}

/// The k at which the summary shows a row: 1, 2, 5, 10, 20, 50, … up to `n`, the last k, and
/// the k of each threshold.
pub fn summary_ks(s: &Summary) -> Vec<usize> {
    let n = s.curve.len();
    let mut ks = Vec::new();
    let mut step = 1usize;
    'outer: loop {
        for m in [1, 2, 5] {
            match step.checked_mul(m) {
                Some(k) if k <= n => ks.push(k),
                _ => break 'outer,
            }
        }
        step = match step.checked_mul(10) {
            Some(x) => x,
            None => break,
        };
    }
    ks.push(n);
    ks.extend(s.k_for.pairs().iter().filter_map(|p| p.1));
    ks.retain(|&k| k >= 1);
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// The concentration summary below the ranking (`--summary`).
fn summary(out: &mut String, r: &RankReport, s: &Summary) {
    let (one, many) = if r.subject == "accounts" {
        ("account", "accounts")
    } else {
        ("credential", "credentials")
    };
    let total = s.total_packages;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        paint(
            BOLD,
            &format!("Concentration: distinct packages the top k {many} reach together (inject)")
        )
    );
    let Some(&top1) = s.curve.first() else {
        let _ = writeln!(out, "  nothing ranked");
        return;
    };
    let mut parts = vec![format!("top 1 reaches {top1} ({})", share(top1, total))];
    for (i, (pct, k)) in s.k_for.pairs().into_iter().enumerate() {
        let what = if i == 0 {
            format!("{pct} % of {}", count(total, "package", "packages"))
        } else {
            format!("{pct} %")
        };
        let k = match k {
            Some(k) => paint(BOLD, &count(k, one, many)),
            None => paint(DIM, "not reached"),
        };
        parts.push(format!("{what}: {k}"));
    }
    let _ = writeln!(out, "  {}", parts.join(" · "));
    let last = *s.curve.last().unwrap_or(&0);
    if s.k_for.pairs().iter().any(|p| p.1.is_none()) {
        let _ = writeln!(
            out,
            "  {}",
            paint(
                DIM,
                &format!(
                    "all {} together reach {last} ({})",
                    count(s.curve.len(), one, many),
                    share(last, total)
                )
            )
        );
    }
    let _ = writeln!(
        out,
        "  {}",
        paint(
            DIM,
            &format!("{:>9}  {:>9}  {:>7}", "k", "packages", "share")
        )
    );
    for k in summary_ks(s) {
        let reached = s.curve[k - 1];
        let marks: Vec<String> = s
            .k_for
            .pairs()
            .iter()
            .filter(|p| p.1 == Some(k))
            .map(|p| format!("{} %", p.0))
            .collect();
        let mark = if marks.is_empty() {
            String::new()
        } else {
            paint(CYAN, &format!("  ← {}", marks.join(", ")))
        };
        let _ = writeln!(
            out,
            "  {k:>9}  {reached:>9}  {:>7}{mark}",
            share(reached, total)
        );
    }
}

const LIST_LIMIT: usize = 15;

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn section(out: &mut String, title: &str, s: &Section) {
    let counts = [
        count(s.packages.len(), "package", "packages"),
        count(s.lockfiles.len(), "lockfile", "lockfiles"),
        count(s.environments.len(), "environment", "environments"),
        count(s.mirrors.len(), "mirror", "mirrors"),
        count(
            s.credentials.len(),
            "stolen credential",
            "stolen credentials",
        ),
    ]
    .join(", ");
    let _ = writeln!(out, "{} {counts}", paint(BOLD, title));
    let lists: [(&str, &Vec<Item>); 5] = [
        ("Stolen credentials", &s.credentials),
        ("Environments", &s.environments),
        ("Mirrors", &s.mirrors),
        ("Lockfiles", &s.lockfiles),
        ("Packages", &s.packages),
    ];
    for (name, items) in lists {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}", paint(CYAN, name));
        for it in items.iter().take(LIST_LIMIT) {
            let mut line = format!("    {}", paint(BOLD, &terminal(&it.id)));
            if it.optional {
                line.push_str(&paint(DIM, " (through an optional dependency)"));
            }
            let _ = writeln!(out, "{line}");
            if !it.pins.is_empty() {
                let pins: Vec<String> = it.pins.iter().map(|p| terminal(p).into_owned()).collect();
                let _ = writeln!(out, "      {} {}", paint(DIM, "pins"), pins.join(", "));
            }
            if it.path.len() > 2 {
                let _ = writeln!(out, "      {} {}", paint(DIM, "path"), path(&it.path));
            }
        }
        if items.len() > LIST_LIMIT {
            let _ = writeln!(
                out,
                "    {}",
                paint(
                    DIM,
                    &format!(
                        "… and {} more (--format json lists all)",
                        items.len() - LIST_LIMIT
                    )
                )
            );
        }
    }
}

/// The reach report.
pub fn reach(r: &ReachReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({}), at {}, versions {}, hops {}: score {}",
        paint(BOLD, "blastradius reach:"),
        paint(CYAN, &terminal(&r.credential)),
        r.source_kind,
        r.at,
        r.versions.as_str(),
        r.hops,
        paint(if r.score > 0 { RED } else { GREEN }, &r.score.to_string())
    );
    if r.publishable.is_empty() {
        let _ = writeln!(
            out,
            "Can publish: {}",
            paint(
                GREEN,
                "nothing (expired, no publish scope, or owns nothing matching)"
            )
        );
    } else {
        let names: Vec<String> = r
            .publishable
            .iter()
            .map(|p| terminal(p).into_owned())
            .collect();
        let _ = writeln!(out, "Can publish: {}", names.join(", "));
    }
    let _ = writeln!(out);
    section(&mut out, "Inject reach:", &r.inject);
    let _ = writeln!(out);
    section(&mut out, "Disrupt reach (yank):", &r.disrupt);
    out
}

/// The explanation of one witness path, one step a line with what each step means.
pub fn explain(r: &ExplainReport, kinds: &[&str]) -> String {
    let mut out = String::new();
    match &r.path {
        None => {
            let _ = writeln!(
                out,
                "{} {} does not reach {} at {}.",
                paint(GREEN, "no path:"),
                terminal(&r.credential),
                terminal(&r.to),
                r.at
            );
        }
        Some(p) => {
            let _ = writeln!(
                out,
                "{} {} reaches {} ({} reach) in {} steps, at {}:",
                paint(BOLD, "witness path:"),
                paint(CYAN, &terminal(&r.credential)),
                paint(CYAN, &terminal(&r.to)),
                r.via.unwrap_or("inject"),
                p.len().saturating_sub(1),
                r.at
            );
            for (i, id) in p.iter().enumerate() {
                let kind = kinds.get(i).copied().unwrap_or("");
                let how = if i == 0 {
                    String::new()
                } else {
                    let prev = kinds.get(i - 1).copied().unwrap_or("");
                    let same_package = id.starts_with(&format!("{}@", p[i - 1]));
                    format!("→ {} ", super::step(prev, kind, same_package))
                };
                let _ = writeln!(
                    out,
                    "  {}{}{} {}",
                    "  ".repeat(i.min(1)),
                    paint(DIM, &how),
                    paint(BOLD, &terminal(id)),
                    paint(DIM, &format!("({kind})"))
                );
            }
        }
    }
    out
}
