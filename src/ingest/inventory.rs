//! The user's inventory TOML (SPEC §3): accounts, credentials, environments and mirrors.
//! It never holds secret values, only labels. Validation is strict because a typo here
//! (`credentails = [...]`) would otherwise turn into a silent "not reached".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::Ecosystem;
use crate::error::{line_col, Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    account: Vec<RawAccount>,
    #[serde(default)]
    credential: Vec<RawCredential>,
    #[serde(default)]
    environment: Vec<RawEnvironment>,
    #[serde(default)]
    mirror: Vec<RawMirror>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: Spanned<String>,
    ecosystem: Spanned<String>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    mfa: Option<bool>,
    #[serde(default)]
    owns: Vec<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredential {
    id: Spanned<String>,
    ecosystem: Spanned<String>,
    kind: Spanned<String>,
    account: Spanned<String>,
    #[serde(default)]
    scopes: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    packages: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    id: Spanned<String>,
    #[serde(default)]
    lockfiles: Vec<Spanned<String>>,
    #[serde(default)]
    credentials: Vec<Spanned<String>>,
    #[serde(default)]
    executes: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMirror {
    id: Spanned<String>,
    ecosystem: Spanned<String>,
    #[serde(default)]
    serves: Vec<String>,
    #[serde(default)]
    honors_yank: bool,
    #[serde(default)]
    syncs: Vec<Spanned<String>>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// What kind of identity an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// A person.
    User,
    /// A registry team.
    Team,
    /// An organisation.
    Org,
    /// A CI identity or bot.
    Ci,
}

/// A registry identity that owns packages and mints credentials.
#[derive(Debug, Clone)]
pub struct Account {
    /// Registry user, team or org name.
    pub id: String,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// User, team, org or CI identity.
    pub kind: AccountKind,
    /// Whether the account enforces a second factor (unknown when absent).
    pub mfa: Option<bool>,
    /// Ownership beyond registry metadata, as glob patterns.
    pub owns: Vec<String>,
}

/// How a credential authenticates; it changes nothing about reach but is shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// A long-lived registry API token.
    ApiToken,
    /// A short-lived token minted by trusted publishing (OIDC).
    TrustedPublisher,
    /// A logged-in web or CLI session.
    Session,
}

/// What a credential may do to a package it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Rights {
    /// Publish a new version of an existing package (inject reach).
    pub publish: bool,
    /// Yank or withdraw versions (disrupt reach).
    pub yank: bool,
}

/// A publishing credential, identified by a label.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The label (never the token).
    pub id: String,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// API token, trusted publisher or session.
    pub kind: CredentialKind,
    /// The account it acts for.
    pub account: String,
    /// Scopes as written (empty when absent: all scopes).
    pub scopes: Vec<String>,
    /// What the scopes allow on covered packages.
    pub rights: Rights,
    /// Package patterns; `None` means every package the account owns.
    pub packages: Option<Vec<String>>,
    /// When it stops working; `None` means never.
    pub expires: Option<jiff::Timestamp>,
}

/// A lockfile reference of an environment: display id and the file on disk.
#[derive(Debug, Clone)]
pub struct LockfileRef {
    /// Display id (the inventory's directory joined with the relative path).
    pub id: String,
    /// Canonical path on disk.
    pub file: PathBuf,
}

/// A place where dependency code runs and credentials are stored.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Label.
    pub id: String,
    /// Lockfiles it installs or builds.
    pub lockfiles: Vec<LockfileRef>,
    /// Credentials it holds.
    pub credentials: Vec<String>,
    /// What runs dependency code there; empty means nothing does (a reached lockfile then
    /// steals nothing).
    pub executes: Vec<String>,
}

/// A proxy, cache or internal registry that copies upstream versions.
#[derive(Debug, Clone)]
pub struct Mirror {
    /// Label.
    pub id: String,
    /// Registry it mirrors.
    pub ecosystem: Ecosystem,
    /// Lockfile path globs, relative to the inventory's directory.
    pub serves: Vec<String>,
    /// Whether it stops serving yanked versions.
    pub honors_yank: bool,
    /// Sync log.
    pub syncs: Vec<jiff::Timestamp>,
    /// Regular sync interval.
    pub interval: Option<jiff::SignedDuration>,
}

