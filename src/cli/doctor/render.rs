//! The doctor's text report: the verdict first (so `| head -3` shows it), then who runs
//! what, the findings with their fixes, and the measured cost. Prose is wrapped to the
//! terminal; commands and unit lines are printed whole on lines of their own.

use crate::cli::wrap::{prose, tokens};
use pycache::doctor::Report;
use pycache::doctor::findings::{Finding, ms_text};
use pycache::doctor::fixes::{Fix, Step};
use pycache::doctor::targets::Outcome;
use pycache::scan::display_path;
use std::fmt::Write as _;

/// Module names shown per finding; the JSON has them all.
const MODULES_SHOWN: usize = 12;
/// Where values start in the context table.
const VALUE_COLUMN: usize = 21;

/// The text report, wrapped to `width` columns.
pub fn render(r: &Report, width: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "pycache doctor: {}", display_path(&r.root));
    prose(&mut s, "verdict: ", "  ", &verdict(r), width);
    s.push('\n');
    context(&mut s, r, width);
    s.push('\n');
    if !r.findings.is_empty() {
        let _ = writeln!(s, "Findings, most costly first");
        for (i, f) in r.findings.iter().enumerate() {
            finding(&mut s, i + 1, f, width);
        }
        s.push('\n');
    }
    cost(&mut s, r, width);
    for n in &r.notes {
        prose(&mut s, "note: ", "  ", n, width);
    }
    s
}

/// One sentence: what happens at each start, and how many findings follow.
fn verdict(r: &Report) -> String {
    let noun = if r.followed {
        "imported modules"
    } else {
        "modules"
    };
    let total = r.targets.len();
    let count = |o: Outcome| r.targets.iter().filter(|t| t.outcome == o).count();
    let every = count(Outcome::CompilesEveryStart);
    let mut parts = Vec::new();
    match r.broken.len() {
        0 => {}
        1 => parts.push("1 imported module does not compile".to_string()),
        n => parts.push(format!("{n} imported modules do not compile")),
    }
    match count(Outcome::ImportError) {
        0 => {}
        1 => parts.push("1 imported module fails to import (a corrupt cache)".to_string()),
        n => parts.push(format!(
            "{n} imported modules fail to import (corrupt caches)"
        )),
    }
    if every > 0 {
        let ms = r.per_start_ms();
        let cost = if ms > 0.0 {
            format!(", about {} per start", ms_text(ms))
        } else {
            " (cost not measured)".to_string()
        };
        parts.push(format!(
            "{every} of {total} {noun} compile on every start{cost}"
        ));
    } else if total == 0 && parts.is_empty() {
        parts.push(format!("no {noun} to cache"));
    } else if total == count(Outcome::ImportError) {
    } else {
        // Modules that fail to import are said above; the sentence is about the others.
        let total = total - count(Outcome::ImportError);
        let loads = count(Outcome::Loads);
        parts.push(match loads {
            _ if loads == total => format!("all {total} {noun} load a usable cache"),
            0 => format!(
                "none of the {total} {noun} has a usable cache yet; the next start writes them"
            ),
            _ => format!(
                "{loads} of {total} {noun} load a usable cache; the next start writes the others"
            ),
        });
    }
    let findings = match r.findings.len() {
        0 => "no findings".to_string(),
        1 => "1 finding below".to_string(),
        n => format!("{n} findings below"),
    };
    format!("{}; {findings}", parts.join("; "))
}

fn context(s: &mut String, r: &Report, width: usize) {
    let _ = writeln!(s, "Runtime context");
    let py = &r.python;
    let tag = py
        .tag
        .clone()
        .unwrap_or_else(|| "no cache tag: caches beside the source".into());
    let mut rows: Vec<(String, String, String)> = r
        .context
        .derived
        .iter()
        .filter(|d| d.what != "python")
        .map(|d| (d.what.clone(), d.value.clone(), d.from.clone()))
        .collect();
    rows.push((
        "python".into(),
        format!("{} ({}, {tag})", display_path(&py.path), py.version),
        py.from.clone(),
    ));
    if r.context.dont_write.is_none() {
        rows.push((
            "write bytecode".into(),
            "yes".into(),
            "no -B, no PYTHONDONTWRITEBYTECODE".into(),
        ));
    }
    if r.context.prefix.is_none() {
        rows.push((
            "pycache prefix".into(),
            "none: caches go to __pycache__ beside each source".into(),
            String::new(),
        ));
    }
    rows.push(("modules".into(), r.imports_from.clone(), String::new()));
    let unit_files = unit_files(r);
    let hang = " ".repeat(VALUE_COLUMN);
    for (what, value, from) in rows {
        let first = format!("  {what:<w$} ", w = VALUE_COLUMN - 3);
        prose(s, &first, &hang, &value, width);
        if from.is_empty() {
            continue;
        }
        let from = if what == "unit" {
            from
        } else {
            shorten(&from, &unit_files)
        };
        prose(s, &format!("{hang}from "), &hang, &from, width);
    }
}

/// The unit's files, named in full on the unit row and by file name elsewhere.
fn unit_files(r: &Report) -> Vec<String> {
    r.context
        .derived
        .iter()
        .filter(|d| d.what == "unit")
        .flat_map(|d| d.from.split(" + ").map(str::to_string))
        .collect()
}

/// `User= at /etc/systemd/system/app.service:5` -> `User= at app.service:5`.
fn shorten(from: &str, files: &[String]) -> String {
    let mut out = from.to_string();
    for file in files {
        if let Some((_, name)) = file.rsplit_once('/') {
            out = out.replace(&format!("{file}:"), &format!("{name}:"));
        }
    }
    out
}

