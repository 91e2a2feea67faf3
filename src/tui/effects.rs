//! The effects the app asks for, run off the UI thread: scanning, decoding a cache's code
//! object, looking up owners, checking access, analysing imports, and confirmed work. Each
//! runs on its own thread and answers with an [`Event`] on the loop's channel; none of
//! them sees the [`App`](super::app::App).

use super::app::{self, CodeView, Effect};
use super::event::Event;
use super::work::{Work, WorkEvent, doctor};
use color_eyre::eyre;
use pycache::actions::{self, ExecOptions};
use pycache::scan::ScanOptions;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

/// The service whose next start the explorer shows.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// The project directory (canonical, as the context settled it).
    pub root: PathBuf,
    /// How the context is built (`--unit`, `--python`, `--user`...).
    pub options: pycache::context::ContextOptions,
}

/// Runs effects for one explorer session.
#[derive(Debug)]
pub struct Runner {
    tx: Sender<Event>,
    /// What is scanned; None over a snapshot (`--from`), where nothing is run.
    scan: Option<ScanOptions>,
    /// The service judged after each scan, and whose context the doctor uses.
    service: Option<ServiceSpec>,
    /// The current scan's generation: events of older scans are dropped.
    pub generation: u64,
}

impl Runner {
    /// A runner posting to `tx`; over a snapshot (`scan` None) it runs nothing.
    pub fn new(tx: Sender<Event>, scan: Option<ScanOptions>, service: Option<ServiceSpec>) -> Self {
        Runner {
            tx,
            scan,
            service,
            generation: 1,
        }
    }

    /// Starts the first scan (none over a snapshot).
    pub fn start(&mut self) -> eyre::Result<()> {
        match &self.scan {
            Some(opts) => start_scan(opts, self.generation, &self.tx),
            None => Ok(()),
        }
    }

    /// Runs one effect (Suspend is the loop's: it needs the terminal). Returns true when
    /// a new scan started, so the loop drops what it queued of the old one.
    pub fn run(&mut self, effect: Effect) -> eyre::Result<bool> {
        // Over a snapshot the app queues nothing but Suspend; this is the second lock.
        let Some(opts) = &self.scan else {
            return Ok(false);
        };
        let tx = self.tx.clone();
        match effect {
            Effect::Suspend => {}
            Effect::Rescan => {
                self.generation += 1;
                start_scan(opts, self.generation, &tx)?;
                return Ok(true);
            }
            Effect::LoadCode(path) => load_code(path, tx),
            Effect::LookupOwner(uid) => lookup_owner(uid, tx),
            Effect::Run(w) => spawn_work(w, tx, venvs(&opts.roots), self.service.clone()),
            Effect::Plan(job) => {
                std::thread::spawn(move || {
                    let dialog = super::work::finish_clean(&job.model, &job.req);
                    let _ = tx.send(Event::Planned(dialog));
                });
            }
            Effect::JudgeService(round) => {
                if let Some(spec) = self.service.clone() {
                    judge_service(spec, opts.clone(), round, tx);
                }
            }
            Effect::Measure(job) => measure(*job, tx),
            Effect::AnalyzeImports => analyze_imports(opts, tx),
            Effect::CheckAccess(dir) => check_access(dir, tx),
        }
        Ok(false)
    }
}

/// Starts a scan whose events carry `generation`, and reports how its thread ended.
fn start_scan(opts: &ScanOptions, generation: u64, tx: &Sender<Event>) -> eyre::Result<()> {
    let (scan_tx, scan_rx) = mpsc::channel();
    let handle = pycache::scan::walk::spawn(opts.clone(), scan_tx);
    let tx = tx.clone();
    std::thread::Builder::new()
        .name("pycache-scan-forward".into())
        .spawn(move || {
            for ev in scan_rx {
                if tx.send(Event::Scan(generation, ev)).is_err() {
                    // The loop is gone (the user quit); dropping scan_rx stops the scanner.
                    return;
                }
            }
            let why = handle
                .join()
                .err()
                .map(|p| pycache::scan::walk::panic_message(p.as_ref()));
            let _ = tx.send(Event::ScanEnded(generation, why));
        })?;
    Ok(())
}

/// Decodes a cache's code object on a short-lived thread.
fn load_code(path: PathBuf, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let code = decode(&path);
        let _ = tx.send(Event::Code(path, code));
    });
}

/// Reads a `.pyc` and summarises its module code object.
pub fn decode(path: &Path) -> Result<CodeView, String> {
    use pycache::pyc::code::CodeKind;
    let bytes =
        pycache::fsread::read_capped(path, pycache::fsread::PYC_CAP).map_err(|e| e.to_string())?;
    let header = pycache::pyc::header::parse(&bytes).map_err(|e| e.to_string())?;
    let body = bytes.get(header.header_size..).unwrap_or_default();
    let s = pycache::pyc::code::summarize(body, &header.magic).map_err(|e| e.to_string())?;
    let names = |kind| {
        s.children
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.co_name.clone())
            .collect()
    };
    Ok(CodeView {
        filename: s.co_filename.clone(),
        functions: names(CodeKind::Function),
        classes: names(CodeKind::Class),
    })
}

/// Virtualenvs in the scanned roots, where recompile looks for interpreters first.
fn venvs(roots: &[PathBuf]) -> Vec<PathBuf> {
    let dirs = roots
        .iter()
        .flat_map(|r| [r.clone(), r.join(".venv"), r.join("venv")]);
    pycache::actions::interpreters::venvs_under(dirs)
}

