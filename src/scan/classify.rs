//! Classification rules: what a file name is to Python, which source a cache maps to, the
//! module's dotted name, and the full [`CacheRecord`] of one cache from its first 16 bytes.
//!
//! Pure functions (the only I/O is the `hash_source` closure the caller passes, called for
//! hash-based pycs alone). Names are bytes, so files whose names are not UTF-8 are judged
//! like any other and shown escaped. The rules follow shared/docs/pyc-format.md §3-4:
//!
//! - `DIR/__pycache__/NAME.TAG[.opt-N].pyc` maps to `DIR/NAME.py`; a prefix cache
//!   `PREFIX/ABS/NAME.TAG.pyc` maps to `/ABS/NAME.py`; a legacy `DIR/NAME.pyc` to `DIR/NAME.py`.
//! - A name CPython cannot map (no tag inside `__pycache__` or a prefix tree) is invalid.
//! - Temporary leftovers `NAME.TAG.pyc.<digits>` of an interrupted write are reported as
//!   invalid: Python never reads them, and removing them is always safe.
//! - A legacy-location file named like a tagged cache (`app.cpython-313.pyc` outside
//!   `__pycache__`) can never be imported (module names have no dots): it is reported as
//!   orphaned, with a hint that it probably belongs to a `PYTHONPYCACHEPREFIX` tree.

use super::record::{FileMeta, path_text};
use crate::pyc::{Implementation, MagicInfo, SourceStat};
use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// What a file name is, as far as caches go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BytecodeName<'a> {
    /// The module's file stem (`a.b` for `a.b.cpython-313.pyc`).
    pub stem: &'a [u8],
    /// The interpreter tag from the name, when it has one.
    pub tag: Option<&'a str>,
    /// The optimisation level from `.opt-N`.
    pub opt: Option<&'a str>,
    /// True for a temporary leftover `NAME.pyc.<digits>`.
    pub leftover: bool,
    /// pytest's assertion-rewrite cache (`NAME.TAG-pytest-VERSION.pyc`): the pytest
    /// version, or "" for the old `NAME.TAG-PYTEST.pyc` names that carry none.
    pub pytest: Option<&'a str>,
}

/// Splits a `.pyc`/`.pyo` name (or a leftover `NAME.pyc.<digits>`) into its parts; None for
/// other files. `tagged` parses `NAME.TAG[.opt-N]` (inside `__pycache__` and prefix trees);
/// otherwise the whole base is the stem (legacy location). Mirrors `pyc::name::parse_tagged`
/// on bytes: names are read from the right because a module name may contain dots.
pub fn bytecode_name(name: &[u8], tagged: bool) -> Option<BytecodeName<'_>> {
    let (full, leftover) = match strip_leftover(name) {
        Some(base) => (base, true),
        None => (name, false),
    };
    let base = full
        .strip_suffix(b".pyc")
        .or_else(|| full.strip_suffix(b".pyo"))?;
    let plain = BytecodeName {
        stem: base,
        tag: None,
        opt: None,
        leftover,
        pytest: None,
    };
    if !tagged {
        return (!base.is_empty()).then_some(plain);
    }
    if let Some(name) = pytest_name(base, leftover) {
        return Some(name);
    }
    let (rest, opt) = match rsplit_dot(base) {
        Some((rest, last)) if last.starts_with(b"opt-") => {
            let level = &last[4..];
            if level.is_empty() || !level.iter().all(u8::is_ascii_alphanumeric) {
                return Some(plain);
            }
            (rest, std::str::from_utf8(level).ok())
        }
        _ => (base, None),
    };
    match rsplit_dot(rest) {
        Some((stem, tag)) if !stem.is_empty() && !tag.is_empty() => Some(BytecodeName {
            stem,
            tag: std::str::from_utf8(tag).ok(),
            opt,
            leftover,
            pytest: None,
        }),
        _ => Some(plain),
    }
}

