//! SPEC §4 rule 1: which packages a source can publish (inject) or only yank (disrupt) at the
//! analysis time, and the risk factors people should see beside a credential.

use super::Source;
use crate::graph::{CredentialKind, Graph, PackageId, Rights};

/// The packages a source seeds, each with the rights it has on it. Empty for an expired
/// credential.
pub fn seeds(graph: &Graph, source: Source, at: jiff::Timestamp) -> Vec<(PackageId, Rights)> {
    match source {
        Source::Credential(c) => {
            let node = graph.credential(c);
            if node.expires.is_some_and(|e| e <= at) {
                return Vec::new();
            }
            graph.may_publish(c).to_vec()
        }
        // An account acts with every right over what it owns.
        Source::Account(a) => graph
            .owned_by(a)
            .iter()
            .map(|&p| {
                (
                    p,
                    Rights {
                        publish: true,
                        yank: true,
                    },
                )
            })
            .collect(),
    }
}

/// The account owns packages that take new versions only from trusted publishing (crates.io
/// `trustpub_only`): its API tokens cannot publish them (their inject reach leaves them
/// out), while the account itself, or a session of it, can lift the setting first.
const TRUSTPUB_ONLY: &str = "trustpub-only-packages";

fn owns_trustpub_only(graph: &Graph, a: crate::graph::AccountId) -> bool {
    graph
        .owned_by(a)
        .iter()
        .any(|&p| graph.package(p).trustpub_only)
}

/// Why a credential is riskier than its reach alone says, as short stable labels.
pub fn risk_factors(graph: &Graph, source: Source, at: jiff::Timestamp) -> Vec<&'static str> {
    let mut out = Vec::new();
    match source {
        Source::Credential(c) => {
            let node = graph.credential(c);
            let account = graph.account(node.account);
            if owns_trustpub_only(graph, node.account) {
                out.push(TRUSTPUB_ONLY);
            }
            if node.kind.is_none() {
                if account.origin == crate::graph::AccountOrigin::Synthetic {
                    out.push("no-owner-data");
                }
                return out;
            }
            match node.expires {
                None if node.kind == Some(CredentialKind::ApiToken) => out.push("never-expires"),
                Some(e) if e <= at => out.push("expired"),
                _ => {}
            }
            if node.all_scopes {
                out.push("all-scopes");
            }
            if node.scopes.iter().any(|s| s == "change-owners") {
                out.push("can-change-owners");
            }
            // npm granular tokens with "bypass 2FA" publish without the second factor even
            // when the account requires it for publishing.
            if node.scopes.iter().any(|s| s == "bypass-2fa") {
                out.push("bypasses-2fa");
            }
            if node.packages.is_none() {
                out.push("all-owned-packages");
            }
            if account.mfa == Some(false) {
                out.push("account-without-mfa");
            }
            let stored = graph.environments().any(|e| {
                !graph.environment(e).executes.is_empty() && graph.held_by(e).contains(&c)
            });
            if stored {
                out.push("stored-where-dependencies-run");
            }
        }
        Source::Account(a) => {
            let account = graph.account(a);
            if owns_trustpub_only(graph, a) {
                out.push(TRUSTPUB_ONLY);
            }
            if account.mfa == Some(false) {
                out.push("account-without-mfa");
            }
            if account.origin == crate::graph::AccountOrigin::Synthetic {
                out.push("no-owner-data");
            }
        }
    }
    out.sort_unstable();
    out
}
