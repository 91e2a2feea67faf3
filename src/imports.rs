//! Import reachability: which project modules an application really imports, from its
//! sources alone.
//!
//! [`analyze`] walks the project ([`discover`]), parses every source with ruff's
//! error-tolerant parser on all cores ([`parse`], [`extract`], PEP 263 decoding in
//! [`source`]), resolves each import like CPython's path finder ([`resolve`], [`build`],
//! the standard-library lists in [`stdlib`], the virtualenv in [`venv`]; import calls and
//! `__all__` in [`calls`], guards in [`conditions`], the statement walk in [`walk`],
//! constant names in [`consts`]), and follows the imports from the entry points ([`entry`])
//! to give every module a [`Reachability`] and the shortest chain that reaches it
//! ([`graph`], [`reach`]); what module bodies call at start ([`flow`], [`startup`]) counts
//! as imported at start. [`findings`] turns that into problems.

pub mod build;
pub mod calls;
pub mod conditions;
pub mod consts;
pub mod discover;
pub mod entry;
pub mod extract;
pub mod findings;
pub mod flow;
pub mod graph;
pub mod lazy;
pub mod parse;
pub mod reach;
pub mod resolve;
pub mod source;
pub mod startup;
pub mod stdlib;
pub mod venv;
pub mod walk;

pub use discover::Scope;
pub use graph::{ImportGraph, Module, Reachability, Resolved};

use crate::pyc::magic::PyVersion;
use build::{Importer, entry_point, resolve_imports};
use entry::{Entry, EntryKind};
use graph::{EntryPoint, Unresolved};
use resolve::Resolver;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use venv::Venv;

/// What to analyse.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project root (a file means: its directory, with the file as entry).
    pub root: PathBuf,
    /// `--entry` arguments: files, or dotted module names.
    pub entries: Vec<String>,
    /// Extra search roots (`--path`), like `PYTHONPATH`.
    pub paths: Vec<PathBuf>,
    /// `--venv`.
    pub venv: Option<PathBuf>,
    /// `--python`.
    pub python: Option<PyVersion>,
    /// Which files to parse.
    pub scope: Scope,
    /// The interpreter's PEP 810 mode (`-X lazy_imports`, `PYTHON_LAZY_IMPORTS`; 3.15+).
    pub lazy_imports: lazy::Mode,
}

/// The newest version with a standard-library list: the default target.
pub const DEFAULT_PYTHON: PyVersion = stdlib::NEWEST;

/// A usage or I/O problem that stops the analysis (per-file problems never do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// An I/O error in the words of an error line: lower-case, without `(os error N)`.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::NotADirectory => "a path component is not a directory".into(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_lowercase().chain(chars).collect::<String>()
            })
        }
    }
}

fn canonical(path: &Path, what: &str) -> Result<PathBuf, Error> {
    path.canonicalize().map_err(|e| {
        Error(format!(
            "cannot open {what} {}: {}; check the path",
            path.display(),
            io_reason(&e)
        ))
    })
}

