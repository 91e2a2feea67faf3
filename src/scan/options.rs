//! What to scan and how: resolved from CLI flags and the environment before the walk starts.

use std::path::PathBuf;

/// Directory names skipped by default: version-control metadata, never Python caches.
pub const VCS_DIRS: &[&str] = &[".git", ".hg", ".svn", ".bzr", "_darcs", ".jj"];

/// Scan settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Directories to walk (made absolute by [`ScanOptions::new`]).
    pub roots: Vec<PathBuf>,
    /// A `PYTHONPYCACHEPREFIX` tree to walk too; its caches map back to sources by
    /// CPython's rule (prefix + the source's absolute directory).
    pub prefix: Option<PathBuf>,
    /// Follow symbolic links (with loop detection). Off by default.
    pub follow_symlinks: bool,
    /// Do not cross into other filesystems.
    pub one_file_system: bool,
    /// Extra glob patterns of paths to skip (matched against the path below its root and
    /// against the file name).
    pub excludes: Vec<String>,
    /// Skip version-control directories ([`VCS_DIRS`]). On by default.
    pub skip_vcs: bool,
    /// Judge caches from their 16-byte header alone (the fast path): a corrupt marshal
    /// body is then not seen. Off by default: every cache Python would load is read whole
    /// and its body checked as `marshal.loads` would.
    pub header_only: bool,
    /// The interpreter's `--check-hash-based-pycs` the verdicts assume.
    pub hash_check: crate::pyc::HashCheck,
}

impl ScanOptions {
    /// Options for these roots with the defaults: no prefix, no symlinks, VCS skipped.
    /// Roots are made absolute against the current directory and lexically clean
    /// ([`crate::paths::normalize_in`]; no symlink resolution, as CPython does for the
    /// prefix mapping), so that `.` and `/srv/app` are the same root.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        Self {
            roots: roots.into_iter().map(|r| absolute(&cwd, r)).collect(),
            prefix: None,
            follow_symlinks: false,
            one_file_system: false,
            excludes: Vec::new(),
            skip_vcs: true,
            header_only: false,
            hash_check: crate::pyc::HashCheck::Default,
        }
    }

    /// Sets the prefix tree: the given one, else `PYTHONPYCACHEPREFIX` when set and non-empty
    /// (CPython treats an empty value as unset).
    pub fn with_prefix(mut self, flag: Option<PathBuf>) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let from_env = std::env::var_os("PYTHONPYCACHEPREFIX")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        self.prefix = flag.or(from_env).map(|p| absolute(&cwd, p));
        self
    }
}

fn absolute(cwd: &std::path::Path, p: PathBuf) -> PathBuf {
    crate::paths::normalize_in(cwd, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The explorer, scan, clean and recompile all resolve their roots here: `.` and a
    /// relative prefix get the one spelling the rest of pycache compares.
    #[test]
    fn roots_and_the_prefix_are_absolute_and_clean() {
        let cwd = std::env::current_dir().unwrap();
        let opts = ScanOptions::new(vec![PathBuf::from("."), PathBuf::from("./a/../b/")])
            .with_prefix(Some(PathBuf::from("../pfx/.")));
        assert_eq!(opts.roots, vec![cwd.clone(), cwd.join("b")]);
        let parent = cwd.parent().unwrap_or(&cwd);
        assert_eq!(opts.prefix, Some(parent.join("pfx")));
        assert!(opts.roots.iter().all(|r| crate::paths::is_normal(r)));
    }
}