/// The whole inventory, validated.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The file, as given.
    pub path: PathBuf,
    /// Canonical directory of the file: inventory paths are relative to it.
    pub dir: PathBuf,
    /// Display prefix for paths it names (the directory as given).
    pub display_dir: PathBuf,
    /// Accounts.
    pub accounts: Vec<Account>,
    /// Credentials.
    pub credentials: Vec<Credential>,
    /// Environments.
    pub environments: Vec<Environment>,
    /// Mirrors.
    pub mirrors: Vec<Mirror>,
}

/// What runs in an environment when `executes` is not written.
pub const DEFAULT_EXECUTES: [&str; 2] = ["install", "build"];
const EXECUTES: [&str; 5] = ["install", "build", "test", "run", "publish"];

/// True when a TOML table is shaped like an inventory.
pub fn looks_like_inventory(table: &toml::Table) -> bool {
    ["account", "credential", "environment", "mirror"]
        .iter()
        .any(|k| table.get(*k).is_some_and(toml::Value::is_array))
}

/// Parses and validates an inventory. `shown` is the path as given; `canonical` the file on
/// disk, used to resolve the paths it names.
pub fn parse(shown: &Path, canonical: &Path, text: &str) -> Result<Inventory> {
    let raw: RawInventory =
        toml::from_str(text).map_err(|e| super::lockfile::cargo::toml_error(shown, text, &e))?;
    let at = |span: std::ops::Range<usize>, msg: String| {
        let (line, col) = line_col(text, span.start);
        Error::parse_at(shown, line, Some(col), msg)
    };
    // Package patterns: `*` is the only wildcard, so anything else that is not a package-name
    // character (`[`, `?`, `{`, a space) is a mistake that would silently match nothing.
    let patterns = |list: &[Spanned<String>]| -> Result<Vec<String>> {
        list.iter()
            .map(|p| {
                let bad = p
                    .get_ref()
                    .chars()
                    .find(|&c| !(c.is_ascii_alphanumeric() || "-_.@/~*".contains(c)));
                match bad {
                    Some(c) => Err(at(
                        p.span(),
                        format!(
                            "expected a package pattern of name characters with `*` as the only \
                             wildcard, found {c:?} in {:?}",
                            p.get_ref()
                        ),
                    )),
                    None => Ok(p.get_ref().clone()),
                }
            })
            .collect()
    };
    let eco = |s: &Spanned<String>| {
        Ecosystem::parse(s.get_ref()).ok_or_else(|| {
            at(
                s.span(),
                format!(
                    "expected ecosystem crates.io, npm or pypi, found {:?}",
                    s.get_ref()
                ),
            )
        })
    };
    let dir = canonical.parent().unwrap_or(Path::new(".")).to_path_buf();
    let display_dir = shown.parent().unwrap_or(Path::new("")).to_path_buf();

    let mut seen = BTreeSet::new();
    let mut unique = |kind: &str, id: &Spanned<String>| {
        if id.get_ref().is_empty() {
            return Err(at(id.span(), format!("{kind} id is empty")));
        }
        if !seen.insert((kind.to_owned(), id.get_ref().clone())) {
            return Err(at(
                id.span(),
                format!("duplicate {kind} id {:?}", id.get_ref()),
            ));
        }
        Ok(())
    };

    let mut accounts = Vec::new();
    for a in &raw.account {
        unique("account", &a.id)?;
        let kind = match a.kind.as_ref().map(|k| (k, k.get_ref().as_str())) {
            None | Some((_, "user")) => AccountKind::User,
            Some((_, "team")) => AccountKind::Team,
            Some((_, "org")) => AccountKind::Org,
            Some((_, "ci")) => AccountKind::Ci,
            Some((k, other)) => {
                return Err(at(
                    k.span(),
                    format!("expected account kind user, team, org or ci, found {other:?}"),
                ))
            }
        };
        accounts.push(Account {
            id: a.id.get_ref().clone(),
            ecosystem: eco(&a.ecosystem)?,
            kind,
            mfa: a.mfa,
            owns: patterns(&a.owns)?,
        });
    }

    let mut credentials = Vec::new();
    for c in &raw.credential {
        unique("credential", &c.id)?;
        let ecosystem = eco(&c.ecosystem)?;
        let kind = match c.kind.get_ref().as_str() {
            "api-token" => CredentialKind::ApiToken,
            "trusted-publisher" => CredentialKind::TrustedPublisher,
            "session" => CredentialKind::Session,
            other => {
                return Err(at(
                    c.kind.span(),
                    format!("expected credential kind api-token, trusted-publisher or session, found {other:?}"),
                ))
            }
        };
        let Some(account) = accounts.iter().find(|a| a.id == *c.account.get_ref()) else {
            return Err(at(
                c.account.span(),
                format!(
                    "credential {:?} names unknown account {:?} (expected the id of an [[account]])",
                    c.id.get_ref(),
                    c.account.get_ref()
                ),
            ));
        };
        if account.ecosystem != ecosystem {
            return Err(at(
                c.ecosystem.span(),
                format!(
                    "credential {:?} is for {ecosystem} but its account {:?} is on {}",
                    c.id.get_ref(),
                    account.id,
                    account.ecosystem
                ),
            ));
        }
        let scopes: Vec<Spanned<String>> = c.scopes.clone().unwrap_or_default();
        let rights = rights_of(ecosystem, kind, c.scopes.is_none(), &scopes)
            .map_err(|(span, msg)| at(span, msg))?;
        let expires = match &c.expires {
            None => None,
            Some(s) => Some(s.get_ref().parse::<jiff::Timestamp>().map_err(|e| {
                at(
                    s.span(),
                    format!(
                        "expected an RFC 3339 time in \"expires\", found {:?}: {e}",
                        s.get_ref()
                    ),
                )
            })?),
        };
        credentials.push(Credential {
            id: c.id.get_ref().clone(),
            ecosystem,
            kind,
            account: account.id.clone(),
            scopes: scopes.iter().map(|s| s.get_ref().clone()).collect(),
            rights,
            packages: c.packages.as_deref().map(&patterns).transpose()?,
            expires,
        });
    }

    let mut environments = Vec::new();
    for e in &raw.environment {
        unique("environment", &e.id)?;
        let mut lockfiles = Vec::new();
        for l in &e.lockfiles {
            let on_disk = dir.join(l.get_ref());
            let file = on_disk.canonicalize().map_err(|err| {
                at(
                    l.span(),
                    format!(
                        "environment {:?} names lockfile {:?}, which cannot be read at {}: {err}",
                        e.id.get_ref(),
                        l.get_ref(),
                        on_disk.display()
                    ),
                )
            })?;
            lockfiles.push(LockfileRef {
                id: super::detect::display_join(&display_dir, l.get_ref()),
                file,
            });
        }
        for c in &e.credentials {
            if !credentials.iter().any(|k| k.id == *c.get_ref()) {
                return Err(at(
                    c.span(),
                    format!(
                        "environment {:?} names unknown credential {:?} (expected the id of a [[credential]])",
                        e.id.get_ref(),
                        c.get_ref()
                    ),
                ));
            }
        }
        let executes = match &e.executes {
            None => DEFAULT_EXECUTES.iter().map(|s| (*s).to_owned()).collect(),
            Some(list) => {
                for x in list {
                    if !EXECUTES.contains(&x.get_ref().as_str()) {
                        return Err(at(
                            x.span(),
                            format!(
                                "expected executes entries from {EXECUTES:?}, found {:?}",
                                x.get_ref()
                            ),
                        ));
                    }
                }
                list.iter().map(|s| s.get_ref().clone()).collect()
            }
        };
        environments.push(Environment {
            id: e.id.get_ref().clone(),
            lockfiles,
            credentials: e.credentials.iter().map(|s| s.get_ref().clone()).collect(),
            executes,
        });
    }

    let mut mirrors = Vec::new();
    for m in &raw.mirror {
        unique("mirror", &m.id)?;
        let mut syncs = Vec::new();
        for s in &m.syncs {
            syncs.push(s.get_ref().parse::<jiff::Timestamp>().map_err(|e| {
                at(
                    s.span(),
                    format!(
                        "expected an RFC 3339 time in \"syncs\", found {:?}: {e}",
                        s.get_ref()
                    ),
                )
            })?);
        }
        let interval = match &m.interval {
            None => None,
            Some(s) => Some(parse_interval(s.get_ref()).ok_or_else(|| {
                at(
                    s.span(),
                    format!(
                        "expected an interval such as \"6h\", \"30m\" or \"1d\", found {:?}",
                        s.get_ref()
                    ),
                )
            })?),
        };
        syncs.sort();
        mirrors.push(Mirror {
            id: m.id.get_ref().clone(),
            ecosystem: eco(&m.ecosystem)?,
            serves: m.serves.clone(),
            honors_yank: m.honors_yank,
            syncs,
            interval,
        });
    }

    Ok(Inventory {
        path: shown.to_path_buf(),
        dir,
        display_dir,
        accounts,
        credentials,
        environments,
        mirrors,
    })
}

