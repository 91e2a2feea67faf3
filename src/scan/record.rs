//! What the scanner finds: one record per source, per cache, per problem.
//!
//! Records are plain data, produced on the scanner thread and moved into the model.

use crate::pyc::{Header, Invalidation, Location, PyVersion, Status, Verdict};
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};

/// `stat` facts shown in the details pane and used to re-check files before removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct FileMeta {
    /// Apparent size in bytes.
    pub size: u64,
    /// Disk usage in bytes (`st_blocks * 512`).
    pub disk_usage: u64,
    /// `int(st_mtime)` in seconds.
    pub mtime: i64,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Permission bits and file type (`st_mode`).
    pub mode: u32,
    /// Device id, with `ino` identifies the file for the pre-removal re-check.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

impl FileMeta {
    /// From `symlink_metadata`/`metadata`.
    pub fn from_metadata(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            size: meta.size(),
            disk_usage: meta.blocks().saturating_mul(512),
            mtime: crate::pyc::SourceStat::from_metadata(meta).mtime,
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode(),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// A Python source file (`.py`/`.pyw`) found under a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRecord {
    /// Absolute path.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// Dotted module name relative to its root (`pkg.sub.mod`; `pkg` for `pkg/__init__.py`).
    pub module: String,
    /// True for `__init__.py`.
    pub is_package: bool,
    /// Its `stat` facts.
    pub meta: FileMeta,
}

/// A cache file (`.pyc`/`.pyo`) with CPython's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheRecord {
    /// Absolute path.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// The source CPython maps it to (it may not exist: see `status`).
    #[serde(serialize_with = "ser_opt_path")]
    pub source: Option<PathBuf>,
    /// Dotted module name of that source.
    pub module: String,
    /// Interpreter tag: from the file name, or from the magic for legacy files.
    pub tag: Option<String>,
    /// Optimisation level (`1`, `2`), None at level 0.
    pub opt: Option<String>,
    /// `pycache`, `prefix` or `legacy`.
    pub location: Location,
    /// Decoded header, when it decodes (inline: nearly every cache has one, and a box
    /// costs an allocation each).
    #[serde(rename = "recorded", serialize_with = "ser_recorded")]
    pub header: Option<Header>,
    /// Magic number, when at least 4 bytes were read.
    pub magic: Option<u16>,
    /// Python version the magic names.
    pub python: Option<PyVersion>,
    /// Timestamp or hash-based.
    pub invalidation: Option<Invalidation>,
    /// The verdict.
    pub status: Status,
    /// Why (None for plain fresh caches).
    pub reason: Option<String>,
    /// Full verdict details (stale reason, runs-anyway, actual hash); JSON shows its
    /// `outcome`: what the owning interpreter's import does with the file.
    #[serde(rename = "outcome", serialize_with = "ser_outcome")]
    pub verdict: Verdict,
    /// Link, pytest cache, body checked.
    #[serde(flatten)]
    pub kind: CacheKind,
    /// `stat` facts of the cache file.
    #[serde(flatten)]
    pub meta: FileMeta,
}

/// What kind of cache file it is, beyond its location.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CacheKind {
    /// The cache file is a symbolic link: judged through it, never followed to delete.
    pub link: bool,
    /// pytest's assertion-rewrite cache: the pytest version in its name ("" for the old
    /// `-PYTEST` names). Judged by pytest's rule; the import system never reads it.
    pub pytest: Option<String>,
    /// The whole marshal body was checked (not with `--header-only`, nor for files Python
    /// would not load anyway).
    pub body_checked: bool,
}

fn ser_outcome<S: Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
    v.outcome.serialize(s)
}

/// A problem met while scanning: a finding, not an abort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanError {
    /// Where.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// What kind of problem.
    pub kind: ScanErrorKind,
    /// One line, what happened and what to do.
    pub message: String,
}

/// Kinds of scan problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanErrorKind {
    /// Permission denied on a directory or file.
    Unreadable,
    /// A symlink loop (only with `--follow-symlinks`).
    SymlinkLoop,
    /// A root that does not exist or is not a directory.
    BadRoot,
    /// The file changed or vanished while it was scanned.
    Changed,
    /// Any other I/O error.
    Io,
}

pub use crate::text::{display_path, path_text};

/// The values a header recorded about its source, as `scan --json` shows them: what a
/// snapshot needs to show recorded vs actual offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Recorded {
    /// Header size in bytes.
    pub header_size: usize,
    /// PEP 552 flags word (16-byte headers).
    pub flags: Option<u32>,
    /// Recorded source mtime.
    pub source_mtime: Option<u32>,
    /// Recorded source size.
    pub source_size: Option<u32>,
    /// Recorded source hash, 16 hex digits.
    pub source_hash: Option<String>,
}

impl Recorded {
    /// The recorded values of a decoded header.
    pub fn of(h: &Header) -> Self {
        Self {
            header_size: h.header_size,
            flags: h.flags,
            source_mtime: h.source_mtime,
            source_size: h.source_size,
            source_hash: h.source_hash_hex(),
        }
    }

    /// Rebuilds a header from recorded values and the magic (for snapshots).
    pub fn to_header(&self, magic: u16, invalidation: crate::pyc::Invalidation) -> Header {
        let source_hash = self.source_hash.as_deref().and_then(|s| {
            let mut out = [0u8; 8];
            if s.len() != 16 {
                return None;
            }
            for (i, b) in out.iter_mut().enumerate() {
                *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Some(out)
        });
        Header {
            magic: crate::pyc::magic::lookup(magic),
            header_size: self.header_size,
            flags: self.flags,
            invalidation,
            source_mtime: self.source_mtime,
            source_size: self.source_size,
            source_hash,
        }
    }
}

fn ser_recorded<S: Serializer>(h: &Option<Header>, s: S) -> Result<S::Ok, S::Error> {
    match h {
        Some(h) => Recorded::of(h).serialize(s),
        None => s.serialize_none(),
    }
}

/// serde helper: a path as exact text (serde escapes control characters in JSON).
pub fn ser_path<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path_text(p))
}

/// serde helper: an optional path as exact text or null.
pub fn ser_opt_path<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&path_text(p)),
        None => s.serialize_none(),
    }
}