/// `NAME.TAG-pytest-VERSION` (pytest's `PYTEST_TAG`, with dots in the version) or the old
/// `NAME.TAG-PYTEST`, split into stem, tag and version.
fn pytest_name(base: &[u8], leftover: bool) -> Option<BytecodeName<'_>> {
    const NEW: &[u8] = b"-pytest-";
    let (head, version) = match base.strip_suffix(b"-PYTEST") {
        Some(head) => (head, ""),
        None => {
            let i = base.windows(NEW.len()).rposition(|w| w == NEW)?;
            let version = std::str::from_utf8(&base[i + NEW.len()..]).ok()?;
            (&base[..i], version)
        }
    };
    let (stem, tag) = rsplit_dot(head)?;
    let tag = std::str::from_utf8(tag)
        .ok()
        .filter(|t| looks_like_tag(t))?;
    (!stem.is_empty()).then_some(BytecodeName {
        stem,
        tag: Some(tag),
        opt: None,
        leftover,
        pytest: Some(version),
    })
}

fn rsplit_dot(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().rposition(|&c| c == b'.')?;
    Some((&b[..i], &b[i + 1..]))
}

/// `NAME.pyc.<digits>` -> `NAME.pyc` (CPython's `_write_atomic` temp name is `PATH.<id>`).
fn strip_leftover(name: &[u8]) -> Option<&[u8]> {
    let (base, digits) = rsplit_dot(name)?;
    let is_digits = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    (is_digits && (base.ends_with(b".pyc") || base.ends_with(b".pyo"))).then_some(base)
}

/// The stem of a Python source name (`.py`, `.pyw`), or None.
pub fn source_stem(name: &[u8]) -> Option<&[u8]> {
    let stem = name
        .strip_suffix(b".py")
        .or_else(|| name.strip_suffix(b".pyw"))?;
    (!stem.is_empty()).then_some(stem)
}

/// True when a tag looks like an interpreter cache tag (`cpython-313`, `pypy39`).
pub fn looks_like_tag(tag: &str) -> bool {
    let t = tag.trim_end_matches(|c: char| c.is_ascii_digit());
    let t = t.strip_suffix('-').unwrap_or(t);
    t.len() < tag.len() && !t.is_empty() && t.bytes().all(|c| c.is_ascii_lowercase())
}

/// `dir/name` with no spare capacity: a scan keeps ~100k paths, and `Path::join`'s
/// amortised growth would waste a third of their memory.
pub fn join_exact(dir: &Path, name: &[u8]) -> PathBuf {
    let d = dir.as_os_str().as_bytes();
    let mut v = Vec::with_capacity(d.len() + 1 + name.len());
    v.extend_from_slice(d);
    if !d.ends_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    PathBuf::from(std::ffi::OsString::from_vec(v))
}

/// `dir/STEM.py` with no spare capacity.
pub fn join_source(dir: &Path, stem: &[u8]) -> PathBuf {
    let d = dir.as_os_str().as_bytes();
    let mut v = Vec::with_capacity(d.len() + 4 + stem.len());
    v.extend_from_slice(d);
    if !d.ends_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(stem);
    v.extend_from_slice(b".py");
    PathBuf::from(std::ffi::OsString::from_vec(v))
}

/// `STEM.py` as a file name.
pub fn source_file_name(stem: &[u8]) -> PathBuf {
    let mut v = Vec::with_capacity(stem.len() + 3);
    v.extend_from_slice(stem);
    v.extend_from_slice(b".py");
    PathBuf::from(OsStr::from_bytes(&v))
}

/// The source directory a prefix-tree directory stands for (CPython's `source_from_cache`:
/// the path below the prefix is the absolute source directory), or None when `dir` is not
/// strictly below `prefix`.
pub fn prefix_source_dir(prefix: &Path, dir: &Path) -> Option<PathBuf> {
    let rest = dir.strip_prefix(prefix).ok()?;
    if rest.as_os_str().is_empty() {
        return None;
    }
    Some(Path::new("/").join(rest))
}

/// Where CPython writes the caches of sources in `source_dir` under `prefix`
/// (the inverse of [`prefix_source_dir`]).
pub fn prefix_cache_dir(prefix: &Path, source_dir: &Path) -> PathBuf {
    let rel: PathBuf = source_dir
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect();
    prefix.join(rel)
}

