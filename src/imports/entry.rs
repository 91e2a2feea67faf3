//! Entry points: what the user runs. A script (`python run.py`) runs as `__main__` and is
//! never cached; `python -m pkg`, `python DIR` (its `__main__.py`) and console scripts
//! (`[project.scripts]`) load their module through the import system, which caches it.

use super::graph::{EntryPoint, Module, Reachability};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How an entry point starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// `python FILE`: runs as `__main__`, never cached.
    Script,
    /// `python -m NAME` or `python DIR`: runs as `__main__`, cached.
    RunModule,
    /// A `[project.scripts]` console script: imports the module normally, cached.
    ConsoleScript,
    /// `--entry NAME` naming a package without `__main__`: followed as `import NAME`.
    Import,
}

/// One entry point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// How it starts.
    pub kind: EntryKind,
    /// The script file (scripts and `__main__.py` files).
    pub path: Option<PathBuf>,
    /// The module name (`-m` and console scripts); for a file, filled in once known.
    pub module: Option<String>,
    /// How pycache found it, when it was detected rather than given.
    pub detected: Option<String>,
}

/// Script names tried in the project root, in order.
pub const SCRIPT_NAMES: [&str; 5] = ["run.py", "wsgi.py", "asgi.py", "manage.py", "app.py"];

impl Entry {
    /// A script entry.
    pub fn script(path: PathBuf, detected: Option<String>) -> Self {
        let kind = if path.file_name().is_some_and(|n| n == "__main__.py") {
            EntryKind::RunModule
        } else {
            EntryKind::Script
        };
        Self {
            kind,
            path: Some(path),
            module: None,
            detected,
        }
    }

    /// A module entry (`-m`-style or console script).
    pub fn module(kind: EntryKind, name: String, detected: Option<String>) -> Self {
        Self {
            kind,
            path: None,
            module: Some(name),
            detected,
        }
    }
}

/// Interprets `--entry ARG`: an existing file (relative to the current directory or the
/// project root), else a dotted module name as for `python -m`.
pub fn from_arg(arg: &str, root: &Path) -> Result<Entry, String> {
    for candidate in [PathBuf::from(arg), root.join(arg)] {
        if candidate.is_file() {
            return Ok(Entry::script(candidate, None));
        }
    }
    // `run_server.py` is a file name, not the module `run_server.py`: a typo must not pass.
    let looks_like_file = arg.contains('/') || arg.ends_with(".py") || arg.ends_with(".pyw");
    let is_dotted = !looks_like_file
        && !arg.is_empty()
        && arg
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if is_dotted {
        return Ok(Entry::module(EntryKind::RunModule, arg.to_owned(), None));
    }
    Err(format!(
        "--entry {arg}: no such file (looked in the current directory and in {}){}",
        root.display(),
        if looks_like_file {
            "; pass the script the service runs"
        } else {
            ", and not a module name; pass a script or a dotted module name"
        }
    ))
}

/// The usual entry points of a project, in a fixed order. A `pyproject.toml` that exists
/// but is not read (a FIFO, a device, unreadable) is added to `unread` with the reason.
pub fn detect(root: &Path, unread: &mut Vec<(PathBuf, String)>) -> Vec<Entry> {
    let mut found = Vec::new();
    for name in SCRIPT_NAMES {
        let path = root.join(name);
        if path.is_file() {
            found.push(Entry::script(
                path,
                Some(format!("{name} in the project root")),
            ));
        }
    }
    let main = root.join("__main__.py");
    if main.is_file() {
        found.push(Entry::script(
            main,
            Some("__main__.py in the project root (python DIR)".into()),
        ));
    }
    for dir in [root.to_path_buf(), root.join("src")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut packages: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("__init__.py").is_file() && p.join("__main__.py").is_file())
            .collect();
        packages.sort();
        for pkg in packages {
            let Some(name) = pkg.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            let how = format!("{name}/__main__.py (python -m {name})");
            found.push(Entry::script(pkg.join("__main__.py"), Some(how)));
        }
    }
    let pyproject = root.join("pyproject.toml");
    match crate::fsread::read_string_capped(&pyproject, crate::fsread::CONFIG_CAP) {
        Ok(text) => scripts_of(&text, &mut found),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => unread.push((pyproject, super::io_reason(&e))),
    }
    found
}

/// The `[project.scripts]` of a `pyproject.toml` not already among `found`, added to it.
fn scripts_of(text: &str, found: &mut Vec<Entry>) {
    for (script, module) in pyproject_scripts(text) {
        if !found
            .iter()
            .any(|e| e.module.as_deref() == Some(module.as_str()))
        {
            let how = format!("[project.scripts] {script} in pyproject.toml");
            found.push(Entry::module(EntryKind::ConsoleScript, module, Some(how)));
        }
    }
}

