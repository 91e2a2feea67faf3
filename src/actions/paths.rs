//! Path bytes for planning: cache file names, parents, and a fast hash for path keys.
//!
//! Planning touches every module of a large tree, so paths are handled as bytes: hashing or
//! comparing a `Path` walks its components, which showed up in profiles.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A path's bytes.
pub(crate) fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// The parent of an absolute, normalised path, as bytes (`Path::parent` re-parses).
pub(crate) fn parent_bytes(p: &[u8]) -> Option<&[u8]> {
    match p.iter().rposition(|&b| b == b'/')? {
        0 if p.len() > 1 => Some(&p[..1]),
        0 => None,
        i => Some(&p[..i]),
    }
}

/// A fast hash for path bytes (FxHash's mix): keys are local paths, not attacker input,
/// and SipHash over every directory name was a visible share of planning.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Writes into `out` the path CPython writes the cache of `source` to, for `tag` and `opt`:
/// `DIR/__pycache__/STEM.TAG[.opt-N].pyc`, or `PREFIX/<DIR without its leading />/…` when a
/// prefix is configured. False when the source has no directory or name.
pub(crate) fn cache_name(
    prefix: Option<&Path>,
    source: &Path,
    tag: &str,
    opt: u8,
    out: &mut Vec<u8>,
) -> bool {
    let (Some(dir), Some(file)) = (source.parent(), source.file_name()) else {
        return false;
    };
    let file = file.as_bytes();
    let stem = file
        .iter()
        .rposition(|&b| b == b'.')
        .map_or(file, |i| &file[..i]);
    out.clear();
    match prefix {
        Some(p) => {
            out.extend_from_slice(bytes(p));
            let rel = bytes(dir).strip_prefix(b"/").unwrap_or(bytes(dir));
            if !rel.is_empty() {
                if !out.ends_with(b"/") {
                    out.push(b'/');
                }
                out.extend_from_slice(rel);
            }
        }
        None => {
            out.extend_from_slice(bytes(dir));
            if !out.ends_with(b"/") {
                out.push(b'/');
            }
            out.extend_from_slice(b"__pycache__");
        }
    }
    out.push(b'/');
    out.extend_from_slice(stem);
    out.push(b'.');
    out.extend_from_slice(tag.as_bytes());
    if opt > 0 {
        out.extend_from_slice(format!(".opt-{opt}").as_bytes());
    }
    out.extend_from_slice(b".pyc");
    true
}

/// Where CPython writes the cache of `source` for `tag` and `opt`: `DIR/__pycache__/…`,
/// or `PREFIX/<DIR without its leading />/…` when a prefix is configured.
pub fn target_path(prefix: Option<&Path>, source: &Path, tag: &str, opt: u8) -> Option<PathBuf> {
    let mut out = Vec::new();
    cache_name(prefix, source, tag, opt, &mut out).then(|| PathBuf::from(OsStr::from_bytes(&out)))
}

/// Refuses a cache prefix that is `/` or holds a scanned root: a prefix is a directory of
/// caches only, and over real code its `.pyc` files would be taken for prefix caches (and
/// `/` would put every interpreter's own caches in the plan). Paths are compared as given
/// and with links resolved.
pub fn check_prefix(prefix: &Path, roots: &[PathBuf]) -> Result<(), String> {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (given, resolved) = (prefix, real(prefix));
    let shown = crate::scan::record::display_path(prefix);
    if given == Path::new("/") || resolved == Path::new("/") {
        return Err(format!(
            "refusing the cache prefix {shown}: it is the whole file system; name the directory that holds only caches (e.g. /var/cache/app-pyc)"
        ));
    }
    for root in roots {
        if root.starts_with(given) || real(root).starts_with(&resolved) {
            return Err(format!(
                "refusing the cache prefix {shown}: it holds the scanned tree {}, so its code would be taken for caches; name the directory that holds only caches (e.g. /var/cache/app-pyc)",
                crate::scan::record::display_path(root)
            ));
        }
    }
    Ok(())
}

/// True when a file name in a prefix tree is a prefix cache's: `NAME.TAG.pyc` or
/// `NAME.TAG.opt-N.pyc` for its tag. A tagless `NAME.pyc` there is code, not a cache.
pub(crate) fn is_prefix_cache_name(name: &[u8], tag: Option<&str>) -> bool {
    let Some(tag) = tag.filter(|t| !t.is_empty()) else {
        return false;
    };
    let Some(stem) = name.strip_suffix(b".pyc") else {
        return false;
    };
    let stem = match stem.iter().rposition(|&b| b == b'.') {
        Some(i) if stem[i + 1..].starts_with(b"opt-") => &stem[..i],
        _ => stem,
    };
    let mut dotted = b".".to_vec();
    dotted.extend_from_slice(tag.as_bytes());
    stem.len() > dotted.len() && stem.ends_with(&dotted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_names_and_ancestors() {
        assert!(is_prefix_cache_name(
            b"m.cpython-312.pyc",
            Some("cpython-312")
        ));
        assert!(is_prefix_cache_name(
            b"m.cpython-312.opt-2.pyc",
            Some("cpython-312")
        ));
        assert!(!is_prefix_cache_name(b"m.pyc", None));
        assert!(!is_prefix_cache_name(b"m.pyc", Some("cpython-312")));
        assert!(!is_prefix_cache_name(
            b".cpython-312.pyc",
            Some("cpython-312")
        ));
        assert!(check_prefix(Path::new("/"), &[]).is_err());
        let roots = [PathBuf::from("/srv/app")];
        assert!(check_prefix(Path::new("/srv"), &roots).is_err());
        assert!(check_prefix(Path::new("/srv/app"), &roots).is_err());
        assert!(check_prefix(Path::new("/var/cache/pyc"), &roots).is_ok());
        assert!(check_prefix(Path::new("/srv/app/.pyc"), &roots).is_ok());
    }
}
