//! Findings about what each start does: imported modules that do not compile, caches the
//! service's user cannot write or read (compiled at every start), caches the next start
//! writes once, and fresh caches the user could not rewrite after a code change.

use super::access::BlockKind;
use super::findings::{Facts, Finding, FindingKind, ModulePenalty, label, plain};
use super::fixes;
use super::targets::{CacheState, Outcome, Target};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Imported modules that do not compile: their import raises, so nothing can be cached.
pub(super) fn broken(f: &Facts<'_>) -> Option<Finding> {
    let first = f.broken.first()?;
    let title = if f.broken.len() == 1 {
        format!(
            "{} does not compile ({}): importing it fails, so the service fails where it imports it",
            first.module, first.why
        )
    } else {
        format!(
            "{} do not compile: importing them fails, so the service fails where it imports them",
            f.count(f.broken.len())
        )
    };
    let mut fd = plain(
        FindingKind::CannotCompile,
        title,
        vec![fixes::note(
            "correct the source (python -m py_compile FILE shows the error as Python sees it)",
        )],
    );
    fd.modules = f
        .broken
        .iter()
        .map(|b| ModulePenalty {
            module: b.module.clone(),
            penalty_ms: None,
        })
        .collect();
    if f.broken.len() > 1 {
        fd.details = f
            .broken
            .iter()
            .map(|b| format!("{}: {}", crate::text::display_path(&b.source), b.why))
            .collect();
    }
    Some(fd)
}

/// Imported modules whose cache is corrupt behind a valid header: the import fails at
/// every start until the cache is removed or recompiled.
pub(super) fn corrupt(f: &Facts<'_>) -> Option<Finding> {
    let bad: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::ImportError)
        .collect();
    let first = bad.first()?;
    let title = if bad.len() == 1 {
        format!(
            "{} has a corrupt cache: importing it fails (Python does not recompile it)",
            first.module
        )
    } else {
        format!(
            "{} have corrupt caches: importing them fails (Python does not recompile them)",
            f.count(bad.len())
        )
    };
    let mut fd = plain(
        FindingKind::CorruptCache,
        title,
        vec![super::fixes::precompile_fix(
            "recompile them (or remove them: the next start writes new ones)",
            f,
        )],
    );
    fd.every_start = true;
    fd.modules = bad
        .iter()
        .map(|t| ModulePenalty {
            module: t.module.clone(),
            penalty_ms: None,
        })
        .collect();
    fd.details = bad
        .iter()
        .map(|t| format!("{}: {}", crate::text::display_path(&t.cache), state_text(t)))
        .collect();
    Some(fd)
}

/// One finding per reason: the same owner and mode on many package directories is one
/// problem; a setting or mount is keyed by its path.
pub(super) fn cannot_write(f: &Facts<'_>, every: &[&Target]) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String, PathBuf), Vec<&Target>> = BTreeMap::new();
    for t in every.iter().filter(|t| t.unreadable.is_none()) {
        let Some(b) = t.access.blockers.first() else {
            continue;
        };
        let path = match b.kind {
            BlockKind::Permission => PathBuf::new(),
            _ => b.path.clone(),
        };
        groups
            .entry((format!("{:?}", b.kind), b.why.clone(), path))
            .or_default()
            .push(t);
    }
    let mut out = Vec::new();
    for group in groups.values() {
        let mut dirs: Vec<&Path> = group.iter().filter_map(|t| t.cache.parent()).collect();
        dirs.sort();
        dirs.dedup();
        let title = cannot_write_title(&f.ctx.identity.name, group[0], dirs.len());
        let mut fd = f.finding(FindingKind::CannotWrite, title.clone(), group, true);
        for b in group.iter().flat_map(|t| &t.access.blockers) {
            let line = format!("{}: {}", crate::text::display_path(&b.path), b.why);
            // The title already names the first blocker: repeat only what it does not say.
            let said =
                title.contains(&b.why) && title.contains(&crate::text::display_path(&b.path));
            if !said && !fd.details.contains(&line) {
                fd.details.push(line);
            }
        }
        if fd.details.len() > 6 {
            let more = fd.details.len() - 5;
            fd.details.truncate(5);
            fd.details.push(format!("(and {more} more like these)"));
        }
        fd.fixes = fixes::cannot_write(f, group);
        out.push(fd);
    }
    out
}

