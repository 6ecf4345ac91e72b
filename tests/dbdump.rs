//! The crates.io database dump (`.tar.gz`): facts read from a tiny dump built in the test, the
//! command line on it, and malformed and hostile archives (RELIABILITY H3, H4, M1, M6, M9).
//!
//! Archives are built here with `tar::Builder` and `flate2`, with the CSV headers of the real
//! dump as `db-dump` 0.10 reads them, under a `YYYY-MM-DD-HHMMSS/` directory.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use assert_cmd::Command;
use blastradius::ingest::dbdump::{self, Limits};
use blastradius::ingest::{detect::Input, DepKind, VersionFact};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

const AT: &str = "2026-06-01T00:00:00Z";
const DIR: &str = "2025-09-08-020031";

// ---- building dumps -----------------------------------------------------------------------

/// One member of a test archive: a name written byte for byte into the header (so hostile
/// names survive `tar::Builder`'s own checks), a type and data.
struct Member {
    name: Vec<u8>,
    kind: tar::EntryType,
    data: Vec<u8>,
    /// The size the header claims, when it is not the data's length.
    claimed: Option<u64>,
    link: Option<&'static str>,
}

fn file(name: &str, data: impl Into<Vec<u8>>) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind: tar::EntryType::Regular,
        data: data.into(),
        claimed: None,
        link: None,
    }
}

fn dir(name: &str) -> Member {
    Member {
        name: name.as_bytes().to_vec(),
        kind: tar::EntryType::Directory,
        data: Vec::new(),
        claimed: None,
        link: None,
    }
}

fn table(name: &str, csv: &str) -> Member {
    file(&format!("{DIR}/data/{name}"), csv)
}

