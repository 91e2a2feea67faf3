//! Command-line interface: clap definitions and dispatch to one file per subcommand.
//!
//! Exit codes: 0 all fine, 1 findings or failed steps, 2 usage or I/O error.
//! Colour: `--color auto|always|never` (auto: a terminal and NO_COLOR unset) is resolved
//! once, before clap draws any help, and read by every subcommand through [`paint`].

mod clean;
mod completions;
pub mod context_args;
mod demo;
mod doctor;
mod imports;
mod inspect;
mod metrics;
pub mod path_arg;
mod recompile;
pub(crate) mod scan;
mod scan_context;
mod scan_from;
mod wrap;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::OnceLock;

/// Help heading of the options that change how output looks.
pub const OUTPUT: &str = "Output";

/// Explains and repairs Python bytecode caches.
#[derive(Debug, Parser)]
#[command(
    name = "pycache",
    version,
    about,
    override_usage = "pycache [OPTIONS] [PATH]\n       pycache [--color WHEN] <COMMAND> [ARGS]",
    subcommand_precedence_over_arg = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto,
        hide_possible_values = true,
        help_heading = OUTPUT
    )]
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

    fn for_clap(self) -> clap::ColorChoice {
        match self {
            // clap's auto also checks the terminal and NO_COLOR.
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
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
    /// Write the bundled demo project and open it in the explorer (or print its scan).
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
    #[command(after_help = completions::MAN_AFTER_HELP)]
    Man,
}

const AFTER_HELP: &str = "\
Without a subcommand, pycache opens the explorer on PATH: a module tree, the details of the
selection and the actions on it (? lists the keys, q quits).

Examples:
  Explore a project's caches while they are scanned:
    pycache /srv/app
  Review a scan made on another machine, read-only (nothing is read from this disk):
    pycache scan /srv/app --json > app-scan.json
    pycache --from app-scan.json
  Why does my service recompile on every start?
    pycache doctor --unit myapp
  Remove the caches of the old interpreter:
    pycache clean --tag cpython-311 --all /srv/app
  Inspect one file:
    pycache inspect /srv/app/__pycache__/models.cpython-313.pyc

Exit status: 0 all fine (the explorer: quit normally), 1 findings (problems found or steps
failed), 2 usage or I/O error. `pycache help COMMAND` shows each subcommand's examples.";

/// The colour choice of this run, resolved once from `--color` (see [`paint`]).
static COLOR: OnceLock<ColorChoice> = OnceLock::new();

/// True when output to stdout (`stderr` false) or stderr (`stderr` true) may be coloured.
pub fn color_enabled(stderr: bool) -> bool {
    let choice = COLOR.get().copied().unwrap_or(ColorChoice::Auto);
    if stderr {
        choice.enabled(std::io::stderr().is_terminal())
    } else {
        choice.enabled(std::io::stdout().is_terminal())
    }
}

/// `text` in an SGR style (`"1;31"` bold red) when `on`, else as it is.
pub fn paint(on: bool, sgr: &str, text: &str) -> String {
    if on {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The `error:` prefix of one-line error messages, bold red when stderr may be coloured.
pub fn error_prefix() -> String {
    format!("{}:", paint(color_enabled(true), "1;31", "error"))
}

/// `--color` as written on the command line, read before clap runs so that clap's own
/// help and usage errors follow it too. The last occurrence wins, as clap's would.
fn color_from_args(args: &[OsString]) -> ColorChoice {
    let mut choice = ColorChoice::Auto;
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        let value = if arg == "--color" {
            iter.next().and_then(|v| v.to_str())
        } else {
            arg.to_str().and_then(|a| a.strip_prefix("--color="))
        };
        match value {
            Some("always") => choice = ColorChoice::Always,
            Some("never") => choice = ColorChoice::Never,
            Some("auto") => choice = ColorChoice::Auto,
            _ => {}
        }
    }
    choice
}

/// Parses the command line; `--version` also lists the Python versions pycache can read.
fn parse_args() -> Cli {
    let cpython: Vec<String> = pycache::pyc::magic::known_versions()
        .iter()
        .map(ToString::to_string)
        .collect();
    let version = format!(
        "{}\nreads .pyc files of CPython {}; PyPy 3.11 to 2.7",
        env!("CARGO_PKG_VERSION"),
        cpython.join(", ")
    );
    let args: Vec<OsString> = std::env::args_os().collect();
    let color = color_from_args(&args);
    let _ = COLOR.set(color);
    let mut command = Cli::command().version(version).color(color.for_clap());
    let matches = command
        .try_get_matches_from_mut(args)
        .unwrap_or_else(|e| e.exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(name) = matches.subcommand_name()
        && let Some(arg) = cli.explore.given()
    {
        // `--color` may go anywhere; the explorer's own arguments only without a subcommand.
        command
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{arg} is an argument of the explorer and cannot come before '{name}'; \
                     write '{name}' first, then its arguments (see 'pycache {name} --help')"
                ),
            )
            .exit();
    }
    cli
}

/// Parses arguments, runs, and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = parse_args();
    install_error_hook(cli.color);
    let result = match cli.command {
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Scan(args)) => scan::run(args),
        Some(Command::Demo(args)) => demo::run(args, cli.color),
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

/// color-eyre reports panics, in colour only when stderr may be coloured (its default
/// colours pipes and ignores NO_COLOR). Only its panic hook is installed: user errors are
/// printed as one line by `report_error`, so capturing and resolving a backtrace for each
/// of them (color-eyre's error hook, ~200 ms with `RUST_BACKTRACE=1`) would be pure cost.
fn install_error_hook(color: ColorChoice) {
    let theme = if color.enabled(std::io::stderr().is_terminal()) {
        color_eyre::config::Theme::dark()
    } else {
        color_eyre::config::Theme::new()
    };
    let hooks = color_eyre::config::HookBuilder::default()
        .theme(theme)
        .display_env_section(false)
        .try_into_hooks();
    // A second install (tests calling main twice) fails; the first one stays, harmless.
    if let Ok((panic_hook, _)) = hooks {
        panic_hook.install();
    }
    let _ = color_eyre::eyre::set_hook(Box::new(|_| Box::new(OneLineHandler)));
}

/// The eyre handler of user errors: it captures nothing (no backtrace, no span trace) and
/// prints the error and its causes, joined by `: ` as `report_error` does.
struct OneLineHandler;

impl color_eyre::eyre::EyreHandler for OneLineHandler {
    fn debug(
        &self,
        error: &(dyn std::error::Error + 'static),
        f: &mut std::fmt::Formatter<'_>,
    ) -> std::fmt::Result {
        write!(f, "{error}")?;
        let mut cause = error.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

/// Prints `error: what went wrong: cause` on one line, control characters escaped.
pub fn report_error(err: &color_eyre::eyre::Report) {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        line.push_str(": ");
        line.push_str(&cause.to_string());
    }
    eprintln!("{} {}", error_prefix(), pycache::text::terminal_safe(&line));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn color_is_read_before_clap_in_both_spellings_and_the_last_wins() {
        assert_eq!(color_from_args(&args(&["p", "scan"])), ColorChoice::Auto);
        assert_eq!(
            color_from_args(&args(&["p", "--color", "never", "--help"])),
            ColorChoice::Never
        );
        assert_eq!(
            color_from_args(&args(&["p", "scan", "--color=always", "--color=never"])),
            ColorChoice::Never
        );
        assert_eq!(
            color_from_args(&args(&["p", "--", "--color=always"])),
            ColorChoice::Auto
        );
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Runs this test binary as a child under a hard limit (killed after it), so a hook
    /// that hangs fails the test instead of hanging it. Its whole output is kept (a panic
    /// report with a backtrace is longer than `child::run`'s stderr tail).
    fn child(cmd: &mut std::process::Command) -> std::process::Output {
        use std::process::Stdio;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("the child test did not finish within 60 s: killed");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait_with_output().unwrap()
    }

    /// Runs only as the child of `panic_reports_follow_the_colour_choice` (PYCACHE_PANIC_CHILD
    /// set): installs the hook with that choice and panics, as a bug in pycache would.
    #[test]
    fn panic_child() {
        let choice = match std::env::var("PYCACHE_PANIC_CHILD").as_deref() {
            Ok("always") => ColorChoice::Always,
            Ok("never") => ColorChoice::Never,
            _ => return,
        };
        install_error_hook(choice);
        panic!("a bug for the report");
    }

    /// Runs only as the child of `user_errors_capture_no_backtrace` (PYCACHE_ERROR_CHILD
    /// set): installs the hooks and prints a user error as eyre's Debug would show it.
    #[test]
    fn error_child() {
        if std::env::var_os("PYCACHE_ERROR_CHILD").is_none() {
            return;
        }
        install_error_hook(ColorChoice::Never);
        let err =
            color_eyre::eyre::eyre!("cannot scan /x: no such directory").wrap_err("scan failed");
        println!("debug<<{err:?}>>");
    }

    /// With RUST_BACKTRACE=1, color-eyre's error hook captured and resolved a backtrace for
    /// every user error (~200 ms each); ours captures nothing and shows the one line.
    #[test]
    fn user_errors_capture_no_backtrace() {
        let exe = std::env::current_exe().unwrap();
        let out = child(
            std::process::Command::new(&exe)
                .args(["--exact", "cli::tests::error_child", "--nocapture"])
                .env("PYCACHE_ERROR_CHILD", "1")
                .env("RUST_BACKTRACE", "full")
                .env("RUST_LIB_BACKTRACE", "1"),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("debug<<scan failed: cannot scan /x: no such directory>>"),
            "{text}"
        );
    }

    /// color-eyre colours pipes by default; ours colours only when asked or on a terminal.
    #[test]
    fn panic_reports_follow_the_colour_choice() {
        let exe = std::env::current_exe().unwrap();
        for (choice, escapes) in [("never", false), ("always", true)] {
            let out = child(
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "cli::tests::panic_child",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("PYCACHE_PANIC_CHILD", choice)
                    .env("RUST_BACKTRACE", "1"),
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("a bug for the report"), "{err}");
            assert_eq!(err.contains('\x1b'), escapes, "--color {choice}: {err:?}");
        }
        assert_eq!(paint(false, "1", "x"), "x");
        assert_eq!(paint(true, "1", "x"), "\x1b[1mx\x1b[0m");
    }
}
