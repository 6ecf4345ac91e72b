//! One function per subcommand: load the inputs, ask the engine, hand the answer to a
//! presenter, write it out.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::engine::{self, AttackIndex, Query, RankSubject, Source};
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeRef};
use crate::ingest::{self, detect::Input, secrets};
use crate::report::{self, dot, table, ExplainReport, RankReport, ReachReport};

use super::{
    Cli, Command, Common, ExplainArgs, ExportArgs, FetchArgs, Format, IncidentArgs, IngestArgs,
    RankArgs, ReachArgs, Who,
};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let timings = match &cli.command {
        Some(Command::Rank(a)) => a.common.timings,
        Some(Command::Reach(a)) => a.common.timings,
        Some(Command::Explain(a)) => a.common.timings,
        Some(Command::Export(a)) => a.common.timings,
        Some(Command::Incident(a)) => a.common.timings,
        Some(Command::Ingest(a)) => a.timings,
        _ => false,
    };
    let result = run_command(cli);
    if timings {
        let _ = write!(anstream::stderr(), "{}", super::progress::timings());
    }
    result
}

fn run_command(cli: Cli) -> Result<()> {
    match cli.command {
        None => demo(),
        Some(Command::Rank(a)) => rank(&a, false),
        Some(Command::Reach(a)) => reach(&a),
        Some(Command::Explain(a)) => explain(&a),
        Some(Command::Export(a)) => export(&a),
        Some(Command::Incident(a)) => incident(&a),
        Some(Command::Ingest(a)) => ingest(&a),
        Some(Command::Fetch(a)) => fetch(&a),
    }
}

/// The graph and the question's parameters, shared by every subcommand.
struct Loaded {
    graph: Graph,
    query: Query,
    /// Sorted warnings for the output's `warnings` array.
    warnings: Vec<String>,
}

fn parse_at(s: Option<&str>) -> Result<jiff::Timestamp> {
    let Some(s) = s else {
        let now = jiff::Timestamp::now();
        return Ok(jiff::Timestamp::from_second(now.as_second()).unwrap_or(now));
    };
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        if let Ok(z) = d.to_zoned_datetime(jiff::tz::TimeZone::UTC) {
            return Ok(z.timestamp());
        }
    }
    Err(Error::Unknown(format!(
        "--at: expected an RFC 3339 time such as 2026-01-01T00:00:00Z or a date such as 2026-01-01, found {s:?}"
    )))
}

/// A snapshot among the inputs: it must be the only one (it already holds a whole graph).
fn snapshot_input(inputs: &[std::path::PathBuf]) -> Result<Option<&std::path::PathBuf>> {
    let is_snapshot = |p: &std::path::PathBuf| {
        let mut head = [0u8; 16];
        p.is_file()
            && std::fs::File::open(p)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
                .is_ok()
            && crate::graph::snapshot::looks_like_snapshot(&head)
    };
    match inputs.iter().position(is_snapshot) {
        None => Ok(None),
        Some(i) if inputs.len() == 1 => Ok(Some(&inputs[i])),
        Some(i) => Err(Error::Unknown(format!(
            "{} is a snapshot: give it as the only input (to add inputs, run `blastradius ingest` again with all of them)",
            inputs[i].display()
        ))),
    }
}