/// The directory module names are relative to, for a root: the root itself, or, when the
/// root is inside a package (has `__init__.py`), the parent of its top-most package, so
/// scanning `proj/pkg` still names `pkg.mod`.
pub fn name_base(root: &Path) -> PathBuf {
    let mut base = root.to_path_buf();
    while base.join("__init__.py").is_file() {
        match base.parent() {
            Some(parent) => base = parent.to_path_buf(),
            None => break,
        }
    }
    base
}

/// The dotted module name of a source below `base` (`pkg/sub/mod.py` -> `pkg.sub.mod`,
/// `pkg/__init__.py` -> `pkg`); with base `/`, the absolute path's dotted form.
pub fn module_name(base: &Path, source: &Path) -> String {
    let dir = source.parent().unwrap_or(Path::new(""));
    let file = source.file_name().map_or(&b""[..], OsStrExt::as_bytes);
    join_module(&dir_module(base, dir), source_stem(file).unwrap_or(file))
}

/// The dotted name of a directory below `base` (`pkg/sub` -> `pkg.sub`), computed once per
/// directory and completed by [`join_module`] for each file in it.
pub fn dir_module(base: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(base).unwrap_or(dir);
    let mut out = String::new();
    for c in rel.components() {
        if let Component::Normal(part) = c {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&path_text(Path::new(part)));
        }
    }
    out
}

/// The module `stem` in the directory named `dir_module` (`__init__` names the package).
pub fn join_module(dir_module: &str, stem: &[u8]) -> String {
    if stem == b"__init__" && !dir_module.is_empty() {
        return dir_module.to_string();
    }
    let escaped;
    let stem_text = match std::str::from_utf8(stem) {
        Ok(s) => s,
        Err(_) => {
            escaped = path_text(Path::new(OsStr::from_bytes(stem)));
            &escaped
        }
    };
    let mut s = String::with_capacity(dir_module.len() + 1 + stem_text.len());
    if !dir_module.is_empty() {
        s.push_str(dir_module);
        s.push('.');
    }
    s.push_str(stem_text);
    s
}

/// The tag of a legacy file, from its magic: the `__pycache__` tag the interpreter uses, or
/// `cpython-27`-style for Python 2 and 3.0-3.1 (which have none), as the corpus manifest does.
pub fn legacy_tag(magic: &MagicInfo) -> Option<String> {
    if let Some(tag) = magic.expected_tag() {
        return Some(tag);
    }
    let v = magic.python?;
    match magic.implementation {
        Implementation::CPython => Some(format!("cpython-{}{}", v.major, v.minor)),
        Implementation::PyPy => Some(format!("pypy{}{}", v.major, v.minor)),
        Implementation::Unknown => None,
    }
}

/// [`FileMeta`] from a raw `stat`.
// The field types of `struct stat` differ between architectures; the casts are lossless here.
#[allow(clippy::unnecessary_cast)]
pub fn meta_from_stat(st: &rustix::fs::Stat) -> FileMeta {
    FileMeta {
        size: (st.st_size as i64).max(0) as u64,
        disk_usage: ((st.st_blocks as i64).max(0) as u64).saturating_mul(512),
        mtime: source_stat_from(st).mtime,
        uid: st.st_uid as u32,
        gid: st.st_gid as u32,
        mode: st.st_mode as u32,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
    }
}

/// [`SourceStat`] from a raw `stat`, reproducing `int(os.stat(p).st_mtime)`.
#[allow(clippy::unnecessary_cast)]
pub fn source_stat_from(st: &rustix::fs::Stat) -> SourceStat {
    SourceStat::from_parts(
        st.st_mtime as i64,
        st.st_mtime_nsec as i64,
        (st.st_size as i64).max(0) as u64,
    )
}

pub use judge::{CacheFacts, Judging, classify, unreadable};

mod import_order;
mod judge;

#[cfg(test)]
mod tests;
