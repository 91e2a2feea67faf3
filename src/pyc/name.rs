//! Cache file names: `NAME.TAG[.opt-N].pyc` (PEP 3147/488) and legacy `NAME.pyc`/`NAME.pyo`.
//!
//! Names are parsed from the right, because a module name may itself contain dots
//! (`a.b.cpython-313.pyc` is module `a.b`; CPython's own `source_from_cache` gets this wrong).

use serde::Serialize;

/// Where a cache file lives relative to its source.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// `DIR/__pycache__/NAME.TAG.pyc` beside `DIR/NAME.py`.
    Pycache,
    /// Under a `PYTHONPYCACHEPREFIX` tree that mirrors the source's absolute directory.
    Prefix,
    /// `DIR/NAME.pyc` (or `.pyo`) beside the source: Python 2, or sourceless bytecode.
    Legacy,
}

impl Location {
    /// Lower-case name as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Pycache => "pycache",
            Location::Prefix => "prefix",
            Location::Legacy => "legacy",
        }
    }
}

/// A parsed cache file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheName {
    /// The module's file stem (`a.b` for `a.b.cpython-313.pyc`).
    pub stem: String,
    /// The interpreter tag (`cpython-313`), absent for legacy names.
    pub tag: Option<String>,
    /// The optimisation level (`1`, `2`, or any alphanumeric PEP 488 allows); None at level 0.
    pub opt: Option<String>,
    /// True for `.pyo` (Python 2 and 3.2-3.4 optimised files).
    pub pyo: bool,
}

impl CacheName {
    /// The source file name CPython would look for: `STEM.py`.
    pub fn source_file_name(&self) -> String {
        format!("{}.py", self.stem)
    }
}

/// True when a file name ends like bytecode (`.pyc` or `.pyo`).
pub fn is_bytecode_name(file_name: &str) -> bool {
    file_name.ends_with(".pyc") || file_name.ends_with(".pyo")
}

/// Parses a file name found inside `__pycache__` or a prefix tree.
///
/// Returns None when the name has no tag (`m.pyc` in `__pycache__`), which CPython never
/// maps back to a source.
pub fn parse_tagged(file_name: &str) -> Option<CacheName> {
    let (base, pyo) = strip_ext(file_name)?;
    let (rest, opt) = match base.rsplit_once('.') {
        Some((rest, last)) if last.starts_with("opt-") => {
            let level = &last[4..];
            if level.is_empty() || !level.chars().all(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
            (rest, Some(level.to_string()))
        }
        _ => (base, None),
    };
    let (stem, tag) = rest.rsplit_once('.')?;
    if stem.is_empty() || tag.is_empty() {
        return None;
    }
    Some(CacheName {
        stem: stem.to_string(),
        tag: Some(tag.to_string()),
        opt,
        pyo,
    })
}

/// Parses a legacy name (`NAME.pyc` / `NAME.pyo`) found beside sources.
pub fn parse_legacy(file_name: &str) -> Option<CacheName> {
    let (stem, pyo) = strip_ext(file_name)?;
    if stem.is_empty() {
        return None;
    }
    Some(CacheName {
        stem: stem.to_string(),
        tag: None,
        opt: None,
        pyo,
    })
}

fn strip_ext(file_name: &str) -> Option<(&str, bool)> {
    if let Some(b) = file_name.strip_suffix(".pyc") {
        Some((b, false))
    } else {
        file_name.strip_suffix(".pyo").map(|b| (b, true))
    }
}

/// The cache file name CPython writes for a source stem, tag and opt level.
pub fn cache_file_name(stem: &str, tag: &str, opt: Option<&str>) -> String {
    match opt {
        Some(o) if !o.is_empty() => format!("{stem}.{tag}.opt-{o}.pyc"),
        _ => format!("{stem}.{tag}.pyc"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_from_the_right() {
        let n = parse_tagged("a.b.cpython-313.pyc").unwrap();
        assert_eq!(
            (n.stem.as_str(), n.tag.as_deref(), n.opt),
            ("a.b", Some("cpython-313"), None)
        );
        let n = parse_tagged("mod.cpython-312.opt-2.pyc").unwrap();
        assert_eq!((n.stem.as_str(), n.opt.as_deref()), ("mod", Some("2")));
        let n = parse_tagged("__init__.pypy39.pyc").unwrap();
        assert_eq!(n.tag.as_deref(), Some("pypy39"));
        let n = parse_tagged("m.cpython-34.pyo").unwrap();
        assert!(n.pyo);
        assert_eq!(n.source_file_name(), "m.py");
    }

    #[test]
    fn untagged_or_odd_names_are_rejected() {
        assert_eq!(parse_tagged("m.pyc"), None);
        assert_eq!(parse_tagged(".cpython-313.pyc"), None);
        assert_eq!(parse_tagged("m.cpython-313.opt-.pyc"), None);
        assert_eq!(parse_tagged("m.cpython-313.pyc.140234"), None);
        assert_eq!(parse_tagged("m.py"), None);
    }

    #[test]
    fn legacy_names_and_round_trip() {
        let n = parse_legacy("legacy_mod.pyc").unwrap();
        assert_eq!((n.stem.as_str(), n.tag, n.pyo), ("legacy_mod", None, false));
        assert!(parse_legacy("x.pyo").unwrap().pyo);
        assert_eq!(
            cache_file_name("m", "cpython-313", Some("1")),
            "m.cpython-313.opt-1.pyc"
        );
        assert_eq!(
            cache_file_name("m", "cpython-313", None),
            "m.cpython-313.pyc"
        );
    }
}
