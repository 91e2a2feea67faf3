//! Which modules' caches matter: those the entry imports (the import graph of
//! `crate::imports`), or every module with a source when no entry can be followed; the
//! imported modules that do not compile are set apart (no cache can exist for them).

use super::command::PythonCommand;
use super::context::RuntimeContext;
use super::findings::Broken;
use super::targets::Python;
use crate::imports::{self, Reachability};
use crate::scan::ScanModel;
use std::path::{Path, PathBuf};

/// The modules whose caches matter, and how they were chosen.
pub struct Imported {
    /// `(name, source, lazy)` of each module that compiles.
    pub modules: Vec<(String, PathBuf, bool)>,
    /// Imported modules that do not compile.
    pub broken: Vec<Broken>,
    /// How they were chosen, for the report.
    pub how: String,
    /// The entry script that was followed.
    pub entry_script: Option<PathBuf>,
    /// True when an entry point was followed.
    pub followed: bool,
}

impl Imported {
    fn everything(modules: Vec<(String, PathBuf, bool)>, why: String) -> Self {
        Self {
            how: format!("every module with a source ({}): {why}", modules.len()),
            modules,
            broken: Vec::new(),
            entry_script: None,
            followed: false,
        }
    }
}

/// The service's PEP 810 mode: its `-X lazy_imports`, else its `PYTHON_LAZY_IMPORTS`
/// (ignored under `-E`/`-I`); a value Python refuses is a note, and `normal` is assumed.
fn lazy_mode(ctx: &RuntimeContext, notes: &mut Vec<String>) -> imports::lazy::Mode {
    lazy_mode_of(ctx.command.as_ref(), &ctx.env).unwrap_or_else(|e| {
        notes.push(e);
        imports::lazy::Mode::Normal
    })
}

fn lazy_mode_of(
    cmd: Option<&PythonCommand>,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<imports::lazy::Mode, String> {
    let x: Vec<&str> = cmd.map_or_else(Vec::new, |c| {
        c.x_options.iter().map(String::as_str).collect()
    });
    let ignore_env = cmd.is_some_and(|c| c.ignore_env);
    let value = env.get("PYTHON_LAZY_IMPORTS").map(String::as_str);
    imports::lazy::Mode::of_process(&x, value, ignore_env)
}

/// The modules the entry imports (import graph), or every module with a source when no
/// entry point can be followed.
pub fn imported_modules(
    root: &Path,
    ctx: &RuntimeContext,
    py: &Python,
    model: &ScanModel,
    notes: &mut Vec<String>,
) -> Imported {
    let opts = imports::Options {
        root: root.to_path_buf(),
        entries: ctx.entry.iter().map(|e| e.display().to_string()).collect(),
        paths: Vec::new(),
        venv: None,
        python: Some(py.python),
        scope: imports::Scope::Project,
        lazy_imports: lazy_mode(ctx, notes),
    };
    let graph = match imports::analyze(&opts) {
        Ok(g) => g,
        Err(e) => {
            let all = model
                .modules
                .values()
                .filter(|m| m.source_exists())
                .map(|m| (m.name.clone(), m.source.clone(), false))
                .collect();
            return Imported::everything(all, format!("the import analysis failed ({e})"));
        }
    };
    notes.extend(graph.notes.iter().cloned());
    let followed = graph.entries.iter().any(|e| e.target.is_some());
    let wanted = |m: &imports::Module| {
        if followed {
            matches!(m.reachability, Reachability::Imported | Reachability::Lazy)
        } else {
            m.reachability != Reachability::Entry
        }
    };
    let (runs, fails): (Vec<&imports::Module>, Vec<&imports::Module>) = graph
        .modules
        .iter()
        .filter(|m| wanted(m))
        .partition(|m| m.health.runs());
    let modules: Vec<(String, PathBuf, bool)> = runs
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.file.clone(),
                m.reachability == Reachability::Lazy,
            )
        })
        .collect();
    if !followed {
        // Without an entry, a broken file in the tree is not known to be imported.
        return Imported::everything(
            modules,
            "no entry point to follow; pass --entry FILE".into(),
        );
    }
    let broken = fails
        .iter()
        .map(|m| Broken {
            module: m.name.clone(),
            source: m.file.clone(),
            why: m.health.describe(),
        })
        .collect();
    let labels: Vec<&str> = graph.entries.iter().map(|e| e.label.as_str()).collect();
    Imported {
        how: format!(
            "{} imported from {} (import graph of the sources)",
            modules.len(),
            labels.join(", ")
        ),
        modules,
        broken,
        entry_script: graph
            .modules
            .iter()
            .find(|m| m.reachability == Reachability::Entry)
            .map(|m| m.file.clone()),
        followed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::command::parse;
    use imports::lazy::Mode;
    use std::collections::BTreeMap;

    #[test]
    fn the_services_lazy_imports_mode_comes_from_its_command_line_and_environment() {
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let mut env = BTreeMap::new();
        assert_eq!(lazy_mode_of(None, &env), Ok(Mode::Normal));
        env.insert("PYTHON_LAZY_IMPORTS".to_string(), "all".to_string());
        assert_eq!(lazy_mode_of(None, &env), Ok(Mode::All));
        let isolated = parse(&argv("/usr/bin/python3.15 -I run.py"), None, "/usr/bin");
        assert_eq!(lazy_mode_of(Some(&isolated), &env), Ok(Mode::Normal));
        let x = parse(
            &argv("/usr/bin/python3.15 -X lazy_imports=normal run.py"),
            None,
            "/usr/bin",
        );
        assert_eq!(lazy_mode_of(Some(&x), &env), Ok(Mode::Normal));
        env.insert("PYTHON_LAZY_IMPORTS".to_string(), "none".to_string());
        assert!(lazy_mode_of(None, &env).is_err());
    }
}
