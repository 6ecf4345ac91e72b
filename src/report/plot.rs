//! `rank --plot FILE`: the concentration curve as a self-contained SVG, written by hand.
//!
//! x is k (the top k subjects, logarithmic: the interesting part of a 100k-subject ranking is
//! its first hundred), y the share of all packages the top k reach together. The 10, 50 and
//! 90 % levels are drawn across, and the k that first reaches each is marked on the curve.
//! Every number is formatted with a fixed precision, so the same report gives the same bytes;
//! every piece of text goes through [`xml`].

use std::fmt::Write as _;

use super::escape::terminal;
use super::table::share;
use super::{RankReport, Summary};

const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 550.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 100.0;
const BOTTOM: f64 = 70.0;
/// One colour per threshold: 10, 50, 90 %.
const COLOURS: [&str; 3] = ["#2ca02c", "#d62728", "#9467bd"];

/// Escapes text for SVG/XML content and attribute values: `<>&"'` become entities, and
/// characters XML 1.0 forbids or a terminal would act on (controls, bidi overrides) become
/// visible `\u{…}` text first.
pub fn xml(s: &str) -> String {
    let safe = terminal(s);
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not control characters, but not allowed in XML 1.0 either.
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Maps k and shares to drawing coordinates.
struct Axes {
    /// ln of the largest k on the axis (at least 2, so one subject still gets a width).
    ln_max: f64,
}

impl Axes {
    fn x(&self, k: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * k.ln() / self.ln_max
    }
    fn y(&self, pct: f64) -> f64 {
        TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - pct / 100.0)
    }
}

fn pct(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

/// 1, 2, 5, 10, 20, 50, … up to `max`.
fn ticks(max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut step = 1usize;
    while step <= max {
        for m in [1, 2, 5] {
            if let Some(k) = step.checked_mul(m).filter(|&k| k <= max) {
                out.push(k);
            }
        }
        match step.checked_mul(10) {
            Some(s) => step = s,
            None => break,
        }
    }
    out
}

/// Points of the curve, at most two per horizontal pixel: the first and the last k that fall
/// into each pixel column (the curve never decreases, so nothing between them is higher).
fn points(s: &Summary, ax: &Axes) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut column = None;
    let mut last_in_column = None;
    for (i, &r) in s.curve.iter().enumerate() {
        let p = (ax.x((i + 1) as f64), ax.y(pct(r, s.total_packages)));
        let col = p.0.floor() as i64;
        if column != Some(col) {
            out.extend(last_in_column.take());
            out.push(p);
            column = Some(col);
        } else {
            last_in_column = Some(p);
        }
    }
    out.extend(last_in_column);
    out
}

