//! The interpreters of an image, found without running any: the usual `bin` directories
//! and virtualenvs, each with its language version from the tree itself (a virtualenv's
//! `pyvenv.cfg`, the `pythonX.Y` name the link leads to, the `lib/pythonX.Y` directory of
//! its prefix, or the magic number of the caches already in its standard library), and
//! where its standard library and site-packages are.

use super::rootfs::RootFs;
use crate::pyc::magic::PyVersion;
use std::path::{Path, PathBuf};

/// One interpreter of the image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImagePython {
    /// The path the service would run, inside the image.
    pub path: PathBuf,
    /// The file it resolves to.
    pub real: PathBuf,
    /// Language version.
    pub python: PyVersion,
    /// How the version was learnt.
    pub version_from: String,
    /// Its standard library (`PREFIX/lib/pythonX.Y`).
    pub stdlib: PathBuf,
    /// Its site-packages and dist-packages directories that exist.
    pub site: Vec<PathBuf>,
    /// The virtualenv it belongs to, if any.
    pub venv: Option<PathBuf>,
}

impl ImagePython {
    /// `cpython-312`.
    pub fn tag(&self) -> String {
        format!("cpython-{}{}", self.python.major, self.python.minor)
    }
}

/// Where interpreters usually are in an image.
const BIN_DIRS: [&str; 3] = ["/usr/local/bin", "/usr/bin", "/opt/python/bin"];
/// Where virtualenvs usually are (and `.venv`/`venv` in the project).
const VENVS: [&str; 4] = ["/opt/venv", "/venv", "/app/.venv", "/usr/src/app/.venv"];

/// `X.Y` from `pythonX.Y`.
fn version_of_name(name: &str) -> Option<PyVersion> {
    let rest = name.strip_prefix("python")?;
    let (major, minor) = rest.split_once('.')?;
    Some(PyVersion::new(major.parse().ok()?, minor.parse().ok()?))
}

/// `version = 3.12.3` (or `version_info = 3.12.3.final.0`) and `home = ...` of a pyvenv.cfg.
fn pyvenv(text: &str) -> (Option<PyVersion>, Option<PathBuf>) {
    let mut version = None;
    let mut home = None;
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k == "version" || k == "version_info" {
            let mut parts = v.split('.');
            if let (Some(a), Some(b)) = (parts.next(), parts.next())
                && let (Ok(a), Ok(b)) = (a.parse(), b.parse())
            {
                version = Some(PyVersion::new(a, b));
            }
        } else if k == "home" {
            home = Some(PathBuf::from(v));
        }
    }
    (version, home)
}

/// The `lib/pythonX.Y` directories of a prefix that hold a standard library (`os.py`).
fn stdlibs(fs: &RootFs, prefix: &Path) -> Vec<PyVersion> {
    let Ok(entries) = std::fs::read_dir(fs.host(&prefix.join("lib"))) else {
        return Vec::new();
    };
    let mut found: Vec<PyVersion> = entries
        .filter_map(Result::ok)
        .filter_map(|e| version_of_name(&e.file_name().to_string_lossy()))
        .filter(|v| {
            fs.host(&prefix.join(format!("lib/python{v}/os.py")))
                .is_file()
        })
        .collect();
    found.sort();
    found
}

/// The version the caches in a standard library's `__pycache__` were written by.
fn version_of_caches(fs: &RootFs, stdlib: &Path) -> Option<PyVersion> {
    let entries = std::fs::read_dir(fs.host(&stdlib.join("__pycache__"))).ok()?;
    for e in entries.filter_map(Result::ok).take(64) {
        let (fd, _) = crate::fsread::open_regular(&e.path(), true).ok()?;
        let mut head = [0u8; 4];
        if std::io::Read::read_exact(&mut std::fs::File::from(fd), &mut head).is_ok()
            && let Some(v) = crate::pyc::header::read_magic(&head)
                .ok()
                .and_then(|m| m.python)
        {
            return Some(v);
        }
    }
    None
}

