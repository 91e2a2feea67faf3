//! Which file of a directory the import system picks for a module name, per interpreter,
//! and pytest's own rule for its assertion-rewrite caches.
//!
//! Python 3's `FileFinder` (importlib/_bootstrap_external.py) tries, in each directory: a
//! package directory `NAME/` holding `__init__` with a loader suffix, then `NAME` + each
//! suffix in `_get_supported_file_loaders()` order: the interpreter's `EXTENSION_SUFFIXES`,
//! then `.py`, then `.pyc`. A plain directory without `__init__` (a namespace portion) only
//! wins when no file matched. Python 2's `imp.find_module` tries a package directory (with
//! `__init__.py` or `__init__.pyc`), then `.so`, `module.so`, `.py`, `.pyc`. So a cache whose
//! source loses to an extension module or a package is never read.

use crate::pyc::header::Header;
use crate::pyc::marshal::{BodyWalk, Dialect};
use crate::pyc::{PycError, SourceFound, Status, Verdict, magic, validate};

/// The entry that the interpreter of `tag` imports instead of `stem`'s source or legacy
/// cache, among `shadows` (extension file names beginning with `stem`, and `stem/__init__.*`
/// of a package directory beside it).
pub fn shadowed_by<'s>(tag: &str, stem: &[u8], shadows: &'s [Vec<u8>]) -> Option<&'s [u8]> {
    let package = shadows.iter().find(|s| s.contains(&b'/'));
    if let Some(p) = package {
        return Some(p);
    }
    shadows
        .iter()
        .find(|name| {
            name.strip_prefix(stem)
                .is_some_and(|rest| extension_suffix_of(tag, rest))
        })
        .map(Vec::as_slice)
}

/// True when `suffix` is in the `EXTENSION_SUFFIXES` of the interpreter whose cache tag is
/// `tag` (any platform triplet): `.cpython-313-x86_64-linux-gnu.so`, `.abi3.so`, `.so`;
/// `.cpython-36m-...` up to 3.7; `.abi3-TRIPLET.so` from 3.14; PyPy only its own
/// `.pypy39-pp73-...so`; Python 2 `.so` and `module.so`.
pub fn extension_suffix_of(tag: &str, suffix: &[u8]) -> bool {
    let Some(rest) = suffix.strip_suffix(b".so") else {
        return false;
    };
    if let Some(v) = tag.strip_prefix("cpython-") {
        let minor: u32 = match v.strip_prefix('3').and_then(|m| m.parse().ok()) {
            Some(m) => m,
            None => return v.starts_with('2') && (rest.is_empty() || rest == b"module"),
        };
        if rest.is_empty() || rest == b".abi3" {
            return true;
        }
        if minor >= 14 && rest.starts_with(b".abi3-") {
            return true;
        }
        let own = format!(".cpython-3{minor}{}-", if minor <= 7 { "m" } else { "" });
        return rest.starts_with(own.as_bytes());
    }
    if tag.starts_with("pypy") {
        return rest.starts_with(format!(".{tag}-").as_bytes());
    }
    false
}

/// pytest's `_read_pyc` (`_pytest/assertion/rewrite.py`): it uses the cache only when the
/// first 16 bytes are its interpreter's `MAGIC_NUMBER`, zero flags, `int(st_mtime)` and the
/// size (both masked to 32 bits), and `marshal.load` gives a code object; any other file is
/// rewritten from the test source, so a pytest cache is never "invalid".
pub fn pytest_verdict(
    header: &Result<Header, PycError>,
    tag: Option<&str>,
    version: &str,
    after_header: Option<&[u8]>,
    source: SourceFound,
    walk: Option<&mut BodyWalk>,
) -> Verdict {
    let who = if version.is_empty() {
        "pytest (an old -PYTEST name)".to_string()
    } else {
        format!("pytest {version}")
    };
    let stat = match source {
        SourceFound::Present(stat) => stat,
        SourceFound::Missing => {
            return Verdict::new(
                Status::Orphaned,
                format!("assertion-rewrite cache of {who}: its test file is gone"),
            );
        }
    };
    let rewrite = |why: String| {
        Verdict::new(
            Status::Stale,
            format!("assertion-rewrite cache of {who}: {why}; pytest rewrites the test module"),
        )
    };
    let h = match header {
        Ok(h) => h,
        Err(e) => return rewrite(e.to_string()),
    };
    let want = h
        .magic
        .python
        .and_then(|v| magic::final_magic(h.magic.implementation, v));
    let tag_ok = tag.is_some_and(|t| h.magic.expected_tag().as_deref() == Some(t));
    if !tag_ok || want != Some(h.magic.magic) {
        return rewrite(format!("bad magic number ({})", h.magic.describe()));
    }
    if h.flags != Some(0) {
        return rewrite("not a timestamp header (pytest writes flags 0)".into());
    }
    if let validate::Freshness::Stale { reason, .. } = validate::check_timestamp(h, stat) {
        return rewrite(format!("source {} differs", reason.as_str()));
    }
    if let (Some(walk), Some(body), Some(v)) = (walk, after_header, h.magic.python)
        && let Ok(dialect) = Dialect::for_version(v)
        && let Err(e) = walk.check_module(body, h.header_size, dialect)
    {
        return rewrite(format!("marshal.load fails ({e})"));
    }
    Verdict {
        reason: Some(format!(
            "assertion-rewrite cache of {who}: used by that pytest; the import system never reads it"
        )),
        ..Verdict::new(Status::Fresh, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_suffixes_follow_each_interpreter() {
        let so = |tag: &str, s: &str| extension_suffix_of(tag, s.as_bytes());
        assert!(so("cpython-313", ".cpython-313-x86_64-linux-gnu.so"));
        assert!(so("cpython-313", ".abi3.so"));
        assert!(so("cpython-313", ".so"));
        assert!(!so("cpython-312", ".cpython-313-x86_64-linux-gnu.so"));
        assert!(!so("cpython-313", ".cpython-313t-x86_64-linux-gnu.so"));
        assert!(so("cpython-36", ".cpython-36m-x86_64-linux-gnu.so"));
        assert!(so("cpython-314", ".abi3-x86_64-linux-gnu.so"));
        assert!(!so("cpython-313", ".abi3-x86_64-linux-gnu.so"));
        assert!(so("pypy39", ".pypy39-pp73-x86_64-linux-gnu.so"));
        assert!(!so("pypy39", ".so"));
        assert!(so("cpython-27", "module.so"));
        assert!(!so("cpython-313", "module.so"));
        assert!(!so("cpython-313", ".py"));
    }

    #[test]
    fn a_package_beats_every_file_and_an_extension_only_its_interpreter() {
        let shadows = vec![b"md.cpython-313-x86_64-linux-gnu.so".to_vec()];
        assert!(shadowed_by("cpython-313", b"md", &shadows).is_some());
        assert!(shadowed_by("cpython-312", b"md", &shadows).is_none());
        let pkg = vec![b"md/__init__.py".to_vec()];
        assert_eq!(
            shadowed_by("cpython-312", b"md", &pkg),
            Some(&b"md/__init__.py"[..])
        );
    }
}
