//! The machine outputs of a scan, written record by record straight from the model into
//! a writer (no `serde_json::Value` tree, no copy of the model): the snapshot
//! (`scan --json`), one object per cache (`scan --jsonl`) and the fleet summary
//! (`scan --summary --json`). The layouts are documented in `docs/json.md`; the snapshot
//! is read back by [`super::snapshot`].
//!
//! The snapshot states its roots once and lists directories once, in a table; sources and
//! caches are rows (arrays, their columns named once) pointing at their directory by index
//! and holding only their own name. Field names and absolute paths repeated per cache made
//! up most of the old document (1.25 KB per cache; now ~200 B).

mod fleet;

pub use fleet::{Origin, ProblemDir, TOP_FINDINGS, problem_dirs, rfc3339_utc};

use super::model::{Module, SCHEMA, ScanModel, Totals};
use super::record::{CacheRecord, FileMeta, path_text};
use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple};
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Columns of the snapshot's `dirs` table.
pub const DIR_COLUMNS: &[&str] = &["base", "path", "package"];

/// Columns of the snapshot's `sources` table.
pub const SOURCE_COLUMNS: &[&str] = &[
    "dir",
    "name",
    "module",
    "is_package",
    "size",
    "disk_usage",
    "mtime",
    "uid",
    "gid",
    "mode",
    "dev",
    "ino",
];

/// Columns of the snapshot's `caches` table.
pub const CACHE_COLUMNS: &[&str] = &[
    "dir",
    "name",
    "source_dir",
    "source",
    "module",
    "tag",
    "opt",
    "location",
    "status",
    "reason",
    "magic",
    "python",
    "invalidation",
    "header_size",
    "flags",
    "source_mtime",
    "source_size",
    "source_hash",
    "outcome",
    "link",
    "pytest",
    "body_checked",
    "size",
    "disk_usage",
    "mtime",
    "uid",
    "gid",
    "mode",
    "dev",
    "ino",
];

/// Writes `value` as JSON, compact or indented, and a final newline.
pub fn write_value<W: Write, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
    pretty: bool,
) -> io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, value)?;
    } else {
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b"\n")
}

/// The snapshot document (`scan --json`), serialized from the model as it is written.
pub struct Snapshot<'a> {
    model: &'a ScanModel,
    origin: &'a Origin,
    dirs: Vec<(Option<usize>, &'a Path)>,
    /// Per directory: the dotted package its modules are named under, when one is.
    packages: Vec<Option<&'a str>>,
    /// (directory, module) of every module whose source exists, in module order.
    sources: Vec<(usize, &'a Module)>,
    /// (directory, name, source's directory, record), in output order.
    caches: Vec<(usize, &'a [u8], Option<usize>, &'a CacheRecord)>,
}

/// Directories numbered as they are met, one hash lookup each time a record names one.
#[derive(Default)]
struct DirIds<'a> {
    ids: HashMap<&'a [u8], usize>,
    paths: Vec<&'a [u8]>,
}

impl<'a> DirIds<'a> {
    fn id(&mut self, dir: &'a [u8]) -> usize {
        let next = self.paths.len();
        let id = *self.ids.entry(dir).or_insert(next);
        if id == next {
            self.paths.push(dir);
        }
        id
    }
}

