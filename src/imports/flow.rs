//! What code runs at start besides the module bodies: the functions of one file, the calls
//! each scope makes (`create_app()`, `db.init_app(app)`, `registry.load()`), the names it
//! binds, and the uses of `lazy import` names (which load the module, PEP 810).
//! [`super::startup`] resolves these across modules.

use super::extract::Context;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};
use std::collections::HashSet;

/// The functions and calls of one file.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// Every `def`, methods and nested functions too, by id.
    pub functions: Vec<Function>,
    /// Classes defined at module level.
    pub classes: Vec<Class>,
    /// What the module body itself calls, binds and uses.
    pub module: Scope,
    /// The dotted names of the sites, each once.
    pub names: Vec<Box<str>>,
}

/// One `def`.
#[derive(Debug, Clone)]
pub struct Function {
    /// `name`, or `Class.name` for a method.
    pub name: String,
    /// The function it is nested in.
    pub parent: Option<u32>,
    /// The module-level class it is a method of.
    pub class: Option<u32>,
    /// The first parameter of a method and what it holds (`self`, or `cls` of a
    /// classmethod); None for a staticmethod or a plain function.
    pub receiver: Option<(String, Receiver)>,
    /// What its body calls, binds and uses.
    pub scope: Scope,
}

/// What a method's first parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    /// An instance of the class.
    Instance,
    /// The class (a classmethod).
    Class,
}

/// A class at module level.
#[derive(Debug, Clone)]
pub struct Class {
    /// Its name.
    pub name: String,
    /// Its bases, as dotted names.
    pub bases: Vec<Box<str>>,
    /// Its methods: name and function id.
    pub methods: Vec<(String, u32)>,
}

/// What one scope (the module body or a function body) does, as far as start-up goes.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Calls of dotted names, in source order.
    pub calls: Vec<Site>,
    /// Loads of names bound by `lazy import` in this file (dotted chains).
    pub uses: Vec<Site>,
    /// Names bound by `def`, `class` or `name = callee(...)`.
    pub names: Vec<(String, Binding)>,
}

/// A dotted name at a line, with the context of the statement (small: a big project has
/// hundreds of thousands).
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// 1-based line.
    pub line: u32,
    /// `db.init_app`: index into [`Flow::names`].
    pub dotted: u32,
    /// Where the statement sits.
    pub when: When,
}

/// The parts of an [`Context`] that decide whether a site runs at start, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When(u8);

impl When {
    const LAZY: u8 = 1;
    const TYPE_CHECKING: u8 = 2;
    const OTHER_VERSION: u8 = 4;
    const MAIN_ONLY: u8 = 8;
    const CONDITIONAL: u8 = 16;

    /// From a statement's context.
    pub fn of(c: &Context) -> When {
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        When(
            bit(c.lazy, Self::LAZY)
                | bit(c.type_checking, Self::TYPE_CHECKING)
                | bit(c.other_version, Self::OTHER_VERSION)
                | bit(c.main_only, Self::MAIN_ONLY)
                | bit(c.conditional, Self::CONDITIONAL),
        )
    }

    /// In a function (or lambda): runs when called.
    pub fn lazy(self) -> bool {
        self.0 & Self::LAZY != 0
    }

    /// Under `if TYPE_CHECKING:`.
    pub fn type_checking(self) -> bool {
        self.0 & Self::TYPE_CHECKING != 0
    }

    /// In a version branch the target does not take.
    pub fn other_version(self) -> bool {
        self.0 & Self::OTHER_VERSION != 0
    }

    /// Under `if __name__ == "__main__":`.
    pub fn main_only(self) -> bool {
        self.0 & Self::MAIN_ONLY != 0
    }

    /// Under a condition inside a function.
    pub fn conditional(self) -> bool {
        self.0 & Self::CONDITIONAL != 0
    }
}

/// What a name is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// A function (id).
    Function(u32),
    /// A module-level class (id).
    Class(u32),
    /// The result of calling a dotted name (an instance, when it names a class).
    CallResult(Box<str>),
}

/// The dotted name an expression spells: `a`, `a.b.c`.
pub fn dotted(expr: &Expr) -> Option<Box<str>> {
    let mut out = String::new();
    write_dotted(expr, &mut out).then(|| out.into_boxed_str())
}

/// The first name of a dotted name, without building it.
pub fn head(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => head(&a.value),
        _ => None,
    }
}

/// The first part of a dotted name.
pub fn first(dotted: &str) -> &str {
    dotted.split('.').next().unwrap_or_default()
}

/// A dotted name found at an offset.
pub type Found<'a> = (TextSize, &'a Expr);

/// Where [`sites`] puts what it finds: the callee of each call, and each name load (reused
/// from statement to statement, so a big file allocates them once).
#[derive(Debug, Default)]
pub struct Sites<'a> {
    /// Callees (dotted names) of calls.
    pub calls: Vec<Found<'a>>,
    /// Name loads (dotted chains).
    pub uses: Vec<Found<'a>>,
}