fn load(common: &Common) -> Result<Loaded> {
    let at = parse_at(common.at.as_deref())?;
    let query = Query {
        at,
        versions: common.versions.into(),
        hops: common.hops,
    };
    if let Some(path) = snapshot_input(&common.inputs)? {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let _phase = super::progress::phase("loading the snapshot");
        let (graph, warnings) = crate::graph::snapshot::decode(path, &bytes)?;
        return Ok(Loaded {
            graph,
            query,
            warnings,
        });
    }
    let inputs: Vec<Input> = if common.inputs.is_empty() && common.workspace.is_none() {
        vec![Input {
            path: ingest::demo_dir(),
            display: "data".into(),
        }]
    } else {
        common.inputs.iter().map(Input::new).collect()
    };
    let reading = super::progress::phase("reading inputs");
    let mut facts = ingest::load_with(
        &inputs,
        ingest::LoadOptions {
            keep_going: common.keep_going,
            max_input_size: common.max_input_size,
        },
    )?;
    drop(reading);
    if let Some(ws) = &common.workspace {
        facts
            .lockfiles
            .push(ingest::workspace::load(ws, &ws.display().to_string())?);
        facts.canonicalise();
    }
    // `--cache` / `--offline`: registry metadata of the packages the inputs name, from the cache.
    if common.cache.is_some() || common.offline {
        let dir = match &common.cache {
            Some(d) => d.clone(),
            None => crate::fetch::default_cache_dir()?,
        };
        crate::fetch::read::read_into(&mut facts, &dir, common.keep_going)?;
    }
    if facts.versions.is_empty() && facts.lockfiles.is_empty() && facts.inventory.is_none() {
        return Err(Error::Unknown(format!(
            "no input recognised in {}: expected crates.io index files, Cargo.lock files, Cargo.toml manifests or an inventory TOML",
            inputs.iter().map(|i| i.display.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    // Warnings go to stderr (a few, then a count) and into the JSON `warnings` array (all).
    const SHOWN: usize = 8;
    for w in facts.warnings.iter().take(SHOWN) {
        let _ = writeln!(
            anstream::stderr(),
            "warning: {}",
            report::escape::message(w)
        );
    }
    if facts.warnings.len() > SHOWN {
        let _ = writeln!(
            anstream::stderr(),
            "warning: … and {} more (all of them are in the JSON output's \"warnings\")",
            facts.warnings.len() - SHOWN
        );
    }
    let mut warnings = facts.warnings.clone();
    warnings.sort();
    warnings.dedup();
    let building = super::progress::phase("building the graph");
    let graph = Graph::build(&facts)?;
    drop(building);
    // Freeing millions of parsed strings takes a while and changes no answer.
    let freeing = super::progress::phase("freeing parsed inputs");
    drop(facts);
    drop(freeing);
    Ok(Loaded {
        warnings,
        graph,
        query,
    })
}

fn ingest(a: &IngestArgs) -> Result<()> {
    if snapshot_input(&a.inputs)?.is_some() {
        return Err(Error::Unknown("the input is already a snapshot".into()));
    }
    let inputs: Vec<Input> = a.inputs.iter().map(Input::new).collect();
    let reading = super::progress::phase("reading inputs");
    let facts = ingest::load_with(
        &inputs,
        ingest::LoadOptions {
            keep_going: a.keep_going,
            max_input_size: a.max_input_size,
        },
    )?;
    drop(reading);
    let mut warnings = facts.warnings.clone();
    warnings.sort();
    warnings.dedup();
    for w in warnings.iter().take(8) {
        let _ = writeln!(
            anstream::stderr(),
            "warning: {}",
            report::escape::message(w)
        );
    }
    let building = super::progress::phase("building the graph");
    let graph = Graph::build(&facts)?;
    drop(facts);
    drop(building);
    let writing = super::progress::phase("writing the snapshot");
    let bytes = crate::graph::snapshot::encode(&graph, &warnings)?;
    write_atomic_bytes(&a.snapshot, &bytes)?;
    drop(writing);
    let (nodes, edges) = graph.size();
    let _ = writeln!(
        anstream::stderr(),
        "wrote {} ({} bytes): {nodes} nodes, {edges} edges",
        report::escape::message(&a.snapshot.display().to_string()),
        bytes.len()
    );
    Ok(())
}

fn format_of(common: &Common) -> Format {
    common.format.unwrap_or_else(|| {
        if common.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        }
    })
}

/// Writes the answer: to `--output` atomically (temp file in the same directory, then
/// rename; colours stripped), or to stdout (colours kept only for a colour terminal).
///
/// Whatever the format, secret values are redacted on the way out, and the text is made safe
/// for a terminal: JSON escapes DEL, C1 and bidi characters as `\uXXXX` (the same value),
/// table and DOT keep only line breaks, tabs and the table's own colours.
///
/// A reader that stops early (`| head`) is not a failure: the broken pipe ends the output
/// and the exit code stays 0, as ripgrep does.
fn emit(common: &Common, format: Format, text: &str) -> Result<()> {
    let redacted = secrets::redact(text);
    let safe = match format {
        Format::Json => report::escape::json(&redacted),
        Format::Table | Format::Dot => report::escape::terminal_text(&redacted),
    };
    match &common.output {
        Some(path) => write_atomic(path, &anstream::adapter::strip_str(&safe).to_string()),
        None => {
            let mut out = anstream::AutoStream::auto(std::io::stdout().lock());
            match out.write_all(safe.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                // `| head` closing the pipe is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(source) => Err(Error::Write {
                    path: "<stdout>".into(),
                    source,
                }),
            }
        }
    }
}

/// Writes a file so that readers see either the old content or the whole new one; secret
/// values are redacted first.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    write_atomic_bytes(path, secrets::redact(text).as_bytes())
}

/// [`write_atomic`] for bytes (written as given).
///
/// The temp file is created in the target's own directory (a rename across file systems
/// fails) and removed again on any failure, so a failed write leaves the old file untouched
/// and no temp file behind. A target that exists but is not a regular file (`/dev/stdout`, a
/// FIFO, `/dev/full`) is written in place: renaming over a device node would replace it.
/// A directory is refused.
pub fn write_atomic_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "it is a directory",
            )));
        }
        if !meta.is_file() {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .map_err(err)?;
            return f.write_all(bytes).and_then(|()| f.flush()).map_err(err);
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".blastradius-")
        .tempfile_in(dir)
        .map_err(|e| err(os_error(e)))?;
    tmp.write_all(bytes).map_err(err)?;
    // tempfile creates 0600 files; an output file should look like any other new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// The operating system's error inside one of tempfile's, without the temp file's random
