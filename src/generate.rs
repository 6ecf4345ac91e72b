//! Deterministic generator of crates.io-shaped worlds, for benchmarks and property tests.
//!
//! Real registry dumps are large, change every day and cannot be checked in, so the
//! benchmarks (`benches/rank.rs`), the `measure` example and tests that need scale build a
//! synthetic world instead. The shape mimics crates.io where it matters to the engine:
//!
//! * dependency targets follow a power law (a few packages are depended on by almost
//!   everyone, most by nobody), drawn by preferential attachment among lower-numbered
//!   packages, so the world is a DAG apart from a few explicit cycles;
//! * requirements are mostly caret requirements (headroom), a few exact pins (no headroom),
//!   some dev (not propagating), build and optional edges;
//! * ownership is skewed (most accounts own one to three packages, a few own many), every
//!   package has an owner;
//! * lockfiles pin the transitive closure of a handful of direct dependencies.
//!
//! Everything is driven by a small PRNG in this file seeded from [`WorldParams::seed`], so the
//! same parameters always give the same [`Facts`], on every platform.
//!
//! [`write_world`] writes a world as the files `blastradius` reads (sparse-index lines, an
//! inventory carrying the ownership, Cargo.lock files), so other tools can be run on exactly
//! the same input (`examples/generate.rs`, `scripts/compare-igraph`).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::ingest::{
    DepFact, DepKind, Ecosystem, Facts, LockedPackage, LockfileFact, OwnerFact, VersionFact,
};

/// Parameters of a generated world.
///
/// Means rather than exact counts: sizes are drawn from skewed distributions so the world
/// looks like a registry, not a lattice. [`WorldParams::crates_io_like`] gives sensible
/// defaults for a package count.
#[derive(Debug, Clone)]
pub struct WorldParams {
    /// Number of packages (`pkg0` … `pkg{packages-1}`); lower numbers are more popular.
    pub packages: usize,
    /// Mean number of published versions per package (at least one each).
    pub versions_per_package: usize,
    /// Mean number of requirements per version.
    pub deps_per_version: usize,
    /// Fraction of requirements that are exact pins (`=x.y.z`, no headroom).
    pub exact_pin_ratio: f64,
    /// Fraction of requirements that are dev-dependencies (never propagate).
    pub dev_ratio: f64,
    /// Number of owning accounts (`user0` …); each also becomes one credential when ranking.
    pub accounts: usize,
    /// Most packages one account owns.
    pub max_owned: usize,
    /// Dependency cycles added on top of the DAG (each a back-edge).
    pub cycles: usize,
    /// Number of lockfiles (`gen/app{k}/Cargo.lock`).
    pub lockfiles: usize,
    /// PRNG seed: same parameters and seed, same world.
    pub seed: u64,
}

impl WorldParams {
    /// Parameters resembling crates.io scaled to `packages`: about 6 versions per package,
    /// 8 requirements per version (5% exact pins, 10% dev), half as many accounts as
    /// packages, one lockfile per thousand packages (1 to 200) and a few cycles.
    pub fn crates_io_like(packages: usize, seed: u64) -> Self {
        WorldParams {
            packages,
            versions_per_package: 6,
            deps_per_version: 8,
            exact_pin_ratio: 0.05,
            dev_ratio: 0.10,
            accounts: (packages / 2).max(1),
            max_owned: 200,
            cycles: packages / 10_000 + 3,
            lockfiles: (packages / 1000).clamp(1, 200),
            seed,
        }
    }
}

/// splitmix64: tiny, fast, good enough statistically, and identical everywhere (no
/// dependency whose output could change between versions). Shared by the generator, the
/// benches and the property tests so that a seed means the same world everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator's own seeding (mixes the seed with a constant).
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x6A09_E667_F3BC_C908)
    }

    /// Starts from a raw state, for callers that mix their own seeds.
    pub fn from_state(state: u64) -> Self {
        Rng(state)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponentially distributed with the given mean, rounded to an integer.
    fn exp_round(&mut self, mean: f64) -> usize {
        (-(1.0 - self.unit()).ln() * mean).round() as usize
    }

    /// Preferential attachment: an index below `n`, heavily skewed towards 0.
    fn popular(&mut self, n: usize, power: i32) -> usize {
        ((n as f64 * self.unit().powi(power)) as usize).min(n - 1)
    }
}

