//! SPEC §4, rule by rule, on the hand-built fixtures in tests/fixtures/rules/ (see make.py
//! there). Every expected answer below was worked out by hand from the fixture, not copied
//! from the tool's output; the comment above each assertion says why.

use std::collections::BTreeSet;

use blastradius::engine::{self, AttackIndex, Query, RankSubject, Source, VersionsMode};
use blastradius::graph::Graph;
use blastradius::ingest::{self, detect::Input};
use blastradius::report::ReachReport;

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

fn query(at: &str, versions: VersionsMode, hops: u32) -> Query {
    Query {
        at: at.parse().unwrap(),
        versions,
        hops,
    }
}

const AT: &str = "2026-06-01T00:00:00Z";

fn report(g: &Graph, cred: &str, q: &Query) -> ReachReport {
    let c = g
        .credentials()
        .find(|&c| g.credential(c).id == cred)
        .unwrap_or_else(|| panic!("no credential {cred}"));
    let idx = AttackIndex::new(g, q.versions);
    let r = engine::reach(g, &idx, Source::Credential(c), q);
    ReachReport::new(g, &r, q)
}

fn ids(items: &[blastradius::report::Item]) -> BTreeSet<String> {
    items.iter().map(|i| i.id.clone()).collect()
}

fn set(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn pkgs(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|s| format!("crates.io:{s}")).collect()
}

fn path_of<'a>(items: &'a [blastradius::report::Item], id: &str) -> &'a [String] {
    &items
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("{id} not reached"))
        .path
}

// ---- Rule 1: publishability --------------------------------------------------------------

#[test]
fn rule1_all_scopes_publish_everything_owned() {
    let g = fixture("rule1-publishability");
    let q = query(AT, VersionsMode::Latest, 1);
    let r = report(&g, "t-all", &q);
    // alice owns a-* (a-one, a-two); no scopes = all scopes.
    assert_eq!(r.publishable, vec!["crates.io:a-one", "crates.io:a-two"]);
    // `user` requires both with ^1: first-hop headroom.
    assert_eq!(ids(&r.inject.packages), pkgs(&["a-one", "a-two", "user"]));
    // All scopes include yank: the same packages are disrupted.
    assert_eq!(ids(&r.disrupt.packages), pkgs(&["a-one", "a-two", "user"]));
}

#[test]
fn rule1_patterns_restrict_to_owned_matches() {
    let g = fixture("rule1-publishability");
    let q = query(AT, VersionsMode::Latest, 1);
    let r = report(&g, "t-pattern", &q);
    assert_eq!(r.publishable, vec!["crates.io:a-one"]);
    assert_eq!(ids(&r.inject.packages), pkgs(&["a-one", "user"]));
    // publish-update alone cannot yank.
    assert!(r.disrupt.packages.is_empty());
    // Patterns naming packages the account does not own give nothing (b is bob's, c nobody's).
    let r = report(&g, "t-foreign", &q);
    assert!(r.publishable.is_empty() && r.inject.packages.is_empty());
}

#[test]
fn rule1_expired_token_reaches_nothing_after_expiry_only() {
    let g = fixture("rule1-publishability");
    let after = report(&g, "t-expired", &query(AT, VersionsMode::Latest, 1));
    assert!(after.publishable.is_empty());
    assert_eq!(after.score, 0);
    // Before 2025-01-01 it was live and covered everything alice owns.
    let before = report(
        &g,
        "t-expired",
        &query("2024-06-01T00:00:00Z", VersionsMode::Latest, 1),
    );
    assert_eq!(
        before.publishable,
        vec!["crates.io:a-one", "crates.io:a-two"]
    );
}

#[test]
fn rule1_yank_only_is_disrupt_not_inject() {
    let g = fixture("rule1-publishability");
    let r = report(&g, "t-yank", &query(AT, VersionsMode::Latest, 1));
    assert!(r.publishable.is_empty());
    assert!(r.inject.packages.is_empty());
    assert_eq!(r.score, 0);
    // Yanking a-one and a-two breaks `user`, whatever its ranges.
    assert_eq!(ids(&r.disrupt.packages), pkgs(&["a-one", "a-two", "user"]));
}