/// name that tempfile appends (` at path "…"`): the message names the file the user asked for.
fn os_error(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    match text.rfind(" at path \"") {
        Some(cut) if e.get_ref().is_some() => std::io::Error::new(e.kind(), &text[..cut]),
        _ => e,
    }
}

fn resolve_source(g: &Graph, who: &Who) -> Result<Source> {
    // Token-shaped ids are held redacted (see `ingest::secrets`): the raw token given on the
    // command line finds its credential by the same redaction.
    if let Some(id) = &who.credential {
        let id = &secrets::redact(id).into_owned();
        if let Some(c) = g.credentials().find(|&c| g.credential(c).id == *id) {
            return Ok(Source::Credential(c));
        }
        let mut known: Vec<&str> = g
            .credentials()
            .map(|c| g.credential(c).id.as_str())
            .collect();
        known.sort_unstable();
        let shown: Vec<&str> = known.iter().take(12).copied().collect();
        return Err(Error::Unknown(format!(
            "unknown credential {:?}: the inputs have {} credentials ({}{})",
            report::escape::terminal(id),
            known.len(),
            shown.join(", "),
            if known.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        )));
    }
    let id = &*secrets::redact(who.account.as_deref().unwrap_or_default());
    let matches: Vec<_> = g.accounts().filter(|&a| g.account(a).id == id).collect();
    match matches.as_slice() {
        [a] => Ok(Source::Account(*a)),
        [] => Err(Error::Unknown(format!(
            "unknown account {:?}: the inputs have {} accounts",
            report::escape::terminal(id),
            g.count(crate::graph::NodeKind::Account)
        ))),
        _ => Err(Error::Unknown(format!(
            "account {:?} exists in several ecosystems; use a credential id instead",
            report::escape::terminal(id)
        ))),
    }
}

/// Picks, for a reach answer, the path that tells the most: to a stolen credential, an
/// environment, a mirror or a lockfile (the longest such), else to the farthest package.
fn headline_path(rep: &ReachReport) -> Option<Vec<String>> {
    let s = &rep.inject;
    let pick = |items: &[report::Item]| {
        items
            .iter()
            .max_by(|a, b| {
                a.path
                    .len()
                    .cmp(&b.path.len())
                    .then_with(|| b.id.cmp(&a.id))
            })
            .map(|i| i.path.clone())
    };
    let far: Vec<report::Item> = s
        .credentials
        .iter()
        .chain(&s.environments)
        .chain(&s.mirrors)
        .chain(&s.lockfiles)
        .cloned()
        .collect();
    pick(&far).or_else(|| pick(&s.packages))
}