/// Judges one interpreter path inside the image; None when it is not one.
pub fn examine(fs: &RootFs, path: &Path) -> Option<ImagePython> {
    let real = fs.resolve(path)?;
    if !fs.host(&real).is_file() {
        return None;
    }
    let bin = path.parent()?;
    let prefix = bin.parent()?;
    let cfg = fs.read_text(&prefix.join("pyvenv.cfg"));
    let (cfg_version, home) = cfg.as_deref().map(pyvenv).unwrap_or((None, None));
    let venv = cfg.is_some().then(|| prefix.to_path_buf());
    // A virtualenv's standard library is its base interpreter's: `home` is its bin dir.
    let real_prefix = real.parent().and_then(Path::parent).map(Path::to_path_buf);
    let base_prefix = home
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .or(real_prefix)
        .unwrap_or_else(|| prefix.to_path_buf());
    let name_version = real
        .file_name()
        .and_then(|n| version_of_name(&n.to_string_lossy()))
        .or_else(|| {
            path.file_name()
                .and_then(|n| version_of_name(&n.to_string_lossy()))
        });
    let libs = stdlibs(fs, &base_prefix);
    let (python, version_from) = if let Some(v) = cfg_version {
        (v, format!("{}/pyvenv.cfg", prefix.display()))
    } else if let Some(v) = name_version {
        (v, format!("the name {}", real.display()))
    } else if libs.len() == 1 {
        (
            libs[0],
            format!("{}/lib/python{}", base_prefix.display(), libs[0]),
        )
    } else {
        let v = libs
            .iter()
            .rev()
            .find_map(|v| version_of_caches(fs, &base_prefix.join(format!("lib/python{v}"))))?;
        (
            v,
            format!(
                "the magic of the caches in {}/lib/python{v}",
                base_prefix.display()
            ),
        )
    };
    let stdlib = base_prefix.join(format!("lib/python{python}"));
    if !fs.host(&stdlib.join("os.py")).is_file() {
        return None;
    }
    let mut site = vec![prefix.join(format!("lib/python{python}/site-packages"))];
    if venv.is_none() {
        site.push(prefix.join(format!("lib/python{python}/dist-packages")));
        site.push(PathBuf::from(format!(
            "/usr/local/lib/python{python}/dist-packages"
        )));
        site.push(PathBuf::from("/usr/lib/python3/dist-packages"));
    }
    site.sort();
    site.dedup();
    site.retain(|d| fs.host(d).is_dir());
    Some(ImagePython {
        path: path.to_path_buf(),
        real,
        python,
        version_from,
        stdlib,
        site,
        venv,
    })
}

/// Every interpreter found, one per real file (the first name found for it), virtualenvs
/// first (a service usually runs one), then `/usr/local/bin`, then `/usr/bin`.
pub fn discover(fs: &RootFs, project: Option<&Path>) -> Vec<ImagePython> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut venvs: Vec<PathBuf> = VENVS.iter().map(PathBuf::from).collect();
    if let Some(p) = project {
        venvs.insert(0, p.join(".venv"));
        venvs.insert(1, p.join("venv"));
    }
    for v in venvs {
        candidates.push(v.join("bin/python"));
    }
    for dir in BIN_DIRS {
        let Ok(entries) = std::fs::read_dir(fs.host(Path::new(dir))) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n == "python3" || n == "python" || version_of_name(n).is_some())
            .collect();
        // `python3`, then `python`, then `python3.12`: the names a Dockerfile's CMD uses.
        names.sort_by_key(|n| (n != "python3", n.len(), n.clone()));
        candidates.extend(names.into_iter().map(|n| Path::new(dir).join(n)));
    }
    let mut found: Vec<ImagePython> = Vec::new();
    for c in candidates {
        if let Some(p) = examine(fs, &c)
            && !found.iter().any(|f| f.real == p.real && f.venv == p.venv)
        {
            found.push(p);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_tree() {
        assert_eq!(version_of_name("python3.12"), Some(PyVersion::new(3, 12)));
        assert_eq!(version_of_name("python3"), None);
        let (v, home) = pyvenv(
            "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.9\n",
        );
        assert_eq!(
            (v, home),
            (
                Some(PyVersion::new(3, 11)),
                Some(PathBuf::from("/usr/local/bin"))
            )
        );
        assert_eq!(
            pyvenv("version_info = 3.13.0.final.0").0,
            Some(PyVersion::new(3, 13))
        );
    }
}