#[test]
fn rule1_change_owners_counts_as_publish() {
    let g = fixture("rule1-publishability");
    let r = report(&g, "t-owners", &query(AT, VersionsMode::Latest, 1));
    assert_eq!(r.publishable, vec!["crates.io:b"]);
    assert_eq!(ids(&r.inject.packages), pkgs(&["b", "user"]));
    assert_eq!(ids(&r.disrupt.packages), pkgs(&["b", "user"]));
}

#[test]
fn rule1_publish_new_cannot_touch_existing_crates() {
    // Decision recorded in README: publish-new only creates crates that do not exist yet.
    let g = fixture("rule1-publishability");
    let r = report(&g, "t-new", &query(AT, VersionsMode::Latest, 1));
    assert!(
        r.publishable.is_empty() && r.inject.packages.is_empty() && r.disrupt.packages.is_empty()
    );
}

#[test]
fn rule1_account_reaches_what_it_owns() {
    let g = fixture("rule1-publishability");
    let q = query(AT, VersionsMode::Latest, 1);
    let a = g.accounts().find(|&a| g.account(a).id == "alice").unwrap();
    let idx = AttackIndex::new(&g, q.versions);
    let r = ReachReport::new(&g, &engine::reach(&g, &idx, Source::Account(a), &q), &q);
    assert_eq!(r.source_kind, "account");
    assert_eq!(ids(&r.inject.packages), pkgs(&["a-one", "a-two", "user"]));
}