/// The tar bytes (uncompressed) of `members`, ending with the two zero blocks.
fn tar_bytes(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut h = tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().expect("a GNU header");
            assert!(m.name.len() <= 100, "test member names fit the header");
            gnu.name[..m.name.len()].copy_from_slice(&m.name);
        }
        h.set_entry_type(m.kind);
        h.set_mode(if m.kind.is_dir() { 0o755 } else { 0o644 });
        h.set_mtime(1_757_296_831);
        h.set_size(m.claimed.unwrap_or(m.data.len() as u64));
        if let Some(l) = m.link {
            h.set_link_name(l).expect("a link name");
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(&m.data);
        let pad = (512 - m.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn crates_csv() -> String {
    "created_at,description,documentation,homepage,id,max_features,max_upload_size,name,readme,repository,trustpub_only,updated_at
2024-01-01 00:00:00.000001,The core,,,1,,,acme-core,\"# acme-core
A readme, with a comma and a \"\"quote\"\".\",https://example.com/core,f,2024-03-01 00:00:00
2024-01-01 00:00:00,HTTP,,,2,,,acme-http,,,t,2024-04-01 00:00:00
2024-01-01 00:00:00,Logs,,,3,,,acme-log,,,f,2024-04-01 00:00:00
2024-01-01 00:00:00,CLI,,,4,,,acme-cli,,,f,2024-04-01 00:00:00
2024-01-01 00:00:00,Tests,,,5,,,acme-testkit,,,f,2024-04-01 00:00:00
2024-01-01 00:00:00,Pads,,,6,,,leftpad-rs,,,f,2024-04-01 00:00:00
"
    .into()
}

const USERS: &str = "created_at,gh_id,id,name,username
2020-01-01 00:00:00,101,1,Alice,alice
,102,2,,bob
2020-01-01 00:00:00,103,3,Carol,carol
2020-01-01 00:00:00,104,4,Dave,dave
2020-01-01 00:00:00,105,5,Erin,erin
";

const TEAMS: &str = "avatar,github_id,id,login,name,org_id
https://avatars.example/t,9001,10,github:acme:release,release,42
";

const OWNERS: &str = "crate_id,created_at,created_by,owner_id,owner_kind
1,2024-01-01 00:00:00,1,1,0
1,2024-01-02 00:00:00,1,2,0
2,2024-01-03 00:00:00,1,10,1
3,2024-01-04 00:00:00,,3,0
4,2024-01-05 00:00:00,2,2,0
5,2024-01-06 00:00:00,,4,0
";

const VERSIONS_HEADER: &str = "bin_names,categories,crate_id,crate_size,created_at,description,documentation,downloads,edition,features,has_lib,homepage,id,keywords,license,links,num,num_no_build,published_by,repository,rust_version,tar_sha256,updated_at,yanked";

/// One versions.csv row in the real dump's shape.
fn version_row(
    id: u32,
    crate_id: u32,
    num: &str,
    yanked: bool,
    created: &str,
    by: Option<u32>,
) -> String {
    let no_build = num.split('+').next().unwrap();
    let by = by.map(|b| b.to_string()).unwrap_or_default();
    let y = if yanked { "t" } else { "f" };
    format!(
        "{{}},{{}},{crate_id},1234,{created},,,7,2021,\"{{\"\"default\"\":[\"\"std\"\"],\"\"std\"\":[]}}\",t,,{id},{{}},MIT OR Apache-2.0,,{num},{no_build},{by},,,\\x{},2024-05-01 00:00:00,{y}",
        "ab".repeat(32)
    )
}

fn versions_csv() -> String {
    let rows = [
        version_row(10, 1, "1.0.0", false, "2024-01-01 10:00:00.123456", Some(1)),
        version_row(11, 1, "1.1.0", false, "2024-02-01 10:00:00", Some(2)),
        version_row(12, 1, "1.2.0", true, "2024-03-01 10:00:00+00", Some(1)),
        version_row(20, 2, "0.3.0", false, "2024-04-01 10:00:00", None),
        version_row(30, 3, "0.1.0", false, "2024-01-10 10:00:00", Some(5)),
        version_row(31, 3, "0.1.1", false, "2024-01-11 10:00:00", Some(3)),
        version_row(40, 4, "1.0.0", false, "2024-01-12 10:00:00", Some(2)),
        version_row(41, 4, "2.0.0", false, "2024-04-12 10:00:00", Some(2)),
        version_row(50, 5, "1.0.0", false, "2024-01-13 10:00:00", Some(4)),
        version_row(60, 6, "0.1.0+build.5", false, "2024-01-14 10:00:00", None),
    ];
    format!("{VERSIONS_HEADER}\n{}\n", rows.join("\n"))
}

const DEPS: &str =
    "crate_id,default_features,explicit_name,features,id,kind,optional,req,target,version_id
1,t,,{},100,0,f,^1.0,,20
3,f,log2,{std},101,0,t,^0.1,cfg(windows),20
2,t,,{},102,0,f,^0.3,,41
1,t,,{},103,1,f,=1.1.0,,41
5,t,,{},104,2,f,^1,,41
6,t,,{},105,0,f,^0.1,,40
1,t,,\"{a,b}\",106,0,f,^1,,50
";

/// The members of the tiny world, in the real dump's order, with `replace` swapping one table.
fn world_with(replace: &[(&str, String)]) -> Vec<Member> {
    let pick = |name: &str, default: String| {
        replace
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(default, |(_, v)| v.clone())
    };
    vec![
        dir(&format!("{DIR}/")),
        file(&format!("{DIR}/README.md"), "# crates.io Database Dump\n"),
        file(
            &format!("{DIR}/metadata.json"),
            "{\"timestamp\":\"2025-09-08T02:00:31Z\",\"crates_io_commit\":\"0000000\"}",
        ),
        file(&format!("{DIR}/export.sql"), "BEGIN;\nCOMMIT;\n"),
        file(&format!("{DIR}/import.sql"), "BEGIN;\nCOMMIT;\n"),
        dir(&format!("{DIR}/data/")),
        table(
            "categories.csv",
            "category,crates_cnt,created_at,description,id,path,slug\n",
        ),
        table("crates.csv", &pick("crates.csv", crates_csv())),
        table("teams.csv", &pick("teams.csv", TEAMS.into())),
        table("users.csv", &pick("users.csv", USERS.into())),
        table("crate_owners.csv", &pick("crate_owners.csv", OWNERS.into())),
        table("versions.csv", &pick("versions.csv", versions_csv())),
        table(
            "default_versions.csv",
            "crate_id,num_versions,version_id\n1,3,11\n",
        ),
        table("dependencies.csv", &pick("dependencies.csv", DEPS.into())),
        table(
            "version_downloads.csv",
            "date,downloads,version_id\n2025-09-07,3,10\n",
        ),
    ]
}

fn world() -> Vec<Member> {
    world_with(&[])
}

/// Writes `bytes` as `db-dump.tar.gz` in a fresh temporary directory.
fn write_dump(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("db-dump.tar.gz");
    std::fs::write(&path, bytes).unwrap();
    (tmp, path)
}

fn read_bytes(bytes: &[u8]) -> Result<dbdump::Dump, String> {
    read_bytes_with(bytes, &Limits::default())
}

fn read_bytes_with(bytes: &[u8], limits: &Limits) -> Result<dbdump::Dump, String> {
    let (_tmp, path) = write_dump(bytes);
    dbdump::read_with(&path, "dump.tar.gz", limits).map_err(|e| e.to_string())
}

fn read_err(members: &[Member]) -> String {
    match read_bytes(&gzip(&tar_bytes(members))) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

// ---- facts --------------------------------------------------------------------------------

fn find<'a>(d: &'a dbdump::Dump, name: &str, version: &str) -> &'a VersionFact {
    d.versions
        .iter()
        .find(|v| v.name == name && v.version == version)
        .unwrap_or_else(|| panic!("{name}@{version} is in the dump"))
}

#[test]
fn facts_of_the_tiny_world() {
    let d = read_bytes(&gzip(&tar_bytes(&world()))).unwrap();
    let mut ids: Vec<String> = d
        .versions
        .iter()
        .map(|v| format!("{}@{}", v.name, v.version))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "acme-cli@1.0.0",
            "acme-cli@2.0.0",
            "acme-core@1.0.0",
            "acme-core@1.1.0",
            "acme-core@1.2.0",
            "acme-http@0.3.0",
            "acme-log@0.1.0",
            "acme-log@0.1.1",
            "acme-testkit@1.0.0",
            "leftpad-rs@0.1.0+build.5",
        ]
    );
    for v in &d.versions {
        assert!(v.deps_known && !v.install_script, "{}", v.name);
        assert_eq!(v.ecosystem, blastradius::ingest::Ecosystem::CratesIo);
    }

    // Yanked, publication time (microseconds, and the `+00` suffix), publisher login.
    let core10 = find(&d, "acme-core", "1.0.0");
    assert!(!core10.yanked);
    assert_eq!(
        core10.published.unwrap().to_string(),
        "2024-01-01T10:00:00.123456Z"
    );
    assert_eq!(core10.publisher.as_deref(), Some("alice"));
    let core12 = find(&d, "acme-core", "1.2.0");
    assert!(core12.yanked);
    assert_eq!(
        core12.published.unwrap().to_string(),
        "2024-03-01T10:00:00Z"
    );
    assert_eq!(
        find(&d, "acme-core", "1.1.0").publisher.as_deref(),
        Some("bob")
    );
    // Published through trusted publishing: no user.
    assert_eq!(find(&d, "acme-http", "0.3.0").publisher, None);
    // A publisher who owns nothing is still named.
    assert_eq!(
        find(&d, "acme-log", "0.1.0").publisher.as_deref(),
        Some("erin")
    );

    // Dependencies: real package names, kinds, optional, target, rename.
    let http = find(&d, "acme-http", "0.3.0");
    assert_eq!(http.deps.len(), 2);
    assert_eq!(http.deps[0].package, "acme-core");
    assert_eq!(http.deps[0].req, "^1.0");
    assert_eq!(http.deps[0].kind, DepKind::Normal);
    assert!(!http.deps[0].optional);
    assert_eq!(http.deps[0].target, None);
    assert_eq!(http.deps[0].rename, None);
    let log = &http.deps[1];
    assert_eq!(log.package, "acme-log", "the real crate, not the rename");
    assert_eq!(log.rename.as_deref(), Some("log2"));
    assert_eq!(log.req, "^0.1");
    assert!(log.optional);
    assert_eq!(log.target.as_deref(), Some("cfg(windows)"));
    let cli = find(&d, "acme-cli", "2.0.0");
    let kinds: Vec<(&str, &str, DepKind)> = cli
        .deps
        .iter()
        .map(|d| (d.package.as_str(), d.req.as_str(), d.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("acme-http", "^0.3", DepKind::Normal),
            ("acme-core", "=1.1.0", DepKind::Build),
            ("acme-testkit", "^1", DepKind::Dev),
        ]
    );
    assert_eq!(find(&d, "acme-cli", "1.0.0").deps[0].package, "leftpad-rs");
    assert!(find(&d, "acme-core", "1.0.0").deps.is_empty());

    // Owners: two users of one crate, a team, nobody for leftpad-rs.
    let owners: Vec<(&str, &str)> = d
        .owners
        .iter()
        .map(|o| (o.account.as_str(), o.package.as_str()))
        .collect();
    assert_eq!(
        owners,
        [
            ("alice", "acme-core"),
            ("bob", "acme-cli"),
            ("bob", "acme-core"),
            ("carol", "acme-log"),
            ("dave", "acme-testkit"),
            ("github:acme:release", "acme-http"),
        ]
    );
    assert_eq!(d.trustpub_only, ["acme-http"]);
    assert!(d.notes.is_empty(), "{:?}", d.notes);
}

