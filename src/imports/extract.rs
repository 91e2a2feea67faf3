//! Parsing one source with ruff's error-tolerant parser and listing its imports, each with
//! its line and the context that decides whether it runs.

use super::calls::{dunder_all, import_calls};
use super::conditions::{catches_import_error, is_main_check, is_type_checking, version_test};
use super::consts::{self, Env, Loop};
use super::flow::{self, Binding, Flow, Site};
use crate::pyc::magic::PyVersion;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::{Ranged, TextSize};
use serde::Serialize;
use std::collections::HashSet;

/// Where an import sits, as far as that decides whether and when it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    /// Inside a function or lambda: runs when called, not at import.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lazy: bool,
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
    /// A PEP 810 `lazy import` statement: it loads when its name is first used.
    #[serde(skip)]
    pub lazy_statement: bool,
    /// Inside a function, under a condition (`if`, `while`, `except`, `match`, a loop over
    /// something not constant): whether it runs when the function runs is not known.
    #[serde(skip)]
    pub conditional: bool,
}

impl Context {
    /// The context of a branch that may or may not run.
    fn branch(self) -> Context {
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
    let mut walker = Walker {
        text,
        target,
        scan_calls: text.contains("import_module") || text.contains("__import__"),
        scan_uses: text.contains("lazy"),
        lines,
        next_group: 0,
        class: None,
        consts: vec![consts::Scope::of_body(&module.body, &[], &[])],
        loops: Vec::new(),
        lazy_names: HashSet::new(),
        out: &mut out,
    };
    walker.body(&module.body, Context::default());
    let lazy_names = std::mem::take(&mut walker.lazy_names);
    out.flow.prune_uses(&lazy_names);
    out.all_names = dunder_all(&module.body);
    out
}

struct Walker<'t, 'o> {
    text: &'t str,
    target: PyVersion,
    scan_calls: bool,
    scan_uses: bool,
    lines: LineCounter,
    next_group: u32,
    /// None outside a class body; Some(None) in the body of a class not tracked (nested).
    class: Option<Option<u32>>,
    /// Constants of the enclosing scopes, outermost first.
    consts: Vec<consts::Scope>,
    /// The constant loops around the statement, outermost first.
    loops: Vec<Loop>,
    /// Names bound by `lazy import` statements.
    lazy_names: HashSet<String>,
    out: &'o mut Extracted,
}

impl Walker<'_, '_> {
    fn body(&mut self, body: &[Stmt], ctx: Context) {
        for stmt in body {
            self.stmt(stmt, ctx);
        }
    }

    fn push(&mut self, at: TextSize, statement: Statement, context: Context, binds: Vec<String>) {
        let line = self.lines.line(at);
        self.out.imports.push(RawImport {
            line,
            statement,
            context,
            binds,
        });
    }

    /// The scope of the function the statement is in (or the module's).
    fn scope_mut(&mut self, ctx: Context) -> &mut flow::Scope {
        let flow = &mut self.out.flow;
        match ctx.function {
            Some(f) => &mut flow.functions[f as usize].scope,
            None => &mut flow.module,
        }
    }

    fn env(&self) -> Env<'_> {
        Env {
            scopes: self.consts.iter().rev().collect(),
            loops: &self.loops,
        }
    }

    /// Records the calls (of names bound somewhere in scope) and the name uses of one
    /// statement.
    fn record_sites(&mut self, stmt: &Stmt, ctx: Context) {
        let (calls, uses) = flow::sites(stmt);
        let calls: Vec<Site> = calls
            .into_iter()
            .filter(|(_, d)| self.consts.iter().any(|s| s.binds(&d[0])))
            .map(|(at, dotted)| Site {
                line: self.lines.line(at),
                dotted,
                context: ctx,
            })
            .collect();
        let uses: Vec<Site> = if self.scan_uses {
            uses.into_iter()
                .map(|(at, dotted)| Site {
                    line: self.lines.line(at),
                    dotted,
                    context: ctx,
                })
                .collect()
        } else {
            Vec::new()
        };
        let scope = self.scope_mut(ctx);
        scope.calls.extend(calls);
        scope.uses.extend(uses);
    }

