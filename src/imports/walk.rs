//! Walking one module's statements: every import with the context that decides whether
//! it runs, and the functions, calls and constants that [`super::flow`] and
//! [`super::startup`] need.

use super::calls::import_calls;
use super::conditions::{catches_import_error, is_main_check, is_type_checking, version_test};
use super::consts::{self, Env, Loop};
use super::extract::{Context, Extracted, RawImport, Statement};
use super::flow::{self, Binding, Site};
use crate::pyc::magic::PyVersion;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};
use std::collections::{HashMap, HashSet};

/// Walks one module's statements with the context of each.
pub(super) struct Walker<'t, 'o, 'a> {
    pub(super) text: &'t str,
    pub(super) target: PyVersion,
    pub(super) scan_calls: bool,
    pub(super) scan_uses: bool,
    pub(super) lines: LineCounter,
    pub(super) next_group: u32,
    /// None outside a class body; Some(None) in the body of a class not tracked (nested).
    pub(super) class: Option<Option<u32>>,
    /// Constants of the enclosing scopes, outermost first.
    pub(super) consts: Vec<consts::Scope<'a>>,
    /// The constant loops around the statement, outermost first.
    pub(super) loops: Vec<Loop>,
    /// Names bound by `lazy import` statements (and by every module-level import when
    /// the file has a `__lazy_modules__`, which may defer any of them).
    pub(super) lazy_names: HashSet<String>,
    /// The file mentions `__lazy_modules__`.
    pub(super) lazy_listed: bool,
    /// Index of each dotted name in the flow's names.
    pub(super) interned: HashMap<Box<str>, u32>,
    /// What one statement's expressions hold (reused).
    pub(super) found: flow::Sites<'a>,
    /// Where a dotted name is spelled out (reused).
    pub(super) buf: String,
    pub(super) out: &'o mut Extracted,
}

impl<'a> Walker<'_, '_, 'a> {
    pub(super) fn body(&mut self, body: &'a [Stmt], ctx: Context) {
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
    fn record_sites(&mut self, stmt: &'a Stmt, ctx: Context) {
        let consts = &self.consts;
        let bound = |head: &str| consts.iter().any(|s| s.resolves(head));
        flow::sites(stmt, &bound, self.scan_uses, &mut self.found);
        if self.found.calls.is_empty() && self.found.uses.is_empty() {
            return;
        }
        let when = flow::When::of(&ctx);
        let mut intern = |at: TextSize, expr: &Expr, lines: &LineCounter| {
            self.buf.clear();
            flow::write_dotted(expr, &mut self.buf);
            let dotted = match self.interned.get(self.buf.as_str()) {
                Some(&i) => i,
                None => {
                    let i = u32::try_from(self.out.flow.names.len()).unwrap_or(u32::MAX);
                    let name: Box<str> = self.buf.as_str().into();
                    self.out.flow.names.push(name.clone());
                    self.interned.insert(name, i);
                    i
                }
            };
            Site {
                line: lines.line(at),
                dotted,
                when,
            }
        };
        let calls: Vec<Site> = self
            .found
            .calls
            .iter()
            .map(|&(at, e)| intern(at, e, &self.lines))
            .collect();
        let uses: Vec<Site> = self
            .found
            .uses
            .iter()
            .map(|&(at, e)| intern(at, e, &self.lines))
            .collect();
        let scope = self.scope_mut(ctx);
        scope.calls.extend(calls);
        scope.uses.extend(uses);
    }

    fn stmt(&mut self, stmt: &'a Stmt, ctx: Context) {
        if self.scan_calls {
            self.scan_header(stmt, ctx);
        }
        self.record_sites(stmt, ctx);
        match stmt {
            Stmt::Import(s) => {
                // PEP 810 `lazy import` loads on first use, like an import in a function.
                let ctx = Context {
                    lazy: ctx.lazy || s.is_lazy,
                    ..ctx
                };
                for alias in &s.names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                    if s.is_lazy || (self.lazy_listed && ctx.function.is_none()) {
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
                    ..ctx
                };
                let binds: Vec<String> = s
                    .names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).to_string())
                    .collect();
                if s.is_lazy || (self.lazy_listed && ctx.function.is_none()) {
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
                    && flow::head(&call.func)
                        .is_some_and(|h| self.consts.iter().any(|s| s.resolves(h)))
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
                        let mut bound = Vec::new();
                        consts::target_names(other, &mut bound);
                        names.extend(bound.into_iter().map(str::to_owned));
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

    fn if_stmt(&mut self, s: &'a ast::StmtIf, ctx: Context) {
        // Each branch runs only when the earlier tests failed; a taken version branch
        // makes every later branch "other version".
        let mut tests: Vec<(Option<&Expr>, &'a [Stmt])> = vec![(Some(&*s.test), &s.body[..])];
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

    fn try_stmt(&mut self, t: &'a ast::StmtTry, ctx: Context) {
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
                ..in_try.branch()
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
    fn function(&mut self, f: &'a ast::StmtFunctionDef, ctx: Context) {
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
            let mut scope = consts::Scope::of_body(&f.body, &params, &outer, self.scan_calls);
            let first = f
                .parameters
                .posonlyargs
                .iter()
                .chain(&f.parameters.args)
                .next();
            if class.is_some()
                && let Some(receiver) = first
            {
                scope.add_resolvable(receiver.parameter.name.as_str());
            }
            scope
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
    fn class(&mut self, c: &'a ast::StmtClassDef, ctx: Context) {
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
        self.body(
            &c.body,
            Context {
                not_deferrable: true,
                ..ctx
            },
        );
        self.class = saved;
    }
}

/// Byte offset to 1-based line, by binary search over the line starts (sites are found
/// out of source order: decorators after their function's header).
pub(super) struct LineCounter {
    starts: Vec<usize>,
}

impl LineCounter {
    pub(super) fn new(text: &str) -> Self {
        let starts = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        Self { starts }
    }

    pub(super) fn line(&self, at: TextSize) -> u32 {
        let before = self.starts.partition_point(|&s| s <= at.to_usize());
        u32::try_from(before + 1).unwrap_or(u32::MAX)
    }
}
