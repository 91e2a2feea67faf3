//! Compile errors remembered between runs, so a source that failed to compile and has not
//! changed since is reported again without starting its interpreter.
//!
//! Without this, every `pycache recompile` would retry the same broken files (test data
//! with deliberate syntax errors is common in vendored trees) and a no-op run would cost
//! interpreter start-ups instead of about a scan. Only errors of the source itself are
//! remembered (syntax errors, or the compiler refusing it: deterministic), not I/O errors;
//! an entry applies while the source keeps its size and mtime.
//! Stored as JSON lines in `$XDG_CACHE_HOME/pycache/compile-errors.jsonl`
//! (`~/.cache/...`); `--retry-failed` ignores it. Under `sudo -E` that directory may be
//! another user's: then it is not used (that user could plant links root would write
//! through), and saving says so once.

use super::plan::{Plan, Step};
use super::report::{Outcome, Report};
use crate::safe_dir;
use crate::scan::FileMeta;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstat};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Entries kept at most (oldest dropped first); a few MiB.
const MAX_ENTRIES: usize = 50_000;

/// A store file larger than this is read only this far (its lines are about 300 bytes).
const MAX_BYTES: u64 = 64 << 20;

/// One remembered compile error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownFailure {
    /// Interpreter key (`cpython-312`).
    pub key: String,
    /// Source path bytes, hex.
    pub source_hex: String,
    /// Source size when it failed.
    pub size: u64,
    /// Source mtime when it failed.
    pub mtime: i64,
    /// The error message.
    pub message: String,
    /// Line of the error.
    pub line: Option<u32>,
    /// Column of the error.
    pub column: Option<u32>,
}

/// The remembered compile errors.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    file: Option<PathBuf>,
    entries: HashMap<(String, String), KnownFailure>,
    order: Vec<(String, String)>,
    /// True when `learn` changed something that `save` must write.
    dirty: bool,
    /// Why the store's directory is not used (another user's, or writable by others).
    refused: Option<String>,
}

impl KnownFailures {
    /// The default store (`$XDG_CACHE_HOME/pycache/compile-errors.jsonl`); empty when absent.
    pub fn load_default() -> Self {
        let dir = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")));
        match dir {
            Some(d) => Self::load(&d.join("pycache").join("compile-errors.jsonl")),
            None => Self::default(),
        }
    }

    /// Loads a store; unreadable or malformed lines are ignored (it is only a cache). A
    /// store whose directory is not ours (or writable by others) is not used at all: see
    /// [`KnownFailures::save`].
    pub fn load(file: &Path) -> Self {
        let mut me = Self {
            file: Some(file.to_path_buf()),
            ..Self::default()
        };
        let Some((dir, name)) = split(file) else {
            return me;
        };
        let fd = match safe_dir::open_private_dir(dir, None, "compile-error store directory") {
            Ok(fd) => fd,
            // Missing: `save` creates it.
            Err(_) if !dir.exists() => return me,
            Err(why) => {
                me.refused = Some(why);
                return me;
            }
        };
        if let Some(text) = read_store(fd.as_fd(), name) {
            for e in text
                .lines()
                .filter_map(|l| serde_json::from_str::<KnownFailure>(l).ok())
            {
                me.insert(e);
            }
        }
        me
    }

    /// Why the store is not used, once, for a warning at the start of any run (a dry run
    /// included); afterwards the store is dropped, so `save` neither writes nor repeats it.
    pub fn take_refusal(&mut self) -> Option<String> {
        let why = self.refused.take()?;
        self.file = None;
        Some(format!(
            "{why}; carrying on without remembering compile errors"
        ))
    }

    fn insert(&mut self, e: KnownFailure) {
        let k = (e.key.clone(), e.source_hex.clone());
        if self.entries.insert(k.clone(), e).is_none() {
            self.order.push(k);
        }
    }

    /// The remembered error of this source for this key, if the source is unchanged.
    pub fn lookup(&self, key: &str, source: &Path, meta: &FileMeta) -> Option<&KnownFailure> {
        if self.entries.is_empty() {
            return None;
        }
        let e = self.entries.get(&(
            key.to_string(),
            super::quarantine::hex(source.as_os_str().as_bytes()),
        ))?;
        (e.size == meta.size && e.mtime == meta.mtime).then_some(e)
    }