/// One generated version number.
#[derive(Debug, Clone, Copy)]
struct Ver {
    major: u32,
    minor: u32,
    patch: u32,
    pre: bool,
    yanked: bool,
}

impl Ver {
    fn text(&self) -> String {
        if self.pre {
            format!("{}.{}.{}-rc.1", self.major, self.minor, self.patch)
        } else {
            format!("{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

/// One dependency of a package (the same target across its versions, as in practice).
#[derive(Debug, Clone, Copy)]
struct Target {
    pkg: usize,
    kind: DepKind,
    optional: bool,
}

struct Pkg {
    versions: Vec<Ver>,
    targets: Vec<Target>,
    /// Index into `versions` of the version a fresh resolution (and a lockfile) takes.
    latest: usize,
}

fn latest_of(versions: &[Ver]) -> usize {
    versions
        .iter()
        .rposition(|v| !v.yanked && !v.pre)
        .or_else(|| versions.iter().rposition(|v| !v.yanked))
        .unwrap_or(versions.len() - 1)
}

fn gen_versions(rng: &mut Rng, mean: usize) -> Vec<Ver> {
    let count = (1 + rng.exp_round(mean.saturating_sub(1) as f64)).min(200);
    let mut v = Ver {
        major: if rng.chance(0.35) { 0 } else { 1 },
        minor: if rng.chance(0.5) {
            0
        } else {
            1 + rng.below(3) as u32
        },
        patch: 0,
        pre: false,
        yanked: false,
    };
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        if i > 0 {
            let r = rng.unit();
            if r < 0.40 {
                v.patch += 1;
            } else if r < 0.95 || v.major == 0 && r < 0.97 {
                v.minor += 1;
                v.patch = 0;
            } else {
                v.major += 1;
                v.minor = 0;
                v.patch = 0;
            }
        }
        // A pre-release takes a number no release will use: the next version always bumps.
        v.pre = rng.chance(0.01);
        v.yanked = rng.chance(0.02);
        out.push(v);
    }
    out
}

fn req_for(rng: &mut Rng, p: &Params, target: &Pkg) -> String {
    let releases: Vec<&Ver> = target.versions.iter().filter(|v| !v.pre).collect();
    let v = if releases.is_empty() {
        &target.versions[target.latest]
    } else if rng.chance(0.7) {
        // Most requirements follow the newest release.
        &target.versions[target.latest]
    } else {
        releases[rng.below(releases.len())]
    };
    if rng.chance(p.exact_pin_ratio) {
        format!("={}", v.text())
    } else if v.pre {
        format!("^{}", v.text())
    } else {
        format!("^{}.{}", v.major, v.minor)
    }
}

type Params = WorldParams;

/// Generates a world: versions with requirements, owners and lockfiles, canonicalised.
///
/// Deterministic: the same parameters (seed included) give identical facts. `inventory` is
/// `None`, so ranking falls back to one all-rights credential per account.
///
/// # Complexity
/// O(packages · versions · deps) time and memory (the facts themselves).
pub fn world(p: &WorldParams) -> Facts {
    let n = p.packages;
    let mut facts = Facts::default();
    if n == 0 {
        return facts;
    }
    let mut rng = Rng::new(p.seed);
    let names: Vec<String> = (0..n).map(|i| format!("pkg{i}")).collect();

    // ---- packages: versions and dependency targets, in index order ---------------------
    let mut pkgs: Vec<Pkg> = Vec::with_capacity(n);
    let mut seen: Vec<u32> = vec![u32::MAX; n];
    for i in 0..n {
        let versions = gen_versions(&mut rng, p.versions_per_package);
        let latest = latest_of(&versions);
        let mut targets = Vec::new();
        if i > 0 {
            let want = rng
                .exp_round(p.deps_per_version as f64)
                .min(10 * p.deps_per_version.max(1))
                .min(i);
            let mut tries = 0;
            while targets.len() < want && tries < 4 * want {
                tries += 1;
                let t = rng.popular(i, 3);
                if seen[t] == i as u32 {
                    continue;
                }
                seen[t] = i as u32;
                let r = rng.unit();
                let kind = if r < p.dev_ratio {
                    DepKind::Dev
                } else if r < p.dev_ratio + 0.03 {
                    DepKind::Build
                } else {
                    DepKind::Normal
                };
                let optional = kind != DepKind::Dev && rng.chance(0.05);
                targets.push(Target {
                    pkg: t,
                    kind,
                    optional,
                });
            }
        }
        pkgs.push(Pkg {
            versions,
            targets,
            latest,
        });
    }

    // ---- cycles: follow normal edges down from b, then add a back-edge to b ------------
    let mut added = 0;
    let mut attempts = 0;
    while added < p.cycles && attempts < 50 * p.cycles + 50 && n > 1 {
        attempts += 1;
        let b = n / 2 + rng.below(n - n / 2);
        let steps = 1 + rng.below(3);
        let mut cur = b;
        for _ in 0..steps {
            let normal: Vec<usize> = pkgs[cur]
                .targets
                .iter()
                .filter(|t| t.kind == DepKind::Normal && !t.optional)
                .map(|t| t.pkg)
                .collect();
            if normal.is_empty() {
                break;
            }
            cur = normal[rng.below(normal.len())];
        }
        if cur == b || pkgs[cur].targets.iter().any(|t| t.pkg == b) {
            continue;
        }
        pkgs[cur].targets.push(Target {
            pkg: b,
            kind: DepKind::Normal,
            optional: false,
        });
        added += 1;
    }

    // ---- versions with requirements ---------------------------------------------------
    // Publication: packages appear over ten years from Rust 1.0, in index order (popular
    // packages are old), each version 1 to 60 days after the one before.
    let start = 1_431_648_000i64; // 2015-05-15
    let span = 10 * 365 * 86_400i64;
    let total_versions: usize = pkgs.iter().map(|k| k.versions.len()).sum();
    facts.versions.reserve(total_versions);
    for (i, pkg) in pkgs.iter().enumerate() {
        let mut t =
            start + (span as f64 * i as f64 / n as f64) as i64 + rng.below(86_400 * 30) as i64;
        for v in &pkg.versions {
            t += 86_400 * (1 + rng.below(60) as i64);
            let deps = pkg
                .targets
                .iter()
                .map(|tg| DepFact {
                    package: names[tg.pkg].as_str().into(),
                    req: req_for(&mut rng, p, &pkgs[tg.pkg]).into(),
                    kind: tg.kind,
                    optional: tg.optional,
                    target: None,
                    rename: None,
                })
                .collect();
            facts.versions.push(VersionFact {
                ecosystem: Ecosystem::CratesIo,
                name: names[i].clone(),
                version: v.text(),
                yanked: v.yanked,
                published: jiff::Timestamp::from_second(t).ok(),
                deps,
                publisher: None,
                deps_known: true,
                install_script: false,
            });
        }
    }

    // ---- owners: power-law portfolio sizes, every package owned -----------------------
    let accounts = p.accounts.max(1);
    let max_owned = p.max_owned.max(1);
    let mut sizes: Vec<usize> = (0..accounts)
        .map(|_| {
            // Pareto, alpha 1.3: ~60% own one package, ~85% at most three.
            let s = (1.0 - rng.unit()).powf(-1.0 / 1.3) as usize;
            s.clamp(1, max_owned)
        })
        .collect();
    let mut slots: Vec<usize> = Vec::with_capacity(sizes.iter().sum());
    for (j, &s) in sizes.iter().enumerate() {
        slots.extend(std::iter::repeat_n(j, s));
    }
    for k in (1..slots.len()).rev() {
        slots.swap(k, rng.below(k + 1));
    }
    let owner_of = |account: usize, package: usize, out: &mut Vec<OwnerFact>| {
        out.push(OwnerFact {
            ecosystem: Ecosystem::CratesIo,
            account: format!("user{account}"),
            package: names[package].clone(),
        });
    };
    for (k, &j) in slots.iter().enumerate() {
        // The first `n` slots give every package an owner; the rest are co-owners.
        let package = if k < n { k } else { rng.below(n) };
        owner_of(j, package, &mut facts.owners);
    }
    // Too few slots: give the remaining packages to accounts with room left.
    for package in slots.len()..n {
        let mut j = rng.below(accounts);
        for _ in 0..accounts {
            if sizes[j] < max_owned {
                break;
            }
            j = (j + 1) % accounts;
        }
        sizes[j] += 1;
        owner_of(j, package, &mut facts.owners);
    }

    // ---- lockfiles: ~10 direct dependencies and their closure at the latest versions ----
    for k in 0..p.lockfiles {
        let mut packages = vec![LockedPackage {
            name: format!("app{k}").into(),
            version: "0.1.0".into(),
            registry: false,
            deps: Vec::new(),
        }];
        let mut entry: FxHashMap<usize, usize> = FxHashMap::default();
        let mut order: Vec<usize> = Vec::new();
        let direct = (5 + rng.below(11)).min(n);
        let mut root_deps = Vec::new();
        let mut tries = 0;
        while root_deps.len() < direct && tries < 100 {
            tries += 1;
            let t = rng.popular(n, 2);
            if entry.contains_key(&t) {
                continue;
            }
            entry.insert(t, order.len() + 1);
            order.push(t);
            root_deps.push(order.len());
        }
        let mut head = 0;
        while head < order.len() {
            let q = order[head];
            head += 1;
            for tg in &pkgs[q].targets {
                if tg.kind != DepKind::Dev && !tg.optional && !entry.contains_key(&tg.pkg) {
                    entry.insert(tg.pkg, order.len() + 1);
                    order.push(tg.pkg);
                }
            }
        }
        root_deps.sort_unstable();
        packages[0].deps = root_deps;
        for &q in &order {
            let mut deps: Vec<usize> = pkgs[q]
                .targets
                .iter()
                .filter(|t| t.kind != DepKind::Dev && !t.optional)
                .map(|t| entry[&t.pkg])
                .collect();
            deps.sort_unstable();
            packages.push(LockedPackage {
                name: names[q].clone().into(),
                version: pkgs[q].versions[pkgs[q].latest].text().into(),
                registry: true,
                deps,
            });
        }
        let id = format!("gen/app{k}/Cargo.lock");
        facts.lockfiles.push(LockfileFact {
            file: PathBuf::from(&id),
            id,
            ecosystem: Ecosystem::CratesIo,
            packages,
            roots: vec![0],
        });
    }

    facts.canonicalise();
    facts
}

/// How [`write_world`] lays out the sparse-index lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexLayout {
    /// `index/crates-NNNNN.jsonl`, the lines of [`SHARD_CRATES`] crates per file: the fastest
    /// to read (a few large reads instead of one open per crate).
    #[default]
    Shards,
    /// One file per crate in cargo's layout (`index/1/a`, `index/3/s/syn`, `index/se/rd/serde`),
    /// as the sparse registry serves them.
    PerCrate,
}

/// Crates per file in [`IndexLayout::Shards`].
pub const SHARD_CRATES: usize = 10_000;

/// One sparse-index line, as cargo's registry writes it (field order included).
#[derive(Serialize)]
struct IndexLineOut<'a> {
    name: &'a str,
    vers: &'a str,
    deps: Vec<IndexDepOut<'a>>,
    cksum: String,
    features: BTreeMap<String, Vec<String>>,
    yanked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pubtime: Option<String>,
}

/// One dependency of a sparse-index line.
#[derive(Serialize)]
struct IndexDepOut<'a> {
    /// The name the dependent uses (the rename, when there is one).
    name: &'a str,
    req: &'a str,
    features: [&'a str; 0],
    optional: bool,
    default_features: bool,
    target: Option<&'a str>,
    kind: &'static str,
    /// The real package, only for a renamed dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<&'a str>,
}

#[derive(Serialize)]
struct InventoryOut<'a> {
    account: Vec<AccountOut<'a>>,
}