/// The calls (of names for which `bound` holds) and, when `uses`, the name loads in one
/// statement's own expressions (nested bodies are walked by the caller; lambdas and
/// annotations do not run now and are skipped), into `out` (cleared first).
pub fn sites<'a>(stmt: &'a Stmt, bound: &dyn Fn(&str) -> bool, uses: bool, out: &mut Sites<'a>) {
    out.calls.clear();
    out.uses.clear();
    let mut finder = SiteFinder {
        out,
        bound,
        want_uses: uses,
    };
    visitor::walk_stmt(&mut finder, stmt);
    // A bare decorator is called with the function.
    let decorators = match stmt {
        Stmt::FunctionDef(f) => &f.decorator_list[..],
        Stmt::ClassDef(c) => &c.decorator_list[..],
        _ => &[],
    };
    for d in decorators
        .iter()
        .filter(|d| head(&d.expression).is_some_and(bound))
    {
        finder.out.calls.push((d.expression.start(), &d.expression));
    }
}

/// Writes the dotted name `expr` spells into `buf`; false when it is not one.
pub fn write_dotted(expr: &Expr, buf: &mut String) -> bool {
    match expr {
        Expr::Name(n) => {
            buf.push_str(n.id.as_str());
            true
        }
        Expr::Attribute(a) => {
            let ok = write_dotted(&a.value, buf);
            buf.push('.');
            buf.push_str(a.attr.as_str());
            ok
        }
        _ => false,
    }
}

struct SiteFinder<'b, 'a> {
    out: &'b mut Sites<'a>,
    bound: &'b dyn Fn(&str) -> bool,
    want_uses: bool,
}

impl<'a> Visitor<'a> for SiteFinder<'_, 'a> {
    fn visit_body(&mut self, _body: &'a [Stmt]) {}

    fn visit_annotation(&mut self, _expr: &'a Expr) {}

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Lambda(_) => return,
            Expr::Call(call) if head(&call.func).is_some_and(self.bound) => {
                self.out.calls.push((call.start(), &call.func));
            }
            Expr::Name(_) | Expr::Attribute(_) if self.want_uses && head(expr).is_some() => {
                self.out.uses.push((expr.start(), expr));
                return;
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

impl Flow {
    /// Gives back the spare capacity of every list (a big tree keeps thousands of flows).
    pub fn shrink(&mut self) {
        self.functions.shrink_to_fit();
        self.classes.shrink_to_fit();
        self.names.shrink_to_fit();
        for scope in
            std::iter::once(&mut self.module).chain(self.functions.iter_mut().map(|f| &mut f.scope))
        {
            scope.calls.shrink_to_fit();
            scope.uses.shrink_to_fit();
            scope.names.shrink_to_fit();
        }
    }

    /// The dotted name of a site.
    pub fn dotted(&self, site: &Site) -> &str {
        self.names.get(site.dotted as usize).map_or("", |n| n)
    }

    /// Keeps only the uses of names bound by `lazy import` (the only uses that matter).
    pub fn prune_uses(&mut self, lazy_names: &HashSet<String>) {
        let names = &self.names;
        let keep = |s: &Site| {
            let dotted = names.get(s.dotted as usize).map_or("", |n| n);
            lazy_names.contains(first(dotted))
        };
        for scope in
            std::iter::once(&mut self.module).chain(self.functions.iter_mut().map(|f| &mut f.scope))
        {
            scope.uses.retain(keep);
        }
    }
}

/// The receiver of a method: its first parameter, unless it is a staticmethod.
pub fn receiver(f: &ast::StmtFunctionDef) -> Option<(String, Receiver)> {
    let decorated = |name: &str| {
        f.decorator_list
            .iter()
            .any(|d| matches!(&d.expression, Expr::Name(n) if n.id.as_str() == name))
    };
    if decorated("staticmethod") {
        return None;
    }
    let first = f
        .parameters
        .posonlyargs
        .iter()
        .chain(&f.parameters.args)
        .next()?;
    let kind = if decorated("classmethod") || f.name.as_str() == "__new__" {
        Receiver::Class
    } else {
        Receiver::Instance
    };
    Some((first.parameter.name.to_string(), kind))
}

/// The names a function's parameters bind.
pub fn parameter_names(f: &ast::StmtFunctionDef) -> Vec<&str> {
    let p = &f.parameters;
    p.posonlyargs
        .iter()
        .chain(&p.args)
        .chain(&p.kwonlyargs)
        .map(|a| a.parameter.name.as_str())
        .chain(p.vararg.iter().map(|a| a.name.as_str()))
        .chain(p.kwarg.iter().map(|a| a.name.as_str()))
        .collect()
}
