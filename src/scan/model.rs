//! The scan model: the one inventory every pane and every subcommand reads.
//!
//! It changes only through [`ScanModel::apply`], which does no I/O, so the TUI can own it
//! on its thread while the scanner sends [`ScanEvent`]s, and tests can build it by hand.

use super::modules::BytesHash;
pub use super::modules::Modules;
use super::record::{CacheRecord, FileMeta, ScanError, SourceRecord};
use crate::pyc::Status;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Version of every `--json` layout (documented in docs/json.md); bump when a field
/// changes meaning. 2: snapshots as tables, paths relative to their root.
pub const SCHEMA: u32 = 2;

/// What the scanner sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanEvent {
    /// A batch of findings plus how much was walked since the last batch.
    Batch(Box<ScanBatch>),
    /// Cache files that no longer exist (removed by a clean): drop them from the model.
    Removed(Vec<PathBuf>),
    /// The walk is complete.
    Finished,
}

/// Findings sent together, so the UI thread wakes once per batch rather than per file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanBatch {
    /// Sources found.
    pub sources: Vec<SourceRecord>,
    /// Caches found, already judged.
    pub caches: Vec<CacheRecord>,
    /// Problems met.
    pub errors: Vec<ScanError>,
    /// Directories entered since the previous batch.
    pub dirs_seen: u64,
    /// Files seen since the previous batch.
    pub files_seen: u64,
}

/// How far the scan is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Directories entered.
    pub dirs: u64,
    /// Files seen.
    pub files: u64,
    /// True once the scanner sent `Finished`.
    pub finished: bool,
}

/// A Python module: its source (present or not) and the caches that belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Dotted name relative to its root.
    pub name: String,
    /// Where the source is, or where CPython looks for it.
    pub source: PathBuf,
    /// `stat` of the source when it exists.
    pub source_meta: Option<FileMeta>,
    /// True for a package's `__init__.py`.
    pub is_package: bool,
    /// Indices into [`ScanModel::caches`].
    pub caches: Vec<usize>,
}

impl Module {
    /// True when the source file exists.
    pub fn source_exists(&self) -> bool {
        self.source_meta.is_some()
    }
}

/// Count and bytes of a group of caches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Number of cache files.
    pub count: u64,
    /// Apparent bytes.
    pub bytes: u64,
    /// Bytes on disk.
    pub disk_usage: u64,
}

impl Totals {
    fn add(&mut self, meta: &FileMeta) {
        self.count += 1;
        self.bytes += meta.size;
        self.disk_usage += meta.disk_usage;
    }
}

/// Totals by verdict and interpreter tag, kept up to date by `apply`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// (status, tag or "-") -> totals.
    pub cells: BTreeMap<(Status, String), Totals>,
}

impl Summary {
    fn add(&mut self, cache: &CacheRecord) {
        let tag = cache.tag.clone().unwrap_or_else(|| "-".to_string());
        self.cells
            .entry((cache.status, tag))
            .or_default()
            .add(&cache.meta);
    }

    /// Totals per status, worst first.
    pub fn by_status(&self) -> Vec<(Status, Totals)> {
        let mut map: BTreeMap<Status, Totals> = BTreeMap::new();
        for ((status, _), t) in &self.cells {
            let e = map.entry(*status).or_default();
            e.count += t.count;
            e.bytes += t.bytes;
            e.disk_usage += t.disk_usage;
        }
        map.into_iter().collect()
    }

    /// Totals per tag, by name.
    pub fn by_tag(&self) -> Vec<(String, Totals)> {
        let mut map: BTreeMap<String, Totals> = BTreeMap::new();
        for ((_, tag), t) in &self.cells {
            let e = map.entry(tag.clone()).or_default();
            e.count += t.count;
            e.bytes += t.bytes;
            e.disk_usage += t.disk_usage;
        }
        map.into_iter().collect()
    }

    /// Everything.
    pub fn total(&self) -> Totals {
        let mut all = Totals::default();
        for t in self.cells.values() {
            all.count += t.count;
            all.bytes += t.bytes;
            all.disk_usage += t.disk_usage;
        }
        all
    }

    /// Number of caches with this status.
    pub fn count(&self, status: Status) -> u64 {
        self.cells
            .iter()
            .filter(|((s, _), _)| *s == status)
            .map(|(_, t)| t.count)
            .sum()
    }
}

/// The inventory of one scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanModel {
    /// The roots scanned (absolute).
    pub roots: Vec<PathBuf>,
    /// The `PYTHONPYCACHEPREFIX` tree, when one was scanned.
    pub prefix: Option<PathBuf>,
    /// Every cache found, in arrival order.
    pub caches: Vec<CacheRecord>,
    /// Modules by id, found by source path (existing or expected).
    pub modules: Modules,
    /// Problems met.
    pub errors: Vec<ScanError>,
    /// Walk progress.
    pub progress: Progress,
    /// Totals by status x tag.
    pub summary: Summary,
}