fn rank(a: &RankArgs, demo: bool) -> Result<()> {
    let l = load(&a.common)?;
    let indexing = super::progress::phase("indexing who can attack what");
    let index = AttackIndex::new(&l.graph, l.query.versions);
    drop(indexing);
    let subject = if a.all_accounts {
        RankSubject::Accounts
    } else {
        RankSubject::Credentials
    };
    let ranking = super::progress::phase(if a.all_accounts {
        format!(
            "ranking {} accounts",
            l.graph.count(crate::graph::NodeKind::Account)
        )
    } else {
        format!(
            "ranking {} credentials",
            l.graph.count(crate::graph::NodeKind::Credential)
        )
    });
    let entries = engine::rank(&l.graph, &index, &l.query, subject, true);
    drop(ranking);
    let mut rep = RankReport::new(&entries, &l.query, a.all_accounts);
    rep.warnings = l.warnings.clone();
    if a.summary || a.plot.is_some() {
        let ranked: Vec<Source> = entries.iter().map(|e| e.source).collect();
        let _phase = super::progress::phase("computing the concentration curve");
        let curve = engine::curve(&l.graph, &index, &l.query, &ranked, true);
        rep.summary = Some(report::Summary::new(&curve));
    }
    if let (Some(path), Some(summary)) = (&a.plot, &rep.summary) {
        let dataset = if a.common.inputs.is_empty() && a.common.workspace.is_none() {
            "demo dataset (data/)".to_string()
        } else {
            a.common
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .chain(a.common.workspace.iter().map(|w| w.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write_atomic(path, &report::plot::svg(&rep, summary, &dataset))?;
    }
    let format = if demo {
        Format::Table
    } else {
        format_of(&a.common)
    };
    let text = match format {
        Format::Json => report::to_json(&rep),
        Format::Table => {
            let top: Vec<(String, Vec<String>)> = entries
                .iter()
                .filter(|e| e.score > 0)
                .take(a.top.unwrap_or(3).min(3))
                .filter_map(|e| {
                    let r = engine::reach(&l.graph, &index, e.source, &l.query);
                    let rr = ReachReport::new(&l.graph, &r, &l.query);
                    headline_path(&rr).map(|p| (e.id.clone(), p))
                })
                .collect();
            let mut shown = rep.clone();
            if let Some(n) = a.top {
                shown.credentials.truncate(n);
            }
            let mut t = table::rank(&shown, &top);
            if shown.credentials.len() < rep.credentials.len() {
                t.push_str(&format!(
                    "\n(top {} of {} {}; `--format json` lists all)\n",
                    shown.credentials.len(),
                    rep.credentials.len(),
                    rep.subject
                ));
            }
            if demo {
                t.push_str(&next_commands(&l.graph, &index, &l.query, &entries));
            }
            t
        }
        Format::Dot => {
            let mut paths = Vec::new();
            for e in entries.iter().filter(|e| e.score > 0).take(5) {
                let r = engine::reach(&l.graph, &index, e.source, &l.query);
                paths.extend(far_paths(&l.graph, &r));
            }
            dot::paths_to_dot("blastradius rank: witness paths of the top 5", &paths)
        }
    };
    emit(&a.common, format, &text)
}

/// Witness paths to lockfiles, environments, mirrors and stolen credentials (or, when there
/// are none, to packages), with node kinds, for DOT.
fn far_paths(g: &Graph, r: &engine::Reach) -> Vec<Vec<(String, &'static str)>> {
    let f = &r.inject;
    let mut chosen: Vec<&engine::Reached> = f
        .lockfiles
        .iter()
        .chain(&f.environments)
        .chain(&f.mirrors)
        .chain(&f.credentials)
        .collect();
    if chosen.is_empty() {
        chosen = f.packages.iter().collect();
    }
    chosen
        .into_iter()
        .map(|x| {
            x.path
                .iter()
                .map(|n| (g.display(*n), n.kind().as_str()))
                .collect()
        })
        .collect()
}

fn next_commands(
    g: &Graph,
    index: &AttackIndex,
    q: &Query,
    entries: &[engine::RankEntry],
) -> String {
    let Some(top) = entries
        .iter()
        .find(|e| e.score > 0 && matches!(e.source, Source::Credential(_)))
    else {
        return String::new();
    };
    let r = engine::reach(g, index, top.source, q);
    let target = r
        .inject
        .environments
        .first()
        .or(r.inject.lockfiles.first())
        .or(r.inject.packages.last())
        .map(|x| g.display(x.node));
    let id = &top.id;
    let mut s = String::from("\nNext commands to try:\n");
    s.push_str(&format!(
        "  cargo run --release -- reach --credential {id}\n"
    ));
    if let Some(t) = target {
        s.push_str(&format!(
            "  cargo run --release -- explain --credential {id} --to {t}\n"
        ));
    }
    s.push_str(&format!(
        "  cargo run --release -- reach --credential {id} --format dot | dot -Tsvg > reach.svg\n"
    ));
    s.push_str("  cargo run --release -- rank --all-accounts --hops 2\n");
    s.push_str("  cargo run --release -- rank --format json\n");
    s.push_str(
        "  cargo run --release -- incident --bad acme-core@0.2.3 --window 2026-03-10T14:05:00Z..2026-03-10T16:20:00Z\n",
    );
    s
}

fn demo() -> Result<()> {
    let args = RankArgs {
        all_accounts: false,
        top: None,
        summary: false,
        plot: None,
        common: Common {
            inputs: Vec::new(),
            at: None,
            versions: super::VersionsArg::Latest,
            hops: 1,
            format: Some(Format::Table),
            output: None,
            workspace: None,
            keep_going: false,
            cache: None,
            offline: false,
            max_input_size: crate::ingest::detect::DEFAULT_MAX_INPUT_SIZE,
            timings: false,
        },
    };
    rank(&args, true)
}

fn reach(a: &ReachArgs) -> Result<()> {
    let l = load(&a.common)?;
    let source = resolve_source(&l.graph, &a.who)?;
    let index = AttackIndex::new(&l.graph, l.query.versions);
    let r = engine::reach(&l.graph, &index, source, &l.query);
    let mut rep = ReachReport::new(&l.graph, &r, &l.query);
    rep.warnings = l.warnings.clone();
    let format = format_of(&a.common);
    let text = match format {
        Format::Json => report::to_json(&rep),
        Format::Table => table::reach(&rep),
        Format::Dot => {
            let title = format!("blastradius reach: {} at {}", rep.credential, rep.at);
            let mut paths: Vec<Vec<(String, &'static str)>> = Vec::new();
            let f = &r.inject;
            for x in f.iter() {
                paths.push(
                    x.path
                        .iter()
                        .map(|n| (l.graph.display(*n), n.kind().as_str()))
                        .collect(),
                );
            }
            if paths.is_empty() {
                paths.push(vec![(
                    rep.credential.clone(),
                    r.source.node().kind().as_str(),
                )]);
            }
            dot::paths_to_dot(&title, &paths)
        }
    };
    emit(&a.common, format, &text)
}

fn explain(a: &ExplainArgs) -> Result<()> {
    let l = load(&a.common)?;
    let source = resolve_source(&l.graph, &a.who)?;
    let targets = l.graph.find(&secrets::redact(&a.to));
    let target: NodeRef = match targets.as_slice() {
        [] => {
            return Err(Error::Unknown(format!(
                "unknown node {:?}: expected a package (crates.io:NAME), a lockfile path as shown in reach output, an environment, mirror or credential id",
                report::escape::terminal(&a.to)
            )))
        }
        [t] => *t,
        many => {
            // An id shared by kinds (an account and its stand-in credential): prefer what
            // reach reports on.
            *many
                .iter()
                .find(|n| !matches!(n, NodeRef::Account(_)))
                .unwrap_or(&many[0])
        }
    };
    let index = AttackIndex::new(&l.graph, l.query.versions);
    let r = engine::reach(&l.graph, &index, source, &l.query);
    // A reached node has its own path; a version (which reach does not list) is explained by
    // the shortest witness path through it, cut after it.
    let find = |f: &engine::Found| match f.iter().find(|x| x.node == target) {
        Some(x) => Some(x.path.clone()),
        None => f
            .iter()
            .filter_map(|x| {
                x.path
                    .iter()
                    .position(|n| *n == target)
                    .map(|i| x.path[..=i].to_vec())
            })
            .min_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b))),
    };
    let (via, path) = match (find(&r.inject), find(&r.disrupt)) {
        (Some(p), _) => (Some("inject"), Some(p)),
        (None, Some(p)) => (Some("disrupt"), Some(p)),
        (None, None) => (None, None),
    };
    let kinds: Vec<&str> = path.iter().flatten().map(|n| n.kind().as_str()).collect();
    let rep = ExplainReport {
        credential: l.graph.display(source.node()),
        to: l.graph.display(target),
        via,
        path: path.map(|p| p.iter().map(|n| l.graph.display(*n)).collect()),
        at: report::time(l.query.at),
        warnings: l.warnings.clone(),
    };
    let format = format_of(&a.common);
    let text = match format {
        Format::Json => report::to_json(&rep),
        Format::Table => table::explain(&rep, &kinds),
        Format::Dot => {
            let p: Vec<(String, &'static str)> = rep
                .path
                .iter()
                .flatten()
                .cloned()
                .zip(kinds.iter().copied())
                .collect();
            dot::paths_to_dot(&format!("{} → {}", rep.credential, rep.to), &[p])
        }
    };
    emit(&a.common, format, &text)
}

fn export(a: &ExportArgs) -> Result<()> {
    let l = load(&a.common)?;
    let g = &l.graph;
    let format = a.common.format.unwrap_or(Format::Json);
    let text = match format {
        Format::Json => report::to_json(&report::export::Export::new(g, l.warnings.clone())),
        Format::Dot => {
            let paths: Vec<Vec<(String, &'static str)>> = g
                .edges()
                .into_iter()
                .map(|(a, b, _)| {
                    vec![
                        (g.display(a), a.kind().as_str()),
                        (g.display(b), b.kind().as_str()),
                    ]
                })
                .collect();
            dot::paths_to_dot("blastradius graph", &paths)
        }
        Format::Table => {
            let mut s = String::from("blastradius graph\n");
            for k in crate::graph::NodeKind::ALL {
                s.push_str(&format!("  {:<12} {:>9}\n", k.as_str(), g.count(k)));
            }
            s.push_str(&format!("  {:<12} {:>9}\n", "edges", g.size().1));
            s
        }
    };
    emit(&a.common, format, &text)
}

/// Reads `--bad-from` files; a directory contributes every file in it, in name order.
fn bad_specs_from(paths: &[std::path::PathBuf]) -> Result<Vec<crate::ingest::advisory::BadSpec>> {
    let mut out = Vec::new();
    for p in paths {
        let mut files = Vec::new();
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?;
            for e in rd {
                let e = e.map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?;
                if e.path().is_file() {
                    files.push(e.path());
                }
            }
            files.sort();
        } else {
            files.push(p.clone());
        }
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|source| Error::Io {
                path: f.clone(),
                source,
            })?;
            out.extend(crate::ingest::advisory::parse_file(&f, &text)?);
        }
    }
    Ok(out)
}

