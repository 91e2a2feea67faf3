//! The full-screen explorer (`pycache [PATH]`): a module tree, the details of the
//! selection, and the actions on it, over the shared scan model. `pycache --from FILE`
//! opens a saved `scan --json` instead: no scanner, and no effect that reads or changes
//! this machine (the app drops them, and the loop would not run them).
//!
//! Threads: the scanner sends events; an input thread reads keys; a signal thread turns
//! SIGTERM/SIGHUP into events; workers run confirmed actions and load details. All of them
//! post to one channel, and only the UI thread (this loop) owns and changes the [`App`].
//!
//! - [`app`]: state and transitions (`App::handle`), tested without a terminal.
//! - [`keymap`]: the key table behind key handling, help and hints.
//! - [`tree`]: the module tree per view, with aggregates.
//! - [`panes`]: one file per pane; [`ui`] places them.
//! - [`event`], [`terminal`], [`work`]: the loop's inputs, the terminal, and actions.

pub mod app;
pub mod event;
pub mod keymap;
pub mod panes;
pub mod terminal;
pub mod theme;
pub mod tree;
pub mod ui;
pub mod work;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod snapshots;

use crate::cli::path_arg::PathArg;
use app::{App, CodeView, Effect, Options};
use color_eyre::eyre::{Result, bail, eyre};
use event::Event;
use pycache::scan::{ScanEvent, ScanModel, ScanOptions};
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

/// What to explore and how to draw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplorerOptions {
    /// The directory to scan.
    pub root: PathBuf,
    /// A `PYTHONPYCACHEPREFIX` tree to scan too (the environment's when None).
    pub prefix: Option<PathBuf>,
    /// Draw with ASCII instead of Unicode line drawing.
    pub ascii: bool,
    /// Use colours (already resolved against NO_COLOR and `--color`).
    pub color: bool,
    /// Hide every action that changes files.
    pub read_only: bool,
}

/// Help heading of the explorer's options.
const EXPLORER: &str = "Explorer";

/// `pycache [PATH]`: the explorer's command-line arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Directory to explore [default: the current directory]
    #[arg(value_parser = PathArg, value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Open a saved 'pycache scan --json' instead of scanning (gzip and zstd too; '-' reads
    /// stdin): read-only, nothing is read from this machine (no rescan, code, owners or
    /// import analysis)
    #[arg(
        value_parser = PathArg,
        long,
        value_name = "FILE",
        conflicts_with_all = ["path", "pycache_prefix"],
        help_heading = EXPLORER
    )]
    pub from: Option<PathBuf>,
    /// Draw with ASCII only, for terminals without Unicode line drawing
    #[arg(long, help_heading = EXPLORER)]
    pub ascii: bool,
    /// Hide every action that changes files (clean, recompile)
    #[arg(long, help_heading = EXPLORER)]
    pub read_only: bool,
    /// Also scan this PYTHONPYCACHEPREFIX tree [default: $PYTHONPYCACHEPREFIX]
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = EXPLORER)]
    pub pycache_prefix: Option<PathBuf>,
}

