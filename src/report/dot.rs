//! Graphviz output: the subgraph of witness paths, one shape and colour per node kind. Written
//! with dot-writer into memory (it unwraps every write), labels escaped here because it
//! escapes nothing; node ids are generated (`n0`, `n1`, …), never registry names.

use std::collections::BTreeMap;

use dot_writer::{Attributes, DotWriter};

use super::escape;

/// Shape and fill colour of a node kind. No record shapes: their labels are parsed (`|`,
/// `{`), and labels here are registry names.
pub fn style(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "credential" => ("diamond", "#f4a6a6"),
        "account" => ("house", "#f9d29c"),
        "package" => ("box", "#a9c8f0"),
        "version" => ("ellipse", "#dde9f7"),
        "lockfile" => ("note", "#e0e0e0"),
        "build" => ("cds", "#fff3b0"),
        "mirror" => ("cylinder", "#d7c2f0"),
        _ => ("component", "#b9e4b9"), // environment
    }
}

/// A DOT document of paths: each path is a list of (id, kind) from source to target.
/// Nodes and edges are deduplicated and emitted in sorted order, so equal inputs give equal
/// bytes.
pub fn paths_to_dot(title: &str, paths: &[Vec<(String, &'static str)>]) -> String {
    let mut nodes: BTreeMap<&str, &'static str> = BTreeMap::new();
    let mut edges: BTreeMap<(&str, &str), &'static str> = BTreeMap::new();
    for p in paths {
        for (id, kind) in p {
            nodes.insert(id, kind);
        }
        for w in p.windows(2) {
            let same = w[1].0.starts_with(&format!("{}@", w[0].0));
            edges.insert((&w[0].0, &w[1].0), super::step(w[0].1, w[1].1, same));
        }
    }
    let ids: BTreeMap<&str, String> = nodes
        .keys()
        .enumerate()
        .map(|(i, id)| (*id, format!("n{i}")))
        .collect();
    let mut bytes = Vec::new();
    {
        let mut w = DotWriter::from(&mut bytes);
        w.set_pretty_print(true);
        let mut g = w.digraph();
        g.graph_attributes()
            .set("rankdir", "LR", false)
            .set_label(&escape::dot(title))
            .set("labelloc", "t", false)
            .set_font("Helvetica");
        g.node_attributes()
            .set_font("Helvetica")
            .set("style", "filled", false);
        for (id, kind) in &nodes {
            let (shape, fill) = style(kind);
            g.node_named(ids[id].as_str())
                .set_label(&escape::dot(id))
                .set("shape", shape, false)
                .set("fillcolor", &format!("\"{fill}\""), false)
                .set("tooltip", &escape::dot(kind), true);
        }
        for ((a, b), label) in &edges {
            let e = g.edge(ids[a].as_str(), ids[b].as_str());
            if !label.is_empty() {
                e.attributes().set_label(label).set("fontsize", "10", false);
            }
        }
    }
    String::from_utf8(bytes).expect("dot output is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_labels_are_escaped() {
        let evil = "x\"];\nn0 -> n0 [label=\"pwned".to_string();
        let dot = paths_to_dot(
            "t",
            &[vec![("cred".into(), "credential"), (evil, "package")]],
        );
        assert!(
            dot.contains(r#"label="x\"];\nn0 -> n0 [label=\"pwned""#),
            "{dot}"
        );
        let edges = dot
            .lines()
            .filter(|l| {
                let mut w = l.split_whitespace();
                matches!((w.next(), w.next()), (Some(a), Some("->")) if a.starts_with('n'))
            })
            .count();
        assert_eq!(edges, 1, "{dot}");
    }
}
