//! `pycache demo [DIR]`: write the bundled demo project, then open it in the explorer when
//! stdin and stdout are a terminal, or print its scan (`--print`, `--json`, or a pipe).

use super::scan::{print_quietly, scan_with_progress, summary, verdict_word};
use super::{ColorChoice, OUTPUT};
use crate::cli::path_arg::PathArg;
use color_eyre::eyre::Result;
use pycache::pyc::{Location, Status};
use pycache::scan::{ScanModel, ScanOptions, display_path};
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
The demo is a small Flask-style app developed under CPython 3.12, then 3.13: edited and
deleted modules (stale and orphaned caches), a server PYTHONPYCACHEPREFIX tree, a
bytecode-only module and a half-written cache. Its .pyc files are real and its mtimes
fixed, so the verdicts are the same on every machine.

Examples:
  Try the explorer on the demo (a new temporary directory):
    pycache demo
  Write it where you can run Python on it, and print the scan instead:
    pycache demo /tmp/lernmanager --print
  Then ask why its service would recompile on every start:
    pycache doctor /tmp/lernmanager --pycache-prefix /tmp/lernmanager/instance/tmp

Exit status: 0 written (and the explorer quit normally), 2 usage or I/O error (e.g. DIR
holds files that an earlier 'pycache demo' did not write, or belongs to another user).";

const EXPLORER: &str = "Explorer";

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Where to write the project (default: a new temporary directory). A non-empty
    /// directory is refused unless an earlier `pycache demo` wrote it, and so is one that
    /// belongs to another user or that others can write.
    #[arg(value_parser = PathArg)]
    pub dir: Option<PathBuf>,
    /// Print the scan summary instead of opening the explorer (the default without a terminal).
    #[arg(long, help_heading = OUTPUT)]
    pub print: bool,
    /// Print the scan model as JSON instead of opening the explorer.
    #[arg(long, conflicts_with = "print", help_heading = OUTPUT)]
    pub json: bool,
    /// Draw the explorer with ASCII only, for terminals without Unicode line drawing.
    #[arg(long, help_heading = EXPLORER)]
    pub ascii: bool,
    /// Hide the explorer's actions that change files (clean, recompile).
    #[arg(long, help_heading = EXPLORER)]
    pub read_only: bool,
}

/// Runs `demo`.
pub fn run(args: Args, color: ColorChoice) -> Result<ExitCode> {
    let info = match &args.dir {
        Some(dir) => pycache::demo::write(dir)?,
        None => pycache::demo::write_temp()?,
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if terminal && !args.print && !args.json {
        let code = crate::tui::run_explorer(crate::tui::ExplorerOptions {
            root: info.root.clone(),
            prefix: Some(info.prefix.clone()),
            ascii: args.ascii,
            color: color.enabled(true),
            read_only: args.read_only,
            // Opens in the view of the demo's service (its unit file).
            context: Some(pycache::context::service::demo_options(&info)),
            ..Default::default()
        })?;
        // The explorer's screen is gone: say where the project stays, to come back to it.
        print_quietly(&format!(
            "the demo project is in {root}; explore it again with: pycache {root} --pycache-prefix {}\n",
            display_path(&info.prefix),
            root = display_path(&info.root),
        ))?;
        return Ok(code);
    }
    let opts = ScanOptions::new(vec![info.root.clone()]).with_prefix(Some(info.prefix.clone()));
    let model = scan_with_progress(opts)?;
    if args.json {
        let origin = pycache::scan::json::Origin::here_and_now();
        super::scan::write_quietly(|out| model.write_snapshot(out, &origin, false))?;
        return Ok(ExitCode::SUCCESS);
    }
    let root = display_path(&info.root);
    let prefix = display_path(&info.prefix);
    let mut text = format!(
        "wrote the demo project to {root} ({} files and its {} marker)\n\
         its PYTHONPYCACHEPREFIX tree is {prefix}\n\
         explore it with: pycache {root} --pycache-prefix {prefix}\n\
         scan it again with: pycache scan {root} --pycache-prefix {prefix}\n\
         judge it as its service starts it: pycache scan {root} --unit {root}/{unit}\n\n",
        info.files,
        pycache::demo::MARKER,
        unit = pycache::demo::UNIT_FILE,
    );
    let color = super::color_enabled(false);
    text.push_str(&summary(&model, color));
    text.push_str(&story(&model, color));
    print_quietly(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Which modules have caches of each verdict, with their tags: the demo's story in brief.
fn story(model: &ScanModel, color: bool) -> String {
    let mut by_status: BTreeMap<Status, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for c in model.caches.iter().filter(|c| c.status != Status::Fresh) {
        let tag = c.tag.clone().unwrap_or_else(|| "?".into());
        let label = match c.location {
            Location::Prefix => format!("{tag} in the prefix"),
            Location::Legacy => format!("{tag} legacy"),
            Location::Pycache => tag,
        };
        by_status
            .entry(c.status)
            .or_default()
            .entry(c.module.as_str())
            .or_default()
            .insert(label);
    }
    if by_status.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nmodules with caches that are not fresh\n");
    for (status, modules) in by_status {
        let list: Vec<String> = modules
            .into_iter()
            .map(|(m, tags)| format!("{m} ({})", tags.into_iter().collect::<Vec<_>>().join(", ")))
            .collect();
        s.push_str(&format!(
            "  {}{}\n",
            verdict_word(status, 12, color),
            list.join(", ")
        ));
    }
    s
}
