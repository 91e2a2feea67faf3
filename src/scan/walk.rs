//! The scanner thread: walks the roots (and the `PYTHONPYCACHEPREFIX` tree) with a small
//! pool of workers sharing one directory stack, and sends [`ScanEvent`]s in batches.
//!
//! Each worker owns its batch and flushes it every [`BATCH_INTERVAL`] or [`BATCH_RECORDS`]
//! records, so the UI thread wakes a few dozen times a second however large the tree.
//! When a send fails the receiver is gone (the user quit): every worker stops quietly.
//! What one directory holds is decided in [`super::visit`].
//!
//! A panic in a worker (a bug) stops every worker and ends the scanner thread with that
//! panic, so `JoinHandle::join` returns it and no [`ScanEvent::Finished`] is sent: callers
//! report an error, and never wait for a worker that is gone.

use super::model::{ScanBatch, ScanEvent, ScanModel};
use super::options::ScanOptions;
use super::record::{ScanError, ScanErrorKind, display_path};
use super::visit;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A batch is sent at least this often while there is something in it.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(50);
/// ...or as soon as it holds this many sources and caches.
pub const BATCH_RECORDS: usize = 512;
/// At most this many walker threads (directory listing is I/O-bound; more rarely helps).
const MAX_WORKERS: usize = 4;

/// Starts a scan on a background thread; events go to `tx` as they are found, ending with
/// [`ScanEvent::Finished`]. Returns quietly, early, when the receiver is dropped.
pub fn spawn<E: From<ScanEvent> + Send + 'static>(
    opts: ScanOptions,
    tx: Sender<E>,
) -> JoinHandle<()> {
    // Like std::thread::spawn, this only fails when the OS cannot start a thread at all.
    std::thread::Builder::new()
        .name("pycache-scan".into())
        .spawn(move || run(&opts, &tx))
        .expect("the operating system refused to start the scanner thread")
}

/// Scans to completion on the calling thread's behalf and returns the model (for the CLI);
/// an error with the panic's message when the scanner crashed.
pub fn scan(opts: &ScanOptions) -> Result<ScanModel, String> {
    let (tx, rx) = std::sync::mpsc::channel::<ScanEvent>();
    let opts2 = opts.clone();
    let handle = std::thread::spawn(move || run(&opts2, &tx));
    let mut model = ScanModel::new(opts.roots.clone(), opts.prefix.clone());
    for event in rx {
        model.apply(event);
    }
    match handle.join() {
        Ok(()) => Ok(model),
        Err(payload) => Err(panic_message(payload.as_ref())),
    }
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// How a directory is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An ordinary directory: sources, legacy caches, and its `__pycache__`.
    Tree,
    /// Inside the prefix tree: every cache maps to a source by the prefix rule.
    Prefix,
    /// A root that is itself a `__pycache__`: read its parent for sources, then only it.
    PycacheOnly,
}

/// A directory waiting to be read.
#[derive(Debug)]
pub(super) struct Job {
    /// Its path.
    pub path: PathBuf,
    /// How to read it.
    pub kind: Kind,
    /// The root it was reached from.
    pub root: Arc<Root>,
    /// True for a root (followed even when it is a symlink).
    pub is_root: bool,
    /// (dev, ino) of the directories above it, for loop detection with `--follow-symlinks`.
    pub chain: Option<Arc<Chain>>,
}

/// One link of the chain of directories above a job.
#[derive(Debug)]
pub(super) struct Chain {
    /// Device of the directory.
    pub dev: u64,
    /// Inode of the directory.
    pub ino: u64,
    /// Its path, for the loop message.
    pub path: PathBuf,
    /// The directory above.
    pub parent: Option<Arc<Chain>>,
}

/// A root of the walk.
#[derive(Debug)]
pub(super) struct Root {
    /// Its absolute path.
    pub path: PathBuf,
    /// The directory module names are relative to.
    pub base: PathBuf,
    /// Its device, for `--one-file-system`.
    pub dev: u64,
}

/// Settings shared read-only by every worker.
#[derive(Debug)]
pub(super) struct Ctx {
    /// The options.
    pub opts: ScanOptions,
    /// The roots, for naming prefix caches' modules.
    pub roots: Vec<Arc<Root>>,
    /// Compiled `--exclude` patterns.
    pub excludes: Option<GlobSet>,
}

