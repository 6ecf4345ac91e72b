//! pyproject.toml: the requirements a fresh `pip install` / `uv sync` / `poetry install` of the
//! project starts from.
//!
//! Two ways to declare them, read the same way:
//! - PEP 621 `[project]`: `dependencies` (PEP 508 strings) are normal; every
//!   `[project.optional-dependencies]` extra is kept and marked optional (a CI build may
//!   install extras); PEP 735 `[dependency-groups]` and uv's `[tool.uv] dev-dependencies` are
//!   dev requirements.
//! - Poetry's `[tool.poetry.dependencies]` (without `python`), with `[tool.poetry.dev-dependencies]`
//!   and `[tool.poetry.group.<g>.dependencies]` as dev requirements (a group declared
//!   `optional = true` is marked optional; the group `main` is the main dependencies). Poetry
//!   constraints are translated into PEP 440 specifiers by [`poetry_to_pep440`]. Poetry 2 reads
//!   `[tool.poetry.dependencies]` only when `[project]` has no `dependencies` or lists them in
//!   `dynamic`; so does this reader.
//!
//! Every requirement becomes a [`DepFact`] on the PEP 503 name with its specifiers joined by
//! commas (`>=2.0,<3`; empty admits everything). Environment markers never drop a requirement
//! (a Windows-only dependency is still a way in): the marker is kept as `target`, and a marker
//! that mentions `extra` marks the requirement optional. Not registry requirements, left out:
//! URL requirements (`pkg @ https://…`), Poetry `path`/`git`/`url` dependencies, and names
//! that `[tool.uv.sources]` takes from git, a path, a URL or the workspace. A Poetry `source`
//! or a uv `index` keeps the requirement: a private index commonly proxies PyPI.
//!
//! A `[project]` whose `dependencies` or `optional-dependencies` are `dynamic` (computed by a
//! build backend from another file) without a `[tool.poetry]` to take them from is an error:
//! an empty list would read as "depends on nothing". Requested extras of a dependency
//! (`requests[socks]`) are not expanded here; they are the dependency's own metadata.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::error::{line_col, Error, Result};
use crate::ingest::lockfile::python::{normalise_name, pep508, pep508_markers_guard, prefixed};
use crate::ingest::{DepFact, DepKind, Ecosystem, ManifestFact};
use crate::versioning::Requirement;

const WHAT: &str = "pyproject.toml";
const PREFIX: &str = "failed to parse pyproject.toml:";

