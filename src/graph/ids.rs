//! Typed node ids. Each node kind occupies one contiguous range of the graph's node indices
//! (credentials first, then accounts, packages, versions, lockfiles, builds, mirrors,
//! environments), so "all packages" is a range and `rank` can split a range across threads.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// Position within its kind (0-based), for dense per-kind arrays.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The id at a position within its kind.
            pub fn from_index(i: usize) -> Self {
                Self(u32::try_from(i).expect("more than 2^32 nodes of one kind"))
            }
        }
    };
}

typed_id!(
    /// A publishing credential (token, trusted publisher, session).
    CredentialId
);
typed_id!(
    /// A registry account (user, team, org, CI identity).
    AccountId
);
typed_id!(
    /// A package (ecosystem + name).
    PackageId
);
typed_id!(
    /// One published (or pinned) version of a package.
    VersionId
);
typed_id!(
    /// A lockfile.
    LockfileId
);
typed_id!(
    /// A build (one run that resolved a lockfile or a manifest at a time).
    BuildId
);
typed_id!(
    /// A mirror, proxy or cache.
    MirrorId
);
typed_id!(
    /// An environment (CI job, laptop).
    EnvironmentId
);

/// The eight node kinds of SPEC §2, in the order their ranges appear in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// See [`CredentialId`].
    Credential,
    /// See [`AccountId`].
    Account,
    /// See [`PackageId`].
    Package,
    /// See [`VersionId`].
    Version,
    /// See [`LockfileId`].
    Lockfile,
    /// See [`BuildId`].
    Build,
    /// See [`MirrorId`].
    Mirror,
    /// See [`EnvironmentId`].
    Environment,
}

impl NodeKind {
    /// All kinds in range order.
    pub const ALL: [NodeKind; 8] = [
        NodeKind::Credential,
        NodeKind::Account,
        NodeKind::Package,
        NodeKind::Version,
        NodeKind::Lockfile,
        NodeKind::Build,
        NodeKind::Mirror,
        NodeKind::Environment,
    ];

    /// Lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Credential => "credential",
            NodeKind::Account => "account",
            NodeKind::Package => "package",
            NodeKind::Version => "version",
            NodeKind::Lockfile => "lockfile",
            NodeKind::Build => "build",
            NodeKind::Mirror => "mirror",
            NodeKind::Environment => "environment",
        }
    }
}

/// Any node, by kind and position: what witness paths are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeRef {
    /// A credential.
    Credential(CredentialId),
    /// An account.
    Account(AccountId),
    /// A package.
    Package(PackageId),
    /// A version.
    Version(VersionId),
    /// A lockfile.
    Lockfile(LockfileId),
    /// A build.
    Build(BuildId),
    /// A mirror.
    Mirror(MirrorId),
    /// An environment.
    Environment(EnvironmentId),
}

impl NodeRef {
    /// Its kind.
    pub fn kind(self) -> NodeKind {
        match self {
            NodeRef::Credential(_) => NodeKind::Credential,
            NodeRef::Account(_) => NodeKind::Account,
            NodeRef::Package(_) => NodeKind::Package,
            NodeRef::Version(_) => NodeKind::Version,
            NodeRef::Lockfile(_) => NodeKind::Lockfile,
            NodeRef::Build(_) => NodeKind::Build,
            NodeRef::Mirror(_) => NodeKind::Mirror,
            NodeRef::Environment(_) => NodeKind::Environment,
        }
    }

    /// The node at position `i` of `kind`: the inverse of [`NodeRef::kind`] and
    /// [`NodeRef::local`].
    pub fn new(kind: NodeKind, i: usize) -> Self {
        match kind {
            NodeKind::Credential => NodeRef::Credential(CredentialId::from_index(i)),
            NodeKind::Account => NodeRef::Account(AccountId::from_index(i)),
            NodeKind::Package => NodeRef::Package(PackageId::from_index(i)),
            NodeKind::Version => NodeRef::Version(VersionId::from_index(i)),
            NodeKind::Lockfile => NodeRef::Lockfile(LockfileId::from_index(i)),
            NodeKind::Build => NodeRef::Build(BuildId::from_index(i)),
            NodeKind::Mirror => NodeRef::Mirror(MirrorId::from_index(i)),
            NodeKind::Environment => NodeRef::Environment(EnvironmentId::from_index(i)),
        }
    }

    /// Position within its kind.
    pub fn local(self) -> usize {
        match self {
            NodeRef::Credential(x) => x.index(),
            NodeRef::Account(x) => x.index(),
            NodeRef::Package(x) => x.index(),
            NodeRef::Version(x) => x.index(),
            NodeRef::Lockfile(x) => x.index(),
            NodeRef::Build(x) => x.index(),
            NodeRef::Mirror(x) => x.index(),
            NodeRef::Environment(x) => x.index(),
        }
    }
}