/// The SVG of a report's concentration curve. `dataset` names the inputs in the subtitle.
///
/// The curve is drawn from `summary`; the report gives the subject kind, time and options.
pub fn svg(r: &RankReport, s: &Summary, dataset: &str) -> String {
    let n = s.curve.len();
    let (one, many) = if r.subject == "accounts" {
        ("account", "accounts")
    } else {
        ("credential", "credentials")
    };
    let ax = Axes {
        ln_max: (n.max(2) as f64).ln(),
    };
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, ax.y(0.0), ax.y(100.0));
    let title = format!("How few {many} reach how much: top k {many} vs. packages reached");
    // A long list of inputs would run off the image: keep its start.
    let dataset: String = if dataset.chars().count() > 72 {
        dataset.chars().take(71).chain(['…']).collect()
    } else {
        dataset.to_string()
    };
    let subtitle = format!(
        "{dataset}: {n} {many} in rank order, {} packages",
        s.total_packages
    );
    let options = format!(
        "inject reach at {}, versions {}, hops {}",
        r.at,
        r.versions.as_str(),
        r.hops
    );
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(o, "<title>{}</title>", xml(&title));
    let _ = writeln!(
        o,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        o,
        r#"<text x="{LEFT}" y="28" font-size="16" font-weight="bold">{}</text>"#,
        xml(&title)
    );
    let _ = writeln!(
        o,
        r##"<text x="{LEFT}" y="48" fill="#555">{}</text>"##,
        xml(&subtitle)
    );
    let _ = writeln!(
        o,
        r##"<text x="{LEFT}" y="64" fill="#555">{}</text>"##,
        xml(&options)
    );

    // Grid, ticks and labels.
    let _ = writeln!(o, r##"<g stroke="#e3e3e3" stroke-width="1">"##);
    for p in (0..=100).step_by(10) {
        let y = ax.y(p as f64);
        let _ = writeln!(
            o,
            r#"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}"/>"#
        );
    }
    let mut xt = ticks(n.max(1));
    // The last k gets its own tick when it is not too close to a round one.
    if xt
        .last()
        .is_some_and(|&t| ax.x(n as f64) - ax.x(t as f64) > 30.0)
    {
        xt.push(n);
    }
    for &k in &xt {
        let x = ax.x(k as f64);
        let _ = writeln!(
            o,
            r#"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}"/>"#
        );
    }
    let _ = writeln!(o, "</g>");
    let _ = writeln!(o, r#"<g text-anchor="end">"#);
    for p in (0..=100).step_by(10) {
        let y = ax.y(p as f64) + 4.0;
        let _ = writeln!(o, r#"<text x="{:.1}" y="{y:.1}">{p} %</text>"#, x0 - 8.0);
    }
    let _ = writeln!(o, "</g>");
    let _ = writeln!(o, r#"<g text-anchor="middle">"#);
    for &k in &xt {
        let x = ax.x(k as f64);
        let _ = writeln!(o, r#"<text x="{x:.1}" y="{:.1}">{k}</text>"#, y0 + 18.0);
    }
    let _ = writeln!(o, "</g>");
    let _ = writeln!(
        o,
        r#"<path d="M{x0:.1},{y1:.1} V{y0:.1} H{x1:.1}" fill="none" stroke="black" stroke-width="1"/>"#
    );
    let _ = writeln!(
        o,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (x0 + x1) / 2.0,
        HEIGHT - 22.0,
        xml(&format!("k: the top k {many} by rank (logarithmic)"))
    );
    let _ = writeln!(
        o,
        r#"<text transform="translate(22 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (y0 + y1) / 2.0,
        xml("packages reached together (% of all)")
    );

    // The 10 / 50 / 90 % levels, and where the curve first reaches each.
    for ((p, k), colour) in s.k_for.pairs().into_iter().zip(COLOURS) {
        let y = ax.y(p as f64);
        let _ = writeln!(
            o,
            r#"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="{colour}" stroke-dasharray="6 4"/>"#
        );
        // The curve never decreases: left of its marker it runs below the level, right of it
        // above, so a label above-left or below-right of the marker never crosses it.
        let (label, lx, ly, anchor) = match k {
            Some(k) if ax.x(k as f64) - x0 > 140.0 => (
                format!("{p} %: k = {k}"),
                ax.x(k as f64) - 8.0,
                y - 5.0,
                "end",
            ),
            Some(k) => (
                format!("{p} %: k = {k}"),
                ax.x(k as f64) + 8.0,
                y + 14.0,
                "start",
            ),
            None => (format!("{p} %: not reached"), x1 - 4.0, y - 5.0, "end"),
        };
        let _ = writeln!(
            o,
            r#"<text id="threshold-{p}" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}" fill="{colour}">{}</text>"#,
            xml(&label)
        );
        if let Some(k) = k {
            let x = ax.x(k as f64);
            let yk = ax.y(pct(s.curve[k - 1], s.total_packages));
            let _ = writeln!(
                o,
                r#"<line x1="{x:.1}" y1="{yk:.1}" x2="{x:.1}" y2="{y0:.1}" stroke="{colour}" stroke-dasharray="2 3"/>"#
            );
            let _ = writeln!(
                o,
                r#"<circle id="k-for-{p}" cx="{x:.1}" cy="{yk:.1}" r="4" fill="{colour}"><title>{}</title></circle>"#,
                xml(&format!(
                    "top {k} {}: {} packages ({}), the first k at or above {p} %",
                    if k == 1 { one } else { many },
                    s.curve[k - 1],
                    share(s.curve[k - 1], s.total_packages)
                ))
            );
        }
    }

    // The curve itself.
    let pts = points(s, &ax);
    if pts.is_empty() {
        let _ = writeln!(
            o,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">nothing ranked</text>"#,
            (x0 + x1) / 2.0,
            (y0 + y1) / 2.0
        );
    } else {
        let mut d = String::new();
        for (i, (x, y)) in pts.iter().enumerate() {
            let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
        }
        let _ = writeln!(
            o,
            r##"<path id="curve" d="{d}" fill="none" stroke="#1f77b4" stroke-width="2"/>"##
        );
        if let [(x, y)] = pts[..] {
            let _ = writeln!(
                o,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#1f77b4"/>"##
            );
        }
    }
    let last = s.curve.last().copied().unwrap_or(0);
    let _ = writeln!(
        o,
        r##"<text x="{LEFT}" y="82" fill="#1f77b4">{}</text>"##,
        xml(&format!(
            "all {n} {many} together reach {last} of {} packages ({})",
            s.total_packages,
            share(last, s.total_packages)
        ))
    );
    let _ = writeln!(o, "</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(
            xml(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(xml("a\u{1b}b"), "a\\u{1b}b");
        assert_eq!(xml("x\u{FFFF}"), "x\u{FFFD}");
    }

    #[test]
    fn ticks_follow_one_two_five() {
        assert_eq!(ticks(1), [1]);
        assert_eq!(ticks(120), [1, 2, 5, 10, 20, 50, 100]);
    }

    #[test]
    fn points_keep_two_per_column_and_the_end() {
        let s = Summary {
            total_packages: 100,
            curve: (1..=100_000).map(|k| (k / 1000).min(100)).collect(),
            k_for: super::super::KFor {
                p10: None,
                p50: None,
                p90: None,
            },
        };
        let ax = Axes {
            ln_max: (100_000f64).ln(),
        };
        let pts = points(&s, &ax);
        assert!(pts.len() <= 2 * (WIDTH as usize), "{}", pts.len());
        assert_eq!(pts.last().unwrap().1, ax.y(100.0));
        assert_eq!(pts.first().unwrap().0, ax.x(1.0));
    }
}