/// Parses a pyproject.toml into the requirements a fresh install of the project starts from.
/// `id` is the display path (used in errors), `file` the canonical one.
///
/// # Errors
/// Invalid TOML; neither `[project]` nor `[tool.poetry]`; a value of the wrong type; a PEP 508
/// string or Poetry constraint that does not parse; dynamic dependencies without Poetry. Each
/// names the file and, where there is one, the line and column of the offending value.
pub fn parse(id: &str, file: &Path, text: &str) -> Result<ManifestFact> {
    let shown = Path::new(id);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = DeTable::parse(text).map_err(|e| {
        prefixed(
            crate::ingest::lockfile::cargo::toml_error(shown, text, &e),
            WHAT,
        )
    })?;
    let mut r = Reader {
        shown,
        text,
        deps: Vec::new(),
        not_registry: BTreeSet::new(),
    };
    let root = doc.get_ref();
    let project = r.opt_table(root, "project", "project")?;
    let tool = r.opt_table(root, "tool", "tool")?;
    let poetry = match tool {
        Some(t) => r.opt_table(t, "poetry", "tool.poetry")?,
        None => None,
    };
    let uv = match tool {
        Some(t) => r.opt_table(t, "uv", "tool.uv")?,
        None => None,
    };
    if project.is_none() && poetry.is_none() {
        return Err(Error::parse_in(
            shown,
            format!("{PREFIX} expected a `[project]` table (PEP 621) or a `[tool.poetry]` table (Poetry) naming the project's dependencies, found neither"),
        ));
    }
    if let Some(sources) = uv.and_then(|uv| uv.get("sources")) {
        r.uv_sources(sources);
    }

    let name = match project.and_then(|p| p.get("name")) {
        Some(n) => Some(r.string(n, "project.name")?),
        None => match poetry.and_then(|p| p.get("name")) {
            Some(n) => Some(r.string(n, "tool.poetry.name")?),
            None => None,
        },
    }
    .map(|n| normalise_name(&n));

    let mut poetry_main = poetry.is_some();
    if let Some(project) = project {
        let dynamic = match project.get("dynamic") {
            Some(d) => r.strings(d, "project.dynamic")?,
            None => Vec::new(),
        };
        // Poetry fills dynamic dependencies from `[tool.poetry.dependencies]` and dynamic
        // extras from the optional ones there; any other backend from a file not read here.
        let poetry_fills = |field: &str| match field {
            "dependencies" => poetry.is_some_and(|p| p.contains_key("dependencies")),
            _ => poetry.is_some(),
        };
        for field in ["dependencies", "optional-dependencies"] {
            if poetry_fills(field) {
                continue;
            }
            if let Some((_, span)) = dynamic.iter().find(|(s, _)| s == field) {
                return Err(r.error(
                    span.clone(),
                    format!("`project.dynamic` lists {field:?}: a build backend computes them from another file, so a fresh build's requirements cannot be read here (expected a static `project.{field}`, or Poetry's `[tool.poetry.dependencies]`)"),
                ));
            }
        }
        let dynamic_deps = dynamic.iter().any(|(s, _)| s == "dependencies");
        if let Some(deps) = project.get("dependencies") {
            r.pep508_list(deps, "project.dependencies", DepKind::Normal, false)?;
            poetry_main &= dynamic_deps;
        }
        if let Some(extras) = project.get("optional-dependencies") {
            let extras = r.table(extras, "project.optional-dependencies")?;
            for (extra, list) in sorted(extras) {
                let path = format!("project.optional-dependencies.{extra}");
                r.pep508_list(list, &path, DepKind::Normal, true)?;
            }
        }
    }
    if let Some(poetry) = poetry {
        if poetry_main {
            if let Some(deps) = poetry.get("dependencies") {
                r.poetry_deps(deps, "tool.poetry.dependencies", DepKind::Normal, false)?;
            }
        }
        if let Some(deps) = poetry.get("dev-dependencies") {
            r.poetry_deps(deps, "tool.poetry.dev-dependencies", DepKind::Dev, false)?;
        }
        if let Some(groups) = poetry.get("group") {
            let groups = r.table(groups, "tool.poetry.group")?;
            for (group, body) in sorted(groups) {
                let path = format!("tool.poetry.group.{group}");
                let body = r.table(body, &path)?;
                let optional = match body.get("optional") {
                    Some(o) => r.boolean(o, &format!("{path}.optional"))?,
                    None => false,
                };
                let kind = if group == "main" {
                    DepKind::Normal
                } else {
                    DepKind::Dev
                };
                if let Some(deps) = body.get("dependencies") {
                    r.poetry_deps(deps, &format!("{path}.dependencies"), kind, optional)?;
                }
            }
        }
    }
    if let Some(groups) = root.get("dependency-groups") {
        let groups = r.table(groups, "dependency-groups")?;
        for (group, list) in sorted(groups) {
            let path = format!("dependency-groups.{group}");
            let items = r.array(list, &path)?;
            for (i, item) in items.iter().enumerate() {
                match item.get_ref() {
                    // `{include-group = "x"}`: the included group is read on its own.
                    DeValue::Table(_) => {}
                    _ => r.pep508_item(item, &format!("{path}[{i}]"), DepKind::Dev, false)?,
                }
            }
        }
    }
    if let Some(dev) = uv.and_then(|uv| uv.get("dev-dependencies")) {
        r.pep508_list(dev, "tool.uv.dev-dependencies", DepKind::Dev, false)?;
    }
    Ok(ManifestFact {
        id: id.to_owned(),
        file: file.to_owned(),
        name,
        ecosystem: Ecosystem::Pypi,
        deps: r.deps,
    })
}

