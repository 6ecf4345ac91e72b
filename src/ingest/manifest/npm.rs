//! package.json: the root requirements a fresh `npm install` resolves, and the one package.json
//! reader of the crate (the yarn.lock reader takes its root requirements from here too).
//!
//! What a fresh build of the root installs, as npm 7+ (arborist) sees it:
//! - `dependencies` → normal;
//! - `optionalDependencies` → normal, optional (installed when they build);
//! - `peerDependencies` → normal (npm 7+ installs peers), optional when
//!   `peerDependenciesMeta[name].optional` is true;
//! - `devDependencies` → dev: a CI build installs them, and the fresh resolution of the root
//!   includes them.
//!
//! A name listed in several sections gets one requirement, as arborist gives the root one edge
//! per name: peers first, then `dependencies`, `optionalDependencies` and `devDependencies`, a
//! later section replacing an earlier one (so a package in both `dependencies` and
//! `devDependencies` is resolved with its dev range, and marked dev).
//!
//! Every spec goes through [`crate::versioning::npm::classify`]: git, GitHub shorthand,
//! `file:`, `link:`, `workspace:` and URL specs are no registry requirement and are left out;
//! an alias `"key": "npm:real@range"` is a requirement on `real` renamed to `key`; an empty
//! range is `*`. A registry spec npm would reject (neither a range nor a dist-tag) is an error,
//! never a silently dropped requirement.
//!
//! Not read: `workspaces` members (a fresh resolution of a workspace root also resolves every
//! member's package.json, which are inputs of their own and not followed from here),
//! `overrides`/`resolutions` (they pin transitive versions; the resolver ignores them, which
//! can only over-report), `bundleDependencies` (shipped inside the tarball, and listed in
//! `dependencies` as well).
//!
//! Like npm, a UTF-8 byte order mark is skipped. Of duplicate keys the last one counts (as in
//! `JSON.parse`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, Result};
use crate::ingest::{DepFact, DepKind, Ecosystem, ManifestFact};
use crate::versioning::npm::{classify, Spec};
use crate::versioning::Requirement;

const PREFIX: &str = "failed to parse package.json:";

/// Parses a package.json into the requirements a fresh `npm install` of it starts from. `id`
/// is the display path (used in errors), `file` the canonical one.
///
/// # Errors
/// Invalid JSON, a document that is not an object, a `name` that is not a string, a dependency
/// section that is not an object, a spec that is not a string, and a registry spec that is
/// neither an npm range nor a dist-tag: each names the file, the line and column, and the JSON
/// path (`dependencies["x"]`).
pub fn parse(id: &str, file: &Path, text: &str) -> Result<ManifestFact> {
    let pj = read(Path::new(id), text, Some(check_spec))?;
    // One edge per name, later sections replacing earlier ones (arborist's `_loadDeps` order).
    let mut edges: BTreeMap<&str, (&str, DepKind, bool)> = BTreeMap::new();
    for (name, spec) in &pj.peer_dependencies {
        let optional = pj.optional_peers.contains(name);
        edges.insert(name, (spec, DepKind::Normal, optional));
    }
    let sections = [
        (&pj.dependencies, DepKind::Normal, false),
        (&pj.optional_dependencies, DepKind::Normal, true),
        (&pj.dev_dependencies, DepKind::Dev, false),
    ];
    for (section, kind, optional) in sections {
        for (name, spec) in section {
            edges.insert(name, (spec, kind, optional));
        }
    }
    let deps = edges
        .into_iter()
        .filter_map(|(key, (spec, kind, optional))| {
            let Spec::Registry { alias_of, range } = classify(spec) else {
                return None;
            };
            let req = if range.trim().is_empty() { "*" } else { range };
            Some(DepFact {
                package: alias_of.unwrap_or(key).to_owned().into(),
                req: req.to_owned().into(),
                kind,
                optional,
                target: None,
                rename: alias_of.map(|_| key.to_owned()).map(Into::into),
            })
        })
        .collect();
    Ok(ManifestFact {
        id: id.to_owned(),
        file: file.to_owned(),
        name: pj.name,
        ecosystem: Ecosystem::Npm,
        deps,
    })
}

