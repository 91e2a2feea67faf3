//! `pycache scan --from FILE...`: saved snapshots, one tree per host, printed as a scan
//! would print them: the text summary per host (then one line for the fleet), one
//! `--summary --json` line per host (with the host and time the snapshot records),
//! `--jsonl` of every cache, or with one file `--json` (written again, e.g. `--pretty`).
//! Exit as `scan`: 1 with `--check` when a host has a problem cache, 2 when a snapshot
//! cannot be read or records an incomplete scan.

use super::scan::{Args, print_quietly, summary, warn_skipped, write_quietly};
use color_eyre::eyre::{Result, bail, eyre};
use pycache::fleet::{HostSnapshot, open_all};
use std::process::ExitCode;

/// Runs `scan --from`.
pub fn run(args: &Args) -> Result<ExitCode> {
    if args.context.given() {
        bail!(
            "--from reads saved snapshots, and --unit/--python/--user judge a live tree; leave one of them out"
        );
    }
    if args.json && !args.summary && args.from.len() > 1 {
        bail!(
            "--json writes one snapshot, and {} were given; use --summary --json for one line per host, or give one --from",
            args.from.len()
        );
    }
    let hosts = open_all(&args.from).map_err(|e| eyre!(e))?;
    if args.summary {
        write_quietly(|out| {
            hosts
                .iter()
                .try_for_each(|h| h.model.write_summary(out, &h.origin, args.pretty))
        })?;
    } else if args.json {
        let h = &hosts[0];
        write_quietly(|out| h.model.write_snapshot(out, &h.origin, args.pretty))?;
    } else if args.jsonl {
        write_quietly(|out| hosts.iter().try_for_each(|h| h.model.write_jsonl(out)))?;
    } else {
        print_quietly(&text(&hosts))?;
    }
    let incomplete = hosts
        .iter()
        .map(|h| warn_skipped(&h.model, &format!("the snapshot of {}", h.name())))
        .fold(false, |a, b| a | b);
    Ok(if incomplete {
        ExitCode::from(2)
    } else if args.check && hosts.iter().any(|h| h.model.has_problems()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Each host's summary under its name, file and time; then, for several, one line.
fn text(hosts: &[HostSnapshot]) -> String {
    let color = super::color_enabled(false);
    let mut s = String::new();
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let when = if h.origin.time.is_empty() {
            String::new()
        } else {
            format!(", {}", h.origin.time)
        };
        s.push_str(&format!(
            "host {} ({}{when})\n",
            pycache::text::terminal_safe(&h.name()),
            pycache::scan::display_path(&h.file)
        ));
        s.push_str(&summary(&h.model, color));
    }
    if hosts.len() > 1 {
        let red: Vec<String> = hosts
            .iter()
            .filter(|h| h.model.has_problems())
            .map(|h| {
                // Two snapshots of one host (before and after a fix) are told apart by file.
                let name = h.name();
                let twice = hosts.iter().filter(|o| o.name() == name).count() > 1;
                let name = pycache::text::terminal_safe(&name).into_owned();
                if twice {
                    format!("{name} ({})", pycache::scan::display_path(&h.file))
                } else {
                    name
                }
            })
            .collect();
        s.push_str(&format!(
            "\n{} hosts: {} with problem caches{}{}\n",
            hosts.len(),
            red.len(),
            if red.is_empty() { "" } else { ": " },
            red.join(", ")
        ));
    }
    s
}