#[test]
fn recognised_by_content_whatever_the_name() {
    let bytes = gzip(&tar_bytes(&world()));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("snapshot.bin");
    std::fs::write(&path, &bytes).unwrap();
    assert!(dbdump::looks_like_dump(&path, &bytes[..16]));
    assert!(!dbdump::looks_like_dump(&path, b"{\"name\""));
    // A gzip file that is not a dump.
    let other = tmp.path().join("other.tar.gz");
    std::fs::write(
        &other,
        gzip(&tar_bytes(&[file("src/lib.rs", "fn main() {}")])),
    )
    .unwrap();
    assert!(!dbdump::looks_like_dump(&other, &dbdump::GZIP_MAGIC));
    // Through the loader: versions and owners land in the facts; a directory walk finds the
    // dump and passes over the other gzip file.
    let facts = blastradius::ingest::load(&[Input::new(tmp.path().join("snapshot.bin"))]).unwrap();
    assert_eq!(facts.versions.len(), 10);
    assert_eq!(facts.owners.len(), 6);
    let facts = blastradius::ingest::load(&[Input::new(tmp.path())]).unwrap();
    assert_eq!(facts.versions.len(), 10);
}

#[test]
fn a_multi_member_gzip_is_read_in_full() {
    let tar = tar_bytes(&world());
    let mid = tar.len() / 2;
    let mut two = gzip(&tar[..mid]);
    two.extend(gzip(&tar[mid..]));
    let d = read_bytes(&two).unwrap();
    assert_eq!(d.versions.len(), 10);
    assert_eq!(d.owners.len(), 6);
}

