//! Parsing one source with ruff's error-tolerant parser and listing its imports, each with
//! its line and the context that decides whether it runs.

use super::calls::dunder_all;
use super::consts;
use super::flow::Flow;
use super::walk::{LineCounter, Walker};
use crate::pyc::magic::PyVersion;
use ruff_python_ast as ast;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use serde::Serialize;
use std::collections::HashSet;

/// Where an import sits, as far as that decides whether and when it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    /// Runs on first use, not at import: inside a function or lambda, or deferred by PEP 810
    /// (`lazy import`, `__lazy_modules__`, the `all` mode; see [`super::lazy`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lazy: bool,
    /// Inside a class or a `try` (body, `except`, `else`): PEP 810 never defers it.
    #[serde(skip)]
    pub not_deferrable: bool,
    /// Under `if TYPE_CHECKING:`: never runs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub type_checking: bool,
    /// Inside a `try` that catches `ImportError` (either branch), or another guarded branch.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Under `if __name__ == "__main__":`: runs only when this file is the program.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub main_only: bool,
    /// In a `sys.version_info` branch the target Python does not take.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub other_version: bool,
    /// The `try` body this import belongs to (its failure runs the fallbacks).
    #[serde(skip)]
    pub try_group: Option<u32>,
    /// The `try` whose `except ImportError` branch holds this import (a fallback).
    #[serde(skip)]
    pub fallback_of: Option<u32>,
    /// The function (id in the file's [`Flow`]) whose body holds this import.
    #[serde(skip)]
    pub function: Option<u32>,
    /// Inside a function, under a condition (`if`, `while`, `except`, `match`, a loop over
    /// something not constant): whether it runs when the function runs is not known.
    #[serde(skip)]
    pub conditional: bool,
}

impl Context {
    /// The context of a branch that may or may not run.
    pub(super) fn branch(self) -> Context {
        Context {
            conditional: self.function.is_some(),
            ..self
        }
    }
}

/// One import as written, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `import a.b.c` (one per name; `as` does not matter).
    Import(String),
    /// `from ..a.b import x, y` (`*` kept as a name).
    From {
        /// Number of leading dots.
        level: u32,
        /// The dotted module after the dots, if any.
        module: Option<String>,
        /// Imported names.
        names: Vec<String>,
    },
    /// `importlib.import_module("name", package)` or `__import__("name")` with literals.
    Call {
        /// `import_module` or `__import__`.
        function: &'static str,
        /// The literal module name (may start with dots).
        module: String,
        /// The anchor of a relative name.
        package: CallPackage,
    },
    /// A call whose module name is not a literal; the text of the call.
    Dynamic(String),
}

/// The `package` argument of `import_module`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPackage {
    /// None given.
    None,
    /// A string literal.
    Literal(String),
    /// `__package__`: the importing module's package.
    CurrentPackage,
    /// `__name__`: the importing module itself.
    CurrentModule,
    /// Anything else (only matters for relative names).
    Unknown,
}

/// One import statement or call, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImport {
    /// 1-based line.
    pub line: u32,
    /// What was written.
    pub statement: Statement,
    /// Where it sits.
    pub context: Context,
    /// The names it binds: per imported name, the `as` name or the name itself (for
    /// `import a.b` without `as`: "a.b", which binds `a`).
    pub binds: Vec<String>,
}

/// Everything pycache needs from one source file.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// Imports in source order.
    pub imports: Vec<RawImport>,
    /// The literal `__all__`, if the module defines one.
    pub all_names: Option<Vec<String>>,
    /// Syntax errors: count and the first one (line, message).
    pub syntax_errors: usize,
    /// The first syntax error.
    pub first_error: Option<(u32, String)>,
    /// The first use of syntax newer than the target Python, if any.
    pub newer_syntax: Option<(u32, String)>,
    /// Functions, calls and bindings, for what runs at start.
    pub flow: Flow,
    /// The literal module-level `__lazy_modules__`: its line and names (PEP 810).
    pub lazy_modules: Option<(u32, Vec<String>)>,
}

