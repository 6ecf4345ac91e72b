//! `export --format json`: every node and edge of the graph, for other tools.

use serde::Serialize;

use crate::graph::{Edge, Graph, NodeKind};

/// One node.
#[derive(Debug, Serialize)]
pub struct ExportNode {
    /// Output id.
    pub id: String,
    /// Kind.
    pub kind: NodeKind,
}

/// One edge.
#[derive(Debug, Serialize)]
pub struct ExportEdge {
    /// Source id.
    pub from: String,
    /// Target id.
    pub to: String,
    /// Edge kind (`acts_for`, `may_publish`, `depends_on`, …).
    pub kind: &'static str,
    /// For `depends_on`: the requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub req: Option<String>,
    /// For `depends_on`: normal, build or dev.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dep_kind: Option<crate::ingest::DepKind>,
    /// For `depends_on`: optional.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// For `depends_on`: the platform cfg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The whole graph.
#[derive(Debug, Serialize)]
pub struct Export {
    /// Nodes, sorted by kind then id.
    pub nodes: Vec<ExportNode>,
    /// Edges, sorted by source, target, kind.
    pub edges: Vec<ExportEdge>,
    /// Inputs skipped under `--keep-going` and caveats about the metadata, sorted, as in every
    /// other report: a graph missing a skipped lockfile must say so. Absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn edge_kind(e: &Edge) -> &'static str {
    match e {
        Edge::ActsFor => "acts_for",
        Edge::MayPublish(_) => "may_publish",
        Edge::Owns => "owns",
        Edge::Mints => "mints",
        Edge::HasVersion => "has_version",
        Edge::DependsOn(_) => "depends_on",
        Edge::Pins(_) => "pins",
        Edge::Uses => "uses",
        Edge::FetchesThrough => "fetches_through",
        Edge::ServedBy => "served_by",
        Edge::Copies => "copies",
        Edge::Installs => "installs",
        Edge::Holds => "holds",
    }
}

impl Export {
    /// Lists the graph, with the load's sorted warnings.
    pub fn new(g: &Graph, warnings: Vec<String>) -> Self {
        let mut nodes = Vec::new();
        let mut all: Vec<crate::graph::NodeRef> = Vec::new();
        all.extend(g.credentials().map(crate::graph::NodeRef::Credential));
        all.extend(g.accounts().map(crate::graph::NodeRef::Account));
        all.extend(g.packages().map(crate::graph::NodeRef::Package));
        for p in g.packages() {
            all.extend(g.versions_of(p).map(crate::graph::NodeRef::Version));
        }
        all.extend(g.lockfiles().map(crate::graph::NodeRef::Lockfile));
        all.extend(g.mirrors().map(crate::graph::NodeRef::Mirror));
        all.extend(g.environments().map(crate::graph::NodeRef::Environment));
        for n in all {
            nodes.push(ExportNode {
                id: g.display(n),
                kind: n.kind(),
            });
        }
        nodes.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        let mut edges: Vec<ExportEdge> = g
            .edges()
            .into_iter()
            .map(|(a, b, e)| {
                let dep = match e {
                    Edge::DependsOn(d) => Some(g.dep(d)),
                    _ => None,
                };
                ExportEdge {
                    from: g.display(a),
                    to: g.display(b),
                    kind: edge_kind(&e),
                    req: dep.map(|d| g.req(d.req).text.clone()),
                    dep_kind: dep.map(|d| d.kind),
                    optional: dep.is_some_and(|d| d.optional),
                    target: dep.and_then(|d| d.target.map(|t| g.string(t).to_owned())),
                }
            })
            .collect();
        edges.sort_by(|a, b| {
            (&a.from, &a.to, a.kind, &a.req).cmp(&(&b.from, &b.to, b.kind, &b.req))
        });
        Export {
            nodes,
            edges,
            warnings,
        }
    }
}