#[test]
fn tables_in_another_order_give_the_same_facts() {
    // dependencies before versions and crates: rows wait until the tables they name are in.
    let mut members = world();
    let deps = members.remove(13);
    members.insert(6, deps);
    let d = read_bytes(&gzip(&tar_bytes(&members))).unwrap();
    let reference = read_bytes(&gzip(&tar_bytes(&world()))).unwrap();
    let show = |d: &dbdump::Dump| format!("{:?}{:?}", d.versions, d.owners);
    assert_eq!(show(&d), show(&reference));
}

#[test]
fn a_bom_and_crlf_line_ends_are_accepted() {
    let users = format!("\u{feff}{}", USERS.replace('\n', "\r\n"));
    let d = read_bytes(&gzip(&tar_bytes(&world_with(&[("users.csv", users)])))).unwrap();
    assert_eq!(
        find(&d, "acme-core", "1.0.0").publisher.as_deref(),
        Some("alice")
    );
}

#[test]
fn historic_requirements_are_kept_and_counted() {
    let deps = format!("{DEPS}3,t,,{{}},107,0,f,^0-.11.0,,50\n3,t,,{{}},108,0,f,not a req,,50\n");
    let d = read_bytes(&gzip(&tar_bytes(&world_with(&[(
        "dependencies.csv",
        deps,
    )]))))
    .unwrap();
    let reqs: Vec<&str> = find(&d, "acme-testkit", "1.0.0")
        .deps
        .iter()
        .map(|d| d.req.as_str())
        .collect();
    // db-dump's correction of a historic text; an unparseable one kept as written.
    assert_eq!(reqs, ["^1", "^0.11.0", "not a req"]);
    assert_eq!(d.notes.len(), 1);
    assert!(
        d.notes[0].contains("1 dependency requirements could not be parsed")
            && d.notes[0].contains("acme-testkit@1.0.0 → acme-log \"not a req\""),
        "{}",
        d.notes[0]
    );
}

// ---- malformed ----------------------------------------------------------------------------

#[test]
fn a_version_that_is_not_semver_names_file_line_and_column() {
    let versions = format!(
        "{}{}\n",
        versions_csv(),
        version_row(70, 1, "one", false, "2024-01-01 00:00:00", None)
    );
    let e = read_err(&world_with(&[("versions.csv", versions)]));
    assert!(
        e.starts_with("dump.tar.gz: data/versions.csv:12: column `num`: expected a semver version, found \"one\""),
        "{e}"
    );
}

#[test]
fn a_short_row_and_a_bad_timestamp() {
    let users = format!("{USERS}2020-01-01 00:00:00,106,6\n");
    let e = read_err(&world_with(&[("users.csv", users)]));
    assert_eq!(
        e,
        "dump.tar.gz: data/users.csv:7: expected 5 fields (as in the header), found 3"
    );
    // Line numbers count the lines of the quoted readme.
    let crates = crates_csv().replace("2024-01-01 00:00:00,Pads", "yesterday,Pads");
    let e = read_err(&world_with(&[("crates.csv", crates)]));
    let versions = versions_csv().replace(",t,,50,", ",maybe,,50,");
    assert_eq!(
        read_err(&world_with(&[("versions.csv", versions)])),
        "dump.tar.gz: data/versions.csv:10: column `has_lib`: expected `t` or `f`, found \"maybe\" (unknown variant `maybe`, expected `t` or `f`)"
    );
    assert!(
        e.starts_with("dump.tar.gz: data/crates.csv:8: column `created_at`: expected a timestamp")
            && e.contains("found \"yesterday\""),
        "{e}"
    );
}