#[derive(Serialize)]
struct AccountOut<'a> {
    id: &'a str,
    ecosystem: &'static str,
    owns: Vec<&'a str>,
}

#[derive(Serialize)]
struct CargoLockOut<'a> {
    version: u32,
    package: Vec<LockPackageOut<'a>>,
}

#[derive(Serialize)]
struct LockPackageOut<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<String>,
}

const CRATES_IO_SOURCE: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// A stand-in for the SHA-256 of a `.crate` file: 64 hex digits, the same for the same name
/// and version (the index line and every lockfile pinning it agree).
fn fake_checksum(name: &str, version: &str) -> String {
    // FNV-1a over "name@version", then four splitmix64 outputs.
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes().chain([b'@']).chain(version.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    let mut rng = Rng::from_state(h);
    (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect()
}

/// Where cargo's sparse registry serves the index file of `name` (lower-cased).
fn cargo_index_path(name: &str) -> PathBuf {
    let n = name.to_lowercase();
    match n.len() {
        1 => Path::new("1").join(&n),
        2 => Path::new("2").join(&n),
        3 => Path::new("3").join(&n[..1]).join(&n),
        _ => Path::new(&n[..2]).join(&n[2..4]).join(&n),
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn toml_text<T: Serialize>(value: &T) -> io::Result<String> {
    toml::to_string(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The sparse-index line of one version.
fn index_line(v: &VersionFact) -> io::Result<String> {
    let deps = v
        .deps
        .iter()
        .map(|d| IndexDepOut {
            name: d.rename.as_deref().unwrap_or(&d.package),
            req: &d.req,
            features: [],
            optional: d.optional,
            default_features: true,
            target: d.target.as_deref(),
            kind: match d.kind {
                DepKind::Normal => "normal",
                DepKind::Build => "build",
                DepKind::Dev => "dev",
            },
            package: d.rename.as_ref().map(|_| d.package.as_str()),
        })
        .collect();
    let line = IndexLineOut {
        name: &v.name,
        vers: &v.version,
        deps,
        cksum: fake_checksum(&v.name, &v.version),
        features: BTreeMap::new(),
        yanked: v.yanked,
        pubtime: v.published.map(|t| t.to_string()),
    };
    serde_json::to_string(&line).map_err(io::Error::other)
}

/// A Cargo.lock (format version 3) with the lockfile's pins.
fn cargo_lock_text(l: &LockfileFact) -> io::Result<String> {
    let mut same_name: FxHashMap<&str, usize> = FxHashMap::default();
    for p in &l.packages {
        *same_name.entry(&p.name).or_default() += 1;
    }
    let mut package = Vec::with_capacity(l.packages.len());
    for p in &l.packages {
        let mut dependencies = Vec::with_capacity(p.deps.len());
        for &d in &p.deps {
            let dep = l.packages.get(d).ok_or_else(|| {
                invalid(format!(
                    "lockfile {}: {} depends on entry {d}, which does not exist",
                    l.id, p.name
                ))
            })?;
            // Cargo adds the version only when the name alone is ambiguous.
            dependencies.push(if same_name[dep.name.as_str()] > 1 {
                format!("{} {}", dep.name, dep.version)
            } else {
                dep.name.to_string()
            });
        }
        package.push(LockPackageOut {
            name: &p.name,
            version: &p.version,
            source: p.registry.then_some(CRATES_IO_SOURCE),
            checksum: p.registry.then(|| fake_checksum(&p.name, &p.version)),
            dependencies,
        });
    }
    let body = toml_text(&CargoLockOut {
        version: 3,
        package,
    })?;
    Ok(format!(
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\n{body}"
    ))
}

/// Writes `facts` as the input files `blastradius` reads, so that loading `dir` gives the same
/// graph answers as the facts themselves:
///
/// * `dir/index/` — one sparse-index line per version (`name`, `vers`, `deps`, `cksum`,
///   `features`, `yanked`, `pubtime`), laid out as [`IndexLayout`] says;
/// * `dir/inventory.toml` — the ownership (the sparse index has none): one `[[account]]` per
///   owner account, `owns` listing its packages by exact name;
/// * `dir/<lockfile id>` — each lockfile as a Cargo.lock v3 (`gen/app0/Cargo.lock`).
///
/// Only what [`world`] produces is supported: crates.io facts, no inventory, manifests or
/// builds.
///
/// # Errors
/// `dir` exists and is not empty (stale files from another world would be read with the new
/// ones); facts outside that subset; a lockfile id that is not a relative path inside `dir`;
/// any I/O error.
///
/// # Complexity
/// O(size of the facts) time; memory for one file's text at a time.
pub fn write_world(facts: &Facts, dir: &Path, layout: IndexLayout) -> io::Result<()> {
    if facts.inventory.is_some() || !facts.manifests.is_empty() || !facts.builds.is_empty() {
        return Err(invalid(
            "write_world writes registry metadata, owners and lockfiles only".into(),
        ));
    }
    let foreign = facts
        .versions
        .iter()
        .map(|v| v.ecosystem)
        .chain(facts.owners.iter().map(|o| o.ecosystem))
        .chain(facts.lockfiles.iter().map(|l| l.ecosystem))
        .find(|&e| e != Ecosystem::CratesIo);
    if let Some(e) = foreign {
        return Err(invalid(format!(
            "write_world writes crates.io facts only, found {e}"
        )));
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not empty", dir.display()),
        ));
    }
    let index = dir.join("index");
    std::fs::create_dir_all(&index)?;

    // ---- index: one crate's lines together, crates in name order ----------------------
    let mut by_crate: BTreeMap<&str, Vec<&VersionFact>> = BTreeMap::new();
    for v in &facts.versions {
        by_crate.entry(&v.name).or_default().push(v);
    }
    let crates: Vec<Vec<&VersionFact>> = by_crate.into_values().collect();
    let lines_of = |versions: &[&VersionFact], out: &mut Vec<u8>| -> io::Result<()> {
        for v in versions {
            out.extend_from_slice(index_line(v)?.as_bytes());
            out.push(b'\n');
        }
        Ok(())
    };
    let mut buf = Vec::new();
    match layout {
        IndexLayout::Shards => {
            for (k, shard) in crates.chunks(SHARD_CRATES).enumerate() {
                buf.clear();
                for versions in shard {
                    lines_of(versions, &mut buf)?;
                }
                std::fs::write(index.join(format!("crates-{k:05}.jsonl")), &buf)?;
            }
        }
        IndexLayout::PerCrate => {
            for versions in &crates {
                buf.clear();
                lines_of(versions, &mut buf)?;
                let path = index.join(cargo_index_path(&versions[0].name));
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(path, &buf)?;
            }
        }
    }

    // ---- ownership as an inventory ------------------------------------------------------
    let mut owns: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for o in &facts.owners {
        if o.package.contains('*') {
            return Err(invalid(format!(
                "package name {:?} would be read as a pattern",
                o.package
            )));
        }
        owns.entry(&o.account).or_default().push(&o.package);
    }
    let inventory = InventoryOut {
        account: owns
            .into_iter()
            .map(|(id, mut owns)| {
                owns.sort_unstable();
                owns.dedup();
                AccountOut {
                    id,
                    ecosystem: "crates.io",
                    owns,
                }
            })
            .collect(),
    };
    if !inventory.account.is_empty() {
        let mut f = io::BufWriter::new(std::fs::File::create(dir.join("inventory.toml"))?);
        f.write_all(
            b"# Generated by blastradius::generate::write_world: the ownership of the generated\n\
              # world (the sparse index has no owners).\n",
        )?;
        f.write_all(toml_text(&inventory)?.as_bytes())?;
        f.flush()?;
    }

    // ---- lockfiles --------------------------------------------------------------------
    for l in &facts.lockfiles {
        let rel = Path::new(&l.id);
        if rel.as_os_str().is_empty()
            || !rel.components().all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(invalid(format!(
                "lockfile id {:?} is not a relative path inside the output directory",
                l.id
            )));
        }
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, cargo_lock_text(l)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::graph::Graph;

    fn small() -> WorldParams {
        WorldParams::crates_io_like(2_000, 7)
    }

    #[test]
    fn same_seed_same_world() {
        let a = world(&small());
        let b = world(&small());
        assert_eq!(a.versions.len(), b.versions.len());
        for (x, y) in a.versions.iter().zip(&b.versions) {
            assert_eq!(
                (&x.name, &x.version, x.yanked, x.published),
                (&y.name, &y.version, y.yanked, y.published)
            );
            assert_eq!(x.deps, y.deps);
        }
        assert_eq!(a.owners, b.owners);
        assert_eq!(a.lockfiles.len(), b.lockfiles.len());
        for (x, y) in a.lockfiles.iter().zip(&b.lockfiles) {
            assert_eq!(
                (&x.id, &x.packages, &x.roots),
                (&y.id, &y.packages, &y.roots)
            );
        }
        let c = world(&WorldParams { seed: 8, ..small() });
        assert_ne!(
            a.owners, c.owners,
            "a different seed should give a different world"
        );
    }

    #[test]
    fn sizes_are_roughly_as_requested() {
        let p = small();
        let f = world(&p);
        let names: HashSet<&str> = f.versions.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names.len(), p.packages);
        let per_package = f.versions.len() as f64 / p.packages as f64;
        assert!(
            (4.0..8.0).contains(&per_package),
            "{per_package} versions per package"
        );
        let deps: usize = f.versions.iter().map(|v| v.deps.len()).sum();
        let per_version = deps as f64 / f.versions.len() as f64;
        assert!(
            (5.0..11.0).contains(&per_version),
            "{per_version} deps per version"
        );
        let pins = f
            .versions
            .iter()
            .flat_map(|v| &v.deps)
            .filter(|d| d.req.starts_with('='))
            .count();
        let ratio = pins as f64 / deps as f64;
        assert!((0.02..0.10).contains(&ratio), "{ratio} exact pins");
        let accounts: HashSet<&str> = f.owners.iter().map(|o| o.account.as_str()).collect();
        assert_eq!(accounts.len(), p.accounts);
        let owned: HashSet<&str> = f.owners.iter().map(|o| o.package.as_str()).collect();
        assert_eq!(owned.len(), p.packages, "every package has an owner");
        let mut per_account: FxHashMap<&str, usize> = FxHashMap::default();
        for o in &f.owners {
            *per_account.entry(&o.account).or_default() += 1;
        }
        assert!(per_account
            .values()
            .all(|&k| (1..=p.max_owned).contains(&k)));
        let small_portfolios = per_account.values().filter(|&&k| k <= 3).count();
        assert!(
            small_portfolios * 10 >= per_account.len() * 7,
            "most accounts own 1-3 packages"
        );
        assert_eq!(f.lockfiles.len(), p.lockfiles);
        assert!(f
            .lockfiles
            .iter()
            .all(|l| l.packages.len() > 1 && !l.packages[0].registry));
        assert!(f.inventory.is_none());
    }

    #[test]
    fn every_target_exists_and_versions_parse() {
        let f = world(&small());
        let names: HashSet<&str> = f.versions.iter().map(|v| v.name.as_str()).collect();
        let versions: HashSet<(&str, &str)> = f
            .versions
            .iter()
            .map(|v| (v.name.as_str(), v.version.as_str()))
            .collect();
        for v in &f.versions {
            semver::Version::parse(&v.version).unwrap();
            for d in &v.deps {
                assert!(
                    names.contains(d.package.as_str()),
                    "{} → {}",
                    v.name,
                    d.package
                );
                semver::VersionReq::parse(&d.req).unwrap();
            }
        }
        for l in &f.lockfiles {
            for e in l.packages.iter().filter(|e| e.registry) {
                assert!(versions.contains(&(e.name.as_str(), e.version.as_str())));
                assert!(e.deps.iter().all(|&d| d < l.packages.len()));
            }
        }
    }

    #[test]
    fn has_cycles() {
        let p = small();
        let f = world(&p);
        let index = |name: &str| name.trim_start_matches("pkg").parse::<usize>().unwrap();
        let back: HashSet<(usize, usize)> = f
            .versions
            .iter()
            .flat_map(|v| {
                v.deps
                    .iter()
                    .map(move |d| (index(&v.name), index(&d.package)))
            })
            .filter(|(a, b)| b > a)
            .collect();
        assert_eq!(back.len(), p.cycles);
    }

    #[test]
    fn graph_builds_and_verifies() {
        let f = world(&small());
        let g = Graph::build(&f).unwrap();
        g.verify().unwrap();
        assert_eq!(g.count(crate::graph::NodeKind::Package), 2_000);
        assert_eq!(g.count(crate::graph::NodeKind::Lockfile), 2);
    }
}
