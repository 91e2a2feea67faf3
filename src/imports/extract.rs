//! Parsing one source with ruff's error-tolerant parser and listing its imports, each with
//! its line and the context that decides whether it runs.

use super::calls::{dunder_all, import_calls};
use super::conditions::{catches_import_error, is_main_check, is_type_checking, version_test};
use crate::pyc::magic::PyVersion;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::{Ranged, TextSize};
use serde::Serialize;

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
    let mut lines = LineCounter::new(text);
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
    let mut walker = Walker {
        text,
        target,
        scan_calls: text.contains("import_module") || text.contains("__import__"),
        lines: LineCounter::new(text),
        next_group: 0,
        out: &mut out,
    };
    walker.body(&module.body, Context::default());
    out.all_names = dunder_all(&module.body);
    out.lazy_modules = super::lazy::declared(&module.body, text);
    out
}

struct Walker<'t, 'o> {
    text: &'t str,
    target: PyVersion,
    scan_calls: bool,
    lines: LineCounter<'t>,
    next_group: u32,
    out: &'o mut Extracted,
}

impl Walker<'_, '_> {
    fn body(&mut self, body: &[Stmt], ctx: Context) {
        for stmt in body {
            self.stmt(stmt, ctx);
        }
    }

    fn push(&mut self, at: TextSize, statement: Statement, context: Context) {
        let line = self.lines.line(at);
        self.out.imports.push(RawImport {
            line,
            statement,
            context,
        });
    }

    fn stmt(&mut self, stmt: &Stmt, ctx: Context) {
        if self.scan_calls {
            self.scan_header(stmt, ctx);
        }
        match stmt {
            Stmt::Import(s) => {
                // PEP 810 `lazy import` loads on first use, like an import in a function.
                let ctx = Context {
                    lazy: ctx.lazy || s.is_lazy,
                    ..ctx
                };
                for alias in &s.names {
                    self.push(
                        alias.start(),
                        Statement::Import(alias.name.to_string()),
                        ctx,
                    );
                }
            }
            Stmt::ImportFrom(s) => {
                let statement = Statement::From {
                    level: s.level,
                    module: s.module.as_ref().map(|m| m.to_string()),
                    names: s.names.iter().map(|a| a.name.to_string()).collect(),
                };
                let ctx = Context {
                    lazy: ctx.lazy || s.is_lazy,
                    ..ctx
                };
                self.push(s.start(), statement, ctx);
            }
            Stmt::FunctionDef(f) => self.body(&f.body, Context { lazy: true, ..ctx }),
            Stmt::ClassDef(c) => self.body(
                &c.body,
                Context {
                    not_deferrable: true,
                    ..ctx
                },
            ),
            Stmt::If(s) => self.if_stmt(s, ctx),
            Stmt::Try(t) => self.try_stmt(t, ctx),
            Stmt::For(s) => {
                self.body(&s.body, ctx);
                self.body(&s.orelse, ctx);
            }
            Stmt::While(s) => {
                self.body(&s.body, ctx);
                self.body(&s.orelse, ctx);
            }
            Stmt::With(s) => self.body(&s.body, ctx),
            Stmt::Match(m) => {
                for case in &m.cases {
                    self.body(&case.body, ctx);
                }
            }
            _ => {}
        }
    }

    fn if_stmt(&mut self, s: &ast::StmtIf, ctx: Context) {
        // Each branch runs only when the earlier tests failed; a taken version branch
        // makes every later branch "other version".
        let mut tests: Vec<(Option<&Expr>, &[Stmt])> = vec![(Some(&*s.test), &s.body[..])];
        tests.extend(
            s.elif_else_clauses
                .iter()
                .map(|c| (c.test.as_ref(), &c.body[..])),
        );
        let mut earlier_taken = false;
        for (test, body) in tests {
            let mut branch = ctx;
            branch.other_version |= earlier_taken;
            if let Some(test) = test {
                if is_type_checking(test) {
                    branch.type_checking = true;
                } else if is_main_check(test) {
                    branch.main_only = true;
                }
                match version_test(test, self.target) {
                    Some(true) => earlier_taken = true,
                    Some(false) => branch.other_version = true,
                    None => {}
                }
            }
            self.body(body, branch);
        }
    }

    fn try_stmt(&mut self, t: &ast::StmtTry, ctx: Context) {
        let guards = t.handlers.iter().any(catches_import_error);
        let group = guards.then(|| {
            self.next_group += 1;
            self.next_group
        });
        // PEP 810 defers nothing in a try's body, handlers or else (its finally, yes).
        let in_try = Context {
            not_deferrable: true,
            ..ctx
        };
        let body_ctx = match group {
            Some(g) => Context {
                optional: true,
                try_group: Some(g),
                ..in_try
            },
            None => in_try,
        };
        self.body(&t.body, body_ctx);
        for handler in &t.handlers {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            let mut handler_ctx = Context {
                optional: true,
                ..in_try
            };
            if catches_import_error(handler) {
                handler_ctx.fallback_of = group;
            }
            self.body(&h.body, handler_ctx);
        }
        self.body(
            &t.orelse,
            Context {
                optional: ctx.optional || guards,
                ..in_try
            },
        );
        self.body(&t.finalbody, ctx);
    }

    /// Finds `import_module(...)` / `__import__(...)` in a statement's own expressions
    /// (nested bodies are walked by `stmt`).
    fn scan_header(&mut self, stmt: &Stmt, ctx: Context) {
        for (at, lazy, statement) in import_calls(stmt, self.text) {
            self.push(
                at,
                statement,
                Context {
                    lazy: ctx.lazy || lazy,
                    ..ctx
                },
            );
        }
    }
}

/// Byte offset to 1-based line, counting forward from the last query (imports come in
/// source order, so the whole file is scanned about once).
struct LineCounter<'t> {
    bytes: &'t [u8],
    offset: usize,
    line: u32,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line(&mut self, at: TextSize) -> u32 {
        let at = at.to_usize().min(self.bytes.len());
        if at < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let newlines = self.bytes[self.offset..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += u32::try_from(newlines).unwrap_or(u32::MAX);
        self.offset = at;
        self.line
    }
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
