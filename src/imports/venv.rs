//! Virtualenvs: finding one beside the project, its Python version (`pyvenv.cfg`), and
//! the top-level names its `site-packages` provides.

use super::discover::classify_file;
use crate::pyc::magic::PyVersion;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A virtualenv and what it has installed.
#[derive(Debug, Clone, Serialize)]
pub struct Venv {
    /// The virtualenv directory.
    #[serde(serialize_with = "super::graph::ser_path")]
    pub dir: PathBuf,
    /// `version` / `version_info` from `pyvenv.cfg`.
    pub version: Option<PyVersion>,
    /// The `site-packages` directories read.
    #[serde(skip)]
    pub site_packages: Vec<PathBuf>,
    /// Top-level importable names (packages, modules, extensions, `.pth` path entries).
    #[serde(skip)]
    pub names: HashSet<String>,
    /// `.pth` files in `site-packages` that were not read (a FIFO, a device, unreadable),
    /// with the reason: the paths they add are not known.
    #[serde(skip)]
    pub unread: Vec<(PathBuf, String)>,
}

/// Directory names checked beside the project, in order.
pub const CANDIDATES: [&str; 3] = [".venv", "venv", "env"];

/// The first of `.venv`, `venv`, `env` in `root` that holds a `pyvenv.cfg`.
pub fn detect(root: &Path) -> Option<PathBuf> {
    CANDIDATES
        .iter()
        .map(|c| root.join(c))
        .find(|d| d.join("pyvenv.cfg").is_file())
}

/// Reads a virtualenv; an error when `dir` is not one.
pub fn open(dir: &Path) -> Result<Venv, String> {
    let cfg = dir.join("pyvenv.cfg");
    let text = crate::fsread::read_string_capped(&cfg, crate::fsread::CONFIG_CAP).map_err(|e| {
        format!(
            "{} is not a virtualenv: cannot read {}: {e}",
            dir.display(),
            cfg.display()
        )
    })?;
    let version = parse_cfg_version(&text);
    let site_packages = site_packages_dirs(dir, version);
    let mut names = HashSet::new();
    let mut unread = Vec::new();
    for sp in &site_packages {
        index_dir(sp, &mut names);
        index_pth_files(sp, &mut names, &mut unread);
    }
    Ok(Venv {
        dir: dir.to_path_buf(),
        version,
        site_packages,
        names,
        unread,
    })
}

/// `version = 3.13.0` (venv) or `version_info = 3.13.0.final.0` (uv, virtualenv).
pub fn parse_cfg_version(text: &str) -> Option<PyVersion> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        matches!(key.trim(), "version" | "version_info")
            .then(|| parse_version(value.trim()))
            .flatten()
    })
}

/// `3.13`, `3.13.0`, `313`-style is not accepted: "MAJOR.MINOR[.anything]".
pub fn parse_version(text: &str) -> Option<PyVersion> {
    let mut parts = text.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next()?.trim().parse().ok()?;
    Some(PyVersion::new(major, minor))
}

fn site_packages_dirs(dir: &Path, version: Option<PyVersion>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for lib in ["lib", "lib64"] {
        let Ok(entries) = std::fs::read_dir(dir.join(lib)) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("python"))
            })
            .collect();
        pythons.sort();
        // With several `pythonX.Y` directories, prefer the one pyvenv.cfg names.
        if let Some(v) = version {
            let want = format!("python{v}");
            if pythons.iter().any(|p| p.ends_with(&want)) {
                pythons.retain(|p| p.ends_with(&want));
            }
        }
        for p in pythons {
            let sp = p.join("site-packages");
            if sp.is_dir() && !found.iter().any(|f: &PathBuf| same_dir(f, &sp)) {
                found.push(sp);
            }
        }
    }
    let windows = dir.join("Lib").join("site-packages");
    if windows.is_dir() {
        found.push(windows);
    }
    found
}

fn same_dir(a: &Path, b: &Path) -> bool {
    // `lib64` is often a symlink to `lib`.
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn index_dir(dir: &Path, names: &mut HashSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if !name.contains('.') && !name.contains('-') && name != "__pycache__" {
                names.insert(name);
            }
        } else if let Some((stem, _)) = classify_file(&name) {
            names.insert(stem.to_owned());
        }
    }
}

/// `.pth` files add directories to `sys.path` (editable installs, namespace helpers);
/// lines starting with `import` are code, not paths. One that cannot be read goes to
/// `unread` with the reason.
fn index_pth_files(
    site_packages: &Path,
    names: &mut HashSet<String>,
    unread: &mut Vec<(PathBuf, String)>,
) {
    let Ok(entries) = std::fs::read_dir(site_packages) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "pth") {
            continue;
        }
        let text = match crate::fsread::read_string_capped(&path, crate::fsread::CONFIG_CAP) {
            Ok(text) => text,
            // Gone since the listing: nothing to read.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                unread.push((path, super::io_reason(&e)));
                continue;
            }
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("import") {
                continue;
            }
            index_dir(&site_packages.join(line), names);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn versions_from_cfg() {
        assert_eq!(
            parse_cfg_version("home = /usr/bin\nversion = 3.12.4\n"),
            Some(PyVersion::new(3, 12))
        );
        assert_eq!(
            parse_cfg_version("version_info = 3.13.0.final.0\n"),
            Some(PyVersion::new(3, 13))
        );
        assert_eq!(parse_cfg_version("home = /usr/bin\n"), None);
        assert_eq!(parse_version("2.7"), Some(PyVersion::new(2, 7)));
        assert_eq!(parse_version("three"), None);
    }

    #[test]
    fn indexes_site_packages_and_pth() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join(".venv");
        let sp = venv.join("lib/python3.13/site-packages");
        let extra = dir.path().join("editable/src");
        for d in [
            sp.join("flask"),
            sp.join("flask-3.0.dist-info"),
            extra.join("mylib"),
        ] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(venv.join("pyvenv.cfg"), "version = 3.13.1\n").unwrap();
        fs::write(sp.join("six.py"), "").unwrap();
        fs::write(sp.join("_cffi.cpython-313-x86_64-linux-gnu.so"), "").unwrap();
        fs::write(
            sp.join("e.pth"),
            format!("import sys\n{}\n", extra.display()),
        )
        .unwrap();
        assert_eq!(detect(dir.path()), Some(venv.clone()));
        let v = open(&venv).unwrap();
        assert_eq!(v.version, Some(PyVersion::new(3, 13)));
        for name in ["flask", "six", "_cffi", "mylib"] {
            assert!(v.names.contains(name), "{name}");
        }
        assert!(!v.names.iter().any(|n| n.contains("dist-info")));
        assert!(
            open(dir.path())
                .unwrap_err()
                .contains("is not a virtualenv")
        );
    }
}
