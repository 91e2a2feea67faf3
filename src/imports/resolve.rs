//! Finding what a module name refers to, the way CPython's path finder does: the search
//! roots in order (package, then extension, source, sourceless file, in each directory;
//! namespace portions only when nothing regular exists), the standard library, then the
//! virtualenv.

use super::discover::{FileKind, Tree};
use super::stdlib::Stdlib;
use super::venv::Venv;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a module name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A project source file (a module, or a package's `__init__.py`), by module index.
    Module(usize),
    /// A namespace package (no `__init__`): its directories.
    Namespace(Vec<PathBuf>),
    /// A compiled extension or sourceless `.pyc` in the project.
    Binary(PathBuf),
    /// The standard library.
    Stdlib,
    /// Installed in the virtualenv.
    ThirdParty,
}

/// Why a name could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Nothing provides the name (the first dotted prefix that failed).
    NotFound(String),
    /// The parent is a plain module, not a package.
    NotAPackage(String),
    /// A relative import in a file that is not in a package (a script, a top-level module).
    NoParentPackage,
    /// More leading dots than the importer has parent packages.
    BeyondTopLevel,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::NotFound(n) => write!(f, "no module named '{n}'"),
            Missing::NotAPackage(n) => write!(f, "'{n}' is a module, not a package"),
            Missing::NoParentPackage => {
                write!(f, "relative import with no known parent package")
            }
            Missing::BeyondTopLevel => write!(f, "relative import beyond top-level package"),
        }
    }
}

/// The modules an absolute name imports: every dotted prefix, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    /// `(name, found)` for each prefix that was found.
    pub found: Vec<(String, Found)>,
    /// The failure, if the full name was not reached.
    pub missing: Option<Missing>,
}

/// Name lookups over the walked tree, the standard-library list and the virtualenv.
pub struct Resolver<'a> {
    /// The walked directories.
    pub tree: &'a Tree,
    /// Search roots, in `sys.path` order.
    pub roots: &'a [PathBuf],
    /// Source path to module index.
    pub index: &'a HashMap<PathBuf, usize>,
    /// Module index to source path.
    pub paths: &'a [PathBuf],
    /// The target's standard library.
    pub stdlib: Stdlib,
    /// The virtualenv, if any.
    pub venv: Option<&'a Venv>,
}

