//! Command-line interface: clap definitions and dispatch to one file per subcommand.
//!
//! Exit codes: 0 all fine, 1 findings or failed steps, 2 usage or I/O error.

mod clean;
mod completions;
mod doctor;
mod imports;
mod inspect;
mod recompile;
mod demo;
mod scan;
mod wrap;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Explains and repairs Python bytecode caches.
#[derive(Debug, Parser)]
#[command(
    name = "pycache",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// When to use colour: auto (a terminal, NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The explorer's arguments, used when no subcommand is given.
    #[command(flatten)]
    pub explore: crate::tui::Args,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Resolves `auto` against a stream and the NO_COLOR convention.
    pub fn enabled(self, stream_is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode .pyc files: header, version, verdict against the source, code summary.
    Inspect(inspect::Args),
    /// Find every bytecode cache under directories and give CPython's verdict on each.
    Scan(scan::Args),
    /// Write the bundled demo project (two Python versions, stale, orphaned, prefix caches) and scan it.
    Demo(demo::Args),
    /// Which project modules the entry points really import, and which lack caches.
    Imports(imports::Args),
    /// Why a service has no usable caches, what that costs per start, and the fix.
    Doctor(doctor::Args),
    /// Remove stale, orphaned, shadowed and invalid caches: shows the plan, then asks.
    Clean(clean::Args),
    /// Compile missing and stale caches with the real interpreters: shows the plan, then asks.
    Recompile(recompile::Args),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
}

/// The exit-code contract, shown in `--help` and the README.
const EXIT_CODES: &str =
    "Exit status: 0 all fine, 1 findings (problems found or steps failed), 2 usage or I/O error.";

/// Parses the command line; `--version` also lists the Python versions pycache can read.
fn parse_args() -> Cli {
    let cpython: Vec<String> = pycache::pyc::magic::known_versions()
        .iter()
        .map(ToString::to_string)
        .collect();
    let version = format!(
        "{}\nreads .pyc files of CPython 3.15 (development), {}; PyPy 3.11 to 2.7",
        env!("CARGO_PKG_VERSION"),
        cpython.join(", ")
    );
    let matches = Cli::command().version(version).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Parses arguments, runs, and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = parse_args();
    install_error_hook(cli.color);
    let result = match cli.command {
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Scan(args)) => scan::run(args),
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::Imports(args)) => imports::run(args),
        Some(Command::Doctor(args)) => doctor::run(args),
        Some(Command::Clean(args)) => clean::run(args),
        Some(Command::Recompile(args)) => recompile::run(args),
        Some(Command::Completions(args)) => completions::completions(args),
        Some(Command::Man) => completions::man(),
        None => crate::tui::run(
            cli.explore,
            cli.color.enabled(std::io::stdout().is_terminal()),
        ),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            report_error(&err);
            ExitCode::from(2)
        }
    }
}

/// color-eyre reports panics; user errors are printed by `report_error` as one line,
/// so `RUST_BACKTRACE` never turns a user error into a backtrace.
fn install_error_hook(color: ColorChoice) {
    let theme = if color.enabled(std::io::stderr().is_terminal()) {
        color_eyre::config::Theme::dark()
    } else {
        color_eyre::config::Theme::new()
    };
    // A second install (tests calling main twice) is harmless; ignore the error.
    let _ = color_eyre::config::HookBuilder::default()
        .theme(theme)
        .display_env_section(false)
        .install();
}

/// Prints `error: what went wrong: cause` on one line.
pub fn report_error(err: &color_eyre::eyre::Report) {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        line.push_str(": ");
        line.push_str(&cause.to_string());
    }
    eprintln!("error: {line}");
}