#[test]
fn rule1_without_inventory_each_package_is_its_own_right() {
    let path = format!(
        "{}/tests/fixtures/rules/rule1-publishability/index.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let facts = ingest::load(&[Input::new(path)]).unwrap();
    let g = Graph::build(&facts).unwrap();
    let names: BTreeSet<String> = g
        .credentials()
        .map(|c| g.credential(c).id.clone())
        .collect();
    assert_eq!(
        names,
        set(&[
            "owner-of:a-one",
            "owner-of:a-two",
            "owner-of:b",
            "owner-of:c",
            "owner-of:user"
        ])
    );
    let r = report(&g, "owner-of:c", &query(AT, VersionsMode::Latest, 1));
    assert_eq!(ids(&r.inject.packages), pkgs(&["c"]));
}

// ---- Rule 2: first-hop headroom -----------------------------------------------------------

#[test]
fn rule2_headroom_on_the_first_hop() {
    let g = fixture("rule2-headroom");
    let r = report(&g, "t", &query(AT, VersionsMode::Latest, 1));
    // p has 1.0.0, 1.2.3, 1.4.0 published.
    //   ^1.2 → 1.4.1 · ~1.2.3 → 1.2.4 · >=1.0,<=1.5.0 → 1.4.1 · * → 1.4.1
    //   1.2.3 (bare = caret) → 1.4.1 · <1.2.3 → 1.0.1 beats 1.0.0
    //   =1.2.3 and >=1.0,<=1.4.0 (1.4.0 published) admit nothing new.
    assert_eq!(
        ids(&r.inject.packages),
        pkgs(&[
            "d-bare",
            "d-below",
            "d-caret",
            "d-closed-higher",
            "d-star",
            "d-tilde",
            "p"
        ])
    );
}

// ---- Rule 3: edge kinds past the first hop ------------------------------------------------

#[test]
fn rule3_edge_kinds_decide_past_the_first_hop() {
    let g = fixture("rule3-edge-kinds");
    let r = report(&g, "t", &query(AT, VersionsMode::Latest, 1));
    // m is reached on the first hop (^1). Past it: =1.0.0 (x-exact) still takes m's current
    // release; build, optional, target-specific and renamed requirements propagate; dev
    // requirements do not (x-dev, and y-dev on the first hop), so w behind x-dev is safe.
    // z pins x-exact exactly and is reached through it.
    assert_eq!(
        ids(&r.inject.packages),
        pkgs(&[
            "m",
            "p",
            "x-build",
            "x-exact",
            "x-optional",
            "x-renamed",
            "x-target",
            "z"
        ])
    );
    let optional: BTreeSet<String> = r
        .inject
        .packages
        .iter()
        .filter(|i| i.optional)
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(optional, pkgs(&["x-optional"]));
    // The renamed dependency points at the real package m.
    assert_eq!(
        path_of(&r.inject.packages, "crates.io:x-renamed"),
        [
            "t",
            "crates.io:p",
            "crates.io:m@1.0.0",
            "crates.io:m",
            "crates.io:x-renamed@1.0.0",
            "crates.io:x-renamed"
        ]
    );
}

// ---- Rule 4: versions considered ------------------------------------------------------------

#[test]
fn rule4_latest_takes_highest_non_yanked_release() {
    let g = fixture("rule4-versions");
    let r = report(&g, "t", &query(AT, VersionsMode::Latest, 1));
    // d's latest (2.0.0) dropped p; e's 1.1.0 is yanked so 1.0.0 counts; f's 2.0.0-beta.1 is
    // a pre-release beside release 1.0.0; g has only a pre-release, so it counts; h 1.1.0 needs p.
    assert_eq!(ids(&r.inject.packages), pkgs(&["g", "h", "p"]));
}

#[test]
fn rule4_all_takes_every_non_yanked_version() {
    let g = fixture("rule4-versions");
    let r = report(&g, "t", &query(AT, VersionsMode::All, 1));
    // d 1.0.0 and f 2.0.0-beta.1 now count; e 1.1.0 stays out (yanked).
    assert_eq!(ids(&r.inject.packages), pkgs(&["d", "f", "g", "h", "p"]));
    assert_eq!(
        path_of(&r.inject.packages, "crates.io:d"),
        ["t", "crates.io:p", "crates.io:d@1.0.0", "crates.io:d"]
    );
}

// ---- Rule 5: lockfiles, environments, mirrors, stolen credentials -------------------------

#[test]
fn rule5_consumers() {
    let g = fixture("rule5-consumers");
    let r = report(&g, "t1", &query(AT, VersionsMode::Latest, 1));
    assert_eq!(ids(&r.inject.packages), pkgs(&["d", "p"]));
    // one pins d and p, two pins p; three pins only q; four has p only as a path package.
    assert_eq!(
        ids(&r.inject.lockfiles),
        set(&["fx/one/Cargo.lock", "fx/two/Cargo.lock"])
    );
    let one = r
        .inject
        .lockfiles
        .iter()
        .find(|l| l.id == "fx/one/Cargo.lock")
        .unwrap();
    assert_eq!(one.pins, ["crates.io:d@1.0.0", "crates.io:p@1.0.0"]);
    // The shortest route to `one` is through its own pin of p, not through d.
    assert_eq!(
        one.path,
        [
            "t1",
            "crates.io:p",
            "crates.io:p@1.0.0",
            "fx/one/Cargo.lock"
        ]
    );
    // env-no-exec runs nothing; env-builds-three builds an unexposed lockfile.
    assert_eq!(
        ids(&r.inject.environments),
        set(&["env-builds-one", "env-holds-start"])
    );
    assert_eq!(ids(&r.inject.mirrors), set(&["mirror-one"]));
    // t2 is held where exposed code runs; t1 (the start) is not listed.
    assert_eq!(ids(&r.inject.credentials), set(&["t2"]));
    assert_eq!(
        path_of(&r.inject.credentials, "t2"),
        [
            "t1",
            "crates.io:p",
            "crates.io:p@1.0.0",
            "fx/one/Cargo.lock",
            "env-builds-one",
            "t2"
        ]
    );
}

// ---- Rule 6: hops ---------------------------------------------------------------------------

#[test]
fn rule6_hops_continue_from_stolen_credentials() {
    let g = fixture("rule6-hops");
    let one = report(&g, "t1", &query(AT, VersionsMode::Latest, 1));
    assert_eq!(ids(&one.inject.packages), pkgs(&["p"]));
    assert_eq!(ids(&one.inject.credentials), set(&["t2"]));
    assert_eq!(one.score, 3); // p, l1, e1

    let two = report(&g, "t1", &query(AT, VersionsMode::Latest, 2));
    assert_eq!(ids(&two.inject.packages), pkgs(&["p", "q"]));
    assert_eq!(ids(&two.inject.credentials), set(&["t2", "t3"]));
    assert_eq!(
        path_of(&two.inject.packages, "crates.io:q"),
        [
            "t1",
            "crates.io:p",
            "crates.io:p@1.0.0",
            "fx/l1/Cargo.lock",
            "e1",
            "t2",
            "crates.io:q"
        ]
    );
    assert_eq!(two.score, 6); // p q, l1 l2, e1 e2

    let three = report(&g, "t1", &query(AT, VersionsMode::Latest, 3));
    assert_eq!(ids(&three.inject.packages), pkgs(&["p", "q", "r", "s"]));
    assert_eq!(three.score, 8);
}

// ---- Rule 7: score and rank order -----------------------------------------------------------

#[test]
fn rule7_score_and_rank_order() {
    let g = fixture("rule5-consumers");
    let q = query(AT, VersionsMode::Latest, 1);
    let idx = AttackIndex::new(&g, q.versions);
    let ranking = engine::rank(&g, &idx, &q, RankSubject::Credentials, true);
    let got: Vec<(&str, usize)> = ranking.iter().map(|e| (e.id.as_str(), e.score)).collect();
    // t1: d p + one two + env-builds-one env-holds-start + mirror-one = 7.
    // t2: q + three four + env-builds-three + mirror-three = 5.
    assert_eq!(got, [("t1", 7), ("t2", 5)]);
    assert_eq!(ranking[0].inject.credentials, 1);

    // Ties are broken by id.
    let g = fixture("rule6-hops");
    let idx = AttackIndex::new(&g, q.versions);
    let ranking = engine::rank(&g, &idx, &q, RankSubject::Credentials, true);
    let got: Vec<(&str, usize)> = ranking.iter().map(|e| (e.id.as_str(), e.score)).collect();
    // t1: p l1 e1 = 3; t2: q l2 e2 = 3; t3: r s = 2.
    assert_eq!(got, [("t1", 3), ("t2", 3), ("t3", 2)]);
}

// ---- Rule 9: cycles and shortest witness paths ----------------------------------------------

#[test]
fn rule9_cycles_terminate_and_paths_are_shortest() {
    let g = fixture("rule9-cycles-shortest");
    let r = report(&g, "t", &query(AT, VersionsMode::Latest, 1));
    assert_eq!(
        ids(&r.inject.packages),
        pkgs(&["a", "b", "c", "far", "p", "target", "x1", "x2", "x3"])
    );
    // target pins p exactly (no headroom) but also requires x1: the shortest route is via x1,
    // not via x3 (three hops longer).
    assert_eq!(
        path_of(&r.inject.packages, "crates.io:target"),
        [
            "t",
            "crates.io:p",
            "crates.io:x1@1.0.0",
            "crates.io:x1",
            "crates.io:target@1.0.0",
            "crates.io:target"
        ]
    );
    assert_eq!(
        path_of(&r.inject.packages, "crates.io:c"),
        [
            "t",
            "crates.io:p",
            "crates.io:a@1.0.0",
            "crates.io:a",
            "crates.io:b@1.0.0",
            "crates.io:b",
            "crates.io:c@1.0.0",
            "crates.io:c"
        ]
    );
    assert_eq!(path_of(&r.inject.packages, "crates.io:far").len(), 10);
}

// ---- Rules 1-3 and 9 in npm and PyPI --------------------------------------------------------
// tests/fixtures/rules/rule-npm-pypi (see make_npm_pypi.py): npm packuments in the registry's
// full shape, PyPI JSON documents, a package-lock.json, a requirements.txt and an inventory.

fn npm(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|s| format!("npm:{s}")).collect()
}

