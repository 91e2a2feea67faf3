//! The bundled demo project: a small Flask-style app whose caches tell the story pycache
//! was made for (two CPython versions, edited and deleted modules, a `PYTHONPYCACHEPREFIX`
//! mirror, a legacy sourceless module, a half-written cache).
//!
//! The files are compiled into the binary (`assets/demo/files.rs`, generated with the real
//! `.pyc` files by `scripts/make-demo.sh`), so `cargo install` users get them. Git does not
//! keep mtimes, so [`write`] sets every file's mtime from the manifest: the verdicts come
//! out as designed on any machine. The prefix mirror lives at `DIR/instance/tmp`, and
//! CPython names its directories after the project's absolute path, so it can only be laid
//! out when `DIR` is known.
//!
//! The sources import only the standard library and the local `microweb` stand-in for
//! Flask; `python run.py --check` imports and initialises everything, then exits.

use crate::scan::classify::prefix_cache_dir;
use crate::scan::display_path;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The file that marks a directory as written by `pycache demo` (safe to rewrite).
pub const MARKER: &str = ".pycache-demo";

/// The prefix tree, relative to the project (as the seed's `PYTHONPYCACHEPREFIX`).
pub const PREFIX_DIR: &str = "instance/tmp";

/// The expected verdict of every demo cache (`kind, dest, location, status, reason` rows),
/// computed by `scripts/make-demo.sh` from headers and stats, independently of pycache.
pub const EXPECTED: &str = include_str!("../assets/demo/expected.tsv");

/// Where a demo file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A source file, relative to the project.
    Source,
    /// A cache, relative to the project.
    Cache,
    /// A cache of the prefix mirror, relative to `prefix/<absolute project path>`.
    Prefix,
}

/// One file of the demo.
#[derive(Debug, Clone, Copy)]
pub struct DemoFile {
    /// Where it goes.
    pub kind: FileKind,
    /// Its path, relative to where it goes.
    pub dest: &'static str,
    /// Its modification time (seconds since the epoch).
    pub mtime: u64,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// Every file of the demo.
pub const FILES: &[DemoFile] = include!("../assets/demo/files.rs");

/// What [`write`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoInfo {
    /// The project directory (absolute, symlinks resolved).
    pub root: PathBuf,
    /// Its `PYTHONPYCACHEPREFIX` tree (`root/instance/tmp`).
    pub prefix: PathBuf,
    /// Number of files written (sources and caches).
    pub files: usize,
}

/// Why the demo could not be written.
#[derive(Debug)]
pub enum DemoError {
    /// The directory has files and no [`MARKER`]: it is not ours to overwrite.
    NotEmpty(PathBuf),
    /// A file system error at a path.
    Io(PathBuf, io::Error),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::NotEmpty(p) => write!(
                f,
                "{} is not empty and was not made by 'pycache demo': choose a new or empty \
                 directory, or run 'pycache demo' without one to use a temporary directory",
                display_path(p)
            ),
            DemoError::Io(p, e) => write!(f, "cannot write the demo at {}: {e}", display_path(p)),
        }
    }
}

impl std::error::Error for DemoError {}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> DemoError + '_ {
    move |e| DemoError::Io(path.to_path_buf(), e)
}

/// Writes the demo project into `dir` (created if missing). A non-empty `dir` is refused
/// unless an earlier `pycache demo` made it, in which case its contents are replaced.
pub fn write(dir: &Path) -> Result<DemoInfo, DemoError> {
    fs::create_dir_all(dir).map_err(io_at(dir))?;
    let mut entries = fs::read_dir(dir).map_err(io_at(dir))?.peekable();
    if entries.peek().is_some() {
        if !dir.join(MARKER).is_file() {
            return Err(DemoError::NotEmpty(dir.to_path_buf()));
        }
        for entry in entries {
            let path = entry.map_err(io_at(dir))?.path();
            let removed = if path.is_dir() && !path.is_symlink() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(io_at(&path))?;
        }
    }
    // CPython mirrors the absolute source directory under the prefix (no symlinks resolved
    // there; resolving them here gives one unambiguous path for both).
    let root = fs::canonicalize(dir).map_err(io_at(dir))?;
    let prefix = root.join(PREFIX_DIR);
    let mirror = prefix_cache_dir(&prefix, &root);
    fs::write(
        root.join(MARKER),
        "written by 'pycache demo': rerunning it replaces everything in this directory\n",
    )
    .map_err(io_at(&root))?;
    for file in FILES {
        let path = match file.kind {
            FileKind::Source | FileKind::Cache => root.join(file.dest),
            FileKind::Prefix => mirror.join(file.dest),
        };
        write_file(&path, file.bytes, file.mtime)?;
    }
    Ok(DemoInfo {
        root,
        prefix,
        files: FILES.len(),
    })
}

/// Writes the demo into a new directory under the system's temporary directory.
pub fn write_temp() -> Result<DemoInfo, DemoError> {
    let tmp = std::env::temp_dir();
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let dir = tmp.join(format!(
            "pycache-demo-{}-{:x}",
            std::process::id(),
            stamp.wrapping_add(attempt)
        ));
        match fs::create_dir(&dir) {
            Ok(()) => return write(&dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(DemoError::Io(dir, e)),
        }
    }
    Err(DemoError::Io(
        tmp,
        io::Error::other("no free name for a temporary directory"),
    ))
}

fn write_file(path: &Path, bytes: &[u8], mtime: u64) -> Result<(), DemoError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    fs::write(path, bytes).map_err(io_at(path))?;
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime);
    File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .map_err(io_at(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn expected() -> Vec<(String, String, String)> {
        EXPECTED
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_string(), f[1].to_string(), f[3].to_string())
            })
            .collect()
    }

    #[test]
    fn the_demo_scans_exactly_as_designed() {
        let tmp = tempfile::tempdir().unwrap();
        let info = write(&tmp.path().join("lernmanager")).unwrap();
        assert_eq!(info.files, FILES.len());
        let opts = ScanOptions::new(vec![info.root.clone()]).with_prefix(Some(info.prefix.clone()));
        let model = scan(&opts).unwrap();
        assert!(model.errors.is_empty(), "{:?}", model.errors);
        let mirror = prefix_cache_dir(&info.prefix, &info.root);
        let want = expected();
        assert_eq!(model.caches.len(), want.len());
        for (kind, dest, status) in want {
            let path = if kind == "prefix" {
                mirror.join(&dest)
            } else {
                info.root.join(&dest)
            };
            let cache = model
                .cache(&path)
                .unwrap_or_else(|| panic!("{dest} not found"));
            assert_eq!(cache.status.as_str(), status, "{dest}");
        }
    }

    #[test]
    fn a_foreign_directory_is_refused_and_our_own_is_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("thesis.tex"), "precious").unwrap();
        let err = write(tmp.path()).unwrap_err();
        assert!(matches!(err, DemoError::NotEmpty(_)));
        assert!(err.to_string().contains("not made by 'pycache demo'"));
        assert!(tmp.path().join("thesis.tex").exists());
        let dir = tmp.path().join("demo");
        write(&dir).unwrap();
        fs::write(dir.join("scratch.py"), "x = 1\n").unwrap();
        let again = write(&dir).unwrap();
        assert!(!dir.join("scratch.py").exists());
        assert!(again.root.join("run.py").is_file());
    }
}