impl ScanModel {
    /// An empty model for these roots.
    pub fn new(roots: Vec<PathBuf>, prefix: Option<PathBuf>) -> Self {
        Self {
            roots,
            prefix,
            ..Self::default()
        }
    }

    /// Applies one scanner event. No I/O.
    pub fn apply(&mut self, event: ScanEvent) {
        match event {
            ScanEvent::Batch(batch) => {
                let batch = *batch;
                self.progress.dirs += batch.dirs_seen;
                self.progress.files += batch.files_seen;
                self.add_batch(batch.sources, batch.caches);
                self.errors.extend(batch.errors);
            }
            ScanEvent::Removed(paths) => self.remove_caches(&paths),
            ScanEvent::Finished => self.progress.finished = true,
        }
    }

    /// Adds a batch's sources and caches. Comparing paths in `modules` costs far more than
    /// hashing them, and a directory's sources and `__pycache__` arrive in one batch: caches
    /// whose source is in the batch join its module when the source is inserted, so most
    /// caches cost a hash lookup rather than an ordered-map search. Same result as adding
    /// the sources, then the caches, one by one.
    fn add_batch(&mut self, sources: Vec<SourceRecord>, caches: Vec<CacheRecord>) {
        let base = self.caches.len();
        let in_batch: HashMap<&[u8], usize, BytesHash> = sources
            .iter()
            .enumerate()
            .map(|(j, s)| (s.path.as_os_str().as_bytes(), j))
            .collect();
        // (source position, cache index) for caches whose source is in the batch, grouped
        // by source and in arrival order within a source (the sort is stable).
        let mut joined: Vec<(usize, usize)> = Vec::new();
        let mut alone: Vec<bool> = Vec::with_capacity(caches.len());
        let mut tally = BatchTally::default();
        for (i, c) in caches.iter().enumerate() {
            tally.add(c);
            match c
                .source
                .as_deref()
                .and_then(|p| in_batch.get(p.as_os_str().as_bytes()))
            {
                Some(&j) => {
                    joined.push((j, base + i));
                    alone.push(false);
                }
                None => alone.push(true),
            }
        }
        drop(in_batch);
        tally.merge_into(&mut self.summary);
        joined.sort_by_key(|&(j, _)| j);
        let mut next = joined.iter().peekable();
        for (j, s) in sources.into_iter().enumerate() {
            let m = self.source_module(s);
            while let Some(&(_, i)) = next.next_if(|&&(k, _)| k == j) {
                push_index(&mut m.caches, i);
            }
        }
        // The batch's array becomes (or extends) the model's: a snapshot's one batch of a
        // million caches is not held twice while it is moved over.
        if self.caches.is_empty() {
            self.caches = caches;
        } else {
            self.caches.extend(caches);
        }
        for (i, alone) in alone.into_iter().enumerate() {
            if alone && let Some(c) = self.caches.get(base + i) {
                join_module(&mut self.modules, c, base + i);
            }
        }
    }

    /// Records a source in its module (created when new) and returns that module.
    fn source_module(&mut self, s: SourceRecord) -> &mut Module {
        let SourceRecord {
            path,
            module,
            is_package,
            meta,
        } = s;
        let id = match self.modules.id_of(&path) {
            Some(id) => id,
            None => self.modules.insert_new(Module {
                name: String::new(),
                source: path,
                source_meta: None,
                is_package,
                caches: Vec::new(),
            }),
        };
        let m = self.modules.at_mut(id);
        m.name = module;
        m.is_package = is_package;
        m.source_meta = Some(meta);
        m
    }

    fn add_cache(&mut self, c: CacheRecord) {
        join_module(&mut self.modules, &c, self.caches.len());
        self.summary.add(&c);
        self.caches.push(c);
    }

    fn remove_caches(&mut self, paths: &[PathBuf]) {
        let gone: HashSet<&PathBuf> = paths.iter().collect();
        let caches = std::mem::take(&mut self.caches);
        for m in self.modules.values_mut() {
            m.caches.clear();
        }
        self.summary = Summary::default();
        for c in caches.into_iter().filter(|c| !gone.contains(&c.path)) {
            self.add_cache(c);
        }
        // A module that only existed through its caches disappears with them.
        self.modules
            .retain(|m| m.source_meta.is_some() || !m.caches.is_empty());
    }

    /// The caches of a module.
    pub fn caches_of<'a>(&'a self, module: &'a Module) -> impl Iterator<Item = &'a CacheRecord> {
        module.caches.iter().filter_map(|&i| self.caches.get(i))
    }

