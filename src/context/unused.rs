//! Which caches of the tree a service never reads, and why: another tag, another `-O`
//! level, `__pycache__` while a prefix is set, a prefix not in effect, shadowed, orphaned,
//! pytest's, or a module the start does not import.

use super::python::Python;
use crate::pyc::{Location, Status};
use crate::scan::CacheRecord;
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

/// Why the service never reads a cache of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "why", content = "value", rename_all = "kebab-case")]
pub enum Unused {
    /// Written for another interpreter (its tag).
    OtherTag(String),
    /// Written for another `-O` level (`opt-1`, `opt-2`, or `""` for level 0).
    OtherOptLevel(String),
    /// In `__pycache__` while a prefix is in effect: Python reads only the prefix.
    PycacheWhilePrefix,
    /// In a prefix tree the service does not use.
    PrefixNotInEffect,
    /// A legacy `NAME.pyc` beside its source: Python 3 never reads it.
    Shadowed,
    /// Its source is gone: never imported.
    Orphaned,
    /// pytest's assertion-rewrite cache: only pytest reads it.
    Pytest,
    /// Its module is not imported by this start.
    NotImported,
}

impl Unused {
    /// The JSON name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Unused::OtherTag(_) => "other-tag",
            Unused::OtherOptLevel(_) => "other-opt-level",
            Unused::PycacheWhilePrefix => "pycache-while-prefix",
            Unused::PrefixNotInEffect => "prefix-not-in-effect",
            Unused::Shadowed => "shadowed",
            Unused::Orphaned => "orphaned",
            Unused::Pytest => "pytest",
            Unused::NotImported => "not-imported",
        }
    }

    /// In words.
    pub fn describe(&self) -> String {
        match self {
            Unused::OtherTag(t) => format!("for {t}: another interpreter"),
            Unused::OtherOptLevel(o) if o.is_empty() => "for -O level 0".into(),
            Unused::OtherOptLevel(o) => format!("for {o}: another -O level"),
            Unused::PycacheWhilePrefix => {
                "in __pycache__ while the prefix is set: never read".into()
            }
            Unused::PrefixNotInEffect => "in a prefix tree this service does not use".into(),
            Unused::Shadowed => "legacy .pyc beside its source: never read".into(),
            Unused::Orphaned => "its source is gone".into(),
            Unused::Pytest => "pytest's cache".into(),
            Unused::NotImported => "its module is not imported by this start".into(),
        }
    }
}

/// What the service does with one cache of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", content = "unused", rename_all = "kebab-case")]
pub enum CacheRole {
    /// It is the cache an imported module's import reads.
    Read,
    /// A legacy `.pyc` without source, of this interpreter: imported as bytecode when its
    /// module is imported.
    Sourceless,
    /// Never read by this service.
    Unused(Unused),
}

/// The role of a cache that no imported module's import reads.
pub(super) fn role_of(
    rec: &CacheRecord,
    py: &Python,
    optimize: u8,
    prefix: Option<&Path>,
    imported: &HashSet<&Path>,
) -> CacheRole {
    if rec.kind.pytest.is_some() {
        return CacheRole::Unused(Unused::Pytest);
    }
    match rec.status {
        Status::Orphaned => return CacheRole::Unused(Unused::Orphaned),
        Status::Shadowed => return CacheRole::Unused(Unused::Shadowed),
        Status::Sourceless if rec.magic == Some(py.magic) => return CacheRole::Sourceless,
        _ => {}
    }
    let key = py.key();
    if rec.tag.as_deref() != Some(key.as_str()) {
        let tag = rec
            .tag
            .clone()
            .unwrap_or_else(|| "an unknown interpreter".into());
        return CacheRole::Unused(Unused::OtherTag(tag));
    }
    match (rec.location, prefix) {
        (Location::Pycache, Some(_)) => return CacheRole::Unused(Unused::PycacheWhilePrefix),
        (Location::Prefix, None) => return CacheRole::Unused(Unused::PrefixNotInEffect),
        (Location::Prefix, Some(p)) if !rec.path.starts_with(p) => {
            return CacheRole::Unused(Unused::PrefixNotInEffect);
        }
        _ => {}
    }
    let want = (optimize > 0).then(|| optimize.min(2).to_string());
    if rec.opt != want {
        let o = rec
            .opt
            .as_ref()
            .map_or(String::new(), |o| format!("opt-{o}"));
        return CacheRole::Unused(Unused::OtherOptLevel(o));
    }
    match &rec.source {
        Some(s) if imported.contains(s.as_path()) => CacheRole::Read,
        _ => CacheRole::Unused(Unused::NotImported),
    }
}
