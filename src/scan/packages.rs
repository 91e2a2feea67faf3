//! Packages, derived from the scan model: every directory that module names pass through is
//! a package, regular when it has an `__init__.py` (or a sourceless `__init__.pyc`, which
//! CPython imports too), else a namespace package (PEP 420).
//!
//! No I/O: module names already encode the package path (see `classify::module_name`).

use super::model::ScanModel;
use crate::pyc::{Location, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Regular (`__init__.py`) or namespace (a plain directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PackageKind {
    /// Has `__init__.py` (or an importable sourceless `__init__.pyc`).
    Regular,
    /// A directory without `__init__`: a PEP 420 namespace package portion.
    Namespace,
}

/// A package directory and its dotted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The directory.
    pub dir: PathBuf,
    /// Dotted name (`pkg.sub`).
    pub name: String,
    /// Regular or namespace.
    pub kind: PackageKind,
}

impl ScanModel {
    /// Every package the modules of this scan live in, by directory.
    pub fn packages(&self) -> Vec<Package> {
        let mut found: BTreeMap<PathBuf, Package> = BTreeMap::new();
        for m in self.modules.values() {
            let importable = m.source_exists()
                || self
                    .caches_of(m)
                    .any(|c| c.location == Location::Legacy && c.status == Status::Sourceless);
            if !importable || m.name.is_empty() {
                continue;
            }
            let parts: Vec<&str> = m.name.split('.').collect();
            let is_init = m.source.file_stem().is_some_and(|s| s == "__init__");
            // `pkg/__init__.py` is module `pkg`: its directory is the package itself.
            let mut dir: Option<&Path> = m.source.parent();
            let mut depth = if is_init {
                parts.len()
            } else {
                parts.len() - 1
            };
            while depth > 0 {
                let Some(d) = dir else { break };
                let name = parts[..depth].join(".");
                let kind = if is_init && depth == parts.len() {
                    PackageKind::Regular
                } else {
                    PackageKind::Namespace
                };
                let entry = found.entry(d.to_path_buf()).or_insert_with(|| Package {
                    dir: d.to_path_buf(),
                    name,
                    kind,
                });
                entry.kind = entry.kind.min(kind);
                dir = d.parent();
                depth -= 1;
            }
        }
        found.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{FileMeta, ScanBatch, ScanEvent, SourceRecord};

    fn source(path: &str, module: &str) -> SourceRecord {
        SourceRecord {
            path: PathBuf::from(path),
            module: module.into(),
            is_package: path.ends_with("__init__.py"),
            meta: FileMeta::default(),
        }
    }

    #[test]
    fn regular_and_namespace_packages_come_from_module_names() {
        let mut m = ScanModel::new(vec!["/r".into()], None);
        m.apply(ScanEvent::Batch(Box::new(ScanBatch {
            sources: vec![
                source("/r/run.py", "run"),
                source("/r/pkg/__init__.py", "pkg"),
                source("/r/pkg/sub/mod.py", "pkg.sub.mod"),
                source("/r/ns/leaf.py", "ns.leaf"),
            ],
            ..ScanBatch::default()
        })));
        let got: Vec<(String, PackageKind)> =
            m.packages().into_iter().map(|p| (p.name, p.kind)).collect();
        assert_eq!(
            got,
            [
                ("ns".to_string(), PackageKind::Namespace),
                ("pkg".to_string(), PackageKind::Regular),
                ("pkg.sub".to_string(), PackageKind::Namespace),
            ]
        );
    }
}
