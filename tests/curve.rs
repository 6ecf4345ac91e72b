//! `rank --summary` on the hand-built rule fixtures (tests/fixtures/rules/, see make.py there):
//! every curve and every k below was worked out by hand from the fixture and the reach sets
//! tests/rules.rs checks, not copied from the tool's output.

use blastradius::engine::{self, AttackIndex, Curve, Query, RankSubject, Source, VersionsMode};
use blastradius::graph::Graph;
use blastradius::ingest::{self, detect::Input};
use blastradius::report::{self, table, RankReport, Summary};

fn fixture(name: &str) -> Graph {
    let path = format!("{}/tests/fixtures/rules/{name}", env!("CARGO_MANIFEST_DIR"));
    let facts = ingest::load(&[Input {
        path: path.into(),
        display: "fx".into(),
    }])
    .unwrap();
    let g = Graph::build(&facts).unwrap();
    g.verify().unwrap();
    g
}

fn query(hops: u32) -> Query {
    Query {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        versions: VersionsMode::Latest,
        hops,
    }
}

/// Ranks, then computes the curve over the ranking; returns the ids in rank order too.
fn ranked_curve(g: &Graph, q: &Query, subject: RankSubject) -> (Vec<String>, Curve) {
    let idx = AttackIndex::new(g, q.versions);
    let ranking = engine::rank(g, &idx, q, subject, true);
    let order: Vec<Source> = ranking.iter().map(|e| e.source).collect();
    let c = engine::curve(g, &idx, q, &order, true);
    assert_eq!(c, engine::curve(g, &idx, q, &order, false));
    (ranking.iter().map(|e| e.id.clone()).collect(), c)
}

#[test]
fn rule1_credentials_curve_never_reaches_90_percent() {
    let g = fixture("rule1-publishability");
    let (ids, c) = ranked_curve(&g, &query(1), RankSubject::Credentials);
    // Packages: a-one, a-two, b, c, user (5). Reach (tests/rules.rs, rule 1):
    //   t-all     {a-one, a-two, user}  score 3
    //   t-owners  {b, user}             score 2
    //   t-pattern {a-one, user}         score 2 (ties by id: t-owners < t-pattern)
    //   t-expired, t-foreign, t-new, t-yank: nothing, score 0, by id.
    assert_eq!(
        ids,
        [
            "t-all",
            "t-owners",
            "t-pattern",
            "t-expired",
            "t-foreign",
            "t-new",
            "t-yank"
        ]
    );
    // Union: k=1 {a-one, a-two, user} = 3; k=2 adds b = 4; nobody ever reaches c.
    assert_eq!(c.total_packages, 5);
    assert_eq!(c.reached, [3, 4, 4, 4, 4, 4, 4]);
    // 10 % of 5 = 0.5 → 1 package: k=1. 50 % = 2.5 → 3 packages: k=1. 90 % = 4.5 → 5
    // packages: 4 at most, never.
    assert_eq!(
        (c.k_for(10), c.k_for(50), c.k_for(90)),
        (Some(1), Some(1), None)
    );
    // 80 % = 4 packages: k=2.
    assert_eq!(c.k_for(80), Some(2));
}

#[test]
fn rule1_accounts_curve() {
    let g = fixture("rule1-publishability");
    let (ids, c) = ranked_curve(&g, &query(1), RankSubject::Accounts);
    // alice owns a-one, a-two (all rights): {a-one, a-two, user}, score 3; bob owns b:
    // {b, user}, score 2. Nobody owns c and user, so each stands for its own publishing
    // right (SPEC §4 rule 1): owner-of:c {c} and owner-of:user {user}, score 1 each.
    assert_eq!(ids, ["alice", "bob", "owner-of:c", "owner-of:user"]);
    // Union: 3; + b = 4; + c = 5 (everything); user adds nothing.
    assert_eq!(c.reached, [3, 4, 5, 5]);
    assert_eq!(c.total_packages, 5);
    // 10 % and 50 % (3 packages): k=1; 90 % (5 packages): k=3.
    assert_eq!(
        (c.k_for(10), c.k_for(50), c.k_for(90)),
        (Some(1), Some(1), Some(3))
    );
}