/// Builds the import graph of a project: entries and search path first, then every source
/// parsed (on all cores), each import resolved, and reachability from the entries.
pub fn analyze(opts: &Options) -> Result<ImportGraph, Error> {
    let mut notes = Vec::new();
    let given = canonical(&opts.root, "project")?;
    let (root, root_entry) = if given.is_file() {
        let dir = given.parent().map(Path::to_path_buf).unwrap_or_default();
        (dir, Some(given))
    } else {
        (given, None)
    };
    let venv = open_venv(opts, &root, &mut notes)?;
    let (python, python_from) = match (opts.python, venv.as_ref().and_then(|v| v.version)) {
        (Some(v), _) => (v, "--python".to_owned()),
        (None, Some(v)) => (v, "from the virtualenv's pyvenv.cfg".to_owned()),
        (None, None) => (
            DEFAULT_PYTHON,
            "default; pass --python or --venv to choose".to_owned(),
        ),
    };
    let stdlib = stdlib::Stdlib::for_version(python);
    notes.extend(stdlib.fallback_note());
    notes.extend(lazy::note(opts.lazy_imports, python));
    let mut unread_config = venv.as_ref().map(|v| v.unread.clone()).unwrap_or_default();
    let (entries, detected) = entries_of(opts, &root, root_entry, &mut notes, &mut unread_config)?;

    let roots = search_roots(&root, &entries, &opts.paths)?;
    let mut tree = discover::Tree::walk(&roots, opts.scope);
    for e in &entries {
        if let Some(p) = e.path.as_ref().filter(|p| !tree.sources.contains(p)) {
            tree.sources.push(p.clone());
        }
    }
    // Names that are not UTF-8 are shown escaped (`caf\xe9.py`), as everywhere in pycache.
    let rel = |p: &Path| -> String { crate::text::path_text(p.strip_prefix(&root).unwrap_or(p)) };
    let mut files: Vec<(String, PathBuf)> =
        tree.sources.iter().map(|p| (rel(p), p.clone())).collect();
    files.sort();
    files.dedup();
    let paths: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
    let index: HashMap<PathBuf, usize> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), i))
        .collect();
    let resolver = Resolver {
        tree: &tree,
        roots: &roots,
        index: &index,
        paths: &paths,
        stdlib,
        venv: venv.as_ref(),
    };
    // A mistyped module entry is a usage error: found before the (long) parse.
    check_module_entries(&entries, &resolver)?;
    let mut parsed = parse::parse_all(&paths, python);
    let flows: Vec<flow::Flow> = parsed
        .iter_mut()
        .map(|p| std::mem::take(&mut p.extracted.flow))
        .collect();
    let rel_of = |i: usize| files[i].0.clone();
    let lazy = (opts.lazy_imports, python);
    let (mut modules, dynamic) = build_modules(&files, &mut parsed, &resolver, &rel_of, lazy);
    for (m, flow) in modules.iter_mut().zip(flows) {
        m.flow = flow;
    }

    let module_of = |p: &Path| index.get(p).copied();
    let mut points: Vec<EntryPoint> = entries
        .iter()
        .map(|e| entry_point(e, &resolver, &module_of, &rel_of, &root))
        .collect();
    if detected && points.len() > 1 {
        points = entry::drop_imported_candidates(&modules, points, &mut notes);
    }
    let (levels, at_start) = graph::reach_at_start(&modules, &points);
    for (j, k, why) in at_start {
        let imp = &mut modules[j].imports[k];
        imp.at_start.get_or_insert(why);
    }
    for (m, (level, chain, via)) in modules.iter_mut().zip(levels) {
        m.reachability = level;
        m.chain = chain;
        m.via = via;
    }
    let (unresolved, external) = outside(&modules, dynamic);
    Ok(ImportGraph {
        root,
        python,
        python_from,
        entries: points,
        notes,
        search_path: roots,
        venv,
        modules,
        unresolved,
        external,
        skipped: tree.skipped,
        walk_errors: tree.errors,
        unread_config,
    })
}

/// `--venv`, else a virtualenv beside the project (one that does not open is a note).
fn open_venv(opts: &Options, root: &Path, notes: &mut Vec<String>) -> Result<Option<Venv>, Error> {
    if let Some(dir) = &opts.venv {
        return venv::open(&canonical(dir, "virtualenv")?)
            .map(Some)
            .map_err(Error);
    }
    Ok(venv::detect(root).and_then(|dir| match venv::open(&dir) {
        Ok(v) => Some(v),
        Err(e) => {
            notes.push(format!("ignored {}: {e}", dir.display()));
            None
        }
    }))
}

/// The `--entry` arguments (or the file given as the project), else the detected entries;
/// true when detected.
fn entries_of(
    opts: &Options,
    root: &Path,
    root_entry: Option<PathBuf>,
    notes: &mut Vec<String>,
    unread: &mut Vec<(PathBuf, String)>,
) -> Result<(Vec<Entry>, bool), Error> {
    let mut entries: Vec<Entry> = Vec::new();
    for arg in &opts.entries {
        entries.push(entry::from_arg(arg, root).map_err(Error)?);
    }
    entries.extend(root_entry.map(|f| Entry::script(f, None)));
    let detected = entries.is_empty();
    if detected {
        entries = entry::detect(root, unread);
        if entries.is_empty() && opts.scope == Scope::Project {
            notes.push(format!(
                "no entry point found (looked for {}, __main__.py, [project.scripts]); pass --entry FILE",
                entry::SCRIPT_NAMES.join(", ")
            ));
        }
    }
    for e in &mut entries {
        if let Some(p) = &e.path {
            e.path = Some(canonical(p, "entry")?);
        }
    }
    Ok((entries, detected))
}