fn incident(a: &IncidentArgs) -> Result<()> {
    use crate::engine::incident as inc;
    let l = load(&a.common)?;
    let mut specs = Vec::new();
    for s in &a.bad {
        specs.push(crate::ingest::advisory::parse_spec(s).ok_or_else(|| {
            Error::Unknown(format!(
                "--bad: expected NAME@VERSION or ECOSYSTEM:NAME@VERSION, found {:?}",
                report::escape::terminal(s)
            ))
        })?);
    }
    specs.extend(bad_specs_from(&a.bad_from)?);
    let mut bad = inc::bad_versions(&l.graph, &specs)?;
    if let Some(id) = &a.credential {
        let who = Who {
            credential: Some(id.clone()),
            account: None,
        };
        if let Source::Credential(c) = resolve_source(&l.graph, &who)? {
            bad.extend(inc::bad_versions_of_credential(&l.graph, c, &a.window));
        }
        bad.sort();
        bad.dedup();
    }
    let answer = inc::incident(&l.graph, bad, a.window)?;
    let mut rep = report::incident::IncidentReport::new(&l.graph, &answer);
    rep.warnings = l.warnings.clone();
    let format = format_of(&a.common);
    let text = match format {
        Format::Json => report::to_json(&rep),
        Format::Table => report::incident::table(&rep),
        Format::Dot => rep.to_dot(),
    };
    emit(&a.common, format, &text)
}

