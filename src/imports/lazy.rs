//! PEP 810 lazy imports (Python 3.15): which module-level imports load on first use.
//!
//! The rules, as CPython 3.15.2 applies them (each checked by running it):
//! - `lazy import x` / `lazy from x import y` is lazy (ruff_python_parser 0.0.10 parses the
//!   soft keyword itself and reports it as newer syntax for targets before 3.15, where it is
//!   a syntax error; no pre-pass is needed).
//! - An import statement whose module is listed in a module-level `__lazy_modules__` is
//!   lazy: `import a.b` matches `"a.b"` exactly (not `"a"`), `from p import x` matches `"p"`,
//!   and `from . import x` matches the package it resolves to. The list is read when the
//!   statement runs, so only imports after the assignment count.
//! - The global mode `all` (`-X lazy_imports=all`, or `PYTHON_LAZY_IMPORTS=all` unless `-E`
//!   or `-I`; `-X` wins) makes every eligible import lazy; `normal` is the default. Any other
//!   value stops the interpreter at start.
//! - Eligible means at module level (also under `if` and `with`) and not inside a class,
//!   a function, or a `try` body, `except` or `else` (a `finally` is eligible); `from x
//!   import *` is never lazy.
//!
//! Before 3.15 none of this exists: `__lazy_modules__` is an ordinary variable.

use super::extract::{Extracted, Statement};
use crate::pyc::magic::PyVersion;
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

/// The first Python with lazy imports.
pub const SINCE: PyVersion = PyVersion::new(3, 15);

/// The global lazy-imports mode of the interpreter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Only `lazy import` and `__lazy_modules__` defer.
    #[default]
    Normal,
    /// Every eligible module-level import defers.
    All,
}

impl Mode {
    /// `normal` or `all`, as `-X lazy_imports=` and `PYTHON_LAZY_IMPORTS` spell them.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "normal" => Some(Mode::Normal),
            "all" => Some(Mode::All),
            _ => None,
        }
    }

    /// The mode of a process from its `-X` options (`lazy_imports=...`, last wins) and its
    /// `PYTHON_LAZY_IMPORTS` (empty means unset; ignored under `-E`/`-I`, `ignore_env`).
    /// An error names the value the interpreter refuses to start with.
    pub fn of_process(
        x_options: &[&str],
        env: Option<&str>,
        ignore_env: bool,
    ) -> Result<Mode, String> {
        let from_x = x_options
            .iter()
            .rev()
            .find_map(|x| (*x == "lazy_imports" || x.starts_with("lazy_imports=")).then_some(*x));
        if let Some(x) = from_x {
            let value = x.strip_prefix("lazy_imports=").unwrap_or("");
            return Mode::parse(value).ok_or_else(|| {
                format!("-X {x}: Python 3.15 refuses to start (expected 'all' or 'normal')")
            });
        }
        match env.filter(|v| !v.is_empty() && !ignore_env) {
            None => Ok(Mode::Normal),
            Some(v) => Mode::parse(v).ok_or_else(|| {
                format!("PYTHON_LAZY_IMPORTS={v}: Python 3.15 refuses to start (expected 'all' or 'normal')")
            }),
        }
    }

    /// The spelling of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::All => "all",
        }
    }
}

/// A sentence for the report when the mode is not the default.
pub fn note(mode: Mode, target: PyVersion) -> Option<String> {
    match mode {
        Mode::Normal => None,
        Mode::All if target >= SINCE => Some(
            "lazy imports mode all (PEP 810): every module-level import outside a class or try \
             is imported on first use"
                .into(),
        ),
        Mode::All => Some(format!(
            "lazy imports mode all ignored: Python {target} has no lazy imports (3.15+)"
        )),
    }
}