impl Args {
    /// The first explorer argument given, as written (to refuse it beside a subcommand).
    pub fn given(&self) -> Option<&'static str> {
        [
            (self.path.is_some(), "PATH"),
            (self.from.is_some(), "--from"),
            (self.ascii, "--ascii"),
            (self.read_only, "--read-only"),
            (self.pycache_prefix.is_some(), "--pycache-prefix"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }
}

/// Runs the explorer from its arguments; `color` is already resolved (`--color`, NO_COLOR).
pub fn run(args: Args, color: bool) -> Result<ExitCode> {
    let theme = theme::Theme {
        color,
        ascii: args.ascii,
    };
    if let Some(file) = &args.from {
        // Read before asking for a terminal, so a bad file is one line in any context.
        let model = load_snapshot(file)?;
        let opts = Options {
            theme,
            read_only: true,
        };
        // A snapshot piped in on stdin leaves the keys to the terminal (crossterm reads
        // /dev/tty when stdin is not one).
        let from_stdin = file.as_os_str() == "-";
        need_terminal_for(&format!("jq .summary {}", file.display()), from_stdin)?;
        let app = App::from_snapshot(model, opts, file.display().to_string());
        return explore(app, None);
    }
    run_explorer(ExplorerOptions {
        root: args.path.unwrap_or_else(|| PathBuf::from(".")),
        prefix: args.pycache_prefix,
        ascii: args.ascii,
        color,
        read_only: args.read_only,
    })
}

/// Reads a `scan --json` document (plain, gzip or zstd; `-` is stdin); the error is one
/// line naming the file.
pub fn load_snapshot(file: &Path) -> Result<ScanModel> {
    pycache::scan::snapshot::open(file)
        .map_err(|e| eyre!("cannot open snapshot {}: {e}", file.display()))
}

/// Opens the explorer on a directory and runs until the user quits.
/// `pycache [PATH]` and `pycache demo` both end here.
pub fn run_explorer(opts: ExplorerOptions) -> Result<ExitCode> {
    need_terminal(&format!("pycache scan {}", opts.root.display()))?;
    if !opts.root.is_dir() {
        bail!(
            "cannot explore {}: not a directory (give a project directory, e.g. 'pycache /srv/app')",
            opts.root.display()
        );
    }
    let scan_opts = ScanOptions::new(vec![opts.root.clone()]).with_prefix(opts.prefix.clone());
    let model = ScanModel::new(scan_opts.roots.clone(), scan_opts.prefix.clone());
    let app = App::new(
        model,
        Options {
            theme: theme::Theme {
                color: opts.color,
                ascii: opts.ascii,
            },
            read_only: opts.read_only,
        },
    );
    explore(app, Some(scan_opts))
}

/// Refuses to start without a terminal, naming a command that gives text instead.
fn need_terminal(instead: &str) -> Result<()> {
    need_terminal_for(instead, false)
}

/// [`need_terminal`], where keys may come from the controlling terminal rather than stdin.
fn need_terminal_for(instead: &str, keys_from_tty: bool) -> Result<()> {
    let keys = if keys_from_tty {
        std::fs::File::open("/dev/tty").is_ok()
    } else {
        std::io::stdin().is_terminal()
    };
    if !std::io::stdout().is_terminal() || !keys {
        bail!("the explorer needs a terminal; for text output run '{instead}'");
    }
    Ok(())
}

/// Runs the explorer over `app`: scanning `scan` first, or over a loaded snapshot (None),
/// for which nothing is scanned and no effect that reads this machine is run.
fn explore(mut app: App, scan: Option<ScanOptions>) -> Result<ExitCode> {
    let (tx, rx) = mpsc::channel();
    let (mut term, guard) = terminal::enter()?;
    let signals = event::spawn_signals(tx.clone())?;
    event::spawn_input(tx.clone())?;
    let result = event_loop(&mut term, &mut app, &tx, &rx, scan.as_ref());
    signals.close();
    drop(guard);
    // The process ends now: freeing a large model (and queued scan output) record by
    // record only delays the exit, as in the CLI.
    std::mem::forget(app);
    std::mem::forget(rx);
    result
}

/// Scan output is applied for at most this long before the screen is drawn again, so a
/// frame follows at least every ~100 ms during a large scan and keys are not kept waiting.
const SCAN_BUDGET: Duration = Duration::from_millis(40);

/// Most caches merged into one model update. Within it, the merge is sized so one update
/// fits what is left of the budget, by the time updates took per cache so far: the
/// per-update work (the tree's refresh) is paid rarely, and one update never holds a frame.
const MERGE_CACHES: usize = 8192;

/// Scan output received but not yet applied, in order, with its generation.
#[derive(Default)]
struct PendingScan {
    events: VecDeque<(u64, ScanEvent)>,
    /// The scanner thread of the current generation ended (cleanly) after these events.
    ended: bool,
    /// Seconds one cache took to apply, smoothed over the updates so far.
    secs_per_cache: f64,
}

impl PendingScan {
    /// Applies queued events of `generation` until `budget` is spent, merging consecutive
    /// batches; returns true when something was applied.
    fn apply(&mut self, app: &mut App, generation: u64, budget: Duration) -> bool {
        let start = Instant::now();
        let mut applied = false;
        while start.elapsed() < budget {
            let Some((g, ev)) = self.events.pop_front() else {
                break;
            };
            if g != generation {
                continue;
            }
            applied = true;
            let ScanEvent::Batch(mut batch) = ev else {
                app.on_scan(ev);
                continue;
            };
            let left = budget.saturating_sub(start.elapsed()).as_secs_f64();
            // Before the first update, a guess: 50 µs a cache.
            let per = if self.secs_per_cache > 0.0 {
                self.secs_per_cache
            } else {
                5e-5
            };
            let fits = (left / per) as usize;
            while batch.caches.len() < fits.clamp(64, MERGE_CACHES)
                && let Some((g2, ScanEvent::Batch(_))) = self.events.front()
                && *g2 == generation
            {
                if let Some((_, ScanEvent::Batch(next))) = self.events.pop_front() {
                    let next = *next;
                    batch.sources.extend(next.sources);
                    batch.caches.extend(next.caches);
                    batch.errors.extend(next.errors);
                    batch.dirs_seen += next.dirs_seen;
                    batch.files_seen += next.files_seen;
                }
            }
            let n = batch.caches.len();
            let t = Instant::now();
            app.on_scan(ScanEvent::Batch(batch));
            if n > 0 {
                let per = t.elapsed().as_secs_f64() / n as f64;
                self.secs_per_cache = if self.secs_per_cache == 0.0 {
                    per
                } else {
                    (self.secs_per_cache + per) / 2.0
                };
            }
        }
        applied
    }
}

/// The event loop: draw, wait for an event, drain the rest, act, draw again.
fn event_loop(
    term: &mut terminal::Term,
    app: &mut App,
    tx: &Sender<Event>,
    rx: &Receiver<Event>,
    scan: Option<&ScanOptions>,
) -> Result<ExitCode> {
    let size = term.size()?;
    app.resize(size.width, size.height);
    let mut generation = 1;
    if let Some(opts) = scan {
        start_scan(opts, generation, tx)?;
    }
    term.draw(|f| ui::draw(app, f))?;
    // The loop drains the channel (cheap: scan output is only queued), answers keys, then
    // applies scan output for a time budget and draws: workers that outpace the model
    // never keep the screen or a key waiting.
    let mut pending = PendingScan::default();
    loop {
        let first = if pending.events.is_empty() {
            Some(rx.recv().map_err(|_| eyre!("every event source stopped"))?)
        } else {
            None
        };
        let mut redraw = false;
        let mut exit = None;
        for ev in first.into_iter().chain(rx.try_iter()) {
            match ev {
                Event::Key(k) => {
                    if let Some(action) = keymap::action_for(&k, &app.contexts()) {
                        app.handle(action);
                    }
                    redraw = true;
                }
                Event::Resize(w, h) => {
                    app.resize(w, h);
                    redraw = true;
                }
                Event::Tick => redraw |= app.on_tick(),
                Event::Scan(g, ev) if g == generation => pending.events.push_back((g, ev)),
                Event::Scan(..) => {}
                Event::ScanEnded(g, why) if g == generation => {
                    if let Some(why) = why {
                        bail!("the scanner crashed: {why}");
                    }
                    pending.ended = true;
                }
                Event::ScanEnded(..) => {}
                Event::Work(w) => {
                    app.on_work(w);
                    redraw = true;
                }
                Event::Code(path, code) => {
                    app.code.insert(path, code);
                    redraw = true;
                }
                Event::Reach(Ok(reach)) => {
                    app.reach = reach.into_iter().collect();
                    redraw = true;
                }
                Event::Reach(Err(e)) => {
                    app.message = Some(format!("import analysis failed: {e}"));
                    redraw = true;
                }
                Event::Access(dir, text) => {
                    app.access.insert(dir, text);
                    redraw = true;
                }
                Event::Owner(uid, name) => {
                    app.owners.insert(uid, name);
                    redraw = true;
                }
                Event::Signal(sig) => exit = Some(ExitCode::from((128 + sig).clamp(0, 255) as u8)),
                Event::InputError(e) => bail!("cannot read the terminal: {e}"),
            }
        }
        redraw |= pending.apply(app, generation, SCAN_BUDGET);
        if pending.ended && pending.events.is_empty() {
            pending.ended = false;
            if !app.model.progress.finished {
                bail!("the scanner stopped before the end of the scan");
            }
        }
        for effect in app.take_effects() {
            if effect == Effect::Suspend {
                terminal::suspend(term)?;
                redraw = true;
                continue;
            }
            // Over a snapshot the app queues nothing else; this is the second lock.
            let Some(scan_opts) = scan else {
                continue;
            };
            match effect {
                Effect::Suspend => {}
                Effect::Rescan => {
                    generation += 1;
                    pending = PendingScan::default();
                    start_scan(scan_opts, generation, tx)?;
                }
                Effect::LoadCode(path) => load_code(path, tx.clone()),
                Effect::LookupOwner(uid) => lookup_owner(uid, tx.clone()),
                Effect::Run(w) => work::spawn(w, tx.clone(), venvs(&app.model)),
                Effect::AnalyzeImports => analyze_imports(scan_opts, tx.clone()),
                Effect::CheckAccess(dir) => check_access(dir, tx.clone()),
            }
        }
        if let Some(code) = exit {
            return Ok(code);
        }
        if app.quit {
            return Ok(ExitCode::SUCCESS);
        }
        if !terminal::is_active() {
            // A panic on another thread restored the terminal; its report follows.
            bail!("stopped after a crash in a background thread");
        }
        if redraw {
            term.draw(|f| ui::draw(app, f))?;
        }
    }
}

/// Starts a scan whose events carry `generation`, and reports how its thread ended.
fn start_scan(opts: &ScanOptions, generation: u64, tx: &Sender<Event>) -> Result<()> {
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
fn venvs(model: &ScanModel) -> Vec<PathBuf> {
    let dirs = model
        .roots
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