struct Queue {
    jobs: Vec<Job>,
    busy: usize,
    waiting: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    stop: AtomicBool,
    /// The payload of the first worker panic, resumed on the scanner thread.
    crash: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

impl Shared {
    fn push(&self, jobs: &mut Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let several = jobs.len() > 1;
        q.jobs.append(jobs);
        // Wake sleepers only when there are any: most pushes find every worker busy.
        let sleepers = q.waiting > 0;
        drop(q);
        if sleepers && several {
            self.wake.notify_all();
        } else if sleepers {
            self.wake.notify_one();
        }
    }

    /// The next job, or None when every worker is idle and the stack is empty.
    fn pop(&self, finished_one: bool) -> Option<Job> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if finished_one {
            q.busy -= 1;
        }
        loop {
            if self.stop.load(Ordering::Relaxed) {
                self.wake.notify_all();
                return None;
            }
            if let Some(job) = q.jobs.pop() {
                q.busy += 1;
                return Some(job);
            }
            if q.busy == 0 {
                self.wake.notify_all();
                return None;
            }
            q.waiting += 1;
            q = self.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
            q.waiting -= 1;
        }
    }
}

/// What a worker accumulates between two sends.
pub(super) struct Out {
    /// The batch being filled.
    pub batch: ScanBatch,
    /// Directories found, to push on the shared stack.
    pub children: Vec<Job>,
    /// The worker's `getdents64` buffer, reused for every directory.
    pub dirbuf: Vec<u8>,
    /// The worker's buffer for whole cache files, reused for every cache.
    pub filebuf: Vec<u8>,
    /// The worker's verdict settings and body walker (reused stacks).
    pub judging: super::classify::Judging,
    last_send: Instant,
}

impl Out {
    /// An empty batch.
    pub(super) fn new() -> Self {
        Self {
            batch: ScanBatch::default(),
            children: Vec::new(),
            dirbuf: Vec::new(),
            filebuf: Vec::new(),
            judging: Default::default(),
            last_send: Instant::now(),
        }
    }

    /// Records a problem.
    pub fn error(&mut self, path: &Path, kind: ScanErrorKind, message: impl Into<String>) {
        self.batch.errors.push(ScanError {
            path: path.to_path_buf(),
            kind,
            message: message.into(),
        });
    }

    fn due(&self) -> bool {
        let n = self.batch.caches.len() + self.batch.sources.len();
        n >= BATCH_RECORDS || (self.last_send.elapsed() >= BATCH_INTERVAL && !self.is_empty())
    }

    fn is_empty(&self) -> bool {
        let b = &self.batch;
        b.caches.is_empty() && b.sources.is_empty() && b.errors.is_empty() && b.dirs_seen == 0
    }

    /// Sends the batch; false when the receiver is gone.
    fn send<E: From<ScanEvent>>(&mut self, tx: &Sender<E>) -> bool {
        self.last_send = Instant::now();
        if self.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.batch);
        tx.send(E::from(ScanEvent::Batch(Box::new(batch)))).is_ok()
    }
}

/// What reads one directory: [`visit::visit`], or a stand-in in tests.
type VisitFn = fn(&Ctx, Job, &mut Out);

fn run<E: From<ScanEvent> + Send>(opts: &ScanOptions, tx: &Sender<E>) {
    run_with(opts, tx, visitor());
}

/// [`visit::visit`]; in debug builds, when `PYCACHE_DEBUG_PANIC_IN` names a directory, one
/// that panics there, so the integration tests can check that a crashed worker is an
/// error with exit 2, never a hang. Release builds ignore the variable.
fn visitor() -> VisitFn {
    #[cfg(debug_assertions)]
    if std::env::var_os("PYCACHE_DEBUG_PANIC_IN").is_some() {
        return |ctx, job, out| {
            let name = std::env::var_os("PYCACHE_DEBUG_PANIC_IN");
            if job.path.file_name() == name.as_deref() {
                panic!(
                    "PYCACHE_DEBUG_PANIC_IN: a scan worker panicked in {}",
                    display_path(&job.path)
                );
            }
            visit::visit(ctx, job, out);
        };
    }
    visit::visit
}

pub(super) fn run_with<E: From<ScanEvent> + Send>(
    opts: &ScanOptions,
    tx: &Sender<E>,
    visit: VisitFn,
) {
    let mut out = Out::new();
    let (ctx, jobs) = prepare(opts, &mut out);
    if !out.send(tx) {
        return;
    }
    let shared = Shared {
        queue: Mutex::new(Queue {
            jobs,
            busy: 0,
            waiting: 0,
        }),
        wake: Condvar::new(),
        stop: AtomicBool::new(false),
        crash: Mutex::new(None),
    };
    let workers = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .clamp(1, MAX_WORKERS);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (ctx, shared) = (&ctx, &shared);
            s.spawn(move || worker(ctx, shared, &tx, visit));
        }
    });
    let crash = shared
        .crash
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(payload) = crash {
        // The panic hook already printed the report; this ends the thread with it.
        std::panic::resume_unwind(payload);
    }
    if !shared.stop.load(Ordering::Relaxed) {
        let _ = tx.send(E::from(ScanEvent::Finished));
    }
}