impl<'a> Snapshot<'a> {
    /// Prepares the tables: every directory once, in path order, and the caches in
    /// directory then name order, so two snapshots of the same tree are the same text.
    pub fn new(model: &'a ScanModel, origin: &'a Origin) -> Self {
        let mut bases: Vec<&Path> = model.roots.iter().map(|r| r.as_path()).collect();
        bases.extend(model.prefix.as_deref());
        // Number directories as met, then renumber them in sorted order: each record's
        // directories are hashed once (hashing was most of what the snapshot cost).
        let mut ids = DirIds::default();
        let mut caches: Vec<(usize, &[u8], Option<usize>, &CacheRecord)> = model
            .caches
            .iter()
            .map(|c| {
                let dir = ids.id(parent(&c.path));
                let source_dir = c.source.as_deref().map(|s| ids.id(parent(s)));
                (dir, name_bytes(&c.path), source_dir, c)
            })
            .collect();
        let mut sources: Vec<(usize, &Module)> = model
            .modules
            .values()
            .filter(|m| m.source_exists())
            .map(|m| (ids.id(parent(&m.source)), m))
            .collect();
        // Byte order: as deterministic as path order, and a memcmp rather than a walk over
        // components.
        let mut order: Vec<usize> = (0..ids.paths.len()).collect();
        order.sort_unstable_by(|&a, &b| ids.paths[a].cmp(ids.paths[b]));
        let mut rank = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new;
        }
        let dirs: Vec<(Option<usize>, &Path)> = order
            .iter()
            .map(|&old| split_base(&bases, Path::new(OsStr::from_bytes(ids.paths[old]))))
            .collect();
        for c in &mut caches {
            c.0 = rank[c.0];
            c.2 = c.2.map(|d| rank[d]);
        }
        for s in &mut sources {
            s.0 = rank[s.0];
        }
        // A directory's package, from the first module that names one; rows whose module
        // is that package + their stem then leave the module out (null).
        let mut packages: Vec<Option<&str>> = vec![None; dirs.len()];
        let named =
            sources
                .iter()
                .map(|&(d, m)| (d, m.source.as_path(), m.name.as_str()))
                .chain(caches.iter().filter_map(|&(_, _, sd, c)| {
                    Some((sd?, c.source.as_deref()?, c.module.as_str()))
                }));
        for (d, source, module) in named {
            if let Some(slot @ None) = packages.get_mut(d) {
                *slot = package_of(module, source);
            }
        }
        // By (directory, name): the key is cheap to compare, the paths are not.
        caches.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        Self {
            model,
            origin,
            dirs,
            packages,
            sources,
            caches,
        }
    }

    /// The module as a row writes it: None when the package of the source's directory and
    /// the source's name give it ([`module_from`]).
    fn module_cell<'m>(
        &self,
        module: &'m str,
        source: Option<&Path>,
        source_dir: Option<usize>,
    ) -> Option<&'m str> {
        let derived = || {
            let package = self.packages.get(source_dir?).copied().flatten()?;
            let stem = source?.file_stem()?.to_str()?;
            Some(if stem == "__init__" {
                module == package
            } else if package.is_empty() {
                module == stem
            } else {
                module
                    .strip_prefix(package)
                    .and_then(|m| m.strip_prefix('.'))
                    .is_some_and(|m| m == stem)
            })
        };
        if derived() == Some(true) {
            None
        } else {
            Some(module)
        }
    }
}

/// The package a module's name puts its source's directory in: `a.b` for `a.b.c` from
/// `c.py` and for `a.b` from `__init__.py`. None when the name does not end that way.
fn package_of<'m>(module: &'m str, source: &Path) -> Option<&'m str> {
    let stem = source.file_stem()?.to_str()?;
    if stem == "__init__" {
        return Some(module);
    }
    if module == stem {
        return Some("");
    }
    module.strip_suffix(stem)?.strip_suffix('.')
}

/// A module's dotted name from its directory's package and its source's file name: the
/// inverse of [`package_of`], shared by the writer and the snapshot reader.
pub fn module_from(package: &str, source_name: &str) -> String {
    let stem = Path::new(source_name)
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    if stem == "__init__" {
        package.to_string()
    } else if package.is_empty() {
        stem
    } else {
        let mut m = String::with_capacity(package.len() + 1 + stem.len());
        m.push_str(package);
        m.push('.');
        m.push_str(&stem);
        m
    }
}

/// The source name CPython maps a cache name to, when it is the usual one: the name up to
/// its first dot, plus `.py` (`m.cpython-313.opt-1.pyc` and `m.pyc` -> `m.py`).
pub fn usual_source_name(cache_name: &str) -> String {
    let stem = cache_name.split('.').next().unwrap_or_default();
    let mut name = String::with_capacity(stem.len() + 3);
    name.push_str(stem);
    name.push_str(".py");
    name
}

/// The directory of a path (`/` for a bare name, which the scanner never produces).
/// As bytes, so hashing is one write rather than a walk over components (the scanner's
/// paths are absolute and normalised: no `.`, `..`, doubled or trailing slashes).
fn parent(p: &Path) -> &[u8] {
    let b = p.as_os_str().as_bytes();
    match b.iter().rposition(|&c| c == b'/') {
        Some(0) => b"/",
        Some(i) => &b[..i],
        None => b"",
    }
}

