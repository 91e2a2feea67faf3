//! `pycache imports [PATH]`: which project modules the entry points import, which they
//! never import, and which imported modules have no fresh cache.

use color_eyre::eyre::{Result, eyre};
use pycache::imports::findings::{Finding, cache_findings, source_findings};
use pycache::imports::graph::{ImportGraph, Reachability, Resolved, Via};
use pycache::imports::{Options, Scope, analyze, venv};
use pycache::pyc::PyVersion;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `imports`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project directory (default: the current one). A .py file means its directory,
    /// with that file as the entry point.
    pub path: Option<PathBuf>,
    /// An entry point: a script (`python FILE`) or a module name (`python -m NAME`).
    /// Repeatable. Without it: run.py, wsgi.py, asgi.py, manage.py, app.py, __main__.py
    /// and [project.scripts] are detected.
    #[arg(long = "entry", value_name = "FILE|MODULE")]
    pub entries: Vec<String>,
    /// An extra import root, like PYTHONPATH. Repeatable.
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// The virtualenv whose site-packages holds third-party modules (default: .venv,
    /// venv or env beside the project, if it has a pyvenv.cfg).
    #[arg(long, value_name = "DIR")]
    pub venv: Option<PathBuf>,
    /// Target Python version, e.g. 3.12 (default: the virtualenv's, else 3.13).
    #[arg(long, value_name = "VERSION", value_parser = parse_python)]
    pub python: Option<PyVersion>,
    /// Parse every .py under PATH, including virtualenvs and hidden directories, and skip
    /// the cache scan (for whole libraries and the benchmark).
    #[arg(long)]
    pub all_files: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_python(text: &str) -> std::result::Result<PyVersion, String> {
    venv::parse_version(text).ok_or_else(|| format!("'{text}' is not a version like 3.12"))
}

/// The `--json` document: the graph plus its findings.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    graph: &'a ImportGraph,
    cache_tag: String,
    caches_checked: bool,
    findings: &'a [Finding],
}

