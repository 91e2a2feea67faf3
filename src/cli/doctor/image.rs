//! `pycache doctor --root DIR`: the text and JSON of an image's diagnosis (the library's
//! `doctor::image` does the work). Dockerfile lines are printed whole, one per line.

use crate::cli::wrap::prose;
use color_eyre::eyre::{Result, eyre};
use pycache::doctor::image::{ImageOptions, ImageReport, diagnose_image};
use pycache::scan::display_path;
use pycache::text::terminal_safe_lines;
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

/// Runs the diagnosis of an unpacked image and prints it.
pub fn run(opts: &ImageOptions, json: bool) -> Result<ExitCode> {
    let report = diagnose_image(opts).map_err(|e| eyre!(e))?;
    let text = if json {
        let doc = serde_json::json!({
            "schema": pycache::scan::SCHEMA,
            "kind": "doctor-image",
            "needs_action": report.needs_action(),
            "costs_every_start": report.costs_every_start(),
            "report": report,
        });
        let mut s = serde_json::to_string_pretty(&doc)?;
        s.push('\n');
        s
    } else {
        terminal_safe_lines(&render(&report, super::super::wrap::width())).into_owned()
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if report.needs_action() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The text report: the verdict, who runs what, each tree, the findings and their lines.
pub fn render(r: &ImageReport, width: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "pycache doctor: image {}", display_path(&r.root));
    let verdict = if r.findings.is_empty() {
        "every module of the image has a usable cache".to_string()
    } else if r.costs_every_start() {
        format!(
            "{} finding(s); modules are compiled at every start of the container",
            r.findings.len()
        )
    } else {
        format!(
            "{} finding(s); every new container compiles the modules it imports",
            r.findings.len()
        )
    };
    prose(&mut s, "verdict: ", "  ", &verdict, width);
    s.push('\n');
    let _ = writeln!(s, "  user          {} ({})", r.user.describe(), r.user.from);
    let _ = writeln!(
        s,
        "  python        {} (Python {}, {}; from {})",
        r.python.path.display(),
        r.python.python,
        r.python.tag(),
        r.python.version_from
    );
    let others: Vec<String> = r
        .pythons
        .iter()
        .filter(|p| p.path != r.python.path)
        .map(|p| format!("{} ({})", p.path.display(), p.python))
        .collect();
    if !others.is_empty() {
        prose(
            &mut s,
            "  also          ",
            "                ",
            &others.join(", "),
            width,
        );
    }
    if let Some(c) = &r.config {
        let _ = writeln!(s, "  config        {}", c.from);
    }
    let _ = writeln!(
        s,
        "  root fs       {}{}",
        if r.read_only { "read-only" } else { "writable" },
        if r.dont_write {
            "; PYTHONDONTWRITEBYTECODE is set"
        } else {
            ""
        }
    );
    s.push('\n');
    let _ = writeln!(
        s,
        "tree            sources   usable  missing    stale  unwritable"
    );
    for t in &r.trees {
        let _ = writeln!(
            s,
            "  {:<13}{:>8} {:>8} {:>8} {:>8} {:>11}  {}",
            t.what,
            t.sources,
            t.usable,
            t.missing,
            t.stale,
            t.unwritable,
            t.dir.display()
        );
    }
    for (i, f) in r.findings.iter().enumerate() {
        s.push('\n');
        prose(&mut s, &format!("{}. ", i + 1), "   ", &f.title, width);
        for d in &f.details {
            prose(&mut s, "   - ", "     ", d, width);
        }
        let _ = writeln!(s, "   Dockerfile:");
        for line in f.dockerfile.iter().chain(&f.alternative) {
            let _ = writeln!(s, "     {line}");
        }
    }
    if !r.notes.is_empty() {
        s.push('\n');
    }
    for n in &r.notes {
        prose(&mut s, "note: ", "  ", n, width);
    }
    s
}