/// The last component, as bytes (see [`parent`]).
fn name_bytes(p: &Path) -> &[u8] {
    let b = p.as_os_str().as_bytes();
    b.iter()
        .rposition(|&c| c == b'/')
        .map_or(b, |i| &b[i + 1..])
}

/// The base (root or prefix, longest match) a directory lies under, and the rest.
fn split_base<'p>(bases: &[&Path], dir: &'p Path) -> (Option<usize>, &'p Path) {
    bases
        .iter()
        .enumerate()
        .filter(|(_, b)| dir.starts_with(b))
        .max_by_key(|(_, b)| b.as_os_str().len())
        .and_then(|(i, b)| Some((Some(i), dir.strip_prefix(b).ok()?)))
        .unwrap_or((None, dir))
}

impl Serialize for Snapshot<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.model;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema", &SCHEMA)?;
        map.serialize_entry("kind", "scan")?;
        map.serialize_entry("pycache", env!("CARGO_PKG_VERSION"))?;
        map.serialize_entry("host", &self.origin.host)?;
        map.serialize_entry("time", &self.origin.time)?;
        map.serialize_entry("roots", &Paths(&m.roots))?;
        map.serialize_entry("prefix", &m.prefix.as_deref().map(path_text))?;
        map.serialize_entry("summary", &SummaryJson(m))?;
        map.serialize_entry("dirs", &Table(DIR_COLUMNS, DirRows(self)))?;
        map.serialize_entry("sources", &Table(SOURCE_COLUMNS, SourceRows(self)))?;
        map.serialize_entry("caches", &Table(CACHE_COLUMNS, CacheRows(self)))?;
        map.serialize_entry("errors", &m.errors)?;
        map.end()
    }
}

struct Paths<'a>(&'a [std::path::PathBuf]);

impl Serialize for Paths<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|p| path_text(p)))
    }
}

/// `{"columns": [...], "rows": [...]}`.
struct Table<R>(&'static [&'static str], R);

impl<R: Serialize> Serialize for Table<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("columns", self.0)?;
        map.serialize_entry("rows", &self.1)?;
        map.end()
    }
}

struct DirRows<'a, 'b>(&'b Snapshot<'a>);

impl Serialize for DirRows<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.dirs.len()))?;
        for ((base, rel), package) in self.0.dirs.iter().zip(&self.0.packages) {
            seq.serialize_element(&(base, path_text(rel), package))?;
        }
        seq.end()
    }
}

struct SourceRows<'a, 'b>(&'b Snapshot<'a>);

impl Serialize for SourceRows<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let snap = self.0;
        let mut seq = s.serialize_seq(Some(snap.sources.len()))?;
        for &(dir, m) in &snap.sources {
            if let Some(meta) = &m.source_meta {
                seq.serialize_element(&SourceRow(snap, dir, m, meta))?;
            }
        }
        seq.end()
    }
}

struct SourceRow<'a, 'b>(&'b Snapshot<'a>, usize, &'b Module, &'b FileMeta);

impl Serialize for SourceRow<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let SourceRow(snap, dir, m, meta) = *self;
        let mut t = s.serialize_tuple(SOURCE_COLUMNS.len())?;
        t.serialize_element(&dir)?;
        t.serialize_element(&Name(&m.source))?;
        t.serialize_element(&snap.module_cell(&m.name, Some(&m.source), Some(dir)))?;
        t.serialize_element(&m.is_package)?;
        meta_cells(&mut t, meta)?;
        t.end()
    }
}

struct CacheRows<'a, 'b>(&'b Snapshot<'a>);

impl Serialize for CacheRows<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let snap = self.0;
        s.collect_seq(
            snap.caches
                .iter()
                .map(|&(dir, _, source_dir, c)| CacheRow(snap, dir, source_dir, c)),
        )
    }
}

