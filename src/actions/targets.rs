//! Recompile targets: which cache files to write for which modules, before any
//! interpreter is involved (the half of planning that needs only the scan model).

use super::interpreters::{Interpreters, version_of_key};
use super::plan::CompileReason;
use super::recompile::{RECOMPILE_DEFAULT, RecompileOptions};
use super::selection::Selection;
use crate::pyc::{Invalidation, Location, PyVersion, Status};
use crate::scan::{CacheRecord, Module, ScanModel};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Whole,
    PerDirectory,
}

/// One cache file to write.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) source: PathBuf,
    pub(crate) cache: PathBuf,
    pub(crate) module: String,
    pub(crate) key: String,
    pub(crate) opt: u8,
    pub(crate) mode: Invalidation,
    pub(crate) reason: CompileReason,
}

/// Tags, opt levels and modes the caches of one source directory use for one key.
#[derive(Debug, Clone, Default)]
struct Profile {
    opts: BTreeSet<u8>,
    modes: [u32; 3],
}

impl Profile {
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
pub(crate) fn cache_key(c: &CacheRecord) -> Option<String> {
    match c.location {
        Location::Pycache | Location::Prefix => c.tag.clone(),
        Location::Legacy => {
            let v = c.python?;
            let is_pyc = c.path.extension().is_some_and(|e| e == "pyc");
            if v.major == 2 && is_pyc {
                c.tag.clone()
            } else {
                None
            }
        }
    }
}

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
    let tree: BTreeSet<String> = model
        .caches
        .iter()
        .filter(|c| c.source.is_some())
        .filter_map(cache_key)
        .collect();
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

pub(crate) fn targets(
    model: &ScanModel,
    sel: &Selection,
    opts: &RecompileOptions,
    keys: &BTreeSet<String>,
    scope: Scope,
) -> (Vec<Target>, u64) {
    let by_path: HashMap<&Path, &CacheRecord> =
        model.caches.iter().map(|c| (c.path.as_path(), c)).collect();
    let mut profiles: HashMap<&Path, BTreeMap<String, Profile>> = HashMap::new();
    for c in &model.caches {
        if let (Some(src), Some(key)) = (c.source.as_deref(), cache_key(c))
            && let Some(dir) = src.parent()
        {
            let p = profiles.entry(dir).or_default().entry(key).or_default();
            if let Some(o) = opt_level(c) {
                p.opts.insert(o);
            }
            if let Some(m) = c.invalidation {
                p.modes[mode_index(m)] += 1;
            }
        }
    }
    let mut out = Vec::new();
    let mut fresh = 0;
    if !sel.paths.is_empty() {
        for c in sel
            .paths
            .iter()
            .filter_map(|p| by_path.get(p.as_path()).copied())
        {
            let (Some(src), Some(key)) = (c.source.as_deref(), cache_key(c)) else {
                continue;
            };
            let module_ok = model.modules.get(src).is_some_and(Module::source_exists);
            let Some(opt) = opt_level(c) else { continue };
            if module_ok {
                let mode = for_key(&key, opts.mode.or(c.invalidation));
                let reason = replace_reason(c, mode, true, sel).unwrap_or(CompileReason::Rewrite);
                out.push(Target {
                    source: src.to_path_buf(),
                    cache: c.path.clone(),
                    module: c.module.clone(),
                    key,
                    opt,
                    mode,
                    reason,
                });
            }
        }
        return (out, fresh);
    }
    let mut nearest: HashMap<&Path, Option<&Path>> = HashMap::new();
    for m in model.modules.values().filter(|m| m.source_exists()) {
        let Some(dir) = m.source.parent() else {
            continue;
        };
        let dir_keys: Vec<(&String, Option<&Profile>)> = match scope {
            Scope::Whole => keys
                .iter()
                .map(|k| (k, profiles.get(dir).and_then(|p| p.get(k))))
                .collect(),
            Scope::PerDirectory => {
                let home = *nearest
                    .entry(dir)
                    .or_insert_with(|| dir.ancestors().find(|a| profiles.contains_key(a)));
                let Some(p) = home.and_then(|h| profiles.get(h)) else {
                    continue;
                };
                p.iter()
                    .filter(|(k, _)| keys.contains(*k))
                    .map(|(k, prof)| (k, Some(prof)))
                    .collect()
            }
        };
        for (key, profile) in dir_keys {
            if version_of_key(key).is_some_and(|v| v.major == 2) {
                // Python 2 caches are only rewritten where they are (legacy, beside the source).
                for c in model.caches_of(m).filter(|c| {
                    c.location == Location::Legacy && cache_key(c).as_ref() == Some(key)
                }) {
                    consider(sel, opts, c, key, &mut out, &mut fresh);
                }
                continue;
            }
            let levels: Vec<u8> = match (&opts.opt_levels, profile) {
                (Some(l), _) => l.clone(),
                (None, Some(p)) if !p.opts.is_empty() => p.opts.iter().copied().collect(),
                _ => vec![0],
            };
            for opt in levels {
                let Some(cache) = target_path(model.prefix.as_deref(), &m.source, key, opt) else {
                    continue;
                };
                if !sel.path_ok(&m.source) && !sel.path_ok(&cache) {
                    continue;
                }
                let location = if model.prefix.is_some() {
                    Location::Prefix
                } else {
                    Location::Pycache
                };
                if !sel.locations.is_empty() && !sel.locations.contains(&location) {
                    continue;
                }
                match by_path.get(cache.as_path()) {
                    Some(c) => consider(sel, opts, c, key, &mut out, &mut fresh),
                    None if opts.missing && sel.mtime_before.is_none() => {
                        let mode =
                            for_key(key, opts.mode.or_else(|| profile.and_then(Profile::mode)));
                        out.push(Target {
                            source: m.source.clone(),
                            cache,
                            module: m.name.clone(),
                            key: key.clone(),
                            opt,
                            mode,
                            reason: CompileReason::Missing,
                        });
                    }
                    None => {}
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.key, &a.cache).cmp(&(&b.key, &b.cache)));
    (out, fresh)
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
    key: &str,
    out: &mut Vec<Target>,
    fresh: &mut u64,
) {
    let (Some(src), Some(opt)) = (c.source.as_deref(), opt_level(c)) else {
        return;
    };
    if sel.mtime_before.is_some_and(|cut| c.meta.mtime >= cut) {
        return;
    }
    let mode = for_key(key, opts.mode.or(c.invalidation));
    match replace_reason(c, mode, false, sel) {
        Some(reason) => out.push(Target {
            source: src.to_path_buf(),
            cache: c.path.clone(),
            module: c.module.clone(),
            key: key.to_string(),
            opt,
            mode,
            reason,
        }),
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

/// Where CPython writes the cache of `source` for `tag` and `opt`: `DIR/__pycache__/…`,
/// or `PREFIX/<DIR without its leading />/…` when a prefix is configured.
pub fn target_path(prefix: Option<&Path>, source: &Path, tag: &str, opt: u8) -> Option<PathBuf> {
    let dir = source.parent()?;
    let file = source.file_name()?.as_bytes();
    let stem = match file.iter().rposition(|&b| b == b'.') {
        Some(i) => &file[..i],
        None => file,
    };
    let mut name = stem.to_vec();
    name.extend_from_slice(format!(".{tag}").as_bytes());
    if opt > 0 {
        name.extend_from_slice(format!(".opt-{opt}").as_bytes());
    }
    name.extend_from_slice(b".pyc");
    let name = OsString::from_vec(name);
    Some(match prefix {
        Some(p) => p.join(dir.strip_prefix("/").unwrap_or(dir)).join(&name),
        None => dir.join(OsStr::new("__pycache__")).join(&name),
    })
}
