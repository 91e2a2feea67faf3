//! Code-injection risks (python/cpython#82438): an imported source, its cache, the cache
//! directory or a project directory above the source that a user other than the service
//! user and root can write. Whoever can write there can make the service run their code,
//! as the service's user (root, for a root service).
//!
//! Writers counted: the owner (when not root or the service user), the group when the
//! mode lets it write (unless it is root's group, or the service's own group with no other
//! member), and everybody for a world-writable file or directory (a sticky bit does not
//! help: anyone can still create the cache that is missing).

use super::access::describe_owner;
use super::findings::{Facts, Finding, FindingKind, plain};
use super::fixes::{Fix, Step, owner_group, shell_word};
use crate::scan::record::display_path;
use nix::unistd::{Gid, Group};
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Paths listed one by one in a finding (the rest are counted).
const SHOWN: usize = 20;

/// Who else can write `meta`'s file, in words, or None when only root and the service can.
fn other_writers(f: &Facts<'_>, meta: &std::fs::Metadata) -> Option<String> {
    let id = &f.ctx.identity;
    let mut who = Vec::new();
    if meta.uid() != 0 && Some(meta.uid()) != id.uid {
        who.push("its owner".to_string());
    }
    if meta.mode() & 0o020 != 0 && !trusted_group(f, meta.gid()) {
        who.push(format!("group {}", super::identity::group_name(meta.gid())));
    }
    if meta.mode() & 0o002 != 0 {
        who.push("everybody".to_string());
    }
    (!who.is_empty()).then(|| who.join(", "))
}

fn trusted_group(f: &Facts<'_>, gid: u32) -> bool {
    let id = &f.ctx.identity;
    gid == 0
        || (Some(gid) == id.gid
            && Group::from_gid(Gid::from_raw(gid))
                .ok()
                .flatten()
                .is_some_and(|g| g.mem.iter().all(|m| *m == id.name)))
}

/// The files and directories the service's imports depend on: each imported source and
/// its directory (and those above it, up to the project root), its cache and the cache
/// directory when they exist.
fn watched(f: &Facts<'_>) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for t in f.targets {
        out.insert(t.source.clone());
        if let Some(dir) = t.source.parent() {
            for d in dir.ancestors() {
                out.insert(d.to_path_buf());
                if d == f.root || !d.starts_with(f.root) {
                    break;
                }
            }
        }
        if t.cache.exists() {
            out.insert(t.cache.clone());
        }
        if let Some(d) = t.cache.parent()
            && d.exists()
        {
            out.insert(d.to_path_buf());
        }
    }
    out.extend(f.ctx.prefix.clone().filter(|p| p.exists()));
    out
}

/// The finding, when some of those paths can be written by others.
pub fn writable_by_others(f: &Facts<'_>) -> Option<Finding> {
    // (path, detail line, needs a new owner)
    let mut found: Vec<(PathBuf, String, bool)> = Vec::new();
    let caches: BTreeSet<PathBuf> = f
        .targets
        .iter()
        .flat_map(|t| {
            [
                Some(t.cache.clone()),
                t.cache.parent().map(Path::to_path_buf),
            ]
        })
        .flatten()
        .filter(|p| {
            !f.targets
                .iter()
                .any(|t| t.source.parent() == Some(p.as_path()))
        })
        .collect();
    for p in watched(f) {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if let Some(who) = other_writers(f, &meta) {
            let foreign = meta.uid() != 0 && Some(meta.uid()) != f.ctx.identity.uid;
            // Caches and their directories go to the service (it must write them).
            let chown = foreign || (caches.contains(&p) && Some(meta.uid()) != f.ctx.identity.uid);
            found.push((
                p.clone(),
                format!(
                    "{}: {} (writable by {who})",
                    display_path(&p),
                    describe_owner(&meta)
                ),
                chown,
            ));
        }
    }
    if found.is_empty() {
        return None;
    }
    let service = &f.ctx.identity.name;
    let others = if f.ctx.identity.is_root() {
        "users other than root".to_string()
    } else {
        format!("users other than {service} and root")
    };
    let mut fd = plain(
        FindingKind::Insecure,
        format!(
            "{} the service imports from can be written by {others}: they can make it run their code as {service}",
            count(found.len())
        ),
        Vec::new(),
    );
    fd.details = found
        .iter()
        .take(SHOWN)
        .map(|(_, d, _)| d.clone())
        .collect();
    if found.len() > SHOWN {
        fd.details
            .push(format!("... and {} more", found.len() - SHOWN));
    }
    let mut steps = Vec::new();
    let chown: Vec<&Path> = found
        .iter()
        .filter(|x| x.2)
        .map(|x| x.0.as_path())
        .collect();
    if !chown.is_empty() {
        steps.push(Step::Run(format!(
            "chown {} {}",
            owner_group(f),
            words(&chown)
        )));
    }
    let all: Vec<&Path> = found.iter().map(|x| x.0.as_path()).collect();
    steps.push(Step::Run(format!("chmod go-w {}", words(&all))));
    fd.fixes.push(Fix {
        summary: format!("let only {service} and root write them"),
        steps,
    });
    Some(fd)
}

fn words(paths: &[&Path]) -> String {
    paths
        .iter()
        .map(|p| shell_word(p))
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 file or directory".into()
    } else {
        format!("{n} files and directories")
    }
}
