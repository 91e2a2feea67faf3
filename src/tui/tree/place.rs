//! Where a module goes in each view (its names from the root and which caches it
//! shows), and how paths are shown relative to their root.

use super::{CacheFilter, View, status_index};
use pycache::pyc::Status;
use pycache::scan::{CacheRecord, Module, ScanModel, display_path};
use std::path::Path;

/// Where a module goes in a view: the names from the root, and which caches it shows.
pub(super) fn placements(
    view: View,
    model: &ScanModel,
    key: &Path,
    module: &Module,
) -> Vec<(Vec<String>, CacheFilter)> {
    let rel = relative(model, key);
    if view == View::Directory {
        return vec![(rel, CacheFilter::All)];
    }
    let label = rel.join("/");
    let caches: Vec<&CacheRecord> = model.caches_of(module).collect();
    if caches.is_empty() {
        return vec![(vec![NO_CACHE.to_string(), label], CacheFilter::Nothing)];
    }
    let mut out: Vec<(Vec<String>, CacheFilter)> = Vec::new();
    for c in caches {
        let (group, filter) = match view {
            View::Verdict => (c.status.as_str().to_string(), CacheFilter::Status(c.status)),
            _ => (
                c.tag.clone().unwrap_or_else(|| NO_TAG.to_string()),
                CacheFilter::Tag(c.tag.clone()),
            ),
        };
        if !out.iter().any(|(p, _)| p[0] == group) {
            out.push((vec![group, label.clone()], filter));
        }
    }
    out
}

/// Group name of sources without any cache.
pub const NO_CACHE: &str = "no cache";
/// Group name of caches whose name carries no interpreter tag.
pub const NO_TAG: &str = "no tag";

/// Groups of the verdict view follow [`Status::ALL`] (worst first); tag groups sort by
/// name; "no cache" comes last.
pub(super) fn group_rank(name: &str) -> u16 {
    if name == NO_CACHE {
        return u16::MAX;
    }
    match Status::parse(name) {
        Some(s) => status_index(s) as u16,
        None => 100,
    }
}

/// The path of a module below the root it was found under, as names; paths outside every
/// root keep their absolute components.
pub fn relative(model: &ScanModel, path: &Path) -> Vec<String> {
    let root = model.root_of(path);
    let rel = match root {
        Some(root) => path.strip_prefix(root).unwrap_or(path),
        None => path,
    };
    // Several roots (`pycache A B`): each is a top-level directory of its own, so that
    // A/app.py and B/app.py stay two modules.
    let top = root
        .filter(|_| model.roots.len() > 1)
        .map(display_path)
        .into_iter();
    let mut names: Vec<String> = top
        .chain(
            rel.components()
                .map(|c| display_path(Path::new(c.as_os_str()))),
        )
        .collect();
    if names.is_empty() {
        names.push(display_path(path));
    }
    names
}

/// A path as shown to the user: relative to its root when under one.
pub fn show_path(model: &ScanModel, path: &Path) -> String {
    match model.root_of(path) {
        Some(root) if path != root => relative(model, path).join("/"),
        _ => display_path(path),
    }
}
