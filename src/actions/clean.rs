//! The clean plan: which cache files (and emptied `__pycache__` directories) to remove.
//!
//! Pure: built from the scan model and a selection. Only regular `.pyc`/`.pyo` files under a
//! scanned root (or the scanned prefix tree) are ever planned; sourceless caches only when
//! named one by one.

use super::paths::is_prefix_cache_name;
use super::plan::{ActionKind, Identity, Plan, RemoveDir, RemoveFile, Step, count};
use super::remove::is_bytecode;
use super::selection::{CLEAN_DEFAULT, Selection};
use crate::pyc::Status;
use crate::scan::record::display_path;
use crate::scan::{CacheRecord, ScanModel};
use std::collections::{BTreeMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;

/// Plans a clean of the selected caches; `quarantine` moves them there instead of deleting.
pub fn plan_clean(model: &ScanModel, sel: &Selection, quarantine: Option<PathBuf>) -> Plan {
    let roots = removal_roots(model);
    let mut plan = Plan::new(ActionKind::Clean, roots.clone());
    plan.quarantine = quarantine;
    let mut files = Vec::new();
    let mut outside = 0u64;
    let mut kept_sourceless = 0u64;
    let mut not_bytecode: Vec<PathBuf> = Vec::new();
    let mut kept_in_prefix: Vec<PathBuf> = Vec::new();
    let mut kept_mirror: std::collections::BTreeMap<PathBuf, u64> = Default::default();
    for cache in &model.caches {
        if !sel.matches(cache, &CLEAN_DEFAULT) {
            if cache.status == Status::Sourceless
                && sel.path_ok(&cache.path)
                && sel.paths.is_empty()
            {
                kept_sourceless += 1;
            }
            continue;
        }
        let name_ok = cache.path.file_name().is_some_and(is_bytecode);
        let regular = cache.meta.mode == 0 || cache.meta.mode & S_IFMT == S_IFREG;
        if !name_ok || !regular {
            not_bytecode.push(cache.path.clone());
            continue;
        }
        let Some(root) = root_for(&roots, &cache.path) else {
            outside += 1;
            continue;
        };
        // In a prefix tree only NAME.TAG[.opt-N].pyc files are caches; anything else there
        // (a tagless NAME.pyc is importable code) stays unless named.
        if let Some(prefix) = &model.prefix
            && cache.path.starts_with(prefix)
            && !sel.paths.contains(&cache.path)
            && !cache
                .path
                .file_name()
                .is_some_and(|n| is_prefix_cache_name(n.as_bytes(), cache.tag.as_deref()))
        {
            kept_in_prefix.push(cache.path.clone());
            continue;
        }
        if !sel.paths.contains(&cache.path)
            && let Some(prefix) = model.mirror_prefix_of(cache)
        {
            *kept_mirror.entry(prefix).or_insert(0u64) += 1;
            continue;
        }
        files.push(remove_step(cache, root));
    }
    let dirs = emptied_pycache_dirs(model, &files);
    let mut steps: Vec<(PathBuf, u8, Step)> = files
        .into_iter()
        .map(|f| {
            (
                f.path.parent().map(Path::to_path_buf).unwrap_or_default(),
                0,
                Step::RemoveFile(f),
            )
        })
        .collect();
    steps.extend(
        dirs.into_iter()
            .map(|d| (d.path.clone(), 1, Step::RemoveDir(d))),
    );
    // Path order keeps each directory's handle open for all its files; a directory's own
    // removal comes after its files.
    steps.sort_by(|a, b| (&a.0, a.1, a.2.path()).cmp(&(&b.0, b.1, b.2.path())));
    plan.steps = steps.into_iter().map(|(_, _, s)| s).collect();
    plan.recount();
    if kept_sourceless > 0 {
        plan.notes.push(format!(
            "{} kept: importable code without a .py, maybe the only copy (name one with --include-sourceless PATH)",
            count(kept_sourceless, "sourceless cache")
        ));
    }
    if let Some(first) = not_bytecode.first() {
        plan.notes.push(format!(
            "{} left alone: pycache removes only regular files named *.pyc/*.pyo (e.g. {}; \
             an interrupted write's leftover can be removed by hand)",
            count(not_bytecode.len() as u64, "selected file"),
            display_path(first)
        ));
    }
    if let Some(first) = kept_in_prefix.first() {
        plan.notes.push(format!(
            "{} in the prefix tree left alone: only NAME.TAG[.opt-N].pyc files are prefix caches, a tagless NAME.pyc is code (e.g. {}; name one to remove it)",
            count(kept_in_prefix.len() as u64, "file"),
            display_path(first)
        ));
    }
    for (prefix, n) in &kept_mirror {
        plan.notes.push(format!(
            "{} kept in {}: it mirrors this project's sources, so it looks like a live \
             PYTHONPYCACHEPREFIX tree (judge it with --pycache-prefix {})",
            count(*n, "cache"),
            display_path(prefix),
            display_path(prefix)
        ));
    }
    for p in &sel.include_sourceless {
        match model.cache(p) {
            Some(c) if c.status == Status::Sourceless => {}
            Some(c) => plan.notes.push(format!(
                "--include-sourceless {}: it is {}, not sourceless",
                display_path(p),
                c.status
            )),
            None => plan.notes.push(format!(
                "--include-sourceless {}: not a cache the scan found",
                display_path(p)
            )),
        }
    }
    if outside > 0 {
        plan.notes.push(format!(
            "{} outside the scanned roots left alone",
            count(outside, "cache")
        ));
    }
    plan
}

/// The scanned roots plus the prefix tree: removal never leaves these.
pub(crate) fn removal_roots(model: &ScanModel) -> Vec<PathBuf> {
    let mut roots = model.roots.clone();
    if let Some(p) = &model.prefix
        && !roots.contains(p)
    {
        roots.push(p.clone());
    }
    roots
}

/// The longest root a path lies strictly under.
fn root_for<'a>(roots: &'a [PathBuf], path: &Path) -> Option<&'a PathBuf> {
    roots
        .iter()
        .filter(|r| path.starts_with(r) && path != r.as_path())
        .max_by_key(|r| r.as_os_str().len())
}

