//! Where the service's interpreter reads and writes the cache of each imported module,
//! whether a usable cache is there, and what happens at the next start.
//!
//! CPython's rules (shared/docs/pyc-format.md §3.1, §3.4-3.5, §4): the cache of `D/N.py`
//! is `D/__pycache__/N.TAG[.opt-L].pyc`, or `PREFIX/<D without its root>/N.TAG.pyc` while a
//! prefix is in effect (3.8+), when `__pycache__` is neither read nor written; Python 2
//! uses `D/N.pyc`. Import writes a missing or stale cache unless `-B` or
//! `PYTHONDONTWRITEBYTECODE` is in effect, or the write fails (silently); a valid header
//! over a corrupt body fails the import instead.

use super::access::{self, Access, Blocker};
pub use crate::context::Python;
use crate::context::RuntimeContext;
use crate::pyc::name::cache_file_name;
use crate::pyc::{Location, PyVersion, SourceFound, SourceStat, Status, judge};
use crate::scan::classify::prefix_cache_dir;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Is there a cache the interpreter would use?
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "kebab-case")]
pub enum CacheState {
    /// Fresh, with the interpreter's magic: loaded.
    Usable,
    /// No file.
    Missing,
    /// The source changed since it was written.
    Stale(String),
    /// Wrong magic, truncated, unreadable.
    Invalid(String),
    /// A valid header over a corrupt body: the import fails (Python does not recompile).
    Corrupt(String),
}

/// What the next start does for a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Loads the cache.
    Loads,
    /// Compiles once and writes the cache; later starts load it.
    WritesAtNextStart,
    /// Compiles at every start: the cache cannot be read or written.
    CompilesEveryStart,
    /// The import fails: a corrupt cache behind a valid header.
    ImportError,
}

/// One imported module and its cache.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Dotted name.
    pub module: String,
    /// Its source.
    pub source: PathBuf,
    /// Imported only inside functions: compiled on first use, not at start.
    pub lazy: bool,
    /// The cache path the interpreter uses.
    pub cache: PathBuf,
    /// `pycache`, `prefix` or `legacy`.
    pub location: Location,
    /// What is there now.
    #[serde(flatten)]
    pub state: CacheState,
    /// Can the user create/write the cache directory (and replace the file)?
    pub access: Access,
    /// The user cannot read the existing cache, when that is the problem.
    pub unreadable: Option<Blocker>,
    /// What the next start does.
    pub outcome: Outcome,
    /// A fresh cache in `__pycache__` that the prefix makes Python ignore.
    pub ignored: Option<PathBuf>,
}

/// The cache file and its location for a source, as `importlib.util.cache_from_source`
/// computes it for this interpreter, `-O` level and prefix.
pub fn cache_path(
    source: &Path,
    py: &Python,
    optimize: u8,
    prefix: Option<&Path>,
) -> (PathBuf, Location) {
    let dir = source.parent().unwrap_or(Path::new("/"));
    let stem = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(tag) = &py.tag else {
        let ext = if optimize > 0 { "pyo" } else { "pyc" };
        return (dir.join(format!("{stem}.{ext}")), Location::Legacy);
    };
    let name = if py.python >= PyVersion::new(3, 5) {
        let level = (optimize > 0).then(|| optimize.min(2).to_string());
        cache_file_name(&stem, tag, level.as_deref())
    } else if optimize > 0 {
        format!("{stem}.{tag}.pyo")
    } else {
        format!("{stem}.{tag}.pyc")
    };
    match prefix.filter(|_| py.supports_prefix()) {
        Some(p) => (prefix_cache_dir(p, dir).join(name), Location::Prefix),
        None => (dir.join("__pycache__").join(name), Location::Pycache),
    }
}

/// Judges the cache at `cache` for `source` exactly as the interpreter would.
pub fn cache_state(cache: &Path, source: &Path, location: Location, py: &Python) -> CacheState {
    // The whole file, as the import reads it (the body is checked too), from a regular
    // file only and capped.
    let bytes = match crate::fsread::read_capped(cache, crate::fsread::PYC_CAP) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CacheState::Missing,
        Err(e) => return CacheState::Invalid(format!("cannot be read: {e}")),
    };
    let header = crate::pyc::header::parse(&bytes);
    if let Ok(h) = &header
        && h.magic.magic != py.magic
    {
        return CacheState::Invalid(format!(
            "written by {} (magic {}); {} {} expects magic {}",
            h.magic.describe(),
            h.magic.magic,
            crate::text::display_path(&py.path),
            py.version,
            py.magic
        ));
    }
    let Ok(meta) = std::fs::metadata(source) else {
        return CacheState::Invalid("its source cannot be read".into());
    };
    let stat = SourceFound::Present(SourceStat::from_metadata(&meta));
    let v = judge(&header, location, py.tag.as_deref(), stat, |magic| {
        let (fd, _) = crate::fsread::open_regular(source, true)?;
        crate::pyc::validate::source_hash_of_file(magic, std::os::fd::AsFd::as_fd(&fd))
    });
    let reason = v.reason.unwrap_or_default();
    let loaded = v.status == Status::Fresh || (v.status == Status::Stale && v.runs_anyway);
    if loaded
        && let Ok(h) = &header
        && let Err(e) = crate::pyc::marshal::check_body(&bytes, h)
    {
        return CacheState::Corrupt(format!(
            "corrupt body: the import fails with {e}; Python does not recompile it"
        ));
    }
    match v.status {
        Status::Fresh => CacheState::Usable,
        Status::Stale if v.runs_anyway => CacheState::Usable,
        Status::Stale => CacheState::Stale(reason),
        _ => CacheState::Invalid(reason),
    }
}

