//! Running compile steps with the real interpreters.
//!
//! Each worker thread keeps one long-lived driver process (`assets/compile_driver.py`)
//! for the interpreter it is working with, feeds it one file at a time as a JSON line and
//! reads one JSON line back, so every file's result (ok, or the syntax error with line and
//! column) reaches the caller as it happens. Steps are sorted by interpreter, so a worker
//! rarely switches drivers.

use super::plan::{Compile, Plan, Step};
use super::quarantine::hex;
use super::report::{Outcome, StepOutcome};
use crate::scan::record::display_path;
use serde::Deserialize;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// The driver program, run with `python -E -s -S -B -c DRIVER`.
pub const DRIVER: &str = include_str!("../../assets/compile_driver.py");

/// One driver process.
struct Driver {
    interpreter: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    kind: Option<String>,
    msg: Option<String>,
    line: Option<i64>,
    col: Option<i64>,
}

/// A 1-based line or column, or None for the 0/-1 Python uses for "no position".
fn position(n: Option<i64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0)
}

impl Driver {
    fn spawn(interpreter: &Path) -> Result<Self, String> {
        // -E: no PYTHON* variables (PYTHONDONTWRITEBYTECODE does not matter to py_compile,
        // but PYTHONPATH could shadow it); -s -S: no site (faster start, nothing needed from
        // it); -B: the driver's own imports write no caches.
        // SOURCE_DATE_EPOCH would change py_compile's default mode: the mode is always passed.
        let mut child = Command::new(interpreter)
            .args(["-E", "-s", "-S", "-B", "-c", DRIVER])
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .env_remove("SOURCE_DATE_EPOCH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", display_path(interpreter)))?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("driver pipes missing".into());
        };
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&stderr_tail);
        // Drain stderr so a chatty interpreter never blocks; keep the end for error messages.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = tail.lock() {
                    t.extend_from_slice(&buf[..n]);
                    let excess = t.len().saturating_sub(2048);
                    t.drain(..excess);
                }
            }
        });
        Ok(Self {
            interpreter: interpreter.to_path_buf(),
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            stderr_tail,
        })
    }

    fn compile(&mut self, index: usize, step: &Compile) -> Result<Answer, String> {
        let req = serde_json::json!({
            "id": index,
            "src": hex(step.source.as_os_str().as_bytes()),
            "cfile": hex(step.cache.as_os_str().as_bytes()),
            "opt": step.opt,
            "mode": step.mode.as_str(),
            "chown": step.chown,
        });
        let stdin = self.stdin.as_mut().ok_or("driver closed")?;
        writeln!(stdin, "{req}")
            .and_then(|()| stdin.flush())
            .map_err(|e| self.died(&e.to_string()))?;
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(self.died("it exited")),
            Ok(_) => serde_json::from_str(&line)
                .map_err(|_| self.died(&format!("unexpected answer {:?}", line.trim()))),
            Err(e) => Err(self.died(&e.to_string())),
        }
    }

    fn died(&mut self, what: &str) -> String {
        // It may still be waiting for input (an answer we could not read): end it.
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| String::from_utf8_lossy(&t).trim().to_string())
            .unwrap_or_default();
        let last = tail.lines().last().unwrap_or("").to_string();
        format!(
            "the compile driver of {} failed: {what}{}",
            display_path(&self.interpreter),
            if last.is_empty() {
                String::new()
            } else {
                format!(" ({last})")
            }
        )
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop.
        self.stdin.take();
        let _ = self.child.wait();
    }
}

fn outcome_of(index: usize, step: &Compile, answer: Result<Answer, String>) -> StepOutcome {
    let mut out = StepOutcome::new(index, &step.cache, Outcome::Done);
    match answer {
        Ok(a) if a.ok => {}
        Ok(a) => {
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
        }
        Err(e) => out.outcome = Outcome::Failed(e),
    }
    out
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
            let (chunks, next) = (&chunks, &next);
            s.spawn(move || worker(chunks, next, cancel, &tx));
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
    chunks: &[&[Work]],
    next: &AtomicUsize,
    cancel: Option<&AtomicBool>,
    tx: &mpsc::Sender<StepOutcome>,
) {
    let mut driver: Option<Driver> = None;
    while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
        for &(index, step, interp) in *chunk {
            let outcome = if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                StepOutcome::new(index, &step.cache, Outcome::Skipped("cancelled".into()))
            } else {
                if driver.as_ref().is_none_or(|d| d.interpreter != interp) {
                    driver = Driver::spawn(interp)
                        .map_err(|e| {
                            let _ =
                                tx.send(StepOutcome::new(index, &step.cache, Outcome::Failed(e)));
                        })
                        .ok();
                }
                let Some(d) = driver.as_mut() else { continue };
                let answer = d.compile(index, step);
                if answer.is_err() {
                    driver = None;
                }
                outcome_of(index, step, answer)
            };
            if tx.send(outcome).is_err() {
                return;
            }
        }
    }
}