fn remove_step(cache: &CacheRecord, root: &Path) -> RemoveFile {
    RemoveFile {
        path: cache.path.clone(),
        root: root.to_path_buf(),
        status: cache.status,
        tag: cache.tag.clone(),
        expect: Identity {
            dev: cache.meta.dev,
            ino: cache.meta.ino,
            size: cache.meta.size,
            mtime: cache.meta.mtime,
        },
        disk_usage: cache.meta.disk_usage,
    }
}

/// `__pycache__` directories all of whose known caches are being removed. Files the scan
/// did not list (temp files, junk) make the later `rmdir` fail harmlessly: it is skipped.
fn emptied_pycache_dirs(model: &ScanModel, files: &[RemoveFile]) -> Vec<RemoveDir> {
    let removed: HashSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    let mut per_dir: BTreeMap<&Path, (usize, usize, &Path)> = BTreeMap::new();
    for f in files {
        if let Some(dir) = f.path.parent()
            && dir.file_name().is_some_and(|n| n == "__pycache__")
        {
            per_dir.entry(dir).or_insert((0, 0, &f.root)).0 += 1;
        }
    }
    for c in &model.caches {
        if let Some(dir) = c.path.parent()
            && let Some(e) = per_dir.get_mut(dir)
        {
            e.1 += 1;
            if !removed.contains(c.path.as_path()) {
                e.0 = usize::MAX;
            }
        }
    }
    per_dir
        .into_iter()
        .filter(|(_, (gone, known, _))| gone == known)
        .map(|(dir, (_, _, root))| RemoveDir {
            path: dir.to_path_buf(),
            root: root.to_path_buf(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyc::{Location, Verdict};
    use crate::scan::{FileMeta, ScanBatch, ScanEvent};

    fn cache(path: &str, status: Status, location: Location) -> CacheRecord {
        CacheRecord {
            path: PathBuf::from(path),
            source: None,
            module: "m".into(),
            tag: Some("cpython-313".into()),
            opt: None,
            location,
            header: None,
            magic: None,
            python: None,
            invalidation: None,
            status,
            reason: None,
            verdict: Verdict::new(status, ""),
            kind: Default::default(),
            meta: FileMeta {
                size: 10,
                mode: S_IFREG | 0o644,
                ..FileMeta::default()
            },
        }
    }

    fn model(caches: Vec<CacheRecord>) -> ScanModel {
        let mut m = ScanModel::new(vec!["/p".into()], Some("/pfx".into()));
        m.apply(ScanEvent::Batch(Box::new(ScanBatch {
            caches,
            ..ScanBatch::default()
        })));
        m
    }

    #[test]
    fn plans_problems_and_the_dirs_they_empty() {
        let m = model(vec![
            cache(
                "/p/a/__pycache__/x.cpython-313.pyc",
                Status::Stale,
                Location::Pycache,
            ),
            cache(
                "/p/a/__pycache__/y.cpython-313.pyc",
                Status::Orphaned,
                Location::Pycache,
            ),
            cache(
                "/p/b/__pycache__/x.cpython-313.pyc",
                Status::Stale,
                Location::Pycache,
            ),
            cache(
                "/p/b/__pycache__/y.cpython-313.pyc",
                Status::Fresh,
                Location::Pycache,
            ),
            cache("/p/b/tool.pyc", Status::Sourceless, Location::Legacy),
            cache(
                "/pfx/p/b/z.cpython-313.pyc",
                Status::Orphaned,
                Location::Prefix,
            ),
            cache(
                "/elsewhere/__pycache__/q.cpython-313.pyc",
                Status::Orphaned,
                Location::Pycache,
            ),
        ]);
        let plan = plan_clean(&m, &Selection::default(), None);
        let paths: Vec<String> = plan
            .steps
            .iter()
            .map(|s| s.path().display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "/p/a/__pycache__/x.cpython-313.pyc",
                "/p/a/__pycache__/y.cpython-313.pyc",
                "/p/a/__pycache__",
                "/p/b/__pycache__/x.cpython-313.pyc",
                "/pfx/p/b/z.cpython-313.pyc",
            ]
        );
        assert_eq!(
            (plan.totals.files, plan.totals.dirs, plan.totals.bytes),
            (4, 1, 40)
        );
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("1 sourceless cache kept"))
        );
        assert!(plan.notes.iter().any(|n| n.contains("1 cache outside")));
        match &plan.steps[4] {
            Step::RemoveFile(f) => assert_eq!(f.root, Path::new("/pfx")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sourceless_only_when_named() {
        let m = model(vec![cache(
            "/p/b/tool.pyc",
            Status::Sourceless,
            Location::Legacy,
        )]);
        let all = Selection {
            all: true,
            ..Selection::default()
        };
        assert!(plan_clean(&m, &all, None).is_empty());
        let named = Selection {
            include_sourceless: ["/p/b/tool.pyc".into()].into(),
            ..Selection::default()
        };
        assert_eq!(plan_clean(&m, &named, None).totals.files, 1);
    }
}