/// A table's entries sorted by key, whatever order the TOML map keeps.
fn sorted<'t, 'i>(t: &'t DeTable<'i>) -> Vec<(&'t str, &'t Spanned<DeValue<'i>>)> {
    let mut v: Vec<_> = t.iter().map(|(k, v)| (k.get_ref().as_ref(), v)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

struct Reader<'a> {
    shown: &'a Path,
    text: &'a str,
    deps: Vec<DepFact>,
    /// PEP 503 names `[tool.uv.sources]` takes from outside the registry.
    not_registry: BTreeSet<String>,
}

type Value<'i> = Spanned<DeValue<'i>>;

impl Reader<'_> {
    fn error(&self, span: Range<usize>, message: String) -> Error {
        let (line, col) = line_col(self.text, span.start);
        Error::parse_at(self.shown, line, Some(col), format!("{PREFIX} {message}"))
    }

    fn wrong(&self, v: &Value<'_>, path: &str, expected: &str) -> Error {
        self.error(
            v.span(),
            format!(
                "`{path}`: expected {expected}, found {}",
                v.get_ref().type_str()
            ),
        )
    }

    fn table<'t, 'i>(&self, v: &'t Value<'i>, path: &str) -> Result<&'t DeTable<'i>> {
        v.get_ref()
            .as_table()
            .ok_or_else(|| self.wrong(v, path, "a table"))
    }

    fn opt_table<'t, 'i>(
        &self,
        t: &'t DeTable<'i>,
        key: &str,
        path: &str,
    ) -> Result<Option<&'t DeTable<'i>>> {
        t.get(key).map(|v| self.table(v, path)).transpose()
    }

    fn array<'t, 'i>(&self, v: &'t Value<'i>, path: &str) -> Result<&'t [Value<'i>]> {
        match v.get_ref() {
            DeValue::Array(a) => Ok(a),
            _ => Err(self.wrong(v, path, "an array")),
        }
    }

    fn string(&self, v: &Value<'_>, path: &str) -> Result<String> {
        v.get_ref()
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.wrong(v, path, "a string"))
    }

    fn boolean(&self, v: &Value<'_>, path: &str) -> Result<bool> {
        v.get_ref()
            .as_bool()
            .ok_or_else(|| self.wrong(v, path, "a boolean"))
    }

    fn strings(&self, v: &Value<'_>, path: &str) -> Result<Vec<(String, Range<usize>)>> {
        self.array(v, path)?
            .iter()
            .enumerate()
            .map(|(i, s)| Ok((self.string(s, &format!("{path}[{i}]"))?, s.span())))
            .collect()
    }

    /// Where byte `at` of a string value's content is in the file: exact for a one-line
    /// string without escapes, else the value's start.
    fn inside(&self, v: &Value<'_>, content: &str, at: usize) -> Range<usize> {
        let span = v.span();
        let raw = self.text.get(span.clone()).unwrap_or("");
        let plain = raw.len() == content.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && &raw[1..raw.len() - 1] == content;
        if plain {
            span.start + 1 + at..span.end
        } else {
            span
        }
    }

    /// Names `[tool.uv.sources]` takes from git, a path, a URL or the workspace (every source
    /// of a name, when it lists several). Read leniently: what is not understood keeps the
    /// requirement, the conservative reading.
    fn uv_sources(&mut self, sources: &Value<'_>) {
        let Some(sources) = sources.get_ref().as_table() else {
            return;
        };
        let local = |s: &DeValue<'_>| {
            s.as_table().is_some_and(|t| {
                ["git", "path", "url", "workspace"]
                    .iter()
                    .any(|k| t.contains_key(*k))
            })
        };
        for (name, source) in sources {
            let all_local = match source.get_ref() {
                DeValue::Array(a) => !a.is_empty() && a.iter().all(|s| local(s.get_ref())),
                other => local(other),
            };
            if all_local {
                self.not_registry.insert(normalise_name(name.get_ref()));
            }
        }
    }

    fn pep508_list(
        &mut self,
        v: &Value<'_>,
        path: &str,
        kind: DepKind,
        optional: bool,
    ) -> Result<()> {
        let items = self.array(v, path)?;
        for (i, item) in items.iter().enumerate() {
            self.pep508_item(item, &format!("{path}[{i}]"), kind, optional)?;
        }
        Ok(())
    }

    /// One PEP 508 string.
    fn pep508_item(
        &mut self,
        v: &Value<'_>,
        path: &str,
        kind: DepKind,
        optional: bool,
    ) -> Result<()> {
        let s = self.string(v, path)?;
        let req = pep508(&s).map_err(|(at, why)| {
            self.error(
                self.inside(v, &s, at),
                format!("`{path}`: invalid requirement {s:?}: {why} (expected PEP 508, e.g. `requests>=2.31; python_version >= \"3.9\"`)"),
            )
        })?;
        let specifiers = match &req.version_or_url {
            Some(pep508_rs::VersionOrUrl::Url(_)) => return Ok(()),
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => specs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            None => String::new(),
        };
        let package = normalise_name(req.name.as_ref());
        if self.not_registry.contains(&package) {
            return Ok(());
        }
        self.check_req(v, path, &specifiers)?;
        // The marker as written (after the first `;`, which no specifier or extra contains).
        let target = s
            .split_once(';')
            .map(|(_, m)| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        self.deps.push(DepFact {
            package: package.into(),
            req: specifiers.into(),
            kind,
            optional: optional || mentions_extra(&req.marker),
            target: target.map(Into::into),
            rename: None,
        });
        Ok(())
    }

    fn check_req(&self, v: &Value<'_>, path: &str, req: &str) -> Result<()> {
        Requirement::parse(Ecosystem::Pypi, req)
            .map(drop)
            .map_err(|why| self.error(v.span(), format!("`{path}`: {why}")))
    }

    /// A Poetry dependency table (`name = constraint | {…} | [{…}, …]`).
    fn poetry_deps(
        &mut self,
        v: &Value<'_>,
        path: &str,
        kind: DepKind,
        optional: bool,
    ) -> Result<()> {
        let table = self.table(v, path)?;
        for (name, spec) in sorted(table) {
            if name == "python" {
                continue;
            }
            let package = normalise_name(name);
            let path = format!("{path}.{name}");
            match spec.get_ref() {
                DeValue::Array(a) => {
                    for (i, one) in a.iter().enumerate() {
                        let path = format!("{path}[{i}]");
                        let t = self.table(one, &path)?;
                        self.poetry_table(&package, t, &path, kind, optional)?;
                    }
                }
                DeValue::Table(t) => self.poetry_table(&package, t, &path, kind, optional)?,
                DeValue::String(c) => {
                    for req in self.poetry_constraint(spec, c, &path)? {
                        self.deps.push(DepFact {
                            package: package.clone().into(),
                            req: req.into(),
                            kind,
                            optional,
                            target: None,
                            rename: None,
                        });
                    }
                }
                _ => {
                    return Err(self.wrong(
                        spec,
                        &path,
                        "a version constraint string, a table or an array of tables",
                    ))
                }
            }
        }
        Ok(())
    }

    /// `{version = "^1.2", optional = true, markers = "…", python = "…", platform = "…"}`;
    /// `path`, `git` and `url` dependencies are not registry requirements.
    fn poetry_table(
        &mut self,
        package: &str,
        t: &DeTable<'_>,
        path: &str,
        kind: DepKind,
        optional: bool,
    ) -> Result<()> {
        if ["path", "git", "url"].iter().any(|k| t.contains_key(*k)) {
            return Ok(());
        }
        let reqs = match t.get("version") {
            Some(v) => {
                let c = self.string(v, &format!("{path}.version"))?;
                self.poetry_constraint(v, &c, &format!("{path}.version"))?
            }
            None => vec![String::new()],
        };
        let optional = optional
            || match t.get("optional") {
                Some(o) => self.boolean(o, &format!("{path}.optional"))?,
                None => false,
            };
        let mut marker = Vec::new();
        let mut extra = false;
        if let Some(m) = t.get("markers") {
            let text = self.string(m, &format!("{path}.markers"))?;
            let invalid = |at: usize, why: &dyn std::fmt::Display| {
                self.error(
                    self.inside(m, &text, at.min(text.len())),
                    format!("`{path}.markers`: invalid environment marker {text:?}: {why}"),
                )
            };
            // pep508_rs 0.9 panics on some non-ASCII markers: refused before it sees them.
            if let Some((at, why)) = pep508_markers_guard(&text) {
                return Err(invalid(at, &why));
            }
            let tree = pep508_rs::MarkerTree::parse_str::<pep508_rs::VerbatimUrl>(&text)
                .map_err(|e| invalid(e.start, &e.message))?;
            extra = mentions_extra(&tree);
            marker.push(text);
        }
        if let Some(p) = t.get("python") {
            let c = self.string(p, &format!("{path}.python"))?;
            let alternatives = self.poetry_constraint(p, &c, &format!("{path}.python"))?;
            if let Some(m) = python_marker(&alternatives) {
                marker.push(m);
            }
        }
        if let Some(p) = t.get("platform") {
            let platform = self.string(p, &format!("{path}.platform"))?;
            marker.push(format!("sys_platform == {platform:?}"));
        }
        let target = match marker.len() {
            0 => None,
            1 => marker.pop(),
            _ => Some(
                marker
                    .iter()
                    .map(|m| {
                        if m.contains(" or ") {
                            format!("({m})")
                        } else {
                            m.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" and "),
            ),
        };
        for req in reqs {
            self.deps.push(DepFact {
                package: package.to_owned().into(),
                req: req.into(),
                kind,
                optional: optional || extra,
                target: target.clone().map(Into::into),
                rename: None,
            });
        }
        Ok(())
    }

    /// Translates and checks a Poetry constraint; its error points at the constraint.
    fn poetry_constraint(&self, v: &Value<'_>, c: &str, path: &str) -> Result<Vec<String>> {
        poetry_to_pep440(c).map_err(|why| {
            self.error(
                v.span(),
                format!("`{path}`: expected a Poetry version constraint (`^1.2`, `~1.2.3`, `>=1,<2`, `1.2.*`, `*`), found {c:?}: {why}"),
            )
        })
    }
}

/// Whether a marker depends on `extra`: the requirement is only installed with an extra.
fn mentions_extra(m: &pep508_rs::MarkerTree) -> bool {
    m.to_dnf()
        .iter()
        .flatten()
        .any(|e| matches!(e, pep508_rs::MarkerExpression::Extra { .. }))
}

/// A Poetry `python = "…"` restriction as a PEP 508 marker; `None` when it admits every
/// version.
fn python_marker(alternatives: &[String]) -> Option<String> {
    if alternatives.iter().any(String::is_empty) {
        return None;
    }
    let parts: Vec<String> = alternatives
        .iter()
        .map(|alt| {
            let terms: Vec<String> = alt
                .split(',')
                .map(|s| {
                    let op_end = s
                        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!' | '~'))
                        .unwrap_or(s.len());
                    format!("python_version {} {:?}", &s[..op_end], &s[op_end..])
                })
                .collect();
            if terms.len() > 1 && alternatives.len() > 1 {
                format!("({})", terms.join(" and "))
            } else {
                terms.join(" and ")
            }
        })
        .collect();
    Some(parts.join(" or "))
}

/// Translates a Poetry version constraint into PEP 440 specifier lists, one per `||`
/// alternative (PEP 440 has no "or"; each alternative is its own requirement, which can only
/// over-report). An empty string admits every version.
///
/// | Poetry | PEP 440 |
/// |---|---|
/// | `^1.2.3` / `^0.2.3` / `^0.0.3` | `>=1.2.3,<2.0.0` / `>=0.2.3,<0.3.0` / `>=0.0.3,<0.0.4` |
/// | `~1.2.3` / `~1.2` / `~1` | `>=1.2.3,<1.3.0` / `>=1.2,<1.3` / `>=1,<2` |
/// | `*`, `x`, empty | (empty) |
/// | `1.2.3` / `=1.2.3` | `==1.2.3` |
/// | `1.2.*` | `==1.2.*` |
/// | `>=1.2, <2` / `>=1.2 <2` | `>=1.2,<2` |
/// | `~=1.2`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `===` | as written |
///
/// Caret and tilde bounds keep the precision written (`^1.2` → `<2.0`), as Poetry does.
///
/// # Errors
/// What could not be read: an empty alternative, an operator without a version, an unknown
/// operator, and a translation [`Requirement::parse`] refuses as PEP 440.
pub fn poetry_to_pep440(constraint: &str) -> std::result::Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for alt in constraint.replace("||", "|").split('|') {
        let alt = alt.trim();
        if alt.is_empty() && constraint.contains('|') {
            return Err("an empty alternative around `||`".to_owned());
        }
        let mut specs: Vec<String> = Vec::new();
        for term in terms(alt)? {
            if let Some(s) = single(&term)? {
                specs.push(s);
            }
        }
        let s = specs.join(",");
        Requirement::parse(Ecosystem::Pypi, &s)
            .map_err(|why| format!("reads as {s:?}, which is not valid PEP 440: {why}"))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.iter().any(String::is_empty) {
        out = vec![String::new()];
    }
    Ok(out)
}

/// The AND-ed terms of one alternative: separated by commas or spaces, an operator written
/// apart from its version (`>= 1.2`) joined back to it.
fn terms(alt: &str) -> std::result::Result<Vec<String>, String> {
    let is_op = |t: &str| !t.is_empty() && t.chars().all(|c| "<>=!~^".contains(c));
    let mut out: Vec<String> = Vec::new();
    let mut pending: Option<&str> = None;
    for tok in alt.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        match pending.take() {
            Some(op) => out.push(format!("{op}{tok}")),
            None if is_op(tok) => pending = Some(tok),
            None => out.push(tok.to_owned()),
        }
    }
    if let Some(op) = pending {
        return Err(format!("`{op}` without a version"));
    }
    Ok(out)
}

/// One term; `None` admits every version.
fn single(term: &str) -> std::result::Result<Option<String>, String> {
    let t = term.trim();
    if t.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.')) {
        return Ok(None);
    }
    let op_end = t.find(|c: char| !"<>=!~^".contains(c)).unwrap_or(t.len());
    let (op, rest) = t.split_at(op_end);
    let version = strip_v(rest.trim());
    if version.is_empty() {
        return Err(format!("`{op}` without a version"));
    }
    let wildcard = version.ends_with(".*") || version.ends_with(".x") || version.ends_with(".X");
    let spec = match op {
        "^" | "~" => {
            let v: pep440_rs::Version = version
                .parse()
                .map_err(|e| format!("{version:?} is not a version: {e}"))?;
            let release = v.release();
            let bump = match (op, release) {
                ("^", [major, ..]) if *major > 0 => 0,
                ("^", [_]) => 0,
                ("^", [_, minor, ..]) if *minor > 0 => 1,
                ("^", [_, _]) => 1,
                ("^", _) => 2,
                (_, [_]) => 0,
                _ => 1,
            };
            let upper: Vec<u64> = release
                .iter()
                .enumerate()
                .map(|(i, &n)| match i.cmp(&bump) {
                    std::cmp::Ordering::Less => n,
                    std::cmp::Ordering::Equal => n.saturating_add(1),
                    std::cmp::Ordering::Greater => 0,
                })
                .collect();
            let upper = pep440_rs::Version::new(upper).with_epoch(v.epoch());
            format!(">={v},<{upper}")
        }
        "" | "=" | "==" if wildcard => format!("=={}.*", &version[..version.len() - 2]),
        "!=" if wildcard => format!("!={}.*", &version[..version.len() - 2]),
        "" | "=" => format!("=={version}"),
        "<>" => format!("!={version}"),
        "~=" | "==" | "===" | "!=" | "<" | "<=" | ">" | ">=" => format!("{op}{version}"),
        _ => return Err(format!("unknown operator `{op}`")),
    };
    Ok(Some(spec))
}

