//! The crates.io database dump: the daily `.tar.gz` published at
//! <https://static.crates.io/db-dump.tar.gz> (see <https://crates.io/data-access>), read as a
//! stream straight from the file.
//!
//! Every member of the archive sits under one `YYYY-MM-DD-HHMMSS/` directory: `README.md`,
//! `metadata.json` and the SQL scripts first, then `data/*.csv` in the dump's topological order
//! (`crates`, `teams`, `users`, then `crate_owners`, `versions`, `dependencies`, with
//! `version_downloads` last). Six tables are read:
//!
//! | table | columns used | becomes |
//! |---|---|---|
//! | `crates.csv` | `id`, `name`, `trustpub_only` | package names; [`Dump::trustpub_only`] |
//! | `versions.csv` | `id`, `crate_id`, `num`, `yanked`, `created_at`, `published_by` | [`VersionFact`] (publication time, publisher login) |
//! | `dependencies.csv` | `version_id`, `crate_id`, `req`, `kind`, `optional`, `target`, `explicit_name` | [`DepFact`] (real package, rename) |
//! | `crate_owners.csv` | `crate_id`, `owner_id`, `owner_kind` | [`OwnerFact`] |
//! | `users.csv` | `id`, `username` | user owners, publishers |
//! | `teams.csv` | `id`, `login` (`github:org:team`) | team owners |
//!
//! `crates`, `versions`, `users` and `teams` rows deserialize into the `db-dump` crate's row
//! types, so its schema is the one accepted: its column names (a dump older than `db-dump` 0.10
//! knows, with `users.gh_login` or `versions.checksum`, is rejected with the column named), its
//! timestamp and `t`/`f` formats and its fixes for the four historic non-semver version numbers.
//! Its timestamps are chrono values, converted to [`jiff::Timestamp`] here. `dependencies`
//! (tens of millions of rows) and `crate_owners` (whose `db-dump` row type is not
//! deserializable from outside that crate) use local subsets of the same columns that borrow
//! from the CSV record: no allocation per row beyond the facts themselves, and each distinct
//! requirement text is validated once. `db-dump`'s own loader is not used: it reads a path only,
//! so it can neither cap the decompressed size nor refuse hostile member names, and it prints
//! unknown member names to stderr.
//!
//! # Hostile archives
//! - Nothing is unpacked: members are read as byte streams and nothing is ever written to disk.
//! - At most [`Limits::max_decompressed`] bytes are decompressed ([`DEFAULT_MAX_DECOMPRESSED`],
//!   16 GiB): a gzip bomb ends in an error at the cap (16 GiB of zeros: 4 s, 5 MB of memory),
//!   and a member whose header claims more than the rest of the budget is refused before it is
//!   read. Memory does not grow with the decompressed size: one CSV record is held
//!   at a time and a record longer than [`Limits::max_record`] (64 MiB) is an error. What does
//!   grow is the facts themselves, in proportion to the rows of the six tables.
//! - A member name that is absolute or holds `..`, a link, a device or a FIFO anywhere in the
//!   archive, a table member outside the dump directory, or the same table twice, is an error
//!   naming the member. More than [`Limits::max_members`] members is an error.
//! - GNU long names and PAX headers are applied here rather than by `tar`, which would read one
//!   of any size into memory: each may hold 64 KiB, and a PAX `size` override (the header-size
//!   mismatch of RUSTSEC-2026-0068) is refused.
//! - A member shorter than its header says (a truncated download) is an error, as is corrupt
//!   gzip data; a gzip file of several members is read in full.
//! - Reading stops once the six tables are in: nothing after them (the large
//!   `version_downloads.csv`) is decompressed, so damage past that point goes unnoticed.
//!
//! # Consistency
//! The dump is one database snapshot, so every id a row names must exist: a version, a
//! dependency or an owner naming an unknown crate, version, user or team is an error. A
//! requirement that is not a Cargo requirement (crates.io holds a few from before it checked)
//! is kept as written and counted in [`Dump::notes`], as the graph does for any registry input.

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use csv::StringRecord;
use flate2::read::MultiGzDecoder;
use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::{DepFact, DepKind, Ecosystem, OwnerFact, VersionFact};
use crate::error::{Error, Result};

/// The first two bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Default cap on decompressed bytes: 16 GiB, there to stop a gzip bomb. A genuine dump stays
/// well below it: about 1 GB of compressed CSV, read only up to the end of
/// `dependencies.csv`.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 16 << 30;

/// Everything read from one dump.
#[derive(Debug, Default)]
pub struct Dump {
    /// Every version, with its dependencies (`deps_known` is always true: the dump lists every
    /// requirement of every version), publication time and publisher login.
    pub versions: Vec<VersionFact>,
    /// Crate ownership: user logins and team logins (`github:org:team`), sorted.
    pub owners: Vec<OwnerFact>,
    /// Crates marked trusted-publishing-only (`crates.trustpub_only`), sorted: crates.io refuses
    /// API-token publishes for them, so only the configured CI workflow's short-lived OIDC
    /// token can publish. They become [`super::Facts::trustpub_only`]: a stolen API token of
    /// an owner cannot inject into these crates (it can still yank).
    pub trustpub_only: Vec<String>,
    /// Things worth saying about the input (unparseable historic requirements).
    pub notes: Vec<String>,
}