/// The rights a credential's scopes give. `absent` means no `scopes` key: all scopes. A PyPI
/// API token (account-wide or project-scoped) and a trusted publisher can only upload; yanking
/// takes an owner's web session.
fn rights_of(
    eco: Ecosystem,
    kind: CredentialKind,
    absent: bool,
    scopes: &[Spanned<String>],
) -> std::result::Result<Rights, (std::ops::Range<usize>, String)> {
    let allowed: &[&str] = match eco {
        Ecosystem::CratesIo => &["publish-new", "publish-update", "yank", "change-owners"],
        Ecosystem::Npm => &["read-write", "read-only", "bypass-2fa"],
        Ecosystem::Pypi => &["upload"],
    };
    if absent {
        return Ok(Rights {
            publish: true,
            yank: eco != Ecosystem::Pypi || kind == CredentialKind::Session,
        });
    }
    let mut r = Rights::default();
    for s in scopes {
        let name = s.get_ref().as_str();
        if !allowed.contains(&name) {
            return Err((
                s.span(),
                format!("expected a {eco} scope from {allowed:?}, found {name:?}"),
            ));
        }
        match name {
            // publish-new only creates crates that do not exist yet: it cannot put a new version
            // into a package someone depends on (see README, "publish-new").
            "publish-update" | "upload" => r.publish = true,
            "read-write" => {
                r.publish = true;
                r.yank = true;
            }
            // The thief adds an account of their own as owner, which can publish and yank.
            "change-owners" => {
                r.publish = true;
                r.yank = true;
            }
            "yank" => r.yank = true,
            _ => {}
        }
    }
    Ok(r)
}