/// More rows than one parsing batch (16,384): every row arrives, and among errors in different
/// batches the first by line is the one reported, whether it is found parsing (a bad `yanked`)
/// or applying (an id seen twice).
#[test]
fn tables_longer_than_a_batch() {
    // The row of version 1000 + i (crate acme-cli, version 3.i.0), under the id `id`.
    let row = |id: u32, i: u32| {
        version_row(
            id,
            4,
            &format!("3.{i}.0"),
            false,
            "2024-05-01 10:00:00",
            Some(2),
        )
    };
    let many = |n: u32| -> String {
        let rows: Vec<String> = (0..n).map(|i| row(1000 + i, i)).collect();
        format!("{}{}\n", versions_csv(), rows.join("\n"))
    };
    let d = read_bytes(&gzip(&tar_bytes(&world_with(&[(
        "versions.csv",
        many(40_000),
    )]))))
    .unwrap();
    assert_eq!(d.versions.len(), 10 + 40_000);
    assert!(d
        .versions
        .iter()
        .any(|v| v.name == "acme-cli" && v.version == "3.39999.0"));
    // Line 1 is the header, lines 2-11 the tiny world's versions: version 1000 + i is on line
    // 12 + i. A repeated id on line 35,012 (third batch) beats a bad `yanked` on line 39,012.
    let repeated = row(1000 + 20_000, 35_000);
    let mut text = many(40_000).replace(&row(1000 + 35_000, 35_000), &repeated);
    let good = row(1000 + 39_000, 39_000);
    let bad = format!("{},x", good.strip_suffix(",f").unwrap());
    text = text.replace(&good, &bad);
    let e = read_err(&world_with(&[("versions.csv", text.clone())]));
    assert_eq!(
        e,
        "dump.tar.gz: data/versions.csv:35012: version id 21000 appears twice"
    );
    // Without the repeat, the bad `yanked` (found while parsing) is reported.
    let text = text.replace(&repeated, &row(1000 + 35_000, 35_000));
    let e = read_err(&world_with(&[("versions.csv", text)]));
    assert!(e.starts_with("dump.tar.gz: data/versions.csv:39012"), "{e}");
}

#[test]
fn dangling_ids_are_errors() {
    let deps = format!("{DEPS}99,t,,{{}},107,0,f,^1,,50\n");
    let e = read_err(&world_with(&[("dependencies.csv", deps)]));
    assert_eq!(
        e,
        "dump.tar.gz: data/dependencies.csv:9: column `crate_id`: crate id 99 is not in data/crates.csv"
    );
    let deps = format!("{DEPS}1,t,,{{}},107,0,f,^1,,999\n");
    let e = read_err(&world_with(&[("dependencies.csv", deps)]));
    assert!(
        e.contains("version id 999 is not in data/versions.csv"),
        "{e}"
    );
    let owners = format!("{OWNERS}6,2024-01-06 00:00:00,,77,1\n");
    let e = read_err(&world_with(&[("crate_owners.csv", owners)]));
    assert_eq!(
        e,
        "dump.tar.gz: data/crate_owners.csv:8: column `owner_id`: team id 77 is not in data/teams.csv"
    );
    let versions = format!(
        "{}{}\n",
        versions_csv(),
        version_row(70, 1, "9.0.0", false, "2024-01-01 00:00:00", Some(42))
    );
    let e = read_err(&world_with(&[("versions.csv", versions)]));
    assert!(
        e.contains("data/versions.csv:12: column `published_by`: user id 42"),
        "{e}"
    );
    let owners = format!("{OWNERS}6,2024-01-06 00:00:00,,1,5\n");
    let e = read_err(&world_with(&[("crate_owners.csv", owners)]));
    assert!(e.contains("owner_kind") && e.contains("found 5"), "{e}");
}

#[test]
fn an_older_schema_is_named() {
    let users = "gh_avatar,gh_id,gh_login,id,name\n,101,alice,1,Alice\n".to_owned();
    let e = read_err(&world_with(&[("users.csv", users)]));
    assert!(
        e.starts_with("dump.tar.gz: data/users.csv:1: expected a column `username`"),
        "{e}"
    );
}

#[test]
fn a_missing_table_or_an_empty_archive() {
    let mut members = world();
    members.retain(|m| !m.name.ends_with(b"/teams.csv"));
    let e = read_err(&members);
    assert_eq!(
        e,
        "dump.tar.gz: not a complete crates.io database dump: no data/teams.csv (truncated download?)"
    );
    let e = read_err(&[]);
    assert!(e.contains("the archive is empty"), "{e}");
    let e = read_err(&[file("notes/README.md", "hi")]);
    assert!(
        e.contains("not under a YYYY-MM-DD-HHMMSS/ directory"),
        "{e}"
    );
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    // Each cut is an error naming the file, or, when it falls past the six tables (reading
    // stops there), exactly the facts of the whole dump.
    let bytes = gzip(&tar_bytes(&world()));
    let whole = blastradius::ingest::load(&[Input::new(write_dump(&bytes).1)]).unwrap();
    let show = |f: &blastradius::ingest::Facts| format!("{:?}{:?}", f.versions, f.owners);
    let tmp = tempfile::tempdir().unwrap();
    let mut errors = 0;
    for i in 1..16 {
        let cut = bytes.len() * i / 16;
        let path = tmp.path().join(format!("cut{i}.tar.gz"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        match blastradius::ingest::load(&[Input::new(&path)]) {
            Ok(f) => assert_eq!(show(&f), show(&whole), "cut at {cut}/{}", bytes.len()),
            Err(e) => {
                errors += 1;
                let e = e.to_string();
                assert!(
                    e.contains(&format!("cut{i}.tar.gz"))
                        && (e.contains("truncated") || e.contains("not a crates.io database dump")),
                    "cut at {cut}/{}: {e}",
                    bytes.len()
                );
            }
        }
    }
    assert!(errors >= 12, "{errors} of 15 cuts were errors");
}

#[test]
fn a_member_shorter_than_its_header_says() {
    // The gzip stream is complete, but the tar stream stops inside versions.csv.
    let tar = tar_bytes(&world());
    let versions_at = find_bytes(&tar, b"bin_names,categories").unwrap();
    let e = read_bytes(&gzip(&tar[..versions_at + 700])).unwrap_err();
    assert!(
        e.starts_with("dump.tar.gz: data/versions.csv") && e.contains("truncated"),
        "{e}"
    );
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---- hostile ------------------------------------------------------------------------------

/// Names the entries of `dir`, recursively, to check that nothing was written.
fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p);
        }
    }
    out
}