fn finding(s: &mut String, n: usize, f: &Finding, width: usize) {
    prose(s, &format!("{n:>2}. "), "    ", &f.title, width);
    if !f.modules.is_empty() {
        let mut items: Vec<String> = f
            .modules
            .iter()
            .take(MODULES_SHOWN)
            .map(|m| match m.penalty_ms {
                Some(ms) => format!("{} {},", m.module, ms_text(ms)),
                None => format!("{},", m.module),
            })
            .collect();
        let more = f.modules.len().saturating_sub(MODULES_SHOWN);
        if more > 0 {
            items.push(format!("and {more} more"));
        } else if let Some(last) = items.last_mut() {
            last.pop();
        }
        let words: Vec<&str> = items.iter().map(String::as_str).collect();
        tokens(s, "    modules: ", "      ", &words, width);
    }
    for d in &f.details {
        prose(s, "    ", "      ", d, width);
    }
    match f.fixes.as_slice() {
        [] => {}
        [one] => fix(s, "    fix: ", "      ", one, width),
        many => {
            let _ = writeln!(s, "    fix, one of:");
            for (fx, letter) in many.iter().zip('a'..='z') {
                fix(s, &format!("    {letter}) "), "       ", fx, width);
            }
        }
    }
}

/// A fix: its words, then each step. Commands and unit lines are never wrapped.
fn fix(s: &mut String, first: &str, rest: &str, fix: &Fix, width: usize) {
    let summary = if fix.steps.is_empty() {
        fix.summary.clone()
    } else {
        format!("{}:", fix.summary)
    };
    prose(s, first, rest, &summary, width);
    let mut after_unit = false;
    for step in &fix.steps {
        match step {
            Step::Run(cmd) => {
                // Set apart from the unit lines above it, which go into the editor.
                if after_unit {
                    let _ = writeln!(s, "{rest}then run:");
                    after_unit = false;
                }
                let _ = writeln!(s, "{rest}  {cmd}");
            }
            Step::EditUnit { unit, lines } => {
                let say = format!("add to the unit (systemctl edit {unit} opens it):");
                prose(s, rest, rest, &say, width);
                for line in lines {
                    let _ = writeln!(s, "{rest}  {line}");
                }
                after_unit = true;
            }
            Step::Note(text) => prose(s, rest, rest, text, width),
        }
    }
}

fn cost(s: &mut String, r: &Report, width: usize) {
    let every: Vec<&std::path::Path> = r
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::CompilesEveryStart)
        .map(|t| t.source.as_path())
        .collect();
    let measured: Vec<_> = r
        .costs
        .iter()
        .filter(|c| c.penalty_ms().is_some() && every.contains(&c.source.as_path()))
        .collect();
    let line = if every.is_empty() {
        "Cost per start: none from caches.".to_string()
    } else if measured.is_empty() {
        "Cost per start: not measured (--no-measure, or the interpreter could not run).".to_string()
    } else {
        let (compile, load) = measured.iter().fold((0.0, 0.0), |acc, c| {
            (
                acc.0 + c.compile_ms.unwrap_or(0.0),
                acc.1 + c.load_ms.unwrap_or(0.0),
            )
        });
        format!(
            "Cost per start: about {} ({} modules compile in {}; loading their caches would take {}; medians of {} runs of the interpreter's own compile() and marshal.loads)",
            ms_text(r.per_start_ms()),
            every.len(),
            ms_text(compile),
            ms_text(load),
            r.repeat
        )
    };
    prose(s, "", "  ", &line, width);
    if let Some(e) = &r.entry_script {
        let took = e
            .compile_ms
            .map(|m| format!(" ({} to compile)", ms_text(m)))
            .unwrap_or_default();
        let line = format!(
            "Entry script {}: runs as __main__, so Python compiles it at every start and never caches it{took}",
            display_path(&e.path)
        );
        prose(s, "", "  ", &line, width);
    }
    if let Some(t) = &r.import_time {
        import_time(s, t, width);
    }
}

fn import_time(s: &mut String, t: &pycache::doctor::cost::ImportTime, width: usize) {
    let line = format!(
        "Import time (-X importtime, median of {} runs): {} with warm caches, {} with no caches available (+{})",
        t.runs,
        ms_text(t.warm_ms),
        ms_text(t.cold_ms),
        ms_text(t.cold_ms - t.warm_ms)
    );
    prose(s, "", "  ", &line, width);
    let line = format!(
        "of which the project's own modules: {} -> {} (the rest is the standard library and installed packages, compiled here only because the cold run hides every cache)",
        ms_text(t.project_warm_ms),
        ms_text(t.project_cold_ms)
    );
    prose(s, "    ", "      ", &line, width);
    let _ = writeln!(s, "    largest differences (self time):");
    for (name, warm, cold) in &t.slowest {
        let _ = writeln!(s, "      {name}: {} -> {}", ms_text(*warm), ms_text(*cold));
    }
    let line = format!(
        "ran: {} (as {}, with the service's environment)",
        t.command,
        pycache::doctor::identity::Identity::current().name
    );
    prose(s, "    ", "      ", &line, width);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_paths_are_named_in_full_once() {
        let files = vec![
            "/etc/systemd/system/app.service".to_string(),
            "/etc/systemd/system/app.service.d/env.conf".to_string(),
        ];
        assert_eq!(
            shorten(
                "User= at /etc/systemd/system/app.service:5, then /etc/systemd/system/app.service.d/env.conf:2",
                &files
            ),
            "User= at app.service:5, then env.conf:2"
        );
    }
}
