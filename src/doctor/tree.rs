//! Findings about the tree rather than the start: caches of interpreters the service
//! does not run, orphans, `__pycache__` caches a prefix hides, prefix trees the service
//! does not use. (Cache directories other users can write are `security.rs`'s.)

use super::findings::{Facts, Finding, FindingKind, plain};
use super::fixes;
use crate::pyc::{Location, Status};
use crate::scan::classify::prefix_source_dir;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What the scan found that the service never reads.
#[derive(Default)]
struct Unused {
    /// Caches of other interpreters by tag: (count, bytes).
    tags: BTreeMap<String, (u64, u64)>,
    /// Caches whose source is gone, by location: (count, bytes).
    orphans: BTreeMap<Location, (u64, u64)>,
    /// Prefix trees found inside the project: (count, bytes).
    mirrors: BTreeMap<PathBuf, (u64, u64)>,
    /// `__pycache__` caches a prefix hides.
    hidden: u64,
}

fn add(slot: &mut (u64, u64), bytes: u64) {
    slot.0 += 1;
    slot.1 += bytes;
}

/// Other tags, orphans, prefix trees, and `__pycache__` caches a prefix hides, from the scan.
pub fn from_scan(f: &Facts<'_>) -> Vec<Finding> {
    let prefix_on = f.ctx.prefix.is_some() && f.py.supports_prefix();
    let mut unused = Unused::default();
    let mut mirror_of: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    for c in &f.model.caches {
        let size = c.meta.size;
        if c.status == Status::Orphaned {
            let mirror = match c.location {
                Location::Legacy => c.path.parent().and_then(|dir| {
                    mirror_of
                        .entry(dir.to_path_buf())
                        .or_insert_with(|| mirror_prefix(&c.path, f.root))
                        .clone()
                }),
                _ => None,
            };
            match mirror {
                Some(prefix) => add(unused.mirrors.entry(prefix).or_default(), size),
                None => add(unused.orphans.entry(c.location).or_default(), size),
            }
        } else if let Some(tag) = c.tag.as_ref().filter(|t| Some(*t) != f.py.tag.as_ref()) {
            add(unused.tags.entry(tag.clone()).or_default(), size);
        } else if prefix_on && c.location == Location::Pycache {
            unused.hidden += 1;
        }
    }
    let ours =
        f.py.tag
            .clone()
            .unwrap_or_else(|| format!("python{}", f.py.python));
    let mut out = Vec::new();
    for (tag, (n, bytes)) in &unused.tags {
        out.push(plain(
            FindingKind::OtherInterpreter,
            format!(
                "{n} caches ({}) are for {tag}: the service runs {ours} and never reads them",
                size(*bytes)
            ),
            vec![fixes::clean(
                format!(
                    "if nothing here runs {tag} any more (tests, scripts, cron jobs), remove them"
                ),
                &format!("--tag {tag} --all"),
                f,
            )],
        ));
    }
    out.extend(orphans(f, &unused));
    let runs_with = match f.ctx.prefix.as_deref().filter(|_| prefix_on) {
        Some(p) => format!("its prefix is {}", crate::text::display_path(p)),
        None => "it runs without a prefix".to_string(),
    };
    for (prefix, (n, bytes)) in &unused.mirrors {
        out.push(plain(
            FindingKind::UnusedPrefixTree,
            format!(
                "{} is a PYTHONPYCACHEPREFIX tree ({n} caches, {} of this project's modules) that the service does not use: {runs_with}",
                crate::text::display_path(prefix),
                size(*bytes)
            ),
            vec![fixes::note(format!(
                "if the service does set PYTHONPYCACHEPREFIX={}, say so: rerun with --pycache-prefix {} (or --unit); otherwise it can go",
                crate::text::display_path(prefix),
                fixes::shell_word(prefix)
            ))],
        ));
    }
    if unused.hidden > 0 {
        let prefix = f.ctx.prefix.as_deref().unwrap_or(Path::new(""));
        out.push(plain(
            FindingKind::PrefixIgnoresPycache,
            format!(
                "{} caches in __pycache__ are ignored: while PYTHONPYCACHEPREFIX is set Python only reads {}",
                unused.hidden,
                crate::text::display_path(prefix)
            ),
            vec![fixes::clean(
                "remove them (or stop setting the prefix)",
                &format!("--location pycache --tag {ours} --all"),
                f,
            )],
        ));
    }
    out
}

/// Orphans, with a clean command that spares any prefix tree found in the project (its
/// caches are orphans to the scan too, but they may be in use by another run).
fn orphans(f: &Facts<'_>, unused: &Unused) -> Option<Finding> {
    let (n, bytes) = unused
        .orphans
        .values()
        .fold((0, 0), |acc, v| (acc.0 + v.0, acc.1 + v.1));
    if n == 0 {
        return None;
    }
    let args = if unused.mirrors.is_empty() {
        "--status orphaned".to_string()
    } else {
        let locations: Vec<&str> = unused.orphans.keys().map(|l| l.as_str()).collect();
        format!("--status orphaned --location {}", locations.join(","))
    };
    let mut fix = fixes::clean("remove them", &args, f);
    if !unused.mirrors.is_empty() && unused.orphans.contains_key(&Location::Legacy) {
        fix.steps.push(fixes::Step::Note(
            "this also removes the prefix tree's caches: add --dry-run first to see the plan"
                .into(),
        ));
    }
    Some(plain(
        FindingKind::Orphans,
        format!(
            "{n} orphaned caches ({}): their source is gone, Python never imports them",
            size(bytes)
        ),
        vec![fix],
    ))
}

/// The prefix a tagged cache outside `__pycache__` belongs to, when its directory mirrors an
/// existing source directory (`PREFIX/srv/app/NAME.TAG.pyc` for `/srv/app/NAME.py`).
fn mirror_prefix(cache: &Path, root: &Path) -> Option<PathBuf> {
    let dir = cache.parent()?;
    let name = cache.file_name()?.to_string_lossy();
    let stem = name.split('.').next()?;
    dir.ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(root))
        .find(|p| {
            prefix_source_dir(p, dir).is_some_and(|src| src.join(format!("{stem}.py")).is_file())
        })
        .map(Path::to_path_buf)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_of_the_project_is_recognised_as_a_prefix_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), "").unwrap();
        let prefix = root.join("instance/tmp");
        let mirror = crate::scan::classify::prefix_cache_dir(&prefix, &root);
        std::fs::create_dir_all(&mirror).unwrap();
        let cache = mirror.join("app.cpython-313.pyc");
        assert_eq!(mirror_prefix(&cache, &root), Some(prefix));
        // A stray tagged name whose source does not exist anywhere is a plain orphan.
        assert_eq!(
            mirror_prefix(&mirror.join("gone.cpython-313.pyc"), &root),
            None
        );
        assert_eq!(
            mirror_prefix(&root.join("build/app.cpython-313.pyc"), &root),
            None
        );
    }
}