fn hostile(extra: Member) -> String {
    let mut members = world();
    members.insert(6, extra);
    let (tmp, path) = write_dump(&gzip(&tar_bytes(&members)));
    let before = listing(tmp.path());
    let e = dbdump::read(&path, "dump.tar.gz").unwrap_err().to_string();
    assert_eq!(listing(tmp.path()), before, "the tempdir is unchanged");
    e
}

#[test]
fn hostile_member_names_are_refused_and_nothing_is_written() {
    let e = hostile(file("../../x/crates.csv", "id,name\n"));
    assert_eq!(
        e,
        "dump.tar.gz: member \"../../x/crates.csv\" has an unsafe name (absolute, `..`, a backslash or not UTF-8); refusing the archive"
    );
    let e = hostile(file("/etc/crates.csv", "id,name\n"));
    assert!(
        e.contains("member \"/etc/crates.csv\" has an unsafe name"),
        "{e}"
    );
    let e = hostile(file(&format!("{DIR}/data/../../../crates.csv"), ""));
    assert!(e.contains("`..`"), "{e}");
    let mut link = file(&format!("{DIR}/data/crates.csv"), "");
    link.kind = tar::EntryType::Symlink;
    link.link = Some("/etc/passwd");
    let e = hostile(link);
    assert_eq!(
        e,
        format!("dump.tar.gz: member \"{DIR}/data/crates.csv\" is a symbolic link, not a regular file or directory; refusing the archive")
    );
    let mut hard = file(&format!("{DIR}/README2.md"), "");
    hard.kind = tar::EntryType::Link;
    hard.link = Some("/etc/shadow");
    assert!(hostile(hard).contains("is a hard link"));
    // The same table twice.
    let e = hostile(table("crates.csv", &crates_csv()));
    assert_eq!(
        e,
        format!("dump.tar.gz: data/crates.csv appears twice in the archive (again as \"{DIR}/data/crates.csv\")")
    );
    // A table outside the dump directory.
    let e = hostile(file("2024-01-01-000000/data/users.csv", USERS));
    assert!(e.contains("outside the dump directory"), "{e}");
    // A non-CSV file with a .csv name.
    let mut members = world();
    let teams = members
        .iter_mut()
        .find(|m| m.name.ends_with(b"/teams.csv"))
        .unwrap();
    teams.data = vec![0x89, b'P', b'N', b'G', 0xff, 0xfe, b'\n', b'1'];
    let e = read_err(&members);
    assert_eq!(
        e,
        "dump.tar.gz: data/teams.csv:1: expected UTF-8 text, found invalid UTF-8 in field 1"
    );
}