/// Caps that keep a hostile archive from exhausting time, memory or patience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Decompressed bytes read from the gzip stream, headers and skipped members included.
    pub max_decompressed: u64,
    /// Bytes of one CSV record (a row, quoted newlines included).
    pub max_record: u64,
    /// Members of the archive (a real dump has about 30).
    pub max_members: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
            max_record: 64 << 20,
            max_members: 100_000,
        }
    }
}

/// True when `first_bytes` start a gzip stream and the first member of the tar archive inside
/// lies under a `YYYY-MM-DD-HHMMSS/` directory, as in every crates.io database dump. Reads at
/// most 1 MiB of decompressed data.
pub fn looks_like_dump(path: &Path, first_bytes: &[u8]) -> bool {
    if !first_bytes.starts_with(&GZIP_MAGIC) {
        return false;
    }
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut archive = tar::Archive::new(MultiGzDecoder::new(BufReader::new(file)).take(1 << 20));
    let Ok(mut entries) = archive.entries() else {
        return false;
    };
    match entries.next() {
        Some(Ok(entry)) => dump_dir(&entry.path_bytes()).is_some(),
        _ => false,
    }
}

/// Reads a dump with the default [`Limits`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; otherwise [`Error::Parse`] located as
/// `DISPLAY: data/TABLE.csv:LINE` (or without a line) for a truncated or corrupt archive, a
/// limit reached, a hostile member, a missing table, a row that does not parse, or an id that
/// names nothing.
pub fn read(path: &Path, display: &str) -> Result<Dump> {
    read_with(path, display, &Limits::default())
}

/// [`read`] with explicit limits.
///
/// # Errors
/// As [`read`].
pub fn read_with(path: &Path, display: &str, limits: &Limits) -> Result<Dump> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let stream = Metered {
        inner: MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file)),
        used: 0,
        limit: limits.max_decompressed,
    };
    let mut archive = tar::Archive::new(stream);
    let whole = |message: String| Error::Parse {
        location: display.to_owned(),
        message,
    };
    let mut tables = Tables::default();
    let mut dir: Option<String> = None;
    let mut members = 0u64;
    // Raw entries: tar would read a GNU long name or a PAX header of any size into memory, so
    // those are read here, within a small cap, and applied to the member that follows.
    let entries = archive
        .entries()
        .map_err(|e| whole(archive_message(&e)))?
        .raw(true);
    let mut long_name: Option<Vec<u8>> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| whole(archive_message(&e)))?;
        members += 1;
        if members > limits.max_members {
            return Err(whole(format!(
                "more than {} members; a crates.io database dump has about 30",
                limits.max_members
            )));
        }
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions()
        {
            let data = extension(&mut entry).map_err(whole)?;
            if kind.is_gnu_longname() {
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                long_name = Some(data[..end].to_vec());
            } else if kind.is_pax_local_extensions() {
                for ext in tar::PaxExtensions::new(&data) {
                    let ext =
                        ext.map_err(|e| whole(format!("a PAX header does not parse: {e}")))?;
                    match ext.key_bytes() {
                        b"path" => long_name = Some(ext.value_bytes().to_vec()),
                        b"size" => {
                            return Err(whole(
                                "a PAX header overrides a member's size; refusing the archive"
                                    .into(),
                            ))
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        let raw = long_name
            .take()
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let name = String::from_utf8_lossy(&raw).into_owned();
        let parts = safe_parts(&raw).ok_or_else(|| {
            whole(format!(
                "member {name:?} has an unsafe name (absolute, `..`, a backslash or not UTF-8); \
                 refusing the archive"
            ))
        })?;
        if !(kind.is_file() || kind.is_dir()) {
            return Err(whole(format!(
                "member {name:?} is a {}, not a regular file or directory; refusing the archive",
                type_name(kind)
            )));
        }
        let top = match &dir {
            Some(d) => d.clone(),
            None => {
                let Some(d) = dump_dir(&raw) else {
                    return Err(whole(format!(
                        "not a crates.io database dump: the first member {name:?} is not under a \
                         YYYY-MM-DD-HHMMSS/ directory"
                    )));
                };
                dir = Some(d.to_owned());
                d.to_owned()
            }
        };
        let Some(table) = table_of(&parts) else {
            continue;
        };
        let member = format!("data/{}", table.file());
        if parts[0] != top {
            return Err(whole(format!(
                "member {name:?} is outside the dump directory {top}/; refusing the archive"
            )));
        }
        if !kind.is_file() {
            return Err(whole(format!(
                "member {name:?} is a directory, expected the {member} table"
            )));
        }
        if tables.seen[table as usize] {
            return Err(whole(format!(
                "{member} appears twice in the archive (again as {name:?})"
            )));
        }
        tables.seen[table as usize] = true;
        let size = entry.size();
        let used = entry.raw_file_position();
        if size > limits.max_decompressed.saturating_sub(used) {
            return Err(whole(format!(
                "{member}: its header claims {size} bytes, over the decompressed-data limit of {}",
                human(limits.max_decompressed)
            )));
        }
        let loc = Loc {
            display,
            member: &member,
        };
        read_rows(&mut entry, size, table, limits, &loc, |parsed, line| {
            tables.apply(parsed, line, &loc)
        })?;
        tables.done[table as usize] = true;
        if tables.done.iter().all(|&d| d) {
            break;
        }
    }
    if dir.is_none() {
        return Err(whole(
            "not a crates.io database dump: the archive is empty".into(),
        ));
    }
    if let Some(t) = Table::ALL.iter().find(|t| !tables.done[**t as usize]) {
        return Err(whole(format!(
            "not a complete crates.io database dump: no data/{} (truncated download?)",
            t.file()
        )));
    }
    tables.finish(display)
}

/// The six tables read, in the order of [`Table::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Crates,
    Users,
    Teams,
    CrateOwners,
    Versions,
    Dependencies,
}

impl Table {
    const ALL: [Table; 6] = [
        Table::Crates,
        Table::Users,
        Table::Teams,
        Table::CrateOwners,
        Table::Versions,
        Table::Dependencies,
    ];

    fn file(self) -> &'static str {
        match self {
            Table::Crates => "crates.csv",
            Table::Users => "users.csv",
            Table::Teams => "teams.csv",
            Table::CrateOwners => "crate_owners.csv",
            Table::Versions => "versions.csv",
            Table::Dependencies => "dependencies.csv",
        }
    }

    /// Columns whose absence from the header is reported before any row is read.
    fn required(self) -> &'static [&'static str] {
        match self {
            Table::Crates => &["id", "name"],
            Table::Users => &["id", "username"],
            Table::Teams => &["id", "login"],
            Table::CrateOwners => &["crate_id", "owner_id", "owner_kind"],
            Table::Versions => &["id", "crate_id", "num", "yanked", "created_at"],
            Table::Dependencies => &[
                "version_id",
                "crate_id",
                "req",
                "optional",
                "target",
                "kind",
            ],
        }
    }
}