#[test]
fn npm_granular_token_reaches_through_npm_ranges_and_edge_kinds() {
    let g = fixture("rule-npm-pypi");
    let r = report(&g, "npm-granular", &query(AT, VersionsMode::Latest, 1));
    // acme-bot maintains @acme/core, @acme/ui and acme-legacy; the token is limited to @acme/*.
    assert_eq!(r.publishable, vec!["npm:@acme/core", "npm:@acme/ui"]);
    // First hop on @acme/core (1.0.0, 1.1.0 published): ^1.0.0 (@acme/ui), `latest`, ~1.1.0,
    // `1.0.0 || >=1.1.0` and npm's supports-color ^1.0.0 have room above 1.1.0; the bare
    // `1.1.0` (an exact pin in npm) and `1.0.0 - 1.1.0` (inclusive upper bound published) do
    // not. First hop on @acme/ui: pins-ui ^2.0.0. Past it the edge kind decides: peer,
    // optional and alias edges propagate (all pin exactly), dev and git/file/link do not; the
    // cyc-a <-> cyc-b cycle is entered through cyc-a's requirement on pins-ui.
    assert_eq!(
        ids(&r.inject.packages),
        npm(&[
            "@acme/core",
            "@acme/ui",
            "cyc-a",
            "cyc-b",
            "pins-ui",
            "supports-color",
            "tilde-open",
            "union-open",
            "uses-tag",
            "via-alias",
            "via-optional",
            "via-peer",
        ])
    );
    // The crate of the same name, and its dependent, are another ecosystem's packages.
    assert!(!ids(&r.inject.packages).contains("crates.io:supports-color"));
    // The alias edge points at the real package.
    assert_eq!(
        path_of(&r.inject.packages, "npm:via-alias"),
        [
            "npm-granular",
            "npm:@acme/ui",
            "npm:pins-ui@1.0.0",
            "npm:pins-ui",
            "npm:via-alias@1.0.0",
            "npm:via-alias"
        ]
    );
    // via-optional lists pins-ui under both dependencies and optionalDependencies (npm copies
    // it): optional wins, and is marked.
    assert!(
        r.inject
            .packages
            .iter()
            .find(|i| i.id == "npm:via-optional")
            .unwrap()
            .optional
    );
    // The lockfile pins reached packages; ci:web installs it and holds the PyPI token.
    assert_eq!(ids(&r.inject.lockfiles), set(&["fx/web/package-lock.json"]));
    assert_eq!(ids(&r.inject.environments), set(&["ci:web"]));
    assert_eq!(ids(&r.inject.credentials), set(&["pypi-account-wide"]));
    // read-write also unpublishes/deprecates: yanking breaks every propagating requirement
    // whatever its range, so the exact pin and the closed hyphen range are disrupted too.
    let mut disrupted = ids(&r.inject.packages);
    disrupted.extend(npm(&["pins-exact", "hyphen-closed"]));
    assert_eq!(ids(&r.disrupt.packages), disrupted);
}