/// Parses `6h`, `30m`, `1d`, `45s`, `1w`.
fn parse_interval(s: &str) -> Option<jiff::SignedDuration> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    if n <= 0 {
        return None;
    }
    let secs = match unit {
        's' => n,
        'm' => n.checked_mul(60)?,
        'h' => n.checked_mul(3600)?,
        'd' => n.checked_mul(86_400)?,
        'w' => n.checked_mul(604_800)?,
        _ => return None,
    };
    Some(jiff::SignedDuration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Inventory> {
        parse(
            Path::new("inv.toml"),
            Path::new("/nonexistent/inv.toml"),
            text,
        )
    }

    const BASE: &str = r#"
[[account]]
id = "bot"
ecosystem = "crates.io"
owns = ["acme-*"]

[[credential]]
id = "tok"
ecosystem = "crates.io"
kind = "api-token"
account = "bot"
scopes = ["publish-update"]
"#;

    #[test]
    fn valid() {
        let inv = parse_str(BASE).unwrap();
        assert_eq!(
            inv.credentials[0].rights,
            Rights {
                publish: true,
                yank: false
            }
        );
    }

    #[test]
    fn unknown_key_names_line() {
        let text = BASE
            .replace("mfa_", "")
            .replace("owns = [\"acme-*\"]", "owns = [\"acme-*\"]\nowner = 1");
        let e = parse_str(&text).unwrap_err().to_string();
        assert!(e.starts_with("inv.toml:6:"), "{e}");
        assert!(e.contains("owner"), "{e}");
    }

    #[test]
    fn unknown_account_names_line() {
        let text = BASE.replace("account = \"bot\"", "account = \"nobody\"");
        let e = parse_str(&text).unwrap_err().to_string();
        assert!(e.starts_with("inv.toml:11:"), "{e}");
        assert!(e.contains("unknown account \"nobody\""), "{e}");
    }

    #[test]
    fn unknown_credential_in_environment() {
        let text =
            format!("{BASE}\n[[environment]]\nid = \"ci\"\ncredentials = [\"tok\", \"ghost\"]\n");
        let e = parse_str(&text).unwrap_err().to_string();
        assert!(e.starts_with("inv.toml:16:"), "{e}");
        assert!(e.contains("unknown credential \"ghost\""), "{e}");
    }

    #[test]
    fn missing_lockfile_in_environment() {
        let text =
            format!("{BASE}\n[[environment]]\nid = \"ci\"\nlockfiles = [\"nope/Cargo.lock\"]\n");
        let e = parse_str(&text).unwrap_err().to_string();
        assert!(e.starts_with("inv.toml:16:"), "{e}");
        assert!(e.contains("nope/Cargo.lock"), "{e}");
    }

    #[test]
    fn scopes() {
        let text = BASE.replace("[\"publish-update\"]", "[\"yank\"]");
        assert_eq!(
            parse_str(&text).unwrap().credentials[0].rights,
            Rights {
                publish: false,
                yank: true
            }
        );
        let text = BASE.replace("[\"publish-update\"]", "[\"change-owners\"]");
        assert_eq!(
            parse_str(&text).unwrap().credentials[0].rights,
            Rights {
                publish: true,
                yank: true
            }
        );
        let text = BASE.replace("[\"publish-update\"]", "[\"publish-new\"]");
        assert_eq!(
            parse_str(&text).unwrap().credentials[0].rights,
            Rights::default()
        );
        let text = BASE.replace("[\"publish-update\"]", "[\"publish\"]");
        assert!(parse_str(&text)
            .unwrap_err()
            .to_string()
            .contains("expected a crates.io scope"));
    }

    #[test]
    fn npm_and_pypi_scopes() {
        let cred = |eco: &str, kind: &str, scopes: &str| {
            let text = format!(
                "[[account]]\nid = \"a\"\necosystem = \"{eco}\"\n\n[[credential]]\nid = \"c\"\necosystem = \"{eco}\"\nkind = \"{kind}\"\naccount = \"a\"\n{scopes}"
            );
            parse_str(&text).map(|i| i.credentials[0].rights)
        };
        let both = Rights {
            publish: true,
            yank: true,
        };
        let publish = Rights {
            publish: true,
            yank: false,
        };
        // npm: read-write publishes and unpublishes/deprecates; read-only does neither;
        // bypass-2fa alone grants nothing (it modifies read-write).
        assert_eq!(
            cred("npm", "api-token", "scopes = [\"read-write\"]").unwrap(),
            both
        );
        assert_eq!(
            cred("npm", "api-token", "scopes = [\"read-only\"]").unwrap(),
            Rights::default()
        );
        assert_eq!(
            cred("npm", "api-token", "scopes = [\"bypass-2fa\"]").unwrap(),
            Rights::default()
        );
        assert_eq!(cred("npm", "session", "").unwrap(), both);
        // PyPI: upload tokens, account-wide or per project, cannot yank; an owner's session can.
        assert_eq!(
            cred("pypi", "api-token", "scopes = [\"upload\"]").unwrap(),
            publish
        );
        assert_eq!(cred("pypi", "api-token", "").unwrap(), publish);
        assert_eq!(cred("pypi", "trusted-publisher", "").unwrap(), publish);
        assert_eq!(cred("pypi", "session", "").unwrap(), both);
        let e = cred("pypi", "api-token", "scopes = [\"read-write\"]").unwrap_err();
        assert!(e.to_string().contains("expected a pypi scope"), "{e}");
    }

    #[test]
    fn intervals() {
        assert_eq!(
            parse_interval("6h"),
            Some(jiff::SignedDuration::from_hours(6))
        );
        assert_eq!(parse_interval("0h"), None);
        assert_eq!(parse_interval("h"), None);
        assert_eq!(parse_interval("5x"), None);
    }
}