/// The literal `__lazy_modules__` among a module's top-level statements: the line of the
/// last literal assignment and its names (list, tuple or set of strings, or `frozenset`
/// of one). None without one, or when its value is not a literal.
pub fn declared(body: &[Stmt], text: &str) -> Option<(u32, Vec<String>)> {
    let mut found = None;
    for stmt in body {
        let (target, value) = match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 => (&a.targets[0], Some(&*a.value)),
            Stmt::AnnAssign(a) => (&*a.target, a.value.as_deref()),
            _ => continue,
        };
        if !matches!(target, Expr::Name(n) if n.id.as_str() == "__lazy_modules__") {
            continue;
        }
        let line = line_of(text, stmt.start().to_usize());
        found = value.and_then(literal_names).map(|names| (line, names));
    }
    found
}

fn literal_names(value: &Expr) -> Option<Vec<String>> {
    let items: &[Expr] = match value {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        Expr::Set(s) => &s.elts,
        Expr::Call(c)
            if matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "frozenset")
                && c.arguments.keywords.is_empty()
                && c.arguments.args.len() <= 1 =>
        {
            return match c.arguments.args.first() {
                None => Some(Vec::new()),
                Some(inner) => literal_names(inner),
            };
        }
        _ => return None,
    };
    items
        .iter()
        .map(|e| match e {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
            _ => None,
        })
        .collect()
}

fn line_of(text: &str, offset: usize) -> u32 {
    let before = text.get(..offset).unwrap_or(text);
    u32::try_from(before.bytes().filter(|&b| b == b'\n').count() + 1).unwrap_or(u32::MAX)
}

/// Whether [`mark`] can change anything in this module (cheap: no name needed).
pub fn applies(extracted: &Extracted, mode: Mode, target: PyVersion) -> bool {
    target >= SINCE && (mode == Mode::All || extracted.lazy_modules.is_some())
}

/// Marks the imports of one module (`module`, a package when `is_package`) that PEP 810
/// defers, for the target version and global mode. Explicit `lazy import` is already marked
/// by the extraction.
pub fn mark(
    extracted: &mut Extracted,
    module: &str,
    is_package: bool,
    mode: Mode,
    target: PyVersion,
) {
    if !applies(extracted, mode, target) {
        return;
    }
    let listed = extracted.lazy_modules.clone();
    for raw in &mut extracted.imports {
        if raw.context.lazy || raw.context.not_deferrable {
            continue;
        }
        let name = match &raw.statement {
            Statement::Import(dotted) => dotted.clone(),
            Statement::From { names, .. } if names.iter().any(|n| n == "*") => continue,
            Statement::From {
                level,
                module: from,
                ..
            } => match absolute(module, is_package, *level, from.as_deref()) {
                Some(name) => name,
                None => continue,
            },
            Statement::Call { .. } | Statement::Dynamic(_) => continue,
        };
        let in_list = listed
            .as_ref()
            .is_some_and(|(line, names)| raw.line > *line && names.contains(&name));
        if mode == Mode::All || in_list {
            raw.context.lazy = true;
        }
    }
}

