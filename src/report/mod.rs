//! Reports: the serde types here ARE the JSON format of SPEC §5 (rustsec's lesson); the table
//! and DOT writers are presenters over the same values.
//!
//! JSON is made byte-stable by going through `serde_json::Value`, whose maps are sorted, and by
//! sorting every list by id before it gets here.

pub mod dot;
pub mod escape;
pub mod export;
pub mod incident;
pub mod plot;
pub mod table;

use serde::Serialize;

use crate::engine::rank::Counts;
use crate::engine::{Curve, Found, Query, RankEntry, Reach, Reached, Source, VersionsMode};
use crate::graph::{Graph, NodeRef};

/// One reached node in a report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// Node id.
    pub id: String,
    /// Node kind.
    pub kind: &'static str,
    /// Ids from the source to this node.
    pub path: Vec<String>,
    /// For lockfiles: the pinned versions of reached packages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<String>,
    /// The path crosses an optional dependency.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// The five lists of one reach mode.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Section {
    /// Reached packages.
    pub packages: Vec<Item>,
    /// Exposed lockfiles.
    pub lockfiles: Vec<Item>,
    /// Reached environments.
    pub environments: Vec<Item>,
    /// Reached mirrors.
    pub mirrors: Vec<Item>,
    /// Stolen credentials.
    pub credentials: Vec<Item>,
}

/// `reach` output (SPEC §5).
#[derive(Debug, Clone, Serialize)]
pub struct ReachReport {
    /// The credential (or account) the question starts from.
    pub credential: String,
    /// `credential` or `account`.
    pub source_kind: &'static str,
    /// Analysis time.
    pub at: String,
    /// Hops.
    pub hops: u32,
    /// `latest` or `all`.
    pub versions: VersionsMode,
    /// Packages it can publish now.
    pub publishable: Vec<String>,
    /// What injecting a version reaches.
    pub inject: Section,
    /// What yanking reaches.
    pub disrupt: Section,
    /// SPEC §4 rule 7 score.
    pub score: usize,
    /// Inputs skipped under `--keep-going` and caveats about the metadata (times that are not
    /// publication times, unknown owners), sorted; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One line of `rank` output.
#[derive(Debug, Clone, Serialize)]
pub struct RankItem {
    /// Credential or account id.
    pub id: String,
    /// Score.
    pub score: usize,
    /// Inject counts.
    pub inject: Counts,
    /// Disrupt counts.
    pub disrupt: Counts,
    /// Number of packages it can publish now.
    pub publishable: usize,
    /// Risk labels.
    pub risk_factors: Vec<&'static str>,
}

/// `rank` output (SPEC §5).
#[derive(Debug, Clone, Serialize)]
pub struct RankReport {
    /// Analysis time.
    pub at: String,
    /// Hops.
    pub hops: u32,
    /// `latest` or `all`.
    pub versions: VersionsMode,
    /// `credentials` or `accounts`.
    pub subject: &'static str,
    /// Entries in rank order.
    pub credentials: Vec<RankItem>,
    /// The concentration curve (`--summary`); absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Inputs skipped under `--keep-going` and caveats about the metadata (times that are not
    /// publication times, unknown owners), sorted; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `rank --summary`: how concentrated inject reach is over the ranked subjects.
///
/// JSON: `{"total_packages": N, "curve": [u1, u2, …], "k_for": {"10": k, "50": k, "90": k}}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Packages in the graph: the 100 % of every share.
    pub total_packages: usize,
    /// `curve[k - 1]`: distinct packages reached (inject) by at least one of the first k
    /// entries of `credentials` (the union, not the sum). One number per entry,
    /// non-decreasing; the last is what all of them reach together.
    pub curve: Vec<usize>,
    /// The smallest k whose first k entries together reach 10, 50 and 90 % of
    /// `total_packages` (rounded up to whole packages); null when all of them together do not.
    pub k_for: KFor,
}

/// The `k_for` object of a [`Summary`]: keys are percentages of all packages.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct KFor {
    /// k for 10 %.
    #[serde(rename = "10")]
    pub p10: Option<usize>,
    /// k for 50 %.
    #[serde(rename = "50")]
    pub p50: Option<usize>,
    /// k for 90 %.
    #[serde(rename = "90")]
    pub p90: Option<usize>,
}