/// Runs `imports`.
pub fn run(args: Args) -> Result<ExitCode> {
    let opts = Options {
        root: args.path.clone().unwrap_or_else(|| PathBuf::from(".")),
        entries: args.entries.clone(),
        paths: args.paths.clone(),
        venv: args.venv.clone(),
        python: args.python,
        scope: if args.all_files {
            Scope::AllFiles
        } else {
            Scope::Project
        },
    };
    let graph = analyze(&opts).map_err(|e| eyre!("{e}"))?;
    let mut findings = source_findings(&graph);
    let caches_checked = !args.all_files;
    if caches_checked {
        let scan_opts = pycache::scan::ScanOptions::new(vec![graph.root.clone()]).with_prefix(None);
        let scan = pycache::scan::scan(&scan_opts);
        findings.extend(cache_findings(&graph, &scan));
    }
    let text = if args.json {
        let report = Report {
            graph: &graph,
            cache_tag: pycache::imports::findings::cache_tag(&graph),
            caches_checked,
            findings: &findings,
        };
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        render(&graph, &findings, caches_checked)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render(graph: &ImportGraph, findings: &[Finding], caches_checked: bool) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "project: {}", graph.root.display());
    let _ = writeln!(w, "python: {} ({})", graph.python, graph.python_from);
    match &graph.venv {
        Some(v) => {
            let _ = writeln!(w, "virtualenv: {}", v.dir.display());
        }
        None => {
            let _ = writeln!(
                w,
                "virtualenv: none (no --venv, no .venv/venv/env with pyvenv.cfg): third-party imports show as missing"
            );
        }
    }
    if graph.entries.is_empty() {
        let _ = writeln!(w, "entries: none");
    }
    for e in &graph.entries {
        let how = e
            .detected
            .as_deref()
            .map(|d| format!(" (detected: {d})"))
            .unwrap_or_default();
        let problem = e
            .problem
            .as_deref()
            .map(|p| format!(": cannot follow: {p}"))
            .unwrap_or_default();
        let _ = writeln!(w, "entry: {}{how}{problem}", e.label);
    }
    if !graph.skipped.is_empty() {
        let shown: Vec<String> = graph
            .skipped
            .iter()
            .take(5)
            .map(|(p, why)| {
                let rel = p.strip_prefix(&graph.root).unwrap_or(p);
                format!("{} ({why})", rel.display())
            })
            .collect();
        let more = graph.skipped.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(w, "skipped: {}{more}", shown.join(", "));
    }
    for note in &graph.notes {
        let _ = writeln!(w, "note: {note}");
    }

    let _ = writeln!(w, "\nimport tree");
    let width = graph
        .modules
        .iter()
        .filter(|m| m.reachability != Reachability::NotImported)
        .map(|m| m.name.len() + 4 * m.chain.len())
        .max()
        .unwrap_or(0)
        .min(60);
    let children = children_of(graph);
    if graph.entries.is_empty() {
        let _ = writeln!(w, "  (no entry point: nothing is reachable)");
    }
    for (e, entry) in graph.entries.iter().enumerate() {
        let script_target = entry
            .target
            .filter(|&t| graph.modules[t].via == Some(Via::Entry(e)));
        let is_script =
            entry.kind == pycache::imports::entry::EntryKind::Script && script_target.is_some();
        if is_script {
            let _ = writeln!(
                w,
                "{}  (entry script: runs as __main__; Python never caches it)",
                entry.label
            );
        } else {
            let _ = writeln!(w, "{}", entry.label);
        }
        let mut roots: Vec<usize> = graph
            .modules
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                m.via == Some(Via::Entry(e)) && !(is_script && Some(*i) == script_target)
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(t) = script_target.filter(|_| is_script) {
            roots.extend(children.get(&t).into_iter().flatten());
        }
        tree(w, graph, &children, &roots, "", width);
    }

    let list = |w: &mut String, level: Reachability, title: &str| {
        let ms: Vec<_> = graph
            .modules
            .iter()
            .filter(|m| m.reachability == level)
            .collect();
        if ms.is_empty() {
            return;
        }
        let _ = writeln!(w, "\n{title} ({})", ms.len());
        let width = ms.iter().map(|m| m.name.len()).max().unwrap_or(0).min(40);
        for m in ms {
            let chain = if m.chain.is_empty() {
                String::new()
            } else {
                format!("  {}", m.chain.join(" -> "))
            };
            let _ = writeln!(w, "  {:width$}  {}{chain}", m.name, m.path);
        }
    };
    list(w, Reachability::Imported, "imported at startup");
    list(
        w,
        Reachability::Lazy,
        "lazy: imported only inside functions",
    );
    list(
        w,
        Reachability::TypeCheckingOnly,
        "type-checking only: never imported at run time",
    );
    list(w, Reachability::NotImported, "not imported");

    if !graph.unresolved.is_empty() {
        let _ = writeln!(
            w,
            "\nunresolved dynamic imports ({})",
            graph.unresolved.len()
        );
        for u in &graph.unresolved {
            let _ = writeln!(
                w,
                "  {}:{}  {}  [{}]",
                u.path,
                u.line,
                u.code,
                u.reachability.describe()
            );
        }
    }
    if !graph.external.is_empty() {
        let _ = writeln!(w, "\nexternal modules ({})", graph.external.len());
        for (kind, label) in [
            (Resolved::Stdlib, "stdlib"),
            (Resolved::ThirdParty, "third-party"),
            (Resolved::Missing, "missing"),
        ] {
            let names: Vec<&str> = graph
                .external
                .iter()
                .filter(|(_, k)| **k == kind)
                .map(|(n, _)| n.as_str())
                .collect();
            if !names.is_empty() {
                let _ = writeln!(w, "  {label}: {}", names.join(", "));
            }
        }
    }
    let bad: Vec<_> = graph
        .modules
        .iter()
        .filter(|m| m.health != pycache::imports::parse::Health::Ok)
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(
            w,
            "\nfiles with parse problems ({}; their imports are approximate)",
            bad.len()
        );
        for m in bad {
            let _ = writeln!(
                w,
                "  {}: {}",
                m.path,
                serde_json::to_value(&m.health)
                    .map(|v| health_text(&v))
                    .unwrap_or_default()
            );
        }
    }
    for (path, why) in &graph.walk_errors {
        let _ = writeln!(w, "warning: {}: {why}", path.display());
    }

    let _ = writeln!(w, "\nfindings ({})", findings.len());
    for f in findings {
        let at = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        let _ = writeln!(w, "  {}{at}: {}", f.path, f.message);
    }
    if !caches_checked {
        let _ = writeln!(w, "  (caches not checked: --all-files)");
    }
    let count = |level| {
        graph
            .modules
            .iter()
            .filter(|m| m.reachability == level)
            .count()
    };
    let _ = writeln!(
        w,
        "\nsummary: {} modules: {} imported, {} lazy, {} type-checking only, {} not imported; {} entry script(s); {} finding(s)",
        graph.modules.len(),
        count(Reachability::Imported),
        count(Reachability::Lazy),
        count(Reachability::TypeCheckingOnly),
        count(Reachability::NotImported),
        count(Reachability::Entry),
        findings.len()
    );
    out
}

fn health_text(v: &serde_json::Value) -> String {
    let status = v["status"].as_str().unwrap_or_default();
    let message = v["message"].as_str().unwrap_or_default();
    match v["line"].as_u64() {
        Some(line) => format!("{status} at line {line}: {message}"),
        None => format!("{status}: {message}"),
    }
}

fn children_of(graph: &ImportGraph) -> std::collections::HashMap<usize, Vec<usize>> {
    let mut children: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, m) in graph.modules.iter().enumerate() {
        if let Some(Via::Module(p)) = m.via {
            children.entry(p).or_default().push(i);
        }
    }
    children
}

fn tree(
    w: &mut String,
    graph: &ImportGraph,
    children: &std::collections::HashMap<usize, Vec<usize>>,
    nodes: &[usize],
    indent: &str,
    width: usize,
) {
    for (k, &i) in nodes.iter().enumerate() {
        let m = &graph.modules[i];
        let last = k + 1 == nodes.len();
        let branch = if last { "└── " } else { "├── " };
        let tag = match m.reachability {
            Reachability::Lazy => "  (lazy)",
            Reachability::TypeCheckingOnly => "  (type-checking only)",
            _ if !m.health.runs() => "  (cannot compile)",
            _ => "",
        };
        let pad = width.saturating_sub(indent.chars().count());
        let _ = writeln!(w, "{indent}{branch}{:pad$}  {}{tag}", m.name, m.path);
        let next = format!("{indent}{}", if last { "    " } else { "│   " });
        if let Some(kids) = children.get(&i) {
            tree(w, graph, children, kids, &next, width);
        }
    }
}