/// Parses `text` for the target version and lists its imports (also from a file with
/// syntax errors: whatever the error-tolerant parse recovered).
pub fn extract(text: &str, target: PyVersion) -> Extracted {
    let parser_version = ast::PythonVersion {
        major: target.major.max(3),
        minor: if target.major < 3 {
            7
        } else {
            target.minor.max(7)
        },
    };
    let options = ParseOptions::from(Mode::Module).with_target_version(parser_version);
    let parsed = parse_unchecked(text, options);
    let lines = LineCounter::new(text);
    let mut out = Extracted {
        syntax_errors: parsed.errors().len(),
        ..Extracted::default()
    };
    if let Some(e) = parsed.errors().first() {
        out.first_error = Some((lines.line(e.location.start()), e.error.to_string()));
    }
    if let Some(e) = parsed.unsupported_syntax_errors().first() {
        out.newer_syntax = Some((lines.line(e.range.start()), e.to_string()));
    }
    let ast::Mod::Module(module) = parsed.syntax() else {
        return out;
    };
    let scan_calls = text.contains("import_module") || text.contains("__import__");
    let mut walker = Walker {
        text,
        target,
        scan_calls,
        scan_uses: text.contains("lazy"),
        lines,
        next_group: 0,
        class: None,
        consts: vec![consts::Scope::of_body(&module.body, &[], &[], scan_calls)],
        loops: Vec::new(),
        lazy_names: HashSet::new(),
        lazy_listed: text.contains("__lazy_modules__"),
        interned: std::collections::HashMap::new(),
        found: super::flow::Sites::default(),
        buf: String::new(),
        out: &mut out,
    };
    walker.body(&module.body, Context::default());
    let lazy_names = std::mem::take(&mut walker.lazy_names);
    out.flow.prune_uses(&lazy_names);
    out.flow.shrink();
    out.all_names = dunder_all(&module.body);
    out.lazy_modules = super::lazy::declared(&module.body, text);
    out
}

/// The imports of a source as (line, statement, context), for tests.
#[cfg(test)]
pub(crate) fn test_imports(src: &str) -> Vec<(u32, Statement, Context)> {
    extract(src, PyVersion::new(3, 13))
        .imports
        .into_iter()
        .map(|i| (i.line, i.statement, i.context))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(src: &str) -> Vec<(u32, Statement, Context)> {
        test_imports(src)
    }

    fn import(name: &str) -> Statement {
        Statement::Import(name.to_owned())
    }

    #[test]
    fn statements_lines_and_relative_levels() {
        let got = imports("import a.b as c, d\n\nfrom ..pkg import y as yy, z\nfrom . import *\n");
        let none = Context::default();
        assert_eq!(got[0], (1, import("a.b"), none));
        assert_eq!(got[1], (1, import("d"), none));
        let from = Statement::From {
            level: 2,
            module: Some("pkg".into()),
            names: vec!["y".into(), "z".into()],
        };
        assert_eq!(got[2], (3, from, none));
        let star = Statement::From {
            level: 1,
            module: None,
            names: vec!["*".into()],
        };
        assert_eq!(got[3], (4, star, none));
    }

    #[test]
    fn contexts() {
        let src = "\
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import tc
else:
    import rt
def f():
    import lazy1
class K:
    import eager
try:
    import ujson as json
except ImportError:
    import json
if __name__ == '__main__':
    import cli
if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli
";
        let got = imports(src);
        let ctx = |name: &str| got.iter().find(|g| g.1 == import(name)).unwrap().2;
        assert!(ctx("tc").type_checking && !ctx("rt").type_checking);
        assert!(ctx("lazy1").lazy && !ctx("eager").lazy);
        let (primary, fallback) = (ctx("ujson"), ctx("json"));
        assert!(primary.optional && fallback.optional);
        assert_eq!(primary.try_group, Some(1));
        assert_eq!(fallback.fallback_of, Some(1));
        assert!(ctx("cli").main_only);
        assert!(!ctx("tomllib").other_version && ctx("tomli").other_version);
    }

    #[test]
    fn syntax_errors_keep_recovered_imports() {
        let ex = extract(
            "import a\nimport b\ndef broken(:\n    pass\nimport c\n",
            PyVersion::new(3, 13),
        );
        assert!(ex.syntax_errors > 0);
        assert_eq!(ex.first_error.as_ref().map(|e| e.0), Some(3));
        let names: Vec<_> = ex.imports.iter().map(|i| i.statement.clone()).collect();
        assert!(names.contains(&import("a")) && names.contains(&import("c")));
    }

    #[test]
    fn dunder_all_and_newer_syntax() {
        let ex = extract(
            "__all__ = ['a', 'b']\n__all__ += ('c',)\ntype X = int\n",
            PyVersion::new(3, 11),
        );
        assert_eq!(ex.all_names, Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(ex.newer_syntax.map(|n| n.0), Some(3));
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn newer_syntax_per_target_version() {
        let newer = |src: &str, minor: u8| extract(src, PyVersion::new(3, minor)).newer_syntax;
        let tstring = "x = 1\ny = t'{x}'\n";
        assert_eq!(newer(tstring, 13).map(|n| n.0), Some(2));
        assert_eq!(newer(tstring, 14), None);
        let lazy = "import os\nlazy import json\n";
        assert_eq!(newer(lazy, 14).map(|n| n.0), Some(2));
        assert_eq!(newer(lazy, 15), None);
    }
}
