//! Running compile steps with the real interpreters.
//!
//! Each worker thread keeps one long-lived driver process (`assets/compile_driver.py`)
//! for the interpreter it is working with, feeds it one file at a time as a JSON line and
//! reads one JSON line back (and the cache's bytes), so every file's result (ok, or the
//! syntax error with line and column) reaches the caller as it happens. Steps are sorted by
//! interpreter, so a worker rarely switches drivers.
//!
//! Safe as root: the interpreter runs only if [`trusted_program`] allows it; over a tree
//! owned by another user the driver runs as that user, so it reads only what they can;
//! the driver only returns bytes, and pycache writes them by directory handle
//! ([`super::write`]), so no symlink swapped in mid-run is ever followed. The source's
//! identity (dev, inode, size, mtime) is taken before and after compiling and must match
//! the file the driver read, else the file is compiled once more, then given up.
//! Every answer has a deadline ([`time_limit`]) and a size cap.

mod driver;

pub use driver::{DRIVER, MAX_SOURCE, time_limit};

use super::plan::{Compile, Plan, Step};
use super::report::{Outcome, StepOutcome};
use super::write::{SourceId, open_dir};
use crate::scan::record::display_path;
use driver::{Answer, Driver, RunAs};
use nix::unistd::{Uid, User};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// A 1-based line or column, or None for the 0/-1 Python uses for "no position".
fn position(n: Option<i64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0)
}

fn failed_answer(index: usize, step: &Compile, a: Answer) -> StepOutcome {
    let mut out = StepOutcome::new(index, &step.cache, Outcome::Done);
    let msg = a.msg.unwrap_or_else(|| "compile failed".into());
    out.outcome = match a.kind.as_deref() {
        Some("refused") => Outcome::Skipped(msg),
        // The source itself does not compile: name it (remembered for the next run).
        Some("syntax" | "compile") => {
            out.source = Some(step.source.clone());
            out.line = position(a.line);
            out.column = position(a.col);
            Outcome::Failed(format!("{msg} ({})", step.tag))
        }
        _ => Outcome::Failed(msg),
    };
    out
}

/// True when the file the driver read is the one on disk before and after.
fn same_source(
    before: &SourceId,
    after: &SourceId,
    st: Option<&(u64, u64, u64, Option<i128>, i64)>,
) -> bool {
    let Some(&(dev, ino, size, ns, secs)) = st else {
        return false;
    };
    let ns_ok = ns.is_none_or(|ns| {
        ns == i128::from(before.mtime) * 1_000_000_000 + i128::from(before.mtime_nsec)
    });
    before == after
        && dev == before.dev
        && ino == before.ino
        && size == before.size
        && ns_ok
        && secs == before.mtime
}

/// The scanned root (or prefix tree) a path lies under: the longest.
fn root_of<'a>(roots: &'a [PathBuf], dir: &Path) -> Option<&'a Path> {
    roots
        .iter()
        .filter(|r| dir.starts_with(r))
        .max_by_key(|r| r.as_os_str().len())
        .map(PathBuf::as_path)
}

/// A worker's driver, and the drivers that could not be started (not retried per file).
#[derive(Default)]
struct Slot {
    driver: Option<Driver>,
    refused: Vec<(PathBuf, RunAs, String)>,
}

/// Compiles one step: identity of the source before, the driver's answer, identity after
/// (all three must agree, else one retry), then the bytes written by handle.
fn compile_step(
    slot: &mut Slot,
    roots: &[PathBuf],
    index: usize,
    step: &Compile,
    interp: &Path,
) -> StepOutcome {
    let fail = |o: Outcome| StepOutcome::new(index, &step.cache, o);
    let (Some(src_dir), Some(src_name), Some(cache_dir), Some(cache_name)) = (
        step.source.parent(),
        step.source.file_name(),
        step.cache.parent(),
        step.cache.file_name(),
    ) else {
        return fail(Outcome::Failed("not a file path".into()));
    };
    let (Some(src_root), Some(cache_root)) = (root_of(roots, src_dir), root_of(roots, cache_dir))
    else {
        return fail(Outcome::Skipped(
            "not under a scanned root: left alone".into(),
        ));
    };
    let sdir = match open_dir(src_root, src_dir, false, false) {
        Ok(d) => d,
        Err(e) => return fail(Outcome::Skipped(e)),
    };
    let run_as: RunAs = (Uid::effective().is_root() && sdir.uid != 0).then(|| {
        let gid = User::from_uid(Uid::from_raw(sdir.uid))
            .ok()
            .flatten()
            .map_or(sdir.gid, |u| u.gid.as_raw());
        (sdir.uid, gid)
    });
    let mut changed = false;
    for _attempt in 0..2 {
        let before = match sdir.source_id(src_name) {
            Ok(id) => id,
            Err(e) => return fail(Outcome::Skipped(e)),
        };
        if let Some((_, _, why)) = slot
            .refused
            .iter()
            .find(|(p, r, _)| p == interp && *r == run_as)
        {
            return fail(Outcome::Failed(why.clone()));
        }
        let driver = &mut slot.driver;
        if driver
            .as_ref()
            .is_none_or(|d| d.interpreter != interp || d.run_as != run_as)
        {
            *driver = None;
            match Driver::spawn(interp, run_as) {
                Ok(d) => *driver = Some(d),
                Err(e) => {
                    slot.refused.push((interp.to_path_buf(), run_as, e.clone()));
                    return fail(Outcome::Failed(e));
                }
            }
        }
        let Some(d) = driver.as_mut() else {
            return fail(Outcome::Failed("no driver".into()));
        };
        let compiled = match d.compile(index, step, before.size) {
            Ok(c) => c,
            Err(e) => {
                *driver = None;
                return fail(Outcome::Failed(e));
            }
        };
        if !compiled.answer.ok {
            return failed_answer(index, step, compiled.answer);
        }
        let after = match sdir.source_id(src_name) {
            Ok(id) => id,
            Err(e) => return fail(Outcome::Skipped(e)),
        };
        if !same_source(&before, &after, compiled.answer.st.as_ref()) {
            changed = true;
            continue;
        }
        if let Some(tag) = &compiled.answer.tag
            && *tag != step.tag
        {
            return fail(Outcome::Failed(format!(
                "{} writes {tag} caches, not {}: not written",
                display_path(interp),
                step.tag
            )));
        }
        let cdir = match open_dir(cache_root, cache_dir, true, step.chown) {
            Ok(d) => d,
            Err(e) => return fail(Outcome::Skipped(e)),
        };
        // CPython's mode for a cache: the source's, made writable by its owner.
        let mode = (before.mode | 0o200) & 0o666;
        return match cdir.replace(cache_name, &compiled.bytes, mode, step.chown) {
            Ok(()) => fail(Outcome::Done),
            Err(e) => fail(Outcome::Failed(e)),
        };
    }
    debug_assert!(changed);
    fail(Outcome::Failed(
        "the source changed while it was being compiled (twice): no cache written; run recompile again"
            .into(),
    ))
}

