//! The `pycache` binary: argument parsing, dispatch, and error reporting.
//! All logic lives in the library (`pycache::…`); this layer only turns arguments into
//! library calls and results into text, JSON, or the full-screen explorer.

mod cli;
mod tui;

fn main() -> std::process::ExitCode {
    cli::main()
}