fn worker<E: From<ScanEvent>>(ctx: &Ctx, shared: &Shared, tx: &Sender<E>, visit: VisitFn) {
    let mut out = Out::new();
    let mut finished_one = false;
    while let Some(job) = shared.pop(finished_one) {
        finished_one = true;
        // A panic must not leave this job counted as busy: the other workers would wait
        // for it forever. Caught, it stops everyone; `run` resumes it.
        let visited =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| visit(ctx, job, &mut out)));
        if let Err(payload) = visited {
            let mut crash = shared.crash.lock().unwrap_or_else(PoisonError::into_inner);
            crash.get_or_insert(payload);
            drop(crash);
            shared.stop.store(true, Ordering::Relaxed);
            continue;
        }
        shared.push(&mut out.children);
        if out.due() && !out.send(tx) {
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
    if !shared.stop.load(Ordering::Relaxed) && !out.send(tx) {
        shared.stop.store(true, Ordering::Relaxed);
    }
}

/// Checks the roots, compiles the excludes, and makes the first jobs.
fn prepare(opts: &ScanOptions, out: &mut Out) -> (Ctx, Vec<Job>) {
    let mut excludes = None;
    if !opts.excludes.is_empty() {
        let mut b = GlobSetBuilder::new();
        for pattern in &opts.excludes {
            match Glob::new(pattern) {
                Ok(g) => {
                    b.add(g);
                }
                Err(e) => out.error(
                    Path::new(pattern),
                    ScanErrorKind::Io,
                    format!("ignored --exclude {pattern:?}: {e}"),
                ),
            }
        }
        excludes = b.build().ok();
    }
    let mut walk: Vec<(PathBuf, Kind)> = Vec::new();
    for root in &opts.roots {
        match std::fs::metadata(root) {
            Ok(m) if m.is_dir() => walk.push((root.clone(), Kind::Tree)),
            Ok(_) => out.error(
                root,
                ScanErrorKind::BadRoot,
                format!(
                    "{} is a file, not a directory: scan the directory that holds it",
                    display_path(root)
                ),
            ),
            Err(e) => out.error(
                root,
                ScanErrorKind::BadRoot,
                format!("cannot scan {}: {e}", display_path(root)),
            ),
        }
    }
    if let Some(prefix) = &opts.prefix
        && prefix.is_dir()
    {
        walk.push((prefix.clone(), Kind::Prefix));
    }
    // A root inside another root (or the prefix inside a root) is walked once, by the outer.
    let all: Vec<PathBuf> = walk.iter().map(|(p, _)| p.clone()).collect();
    walk.retain(|(p, _)| !all.iter().any(|o| o != p && p.starts_with(o)));
    let mut seen = std::collections::HashSet::new();
    walk.retain(|(p, _)| seen.insert(p.clone()));
    let mut roots = Vec::new();
    let mut jobs = Vec::new();
    for (path, mut kind) in walk {
        let in_prefix = opts.prefix.as_ref().is_some_and(|p| path.starts_with(p));
        if in_prefix {
            kind = Kind::Prefix;
        }
        let is_pycache = kind == Kind::Tree && path.file_name().is_some_and(|n| n == "__pycache__");
        let dir = match (is_pycache, path.parent()) {
            (true, Some(parent)) => parent.to_path_buf(),
            _ => path.clone(),
        };
        if is_pycache {
            kind = Kind::PycacheOnly;
        }
        let base = if kind == Kind::Prefix {
            PathBuf::from("/")
        } else {
            super::classify::name_base(&dir)
        };
        let dev = std::fs::metadata(&dir).map_or(0, |m| std::os::unix::fs::MetadataExt::dev(&m));
        let root = Arc::new(Root {
            path: path.clone(),
            base,
            dev,
        });
        if kind != Kind::Prefix {
            roots.push(root.clone());
        }
        jobs.push(Job {
            path: dir,
            kind,
            root,
            is_root: true,
            chain: None,
        });
    }
    // Walk roots in the order given (the stack pops from the end).
    jobs.reverse();
    let ctx = Ctx {
        opts: opts.clone(),
        roots,
        excludes,
    };
    (ctx, jobs)
}

#[cfg(test)]
mod tests;