impl KFor {
    /// `(percent, k)` for each threshold, lowest first.
    pub fn pairs(&self) -> [(u32, Option<usize>); 3] {
        [(10, self.p10), (50, self.p50), (90, self.p90)]
    }
}

impl Summary {
    /// The summary of a curve computed over a ranking's entries, in rank order.
    pub fn new(c: &Curve) -> Self {
        Summary {
            total_packages: c.total_packages,
            curve: c.reached.clone(),
            k_for: KFor {
                p10: c.k_for(10),
                p50: c.k_for(50),
                p90: c.k_for(90),
            },
        }
    }
}

/// `explain` output.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainReport {
    /// Source id.
    pub credential: String,
    /// Target id.
    pub to: String,
    /// `inject`, `disrupt`, or null when not reached.
    pub via: Option<&'static str>,
    /// The witness path, when reached.
    pub path: Option<Vec<String>>,
    /// Analysis time.
    pub at: String,
    /// Inputs skipped under `--keep-going` and caveats about the metadata (times that are not
    /// publication times, unknown owners), sorted; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn item(g: &Graph, r: &Reached) -> Item {
    Item {
        id: g.display(r.node),
        kind: r.node.kind().as_str(),
        path: r.path.iter().map(|n| g.display(*n)).collect(),
        pins: r
            .pins
            .iter()
            .map(|v| g.display(NodeRef::Version(*v)))
            .collect(),
        optional: r.optional,
    }
}

fn section(g: &Graph, f: &Found) -> Section {
    let list = |v: &[Reached]| {
        let mut out: Vec<Item> = v.iter().map(|r| item(g, r)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    };
    Section {
        packages: list(&f.packages),
        lockfiles: list(&f.lockfiles),
        environments: list(&f.environments),
        mirrors: list(&f.mirrors),
        credentials: list(&f.credentials),
    }
}

/// RFC 3339 in UTC, whole seconds: the one time format of every report.
pub fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl ReachReport {
    /// Builds the report of one reach answer.
    pub fn new(g: &Graph, r: &Reach, q: &Query) -> Self {
        let mut publishable: Vec<String> = r
            .publishable
            .iter()
            .map(|p| g.display(NodeRef::Package(*p)))
            .collect();
        publishable.sort();
        ReachReport {
            credential: g.display(r.source.node()),
            source_kind: match r.source {
                Source::Credential(_) => "credential",
                Source::Account(_) => "account",
            },
            at: time(q.at),
            hops: q.hops,
            versions: q.versions,
            publishable,
            inject: section(g, &r.inject),
            disrupt: section(g, &r.disrupt),
            score: r.score(),
            warnings: Vec::new(),
        }
    }
}

impl RankReport {
    /// Builds the report of a ranking.
    pub fn new(entries: &[RankEntry], q: &Query, accounts: bool) -> Self {
        RankReport {
            at: time(q.at),
            hops: q.hops,
            versions: q.versions,
            subject: if accounts { "accounts" } else { "credentials" },
            credentials: entries
                .iter()
                .map(|e| RankItem {
                    id: e.id.clone(),
                    score: e.score,
                    inject: e.inject,
                    disrupt: e.disrupt,
                    publishable: e.publishable,
                    risk_factors: e.risk_factors.clone(),
                })
                .collect(),
            summary: None,
            warnings: Vec::new(),
        }
    }
}

/// Serialises any report as stable JSON: sorted keys, two-space indent, trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let v = serde_json::to_value(value).expect("reports serialise");
    let mut s = serde_json::to_string_pretty(&v).expect("values serialise");
    s.push('\n');
    s
}

/// What one step of a witness path means, by the kinds it connects (`same_package`: the
/// version belongs to the package before it). Shared by the explain table and DOT labels.
pub fn step(from: &str, to: &str, same_package: bool) -> &'static str {
    match (from, to) {
        ("credential", "package") | ("account", "package") => "can publish",
        ("package", "version") if same_package => "at version",
        ("package", "version") => "is required by",
        ("version", "package") => "a version of",
        ("version", "lockfile") => "pinned by",
        ("lockfile", "environment") => "installed and built in",
        ("lockfile", "mirror") => "fetched through",
        ("environment", "credential") => "which holds",
        ("version", "build") => "resolved fresh by",
        ("lockfile", "build") => "installed by",
        ("version", "mirror") => "cached by",
        ("mirror", "build") => "served to",
        _ => "",
    }
}
