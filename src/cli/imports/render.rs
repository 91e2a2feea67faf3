//! The text report of `imports`: a one-line summary first (so `| head -3` shows it), the
//! context, the import tree, the modules by reachability, then the findings and the summary
//! again. Prose is wrapped to the terminal; tables are not.

use crate::cli::wrap::{prose, tokens};
use pycache::imports::entry::EntryKind;
use pycache::imports::findings::Finding;
use pycache::imports::graph::{ImportGraph, Reachability, Resolved, Via};
use pycache::scan::display_path;
use pycache::text::terminal_safe as safe;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// What the report shows besides the graph.
pub struct Shown<'a> {
    /// The findings.
    pub findings: &'a [Finding],
    /// False with `--all-files`.
    pub caches_checked: bool,
    /// The prefix whose caches counted.
    pub prefix: Option<&'a Path>,
}

/// The text report, wrapped to `width` columns.
pub fn render(graph: &ImportGraph, shown: &Shown<'_>, width: usize) -> String {
    let mut w = String::new();
    let _ = writeln!(w, "pycache imports: {}", display_path(&graph.root));
    // First for `| head`, last for a terminal that scrolled.
    let summary = summary(graph, shown.findings);
    prose(&mut w, "summary: ", "  ", &summary, width);
    header(&mut w, graph, shown, width);
    import_tree(&mut w, graph);
    for (level, title) in [
        (Reachability::Imported, "imported at startup"),
        (
            Reachability::Lazy,
            "lazy: imported on first use (a function not run at start, or PEP 810)",
        ),
        (
            Reachability::TypeCheckingOnly,
            "type-checking only: never imported at run time",
        ),
        (Reachability::NotImported, "not imported"),
    ] {
        list(&mut w, graph, level, title);
    }
    problems(&mut w, graph, width);
    let _ = writeln!(w, "\nfindings ({})", shown.findings.len());
    for f in shown.findings {
        let at = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        let text = format!("{}{at}: {}", safe(&f.path), safe(&f.message));
        prose(&mut w, "  ", "      ", &text, width);
    }
    if !shown.caches_checked {
        let _ = writeln!(w, "  (caches not checked: --all-files)");
    }
    w.push('\n');
    prose(&mut w, "summary: ", "  ", &summary, width);
    w
}

fn count(graph: &ImportGraph, level: Reachability) -> usize {
    graph
        .modules
        .iter()
        .filter(|m| m.reachability == level)
        .count()
}

/// `19 modules: 6 imported, 1 lazy, ...; 1 entry script; 8 findings`.
fn summary(graph: &ImportGraph, findings: &[Finding]) -> String {
    let entries = count(graph, Reachability::Entry);
    format!(
        "{} modules: {} imported, {} lazy, {} type-checking only, {} not imported; {} entry script{}; {} finding{}",
        graph.modules.len(),
        count(graph, Reachability::Imported),
        count(graph, Reachability::Lazy),
        count(graph, Reachability::TypeCheckingOnly),
        count(graph, Reachability::NotImported),
        entries,
        if entries == 1 { "" } else { "s" },
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
    )
}

fn header(w: &mut String, graph: &ImportGraph, shown: &Shown<'_>, width: usize) {
    let _ = writeln!(w, "python: {} ({})", graph.python, graph.python_from);
    let venv = match &graph.venv {
        Some(v) => v.dir.display().to_string(),
        None => "none (no --venv, no .venv/venv/env with pyvenv.cfg): third-party imports show as missing".into(),
    };
    prose(w, "virtualenv: ", "  ", &venv, width);
    if let Some(p) = shown.prefix {
        let text = format!(
            "{} (only caches under it count: Python ignores __pycache__ while it is set)",
            p.display()
        );
        prose(w, "pycache prefix: ", "  ", &text, width);
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
        prose(
            w,
            "entry: ",
            "  ",
            &safe(&format!("{}{how}{problem}", e.label)),
            width,
        );
    }
    if !graph.skipped.is_empty() {
        let mut shown: Vec<String> = graph
            .skipped
            .iter()
            .take(5)
            .map(|(p, why)| {
                let rel = p.strip_prefix(&graph.root).unwrap_or(p);
                safe(&format!("{} ({why})", display_path(rel))).into_owned()
            })
            .collect();
        let more = graph.skipped.len().saturating_sub(shown.len());
        if more > 0 {
            shown.push(format!("and {more} more"));
        }
        prose(w, "skipped: ", "  ", &shown.join(", "), width);
    }
    for note in &graph.notes {
        prose(w, "note: ", "  ", note, width);
    }
}

fn import_tree(w: &mut String, graph: &ImportGraph) {
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
        let is_script = entry.kind == EntryKind::Script && script_target.is_some();
        if is_script {
            let _ = writeln!(
                w,
                "{}  (entry script: runs as __main__; Python never caches it)",
                safe(&entry.label)
            );
        } else {
            let _ = writeln!(w, "{}", safe(&entry.label));
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
}

fn list(w: &mut String, graph: &ImportGraph, level: Reachability, title: &str) {
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
            format!("  {}", safe(&m.chain.join(" -> ")))
        };
        let _ = writeln!(w, "  {:width$}  {}{chain}", safe(&m.name), safe(&m.path));
    }
}

/// Dynamic imports, external modules, files that do not parse, unreadable directories.
fn problems(w: &mut String, graph: &ImportGraph, width: usize) {
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
                safe(&u.path),
                u.line,
                safe(&u.code),
                u.reachability.describe()
            );
        }
    }
    if !graph.external.is_empty() {
        let _ = writeln!(w, "\nexternal modules ({})", graph.external.len());
        for (kind, label) in [
            (Resolved::Stdlib, "stdlib:"),
            (Resolved::ThirdParty, "third-party:"),
            (Resolved::Missing, "missing:"),
        ] {
            let names: Vec<String> = graph
                .external
                .iter()
                .filter(|(_, k)| **k == kind)
                .map(|(n, _)| format!("{},", safe(n)))
                .collect();
            let Some((last, rest)) = names.split_last() else {
                continue;
            };
            let mut words: Vec<&str> = vec![label];
            words.extend(rest.iter().map(String::as_str));
            words.push(last.trim_end_matches(','));
            tokens(w, "  ", "    ", &words, width);
        }
    }
    let bad: Vec<_> = graph.modules.iter().filter(|m| !m.health.is_ok()).collect();
    if !bad.is_empty() {
        let _ = writeln!(
            w,
            "\nfiles with parse problems ({}; their imports are approximate)",
            bad.len()
        );
        for m in bad {
            let text = format!("{}: {}", safe(&m.path), safe(&m.health.describe()));
            prose(w, "  ", "      ", &text, width);
        }
    }
    for (path, why) in &graph.walk_errors {
        prose(
            w,
            "warning: ",
            "  ",
            &safe(&format!("{}: {why}", display_path(path))),
            width,
        );
    }
}

fn children_of(graph: &ImportGraph) -> HashMap<usize, Vec<usize>> {
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
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
    children: &HashMap<usize, Vec<usize>>,
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
            _ if !m.health.runs() => "  (does not compile)",
            _ => "",
        };
        let pad = width.saturating_sub(indent.chars().count());
        let _ = writeln!(
            w,
            "{indent}{branch}{:pad$}  {}{tag}",
            safe(&m.name),
            safe(&m.path)
        );
        let next = format!("{indent}{}", if last { "    " } else { "│   " });
        if let Some(kids) = children.get(&i) {
            tree(w, graph, children, kids, &next, width);
        }
    }
}