#[test]
fn long_names_apply_and_an_oversized_long_name_is_refused() {
    // A GNU long name (as GNU tar writes names over 100 bytes) names the next member.
    let long = format!("{DIR}/data/crates.csv");
    let mut members = world();
    let at = members
        .iter()
        .position(|m| m.name.ends_with(b"/crates.csv"))
        .unwrap();
    members[at].name = b"placeholder".to_vec();
    let mut ln = file("././@LongLink", format!("{long}\0"));
    ln.kind = tar::EntryType::GNULongName;
    members.insert(at, ln);
    assert_eq!(
        read_bytes(&gzip(&tar_bytes(&members)))
            .unwrap()
            .versions
            .len(),
        10
    );
    // A PAX `path` does the same; a PAX `size` is refused.
    let pax = |records: &str| {
        let mut m = world();
        let at = m
            .iter()
            .position(|m| m.name.ends_with(b"/crates.csv"))
            .unwrap();
        m[at].name = b"placeholder".to_vec();
        let mut x = file("PaxHeaders/crates.csv", records);
        x.kind = tar::EntryType::XHeader;
        m.insert(at, x);
        read_bytes(&gzip(&tar_bytes(&m)))
    };
    let record = format!(" path={long}\n");
    let record = format!("{}{record}", record.len() + 2);
    assert_eq!(pax(&record).unwrap().versions.len(), 10);
    let e = pax("12 size=100\n").unwrap_err();
    assert_eq!(
        e,
        "dump.tar.gz: a PAX header overrides a member's size; refusing the archive"
    );
    // 64 MiB of long name (64 KiB compressed) is refused before it is read.
    let mut members = world();
    let mut bomb = file("././@LongLink", vec![b'a'; 64 << 20]);
    bomb.kind = tar::EntryType::GNULongName;
    members.insert(1, bomb);
    let start = Instant::now();
    let e = read_bytes(&gzip(&tar_bytes(&members))).unwrap_err();
    assert_eq!(
        e,
        "dump.tar.gz: an extension header (long name or PAX) of 67108864 bytes, over the 64 KiB limit; refusing the archive"
    );
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    // 64 MiB of zeros (64 KiB compressed) before the tables, read with a 16 MiB cap.
    let mut members = world();
    members.insert(3, file(&format!("{DIR}/padding.bin"), vec![0u8; 64 << 20]));
    let bytes = gzip(&tar_bytes(&members));
    assert!(bytes.len() < 1 << 20);
    let limits = Limits {
        max_decompressed: 16 << 20,
        ..Limits::default()
    };
    let start = Instant::now();
    let e = read_bytes_with(&bytes, &limits).unwrap_err();
    assert!(
        e.starts_with("dump.tar.gz: ") && e.contains("decompressed data exceeds the 16 MiB limit"),
        "{e}"
    );
    assert!(start.elapsed().as_secs() < 5);
    // With the default cap the same archive reads (the padding is streamed, never held).
    assert_eq!(read_bytes(&bytes).unwrap().versions.len(), 10);
}