/// `(script name, module)` from `[project.scripts]`, `[project.gui-scripts]` and
/// `[tool.poetry.scripts]` (`name = "pkg.mod:func"`), also as an inline table under
/// `[project]`. A deliberately small reader for this one shape of TOML.
pub fn pyproject_scripts(text: &str) -> Vec<(String, String)> {
    const TABLES: [&str; 3] = [
        "project.scripts",
        "project.gui-scripts",
        "tool.poetry.scripts",
    ];
    let mut table = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = strip_comment(line).trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = header.trim().replace(['"', '\'', ' '], "");
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = unquote(key.trim());
        let value = value.trim();
        if TABLES.contains(&table.as_str()) {
            out.extend(script_pair(&key, value));
        } else if table == "project" && (key == "scripts" || key == "gui-scripts") {
            let inner = value.trim_start_matches('{').trim_end_matches('}');
            for pair in inner.split(',') {
                if let Some((k, v)) = pair.split_once('=') {
                    out.extend(script_pair(&unquote(k.trim()), v.trim()));
                }
            }
        }
    }
    out
}

fn script_pair(key: &str, value: &str) -> Option<(String, String)> {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = value[1..].split(quote).next()?;
    let module = inner.split(':').next()?.trim();
    (!module.is_empty()).then(|| (key.to_owned(), module.to_owned()))
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '\'').to_owned()
}

fn strip_comment(line: &str) -> &str {
    // A `#` inside a quoted value is not a comment.
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') => return &line[..i],
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    line
}

/// Of the detected candidates, keeps the real entry points: a candidate that another one
/// imports (as `run.py` imports `app`) is a module, not an entry.
pub fn drop_imported_candidates(
    modules: &[Module],
    points: Vec<EntryPoint>,
    notes: &mut Vec<String>,
) -> Vec<EntryPoint> {
    let reached: Vec<Vec<super::graph::Reached>> = points
        .iter()
        .map(|p| super::graph::reach(modules, std::slice::from_ref(p)))
        .collect();
    let reaches = |a: usize, b: usize| {
        points[b]
            .target
            .is_some_and(|t| matches!(reached[a][t].0, Reachability::Imported | Reachability::Lazy))
    };
    let mut keep = Vec::new();
    for (b, point) in points.iter().enumerate() {
        // Only scripts are dropped: a console script or `-m` entry is cached either way.
        let is_script = point.kind == EntryKind::Script;
        let by = (0..points.len())
            .find(|&a| is_script && a != b && reaches(a, b) && (!reaches(b, a) || a < b));
        match by {
            Some(a) => {
                let chain = points[b]
                    .target
                    .map(|t| reached[a][t].1.join(" -> "))
                    .unwrap_or_default();
                notes.push(format!(
                    "{} is not an entry point: {} imports it ({chain})",
                    point.label, points[a].label
                ));
            }
            None => keep.push(point.clone()),
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn reads_project_scripts() {
        let toml = r#"
[project]
name = "x"
gui-scripts = { gx = "x.gui:main" }

[project.scripts]
serve = "x.server:main"  # comment
"odd-name" = 'x.cli:run'
[tool.other]
foo = "bar:baz"
[tool.poetry.scripts]
p = "x.poetry:main"
"#;
        let got = pyproject_scripts(toml);
        let modules: Vec<&str> = got.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(modules, ["x.gui", "x.server", "x.cli", "x.poetry"]);
        assert_eq!(got[2].0, "odd-name");
    }

    #[test]
    fn detects_the_usual_entries_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "app.py",
            "run.py",
            "tool/__init__.py",
            "tool/__main__.py",
            "helpers.py",
        ] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "").unwrap();
        }
        fs::write(
            root.join("pyproject.toml"),
            "[project.scripts]\nt = \"tool.cli:main\"\n",
        )
        .unwrap();
        let got = detect(root, &mut Vec::new());
        let labels: Vec<_> = got.iter().map(|e| e.detected.clone().unwrap()).collect();
        assert_eq!(labels[0], "run.py in the project root");
        assert_eq!(labels[1], "app.py in the project root");
        assert!(labels[2].contains("python -m tool"));
        assert_eq!(got[2].kind, EntryKind::RunModule);
        assert_eq!(got[3].module.as_deref(), Some("tool.cli"));
        assert_eq!(got[3].kind, EntryKind::ConsoleScript);
    }

    #[test]
    fn entry_arguments() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("serve.py"), "").unwrap();
        let e = from_arg("serve.py", dir.path()).unwrap();
        assert_eq!((e.kind, e.path.is_some()), (EntryKind::Script, true));
        let m = from_arg("http.server", dir.path()).unwrap();
        assert_eq!(
            (m.kind, m.module.as_deref()),
            (EntryKind::RunModule, Some("http.server"))
        );
        for typo in ["no/such.py", "nope.py"] {
            let err = from_arg(typo, dir.path()).unwrap_err();
            assert!(
                err.contains("no such file") && err.contains("script"),
                "{err}"
            );
        }
    }
}
