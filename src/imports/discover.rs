//! Finding the project's files: every `.py` under the walk roots, and for each directory
//! the names Python could import from it (packages, extensions, sources, sourceless
//! `.pyc`, namespace portions), so resolution never touches the filesystem again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// What a file in a directory offers under its module name, in CPython's `FileFinder`
/// order within one directory: extension, then source, then sourceless bytecode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// A compiled extension (`.so`, `.pyd`).
    Extension,
    /// A `.py` source.
    Source,
    /// A legacy `.pyc` beside where the source would be.
    Sourceless,
}

/// The importable names of one directory.
#[derive(Debug, Default)]
pub struct Listing {
    /// Module name to the best file kind offering it.
    pub files: HashMap<String, FileKind>,
    /// Sub-directory names.
    pub dirs: HashSet<String>,
}

impl Listing {
    /// The kind of `__init__` this directory has, making it a regular package.
    pub fn init(&self) -> Option<FileKind> {
        self.files.get("__init__").copied()
    }
}

/// The walked project: directories and sources.
#[derive(Debug, Default)]
pub struct Tree {
    /// Listing per directory walked.
    pub dirs: HashMap<PathBuf, Listing>,
    /// Every `.py` file, in walk order (sorted by name per directory).
    pub sources: Vec<PathBuf>,
    /// Directories left out, with the reason (virtualenvs, caches, hidden).
    pub skipped: Vec<(PathBuf, &'static str)>,
    /// Directories or entries that could not be read.
    pub errors: Vec<(PathBuf, String)>,
}

/// Whether to look inside virtualenvs, `site-packages`, hidden and cache directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The project's own code: skip virtualenvs, `site-packages`, `node_modules`,
    /// `__pycache__` and hidden directories.
    Project,
    /// Every `.py` under the roots (benchmarks, whole libraries).
    AllFiles,
}

/// Why a directory is not the project's own code, if it is not.
fn skip_reason(dir: &Path) -> Option<&'static str> {
    let name = dir.file_name()?.to_string_lossy();
    if name == "__pycache__" {
        Some("bytecode cache")
    } else if name.starts_with('.') {
        Some("hidden directory")
    } else if name == "site-packages" || name == "dist-packages" || name == "node_modules" {
        Some("installed packages")
    } else if dir.join("pyvenv.cfg").is_file() {
        Some("virtualenv")
    } else {
        None
    }
}

/// The module name a file offers in its directory, and its kind.
pub fn classify_file(name: &str) -> Option<(&str, FileKind)> {
    if let Some(stem) = name.strip_suffix(".py") {
        return Some((stem, FileKind::Source));
    }
    if let Some(stem) = name.strip_suffix(".pyc") {
        return (!stem.contains('.')).then_some((stem, FileKind::Sourceless));
    }
    if name.ends_with(".so") || name.ends_with(".pyd") {
        // `x.cpython-313-x86_64-linux-gnu.so`, `x.abi3.so`, `x.so`: the name is before the first dot.
        let stem = name.split('.').next()?;
        return Some((stem, FileKind::Extension));
    }
    None
}

impl Tree {
    /// Walks each root (skipping roots inside an earlier one).
    pub fn walk(roots: &[PathBuf], scope: Scope) -> Tree {
        let mut tree = Tree::default();
        let mut walked: Vec<&Path> = Vec::new();
        for root in roots {
            if walked.iter().any(|w| root.starts_with(w)) {
                continue;
            }
            walked.push(root);
            tree.walk_one(root, scope);
        }
        tree
    }

    fn walk_one(&mut self, root: &Path, scope: Scope) {
        let mut walker = WalkDir::new(root).sort_by_file_name().into_iter();
        while let Some(entry) = walker.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    let msg = err
                        .io_error()
                        .map_or_else(|| err.to_string(), ToString::to_string);
                    self.errors.push((path, msg));
                    continue;
                }
            };
            let path = entry.path();
            let Some(parent) = path.parent().filter(|_| entry.depth() > 0) else {
                self.dirs.entry(path.to_path_buf()).or_default();
                continue;
            };
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_dir() {
                self.listing(parent).dirs.insert(name.into_owned());
                if scope == Scope::Project
                    && let Some(reason) = skip_reason(path)
                {
                    self.note_skipped(path, reason);
                    walker.skip_current_dir();
                } else {
                    self.dirs.entry(path.to_path_buf()).or_default();
                }
                continue;
            }
            let Some((stem, kind)) = classify_file(&name) else {
                continue;
            };
            let stem = stem.to_owned();
            let files = &mut self.listing(parent).files;
            let best = files.get(&stem).map_or(kind, |&k| k.min(kind));
            files.insert(stem, best);
            if kind == FileKind::Source {
                self.sources.push(path.to_path_buf());
            }
        }
    }

    fn listing(&mut self, dir: &Path) -> &mut Listing {
        self.dirs.entry(dir.to_path_buf()).or_default()
    }

    fn note_skipped(&mut self, path: &Path, reason: &'static str) {
        // `__pycache__` is everywhere and expected: not worth a line in the report.
        if reason != "bytecode cache" {
            self.skipped.push((path.to_path_buf(), reason));
        }
    }
}

/// The dotted module name of a source file under the deepest search root containing it.
pub fn module_name(file: &Path, search_roots: &[PathBuf]) -> Option<String> {
    let root = search_roots
        .iter()
        .filter(|r| file.starts_with(r))
        .max_by_key(|r| r.components().count())?;
    let rel = file.strip_prefix(root).ok()?;
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| crate::text::path_text(Path::new(c.as_os_str())))
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".py")?;
    if stem != "__init__" {
        parts.push(stem.to_owned());
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_lists_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "app.py",
            "pkg/__init__.py",
            "pkg/mod.py",
            "ns/part.py",
            ".venv/lib/x.py",
            "v/site.py",
        ] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "").unwrap();
        }
        fs::write(root.join("v/pyvenv.cfg"), "version = 3.13.0\n").unwrap();
        fs::write(root.join("fast.cpython-313-x86_64-linux-gnu.so"), "").unwrap();
        fs::write(root.join("fast.py"), "").unwrap();
        let tree = Tree::walk(&[root.to_path_buf()], Scope::Project);
        assert_eq!(tree.sources.len(), 5);
        let top = &tree.dirs[root];
        assert_eq!(top.files["fast"], FileKind::Extension);
        assert!(top.dirs.contains("pkg") && top.dirs.contains("ns"));
        assert_eq!(tree.dirs[&root.join("pkg")].init(), Some(FileKind::Source));
        assert_eq!(tree.dirs[&root.join("ns")].init(), None);
        let reasons: Vec<_> = tree.skipped.iter().map(|s| s.1).collect();
        assert_eq!(reasons, ["hidden directory", "virtualenv"]);
        assert_eq!(
            Tree::walk(&[root.to_path_buf()], Scope::AllFiles)
                .sources
                .len(),
            7
        );
    }

    #[test]
    fn names_come_from_the_deepest_root() {
        let roots = [PathBuf::from("/p"), PathBuf::from("/p/src")];
        let name = |f: &str| module_name(Path::new(f), &roots);
        assert_eq!(name("/p/run.py").as_deref(), Some("run"));
        assert_eq!(name("/p/src/pkg/__init__.py").as_deref(), Some("pkg"));
        assert_eq!(name("/p/src/pkg/a/b.py").as_deref(), Some("pkg.a.b"));
        assert_eq!(name("/p/__init__.py"), None);
        assert_eq!(name("/elsewhere/x.py"), None);
    }
}
