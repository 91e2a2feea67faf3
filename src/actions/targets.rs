//! Recompile targets: which cache files to write for which modules, before any
//! interpreter is involved (the half of planning that needs only the scan model).
//!
//! Runs once per plan over every module, so paths are compared as bytes (hashing a `Path`
//! walks its components) and cache names are built in one reused buffer.

use super::interpreters::{Interpreters, version_of_key};
use super::paths::{FxMap, bytes, cache_name, parent_bytes};
use super::plan::CompileReason;
use super::recompile::{RECOMPILE_DEFAULT, RecompileOptions};
use super::selection::Selection;
use crate::pyc::{Invalidation, Location, PyVersion, Status};
use crate::scan::{CacheRecord, FileMeta, Module, ScanModel};
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Which modules get caches for the chosen keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every selected module, for every key (keys were named).
    Whole,
    /// Each directory's own keys (or its nearest parent's): keys came from the tree.
    PerDirectory,
}

/// One cache file to write.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) source: PathBuf,
    /// The source's size and mtime, as scanned.
    pub(crate) source_meta: FileMeta,
    pub(crate) cache: PathBuf,
    pub(crate) module: String,
    pub(crate) key: String,
    pub(crate) opt: u8,
    pub(crate) mode: Invalidation,
    pub(crate) reason: CompileReason,
}

/// Opt levels and modes the caches of one source directory use for one key.
#[derive(Debug, Clone, Default)]
struct Profile {
    /// Bit n set: some cache has opt level n (levels above 63 are ignored).
    opts: u64,
    modes: [u32; 3],
}

/// The profiles of one directory, by key (a handful: a linear list beats a map).
#[derive(Debug, Clone, Default)]
struct DirProfiles<'a>(Vec<(&'a str, Profile)>);

impl<'a> DirProfiles<'a> {
    fn entry(&mut self, key: &'a str) -> &mut Profile {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, Profile::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    fn get(&self, key: &str) -> Option<&Profile> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, p)| p)
    }
}

impl Profile {
    fn levels(&self) -> Vec<u8> {
        (0..64u8).filter(|n| self.opts & (1 << n) != 0).collect()
    }

    fn mode(&self) -> Option<Invalidation> {
        let all = [
            Invalidation::Timestamp,
            Invalidation::CheckedHash,
            Invalidation::UncheckedHash,
        ];
        let (i, n) = self
            .modes
            .iter()
            .enumerate()
            .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))?;
        (*n > 0).then(|| all[i])
    }
}

fn mode_index(m: Invalidation) -> usize {
    match m {
        Invalidation::Timestamp => 0,
        Invalidation::CheckedHash => 1,
        Invalidation::UncheckedHash => 2,
    }
}

/// The key a cache belongs to, if it is one recompile may rewrite: a tagged cache in
/// `__pycache__`/prefix, or a Python 2 legacy `.pyc` (keyed by its tag, `cpython-27`).
pub(crate) fn cache_key(c: &CacheRecord) -> Option<&str> {
    match c.location {
        Location::Pycache | Location::Prefix => c.tag.as_deref(),
        Location::Legacy => {
            let py2 = c.python.is_some_and(|v| v.major == 2);
            (py2 && bytes(&c.path).ends_with(b".pyc"))
                .then_some(c.tag.as_deref())
                .flatten()
        }
    }
}

/// The keys to compile for and how widely: named tags for every module; else the tags in
/// the tree, per directory; else (None) the newest interpreter decides, if `interps` knows.
pub(crate) fn chosen(
    model: &ScanModel,
    sel: &Selection,
    opts: &RecompileOptions,
    interps: Option<&Interpreters>,
) -> Option<(BTreeSet<String>, Scope)> {
    let explicit: BTreeSet<String> = sel
        .tags
        .iter()
        .chain(&opts.explicit_keys)
        .cloned()
        .collect();
    if !explicit.is_empty() {
        return Some((explicit, Scope::Whole));
    }
    // A handful of distinct tags among many caches: a linear list is the cheapest set.
    let mut seen: Vec<&str> = Vec::new();
    for k in model
        .caches
        .iter()
        .filter(|c| c.source.is_some())
        .filter_map(cache_key)
    {
        if !seen.contains(&k) {
            seen.push(k);
        }
    }
    let tree: BTreeSet<String> = seen.into_iter().map(str::to_string).collect();
    if !tree.is_empty() {
        return Some((tree, Scope::PerDirectory));
    }
    let newest = interps?.newest()?;
    Some((BTreeSet::from([newest.key()]), Scope::Whole))
}

fn status_selected(sel: &Selection, s: Status) -> bool {
    sel.all
        || if sel.statuses.is_empty() {
            RECOMPILE_DEFAULT.contains(&s)
        } else {
            sel.statuses.contains(&s)
        }
}

