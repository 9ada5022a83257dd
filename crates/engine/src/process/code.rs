//! Watching a function's code: when a file of it changes, its warm
//! environments are replaced before its next invocation, as `sam local
//! start-lambda --warm-containers LAZY` does.

use std::path::{Path, PathBuf};

use notify::{EventKind, RecursiveMode, Watcher as _};

/// The most directories of one function's code watched: a code directory
/// larger than this is watched in part.
const MAX_DIRECTORIES: usize = 4096;

/// Directories that are not the function's own code: what runtimes and
/// tools write (bytecode caches, builds, version control) and installed
/// packages, whose trees can be very large.
const NOT_CODE: [&str; 6] = [
    "__pycache__",
    ".git",
    ".aws-sam",
    "node_modules",
    "target",
    ".venv",
];

/// Watches `paths` (a file alone, or a directory and its subdirectories
/// but [`NOT_CODE`]) and calls `changed` after each change to a file in
/// them. `None` when nothing could be watched.
pub(super) fn watch(
    paths: &[PathBuf],
    changed: impl Fn() + Send + 'static,
) -> Option<notify::RecommendedWatcher> {
    let files: Vec<PathBuf> = paths
        .iter()
        .filter(|path| path.is_file())
        .cloned()
        .collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        let edit = matches!(
            event.kind,
            EventKind::Create(_)
                | EventKind::Remove(_)
                | EventKind::Modify(
                    notify::event::ModifyKind::Data(_)
                        | notify::event::ModifyKind::Name(_)
                        | notify::event::ModifyKind::Any
                )
        );
        let of_code = event.paths.iter().any(|path| {
            is_code(path) && (files.is_empty() || files.iter().any(|file| file == path))
        });
        if edit && of_code {
            changed();
        }
    })
    .map_err(|error| warn_unwatched(Path::new(""), &error))
    .ok()?;
    for path in paths {
        // A single file (a built binary) is replaced by a rename: its
        // directory is watched, for the events about it.
        let directories = if path.is_file() {
            vec![path.parent().unwrap_or(Path::new(".")).to_path_buf()]
        } else {
            code_directories(path)
        };
        for directory in directories {
            if let Err(error) = watcher.watch(&directory, RecursiveMode::NonRecursive) {
                warn_unwatched(&directory, &error);
                break;
            }
        }
    }
    Some(watcher)
}

fn warn_unwatched(path: &Path, error: &notify::Error) {
    tracing::warn!(path = %path.display(), %error, "a function's code cannot be watched; restart orders serve after changing it");
}

/// `root` and the directories under it that hold code, at most
/// [`MAX_DIRECTORIES`].
fn code_directories(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![root.to_path_buf()];
    let mut next = 0;
    while let Some(directory) = found.get(next).cloned() {
        next += 1;
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_directory = entry.file_type().is_ok_and(|kind| kind.is_dir());
            if is_directory && is_code(&path) {
                if found.len() == MAX_DIRECTORIES {
                    tracing::warn!(root = %root.display(), "a function's code has more than {MAX_DIRECTORIES} directories; changes beyond them are not seen");
                    return found;
                }
                found.push(path);
            }
        }
    }
    found
}

/// Whether a change to `path` is a change to the function's code.
fn is_code(path: &Path) -> bool {
    !path.components().any(|part| {
        part.as_os_str()
            .to_str()
            .is_some_and(|part| NOT_CODE.contains(&part))
    }) && path.extension().is_none_or(|extension| extension != "pyc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_builds_and_packages_are_not_code() {
        assert!(is_code(Path::new("/app/handler.py")));
        assert!(is_code(Path::new("/app/lib/util.mjs")));
        assert!(!is_code(Path::new(
            "/app/__pycache__/handler.cpython-311.pyc"
        )));
        assert!(!is_code(Path::new("/app/lib/module.pyc")));
        assert!(!is_code(Path::new("/app/.git/index")));
        assert!(!is_code(Path::new("/app/node_modules/x/index.js")));
        assert!(!is_code(Path::new("/repo/target/debug/build")));
    }

    #[test]
    fn the_code_directories_leave_out_what_is_not_code() {
        let root = tempfile::tempdir().unwrap();
        for directory in [
            "lib/deep",
            "node_modules/pkg",
            "__pycache__",
            "target/debug",
        ] {
            std::fs::create_dir_all(root.path().join(directory)).unwrap();
        }
        let mut found: Vec<String> = code_directories(root.path())
            .iter()
            .map(|path| {
                path.strip_prefix(root.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        found.sort();
        assert_eq!(found, ["", "lib", "lib/deep"]);
    }
}
