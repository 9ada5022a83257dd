//! The engine's module graph, read from its sources: which top-level module
//! (`engine`, `execution`, `model`, `store`, …) names which other one in its
//! code (comments and unit tests aside).
//! - The graph has no cycle: each layer builds on the ones below it.
//! - Nothing runs up: the execution core and the API's shapes know nothing
//!   of the engine, the API or the processes that serve them, and the shapes
//!   nothing of the execution core.
//! - Within a module, no two files name each other.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module → the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn sources(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Unit tests may reach anywhere.
            if path.file_name().is_some_and(|name| name != "tests") {
                sources(&path, found);
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// A file's code: its comments and its unit tests left out.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text
        .split("#[cfg(test)]\nmod tests {")
        .next()
        .unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers that follow `prefix` in `text` (`crate::` → `store`, …),
/// including each name of a `prefix{a, b::c}` group.
fn named_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                names.insert(identifier(item.trim_start()));
            }
        } else {
            names.insert(identifier(rest));
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level module a source path belongs to (`engine/actor.rs` →
/// `engine`, `clock.rs` → `clock`).
fn module_of(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

fn graph() -> (Graph, Vec<(PathBuf, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|path| module_of(&root, path)).collect();
    let mut graph = Graph::new();
    let mut codes = Vec::new();
    for path in files {
        let module = module_of(&root, &path);
        // The crate's root and its test support assemble every module.
        if module == "lib" || module == "testing" {
            continue;
        }
        let text = code(&path);
        let named = named_after(&text, "crate::");
        graph.entry(module.clone()).or_default().extend(
            named
                .into_iter()
                .filter(|name| *name != module && modules.contains(name)),
        );
        codes.push((path, text));
    }
    (graph, codes)
}

/// A cycle of `graph`, if it has one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|seen| seen == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_build_on_each_other_without_a_cycle() {
    let (graph, _) = graph();
    assert!(graph.contains_key("engine") && graph.contains_key("execution"));
    assert_eq!(cycle(&graph), None, "the module graph: {graph:#?}");
}

#[test]
fn the_core_and_the_shapes_import_nothing_from_the_layers_above() {
    let (graph, _) = graph();
    let above = ["engine", "api", "transport", "explorer", "process"];
    for module in ["execution", "model"] {
        let names = &graph[module];
        for upper in above {
            assert!(!names.contains(upper), "{module} names {upper}: {names:?}");
        }
    }
    assert!(
        !graph["model"].contains("execution"),
        "model names execution: {:?}",
        graph["model"]
    );
}

#[test]
fn no_two_files_of_a_module_name_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (_, codes) = graph();
    // Within each directory module: file → the sibling files it names.
    let mut siblings: BTreeMap<PathBuf, Graph> = BTreeMap::new();
    for (path, text) in &codes {
        let directory = path.parent().unwrap().to_path_buf();
        if directory == root {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "mod" {
            continue;
        }
        let module = format!(
            "crate::{}::",
            directory
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('/', "::")
        );
        let mut named = named_after(text, "super::");
        named.extend(named_after(text, &module));
        let files = siblings.entry(directory).or_default();
        files.entry(name.clone()).or_default().extend(named);
    }
    for (directory, files) in &mut siblings {
        let names: BTreeSet<String> = files.keys().cloned().collect();
        for (name, named) in files.iter_mut() {
            named.retain(|other| other != name && names.contains(other));
        }
        assert_eq!(cycle(files), None, "{}: {files:#?}", directory.display());
    }
}