/// Poetry accepts a `v` before a version (`v1.2`).
fn strip_v(s: &str) -> &str {
    match s.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::manifest::test_support::{dep, DIR};

    fn load(name: &str) -> Result<ManifestFact> {
        crate::ingest::manifest::test_support::load(name, parse)
    }

    fn err(name: &str) -> String {
        load(name).unwrap_err().to_string()
    }

    fn on(target: &str, d: DepFact) -> DepFact {
        DepFact {
            target: Some(target.into()),
            ..d
        }
    }

    use DepKind::{Dev, Normal};

    #[test]
    fn poetry_translation_table() {
        let cases: &[(&str, &[&str])] = &[
            ("^1.2.3", &[">=1.2.3,<2.0.0"]),
            ("^0.2.3", &[">=0.2.3,<0.3.0"]),
            ("^0.0.3", &[">=0.0.3,<0.0.4"]),
            ("^1.2", &[">=1.2,<2.0"]),
            ("^1", &[">=1,<2"]),
            ("^0", &[">=0,<1"]),
            ("^0.0", &[">=0.0,<0.1"]),
            ("^0.2", &[">=0.2,<0.3"]),
            ("^2.0.0b1", &[">=2.0.0b1,<3.0.0"]),
            ("~1.2.3", &[">=1.2.3,<1.3.0"]),
            ("~1.2", &[">=1.2,<1.3"]),
            ("~1", &[">=1,<2"]),
            ("~0.0.3", &[">=0.0.3,<0.1.0"]),
            ("*", &[""]),
            ("", &[""]),
            ("x", &[""]),
            ("1.2.3", &["==1.2.3"]),
            ("v1.2.3", &["==1.2.3"]),
            ("=1.2.3", &["==1.2.3"]),
            ("1.2.*", &["==1.2.*"]),
            ("1.2.x", &["==1.2.*"]),
            ("!=1.3.*", &["!=1.3.*"]),
            ("==2.31.0", &["==2.31.0"]),
            ("~=1.4.2", &["~=1.4.2"]),
            (">=1.2,<2", &[">=1.2,<2"]),
            (">=1.2, <2", &[">=1.2,<2"]),
            (">= 1.2 < 2", &[">=1.2,<2"]),
            (">1.0 !=1.5", &[">1.0,!=1.5"]),
            ("===1.0+local", &["===1.0+local"]),
            ("^1.2 || ^2.0", &[">=1.2,<2.0", ">=2.0,<3.0"]),
            ("^1.2|^2.0", &[">=1.2,<2.0", ">=2.0,<3.0"]),
            ("^1.2 || *", &[""]),
            ("  ^1.2.3  ", &[">=1.2.3,<2.0.0"]),
        ];
        for (poetry, want) in cases {
            let got = poetry_to_pep440(poetry).unwrap_or_else(|e| panic!("{poetry:?}: {e}"));
            assert_eq!(&got, want, "{poetry:?}");
            for g in &got {
                Requirement::parse(Ecosystem::Pypi, g).unwrap_or_else(|e| panic!("{g:?}: {e}"));
            }
        }
        for bad in ["^", ">=", "^abc", "||", "^1 ||", "%1.2"] {
            assert!(poetry_to_pep440(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn pep621() {
        let m = load("pep621.pyproject.toml").unwrap();
        assert_eq!(m.name.as_deref(), Some("acme-service"));
        assert_eq!(m.ecosystem, Ecosystem::Pypi);
        assert_eq!(
            m.deps,
            [
                dep("requests", ">=2.31,<3", Normal, false),
                dep("pydantic", "~=2.5", Normal, false),
                dep("attrs", "", Normal, false),
                on(
                    "sys_platform == \"win32\"",
                    dep("pywin32", ">=306", Normal, false)
                ),
                on(
                    "python_version < \"3.11\"",
                    dep("tomli", ">=1.1.0", Normal, false)
                ),
                on("extra == \"fast\"", dep("orjson", "", Normal, true)),
                dep("sqlalchemy", "==2.0.*", Normal, true),
                dep("psycopg", ">=3.1", Normal, true),
                dep("uvloop", ">=0.19", Normal, true),
                dep("ruff", "==0.4.4", Dev, false),
                dep("pytest", ">=8", Dev, false),
                dep("mypy", "", Dev, false),
            ]
        );
    }

    #[test]
    fn uv() {
        let m = load("uv.pyproject.toml").unwrap();
        assert_eq!(m.name.as_deref(), Some("acme-worker"));
        assert_eq!(
            m.deps,
            [
                dep("httpx", ">=0.27", Normal, false),
                dep("internal-index-pkg", "==1.0", Normal, false),
                dep("mixed", ">=2", Normal, false),
                dep("black", ">=24.1", Dev, false),
                dep("coverage", "", Dev, false),
            ]
        );
    }

    #[test]
    fn poetry() {
        let m = load("poetry.pyproject.toml").unwrap();
        assert_eq!(m.name.as_deref(), Some("acme-cli"));
        let py38 = "python_version >= \"3.8\" and python_version < \"4.0\"";
        assert_eq!(
            m.deps,
            [
                dep("click", ">=8.1.3,<9.0.0", Normal, false),
                on(
                    "sys_platform == \"win32\"",
                    dep("colorama", ">=0.4,<0.5", Normal, false)
                ),
                on(
                    "python_version >= \"3.9\"",
                    dep("numpy", ">=1.24,<1.25", Normal, false)
                ),
                on(
                    "python_version < \"3.9\"",
                    dep("numpy", ">=1.24,<2", Normal, false)
                ),
                dep("pyyaml", "==6.0.1", Normal, false),
                dep("requests", ">=2.28,<3", Normal, false),
                dep("rich", ">=0.0.3,<0.0.4", Normal, true),
                on(py38, dep("typing-extensions", "", Normal, false)),
                dep("pytest", ">=7.4.0,<8.0.0", Dev, false),
                dep("mkdocs", ">=1.5,<2.0", Dev, true),
                dep("mypy", "==1.8.0", Dev, false),
                dep("ruff", "", Dev, false),
            ]
        );
    }

    #[test]
    fn poetry2_project_dependencies_win() {
        let text = r#"
[project]
name = "p"
dependencies = ["requests>=2"]

[tool.poetry.dependencies]
requests = { source = "corp" }
"#;
        let m = parse("p/pyproject.toml", Path::new("p"), text).unwrap();
        assert_eq!(m.deps, [dep("requests", ">=2", Normal, false)]);
        let dynamic = text.replace(
            "dependencies = [\"requests>=2\"]",
            "dynamic = [\"dependencies\"]",
        );
        let m = parse("p/pyproject.toml", Path::new("p"), &dynamic).unwrap();
        assert_eq!(m.deps, [dep("requests", "", Normal, false)]);
    }

    #[test]
    fn url_and_local_requirements_are_not_registry() {
        let text = r#"
[project]
name = "Weird_Name.pkg"
dependencies = [
  "pip @ https://github.com/pypa/pip/archive/22.0.2.zip",
  "Foo.Bar[x] (>=1.0)",
]
"#;
        let m = parse("p/pyproject.toml", Path::new("p"), text).unwrap();
        assert_eq!(m.name.as_deref(), Some("weird-name-pkg"));
        assert_eq!(m.deps, [dep("foo-bar", ">=1.0", Normal, false)]);
    }

    #[test]
    fn bad_specifier_is_located() {
        let e = err("invalid/bad-specifier.pyproject.toml");
        assert!(
            e.starts_with(&format!(
                "{DIR}/invalid/bad-specifier.pyproject.toml:5:13: {PREFIX} `project.dependencies[1]`: invalid requirement \"requests >=> 2\""
            )),
            "{e}"
        );
    }

    #[test]
    fn bad_poetry_constraint_is_located() {
        let e = err("invalid/bad-poetry.pyproject.toml");
        assert!(
            e.starts_with(&format!(
                "{DIR}/invalid/bad-poetry.pyproject.toml:7:9: {PREFIX} `tool.poetry.dependencies.click`: expected a Poetry version constraint"
            )),
            "{e}"
        );
    }

    #[test]
    fn neither_table_is_an_error() {
        let e = err("invalid/neither.pyproject.toml");
        assert_eq!(
            e,
            format!("{DIR}/invalid/neither.pyproject.toml: {PREFIX} expected a `[project]` table (PEP 621) or a `[tool.poetry]` table (Poetry) naming the project's dependencies, found neither")
        );
    }

    #[test]
    fn invalid_toml_is_located() {
        let e = err("invalid/invalid.pyproject.toml");
        assert!(
            e.starts_with(&format!(
                "{DIR}/invalid/invalid.pyproject.toml:4:1: {PREFIX} "
            )),
            "{e}"
        );
    }

    #[test]
    fn no_prefix_panics() {
        crate::ingest::manifest::test_support::every_prefix(
            &[
                "pep621.pyproject.toml",
                "poetry.pyproject.toml",
                "uv.pyproject.toml",
            ],
            parse,
        );
    }

    #[test]
    fn wrong_types_and_dynamic_are_located() {
        let e = |text: &str| {
            parse("p/pyproject.toml", Path::new("p"), text)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("[project]\ndependencies = \"requests\"\n"),
            format!("p/pyproject.toml:2:16: {PREFIX} `project.dependencies`: expected an array, found string")
        );
        assert_eq!(
            e("[project]\ndependencies = [\"a\", 3]\n"),
            format!("p/pyproject.toml:2:22: {PREFIX} `project.dependencies[1]`: expected a string, found integer")
        );
        assert_eq!(
            e("[tool.poetry.dependencies]\nclick = 8\n"),
            format!("p/pyproject.toml:2:9: {PREFIX} `tool.poetry.dependencies.click`: expected a version constraint string, a table or an array of tables, found integer")
        );
        assert_eq!(
            e("[tool.poetry.dependencies]\nclick = { version = \"^8\", optional = \"yes\" }\n"),
            format!("p/pyproject.toml:2:38: {PREFIX} `tool.poetry.dependencies.click.optional`: expected a boolean, found string")
        );
        assert!(
            e("[project]\nname = \"x\"\ndynamic = [\"version\", \"dependencies\"]\n").starts_with(
                &format!(
                    "p/pyproject.toml:3:23: {PREFIX} `project.dynamic` lists \"dependencies\""
                )
            )
        );
        assert!(
            e("[project]\nname = \"x\"\ndynamic = [\"optional-dependencies\"]\n").starts_with(
                &format!(
                "p/pyproject.toml:3:12: {PREFIX} `project.dynamic` lists \"optional-dependencies\""
            )
            )
        );
        // Poetry without a dependencies table cannot fill dynamic dependencies either.
        assert!(
            e("[project]\nname = \"x\"\ndynamic = [\"dependencies\"]\n[tool.poetry]\n")
                .starts_with(&format!(
                    "p/pyproject.toml:3:12: {PREFIX} `project.dynamic` lists \"dependencies\""
                ))
        );
        assert!(e("project = 3\n").starts_with(&format!(
            "p/pyproject.toml:1:11: {PREFIX} `project`: expected a table"
        )));
    }
}
