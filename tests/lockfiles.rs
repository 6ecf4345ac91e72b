//! Cargo.lock v1–v4 (tests/fixtures/lockfiles/): the same resolution in each encoding parses to
//! the same pins, roots and dependency edges.

use std::collections::BTreeSet;

use blastradius::ingest::{self, detect::Input};

type Pins = BTreeSet<(String, String, bool, Vec<String>)>;

fn pins(version: u32) -> (Pins, Vec<String>) {
    let path = format!(
        "{}/tests/fixtures/lockfiles/Cargo.lock.v{version}",
        env!("CARGO_MANIFEST_DIR")
    );
    let facts = ingest::load(&[Input::new(path)]).unwrap();
    assert_eq!(
        facts.lockfiles.len(),
        1,
        "v{version} recognised as one lockfile"
    );
    let l = &facts.lockfiles[0];
    let set = l
        .packages
        .iter()
        .map(|p| {
            let mut deps: Vec<String> = p
                .deps
                .iter()
                .map(|&d| l.packages[d].name.to_string())
                .collect();
            deps.sort();
            (p.name.to_string(), p.version.to_string(), p.registry, deps)
        })
        .collect();
    let roots = l
        .roots
        .iter()
        .map(|&r| l.packages[r].name.to_string())
        .collect();
    (set, roots)
}

#[test]
fn every_format_version_gives_the_same_pins() {
    let (v4, roots4) = pins(4);
    assert_eq!(v4.len(), 12); // 11 locked by cargo + the root
    assert_eq!(roots4, ["lockdemo"]);
    let serde_json = v4.iter().find(|p| p.0 == "serde_json").unwrap();
    assert_eq!(serde_json.1, "1.0.154");
    assert!(serde_json.2, "a crates.io package");
    assert_eq!(
        serde_json.3,
        ["itoa", "memchr", "serde", "serde_core", "zmij"]
    );
    for v in 1..=3 {
        assert_eq!(pins(v), (v4.clone(), roots4.clone()), "Cargo.lock.v{v}");
    }
}
