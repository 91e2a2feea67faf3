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

use super::child::{self, Message, Want};
use super::plan::{Compile, Plan, Step};
use super::quarantine::hex;
use super::report::{Outcome, StepOutcome};
use super::trust::trusted_program;
use super::write::{SourceId, open_dir};
use crate::scan::record::display_path;
use nix::unistd::{Uid, User};
use serde::Deserialize;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The driver program, run with `python -E -s -S -B -c DRIVER`.
pub const DRIVER: &str = include_str!("../../assets/compile_driver.py");

/// How long a driver may take for one file: 10 s, plus 1 s per 50 KiB of source (a
/// 300,000-line module takes seconds; a hang must still end).
pub fn time_limit(source_size: u64) -> Duration {
    Duration::from_secs(10 + source_size / (50 * 1024))
}

/// The largest source compiled (a bigger "source" is a mistake or an attack).
pub const MAX_SOURCE: u64 = 64 << 20;

/// Whom a driver runs as: None for pycache's own user, else a uid and gid.
type RunAs = Option<(u32, u32)>;

/// One driver process.
struct Driver {
    interpreter: PathBuf,
    run_as: RunAs,
    child: Child,
    stdin: Option<ChildStdin>,
    want: mpsc::Sender<Want>,
    answers: mpsc::Receiver<Message>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    kind: Option<String>,
    msg: Option<String>,
    line: Option<i64>,
    col: Option<i64>,
    len: Option<usize>,
    tag: Option<String>,
    /// dev, ino, size, mtime_ns (None on 2.7), mtime seconds: of the file it read.
    st: Option<(u64, u64, u64, Option<i128>, i64)>,
}

/// A compiled cache, with the identity of the source it was compiled from.
struct Compiled {
    answer: Answer,
    bytes: Vec<u8>,
}

/// A 1-based line or column, or None for the 0/-1 Python uses for "no position".
fn position(n: Option<i64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0)
}

/// `nobody`, or `uid 1234` for a user without a name.
fn user_label(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => format!("uid {uid}"),
    }
}

fn user_text(run_as: RunAs) -> String {
    run_as.map_or_else(String::new, |(uid, _)| format!(" as {}", user_label(uid)))
}

impl Driver {
    fn spawn(interpreter: &Path, run_as: RunAs) -> Result<Self, String> {
        // Only a program nobody else can change is run, and by its resolved path.
        let real = trusted_program(interpreter)?;
        // -E: no PYTHON* variables (PYTHONPATH could shadow the driver's imports); -s -S:
        // no site; -B: the driver's own imports write no caches; from `/`, so nothing in
        // the current directory is imported.
        let mut cmd = Command::new(&real);
        cmd.args(["-E", "-s", "-S", "-B", "-c", DRIVER])
            .current_dir("/")
            .env_remove("SOURCE_DATE_EPOCH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = run_as {
            // Running as root over another user's tree: the driver reads and compiles as
            // that user (std clears the supplementary groups when it sets the uid).
            cmd.uid(uid).gid(gid);
        }
        child::own_group(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| match run_as {
            Some((uid, _)) => {
                let who = user_label(uid);
                format!(
                    "cannot start {} as {who} (the owner of the source directory; root compiles another user's tree as that user): {e}; pass --python with an interpreter {who} can run (not under /root), or run pycache as {who}",
                    display_path(interpreter)
                )
            }
            None => format!("cannot start {}: {e}", display_path(interpreter)),
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            child::kill(&mut child);
            return Err("driver pipes missing".into());
        };
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        // Drain stderr so a chatty interpreter never blocks; keep the end for error messages.
        child::drain_tail(stderr, Arc::clone(&stderr_tail));
        let (want, answers) = child::reader(stdout);
        Ok(Self {
            interpreter: interpreter.to_path_buf(),
            run_as,
            child,
            stdin: Some(stdin),
            want,
            answers,
            stderr_tail,
        })
    }

    fn receive(
        &mut self,
        want: Want,
        deadline: Instant,
        limit: Duration,
        source: &Path,
    ) -> Result<Message, String> {
        if self.want.send(want).is_err() {
            return Err(self.died("its output ended"));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.answers.recv_timeout(left) {
            Ok(Message::End(why)) => Err(self.died(&why)),
            Ok(m) => Ok(m),
            Err(_) => Err(self.died(&format!(
                "no answer within {} s for {}: killed",
                limit.as_secs(),
                display_path(source)
            ))),
        }
    }

    fn compile(&mut self, index: usize, step: &Compile, size: u64) -> Result<Compiled, String> {
        let limit = time_limit(size);
        let deadline = Instant::now() + limit;
        let req = serde_json::json!({
            "id": index,
            "src": hex(step.source.as_os_str().as_bytes()),
            "opt": step.opt,
            "mode": step.mode.as_str(),
            "max": MAX_SOURCE,
        });
        let stdin = self.stdin.as_mut().ok_or("driver closed")?;
        writeln!(stdin, "{req}")
            .and_then(|()| stdin.flush())
            .map_err(|e| self.died(&e.to_string()))?;
        let line = match self.receive(Want::Line(ANSWER_LINE_MAX), deadline, limit, &step.source) {
            Ok(Message::Line(l)) => l,
            Ok(_) => return Err(self.died("it answered out of turn")),
            Err(e) => return Err(e),
        };
        let answer: Answer = serde_json::from_slice(&line).map_err(|_| {
            self.died(&format!(
                "unexpected answer {:?}",
                String::from_utf8_lossy(&line[..line.len().min(200)])
            ))
        })?;
        let mut bytes = Vec::new();
        if answer.ok {
            let len = answer.len.unwrap_or(0);
            // A cache is a few times its source at most: more is a broken driver.
            let cap = usize::try_from(size.saturating_mul(16)).unwrap_or(usize::MAX) + (1 << 20);
            if len == 0 || len > cap {
                return Err(self.died(&format!("it announced a cache of {len} bytes")));
            }
            bytes = match self.receive(Want::Bytes(len), deadline, limit, &step.source) {
                Ok(Message::Bytes(b)) => b,
                Ok(_) => return Err(self.died("it answered out of turn")),
                Err(e) => return Err(e),
            };
        }
        Ok(Compiled { answer, bytes })
    }

    fn died(&mut self, what: &str) -> String {
        // It may still be waiting for input (an answer we could not read): end it.
        self.stdin.take();
        child::kill(&mut self.child);
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| String::from_utf8_lossy(&t).trim().to_string())
            .unwrap_or_default();
        let last = tail.lines().last().unwrap_or("").to_string();
        format!(
            "the compile driver of {}{} failed: {what}{}",
            display_path(&self.interpreter),
            user_text(self.run_as),
            if last.is_empty() {
                String::new()
            } else {
                format!(" ({last})")
            }
        )
    }
}

/// The longest answer line accepted (answers are short JSON; the cache bytes follow it).
const ANSWER_LINE_MAX: usize = 64 * 1024;

impl Drop for Driver {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop; one that does not end is killed.
        self.stdin.take();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child::kill(&mut self.child);
    }
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

/// Compiles one step: identity of the source before, the driver's answer, identity after
/// (all three must agree, else one retry), then the bytes written by handle.
/// A worker's driver, and the drivers that could not be started (not retried per file).
#[derive(Default)]
struct Slot {
    driver: Option<Driver>,
    refused: Vec<(PathBuf, RunAs, String)>,
}

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
