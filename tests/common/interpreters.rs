//! Where live tests find real interpreters: one place for every test binary (include it
//! with `#[path = "../common/interpreters.rs"] mod interpreters;`).
//!
//! Looked for, in order: pyenv (`$PYENV_ROOT` or `~/.pyenv`, `versions/X.Y.*/bin/python`,
//! newest patch release); the directories in `$PYCACHE_TEST_PYTHONS` (colon-separated; CI
//! exports where `.ci/run` installed 3.14 and 3.15) and `/work/pythons/bin` (the
//! developer machines' copy of `get-new-pythons.sh DEST`), as `pythonX.Y`; then `PATH`.
//! PyPy is `pypy3` on `PATH` (Debian's package).
//!
//! Outside CI a missing interpreter means the test prints why and skips. Under CI
//! (`CI=true`) it is a failure: CI installs every interpreter, so a missing one is a broken
//! install, not a reason to pass.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Every CPython version the live tests cover.
pub const CPYTHONS: [&str; 11] = [
    "2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15",
];

/// The name PyPy is asked for by ([`python`]`(PYPY)`).
pub const PYPY: &str = "pypy3";

/// True under CI, where every interpreter is required.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The interpreter for `version` ("3.13", "2.7", or [`PYPY`]); None when absent outside CI.
/// Under CI a missing one panics with where it was looked for.
pub fn python(version: &str) -> Option<PathBuf> {
    let found = find(version);
    if found.is_none() && in_ci() {
        panic!(
            "CI=true but no interpreter for {version}: looked in pyenv, $PYCACHE_TEST_PYTHONS, \
             /work/pythons/bin and PATH (.ci/run installs 3.14, 3.15 and pypy3)"
        );
    }
    found
}

/// Like [`python`] but never a failure: for a fallback choice among several versions.
pub fn find(version: &str) -> Option<PathBuf> {
    if version == PYPY {
        return on_path("pypy3");
    }
    pyenv(version)
        .or_else(|| {
            extra_dirs()
                .into_iter()
                .map(|d| d.join(format!("python{version}")))
                .find(|p| runs(p))
        })
        .or_else(|| on_path(&format!("python{version}")))
}

/// Every interpreter of [`CPYTHONS`] and PyPy that is present, with its version name.
/// Under CI a missing one panics (see [`python`]).
pub fn all() -> Vec<(&'static str, PathBuf)> {
    CPYTHONS
        .iter()
        .chain([PYPY].iter())
        .filter_map(|&v| python(v).map(|p| (v, p)))
        .collect()
}

/// The versions of [`CPYTHONS`] and PyPy that are absent (for a skip line).
pub fn absent() -> Vec<&'static str> {
    CPYTHONS
        .iter()
        .chain([PYPY].iter())
        .copied()
        .filter(|v| find(v).is_none())
        .collect()
}

/// `PATH` with the directory of every interpreter [`find`] sees outside pyenv first, for
/// tools that look for `python3.N` and `pypy3` on `PATH` (the fixture matrix script,
/// pycache's own interpreter discovery).
pub fn path_var() -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for v in CPYTHONS.iter().chain([PYPY].iter()) {
        if pyenv(v).is_some() {
            continue;
        }
        if let Some(dir) = find(v).and_then(|p| p.parent().map(Path::to_path_buf))
            && !dirs.contains(&dir)
        {
            dirs.push(dir);
        }
    }
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap_or_default()
}

fn pyenv(version: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))?;
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let patch = name.strip_prefix(version)?;
            if !(patch.is_empty() || patch.starts_with('.')) {
                return None;
            }
            let key = name.split('.').filter_map(|n| n.parse().ok()).collect();
            Some((key, e.path().join("bin/python")))
        })
        .filter(|(_, p)| p.exists())
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

fn extra_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PYCACHE_TEST_PYTHONS")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/work/pythons/bin"));
    dirs
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| !d.to_string_lossy().contains("/.pyenv/shims"))
        .map(|d| d.join(name))
        .find(|p| runs(p))
}

/// An executable file (a dangling link, as left by a half-done install, is not).
fn runs(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