    /// The module a cache belongs to.
    pub fn module_of(&self, cache: &CacheRecord) -> Option<&Module> {
        self.modules.get(module_key(cache))
    }

    /// Finds a cache by path.
    pub fn cache(&self, path: &Path) -> Option<&CacheRecord> {
        self.caches.iter().find(|c| c.path == path)
    }

    /// The root a path lies under (the longest matching root).
    pub fn root_of(&self, path: &Path) -> Option<&Path> {
        self.roots
            .iter()
            .filter(|r| path.starts_with(r))
            .max_by_key(|r| r.as_os_str().len())
            .map(PathBuf::as_path)
    }

    /// The directory a tagged cache outside `__pycache__` was written under, when that
    /// directory mirrors a source this scan found (`PFX/srv/app/m.cpython-313.pyc` for
    /// `/srv/app/m.py`): a live `PYTHONPYCACHEPREFIX` tree scanned without
    /// `--pycache-prefix`. Such caches look orphaned to CPython's rules alone, but a service
    /// with the prefix set uses them, so a clean must not take them by default. No I/O.
    pub fn mirror_prefix_of(&self, cache: &CacheRecord) -> Option<PathBuf> {
        if cache.location != crate::pyc::Location::Legacy || cache.status != Status::Orphaned {
            return None;
        }
        let dir = cache.path.parent()?;
        let name = cache.path.file_name()?.to_str()?;
        let stem = crate::pyc::name::parse_tagged(name)?.stem;
        let root = self.root_of(&cache.path)?;
        dir.ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(root))
            .find(|prefix| {
                super::classify::prefix_source_dir(prefix, dir).is_some_and(|src| {
                    self.modules
                        .get(&src.join(format!("{stem}.py")))
                        .is_some_and(Module::source_exists)
                })
            })
            .map(Path::to_path_buf)
    }

    /// True when any cache is stale, orphaned, shadowed or invalid (`scan --check`).
    pub fn has_problems(&self) -> bool {
        self.summary.cells.keys().any(|(s, _)| s.is_problem())
    }
}

impl CacheRecord {
    /// True when the cache belongs to a package's `__init__`.
    pub fn module_is_package(&self) -> bool {
        self.source
            .as_deref()
            .and_then(Path::file_stem)
            .is_some_and(|s| s == "__init__")
    }
}

/// Adds cache `index` to the module it belongs to, creating the module when new.
fn join_module(modules: &mut Modules, c: &CacheRecord, index: usize) {
    let key = c.source.as_ref().unwrap_or(&c.path);
    // Look up before cloning a key: most modules exist already.
    if let Some(m) = modules.get_mut(key) {
        push_index(&mut m.caches, index);
    } else {
        modules.insert_new(Module {
            name: c.module.clone(),
            source: key.clone(),
            source_meta: None,
            is_package: c.module_is_package(),
            caches: vec![index],
        });
    }
}

/// Appends a cache index, with no spare room while the list is short: most modules have
/// one to three caches, and the default first growth to four would cost a larger
/// allocation for each of ~25k modules.
fn push_index(caches: &mut Vec<usize>, index: usize) {
    if caches.len() < 4 {
        caches.reserve_exact(1);
    }
    caches.push(index);
}

/// A batch's totals by status and tag, summed before they reach [`Summary::cells`], so the
/// map is searched and its tag key allocated once per batch and cell, not once per cache.
#[derive(Default)]
struct BatchTally<'a> {
    cells: Vec<(Status, Option<&'a str>, Totals)>,
}

impl<'a> BatchTally<'a> {
    fn add(&mut self, c: &'a CacheRecord) {
        let tag = c.tag.as_deref();
        let i = match self
            .cells
            .iter()
            .position(|(s, t, _)| *s == c.status && *t == tag)
        {
            Some(i) => i,
            None => {
                self.cells.push((c.status, tag, Totals::default()));
                self.cells.len() - 1
            }
        };
        if let Some(cell) = self.cells.get_mut(i) {
            cell.2.add(&c.meta);
        }
    }

    fn merge_into(self, summary: &mut Summary) {
        for (status, tag, t) in self.cells {
            let e = summary
                .cells
                .entry((status, tag.unwrap_or("-").to_string()))
                .or_default();
            e.count += t.count;
            e.bytes += t.bytes;
            e.disk_usage += t.disk_usage;
        }
    }
}

/// Modules are keyed by the source path CPython maps the cache to; a cache that maps to
/// no source (an untagged name in `__pycache__`) stands for itself.
fn module_key(c: &CacheRecord) -> &Path {
    c.source.as_deref().unwrap_or(&c.path)
}

#[cfg(test)]
mod tests;
