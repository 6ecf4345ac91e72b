//! Reach (SPEC §4 rules 1–7): what a stolen credential or account can inject into and
//! disrupt, with a shortest witness path for every claim, and `rank` over every credential in
//! parallel.
//!
//! The traversal runs over an [`AttackIndex`] (dependents per package for one `--versions`
//! mode). A package reached because the thief can publish it ("direct") only passes to
//! dependents whose requirement has headroom (rule 2); a package reached through a dependency
//! ("transitive") passes to every dependent with a normal or build requirement (rule 3).
//!
//! [`curve()`] turns a ranking into its concentration curve (`rank --summary`).

pub mod curve;
pub mod incident;
pub mod index;
pub mod rank;
mod rank_bits;
pub mod reach;
pub mod resolve;
pub mod rights;

pub use curve::{curve, Curve};
pub use index::AttackIndex;
pub use rank::{rank, rank_reference, RankEntry, RankSubject};
pub use reach::{reach, Found, Reach, Reached};

/// Which versions' requirements count (SPEC §4 rule 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionsMode {
    /// Each package's highest non-yanked release.
    #[default]
    Latest,
    /// Every non-yanked version.
    All,
}

impl VersionsMode {
    /// The spelling used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionsMode::Latest => "latest",
            VersionsMode::All => "all",
        }
    }
}

/// The parameters every reach question shares.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// Analysis time: credentials expired before it publish nothing.
    pub at: jiff::Timestamp,
    /// Versions considered.
    pub versions: VersionsMode,
    /// How many times reach continues from credentials stolen on the way (≥ 1).
    pub hops: u32,
}

/// Who the thief is: a stolen credential, or a whole account acting with all its rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A credential.
    Credential(crate::graph::CredentialId),
    /// An account.
    Account(crate::graph::AccountId),
}

impl Source {
    /// The node the witness paths start from.
    pub fn node(self) -> crate::graph::NodeRef {
        match self {
            Source::Credential(c) => crate::graph::NodeRef::Credential(c),
            Source::Account(a) => crate::graph::NodeRef::Account(a),
        }
    }
}