/// A spec npm would install from the registry must be a range or a dist-tag; the resolver
/// cannot use anything else, and dropping it would hide a requirement.
fn check_spec(spec: &str) -> std::result::Result<(), String> {
    // `classify` cuts one byte into what follows `npm:`; a non-ASCII character there (never
    // valid in a package name) must not reach it.
    if let Some(rest) = spec.trim().strip_prefix("npm:") {
        if rest.chars().next().is_some_and(|c| !c.is_ascii()) {
            return Err(format!(
                "expected an npm package name after `npm:`, found {}",
                json_excerpt(&spec.into())
            ));
        }
    }
    match classify(spec) {
        Spec::NotRegistry => Ok(()),
        Spec::Registry {
            alias_of: Some(name),
            ..
        } if !plausible_name(name) => Err(format!(
            "expected an npm package name after `npm:`, found {}",
            json_excerpt(&spec.into())
        )),
        Spec::Registry { range, .. } if range.trim_start().starts_with("npm:") => Err(format!(
            "expected a range or dist-tag after the alias, found another alias {}",
            json_excerpt(&spec.into())
        )),
        Spec::Registry { range, .. } => Requirement::parse(Ecosystem::Npm, range).map(drop),
    }
}

/// A name npm could publish: `name` or `@scope/name`, ASCII, no `@` inside, no spaces or
/// `:` (a nested alias `npm:a@npm:b@1` splits into the name `a@npm:b`).
fn plausible_name(name: &str) -> bool {
    let bare = name.strip_prefix('@').unwrap_or(name);
    !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '@' | ':'))
}

// ---------------------------------------------------------------------------------------------
// The shared reader

/// A check applied to every dependency spec while reading, so that its error carries the
/// spec's position.
pub(crate) type SpecCheck = fn(&str) -> std::result::Result<(), String>;

/// What blastradius reads from a package.json: a subset of npm's format, other fields ignored.
/// Each section maps a dependency name to its spec as written, sorted by name.
#[derive(Debug, Default)]
pub(crate) struct PackageJson {
    /// `name`.
    pub(crate) name: Option<String>,
    /// `version`.
    pub(crate) version: Option<String>,
    /// `dependencies`.
    pub(crate) dependencies: BTreeMap<String, String>,
    /// `devDependencies`.
    pub(crate) dev_dependencies: BTreeMap<String, String>,
    /// `optionalDependencies`.
    pub(crate) optional_dependencies: BTreeMap<String, String>,
    /// `peerDependencies`.
    pub(crate) peer_dependencies: BTreeMap<String, String>,
    /// Peers with `peerDependenciesMeta[name].optional == true`.
    pub(crate) optional_peers: BTreeSet<String>,
    /// Declares `workspaces` (any non-null value).
    pub(crate) workspaces: bool,
}

/// Reads a package.json. `shown` is the path errors name; `check`, when given, is applied to
/// every dependency spec.
///
/// # Errors
/// Located errors (`file:line:column`, with the JSON path in the message) for invalid JSON,
/// a non-object document, a non-string `name` or `version`, a dependency section that is not
/// an object (`null` counts as absent), a non-string spec, and a spec `check` rejects.
pub(crate) fn read(shown: &Path, text: &str, check: Option<SpecCheck>) -> Result<PackageJson> {
    // npm strips a UTF-8 byte order mark; serde_json does not.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut de = serde_json::Deserializer::from_str(text);
    let got = Field {
        path: String::new(),
        want: Want::Root(check),
    }
    .deserialize(&mut de)
    .and_then(|got| de.end().map(|()| got))
    .map_err(|e| json_error(shown, &e))?;
    match got {
        Got::Root(pj) => Ok(pj),
        // `Want::Root` only ever yields `Got::Root`.
        _ => Err(Error::parse_in(
            shown,
            format!("{PREFIX} expected a JSON object"),
        )),
    }
}

