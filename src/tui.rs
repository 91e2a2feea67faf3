//! The full-screen explorer (`pycache [PATH]`): a module tree, the details of the
//! selection, and the actions on it, over the shared scan model. `pycache --from FILE`
//! opens a saved `scan --json` instead: no scanner, and no effect that reads or changes
//! this machine (the app drops them, and the loop would not run them).
//!
//! Threads: the scanner sends events; an input thread reads keys; a signal thread turns
//! SIGTERM/SIGHUP into events; effects (code, owners, access, imports, the service's next
//! start, confirmed work) run on their own threads. All of them post to one channel; this
//! loop receives, queues scan output ([`drain`]), calls [`App::update`] and runs the
//! effects it returns ([`effects`]), then draws. Only the UI thread changes the [`App`].
//!
//! - [`app`]: state and transitions (`App::update`, `App::handle`), with its [`app::Mode`]
//!   deciding the keys; tested without a terminal (`app/tests.rs`, `app/journeys.rs`).
//! - [`keymap`]: the key table behind key handling, help and hints.
//! - [`tree`]: the module tree per view, with aggregates, placements and the search for
//!   the next problem.
//! - [`panes`]: one file per pane; [`ui`] places them.
//! - [`event`], [`terminal`], [`work`]: the loop's inputs, the terminal, and the plans,
//!   dialogs and reports of actions.

pub mod app;
mod drain;
pub mod effects;
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
use app::{App, Effect, Options};
use color_eyre::eyre::{Result, bail, eyre};
use event::Event;
use pycache::scan::{ScanModel, ScanOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};

/// What to explore and how to draw it.
#[derive(Debug, Clone, Default)]
pub struct ExplorerOptions {
    /// The service whose next start the explorer shows (`--unit`, `--python`, `--user`...;
    /// the demo's unit): None is the intrinsic view, each cache judged on its own.
    pub context: Option<pycache::context::ContextOptions>,
    /// The directory to scan.
    pub root: PathBuf,
    /// More directories to scan beside `root` (`pycache A B`).
    pub more_roots: Vec<PathBuf>,
    /// Globs of names or paths to skip (`--exclude`), as in `scan`.
    pub excludes: Vec<String>,
    /// Stay on the filesystem of each root (`--one-file-system`).
    pub one_file_system: bool,
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
    /// Directories to explore [default: the current directory]
    #[arg(value_parser = PathArg, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Open a saved 'pycache scan --json' instead of scanning (gzip and zstd too; '-' reads
    /// stdin): read-only, nothing is read from this machine (no rescan, code, owners or
    /// import analysis)
    #[arg(
        value_parser = PathArg,
        long,
        value_name = "FILE",
        conflicts_with_all = ["paths", "pycache_prefix", "exclude", "one_file_system", "unit", "pid", "user", "python", "venv"],
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
    /// Skip files and directories matching this glob (name or path below the root), as
    /// in 'pycache scan'; repeatable
    #[arg(long, value_name = "GLOB", help_heading = EXPLORER)]
    pub exclude: Vec<String>,
    /// Do not descend into other filesystems, as in 'pycache scan'
    #[arg(long, help_heading = EXPLORER)]
    pub one_file_system: bool,
    /// Who runs the service: the explorer opens in its view (what its next start does
    /// with each module).
    #[command(flatten)]
    pub context: crate::cli::context_args::ContextArgs,
}

