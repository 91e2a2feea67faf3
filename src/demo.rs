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

use crate::safe_dir;
use crate::scan::classify::prefix_cache_dir;
use crate::scan::display_path;
use nix::fcntl::{AtFlags, openat};
use nix::sys::stat::{Mode, SFlag, fstat, fstatat};
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The file that marks a directory as written by `pycache demo` (safe to rewrite).
pub const MARKER: &str = ".pycache-demo";

/// The prefix tree, relative to the project (as the seed's `PYTHONPYCACHEPREFIX`).
pub const PREFIX_DIR: &str = "instance/tmp";

/// The demo's systemd unit, written into the project: the seed's service, whose context
/// (`crate::context::demo_context`) the demo is judged under.
pub const UNIT_FILE: &str = "lernmanager.service";

/// The interpreter the demo's unit starts (the server's; it need not be installed here:
/// the context then describes it from its name).
pub const UNIT_PYTHON: &str = "/usr/bin/python3.13";

/// The demo's unit file for the project at `root`: the seed's service as it was after
/// the fix (`PYTHONPYCACHEPREFIX` under the project's `instance/tmp`).
pub fn unit_text(root: &Path) -> String {
    let root = root.display();
    format!(
        "# The seed's service, as written by 'pycache demo' (try: pycache scan {root} --unit {root}/{UNIT_FILE})\n\
         [Unit]\n\
         Description=Lernmanager (waitress)\n\
         After=network.target\n\
         \n\
         [Service]\n\
         User=lernmanager\n\
         WorkingDirectory={root}\n\
         Environment=\"PYTHONPYCACHEPREFIX={root}/{PREFIX_DIR}\"\n\
         ExecStart={UNIT_PYTHON} {root}/run.py\n\
         Restart=on-failure\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

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
    /// The directory is not safe to write into (another user's, or writable by others).
    Refused(String),
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
            DemoError::Refused(why) => write!(f, "cannot write the demo: {why}"),
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
///
/// `dir` must be ours and writable by nobody else (else refused), and everything in it is
/// written through its handle: links are removed as names, never followed, and new files
/// are created `O_EXCL|O_NOFOLLOW` and renamed into place, so a user who planted links in a
/// directory they prepared cannot make this overwrite anything outside it.
pub fn write(dir: &Path) -> Result<DemoInfo, DemoError> {
    let fd = safe_dir::open_private_dir(dir, Some(0o755), "demo directory")
        .map_err(DemoError::Refused)?;
    let mut listing = nix::dir::Dir::openat(&fd, ".", safe_dir::DIR_NOFOLLOW, Mode::empty())
        .map_err(|e| DemoError::Io(dir.to_path_buf(), e.into()))?;
    let has_entries = listing
        .iter()
        .filter_map(Result::ok)
        .any(|e| !matches!(e.file_name().to_bytes(), b"." | b".."));
    drop(listing);
    if has_entries {
        let ours = fstatat(&fd, MARKER, AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFREG.bits());
        if !ours {
            return Err(DemoError::NotEmpty(dir.to_path_buf()));
        }
        safe_dir::clear_dir(fd.as_fd()).map_err(|e| DemoError::Io(dir.to_path_buf(), e.into()))?;
    }
    // CPython mirrors the absolute source directory under the prefix (no symlinks resolved
    // there; resolving them here gives one unambiguous path for both).
    let root = fs::canonicalize(dir).map_err(io_at(dir))?;
    let same = |a: &nix::sys::stat::FileStat, b: &nix::sys::stat::FileStat| {
        (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    };
    let opened = fstat(&fd).map_err(|e| DemoError::Io(dir.to_path_buf(), e.into()))?;
    if !nix::sys::stat::stat(&root).is_ok_and(|st| same(&st, &opened)) {
        return Err(DemoError::Refused(format!(
            "{} changed while pycache opened it: run 'pycache demo' again",
            display_path(dir)
        )));
    }
    let prefix = root.join(PREFIX_DIR);
    let mirror = prefix_cache_dir(&prefix, &root);
    let mirror_rel = mirror.strip_prefix(&root).unwrap_or(&mirror).to_path_buf();
    write_file(
        fd.as_fd(),
        &root,
        Path::new(MARKER),
        b"written by 'pycache demo': rerunning it replaces everything in this directory\n",
        None,
    )?;
    write_file(
        fd.as_fd(),
        &root,
        Path::new(UNIT_FILE),
        unit_text(&root).as_bytes(),
        Some(1702000000),
    )?;
    for file in FILES {
        let rel = match file.kind {
            FileKind::Source | FileKind::Cache => PathBuf::from(file.dest),
            FileKind::Prefix => mirror_rel.join(file.dest),
        };
        write_file(fd.as_fd(), &root, &rel, file.bytes, Some(file.mtime))?;
    }
    Ok(DemoInfo {
        root,
        prefix,
        files: FILES.len() + 1,
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

/// Writes `rel` (below the directory `root_fd`, shown as `root`) through handles: its
/// directories made and opened without following links, the file renamed into place.
fn write_file(
    root_fd: BorrowedFd<'_>,
    root: &Path,
    rel: &Path,
    bytes: &[u8],
    mtime: Option<u64>,
) -> Result<(), DemoError> {
    let shown = root.join(rel);
    let fail = |e: io::Error| DemoError::Io(shown.clone(), e);
    let mut names: Vec<&OsStr> = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => names.push(n),
            _ => return Err(fail(io::Error::other("not a plain relative path"))),
        }
    }
    let name = names
        .pop()
        .ok_or_else(|| fail(io::Error::other("no file name")))?;
    let mut dir =
        openat(root_fd, ".", safe_dir::DIR_NOFOLLOW, Mode::empty()).map_err(|e| fail(e.into()))?;
    for n in names {
        safe_dir::make_dir_at(dir.as_fd(), n, 0o755, &shown).map_err(DemoError::Refused)?;
        dir = openat(&dir, n, safe_dir::DIR_NOFOLLOW, Mode::empty()).map_err(|e| fail(e.into()))?;
    }
    let set_time = |f: &File| match mtime {
        Some(t) => f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(t)),
        None => Ok(()),
    };
    safe_dir::replace_at(dir.as_fd(), name, bytes, 0o644, &set_time).map_err(fail)
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
        assert_eq!(info.files, FILES.len() + 1); // and the unit file
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