/// Plans every module: `(name, source, lazy)`.
pub fn plan(modules: &[(String, PathBuf, bool)], py: &Python, ctx: &RuntimeContext) -> Vec<Target> {
    let prefix = ctx.prefix.as_deref();
    let mut dirs: HashMap<PathBuf, Access> = HashMap::new();
    let mut out = Vec::with_capacity(modules.len());
    for (name, source, lazy) in modules {
        let (cache, location) = cache_path(source, py, ctx.optimize, prefix);
        let state = cache_state(&cache, source, location, py);
        let dir = cache.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut acc = dirs
            .entry(dir.clone())
            .or_insert_with(|| access::check_dir(&ctx.identity, &dir, &ctx.sandbox))
            .clone();
        if acc.writable
            && let Some(b) = access::check_replace(&ctx.identity, &cache)
        {
            acc.writable = false;
            acc.blockers.push(b);
        }
        let unreadable = match state {
            CacheState::Usable => access::check_read(&ctx.identity, &cache, &ctx.sandbox),
            _ => None,
        };
        let outcome = match (&state, &unreadable) {
            (CacheState::Usable, None) => Outcome::Loads,
            (CacheState::Corrupt(_), _) => Outcome::ImportError,
            _ if ctx.dont_write.is_some() || !acc.writable => Outcome::CompilesEveryStart,
            _ => Outcome::WritesAtNextStart,
        };
        let ignored = (location == Location::Prefix)
            .then(|| cache_path(source, py, ctx.optimize, None))
            .filter(|(p, loc)| cache_state(p, source, *loc, py) == CacheState::Usable)
            .map(|(p, _)| p);
        out.push(Target {
            module: name.clone(),
            source: source.clone(),
            lazy: *lazy,
            cache,
            location,
            state,
            access: acc,
            unreadable,
            outcome,
            ignored,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(version: (u8, u8), tag: Option<&str>) -> Python {
        Python {
            path: "/usr/bin/python3".into(),
            version: format!("{}.{}.0", version.0, version.1),
            python: PyVersion::new(version.0, version.1),
            implementation: "cpython".into(),
            tag: tag.map(String::from),
            magic: 3571,
            from: "test".into(),
        }
    }

    #[test]
    fn cache_paths_follow_cpython() {
        let src = Path::new("/srv/app/models.py");
        let p313 = py((3, 13), Some("cpython-313"));
        assert_eq!(
            cache_path(src, &p313, 0, None).0,
            PathBuf::from("/srv/app/__pycache__/models.cpython-313.pyc")
        );
        assert_eq!(
            cache_path(src, &p313, 2, None).0,
            PathBuf::from("/srv/app/__pycache__/models.cpython-313.opt-2.pyc")
        );
        let (p, loc) = cache_path(src, &p313, 0, Some(Path::new("/opt/c")));
        assert_eq!(
            (p, loc),
            (
                PathBuf::from("/opt/c/srv/app/models.cpython-313.pyc"),
                Location::Prefix
            )
        );
        // 3.7 has no prefix; 3.4 writes .pyo; Python 2 writes beside the source.
        assert_eq!(
            cache_path(
                src,
                &py((3, 7), Some("cpython-37")),
                0,
                Some(Path::new("/c"))
            )
            .1,
            Location::Pycache
        );
        assert_eq!(
            cache_path(src, &py((3, 4), Some("cpython-34")), 1, None).0,
            PathBuf::from("/srv/app/__pycache__/models.cpython-34.pyo")
        );
        assert_eq!(
            cache_path(src, &py((2, 7), None), 0, None).0,
            PathBuf::from("/srv/app/models.pyc")
        );
    }

    #[test]
    fn states_of_missing_foreign_and_fresh_caches() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("m.py");
        std::fs::write(&src, "x = 1\n").unwrap();
        let p = py((3, 13), Some("cpython-313"));
        let cache = dir.path().join("m.cpython-313.pyc");
        assert_eq!(
            cache_state(&cache, &src, Location::Pycache, &p),
            CacheState::Missing
        );
        let meta = std::fs::metadata(&src).unwrap();
        let stat = SourceStat::from_metadata(&meta);
        let mut bytes = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
        bytes.extend((stat.mtime as u32).to_le_bytes());
        bytes.extend((stat.size as u32).to_le_bytes());
        // A header without a body: the import would fail (EOFError).
        std::fs::write(&cache, &bytes).unwrap();
        assert!(matches!(
            cache_state(&cache, &src, Location::Pycache, &p),
            CacheState::Corrupt(why) if why.contains("EOFError")
        ));
        let body = "e30000000000000000000000000100000000000000f30800000095005300720067012902e9010000004e2901da0178a900f300000000da046d2e7079da083c6d6f64756c653e720700000001000000730a000000f003010101d8040581017205000000";
        bytes.extend(
            (0..body.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&body[i..i + 2], 16).unwrap()),
        );
        std::fs::write(&cache, &bytes).unwrap();
        assert_eq!(
            cache_state(&cache, &src, Location::Pycache, &p),
            CacheState::Usable
        );
        bytes[8] ^= 1;
        std::fs::write(&cache, &bytes).unwrap();
        assert!(matches!(
            cache_state(&cache, &src, Location::Pycache, &p),
            CacheState::Stale(_)
        ));
        let other = Python { magic: 3570, ..p };
        assert!(
            matches!(cache_state(&cache, &src, Location::Pycache, &other), CacheState::Invalid(r) if r.contains("expects magic 3570"))
        );
    }
}