    fn stmt(&mut self, stmt: &Stmt, ctx: Context) {
        if self.scan_calls {
            self.scan_header(stmt, ctx);
        }
        self.record_sites(stmt, ctx);
        match stmt {
            Stmt::Import(s) => {
                // PEP 810 `lazy import` loads on first use, like an import in a function.
                let ctx = Context {
                    lazy: ctx.lazy || s.is_lazy,
                    lazy_statement: s.is_lazy,
                    ..ctx
                };
                for alias in &s.names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                    if s.is_lazy {
                        let head = local.split('.').next().unwrap_or_default();
                        self.lazy_names.insert(head.to_owned());
                    }
                    self.push(
                        alias.start(),
                        Statement::Import(alias.name.to_string()),
                        ctx,
                        vec![local],
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
                    lazy_statement: s.is_lazy,
                    ..ctx
                };
                let binds: Vec<String> = s
                    .names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).to_string())
                    .collect();
                if s.is_lazy {
                    self.lazy_names.extend(binds.iter().cloned());
                }
                self.push(s.start(), statement, ctx, binds);
            }
            Stmt::FunctionDef(f) => self.function(f, ctx),
            Stmt::ClassDef(c) => self.class(c, ctx),
            Stmt::If(s) => self.if_stmt(s, ctx),
            Stmt::Try(t) => self.try_stmt(t, ctx),
            Stmt::Assign(a) => {
                if let ([Expr::Name(n)], Expr::Call(call)) = (&a.targets[..], &*a.value)
                    && let Some(callee) = flow::dotted(&call.func)
                {
                    let bound = (n.id.to_string(), Binding::CallResult(callee));
                    self.scope_mut(ctx).names.push(bound);
                }
            }
            Stmt::For(s) => {
                // A loop over constant strings binds its variable to each in turn (for the
                // import calls in its body); any other loop hides an outer one's variable.
                let mut names = Vec::new();
                let values = match &*s.target {
                    Expr::Name(n) => {
                        names.push(n.id.to_string());
                        self.env().sequence(&s.iter)
                    }
                    other => {
                        names.extend(flow::dotted(other).into_iter().flatten());
                        None
                    }
                };
                let pushed = names.len();
                for name in names {
                    self.loops.push(Loop {
                        name,
                        values: values.clone().unwrap_or_default(),
                    });
                }
                let body_ctx = if values.as_ref().is_some_and(|v| !v.is_empty()) {
                    ctx
                } else {
                    ctx.branch()
                };
                self.body(&s.body, body_ctx);
                self.loops.truncate(self.loops.len() - pushed);
                self.body(&s.orelse, ctx);
            }
            Stmt::While(s) => {
                self.body(&s.body, ctx.branch());
                self.body(&s.orelse, ctx.branch());
            }
            Stmt::With(s) => self.body(&s.body, ctx),
            Stmt::Match(m) => {
                for case in &m.cases {
                    self.body(&case.body, ctx.branch());
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
            let mut branch = ctx.branch();
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
        let body_ctx = match group {
            Some(g) => Context {
                optional: true,
                try_group: Some(g),
                ..ctx
            },
            None => ctx,
        };
        self.body(&t.body, body_ctx);
        for handler in &t.handlers {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            let mut handler_ctx = Context {
                optional: true,
                ..ctx.branch()
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
                ..ctx
            },
        );
        self.body(&t.finalbody, ctx);
    }

    /// Finds `import_module(...)` / `__import__(...)` in a statement's own expressions
    /// (nested bodies are walked by `stmt`).
    fn scan_header(&mut self, stmt: &Stmt, ctx: Context) {
        let found = import_calls(stmt, self.text, &self.env());
        for (at, lazy, statement) in found {
            self.push(
                at,
                statement,
                Context {
                    lazy: ctx.lazy || lazy,
                    ..ctx
                },
                Vec::new(),
            );
        }
    }

    /// A `def`: its own entry in the flow, its body a scope that runs when called.
    fn function(&mut self, f: &ast::StmtFunctionDef, ctx: Context) {
        let id = u32::try_from(self.out.flow.functions.len()).unwrap_or(u32::MAX);
        let class = self.class.flatten();
        let name = match class {
            Some(c) => format!("{}.{}", self.out.flow.classes[c as usize].name, f.name),
            None => f.name.to_string(),
        };
        self.out.flow.functions.push(flow::Function {
            name,
            parent: ctx.function,
            class,
            receiver: class.and_then(|_| flow::receiver(f)),
            scope: flow::Scope::default(),
        });
        match (self.class, class) {
            (_, Some(c)) => self.out.flow.classes[c as usize]
                .methods
                .push((f.name.to_string(), id)),
            // A method of a class pycache does not track: no name in any scope.
            (Some(_), None) => {}
            (None, None) => {
                let bound = (f.name.to_string(), Binding::Function(id));
                self.scope_mut(ctx).names.push(bound);
            }
        }
        let params = flow::parameter_names(f);
        let scope = {
            let outer: Vec<&consts::Scope> = self.consts.iter().rev().collect();
            consts::Scope::of_body(&f.body, &params, &outer)
        };
        self.consts.push(scope);
        // The closure sees a loop variable's last value, not each: loops stay outside.
        let loops = std::mem::take(&mut self.loops);
        let saved_class = self.class.take();
        self.body(
            &f.body,
            Context {
                lazy: true,
                function: Some(id),
                conditional: false,
                ..ctx
            },
        );
        self.class = saved_class;
        self.loops = loops;
        self.consts.pop();
    }

    /// A `class`: its body runs now; module-level classes are tracked with their methods.
    fn class(&mut self, c: &ast::StmtClassDef, ctx: Context) {
        let tracked = ctx.function.is_none() && self.class.is_none();
        let id = tracked.then(|| {
            let id = u32::try_from(self.out.flow.classes.len()).unwrap_or(u32::MAX);
            let bases = c
                .arguments
                .iter()
                .flat_map(|a| a.args.iter())
                .filter_map(flow::dotted)
                .collect();
            self.out.flow.classes.push(flow::Class {
                name: c.name.to_string(),
                bases,
                methods: Vec::new(),
            });
            self.out
                .flow
                .module
                .names
                .push((c.name.to_string(), Binding::Class(id)));
            id
        });
        let saved = self.class.replace(id);
        self.body(&c.body, ctx);
        self.class = saved;
    }
}

/// Byte offset to 1-based line, by binary search over the line starts (sites are found
/// out of source order: decorators after their function's header).
struct LineCounter {
    starts: Vec<usize>,
}

impl LineCounter {
    fn new(text: &str) -> Self {
        let starts = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        Self { starts }
    }

    fn line(&self, at: TextSize) -> u32 {
        let before = self.starts.partition_point(|&s| s <= at.to_usize());
        u32::try_from(before + 1).unwrap_or(u32::MAX)
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