#[test]
fn a_table_claiming_a_petabyte_is_refused_before_reading() {
    let mut members = world();
    let crates = members
        .iter_mut()
        .find(|m| m.name.ends_with(b"/crates.csv"))
        .unwrap();
    crates.claimed = Some(1 << 50);
    let start = Instant::now();
    let e = read_bytes(&gzip(&tar_bytes(&members))).unwrap_err();
    assert_eq!(
        e,
        "dump.tar.gz: data/crates.csv: its header claims 1125899906842624 bytes, over the decompressed-data limit of 16 GiB"
    );
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn an_endless_record_stops_at_the_record_cap() {
    // One quoted field that never closes: 8 MiB of `a`, read with a 1 MiB record cap.
    let crates = format!("id,name\n1,\"{}", "a".repeat(8 << 20));
    let bytes = gzip(&tar_bytes(&world_with(&[("crates.csv", crates)])));
    let limits = Limits {
        max_record: 1 << 20,
        ..Limits::default()
    };
    let e = read_bytes_with(&bytes, &limits).unwrap_err();
    assert!(
        e.starts_with("dump.tar.gz: data/crates.csv") && e.contains("longer than the 1 MiB limit"),
        "{e}"
    );
}

#[test]
fn too_many_members() {
    let mut members = vec![dir(&format!("{DIR}/"))];
    for i in 0..300 {
        members.push(file(&format!("{DIR}/empty{i}"), ""));
    }
    let limits = Limits {
        max_members: 200,
        ..Limits::default()
    };
    let e = read_bytes_with(&gzip(&tar_bytes(&members)), &limits).unwrap_err();
    assert_eq!(
        e,
        "dump.tar.gz: more than 200 members; a crates.io database dump has about 30"
    );
}

// ---- the command line ---------------------------------------------------------------------

fn bin() -> Command {
    let mut c = Command::cargo_bin("blastradius").expect("the blastradius binary is built");
    c.env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("RAYON_NUM_THREADS");
    c
}

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    let o = bin().current_dir(dir).args(args).output().unwrap();
    Out {
        code: o.status.code().expect("exited, not killed"),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn rank_all_accounts_on_the_tiny_dump() {
    let (tmp, _) = write_dump(&gzip(&tar_bytes(&world())));
    let o = run_in(
        tmp.path(),
        &[
            "rank",
            "--all-accounts",
            "--format",
            "json",
            "--at",
            AT,
            "db-dump.tar.gz",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.is_empty(), "{}", o.stderr);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let scores: Vec<(String, u64)> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["score"].as_u64().unwrap(),
            )
        })
        .collect();
    // By hand (latest versions: acme-core 1.1.0 as 1.2.0 is yanked, acme-cli 2.0.0):
    // - alice owns acme-core; ^1.0 (acme-http) and ^1 (acme-testkit) take a new 1.x, the
    //   build-dependency =1.1.0 of acme-cli does not, but acme-cli takes acme-http's new
    //   release through its normal ^0.3: {core, http, testkit, cli} = 4.
    // - bob owns acme-core and acme-cli: the same 4.
    // - carol owns acme-log: acme-http's optional, renamed, windows-only ^0.1 takes it, then
    //   acme-cli: {log, http, cli} = 3.
    // - the team owns acme-http: {http, cli} = 2.
    // - dave owns acme-testkit, which only acme-cli's dev-dependencies name: 1.
    // - nobody owns leftpad-rs, and only acme-cli 1.0.0 (not the latest) needs it: 1.
    // erin published acme-log 0.1.0 but owns nothing, so is no account.
    let expect: Vec<(String, u64)> = [
        ("alice", 4),
        ("bob", 4),
        ("carol", 3),
        ("github:acme:release", 2),
        ("dave", 1),
        ("owner-of:leftpad-rs", 1),
    ]
    .iter()
    .map(|(i, s)| ((*i).to_owned(), *s))
    .collect();
    assert_eq!(scores, expect);
    // acme-http takes new versions only from trusted publishing: said of its owner, whose
    // own reach (an account can lift the setting) still counts it.
    let factors = |id: &str| {
        v["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["risk_factors"]
            .clone()
    };
    assert_eq!(
        factors("github:acme:release"),
        serde_json::json!(["trustpub-only-packages"])
    );
    assert_eq!(factors("carol"), serde_json::json!([]));
    // Two runs are byte-identical.
    let again = run_in(
        tmp.path(),
        &[
            "rank",
            "--all-accounts",
            "--format",
            "json",
            "--at",
            AT,
            "db-dump.tar.gz",
        ],
    );
    assert_eq!(again.stdout, o.stdout);
}

#[test]
fn an_api_token_cannot_publish_a_trustpub_only_crate() {
    let (tmp, _) = write_dump(&gzip(&tar_bytes(&world())));
    std::fs::write(
        tmp.path().join("inventory.toml"),
        r#"[[account]]
id = "github:acme:release"
ecosystem = "crates.io"
owns = ["acme-http"]

[[credential]]
id = "release-token"
ecosystem = "crates.io"
kind = "api-token"
account = "github:acme:release"

[[credential]]
id = "release-oidc"
ecosystem = "crates.io"
kind = "trusted-publisher"
account = "github:acme:release"
"#,
    )
    .unwrap();
    let o = run_in(
        tmp.path(),
        &[
            "rank",
            "--format",
            "json",
            "--at",
            AT,
            "db-dump.tar.gz",
            "inventory.toml",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let reach = |id: &str| {
        let c = v["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} ranked"))
            .clone();
        (
            c["inject"]["packages"].as_u64().unwrap(),
            c["disrupt"]["packages"].as_u64().unwrap(),
        )
    };
    // By hand: acme-http and acme-cli (^0.3) for the OIDC token; the API token can only
    // yank acme-http, which disrupts the same two.
    assert_eq!(reach("release-oidc"), (2, 2));
    assert_eq!(reach("release-token"), (0, 2));
}

fn fails_with(dir: &Path, file: &str, bytes: &[u8], needle: &str) {
    std::fs::write(dir.join(file), bytes).unwrap();
    let o = run_in(
        dir,
        &[
            "rank",
            "--all-accounts",
            "--format",
            "json",
            "--at",
            AT,
            file,
        ],
    );
    assert_eq!(o.code, 1, "expected exit 1, got {}: {}", o.code, o.stderr);
    assert!(o.stdout.is_empty());
    assert!(
        o.stderr.starts_with(&format!("error: {file}")) && o.stderr.contains(needle),
        "{}",
        o.stderr
    );
}

#[test]
fn malformed_dumps_exit_1_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let good = gzip(&tar_bytes(&world()));
    fails_with(
        tmp.path(),
        "cut.tar.gz",
        &good[..good.len() / 2],
        "truncated",
    );
    let versions = format!(
        "{}{}\n",
        versions_csv(),
        version_row(70, 1, "one", false, "2024-01-01 00:00:00", None)
    );
    fails_with(
        tmp.path(),
        "badrow.tar.gz",
        &gzip(&tar_bytes(&world_with(&[("versions.csv", versions)]))),
        "data/versions.csv:12: column `num`: expected a semver version",
    );
    let deps = format!("{DEPS}99,t,,{{}},107,0,f,^1,,50\n");
    fails_with(
        tmp.path(),
        "dangling.tar.gz",
        &gzip(&tar_bytes(&world_with(&[("dependencies.csv", deps)]))),
        "data/dependencies.csv:9: column `crate_id`: crate id 99 is not in data/crates.csv",
    );
    fails_with(
        tmp.path(),
        "other.tar.gz",
        &gzip(&tar_bytes(&[file("src/lib.rs", "")])),
        "gzip-compressed, but not a crates.io database dump",
    );
}