/// A located error from serde_json (its message without serde_json's own " at line …").
fn json_error(shown: &Path, e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    let what = msg.rfind(" at line ").map_or(&msg[..], |i| &msg[..i]);
    let message = format!("{PREFIX} {what}");
    if e.line() == 0 {
        Error::parse_in(shown, message)
    } else {
        Error::parse_at(shown, e.line(), Some(e.column().max(1)), message)
    }
}

/// What is expected at one place of the document.
#[derive(Clone, Copy)]
enum Want {
    /// The document: an object.
    Root(Option<SpecCheck>),
    /// A string field (`name`, `version`); `null` counts as absent.
    Text,
    /// A dependency section: an object of name → spec strings; `null` counts as absent.
    Section(Option<SpecCheck>),
    /// One dependency spec: a string, checked when a check is given.
    Spec(Option<SpecCheck>),
}

/// What was read for a [`Want`].
enum Got {
    Root(PackageJson),
    Text(Option<String>),
    Section(BTreeMap<String, String>),
    Spec(String),
}

/// One place of the document: its JSON path (for messages) and what it should hold.
struct Field {
    path: String,
    want: Want,
}

impl Field {
    fn at(path: &str, want: Want) -> Self {
        Field {
            path: path.to_owned(),
            want,
        }
    }

