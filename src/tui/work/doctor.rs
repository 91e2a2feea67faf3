//! The doctor from the explorer: why the service has no usable caches and what it costs,
//! diagnosed on a worker thread and shown as a report.

use pycache::doctor::findings::ms_text;
use pycache::doctor::{DoctorOptions, diagnose};
use std::path::PathBuf;

/// Runs the doctor on the scanned root (with the scanned prefix) and returns its lines;
/// in a service's view, under that service's context (its unit, user, interpreter), not
/// the invoking shell's.
pub fn run(
    root: PathBuf,
    prefix: Option<PathBuf>,
    context: Option<pycache::context::ContextOptions>,
) -> Vec<String> {
    let mut opts = DoctorOptions {
        path: Some(root),
        measure: true,
        repeat: 3,
        ..DoctorOptions::default()
    };
    if let Some(c) = context {
        opts.context = c;
    }
    if opts.context.prefix.is_none() {
        opts.context.prefix = prefix;
    }
    let report = match diagnose(&opts) {
        Ok(r) => r,
        Err(e) => return vec![format!("the doctor could not run: {e}")],
    };
    let mut lines = Vec::new();
    lines.push(if report.findings.is_empty() {
        "no findings: the caches this service needs are written and used".to_string()
    } else if report.costs_every_start() {
        format!(
            "{} findings; every start pays about {}",
            report.findings.len(),
            ms_text(report.per_start_ms())
        )
    } else {
        format!("{} findings", report.findings.len())
    });
    for f in &report.findings {
        lines.push(String::new());
        lines.push(f.title.clone());
        lines.extend(f.details.iter().map(|d| format!("  {d}")));
        lines.extend(f.fixes.iter().map(|x| format!("  fix: {x}")));
    }
    if !report.notes.is_empty() {
        lines.push(String::new());
        lines.extend(report.notes.iter().map(|n| format!("note: {n}")));
    }
    lines
}
