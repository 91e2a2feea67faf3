//! Findings: problems worth acting on. From the sources alone ([`source_findings`]):
//! reachable code that imports something missing, and reachable files Python cannot
//! compile. Joined with a cache scan ([`cache_findings`]): imported modules without a fresh
//! cache for the interpreter in use, and caches of modules nothing imports.

use super::graph::{ImportGraph, Reachability, Resolved};
use super::parse::Health;
use crate::pyc::{Location, Status};
use crate::scan::{CacheRecord, ScanModel};
use serde::Serialize;

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Reachable code imports a module that does not exist (outside `try`/`TYPE_CHECKING`).
    MissingImport,
    /// A reachable module cannot be compiled (syntax error, unreadable, not source).
    CannotCompile,
    /// An imported module has no fresh cache for the target interpreter where it reads
    /// caches: Python compiles it at the next start (and at every start if it cannot
    /// write the cache).
    NoFreshCache,
    /// Caches of a module that nothing the entry points run imports.
    UnusedCache,
    /// A file that decides what is imported (`pyproject.toml`, a virtualenv's `.pth`)
    /// exists but was not read: a FIFO, a device, unreadable.
    UnreadFile,
}

/// One finding, tied to a file and maybe a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// File relative to the project root.
    pub path: String,
    /// 1-based line, when it is about one statement.
    pub line: Option<u32>,
    /// One sentence.
    pub message: String,
}

/// Findings that need only the sources.
pub fn source_findings(graph: &ImportGraph) -> Vec<Finding> {
    let mut out = unread_config_findings(graph);
    let hint = if graph.venv.is_none() {
        " (no virtualenv was checked: pass --venv DIR)"
    } else {
        ""
    };
    for m in graph.modules.iter().filter(|m| m.reachability.runs()) {
        let cannot = match &m.health {
            Health::Ok | Health::Approximate { .. } => None,
            Health::SyntaxError { line, message, .. } => {
                Some((Some(*line), format!("syntax error: {message}")))
            }
            Health::Unreadable { message } => Some((None, format!("cannot be read: {message}"))),
            Health::NotSource { message } => Some((None, message.clone())),
        };
        if let Some((line, why)) = cannot {
            out.push(Finding {
                kind: FindingKind::CannotCompile,
                path: m.path.clone(),
                line,
                message: format!(
                    "{} is {} but Python cannot import it: {why}",
                    m.name,
                    m.reachability.describe()
                ),
            });
            continue;
        }
        for imp in &m.imports {
            let c = &imp.context;
            if imp.resolved != Resolved::Missing
                || c.optional
                || c.type_checking
                || c.other_version
                || imp.fallback_unused
            {
                continue;
            }
            let why = imp.note.clone().unwrap_or_default();
            let extra = if imp.module.starts_with('.') {
                ""
            } else {
                hint
            };
            out.push(Finding {
                kind: FindingKind::MissingImport,
                path: m.path.clone(),
                line: Some(imp.line),
                message: format!("imports '{}', which is missing: {why}{extra}", imp.module),
            });
        }
    }
    out
}

/// One finding per `pyproject.toml` or `.pth` that exists but was not read (before: it
/// was ignored without a word, and what it declares was silently missing).
fn unread_config_findings(graph: &ImportGraph) -> Vec<Finding> {
    graph
        .unread_config
        .iter()
        .map(|(path, why)| {
            let lost = if path.extension().is_some_and(|e| e == "pth") {
                "the directories it adds to sys.path were not searched"
            } else {
                "its [project.scripts] entry points were not looked for"
            };
            Finding {
                kind: FindingKind::UnreadFile,
                path: crate::text::path_text(path.strip_prefix(&graph.root).unwrap_or(path)),
                line: None,
                message: format!("{why} ({lost})"),
            }
        })
        .collect()
}

/// The cache tag CPython writes for a version (`cpython-313`).
pub fn cache_tag(graph: &ImportGraph) -> String {
    format!("cpython-{}{}", graph.python.major, graph.python.minor)
}