/// The data of a GNU long-name or PAX extension member, at most 64 KiB.
fn extension<R: Read>(entry: &mut tar::Entry<'_, R>) -> std::result::Result<Vec<u8>, String> {
    const MAX: u64 = 64 << 10;
    if entry.size() > MAX {
        return Err(format!(
            "an extension header (long name or PAX) of {} bytes, over the 64 KiB limit; \
             refusing the archive",
            entry.size()
        ));
    }
    let mut data = Vec::new();
    entry
        .take(MAX)
        .read_to_end(&mut data)
        .map_err(|e| archive_message(&e))?;
    Ok(data)
}

/// `DIR/data/TABLE.csv` → the table, for the six tables read.
fn table_of(parts: &[&str]) -> Option<Table> {
    let [_, "data", file] = parts else {
        return None;
    };
    Table::ALL.into_iter().find(|t| t.file() == *file)
}

/// The components of a member name (a leading `./` dropped), or `None` when the name is
/// absolute, holds `..` or a backslash, or is not UTF-8: no genuine dump has such a name.
fn safe_parts(raw: &[u8]) -> Option<Vec<&str>> {
    let name = std::str::from_utf8(raw).ok()?;
    if name.starts_with('/') || name.contains('\\') {
        return None;
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return None;
    }
    Some(parts)
}

/// The dump directory (`2025-09-08-020031`) a member name starts with, if it has that shape.
fn dump_dir(raw: &[u8]) -> Option<&str> {
    let name = std::str::from_utf8(raw).ok()?;
    let first = name.split('/').find(|p| !p.is_empty() && *p != ".")?;
    let b = first.as_bytes();
    let shape = b.len() == 17
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 | 10 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    shape.then_some(first)
}

fn type_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char | tar::EntryType::Block => "device",
        tar::EntryType::Fifo => "FIFO",
        tar::EntryType::GNUSparse => "sparse file",
        _ => "special member",
    }
}

/// Where a row or table problem is: `DISPLAY: data/TABLE.csv[:LINE]`.
struct Loc<'a> {
    display: &'a str,
    member: &'a str,
}

impl Loc<'_> {
    fn at(&self, line: u64, message: String) -> Error {
        Error::Parse {
            location: format!("{}: {}:{}", self.display, self.member, line),
            message,
        }
    }

    fn whole(&self, message: String) -> Error {
        Error::Parse {
            location: format!("{}: {}", self.display, self.member),
            message,
        }
    }
}