#[test]
fn rule6_curve_with_hops_counts_stolen_credentials_reach() {
    let g = fixture("rule6-hops");
    // Hops 2 (tests/rules.rs, rule 6): t1 reaches p, steals t2 in e1, which publishes q:
    // {p, q}, score 6 (p q, l1 l2, e1 e2). t2 reaches q, steals t3 in e2, which publishes
    // r (and s requires r with ^1): {q, r, s}, score 5 (q r s, l2, e2). t3: {r, s}, score 2.
    let (ids, c) = ranked_curve(&g, &query(2), RankSubject::Credentials);
    assert_eq!(ids, ["t1", "t2", "t3"]);
    // Packages p, q, r, s (4). Union: {p, q} = 2; ∪ {q, r, s} = 4; ∪ {r, s} = 4.
    assert_eq!(c.total_packages, 4);
    assert_eq!(c.reached, [2, 4, 4]);
    // 10 % → 1 package: k=1; 50 % → 2: k=1; 90 % → 3.6, 4 packages: k=2.
    assert_eq!(
        (c.k_for(10), c.k_for(50), c.k_for(90)),
        (Some(1), Some(1), Some(2))
    );

    // Hops 1: t1 {p}, t2 {q}, t3 {r, s}; scores 3, 3, 2 (ties by id), union 1, 2, 4.
    let (ids, c) = ranked_curve(&g, &query(1), RankSubject::Credentials);
    assert_eq!(ids, ["t1", "t2", "t3"]);
    assert_eq!(c.reached, [1, 2, 4]);
    // 50 % = 2 packages: k=2; 90 % → 4 packages: k=3.
    assert_eq!(
        (c.k_for(10), c.k_for(50), c.k_for(90)),
        (Some(1), Some(2), Some(3))
    );
}

#[test]
fn summary_json_shape_and_table_text() {
    let g = fixture("rule1-publishability");
    let q = query(1);
    let idx = AttackIndex::new(&g, q.versions);
    let ranking = engine::rank(&g, &idx, &q, RankSubject::Credentials, true);
    let order: Vec<Source> = ranking.iter().map(|e| e.source).collect();
    let mut rep = RankReport::new(&ranking, &q, false);
    // Plain rank JSON has no summary key.
    assert!(!report::to_json(&rep).contains("summary"));
    rep.summary = Some(Summary::new(&engine::curve(&g, &idx, &q, &order, true)));
    let v: serde_json::Value = serde_json::from_str(&report::to_json(&rep)).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({
            "total_packages": 5,
            "curve": [3, 4, 4, 4, 4, 4, 4],
            "k_for": {"10": 1, "50": 1, "90": null}
        })
    );
    let text = anstream::adapter::strip_str(&table::rank(&rep, &[])).to_string();
    assert!(
        text.contains(
            "top 1 reaches 3 (60.0 %) · 10 % of 5 packages: 1 credential · 50 %: 1 credential · 90 %: not reached"
        ),
        "{text}"
    );
    assert!(
        text.contains("all 7 credentials together reach 4 (80.0 %)"),
        "{text}"
    );
    // Rows at k = 1, 2, 5 and the last (7); k=1 carries both thresholds it reaches.
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("k "))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(
        rows,
        [
            "1          3   60.0 %  ← 10 %, 50 %",
            "2          4   80.0 %",
            "5          4   80.0 %",
            "7          4   80.0 %"
        ]
    );
}

#[test]
fn plot_marks_thresholds_and_escapes_the_dataset_name() {
    let g = fixture("rule6-hops");
    let q = query(2);
    let idx = AttackIndex::new(&g, q.versions);
    let ranking = engine::rank(&g, &idx, &q, RankSubject::Credentials, true);
    let order: Vec<Source> = ranking.iter().map(|e| e.source).collect();
    let s = Summary::new(&engine::curve(&g, &idx, &q, &order, true));
    let rep = RankReport::new(&ranking, &q, false);
    let svg = report::plot::svg(&rep, &s, "<evil & \"name\">\u{1b}[31m");
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("&lt;evil &amp; &quot;name&quot;&gt;\\u{1b}[31m"));
    assert!(!svg.contains('\u{1b}') && !svg.contains("<evil"));
    assert!(svg.contains(r#"id="k-for-50""#) && svg.contains("50 %: k = 1"));
    assert!(svg.contains("90 %: k = 2"));
    // Same report, same bytes.
    assert_eq!(
        svg,
        report::plot::svg(&rep, &s, "<evil & \"name\">\u{1b}[31m")
    );
}