/// `blastradius fetch`: plan from the inputs, fetch into the cache, list every failure (errors,
/// or warnings under --keep-going), end with a one-line summary on stderr.
fn fetch(a: &FetchArgs) -> Result<()> {
    use crate::fetch::{self as net, FetchOptions, Plan};
    use std::time::Duration;
    let cache = match &a.cache {
        Some(d) => d.clone(),
        None => net::default_cache_dir()?,
    };
    let mut err = anstream::stderr();
    let mut inputs = Vec::new();
    for p in &a.inputs {
        if net::is_inside(p, &cache) {
            let _ = writeln!(
                err,
                "warning: {} is the fetch cache: its packages are not planned from",
                report::escape::message(&p.display().to_string())
            );
        } else {
            inputs.push(Input::new(p));
        }
    }
    let facts = ingest::load_with(
        &inputs,
        ingest::LoadOptions {
            keep_going: a.keep_going,
            ..Default::default()
        },
    )?;
    for w in &facts.warnings {
        let _ = writeln!(err, "warning: {}", report::escape::message(w));
    }
    if facts.lockfiles.is_empty() && facts.manifests.is_empty() && facts.versions.is_empty() {
        return Err(Error::Unknown(format!(
            "no lockfile, manifest or registry metadata recognised in {}: nothing names a package to fetch",
            inputs.iter().map(|i| i.display.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let plan = Plan::from_facts(&facts);
    let mut opts = FetchOptions::new(cache);
    for r in &a.registries {
        opts.registries.apply(r);
    }
    opts.transitive = a.transitive;
    opts.max_packages = a.max_packages;
    opts.offline = a.offline;
    opts.fresh_for = Duration::from_secs(a.fresh_for);
    opts.concurrency = usize::from(a.concurrency);
    opts.rate_per_host = a.rate_limit;
    opts.request_timeout = Duration::from_secs(a.timeout);
    opts.connect_timeout = opts.connect_timeout.min(opts.request_timeout);
    opts.read_timeout = opts.read_timeout.min(opts.request_timeout);
    opts.max_body = a.max_size << 20;
    // Tests shorten the backoff schedule (the same code path, a smaller base).
    if let Some(ms) = std::env::var("BLASTRADIUS_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        opts.retry_base = Duration::from_millis(ms);
    }
    opts.progress = std::io::stderr().is_terminal();
    let summary = net::fetch(&plan, &opts)?;
    let level = if a.keep_going { "warning" } else { "error" };
    for f in &summary.failures {
        let _ = writeln!(err, "{level}: {}", report::escape::message(&f.to_string()));
    }
    let _ = writeln!(err, "{}", report::escape::message(&summary.line()));
    if !summary.failures.is_empty() && !a.keep_going {
        let what = if a.offline {
            "are not in the cache"
        } else {
            "could not be fetched"
        };
        return Err(Error::Unknown(format!(
            "{} of {} packages {what} (listed above); --keep-going makes this a warning",
            summary.failures.len(),
            summary.packages + plan.invalid.len()
        )));
    }
    Ok(())
}