impl Resolver<'_> {
    /// Resolves `a.b.c`: `a`, then `a.b` inside `a`, then `a.b.c`.
    pub fn absolute(&self, dotted: &str) -> Steps {
        let mut parts = dotted.split('.');
        let first = parts.next().unwrap_or_default();
        let mut steps = Steps::default();
        match self.top_level(first) {
            Some(found) => steps.found.push((first.to_owned(), found)),
            None => {
                steps.missing = Some(Missing::NotFound(first.to_owned()));
                return steps;
            }
        }
        self.descend(&mut steps, parts);
        steps
    }

    /// Continues `steps` (whose last entry is the base package) with more dotted parts.
    pub fn descend<'n>(&self, steps: &mut Steps, parts: impl Iterator<Item = &'n str>) {
        for part in parts {
            let Some((parent_name, parent)) = steps.found.last() else {
                return;
            };
            let name = format!("{parent_name}.{part}");
            match parent {
                Found::Stdlib | Found::ThirdParty => {
                    // Submodules of installed code are not checked: assume they exist.
                    let found = parent.clone();
                    steps.found.push((name, found));
                }
                Found::Module(_) | Found::Namespace(_) | Found::Binary(_) => {
                    let Some(dirs) = self.package_dirs(parent) else {
                        steps.missing = Some(Missing::NotAPackage(parent_name.clone()));
                        return;
                    };
                    match self.find_in(&dirs, part) {
                        Some(found) => steps.found.push((name, found)),
                        None => {
                            steps.missing = Some(Missing::NotFound(name));
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The package a relative import with `level` dots starts from, given the importer's
    /// file and dotted name.
    pub fn relative_base(
        &self,
        importer: &Path,
        importer_name: &str,
        is_package: bool,
        level: u32,
    ) -> Result<(String, Found), Missing> {
        let mut package: Vec<&str> = importer_name.split('.').collect();
        if !is_package {
            package.pop();
        }
        let mut dir = importer.parent().map(Path::to_path_buf).unwrap_or_default();
        if package.is_empty() || importer_name.is_empty() {
            return Err(Missing::NoParentPackage);
        }
        let up = usize::try_from(level.saturating_sub(1)).unwrap_or(usize::MAX);
        if package.len() <= up {
            return Err(Missing::BeyondTopLevel);
        }
        for _ in 0..up {
            package.pop();
            dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
        }
        let init = dir.join("__init__.py");
        let found = match self.index.get(&init) {
            Some(&i) => Found::Module(i),
            None => Found::Namespace(vec![dir]),
        };
        Ok((package.join("."), found))
    }

    /// Directories a found module searches for submodules (`None` for a plain module).
    pub fn package_dirs(&self, found: &Found) -> Option<Vec<PathBuf>> {
        match found {
            Found::Namespace(dirs) => Some(dirs.clone()),
            Found::Module(i) => {
                let path = self.paths.get(*i)?;
                let is_init = path.file_name().is_some_and(|n| n == "__init__.py");
                is_init.then(|| path.parent().map(|p| vec![p.to_path_buf()]))?
            }
            // A package whose `__init__` is compiled is recorded as its directory.
            Found::Binary(path) => self
                .tree
                .dirs
                .contains_key(path)
                .then(|| vec![path.clone()]),
            Found::Stdlib | Found::ThirdParty => None,
        }
    }

    fn top_level(&self, name: &str) -> Option<Found> {
        if self.stdlib.is_preloaded(name) {
            return Some(Found::Stdlib);
        }
        let regular = self.find_in(self.roots, name);
        if let Some(found) = regular
            .as_ref()
            .filter(|f| !matches!(f, Found::Namespace(_)))
        {
            return Some(found.clone());
        }
        if self.stdlib.contains(name) {
            return Some(Found::Stdlib);
        }
        if self.venv.is_some_and(|v| v.names.contains(name)) {
            return Some(Found::ThirdParty);
        }
        regular
    }

    /// One `FileFinder` pass per directory; a namespace only when no directory has
    /// a regular module.
    fn find_in(&self, dirs: &[PathBuf], name: &str) -> Option<Found> {
        let mut portions = Vec::new();
        for dir in dirs {
            let Some(listing) = self.tree.dirs.get(dir) else {
                continue;
            };
            if listing.dirs.contains(name) {
                let sub = dir.join(name);
                match self.tree.dirs.get(&sub).and_then(|l| l.init()) {
                    Some(FileKind::Source) => {
                        let init = sub.join("__init__.py");
                        return Some(match self.index.get(&init) {
                            Some(&i) => Found::Module(i),
                            None => Found::Binary(sub),
                        });
                    }
                    Some(_) => return Some(Found::Binary(sub)),
                    None => portions.push(sub),
                }
            }
            match listing.files.get(name) {
                Some(FileKind::Source) => {
                    let file = dir.join(format!("{name}.py"));
                    return Some(match self.index.get(&file) {
                        Some(&i) => Found::Module(i),
                        None => Found::Binary(file),
                    });
                }
                Some(_) => return Some(Found::Binary(dir.join(name))),
                None => {}
            }
        }
        (!portions.is_empty()).then_some(Found::Namespace(portions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::discover::Scope;
    use crate::pyc::magic::PyVersion;
    use std::fs;

    struct Fixture {
        _dir: tempfile::TempDir,
        roots: Vec<PathBuf>,
        tree: Tree,
        paths: Vec<PathBuf>,
        index: HashMap<PathBuf, usize>,
    }

    fn fixture(files: &[&str], roots: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "").unwrap();
        }
        let roots: Vec<PathBuf> = roots.iter().map(|r| dir.path().join(r)).collect();
        let tree = Tree::walk(&roots, Scope::Project);
        let paths = tree.sources.clone();
        let index = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i))
            .collect();
        Fixture {
            _dir: dir,
            roots,
            tree,
            paths,
            index,
        }
    }

    impl Fixture {
        fn resolver(&self) -> Resolver<'_> {
            Resolver {
                tree: &self.tree,
                roots: &self.roots,
                index: &self.index,
                paths: &self.paths,
                stdlib: Stdlib::for_version(PyVersion::new(3, 13)),
                venv: None,
            }
        }

        fn file(&self, found: &Found) -> String {
            match found {
                Found::Module(i) => self.paths[*i]
                    .strip_prefix(self._dir.path())
                    .unwrap()
                    .display()
                    .to_string(),
                other => format!("{other:?}"),
            }
        }
    }

    #[test]
    fn regular_beats_namespace_and_project_shadows_stdlib() {
        let f = fixture(
            &[
                "a/ns/x.py",
                "b/ns.py",
                "a/json.py",
                "a/os.py",
                "a/pkg/__init__.py",
                "a/pkg/sub.py",
            ],
            &["a", "b"],
        );
        let r = f.resolver();
        // `ns` is a namespace portion in a/, but b/ns.py is a regular module: it wins.
        assert_eq!(f.file(&r.absolute("ns").found[0].1), "b/ns.py");
        // A project json.py shadows the standard library; os is loaded before any script runs.
        assert_eq!(f.file(&r.absolute("json").found[0].1), "a/json.py");
        assert_eq!(r.absolute("os").found[0].1, Found::Stdlib);
        let steps = r.absolute("pkg.sub");
        assert_eq!(steps.found.len(), 2);
        assert_eq!(f.file(&steps.found[1].1), "a/pkg/sub.py");
        assert_eq!(
            r.absolute("pkg.nope").missing,
            Some(Missing::NotFound("pkg.nope".into()))
        );
        assert_eq!(
            r.absolute("json.x").missing,
            Some(Missing::NotAPackage("json".into()))
        );
        assert_eq!(
            r.absolute("flask").missing,
            Some(Missing::NotFound("flask".into()))
        );
        assert_eq!(r.absolute("email.mime").found[1].1, Found::Stdlib);
    }

    #[test]
    fn namespace_portions_are_merged_across_roots() {
        let f = fixture(&["a/ns/x.py", "b/ns/y.py"], &["a", "b"]);
        let r = f.resolver();
        let ns = &r.absolute("ns").found[0].1;
        assert!(matches!(ns, Found::Namespace(d) if d.len() == 2));
        assert_eq!(f.file(&r.absolute("ns.y").found[1].1), "b/ns/y.py");
    }

    #[test]
    fn relative_bases() {
        let f = fixture(
            &[
                "r/p/__init__.py",
                "r/p/q/__init__.py",
                "r/p/q/m.py",
                "r/top.py",
            ],
            &["r"],
        );
        let r = f.resolver();
        let m = f.roots[0].join("p/q/m.py");
        let (name, found) = r.relative_base(&m, "p.q.m", false, 1).unwrap();
        assert_eq!(
            (name.as_str(), f.file(&found).as_str()),
            ("p.q", "r/p/q/__init__.py")
        );
        let (name, _) = r.relative_base(&m, "p.q.m", false, 2).unwrap();
        assert_eq!(name, "p");
        assert_eq!(
            r.relative_base(&m, "p.q.m", false, 3),
            Err(Missing::BeyondTopLevel)
        );
        let top = f.roots[0].join("top.py");
        assert_eq!(
            r.relative_base(&top, "top", false, 1),
            Err(Missing::NoParentPackage)
        );
    }
}
