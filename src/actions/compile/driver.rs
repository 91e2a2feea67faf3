//! One compile driver process: `assets/compile_driver.py` run by a trusted interpreter
//! (as the tree's owner when pycache runs as root), fed one request line per file and
//! answering one line plus the cache's bytes, each within a deadline and a size cap.

use crate::actions::child::{self, Message, Want};
use crate::actions::plan::Compile;
use crate::actions::quarantine::hex;
use crate::actions::trust::trusted_program;
use crate::scan::record::display_path;
use nix::unistd::{Uid, User};
use serde::Deserialize;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The driver program, run with `python -E -s -S -B -c DRIVER`.
pub const DRIVER: &str = include_str!("../../../assets/compile_driver.py");

/// How long a driver may take for one file: 10 s, plus 1 s per 50 KiB of source (a
/// 300,000-line module takes seconds; a hang must still end).
pub fn time_limit(source_size: u64) -> Duration {
    Duration::from_secs(10 + source_size / (50 * 1024))
}

/// The largest source compiled (a bigger "source" is a mistake or an attack).
pub const MAX_SOURCE: u64 = 64 << 20;

/// Whom a driver runs as: None for pycache's own user, else a uid and gid.
pub(super) type RunAs = Option<(u32, u32)>;

/// One driver process.
pub(super) struct Driver {
    pub(super) interpreter: PathBuf,
    pub(super) run_as: RunAs,
    child: Child,
    stdin: Option<ChildStdin>,
    want: mpsc::Sender<Want>,
    answers: mpsc::Receiver<Message>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

#[derive(Deserialize)]
pub(super) struct Answer {
    pub(super) ok: bool,
    pub(super) kind: Option<String>,
    pub(super) msg: Option<String>,
    pub(super) line: Option<i64>,
    pub(super) col: Option<i64>,
    len: Option<usize>,
    pub(super) tag: Option<String>,
    /// dev, ino, size, mtime_ns (None on 2.7), mtime seconds: of the file it read.
    pub(super) st: Option<(u64, u64, u64, Option<i128>, i64)>,
}

/// A compiled cache, with the identity of the source it was compiled from.
pub(super) struct Compiled {
    pub(super) answer: Answer,
    pub(super) bytes: Vec<u8>,
}

/// `nobody`, or `uid 1234` for a user without a name.
pub(super) fn user_label(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => format!("uid {uid}"),
    }
}

fn user_text(run_as: RunAs) -> String {
    run_as.map_or_else(String::new, |(uid, _)| format!(" as {}", user_label(uid)))
}

impl Driver {
    pub(super) fn spawn(interpreter: &Path, run_as: RunAs) -> Result<Self, String> {
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

    pub(super) fn compile(
        &mut self,
        index: usize,
        step: &Compile,
        size: u64,
    ) -> Result<Compiled, String> {
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