/// A limit was reached; carried inside an [`io::Error`] through flate2, tar and csv.
#[derive(Debug)]
struct LimitHit(String);

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitHit {}

/// `1 GiB`, `64 MiB`, or bytes.
fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The decompressed stream, cut off with an error one byte past the limit.
struct Metered<R> {
    inner: R,
    used: u64,
    limit: u64,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.limit - self.used;
        if left == 0 {
            let mut probe = [0u8; 1];
            if buf.is_empty() || self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            return Err(io::Error::other(LimitHit(format!(
                "decompressed data exceeds the {} limit (a whole crates.io dump is several GiB: a gzip bomb?)",
                human(self.limit)
            ))));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.used += n as u64;
        Ok(n)
    }
}

/// One member's bytes, counted in total (to notice truncation) and since the last complete
/// record (to cap the memory one record can take).
struct Guard<'c, R> {
    inner: R,
    total: &'c Cell<u64>,
    since_record: &'c Cell<u64>,
    ended: &'c Cell<bool>,
    max_record: u64,
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended.set(true);
        }
        self.total.set(self.total.get() + n as u64);
        let since = self.since_record.get() + n as u64;
        self.since_record.set(since);
        if since > self.max_record {
            return Err(io::Error::other(LimitHit(format!(
                "a record is longer than the {} limit for one row",
                human(self.max_record)
            ))));
        }
        Ok(n)
    }
}

/// Why the archive could not be read, for an I/O error out of flate2 or tar.
fn archive_message(e: &io::Error) -> String {
    if let Some(hit) = e.get_ref().and_then(|i| i.downcast_ref::<LimitHit>()) {
        return hit.to_string();
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            format!("the archive ends early (truncated download?): {e}")
        }
        _ => format!("cannot read the archive (truncated or corrupt?): {e}"),
    }
}

/// Streams the rows of one member through `each(record, headers, line)`, after checking that
/// the header names the columns `table` needs; then checks that the member was read in full.
fn read_rows(
    entry: impl Read,
    size: u64,
    table: Table,
    limits: &Limits,
    loc: &Loc<'_>,
    mut apply: impl FnMut(Parsed, u64) -> Result<()>,
) -> Result<()> {
    let total = Cell::new(0u64);
    let since_record = Cell::new(0u64);
    let ended = Cell::new(false);
    let guard = Guard {
        inner: entry,
        total: &total,
        since_record: &since_record,
        ended: &ended,
        max_record: limits.max_record,
    };
    // The last row of a cut member fails to parse before the cut is noticed: say "truncated".
    let truncated = || {
        loc.whole(format!(
            "the archive ends inside this member: its header declares {size} bytes, {} could be \
             read (truncated download?)",
            total.get()
        ))
    };
    let short = || ended.get() && total.get() < size;
    let mut csv = csv::ReaderBuilder::new().from_reader(guard);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(_) if short() => return Err(truncated()),
        Err(e) => return Err(csv_error(loc, &e, None, None)),
    };
    if headers.iter().all(str::is_empty) {
        return Err(loc.whole(if size == 0 {
            "empty member; expected a CSV header line".into()
        } else {
            "expected a CSV header line, found an empty line".into()
        }));
    }
    for col in table.required() {
        if !headers.iter().any(|h| h == *col) {
            let have: Vec<&str> = headers.iter().collect();
            return Err(loc.at(
                1,
                format!(
                    "expected a column `{col}` in the header, found {}; this dump's schema is not the \
                     one blastradius reads (db-dump 0.10)",
                    have.join(",")
                ),
            ));
        }
    }
    // Rows are read in batches; a batch is parsed in parallel (the deserializing is most of
    // the work) and applied in order, so the first error is the first by line, as before.
    use rayon::prelude::*;
    const BATCH: usize = 16 * 1024;
    let mut batch: Vec<(StringRecord, u64)> = Vec::with_capacity(BATCH);
    let mut parse_and_apply = |batch: &mut Vec<(StringRecord, u64)>| -> Result<()> {
        let parsed: Vec<Result<Parsed>> = batch
            .par_iter()
            .with_min_len(256)
            .map(|(rec, line)| parse_row(table, rec, &headers, *line, loc))
            .collect();
        for (p, (_, line)) in parsed.into_iter().zip(batch.iter()) {
            match p.and_then(|p| apply(p, *line)) {
                Err(_) if short() => return Err(truncated()),
                r => r?,
            }
        }
        batch.clear();
        Ok(())
    };
    loop {
        since_record.set(0);
        let mut record = StringRecord::new();
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) if short() => {
                parse_and_apply(&mut batch)?;
                return Err(truncated());
            }
            Err(e) => {
                // Rows before the bad one may hold an earlier error.
                parse_and_apply(&mut batch)?;
                return Err(csv_error(loc, &e, Some(&headers), None));
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        batch.push((record, line));
        if batch.len() == BATCH {
            parse_and_apply(&mut batch)?;
        }
    }
    parse_and_apply(&mut batch)?;
    drop(csv);
    if total.get() != size {
        return Err(truncated());
    }
    Ok(())
}