/// A module given with `--entry` must exist in the project or the standard library.
fn check_module_entries(entries: &[Entry], resolver: &Resolver<'_>) -> Result<(), Error> {
    for e in entries
        .iter()
        .filter(|e| e.path.is_none() && e.detected.is_none())
    {
        let name = e.module.as_deref().unwrap_or_default();
        if let Some(missing) = resolver.absolute(name).missing {
            let dirs: Vec<String> = resolver
                .roots
                .iter()
                .map(|r| r.display().to_string())
                .collect();
            return Err(Error(format!(
                "--entry {name}: {missing} (searched {} and the standard library); pass the script or module the service runs",
                dirs.join(", ")
            )));
        }
    }
    Ok(())
}

type Dynamic = Vec<(u32, String)>;

/// One [`Module`] per file with its imports resolved (not yet reached), and each file's
/// dynamic imports.
fn build_modules(
    files: &[(String, PathBuf)],
    parsed: &mut [parse::ParsedFile],
    resolver: &Resolver<'_>,
    rel_of: &dyn Fn(usize) -> String,
    (lazy_mode, python): (lazy::Mode, PyVersion),
) -> (Vec<Module>, Vec<Dynamic>) {
    // PEP 810 needs each module's own name (relative imports, `__lazy_modules__`).
    for ((_, file), parsed) in files.iter().zip(parsed.iter_mut()) {
        if !lazy::applies(&parsed.extracted, lazy_mode, python) {
            continue;
        }
        let name = discover::module_name(file, resolver.roots).unwrap_or_else(|| stem(file));
        let is_package = file.file_name().is_some_and(|n| n == "__init__.py");
        lazy::mark(&mut parsed.extracted, &name, is_package, lazy_mode, python);
    }
    let parsed: &[parse::ParsedFile] = parsed;
    let all_names = |i: usize| parsed.get(i).and_then(|p| p.extracted.all_names.clone());
    let mut modules = Vec::with_capacity(files.len());
    let mut dynamic_by_module = Vec::with_capacity(files.len());
    for ((rel_path, file), parsed) in files.iter().zip(parsed) {
        let name = discover::module_name(file, resolver.roots).unwrap_or_else(|| stem(file));
        let is_package = file.file_name().is_some_and(|n| n == "__init__.py");
        let importer = Importer {
            file,
            name: &name,
            is_package,
        };
        let (imports, dynamic) =
            resolve_imports(resolver, &importer, &parsed.extracted, &all_names, rel_of);
        dynamic_by_module.push(dynamic);
        modules.push(Module {
            name,
            path: rel_path.clone(),
            file: file.clone(),
            is_package,
            reachability: Reachability::NotImported,
            chain: Vec::new(),
            via: None,
            health: parsed.health.clone(),
            newer_syntax: parsed.extracted.newer_syntax.clone(),
            imports,
            flow: flow::Flow::default(),
        });
    }
    (modules, dynamic_by_module)
}

/// Dynamic imports, and the external modules that code which runs imports.
fn outside(
    modules: &[Module],
    dynamic_by_module: Vec<Dynamic>,
) -> (Vec<Unresolved>, BTreeMap<String, Resolved>) {
    let mut unresolved = Vec::new();
    let mut external = BTreeMap::new();
    for (m, dynamic) in modules.iter().zip(dynamic_by_module) {
        for (line, code) in dynamic {
            unresolved.push(Unresolved {
                path: m.path.clone(),
                line,
                code,
                reachability: m.reachability,
            });
        }
        if !m.reachability.runs() && m.reachability != Reachability::TypeCheckingOnly {
            continue;
        }
        for imp in m
            .imports
            .iter()
            .filter(|i| !i.context.other_version && !i.fallback_unused)
        {
            if matches!(imp.resolved, Resolved::Stdlib | Resolved::ThirdParty)
                || (imp.resolved == Resolved::Missing
                    && !imp.module.starts_with('.')
                    && imp.parents.is_empty())
            {
                external.insert(imp.module.clone(), imp.resolved);
            }
        }
    }
    (unresolved, external)
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| crate::text::path_text(Path::new(s)))
        .unwrap_or_default()
}