#[test]
fn npm_read_only_and_bypass_2fa_tokens() {
    let g = fixture("rule-npm-pypi");
    let r = report(&g, "npm-read-only", &query(AT, VersionsMode::Latest, 1));
    assert!(r.publishable.is_empty() && r.score == 0);
    let r = report(&g, "npm-bypass", &query(AT, VersionsMode::Latest, 1));
    assert_eq!(r.publishable, vec!["npm:acme-legacy"]);
    let c = g
        .credentials()
        .find(|&c| g.credential(c).id == "npm-bypass")
        .unwrap();
    let factors = engine::rights::risk_factors(&g, Source::Credential(c), AT.parse().unwrap());
    assert!(factors.contains(&"bypasses-2fa"), "{factors:?}");
}

#[test]
fn pypi_project_token_and_pep440_headroom() {
    let g = fixture("rule-npm-pypi");
    for cred in ["pypi-project", "pypi-account-wide"] {
        let r = report(&g, cred, &query(AT, VersionsMode::Latest, 1));
        // `acme.utils` and the document's `Acme_Utils` are one PEP 503 name.
        assert_eq!(r.publishable, vec!["pypi:acme-utils"], "{cred}");
        // acme-utils has 1.0, 1.1 and 1.2 (yanked, still occupying its number).
        //   >=1.0 → 1.2.1 · ==1.* → 1.3 · py-extra pins ==1.1 (only under an extra) but needs
        //   py-open, reached: past the first hop the edge decides.
        //   ==1.1 and >=1.0,<=1.2 admit nothing new; py-marker needs py-pinned only.
        assert_eq!(
            ids(&r.inject.packages),
            set(&[
                "pypi:acme-utils",
                "pypi:py-extra",
                "pypi:py-open",
                "pypi:py-star"
            ]),
            "{cred}"
        );
        // An upload token cannot yank.
        assert!(r.disrupt.packages.is_empty(), "{cred}");
        assert_eq!(
            ids(&r.inject.lockfiles),
            set(&["fx/requirements.txt"]),
            "{cred}"
        );
    }
}

#[test]
fn hops_cross_ecosystems_through_stolen_credentials() {
    let g = fixture("rule-npm-pypi");
    let r = report(&g, "npm-granular", &query(AT, VersionsMode::Latest, 2));
    // Hop 2 starts from pypi-account-wide, stolen in ci:web.
    let reached = ids(&r.inject.packages);
    assert!(reached.contains("pypi:py-star") && reached.contains("npm:via-peer"));
    assert_eq!(
        ids(&r.inject.lockfiles),
        set(&["fx/requirements.txt", "fx/web/package-lock.json"])
    );
}