/// Joins the graph with a scan of the same tree: which imported modules lack a fresh cache
/// for the target interpreter, and which caches belong to modules nothing imports. When the
/// scan has a prefix, only caches under it count: CPython then ignores `__pycache__`.
pub fn cache_findings(graph: &ImportGraph, scan: &ScanModel) -> Vec<Finding> {
    let tag = cache_tag(graph);
    let read_from = if scan.prefix.is_some() {
        Location::Prefix
    } else {
        Location::Pycache
    };
    let mut out = Vec::new();
    for m in &graph.modules {
        let caches: Vec<&CacheRecord> = scan
            .modules
            .get(&m.file)
            .map(|sm| scan.caches_of(sm).collect())
            .unwrap_or_default();
        let is_ours = |c: &CacheRecord| {
            c.tag.as_deref() == Some(tag.as_str()) && c.opt.is_none() && c.location == read_from
        };
        match m.reachability {
            Reachability::Imported | Reachability::Lazy if m.health.runs() => {
                if caches
                    .iter()
                    .any(|c| is_ours(c) && c.status == Status::Fresh)
                {
                    continue;
                }
                let place = match &scan.prefix {
                    Some(p) => format!(" under the prefix {}", p.display()),
                    None => String::new(),
                };
                let state = match caches.iter().find(|c| is_ours(c)) {
                    Some(c) => format!("its {tag} cache{place} is {}", c.status.as_str()),
                    None => format!("no {tag} cache{place} exists"),
                };
                let when = if m.reachability == Reachability::Lazy {
                    "on the first call that imports it (in every process, if the service cannot write the cache: pycache doctor checks)"
                } else {
                    "at the next start (at every start, if the service cannot write the cache: pycache doctor checks)"
                };
                let others: Vec<&CacheRecord> =
                    caches.iter().copied().filter(|c| !is_ours(c)).collect();
                out.push(Finding {
                    kind: FindingKind::NoFreshCache,
                    path: m.path.clone(),
                    line: None,
                    message: format!(
                        "{} is {} ({}) but {state}{}: Python compiles it {when}",
                        m.name,
                        m.reachability.describe(),
                        m.chain.join(" -> "),
                        has(&others, read_from),
                    ),
                });
            }
            Reachability::NotImported | Reachability::TypeCheckingOnly
                if !caches.is_empty() && !graph.entries.is_empty() =>
            {
                let entries: Vec<&str> = graph.entries.iter().map(|e| e.label.as_str()).collect();
                out.push(Finding {
                    kind: FindingKind::UnusedCache,
                    path: m.path.clone(),
                    line: None,
                    message: format!(
                        "{} is {} from {}, yet has {} cache file{}{}: written by other runs (tests, scripts, another interpreter)",
                        m.name,
                        m.reachability.describe(),
                        entries.join(", "),
                        caches.len(),
                        if caches.len() == 1 { "" } else { "s" },
                        has(&caches, read_from),
                    ),
                });
            }
            _ => {}
        }
    }
    out
}

/// ` (has: cpython-314 fresh, cpython-313 fresh in __pycache__ (ignored))`: what is there
/// instead; a location is named when it is not where Python reads.
fn has(caches: &[&CacheRecord], read_from: Location) -> String {
    let list: Vec<String> = caches
        .iter()
        .map(|c| {
            let tag = c.tag.as_deref().unwrap_or("untagged");
            let opt = c
                .opt
                .as_deref()
                .map(|o| format!(".opt-{o}"))
                .unwrap_or_default();
            let place = match c.location {
                l if l == read_from => "",
                Location::Pycache => " in __pycache__ (ignored)",
                Location::Prefix => " in the prefix",
                Location::Legacy => " beside the source (ignored)",
            };
            format!("{tag}{opt} {}{place}", c.status.as_str())
        })
        .collect();
    if list.is_empty() {
        String::new()
    } else {
        format!(" (has: {})", list.join(", "))
    }
}