/// Runs the import analysis of the first root on a background thread.
fn analyze_imports(opts: &ScanOptions, tx: Sender<Event>) {
    let Some(root) = opts.roots.first().cloned() else {
        return;
    };
    std::thread::spawn(move || {
        let options = pycache::imports::Options {
            root: root.clone(),
            entries: Vec::new(),
            paths: Vec::new(),
            venv: None,
            python: None,
            scope: pycache::imports::Scope::Project,
            lazy_imports: pycache::imports::lazy::Mode::of_process(
                &[],
                std::env::var("PYTHON_LAZY_IMPORTS").ok().as_deref(),
                false,
            )
            .unwrap_or_default(),
        };
        let result = pycache::imports::analyze(&options).map(|graph| {
            graph
                .modules
                .into_iter()
                .map(|m| {
                    // Keyed like the scan model: the scanned root (not canonicalised) + path.
                    let reach = app::Reach {
                        label: m.reachability.describe(),
                        runs: m.reachability.runs(),
                        chain: m.chain,
                    };
                    (root.join(&m.path), reach)
                })
                .collect()
        });
        let _ = tx.send(Event::Reach(result.map_err(|e| e.0)));
    });
}

/// Asks the doctor's access check whether this user can write `DIR/__pycache__`.
fn check_access(dir: PathBuf, tx: Sender<Event>) {
    use pycache::doctor::access::{Sandbox, check_dir};
    use pycache::doctor::identity::Identity;
    std::thread::spawn(move || {
        let me = Identity::current();
        let access = check_dir(&me, &dir.join("__pycache__"), &Sandbox::default());
        let text = if access.writable {
            format!("yes: {} can write its __pycache__", me.name)
        } else {
            let why: Vec<String> = access.blockers.iter().map(|b| b.why.clone()).collect();
            format!(
                "no: {} cannot write its __pycache__ ({})",
                me.name,
                why.join("; ")
            )
        };
        let _ = tx.send(Event::Access(dir, text));
    });
}

fn lookup_owner(uid: u32, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name);
        let _ = tx.send(Event::Owner(uid, name));
    });
}
/// Runs confirmed work on a worker thread, reporting progress and the end on `tx`.
/// The service's next start, judged on its own scan of the project (the UI thread keeps
/// its model): context, interpreter, the modules a start imports, what each one does.
fn judge_service(spec: ServiceSpec, scanned: ScanOptions, round: u64, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let mut scan = |mut o: ScanOptions| {
            o.excludes = scanned.excludes.clone();
            o.one_file_system = scanned.one_file_system;
            pycache::scan::scan(&o)
        };
        let result = pycache::context::service(Some(&spec.root), &spec.options, true, &mut scan)
            .map_err(|e| e.to_string());
        let (svc, model) = match result {
            Ok(judged) => judged,
            Err(e) => {
                let _ = tx.send(Event::Service(Err(e)));
                return;
            }
        };
        // The service's own view first: the first screen does not wait for the others.
        let _ = tx.send(Event::Service(Ok(Box::new(svc.clone()))));
        let others = {
            let access = pycache::context::SystemAccess::of(&svc.context);
            pycache::context::switch::alternatives(&svc, &model, &access)
        };
        let root = svc.root.clone();
        let titled = others
            .into_iter()
            .map(|a| (a.context.title(&root), a))
            .collect();
        let _ = tx.send(Event::Alternatives(round, titled));
        // As the CLI: the process ends before a large model would be freed.
        std::mem::forget(model);
    });
}

/// Measures a context's compile and load times with the doctor's driver (one repetition:
/// the bars rank modules, they are not a benchmark), only with a trusted interpreter.
fn measure(job: app::MeasureJob, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let result = pycache::context::switch::measure_start(&job.context, &job.view, 1);
        let _ = tx.send(Event::Measured(job.title, result));
    });
}

fn spawn_work(work: Work, tx: Sender<Event>, venvs: Vec<PathBuf>, service: Option<ServiceSpec>) {
    std::thread::spawn(move || match work {
        Work::Probe => {
            // Planning only: the tree's own interpreters are described, not run.
            let mut found = actions::Interpreters::discover(&[], &venvs).planning_only(&venvs);
            found.probe_all();
            let _ = tx.send(Event::Work(WorkEvent::Interpreters(Box::new(found))));
        }
        Work::Doctor { root, prefix } => {
            let lines = doctor::run(root, prefix, service.map(|s| s.options));
            let _ = tx.send(Event::Work(WorkEvent::Done {
                title: "doctor".into(),
                lines,
                removed: Vec::new(),
                rescan: false,
            }));
        }
        Work::Execute(plan) => {
            let mut last = Instant::now();
            let mut progress = |p: &actions::ProgressUpdate| {
                // A progress line per step would flood the loop on big plans.
                if p.done == p.total || last.elapsed() >= Duration::from_millis(30) {
                    last = Instant::now();
                    let _ = tx.send(Event::Work(WorkEvent::Progress {
                        done: p.done,
                        total: p.total,
                        latest: pycache::scan::display_path(&p.latest.path),
                    }));
                }
            };
            let report = actions::execute(&plan, &ExecOptions::default(), &mut progress);
            let mut lines = vec![report.summary_line()];
            lines.extend(report.problem_lines());
            let _ = tx.send(Event::Work(WorkEvent::Done {
                title: "report".into(),
                lines,
                removed: report.removed_paths(&plan),
                rescan: !report.written_paths(&plan).is_empty(),
            }));
        }
    });
}