/// A CSV or deserialization error as `LOCATION: what was expected, found what`.
fn csv_error(
    loc: &Loc<'_>,
    e: &csv::Error,
    headers: Option<&StringRecord>,
    record: Option<&StringRecord>,
) -> Error {
    let line = e.position().map(csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => {
            let m = archive_message(io);
            return match line {
                Some(l) => loc.at(l, m),
                None => loc.whole(m),
            };
        }
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "expected UTF-8 text, found invalid UTF-8 in field {}",
            err.field() + 1
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields (as in the header), found {len}"),
        csv::ErrorKind::Deserialize { err, .. } => {
            let what = err.kind().to_string();
            // csv knows the field of its own parse errors only; db-dump's messages quote the
            // value instead, which names the column.
            let field = err
                .field()
                .and_then(|f| usize::try_from(f).ok())
                .or_else(|| field_named_by(&what, record?, headers?));
            let column = field.and_then(|f| headers?.get(f));
            let found = field.and_then(|f| record?.get(f));
            match (column, found) {
                (Some(c), Some(v)) => format!(
                    "column `{c}`: expected {}, found {v:?} ({what})",
                    expected(c)
                ),
                (Some(c), None) => format!("column `{c}`: {what}"),
                _ => {
                    let hint =
                        if what.starts_with("unknown field") || what.starts_with("missing field") {
                            "; this dump's schema is not the one blastradius reads (db-dump 0.10)"
                        } else {
                            ""
                        };
                    format!("{what}{hint}")
                }
            }
        }
        _ => e.to_string(),
    };
    match line {
        Some(l) => loc.at(l, message),
        None => loc.whole(message),
    }
}

/// The field whose value a deserialization message quotes (`invalid value: string "x"`,
/// ``unknown variant `x` ``) or ends with (`…: x`), when exactly one field fits.
fn field_named_by(message: &str, record: &StringRecord, headers: &StringRecord) -> Option<usize> {
    let fits = |quoted: bool| {
        let hits: Vec<usize> = record
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .filter(|(_, v)| {
                if quoted {
                    message.contains(&format!("{v:?}"))
                        || message.contains(&format!("unknown variant `{v}`"))
                } else {
                    message.ends_with(&format!(": {v}"))
                }
            })
            .map(|(i, _)| i)
            .collect();
        // `num` and `num_no_build` often hold the same text; only `num` is checked.
        let checked: Vec<usize> = hits
            .iter()
            .copied()
            .filter(|&i| headers.get(i).is_some_and(|h| expected(h) != UNSPECIFIED))
            .collect();
        match (&hits[..], &checked[..]) {
            ([one], _) | (_, [one]) => Some(*one),
            _ => None,
        }
    };
    fits(true).or_else(|| fits(false))
}

/// What a column holds, for error messages.
fn expected(column: &str) -> &'static str {
    match column {
        "num" => "a semver version",
        "req" => "a Cargo version requirement",
        "created_at" | "updated_at" => "a timestamp `YYYY-MM-DD HH:MM:SS[.ffffff]`",
        "yanked" | "optional" | "default_features" | "trustpub_only" | "has_lib" => "`t` or `f`",
        "kind" => "a dependency kind (0 normal, 1 build, 2 dev)",
        "owner_kind" => "an owner kind (0 user, 1 team)",
        c if c == "id" || c.ends_with("_id") || c == "published_by" || c == "created_by" => {
            "an unsigned integer id"
        }
        "features" => "a JSON object of features",
        "categories" | "keywords" | "bin_names" => "a `{a,b}` set",
        c if c.ends_with("sha256") => "a `\\x`-prefixed SHA-256 in hex",
        _ => UNSPECIFIED,
    }
}

/// [`expected`] of a column it knows nothing particular about.
const UNSPECIFIED: &str = "a value of the dump's format";

/// Subset of one row of `dependencies.csv` (the columns of db-dump's `dependencies::Row`),
/// borrowed from the record.
#[derive(Deserialize)]
struct DepRow<'a> {
    version_id: u32,
    crate_id: u32,
    req: &'a str,
    optional: &'a str,
    target: &'a str,
    kind: u8,
    #[serde(default)]
    explicit_name: Option<&'a str>,
}

/// Subset of one row of `crate_owners.csv`.
#[derive(Deserialize)]
struct OwnerRow {
    crate_id: u32,
    owner_id: u32,
    owner_kind: u8,
}

/// One version, kept compact until the tables it refers to are all in.
struct VersionRow {
    crate_id: u32,
    num: String,
    yanked: bool,
    published: jiff::Timestamp,
    published_by: Option<u32>,
    line: u64,
}