impl Args {
    /// The first explorer argument given, as written (to refuse it beside a subcommand).
    pub fn given(&self) -> Option<&'static str> {
        [
            (!self.paths.is_empty(), "PATH"),
            (self.from.is_some(), "--from"),
            (self.ascii, "--ascii"),
            (self.read_only, "--read-only"),
            (self.pycache_prefix.is_some(), "--pycache-prefix"),
            (!self.exclude.is_empty(), "--exclude"),
            (self.one_file_system, "--one-file-system"),
            (self.context.given(), "--unit/--python/--user"),
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
        return explore(app, None, None);
    }
    let context = args
        .context
        .given()
        .then(|| args.context.options(args.pycache_prefix.clone(), None));
    let mut paths = args.paths.into_iter();
    let context_given = context.is_some();
    run_explorer(ExplorerOptions {
        context,
        // With a context and no PATH, the unit's working directory (empty: not given).
        root: paths.next().unwrap_or_else(|| {
            if context_given {
                PathBuf::new()
            } else {
                PathBuf::from(".")
            }
        }),
        more_roots: paths.collect(),
        excludes: args.exclude,
        one_file_system: args.one_file_system,
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
    // In a service's view without PATH, the project is the unit's working directory.
    let roots: Vec<PathBuf> = std::iter::once(opts.root.clone())
        .chain(opts.more_roots.iter().cloned())
        .filter(|r| !r.as_os_str().is_empty())
        .collect();
    let shown: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    need_terminal(&format!("pycache scan {}", shown.join(" ")))?;
    // Refused as 'scan' refuses them, before the screen is taken.
    for root in &roots {
        if !root.is_dir() {
            bail!(
                "cannot explore {}: not a directory (give a project directory, e.g. 'pycache /srv/app')",
                root.display()
            );
        }
    }
    if let Some(p) = &opts.prefix {
        crate::cli::scan::check_dir(p, "use as --pycache-prefix")?;
    }
    for pattern in &opts.excludes {
        if let Err(e) = globset::Glob::new(pattern) {
            bail!("invalid --exclude pattern {pattern:?}: {e} (see 'pycache --help')");
        }
    }
    let (mut scan_opts, service) = match &opts.context {
        None if roots.is_empty() => bail!("nothing to explore: give a directory"),
        None => (
            ScanOptions::new(roots).with_prefix(opts.prefix.clone()),
            None,
        ),
        Some(c) => service_scan(c, &roots)?,
    };
    scan_opts.excludes = opts.excludes.clone();
    scan_opts.one_file_system = opts.one_file_system;
    let model = ScanModel::new(scan_opts.roots.clone(), scan_opts.prefix.clone());
    let mut app = App::new(
        model,
        Options {
            theme: theme::Theme {
                color: opts.color,
                ascii: opts.ascii,
            },
            read_only: opts.read_only,
        },
    );
    if let Some((title, _)) = &service {
        app.expect_service(title.clone());
    }
    explore(app, Some(scan_opts), service.map(|(_, spec)| spec))
}

/// The scan a service's view needs (its project, its prefix) and what judging it takes;
/// the context is resolved now so that a bad unit or user is one line before the screen.
fn service_scan(
    c: &pycache::context::ContextOptions,
    roots: &[PathBuf],
) -> Result<(ScanOptions, Option<(String, effects::ServiceSpec)>)> {
    if roots.len() > 1 {
        bail!(
            "a service context judges one project: give one PATH (got {}), or drop --unit/--python/--user",
            roots.len()
        );
    }
    let mut ctx = pycache::context::resolve(c).map_err(|e| eyre!(e))?;
    let root = pycache::context::settle(&mut ctx, roots.first().map(PathBuf::as_path))
        .map_err(|e| eyre!(e))?;
    let opts = pycache::context::scan_options(&ctx, vec![root.clone()], true);
    // The interpreter is chosen once the tree is scanned; until then the title says who.
    let title = format!("as {}", ctx.identity.name);
    let spec = effects::ServiceSpec {
        root,
        options: c.clone(),
    };
    Ok((opts, Some((title, spec))))
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
fn explore(
    mut app: App,
    scan: Option<ScanOptions>,
    service: Option<effects::ServiceSpec>,
) -> Result<ExitCode> {
    let (tx, rx) = mpsc::channel();
    let (mut term, guard) = terminal::enter()?;
    let signals = event::spawn_signals(tx.clone())?;
    event::spawn_input(tx.clone())?;
    let result = event_loop(&mut term, &mut app, &tx, &rx, scan.as_ref(), service);
    signals.close();
    drop(guard);
    if !app.exit_lines().is_empty() {
        // The doctor's fixes, one unbroken line each, to copy into a shell.
        let text: String = app
            .exit_lines()
            .iter()
            .map(|l| format!("{}\n", pycache::text::terminal_safe_lines(l)))
            .collect();
        print!("the doctor's fixes, from the explorer:\n{text}");
    }
    // The process ends now: freeing a large model (and queued scan output) record by
    // record only delays the exit, as in the CLI.
    std::mem::forget(app);
    std::mem::forget(rx);
    result
}

/// The event loop: receive, drain, let the app update, run its effects, draw. Scan output
/// is only queued while draining and applied within a time budget per frame, so workers
/// that outpace the model never keep the screen or a key waiting.
fn event_loop(
    term: &mut terminal::Term,
    app: &mut App,
    tx: &Sender<Event>,
    rx: &Receiver<Event>,
    scan: Option<&ScanOptions>,
    service: Option<effects::ServiceSpec>,
) -> Result<ExitCode> {
    let size = term.size()?;
    app.resize(size.width, size.height);
    let mut runner = effects::Runner::new(tx.clone(), scan.cloned(), service);
    runner.start()?;
    terminal::draw_frame(term, |f| ui::draw(app, f))?;
    let mut pending = drain::PendingScan::default();
    loop {
        // Wait for an event only when nothing is left to do between frames.
        let first = if (pending.events.is_empty() || app.planning()) && app.regrouping().is_none() {
            Some(rx.recv().map_err(|_| eyre!("every event source stopped"))?)
        } else {
            None
        };
        let mut redraw = false;
        let mut exit = None;
        let mut effects = Vec::new();
        for ev in first.into_iter().chain(rx.try_iter()) {
            match ev {
                Event::Scan(g, ev) if g == runner.generation => pending.events.push_back((g, ev)),
                Event::Scan(..) => {}
                Event::ScanEnded(g, why) if g == runner.generation => {
                    if let Some(why) = why {
                        bail!("the scanner crashed: {why}");
                    }
                    pending.ended = true;
                }
                Event::ScanEnded(..) => {}
                Event::Signal(sig) => exit = Some(ExitCode::from((128 + sig).clamp(0, 255) as u8)),
                Event::InputError(e) => bail!("cannot read the terminal: {e}"),
                other => {
                    let (asked, changed) = app.update(other);
                    effects.extend(asked);
                    redraw |= changed;
                }
            }
        }
        if !app.planning() {
            redraw |= pending.apply(app, runner.generation, drain::SCAN_BUDGET, &mut effects);
        }
        redraw |= app.step_background(drain::SCAN_BUDGET);
        if pending.ended && pending.events.is_empty() && !app.planning() {
            pending.ended = false;
            if !app.model.progress.finished {
                bail!("the scanner stopped before the end of the scan");
            }
        }
        for effect in effects {
            if effect == Effect::Suspend {
                terminal::suspend(term)?;
                redraw = true;
            } else if runner.run(effect)? {
                pending = drain::PendingScan::default();
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
            terminal::draw_frame(term, |f| ui::draw(app, f))?;
        }
    }
}