    /// Learns from a run: compile errors of sources are remembered, sources that compiled are
    /// forgotten.
    pub fn learn(&mut self, plan: &Plan, report: &Report) {
        for o in &report.outcomes {
            let Some(Step::Compile(c)) = plan.steps.get(o.index) else {
                continue;
            };
            let k = (
                c.tag.clone(),
                super::quarantine::hex(c.source.as_os_str().as_bytes()),
            );
            match &o.outcome {
                Outcome::Done => {
                    self.dirty |= self.entries.remove(&k).is_some();
                }
                Outcome::Failed(message) if o.source.is_some() && c.known_failure.is_none() => {
                    self.dirty = true;
                    self.insert(KnownFailure {
                        key: k.0,
                        source_hex: k.1,
                        size: c.source_size,
                        mtime: c.source_mtime,
                        message: message.clone(),
                        line: o.line,
                        column: o.column,
                    });
                }
                _ => {}
            }
        }
    }

    /// Writes the store back (atomically, through its directory's handle: a new temporary
    /// file `O_EXCL|O_NOFOLLOW`, then `renameat`) when `learn` changed it; a no-op for a
    /// store that was never loaded. No fsync: losing it only means compiling a broken file
    /// once more. An error when the store's directory was refused, to say so once.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        if !self.dirty && self.refused.is_none() {
            return Ok(());
        }
        if let Some(why) = &self.refused {
            return Err(std::io::Error::other(format!(
                "{why}; carrying on without remembering compile errors"
            )));
        }
        let Some((dir, name)) = split(file) else {
            return Ok(());
        };
        self.order.retain(|k| self.entries.contains_key(k));
        let skip = self.order.len().saturating_sub(MAX_ENTRIES);
        let mut out = Vec::new();
        for k in &self.order[skip..] {
            if let Some(e) = self.entries.get(k) {
                serde_json::to_writer(&mut out, e).map_err(std::io::Error::other)?;
                out.push(b'\n');
            }
        }
        let fd = safe_dir::open_private_dir(dir, Some(0o700), "compile-error store directory")
            .map_err(std::io::Error::other)?;
        safe_dir::replace_at(fd.as_fd(), name, &out, 0o600, &|_| Ok(()))?;
        self.dirty = false;
        Ok(())
    }
}

/// The store's directory and file name.
fn split(file: &Path) -> Option<(&Path, &OsStr)> {
    Some((file.parent()?, file.file_name()?))
}

/// Reads the store file (a regular file, not through a link, at most [`MAX_BYTES`]).
fn read_store(dir: BorrowedFd<'_>, name: &OsStr) -> Option<String> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = openat(dir, name, flags, Mode::empty()).ok()?;
    let st = fstat(&fd).ok()?;
    if st.st_mode & SFlag::S_IFMT.bits() != SFlag::S_IFREG.bits() {
        return None;
    }
    let mut text = String::new();
    File::from(fd)
        .take(MAX_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::plan::{ActionKind, Compile, CompileReason};
    use crate::actions::report::StepOutcome;
    use crate::pyc::Invalidation;

    fn step(source: &str) -> Step {
        Step::Compile(Compile {
            source: source.into(),
            source_size: 10,
            source_mtime: 20,
            cache: format!("{source}c").into(),
            module: "m".into(),
            tag: "cpython-313".into(),
            opt: 0,
            mode: Invalidation::Timestamp,
            reason: CompileReason::Missing,
            interpreter: Some("/usr/bin/python3".into()),
            unavailable: None,
            known_failure: None,
            chown: false,
        })
    }

    #[test]
    fn errors_are_remembered_until_the_source_changes_or_compiles() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("c/errors.jsonl");
        let mut plan = Plan::new(ActionKind::Recompile, vec![]);
        plan.steps = vec![step("/p/bad.py"), step("/p/good.py")];
        let mut failed = StepOutcome::new(
            0,
            Path::new("/p/bad.pyc"),
            Outcome::Failed("SyntaxError: x".into()),
        );
        failed.source = Some("/p/bad.py".into());
        failed.line = Some(3);
        let report = Report::new(
            &plan,
            vec![
                failed,
                StepOutcome::new(1, Path::new("/p/good.pyc"), Outcome::Done),
            ],
            false,
        );
        let mut k = KnownFailures::load(&file);
        k.learn(&plan, &report);
        k.save().unwrap();
        let k = KnownFailures::load(&file);
        let meta = FileMeta {
            size: 10,
            mtime: 20,
            ..FileMeta::default()
        };
        let e = k
            .lookup("cpython-313", Path::new("/p/bad.py"), &meta)
            .unwrap();
        assert_eq!((e.message.as_str(), e.line), ("SyntaxError: x", Some(3)));
        assert!(
            k.lookup("cpython-312", Path::new("/p/bad.py"), &meta)
                .is_none()
        );
        assert!(
            k.lookup(
                "cpython-313",
                Path::new("/p/bad.py"),
                &FileMeta { mtime: 21, ..meta }
            )
            .is_none()
        );
        assert!(
            k.lookup("cpython-313", Path::new("/p/good.py"), &meta)
                .is_none()
        );
    }
}