    fn expected(&self) -> &'static str {
        match self.want {
            Want::Root(_) => "a JSON object",
            Want::Text => "a string",
            Want::Section(_) => "an object of package names to version ranges",
            Want::Spec(_) => "a version range string",
        }
    }

    /// The "expected …, found …" error for a value of the wrong type.
    fn wrong<E: de::Error>(&self, found: impl fmt::Display) -> E {
        let place = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.path)
        };
        E::custom(format_args!(
            "{place}expected {}, found {found}",
            self.expected()
        ))
    }
}

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Got;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Got, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Field {
    type Value = Got;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Got, E> {
        Err(self.wrong(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Got, E> {
        Err(self.wrong(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Got, E> {
        Err(self.wrong(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Got, E> {
        Err(self.wrong(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Got, E> {
        match self.want {
            Want::Text => Ok(Got::Text(Some(v.to_owned()))),
            Want::Spec(check) => {
                if let Some(check) = check {
                    check(v).map_err(|why| E::custom(format_args!("{}: {why}", self.path)))?;
                }
                Ok(Got::Spec(v.to_owned()))
            }
            _ => Err(self.wrong(json_excerpt(&serde_json::Value::from(v)))),
        }
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Got, E> {
        match self.want {
            Want::Root(_) | Want::Spec(_) => Err(self.wrong("null")),
            Want::Text => Ok(Got::Text(None)),
            Want::Section(_) => Ok(Got::Section(BTreeMap::new())),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<Got, A::Error> {
        Err(self.wrong("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Got, A::Error> {
        match self.want {
            Want::Root(check) => {
                let mut pj = PackageJson::default();
                while let Some(key) = map.next_key::<String>()? {
                    let section = |name: &str| Field::at(name, Want::Section(check));
                    let got = match key.as_str() {
                        "name" | "version" => map.next_value_seed(Field::at(&key, Want::Text))?,
                        "dependencies"
                        | "devDependencies"
                        | "optionalDependencies"
                        | "peerDependencies" => map.next_value_seed(section(&key))?,
                        "peerDependenciesMeta" => {
                            // Lenient, as npm is (`meta[name]?.optional`): only `true` counts.
                            let meta: serde_json::Value = map.next_value()?;
                            pj.optional_peers = meta
                                .as_object()
                                .into_iter()
                                .flatten()
                                .filter(|(_, m)| m.get("optional") == Some(&true.into()))
                                .map(|(name, _)| name.clone())
                                .collect();
                            continue;
                        }
                        "workspaces" => {
                            let w: serde_json::Value = map.next_value()?;
                            pj.workspaces = !w.is_null();
                            continue;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    match (key.as_str(), got) {
                        ("name", Got::Text(t)) => pj.name = t,
                        ("version", Got::Text(t)) => pj.version = t,
                        ("dependencies", Got::Section(s)) => pj.dependencies = s,
                        ("devDependencies", Got::Section(s)) => pj.dev_dependencies = s,
                        ("optionalDependencies", Got::Section(s)) => pj.optional_dependencies = s,
                        ("peerDependencies", Got::Section(s)) => pj.peer_dependencies = s,
                        _ => {}
                    }
                }
                Ok(Got::Root(pj))
            }
            Want::Text | Want::Spec(_) => Err(self.wrong("an object")),
            Want::Section(check) => {
                let mut out = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    // The spec is read through its own seed so that an error is positioned at
                    // the spec, not at the end of the section.
                    let path = format!("{}[{}]", self.path, json_excerpt(&name.as_str().into()));
                    if let Got::Spec(spec) =
                        map.next_value_seed(Field::at(&path, Want::Spec(check)))?
                    {
                        out.insert(name, spec);
                    }
                }
                Ok(Got::Section(out))
            }
        }
    }
}

/// A JSON value as it would be written, cut short: registry strings are hostile and may be
/// long; JSON escaping keeps control characters out of the message.
fn json_excerpt(v: &serde_json::Value) -> String {
    const MAX: usize = 60;
    let s = v.to_string();
    if s.chars().count() <= MAX {
        return s;
    }
    let cut: String = s.chars().take(MAX).collect();
    format!("{cut}…")
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

    fn renamed(package: &str, req: &str, kind: DepKind, rename: &str) -> DepFact {
        DepFact {
            rename: Some(rename.into()),
            ..dep(package, req, kind, false)
        }
    }

    #[test]
    fn plain() {
        let m = load("plain.package.json").unwrap();
        assert_eq!(m.name.as_deref(), Some("acme-web"));
        assert_eq!(m.ecosystem, Ecosystem::Npm);
        assert_eq!(m.id, format!("{DIR}/plain.package.json"));
        assert_eq!(
            m.deps,
            [
                dep("chalk", "^5.3.0", DepKind::Normal, false),
                dep("debug", "~4.3.4", DepKind::Normal, false),
                dep("jest", "^29.7.0", DepKind::Dev, false),
                dep("left-pad", "1.3.0", DepKind::Normal, false),
            ]
        );
    }

    #[test]
    fn specs_sections_and_aliases() {
        let m = load("specs.package.json").unwrap();
        assert_eq!(m.name, None);
        assert_eq!(
            m.deps,
            [
                dep("@types/node", "*", DepKind::Dev, false),
                dep("any", "*", DepKind::Normal, false),
                renamed("strip-ansi", "^6.0.1", DepKind::Normal, "color-strip"),
                dep("fsevents", "^2.3.3", DepKind::Normal, true),
                dep("is-ci", "latest", DepKind::Normal, false),
                renamed("@types/ms", "^0.7.31", DepKind::Dev, "ms-types"),
                dep("react", "^18.0.0 || ^19.0.0", DepKind::Normal, false),
                dep("react-dom", ">=18", DepKind::Normal, true),
                // Also under `dependencies` as ^4.17.0: devDependencies comes last and wins.
                dep("shared", "^4.18.0", DepKind::Dev, false),
                renamed("ms", "*", DepKind::Normal, "tiny-ms"),
            ]
        );
    }

    #[test]
    fn byte_order_mark_and_empty_object() {
        let m = parse("p.json", Path::new("p.json"), "\u{feff}{}").unwrap();
        assert!(m.deps.is_empty() && m.name.is_none());
        let m = parse(
            "p.json",
            Path::new("p.json"),
            r#"{"name": null, "dependencies": null, "devDependencies": {}}"#,
        )
        .unwrap();
        assert!(m.deps.is_empty() && m.name.is_none());
    }

    #[test]
    fn array_section_is_located() {
        let e = err("invalid/array-deps.package.json");
        assert_eq!(
            e,
            format!("{DIR}/invalid/array-deps.package.json:3:19: {PREFIX} dependencies: expected an object of package names to version ranges, found an array")
        );
    }

    #[test]
    fn number_spec_is_located() {
        let e = err("invalid/number-spec.package.json");
        assert_eq!(
            e,
            format!("{DIR}/invalid/number-spec.package.json:5:14: {PREFIX} devDependencies[\"jest\"]: expected a version range string, found 29")
        );
    }

    #[test]
    fn invalid_json_is_located() {
        let e = err("invalid/invalid.package.json");
        assert_eq!(
            e,
            format!("{DIR}/invalid/invalid.package.json:4:3: {PREFIX} key must be a string")
        );
    }

    #[test]
    fn bad_range_is_located() {
        let e = err("invalid/bad-range.package.json");
        assert!(
            e.starts_with(&format!(
                "{DIR}/invalid/bad-range.package.json:4:24: {PREFIX} optionalDependencies[\"@acme/x\"]: expected an npm semver range"
            )),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_inline() {
        let e = |text: &str| {
            parse("p/package.json", Path::new("x"), text)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("[]"),
            format!("p/package.json:1:2: {PREFIX} expected a JSON object, found an array")
        );
        assert_eq!(
            e(r#"{"name": 7}"#),
            format!("p/package.json:1:10: {PREFIX} name: expected a string, found 7")
        );
        assert_eq!(
            e(r#"{"peerDependencies": "react"}"#),
            format!("p/package.json:1:28: {PREFIX} peerDependencies: expected an object of package names to version ranges, found \"react\"")
        );
        assert_eq!(
            e("{\"dependencies\": {\"a\\u0007\": {\"version\": \"1\"}}}"),
            format!("p/package.json:1:30: {PREFIX} dependencies[\"a\\u0007\"]: expected a version range string, found an object")
        );
        assert_eq!(
            e("{} x"),
            format!("p/package.json:1:4: {PREFIX} trailing characters")
        );
    }

    #[test]
    fn odd_aliases_are_refused_without_panicking() {
        let e = |spec: &str| {
            let text = format!(
                "{{\"dependencies\": {{\"a\": {}}}}}",
                serde_json::Value::from(spec)
            );
            parse("p/package.json", Path::new("x"), &text)
                .unwrap_err()
                .to_string()
        };
        assert!(e("npm:\u{e9}@1").contains("expected an npm package name after `npm:`"));
        assert!(e("npm:b@npm:\u{e9}@1").contains("expected an npm package name after `npm:`"));
        assert!(e("npm:b@npm:c").contains("found another alias"));
        assert!(e("npm:b@npm:c@1").contains("expected an npm package name after `npm:`"));
    }

    #[test]
    fn no_prefix_panics() {
        crate::ingest::manifest::test_support::every_prefix(
            &["plain.package.json", "specs.package.json"],
            parse,
        );
    }

    #[test]
    fn shared_reader_keeps_every_section_apart() {
        let pj = read(
            Path::new("p"),
            r#"{"name": "n", "version": "1.0.0", "workspaces": ["a/*"],
                "dependencies": {"b": "^1", "a": "file:../a"},
                "peerDependencies": {"p": "2"},
                "peerDependenciesMeta": {"p": {"optional": true}, "q": 3},
                "optionalDependencies": {"o": "^^bad"}}"#,
            None,
        )
        .unwrap();
        assert_eq!(pj.name.as_deref(), Some("n"));
        assert_eq!(pj.version.as_deref(), Some("1.0.0"));
        assert!(pj.workspaces);
        assert_eq!(
            pj.dependencies.keys().collect::<Vec<_>>(),
            ["a", "b"],
            "sorted by name"
        );
        assert_eq!(pj.optional_dependencies["o"], "^^bad", "no check asked for");
        assert!(pj.optional_peers.contains("p") && pj.optional_peers.len() == 1);
    }
}
