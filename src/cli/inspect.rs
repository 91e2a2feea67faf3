//! `pycache inspect FILE...`: decode `.pyc` files and give CPython's verdict on each.
//!
//! Every file is reported, good or bad: a file that cannot be read or decoded gets a
//! one-line error on stderr (and, in JSON, an object with an `error`), and the others are
//! still shown. The work is in the library (`pyc::summarize`, `scan::classify`); this
//! layer gathers one [`report::Report`] per file and prints it.

mod human;
mod report;

use crate::cli::path_arg::PathArg;
use color_eyre::eyre::Result;
use pycache::pyc::Status;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  Inspect one file: which Python wrote it, what it recorded, would Python use it?
    pycache inspect /srv/app/__pycache__/models.cpython-313.pyc
  A cache in a PYTHONPYCACHEPREFIX tree (mapped back to /srv/app/models.py):
    pycache inspect --pycache-prefix /var/cache/pyc /var/cache/pyc/srv/app/models.cpython-313.pyc
  Every 3.11 cache of a package, as JSON for jq:
    pycache inspect --json /srv/app/pkg/__pycache__/*.cpython-311.pyc

Exit status:
  0  every file was decoded and Python would use it as it is (fresh or sourceless)
  1  every file was decoded, and some verdict is a finding (stale, orphaned, shadowed,
     invalid, or a source that cannot be read)
  2  some file could not be read or decoded (one line on stderr names it, what is wrong
     and at which byte)

Only regular files are read, at most 64 MiB each (no real .pyc is that large); FIFOs,
devices and larger files are refused with an error.";

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The .pyc files to decode.
    // Not PathArg: the report normalises each file itself and shows a relative one relative.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print a JSON array, one object per file, instead of text.
    #[arg(long, help_heading = super::OUTPUT)]
    pub json: bool,
    /// The PYTHONPYCACHEPREFIX tree the files may belong to (default: $PYTHONPYCACHEPREFIX
    /// when set): a file below it maps to the source at / + its path below the prefix.
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = "Sources")]
    pub pycache_prefix: Option<PathBuf>,
}

/// Runs `inspect`.
pub fn run(args: Args) -> Result<ExitCode> {
    let prefix = pycache::scan::ScanOptions::new(Vec::new())
        .with_prefix(args.pycache_prefix.clone())
        .prefix;
    let mut failed = false;
    let mut findings = false;
    let mut reports = Vec::new();
    let mut stdout = io::stdout().lock();
    let mut shown = 0;
    for file in &args.files {
        let r = report::inspect(file, prefix.as_deref());
        if let Some(error) = &r.error {
            failed = true;
            eprintln!(
                "{} {}: {}{}",
                super::error_prefix(),
                pycache::text::terminal_safe(&r.path),
                pycache::text::terminal_safe(error),
                r.hint
            );
        }
        findings |= r.status.is_problem() || r.status == Status::Unreadable;
        if args.json {
            reports.push(r);
        } else if r.magic.is_some() {
            let mut text = String::new();
            if shown > 0 {
                text.push('\n');
            }
            shown += 1;
            human::render(&r, &mut text);
            if !write_quietly(&mut stdout, text.as_bytes())? {
                return Ok(exit(failed, findings));
            }
        }
    }
    if args.json {
        let docs: Vec<Doc<'_>> = reports
            .iter()
            .map(|report| Doc {
                schema: pycache::scan::SCHEMA,
                kind: "inspect",
                report,
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&docs)?;
        text.push('\n');
        write_quietly(&mut stdout, text.as_bytes())?;
    }
    Ok(exit(failed, findings))
}

/// One element of `inspect --json`: the report with the version every document carries.
#[derive(serde::Serialize)]
struct Doc<'a> {
    schema: u32,
    kind: &'static str,
    #[serde(flatten)]
    report: &'a report::Report,
}

fn exit(failed: bool, findings: bool) -> ExitCode {
    if failed {
        ExitCode::from(2)
    } else if findings {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes all of `bytes`; false when the reader went away (`| head`), which ends quietly.
fn write_quietly(out: &mut impl Write, bytes: &[u8]) -> Result<bool> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_help_states_the_size_limit_that_is_enforced() {
        let limit = format!("at most {} MiB", super::report::MAX_PYC_BYTES >> 20);
        assert!(super::AFTER_HELP.contains(&limit), "{}", super::AFTER_HELP);
    }
}