/// One dependency read before `crates.csv` or `versions.csv` (never in a real dump, whose
/// tables come in topological order): resolved at the end.
struct PendingDep {
    line: u64,
    version_id: u32,
    crate_id: u32,
    req: u32,
    target: Option<Box<str>>,
    rename: Option<Box<str>>,
    kind: DepKind,
    optional: bool,
}

/// Owner kinds of `crate_owners.owner_kind`.
#[derive(Clone, Copy)]
enum OwnerKind {
    User,
    Team,
}

/// The tables as they come in.
#[derive(Default)]
struct Tables {
    seen: [bool; 6],
    done: [bool; 6],
    /// Crate id → index into `crate_names`.
    crate_ix: FxHashMap<u32, u32>,
    crate_names: Vec<String>,
    trustpub_only: Vec<String>,
    users: FxHashMap<u32, String>,
    teams: FxHashMap<u32, String>,
    owners: Vec<(u64, u32, OwnerKind, u32)>,
    /// Version id → index into `versions` and `deps`.
    version_ix: FxHashMap<u32, u32>,
    versions: Vec<VersionRow>,
    deps: Vec<Vec<DepFact>>,
    pending: Vec<PendingDep>,
    /// Distinct requirement texts, each validated once.
    req_ix: FxHashMap<String, u32>,
    /// Each text (corrected) and whether it parses as a Cargo requirement.
    reqs: Vec<(String, bool)>,
    /// The first requirements that are not Cargo requirements: (version index, crate index of
    /// the dependency, requirement index).
    bad_reqs: Vec<(u32, u32, u32)>,
    bad_req_count: u64,
}

/// One CSV row, parsed and checked on its own: what [`Tables::apply`] adds to the tables.
/// Parsing needs no table, so a batch of rows is parsed in parallel and applied in order.
enum Parsed {
    Crate {
        id: u32,
        name: String,
        trustpub_only: bool,
    },
    User {
        id: u32,
        login: String,
    },
    Team {
        id: u32,
        login: String,
    },
    Owner {
        crate_id: u32,
        kind: OwnerKind,
        owner_id: u32,
    },
    Version {
        id: u32,
        row: VersionRow,
    },
    Dep {
        req: String,
        dep: PendingDep,
    },
}

/// Parses one row of `table` (`line` is its line in the member).
fn parse_row(
    table: Table,
    rec: &StringRecord,
    headers: &StringRecord,
    line: u64,
    loc: &Loc<'_>,
) -> Result<Parsed> {
    let de_err = |e: csv::Error| csv_error(loc, &e, Some(headers), Some(rec));
    Ok(match table {
        Table::Crates => {
            let row: db_dump::crates::Row = rec.deserialize(Some(headers)).map_err(de_err)?;
            Parsed::Crate {
                id: row.id.0,
                name: row.name,
                trustpub_only: row.trustpub_only,
            }
        }
        Table::Users => {
            let row: db_dump::users::Row = rec.deserialize(Some(headers)).map_err(de_err)?;
            Parsed::User {
                id: row.id.0,
                login: row.username,
            }
        }
        Table::Teams => {
            let row: db_dump::teams::Row = rec.deserialize(Some(headers)).map_err(de_err)?;
            Parsed::Team {
                id: row.id.0,
                login: row.login,
            }
        }
        Table::CrateOwners => {
            let row: OwnerRow = rec.deserialize(Some(headers)).map_err(de_err)?;
            let kind = match row.owner_kind {
                0 => OwnerKind::User,
                1 => OwnerKind::Team,
                k => {
                    return Err(loc.at(
                        line,
                        format!("column `owner_kind`: expected 0 (user) or 1 (team), found {k}"),
                    ))
                }
            };
            Parsed::Owner {
                crate_id: row.crate_id,
                kind,
                owner_id: row.owner_id,
            }
        }
        Table::Versions => {
            let row: db_dump::versions::Row = rec.deserialize(Some(headers)).map_err(de_err)?;
            let t = row.created_at;
            let published = jiff::Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32)
                .map_err(|e| {
                    loc.at(
                        line,
                        format!("column `created_at`: expected a time jiff can hold: {e}"),
                    )
                })?;
            Parsed::Version {
                id: row.id.0,
                row: VersionRow {
                    crate_id: row.crate_id.0,
                    num: row.num.to_string(),
                    yanked: row.yanked,
                    published,
                    published_by: row.published_by.map(|u| u.0),
                    line,
                },
            }
        }
        Table::Dependencies => {
            let row: DepRow<'_> = rec.deserialize(Some(headers)).map_err(de_err)?;
            let kind = match row.kind {
                0 => DepKind::Normal,
                1 => DepKind::Build,
                2 => DepKind::Dev,
                k => {
                    return Err(loc.at(
                        line,
                        format!(
                            "column `kind`: expected 0 (normal), 1 (build) or 2 (dev), found {k}"
                        ),
                    ))
                }
            };
            let optional = match row.optional {
                "t" => true,
                "f" => false,
                v => {
                    return Err(loc.at(
                        line,
                        format!("column `optional`: expected `t` or `f`, found {v:?}"),
                    ))
                }
            };
            Parsed::Dep {
                req: row.req.to_owned(),
                dep: PendingDep {
                    line,
                    version_id: row.version_id,
                    crate_id: row.crate_id,
                    req: 0,
                    target: (!row.target.is_empty()).then(|| row.target.into()),
                    rename: row.explicit_name.filter(|n| !n.is_empty()).map(Into::into),
                    kind,
                    optional,
                },
            }
        }
    })
}