pub(super) fn cannot_read(f: &Facts<'_>, every: &[&Target]) -> Option<Finding> {
    let unreadable: Vec<&Target> = every
        .iter()
        .copied()
        .filter(|t| t.unreadable.is_some())
        .collect();
    let b = unreadable.first().and_then(|t| t.unreadable.as_ref())?;
    let title = format!(
        "{} cannot read the fresh caches ({}: {})",
        f.ctx.identity.name,
        crate::text::display_path(&b.path),
        b.why
    );
    let mut fd = f.finding(FindingKind::CannotRead, title, &unreadable, true);
    fd.fixes = vec![fixes::make_readable(f, &b.path)];
    Some(fd)
}

pub(super) fn writes_once(f: &Facts<'_>) -> Option<Finding> {
    let once: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::WritesAtNextStart)
        .collect();
    if once.is_empty() {
        return None;
    }
    let mut fd = f.finding(
        FindingKind::WritesAtNextStart,
        "caches missing or stale, and writable".into(),
        &once,
        false,
    );
    fd.details = once
        .iter()
        .take(5)
        .map(|t| format!("{}: {}", crate::text::display_path(&t.cache), state_text(t)))
        .collect();
    fd.fixes = vec![fixes::note(
        "nothing to do: the next start writes them (precompile at deploy time to avoid that one slow start)",
    )];
    Some(fd)
}

fn state_text(t: &Target) -> String {
    match &t.state {
        CacheState::Usable => "fresh".into(),
        CacheState::Missing => "missing".into(),
        CacheState::Stale(r) => format!("stale ({r})"),
        CacheState::Invalid(r) => format!("unusable ({r})"),
        CacheState::Corrupt(r) => format!("corrupt ({r})"),
    }
}

fn cannot_write_title(user: &str, t: &Target, dirs: usize) -> String {
    let Some(b) = t.access.blockers.first() else {
        return format!("{user} cannot write its caches");
    };
    let dir = t.cache.parent().unwrap_or(Path::new("/"));
    let verb = if t.access.exists { "write" } else { "create" };
    if dirs > 1 {
        let because = match b.kind {
            BlockKind::Permission => format!("each {}", b.why),
            _ => format!("{}: {}", crate::text::display_path(&b.path), b.why),
        };
        return format!(
            "{user} cannot create or write the caches of {dirs} directories ({because})"
        );
    }
    match b.kind {
        BlockKind::Permission if b.path == dir => {
            format!(
                "{user} cannot write {} ({})",
                crate::text::display_path(dir),
                b.why
            )
        }
        BlockKind::Permission => format!(
            "{user} cannot {verb} {} ({} is {})",
            crate::text::display_path(dir),
            crate::text::display_path(&b.path),
            b.why
        ),
        BlockKind::Sticky => format!(
            "{user} cannot replace the caches in {} ({})",
            crate::text::display_path(dir),
            b.why
        ),
        _ => format!(
            "{user} cannot {verb} {} ({}: {})",
            crate::text::display_path(dir),
            crate::text::display_path(&b.path),
            b.why
        ),
    }
}

/// Fresh caches the user cannot rewrite: fine until the next code change.
pub(super) fn latent(f: &Facts<'_>) -> Option<Finding> {
    let stuck: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| {
            t.outcome == Outcome::Loads && (!t.access.writable || f.ctx.dont_write.is_some())
        })
        .collect();
    let first = stuck.first()?;
    let why = match (&f.ctx.dont_write, first.access.blockers.first()) {
        (Some(w), _) => w.clone(),
        (None, Some(b)) => format!("{}: {}", crate::text::display_path(&b.path), b.why),
        (None, None) => return None,
    };
    let mut fd = plain(
        FindingKind::CannotRewrite,
        format!(
            "{} load fresh caches now, but {} cannot rewrite them ({why}): after the next code change they compile on every start",
            f.count(stuck.len()),
            f.ctx.identity.name
        ),
        vec![fixes::keep_precompiled(f)],
    );
    fd.modules = stuck
        .iter()
        .map(|t| ModulePenalty {
            module: label(t),
            penalty_ms: None,
        })
        .collect();
    Some(fd)
}