/// The absolute module of `from <dots><from> import ...` in `module`.
fn absolute(module: &str, is_package: bool, level: u32, from: Option<&str>) -> Option<String> {
    if level == 0 {
        return from.map(str::to_string);
    }
    let mut parts: Vec<&str> = module.split('.').collect();
    if !is_package {
        parts.pop();
    }
    for _ in 1..level {
        parts.pop()?;
    }
    if parts.is_empty() {
        return None;
    }
    let mut name = parts.join(".");
    if let Some(f) = from.filter(|f| !f.is_empty()) {
        name.push('.');
        name.push_str(f);
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::extract::extract;

    fn lazy_of(src: &str, module: &str, is_package: bool, mode: Mode) -> Vec<(u32, bool)> {
        let mut e = extract(src, SINCE);
        mark(&mut e, module, is_package, mode, SINCE);
        e.imports.iter().map(|r| (r.line, r.context.lazy)).collect()
    }

    #[test]
    fn listed_modules_defer_after_the_assignment_only() {
        let src = "import a\n__lazy_modules__ = ['a', 'pkg.sub', 'c', 'p']\nimport a\nimport b\nimport pkg.sub\nimport p.q\nfrom c import x\nfrom p import y\n";
        assert_eq!(
            lazy_of(src, "main", false, Mode::Normal),
            [
                (1, false),
                (3, true),
                (4, false),
                (5, true),
                (6, false),
                (7, true),
                (8, true)
            ]
        );
    }

    #[test]
    fn relative_imports_match_the_package_they_resolve_to() {
        let src =
            "__lazy_modules__ = ('rp',)\nfrom . import x\nfrom .x import y\nfrom .. import z\n";
        assert_eq!(
            lazy_of(src, "rp.main", false, Mode::Normal),
            [(2, true), (3, false), (4, false)]
        );
        assert_eq!(
            absolute("rp.main", false, 1, Some("x")).as_deref(),
            Some("rp.x")
        );
        assert_eq!(absolute("rp", true, 1, None).as_deref(), Some("rp"));
        assert_eq!(absolute("top", false, 1, None), None);
    }

    #[test]
    fn mode_all_defers_every_eligible_import() {
        let src = "import a\nif True:\n    import b\nwith x:\n    import c\ntry:\n    import d\nexcept ImportError:\n    import e\nelse:\n    import f\nfinally:\n    import g\nclass K:\n    import h\nfrom i import *\n";
        assert_eq!(
            lazy_of(src, "m", false, Mode::All),
            [
                (1, true),
                (3, true),
                (5, true),
                (7, false),
                (9, false),
                (11, false),
                (13, true),
                (15, false),
                (16, false)
            ]
        );
        assert!(
            lazy_of(src, "m", false, Mode::Normal)
                .iter()
                .all(|(_, l)| !l)
        );
    }

    #[test]
    fn nothing_is_deferred_before_3_15() {
        let src = "__lazy_modules__ = ['a']\nimport a\n";
        let mut e = extract(src, PyVersion::new(3, 14));
        mark(&mut e, "m", false, Mode::All, PyVersion::new(3, 14));
        assert!(!e.imports[0].context.lazy);
    }

    #[test]
    fn only_literal_declarations_count() {
        let d = |src: &str| declared(&parse(src), src);
        assert_eq!(
            d("__lazy_modules__ = {'a', \"b\"}\n"),
            Some((1, vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            d("x = 1\n__lazy_modules__: list[str] = frozenset(['a'])\n"),
            Some((2, vec!["a".into()]))
        );
        assert_eq!(d("__lazy_modules__ = names()\n"), None);
        assert_eq!(d("__lazy_modules__ = ['a', 1]\n"), None);
        assert_eq!(d("def f():\n    __lazy_modules__ = ['a']\n"), None);
    }

    fn parse(src: &str) -> Vec<Stmt> {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        parsed.into_syntax().body.to_vec()
    }

    #[test]
    fn the_mode_comes_from_x_options_then_the_environment() {
        assert_eq!(Mode::of_process(&[], None, false), Ok(Mode::Normal));
        assert_eq!(Mode::of_process(&[], Some("all"), false), Ok(Mode::All));
        assert_eq!(Mode::of_process(&[], Some(""), false), Ok(Mode::Normal));
        assert_eq!(Mode::of_process(&[], Some("all"), true), Ok(Mode::Normal));
        assert_eq!(
            Mode::of_process(&["lazy_imports=normal"], Some("all"), false),
            Ok(Mode::Normal)
        );
        assert_eq!(
            Mode::of_process(&["dev", "lazy_imports=all"], None, false),
            Ok(Mode::All)
        );
        assert!(
            Mode::of_process(&["lazy_imports=none"], None, false)
                .unwrap_err()
                .contains("refuses to start")
        );
        assert!(Mode::of_process(&["lazy_imports"], None, false).is_err());
        assert!(Mode::of_process(&[], Some("bogus"), false).is_err());
    }
}
