//! Findings about the tree rather than the start: caches of interpreters the service
//! does not run, orphans, `__pycache__` caches a prefix hides, and cache directories other
//! users can write (cached bytecode is code the service runs).

use super::findings::{Facts, Finding, FindingKind};
use super::fixes;
use crate::pyc::{Location, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Cache directories that other users can write: they could plant bytecode the service runs.
pub fn insecure(f: &Facts<'_>) -> Vec<Finding> {
    use std::os::unix::fs::MetadataExt;
    let mut dirs: Vec<PathBuf> = f
        .targets
        .iter()
        .filter_map(|t| t.cache.parent().map(Path::to_path_buf))
        .collect();
    dirs.extend(f.ctx.prefix.clone());
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        let mode = meta.mode() & 0o7777;
        let owner = meta.uid();
        let service = f.ctx.identity.uid;
        let why = if mode & 0o002 != 0 {
            format!("world-writable ({})", super::access::describe_owner(&meta))
        } else if owner != 0 && Some(owner) != service {
            format!(
                "{} (not root and not {})",
                super::access::describe_owner(&meta),
                f.ctx.identity.name
            )
        } else {
            continue;
        };
        out.push(Finding {
            kind: FindingKind::Insecure,
            title: format!(
                "{} is {why}: whoever can write there can plant bytecode the service runs",
                dir.display()
            ),
            per_start_ms: None,
            once_ms: None,
            every_start: false,
            modules: Vec::new(),
            details: Vec::new(),
            fixes: vec![format!(
                "chown {}: {} && chmod 755 {}",
                fixes::owner_group(f),
                dir.display(),
                dir.display()
            )],
        });
    }
    out
}

/// Other tags, orphans, and `__pycache__` caches a prefix hides, from the scan.
pub fn from_scan(f: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let root = f.root.display();
    let mut tags: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut orphans, mut orphan_bytes, mut hidden) = (0u64, 0u64, 0u64);
    let prefix_on = f.ctx.prefix.is_some() && f.py.supports_prefix();
    for c in &f.model.caches {
        if c.status == Status::Orphaned {
            orphans += 1;
            orphan_bytes += c.meta.size;
        } else if let Some(tag) = c.tag.as_ref().filter(|t| Some(*t) != f.py.tag.as_ref()) {
            let e = tags.entry(tag.clone()).or_default();
            e.0 += 1;
            e.1 += c.meta.size;
        } else if prefix_on && c.location == Location::Pycache {
            hidden += 1;
        }
    }
    let plain = |kind, title: String, fix: String| Finding {
        kind,
        title,
        per_start_ms: None,
        once_ms: None,
        every_start: false,
        modules: Vec::new(),
        details: Vec::new(),
        fixes: vec![fix],
    };
    let ours =
        f.py.tag
            .clone()
            .unwrap_or_else(|| format!("python{}", f.py.python));
    for (tag, (n, bytes)) in tags {
        out.push(plain(
            FindingKind::OtherInterpreter,
            format!(
                "{n} caches ({}) are for {tag}: the service runs {ours} and never reads them",
                size(bytes)
            ),
            format!("pycache clean {root} --tag {tag} --all"),
        ));
    }
    if orphans > 0 {
        out.push(plain(
            FindingKind::Orphans,
            format!(
                "{orphans} orphaned caches ({}): their source is gone, Python never imports them",
                size(orphan_bytes)
            ),
            format!("pycache clean {root} --status orphaned"),
        ));
    }
    if hidden > 0 {
        out.push(plain(
            FindingKind::PrefixIgnoresPycache,
            format!(
                "{hidden} caches in __pycache__ are ignored: while PYTHONPYCACHEPREFIX is set Python only reads {}",
                f.ctx.prefix.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
            ),
            format!("remove them (pycache clean {root} --location pycache --tag {ours} --all) or stop setting the prefix"),
        ));
    }
    out
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