/// `sys.path` as the entries would see it: each script's directory (`python DIR` too),
/// `--path` directories, the project root (where `python -m` runs), and `src/`.
fn search_roots(root: &Path, entries: &[Entry], extra: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for e in entries {
        let Some(dir) = e.path.as_ref().and_then(|p| p.parent()) else {
            continue;
        };
        let in_package =
            e.kind == EntryKind::RunModule && dir.join("__init__.py").is_file() && dir != root;
        let dir = if in_package { root } else { dir };
        if !roots.iter().any(|r| r == dir) {
            roots.push(dir.to_path_buf());
        }
    }
    for p in extra {
        let dir = canonical(p, "--path directory")?;
        if !dir.is_dir() {
            return Err(Error(format!("--path {}: not a directory", p.display())));
        }
        if !roots.contains(&dir) {
            roots.push(dir);
        }
    }
    let src = root.join("src");
    for dir in [root.to_path_buf(), src] {
        if dir.is_dir() && !dir.join("__init__.py").exists() && !roots.contains(&dir) {
            roots.push(dir);
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    fn options(root: &Path, entries: &[&str]) -> Options {
        Options {
            root: root.to_path_buf(),
            entries: entries.iter().map(|e| (*e).to_owned()).collect(),
            paths: Vec::new(),
            venv: None,
            python: Some(PyVersion::new(3, 12)),
            scope: Scope::Project,
            lazy_imports: lazy::Mode::Normal,
        }
    }

    fn reach(g: &ImportGraph, path: &str) -> Reachability {
        g.modules
            .iter()
            .find(|m| m.path == path)
            .unwrap()
            .reachability
    }

    #[test]
    fn main_blocks_fallbacks_and_detected_entries() {
        let dir = project(&[
            (
                "run.py",
                "import app\nif __name__ == '__main__':\n    import cli_only\n",
            ),
            (
                "app.py",
                "import models\nif __name__ == '__main__':\n    import debug_only\ntry:\n    import models as m\nexcept ImportError:\n    import fallback\n",
            ),
            ("models.py", ""),
            ("cli_only.py", ""),
            ("debug_only.py", ""),
            ("fallback.py", ""),
        ]);
        let g = analyze(&options(dir.path(), &[])).unwrap();
        let labels: Vec<&str> = g.entries.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["run.py"]);
        assert!(
            g.notes
                .iter()
                .any(|n| n.starts_with("app.py is not an entry point"))
        );
        assert_eq!(reach(&g, "run.py"), Reachability::Entry);
        assert_eq!(reach(&g, "cli_only.py"), Reachability::Imported);
        assert_eq!(reach(&g, "debug_only.py"), Reachability::NotImported);
        assert_eq!(reach(&g, "fallback.py"), Reachability::NotImported);
        assert_eq!(g.python_from, "--python");
        let app = g.modules.iter().find(|m| m.path == "app.py").unwrap();
        assert!(
            app.imports
                .iter()
                .any(|i| i.module == "fallback" && i.fallback_unused)
        );
    }

    #[test]
    fn module_entries() {
        let dir = project(&[
            ("lib/__init__.py", "from . import core\n"),
            ("lib/core.py", ""),
            ("tool/__init__.py", ""),
            ("tool/__main__.py", "import lib\n"),
        ]);
        let g = analyze(&options(dir.path(), &["lib", "tool", "json"])).unwrap();
        let kinds: Vec<_> = g
            .entries
            .iter()
            .map(|e| (e.label.as_str(), e.kind))
            .collect();
        assert_eq!(kinds[0], ("lib", EntryKind::Import));
        assert_eq!(kinds[1], ("-m tool", EntryKind::RunModule));
        assert!(
            g.entries[2]
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("standard library"))
        );
        assert_eq!(reach(&g, "lib/core.py"), Reachability::Imported);
        assert_eq!(reach(&g, "tool/__main__.py"), Reachability::Imported);
        let chain = &g
            .modules
            .iter()
            .find(|m| m.path == "tool/__main__.py")
            .unwrap()
            .chain;
        assert_eq!(chain, &["-m tool", "tool.__main__"]);
    }

    #[test]
    fn usage_errors() {
        let missing = options(Path::new("/no/such/dir"), &[]);
        assert!(
            analyze(&missing)
                .unwrap_err()
                .0
                .starts_with("cannot open project /no/such/dir")
        );
        let dir = project(&[("a.py", "")]);
        let bad = options(dir.path(), &["not a module!"]);
        assert!(analyze(&bad).unwrap_err().0.contains("no such file"));
        let typo = analyze(&options(dir.path(), &["nope.sub"])).unwrap_err().0;
        assert!(
            typo.starts_with("--entry nope.sub: no module named 'nope'"),
            "{typo}"
        );
    }
}