impl Tables {
    /// Adds one parsed row; the checks that need the tables (ids seen twice) are made here.
    fn apply(&mut self, parsed: Parsed, line: u64, loc: &Loc<'_>) -> Result<()> {
        match parsed {
            Parsed::Crate {
                id,
                name,
                trustpub_only,
            } => {
                let ix = self.crate_names.len() as u32;
                if self.crate_ix.insert(id, ix).is_some() {
                    return Err(loc.at(line, format!("crate id {id} appears twice")));
                }
                if trustpub_only {
                    self.trustpub_only.push(name.clone());
                }
                self.crate_names.push(name);
            }
            Parsed::User { id, login } => {
                if self.users.insert(id, login).is_some() {
                    return Err(loc.at(line, format!("user id {id} appears twice")));
                }
            }
            Parsed::Team { id, login } => {
                if self.teams.insert(id, login).is_some() {
                    return Err(loc.at(line, format!("team id {id} appears twice")));
                }
            }
            Parsed::Owner {
                crate_id,
                kind,
                owner_id,
            } => self.owners.push((line, crate_id, kind, owner_id)),
            Parsed::Version { id, row } => {
                let ix = self.versions.len() as u32;
                if self.version_ix.insert(id, ix).is_some() {
                    return Err(loc.at(line, format!("version id {id} appears twice")));
                }
                self.versions.push(row);
                self.deps.push(Vec::new());
            }
            Parsed::Dep { req, mut dep } => {
                dep.req = self.req(&req);
                if self.done[Table::Crates as usize] && self.done[Table::Versions as usize] {
                    self.attach(dep, loc)?;
                } else {
                    self.pending.push(dep);
                }
            }
        }
        Ok(())
    }

    /// The index of a requirement text, validated the first time it is seen. The four historic
    /// texts db-dump corrects are corrected the same way.
    fn req(&mut self, text: &str) -> u32 {
        if let Some(&i) = self.req_ix.get(text) {
            return i;
        }
        let fixed = match text {
            "^0-.11.0" => "^0.11.0",
            "^0.1-alpha.0" => "^0.1.0-alpha.0",
            "^0.51-oldsyn" => "^0.51.1-oldsyn",
            "~2.0-2.2" => ">=2.0, <=2.2",
            t => t,
        };
        let i = self.reqs.len() as u32;
        let valid = semver::VersionReq::parse(fixed).is_ok();
        self.reqs.push((fixed.to_owned(), valid));
        self.req_ix.insert(text.to_owned(), i);
        i
    }

    /// Turns a dependency row into a [`DepFact`] of its version.
    fn attach(&mut self, d: PendingDep, loc: &Loc<'_>) -> Result<()> {
        let Some(&v) = self.version_ix.get(&d.version_id) else {
            return Err(loc.at(
                d.line,
                format!(
                    "column `version_id`: version id {} is not in data/versions.csv",
                    d.version_id
                ),
            ));
        };
        let Some(&c) = self.crate_ix.get(&d.crate_id) else {
            return Err(loc.at(
                d.line,
                format!(
                    "column `crate_id`: crate id {} is not in data/crates.csv",
                    d.crate_id
                ),
            ));
        };
        let (req, valid) = &self.reqs[d.req as usize];
        if !valid {
            self.bad_req_count += 1;
            if self.bad_reqs.len() < 10 {
                self.bad_reqs.push((v, c, d.req));
            }
        }
        self.deps[v as usize].push(DepFact {
            package: self.crate_names[c as usize].as_str().into(),
            req: req.as_str().into(),
            kind: d.kind,
            optional: d.optional,
            target: d.target,
            rename: d.rename,
        });
        Ok(())
    }