/// Opt levels and modes per source directory and key, indexed once.
fn profiles(model: &ScanModel) -> FxMap<&[u8], DirProfiles<'_>> {
    let mut profiles: FxMap<&[u8], DirProfiles<'_>> = FxMap::default();
    for c in &model.caches {
        if let (Some(src), Some(key)) = (c.source.as_deref(), cache_key(c))
            && let Some(dir) = parent_bytes(bytes(src))
        {
            let p = profiles.entry(dir).or_default().entry(key);
            if let Some(o) = opt_level(c).filter(|&o| o < 64) {
                p.opts |= 1 << o;
            }
            if let Some(m) = c.invalidation {
                p.modes[mode_index(m)] += 1;
            }
        }
    }
    profiles
}

/// The targets of a plan and the number of fresh caches left alone.
pub(crate) fn targets(
    model: &ScanModel,
    sel: &Selection,
    opts: &RecompileOptions,
    keys: &BTreeSet<String>,
    scope: Scope,
) -> (Vec<Target>, u64) {
    let mut out = Vec::new();
    let mut fresh = 0;
    if !sel.paths.is_empty() {
        let by_path: FxMap<&[u8], &CacheRecord> =
            model.caches.iter().map(|c| (bytes(&c.path), c)).collect();
        for c in sel
            .paths
            .iter()
            .filter_map(|p| by_path.get(bytes(p)).copied())
        {
            let (Some(src), Some(key), Some(opt)) =
                (c.source.as_deref(), cache_key(c), opt_level(c))
            else {
                continue;
            };
            if !at_python_name(model, c, src, key, opt) {
                continue;
            }
            let Some(meta) = model.modules.get(src).and_then(|m: &Module| m.source_meta) else {
                continue;
            };
            let mode = for_key(key, opts.mode.or(c.invalidation));
            let reason = replace_reason(c, mode, true, sel).unwrap_or(CompileReason::Rewrite);
            out.push(target(c, meta, key, opt, mode, reason));
        }
        return (out, fresh);
    }
    let py2: HashMap<&str, bool> = keys
        .iter()
        .map(|k| (k.as_str(), version_of_key(k).is_some_and(|v| v.major == 2)))
        .collect();
    let location = if model.prefix.is_some() {
        Location::Prefix
    } else {
        Location::Pycache
    };
    let location_ok = sel.locations.is_empty() || sel.locations.contains(&location);
    let profiles = profiles(model);
    let mut nearest: FxMap<&[u8], Option<&[u8]>> = FxMap::default();
    let mut name = Vec::with_capacity(256);
    let mut dir_keys: Vec<(&str, Option<&Profile>)> = Vec::new();
    for m in model.modules.values() {
        let (Some(meta), Some(dir)) = (m.source_meta, m.source.parent()) else {
            continue;
        };
        // Only `.py` is source on POSIX (`.pyw` too on Windows, where `x.pyw` and `x.py` share
        // one cache): compiling a `.pyw` here would overwrite the `.py`'s cache.
        if !bytes(&m.source).ends_with(b".py") {
            continue;
        }
        dir_keys.clear();
        match scope {
            Scope::Whole => {
                let own = profiles.get(bytes(dir));
                dir_keys.extend(
                    keys.iter()
                        .map(|k| (k.as_str(), own.and_then(|p| p.get(k.as_str())))),
                );
            }
            Scope::PerDirectory => {
                let home = *nearest.entry(bytes(dir)).or_insert_with(|| {
                    dir.ancestors()
                        .map(bytes)
                        .find(|a| profiles.contains_key(a))
                });
                let Some(p) = home.and_then(|h| profiles.get(h)) else {
                    continue;
                };
                dir_keys.extend(
                    p.0.iter()
                        .filter(|(k, _)| keys.contains(*k))
                        .map(|(k, prof)| (*k, Some(prof))),
                );
            }
        }
        for &(key, profile) in &dir_keys {
            if py2.get(key).copied().unwrap_or(false) {
                // Python 2 caches are only rewritten where they are (legacy, beside the source).
                for c in model.caches_of(m).filter(|c| {
                    c.location == Location::Legacy
                        && cache_key(c) == Some(key)
                        && at_python_name(model, c, &m.source, key, 0)
                }) {
                    consider(sel, opts, c, meta, key, &mut out, &mut fresh);
                }
                continue;
            }
            if !location_ok {
                continue;
            }
            let default = [0u8];
            let levels: Vec<u8> = match (&opts.opt_levels, profile) {
                (Some(l), _) => l.clone(),
                (None, Some(p)) if p.opts != 0 => p.levels(),
                _ => default.to_vec(),
            };
            for opt in levels {
                if !cache_name(model.prefix.as_deref(), &m.source, key, opt, &mut name) {
                    continue;
                }
                // The module's own caches are linked in the model: no path lookup needed.
                // Only the file at the very name Python reads counts: an interrupted
                // write's leftover `NAME.TAG.pyc.<digits>` is never written into, and
                // pytest's own caches are not the import system's.
                let existing = model.caches_of(m).find(|c| {
                    c.location == location
                        && c.kind.pytest.is_none()
                        && bytes(&c.path) == name.as_slice()
                });
                if let Some(c) = existing {
                    if sel.path_ok(&m.source) || sel.path_ok(&c.path) {
                        consider(sel, opts, c, meta, key, &mut out, &mut fresh);
                    }
                    continue;
                }
                let cache = Path::new(OsStr::from_bytes(&name));
                if !sel.path_ok(&m.source) && !sel.path_ok(cache) {
                    continue;
                }
                if opts.missing && sel.mtime_before.is_none() {
                    let mode = for_key(key, opts.mode.or_else(|| profile.and_then(Profile::mode)));
                    out.push(Target {
                        source: m.source.clone(),
                        source_meta: meta,
                        cache: cache.to_path_buf(),
                        module: m.name.clone(),
                        key: key.to_string(),
                        opt,
                        mode,
                        reason: CompileReason::Missing,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.key, &a.cache).cmp(&(&b.key, &b.cache)));
    (out, fresh)
}

/// True when a cache lies at the very name the interpreter reads for its source, tag and
/// opt level (not a leftover `NAME.TAG.pyc.<digits>`, nor an odd name).
fn at_python_name(model: &ScanModel, c: &CacheRecord, source: &Path, key: &str, opt: u8) -> bool {
    let mut name = Vec::new();
    match c.location {
        Location::Legacy => {
            let mut legacy = source.to_path_buf();
            legacy.set_extension("pyc");
            c.path == legacy
        }
        Location::Pycache => {
            cache_name(None, source, key, opt, &mut name) && bytes(&c.path) == name.as_slice()
        }
        Location::Prefix => {
            cache_name(model.prefix.as_deref(), source, key, opt, &mut name)
                && bytes(&c.path) == name.as_slice()
        }
    }
}

fn target(
    c: &CacheRecord,
    meta: FileMeta,
    key: &str,
    opt: u8,
    mode: Invalidation,
    reason: CompileReason,
) -> Target {
    Target {
        source: c.source.clone().unwrap_or_default(),
        source_meta: meta,
        cache: c.path.clone(),
        module: c.module.clone(),
        key: key.to_string(),
        opt,
        mode,
        reason,
    }
}

/// The mode to write for a key: Python before 3.7 only knows timestamps.
pub(crate) fn for_key(key: &str, mode: Option<Invalidation>) -> Invalidation {
    let old = version_of_key(key).is_some_and(|v| v < PyVersion::new(3, 7));
    match mode {
        Some(m) if !old => m,
        _ => Invalidation::Timestamp,
    }
}

fn consider(
    sel: &Selection,
    opts: &RecompileOptions,
    c: &CacheRecord,
    meta: FileMeta,
    key: &str,
    out: &mut Vec<Target>,
    fresh: &mut u64,
) {
    let Some(opt) = opt_level(c) else { return };
    // pytest's caches are pytest's to write (py_compile would write a plain cache there);
    // Python 2's `.pyo` files are written by `python2 -O`, which recompile does not run.
    let pyo = c.path.extension().is_some_and(|e| e == "pyo");
    if c.kind.pytest.is_some()
        || pyo
        || c.source.is_none()
        || sel.mtime_before.is_some_and(|cut| c.meta.mtime >= cut)
    {
        return;
    }
    let mode = for_key(key, opts.mode.or(c.invalidation));
    match replace_reason(c, mode, false, sel) {
        Some(reason) => out.push(target(c, meta, key, opt, mode, reason)),
        None => *fresh += u64::from(c.status == Status::Fresh),
    }
}

fn replace_reason(
    c: &CacheRecord,
    want: Invalidation,
    named: bool,
    sel: &Selection,
) -> Option<CompileReason> {
    match c.status {
        Status::Stale | Status::Invalid | Status::Unreadable
            if named || status_selected(sel, c.status) =>
        {
            Some(CompileReason::Replace { status: c.status })
        }
        Status::Fresh => match c.invalidation {
            Some(from) if from != want => Some(CompileReason::ModeChange { from }),
            _ if named || sel.all || sel.statuses.contains(&Status::Fresh) => {
                Some(CompileReason::Rewrite)
            }
            _ => None,
        },
        _ => None,
    }
}

fn opt_level(c: &CacheRecord) -> Option<u8> {
    match c.opt.as_deref() {
        None | Some("") => Some(0),
        Some(o) => o.parse().ok(),
    }
}