struct CacheRow<'a, 'b>(&'b Snapshot<'a>, usize, Option<usize>, &'b CacheRecord);

impl Serialize for CacheRow<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let CacheRow(snap, dir, source_dir, c) = *self;
        let header = c.header.as_ref();
        let mut t = s.serialize_tuple(CACHE_COLUMNS.len())?;
        t.serialize_element(&dir)?;
        t.serialize_element(&Name(&c.path))?;
        t.serialize_element(&source_dir)?;
        let source_name = c
            .source
            .as_deref()
            .map(Name)
            .filter(|n| !n.is_usual_for(&c.path));
        t.serialize_element(&source_name)?;
        t.serialize_element(&snap.module_cell(&c.module, c.source.as_deref(), source_dir))?;
        t.serialize_element(&c.tag)?;
        t.serialize_element(&c.opt)?;
        t.serialize_element(&c.location)?;
        t.serialize_element(&c.status)?;
        t.serialize_element(&c.reason)?;
        t.serialize_element(&c.magic)?;
        t.serialize_element(&c.python)?;
        t.serialize_element(&c.invalidation)?;
        t.serialize_element(&header.map(|h| h.header_size))?;
        t.serialize_element(&header.and_then(|h| h.flags))?;
        t.serialize_element(&header.and_then(|h| h.source_mtime))?;
        t.serialize_element(&header.and_then(|h| h.source_size))?;
        t.serialize_element(&header.and_then(|h| h.source_hash_hex()))?;
        t.serialize_element(&c.verdict.outcome)?;
        t.serialize_element(&c.kind.link)?;
        t.serialize_element(&c.kind.pytest)?;
        t.serialize_element(&c.kind.body_checked)?;
        meta_cells(&mut t, &c.meta)?;
        t.end()
    }
}

/// The `stat` cells every source and cache row ends with.
fn meta_cells<T: SerializeTuple>(t: &mut T, m: &FileMeta) -> Result<(), T::Error> {
    t.serialize_element(&m.size)?;
    t.serialize_element(&m.disk_usage)?;
    t.serialize_element(&m.mtime)?;
    t.serialize_element(&m.uid)?;
    t.serialize_element(&m.gid)?;
    t.serialize_element(&m.mode)?;
    t.serialize_element(&m.dev)?;
    t.serialize_element(&m.ino)
}

/// A path's file name as exact text (non-UTF-8 bytes as `\xNN`, like [`path_text`]).
struct Name<'a>(&'a Path);

impl Name<'_> {
    /// True when this source name is the usual one for that cache ([`usual_source_name`]).
    fn is_usual_for(&self, cache: &Path) -> bool {
        let (Some(name), Some(cache)) = (
            std::str::from_utf8(name_bytes(self.0)).ok(),
            std::str::from_utf8(name_bytes(cache)).ok(),
        ) else {
            return false;
        };
        let stem = cache.split('.').next().unwrap_or_default();
        name.strip_prefix(stem) == Some(".py")
    }
}

impl Serialize for Name<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = name_bytes(self.0);
        match std::str::from_utf8(name) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.serialize_str(&path_text(Path::new(OsStr::from_bytes(name)))),
        }
    }
}

/// The snapshot's `summary`: totals, by verdict, by tag, and how much was walked.
struct SummaryJson<'a>(&'a ScanModel);

impl Serialize for SummaryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("total", &m.summary.total())?;
        map.serialize_entry("by_status", &by_status(m))?;
        map.serialize_entry("by_tag", &by_tag(m))?;
        map.serialize_entry("dirs", &m.progress.dirs)?;
        map.serialize_entry("files", &m.progress.files)?;
        map.serialize_entry("finished", &m.progress.finished)?;
        map.end()
    }
}

fn by_status(m: &ScanModel) -> BTreeMap<&'static str, Totals> {
    m.summary
        .by_status()
        .into_iter()
        .map(|(s, t)| (s.as_str(), t))
        .collect()
}

fn by_tag(m: &ScanModel) -> BTreeMap<String, Totals> {
    m.summary.by_tag().into_iter().collect()
}

impl ScanModel {
    /// Writes the snapshot (`scan --json`) to `out`, record by record.
    pub fn write_snapshot<W: Write>(
        &self,
        out: &mut W,
        origin: &Origin,
        pretty: bool,
    ) -> io::Result<()> {
        write_value(out, &Snapshot::new(self, origin), pretty)
    }

    /// The snapshot as compact text (for tests and small models; the CLI streams).
    pub fn to_json_string(&self) -> String {
        let mut out = Vec::new();
        // Writing to memory fails only if serialization does, which these types never do.
        let _ = self.write_snapshot(&mut out, &Origin::here_and_now(), false);
        String::from_utf8_lossy(&out).into_owned()
    }
}