/// Runs the compile steps `indices` of `plan` on `jobs` workers, reporting each outcome.
pub(crate) fn run(
    plan: &Plan,
    indices: &[usize],
    jobs: usize,
    cancel: Option<&AtomicBool>,
    emit: &mut dyn FnMut(StepOutcome),
) {
    let mut work: Vec<Work> = Vec::new();
    for &i in indices {
        let Some(Step::Compile(c)) = plan.steps.get(i) else {
            continue;
        };
        if let Some(k) = &c.known_failure {
            let mut out = StepOutcome::new(
                i,
                &c.cache,
                Outcome::Failed(format!(
                    "{} (unchanged since it failed before; --retry-failed runs it again)",
                    k.message
                )),
            );
            out.source = Some(c.source.clone());
            out.line = k.line;
            out.column = k.column;
            emit(out);
            continue;
        }
        match &c.interpreter {
            Some(p) => work.push((i, c, p.as_path())),
            None => emit(StepOutcome::new(
                i,
                &c.cache,
                Outcome::Skipped(
                    c.unavailable
                        .clone()
                        .unwrap_or_else(|| "no interpreter".into()),
                ),
            )),
        }
    }
    work.sort_by(|a, b| (a.2, a.0).cmp(&(b.2, b.0)));
    // Workers take chunks that never mix interpreters, so an interpreter with a handful of
    // files starts one driver, not one per worker.
    let mut chunks: Vec<&[Work]> = Vec::new();
    for group in work.chunk_by(|a, b| a.2 == b.2) {
        chunks.extend(group.chunks(CHUNK));
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<StepOutcome>();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(chunks.len()) {
            let tx = tx.clone();
            let (chunks, next, roots) = (&chunks, &next, &plan.roots);
            s.spawn(move || worker(roots, chunks, next, cancel, &tx));
        }
        drop(tx);
        for outcome in rx {
            emit(outcome);
        }
    });
}

/// Files a worker takes at a time.
const CHUNK: usize = 16;

/// A compile step with its index and interpreter.
type Work<'a> = (usize, &'a Compile, &'a Path);

fn worker(
    roots: &[PathBuf],
    chunks: &[&[Work]],
    next: &AtomicUsize,
    cancel: Option<&AtomicBool>,
    tx: &mpsc::Sender<StepOutcome>,
) {
    let mut slot = Slot::default();
    while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
        for &(index, step, interp) in *chunk {
            let outcome = if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                StepOutcome::new(index, &step.cache, Outcome::Skipped("cancelled".into()))
            } else {
                compile_step(&mut slot, roots, index, step, interp)
            };
            if tx.send(outcome).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(size: u64, mtime: i64, nsec: i64) -> SourceId {
        SourceId {
            dev: 1,
            ino: 2,
            size,
            mtime,
            mtime_nsec: nsec,
            mode: 0o100644,
        }
    }

    #[test]
    fn the_source_read_must_be_the_one_on_disk_before_and_after() {
        let before = id(10, 100, 5);
        assert!(same_source(
            &before,
            &before,
            Some(&(1, 2, 10, Some(100_000_000_005), 100))
        ));
        // Python 2 gives no nanoseconds: seconds must still agree.
        assert!(same_source(&before, &before, Some(&(1, 2, 10, None, 100))));
        // Edited meanwhile, another file read (swapped), or no identity at all.
        assert!(!same_source(
            &before,
            &id(11, 100, 5),
            Some(&(1, 2, 10, None, 100))
        ));
        assert!(!same_source(&before, &before, Some(&(1, 3, 10, None, 100))));
        assert!(!same_source(
            &before,
            &before,
            Some(&(1, 2, 10, Some(100_000_000_006), 100))
        ));
        assert!(!same_source(&before, &before, None));
    }

    #[test]
    fn the_longest_root_holds_a_path() {
        let roots = [PathBuf::from("/srv/app"), PathBuf::from("/srv/app/.pfx")];
        assert_eq!(
            root_of(&roots, Path::new("/srv/app/.pfx/x")),
            Some(Path::new("/srv/app/.pfx"))
        );
        assert_eq!(
            root_of(&roots, Path::new("/srv/app/pkg")),
            Some(Path::new("/srv/app"))
        );
        assert_eq!(root_of(&roots, Path::new("/etc")), None);
    }
}