    fn finish(mut self, display: &str) -> Result<Dump> {
        let deps_loc = Loc {
            display,
            member: "data/dependencies.csv",
        };
        for d in std::mem::take(&mut self.pending) {
            self.attach(d, &deps_loc)?;
        }
        let versions_loc = Loc {
            display,
            member: "data/versions.csv",
        };
        let mut versions = Vec::with_capacity(self.versions.len());
        for (row, mut deps) in self.versions.iter().zip(std::mem::take(&mut self.deps)) {
            // Tens of millions of dependencies: the slack of doubling is worth giving back.
            deps.shrink_to_fit();
            let name = self.crate_name(row.crate_id, row.line, &versions_loc)?;
            let publisher = match row.published_by {
                None => None,
                Some(u) => Some(self.users.get(&u).cloned().ok_or_else(|| {
                    versions_loc.at(
                        row.line,
                        format!("column `published_by`: user id {u} is not in data/users.csv"),
                    )
                })?),
            };
            versions.push(VersionFact {
                ecosystem: Ecosystem::CratesIo,
                name: name.to_owned(),
                version: row.num.clone(),
                yanked: row.yanked,
                published: Some(row.published),
                deps,
                publisher,
                deps_known: true,
                install_script: false,
            });
        }
        let owners_loc = Loc {
            display,
            member: "data/crate_owners.csv",
        };
        let mut owners = Vec::with_capacity(self.owners.len());
        for &(line, crate_id, kind, owner) in &self.owners {
            let package = self.crate_name(crate_id, line, &owners_loc)?.to_owned();
            let (table, logins) = match kind {
                OwnerKind::User => ("users", &self.users),
                OwnerKind::Team => ("teams", &self.teams),
            };
            let account = logins.get(&owner).cloned().ok_or_else(|| {
                owners_loc.at(
                    line,
                    format!(
                        "column `owner_id`: {} id {owner} is not in data/{table}.csv",
                        &table[..4]
                    ),
                )
            })?;
            owners.push(OwnerFact {
                ecosystem: Ecosystem::CratesIo,
                account,
                package,
            });
        }
        owners.sort();
        owners.dedup();
        let mut notes = Vec::new();
        if self.bad_req_count > 0 {
            let examples: Vec<String> = self
                .bad_reqs
                .iter()
                .map(|&(v, c, r)| {
                    let row = &self.versions[v as usize];
                    let of = self
                        .crate_ix
                        .get(&row.crate_id)
                        .map_or("?", |&i| self.crate_names[i as usize].as_str());
                    format!(
                        "{of}@{} → {} {:?}",
                        row.num, self.crate_names[c as usize], self.reqs[r as usize].0
                    )
                })
                .collect();
            notes.push(format!(
                "{display}: {} dependency requirements could not be parsed as Cargo requirements \
                 and match no version (first {}: {})",
                self.bad_req_count,
                examples.len(),
                examples.join(", ")
            ));
        }
        let mut trustpub_only = self.trustpub_only;
        trustpub_only.sort();
        Ok(Dump {
            versions,
            owners,
            trustpub_only,
            notes,
        })
    }

    fn crate_name(&self, id: u32, line: u64, loc: &Loc<'_>) -> Result<&str> {
        self.crate_ix
            .get(&id)
            .map(|&i| self.crate_names[i as usize].as_str())
            .ok_or_else(|| {
                loc.at(
                    line,
                    format!("column `crate_id`: crate id {id} is not in data/crates.csv"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert_eq!(
            dump_dir(b"2025-09-08-020031/data/crates.csv"),
            Some("2025-09-08-020031")
        );
        assert_eq!(dump_dir(b"./2025-09-08-020031/"), Some("2025-09-08-020031"));
        assert_eq!(dump_dir(b"2025-09-08/data/crates.csv"), None);
        assert_eq!(dump_dir(b"x025-09-08-020031/README.md"), None);
        assert_eq!(
            safe_parts(b"2025-09-08-020031/data/crates.csv"),
            Some(vec!["2025-09-08-020031", "data", "crates.csv"])
        );
        assert_eq!(safe_parts(b"/etc/crates.csv"), None);
        assert_eq!(safe_parts(b"2025-09-08-020031/../../x/crates.csv"), None);
        assert_eq!(safe_parts(b"a\\..\\crates.csv"), None);
        assert_eq!(
            table_of(&["2025-09-08-020031", "data", "dependencies.csv"]),
            Some(Table::Dependencies)
        );
        assert_eq!(
            table_of(&["2025-09-08-020031", "data", "version_downloads.csv"]),
            None
        );
        assert_eq!(table_of(&["2025-09-08-020031", "crates.csv"]), None);
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human(16 << 30), "16 GiB");
        assert_eq!(human(64 << 20), "64 MiB");
        assert_eq!(human(1000), "1000 bytes");
    }

    #[test]
    fn metered_stops_one_byte_past_the_limit() {
        let data = [0u8; 100];
        let mut m = Metered {
            inner: &data[..],
            used: 0,
            limit: 10,
        };
        let mut out = Vec::new();
        let err = m.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), 10);
        assert!(
            archive_message(&err).contains("exceeds the 10 bytes limit"),
            "{err}"
        );
        let mut exact = Metered {
            inner: &data[..10],
            used: 0,
            limit: 10,
        };
        let mut out = Vec::new();
        assert_eq!(exact.read_to_end(&mut out).unwrap(), 10);
    }
}
