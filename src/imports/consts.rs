//! Constant strings as the import calls see them: literals, module and function names
//! bound once to a constant, loop variables over a literal tuple or list, `+` and f-strings
//! of those. `for n in ("a", "b"): import_module("plugins." + n)` imports two known modules.

use ruff_python_ast::{self as ast, Expr, InterpolatedStringElement, Stmt};
use std::collections::{HashMap, HashSet};

/// A constant value: one string or a sequence of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `"a.b"`.
    Str(String),
    /// `("a", "b")`, `["a", "b"]`.
    Seq(Vec<String>),
}

/// The constants of one scope (the module, or a function).
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    values: HashMap<&'a str, Value>,
    /// Names bound here that are not constants (parameters, reassigned names): they hide
    /// an outer constant of the same name.
    hidden: HashSet<&'a str>,
    /// Names bound to something a call can resolve through: imports, `def`, `class`,
    /// `name = callee(...)`, a method's receiver.
    resolvable: HashSet<&'a str>,
}

/// More combinations than this and the call stays dynamic.
const MAX_VALUES: usize = 256;

impl<'a> Scope<'a> {
    /// Whether `name` may denote a module, function, class or instance here.
    pub fn resolves(&self, name: &str) -> bool {
        self.resolvable.contains(name)
    }

    /// Adds a name that may denote an instance (a method's receiver).
    pub fn add_resolvable(&mut self, name: &'a str) {
        self.resolvable.insert(name);
    }

    /// The constants of a body: names bound exactly once, by a plain assignment of a
    /// constant (evaluated in order, so one constant can use an earlier one). `params`
    /// are hidden (a function's parameters). Without `constants`, only the resolvable
    /// names (a file without import calls needs no constants).
    pub fn of_body(
        body: &'a [Stmt],
        params: &[&'a str],
        outer: &[&Scope<'_>],
        constants: bool,
    ) -> Scope<'a> {
        let mut found = Bindings {
            constants,
            ..Bindings::default()
        };
        found.body(body);
        let mut scope = Scope {
            resolvable: found.resolvable.into_iter().collect(),
            ..Scope::default()
        };
        if !constants {
            return scope;
        }
        let (counts, assigned) = (found.counts, found.assigned);
        scope.hidden.extend(params.iter().copied());
        for (name, value) in assigned {
            if counts.get(name) != Some(&1) || scope.hidden.contains(name) {
                continue;
            }
            let found = {
                let mut chain: Vec<&Scope<'_>> = vec![&scope];
                chain.extend(outer);
                Env {
                    scopes: chain,
                    loops: &[],
                }
                .value(value)
            };
            if let Some(v) = found {
                scope.values.insert(name, v);
            }
        }
        for (name, n) in counts {
            if !scope.values.contains_key(name) && n > 0 {
                scope.hidden.insert(name);
            }
        }
        scope
    }
}

/// Every name a body binds (assignments, loops, `with`, imports, definitions), counted, the
/// plain `name = value` assignments, and the resolvable names; nested function and class
/// bodies are their own scopes and are not entered.
#[derive(Default)]
struct Bindings<'a> {
    /// Count and keep assignments (only constants need them).
    constants: bool,
    counts: HashMap<&'a str, usize>,
    assigned: Vec<(&'a str, &'a Expr)>,
    resolvable: Vec<&'a str>,
}

impl<'a> Bindings<'a> {
    fn bump(&mut self, e: &'a Expr) {
        if !self.constants {
            return;
        }
        let mut names = Vec::new();
        target_names(e, &mut names);
        for n in names {
            *self.counts.entry(n).or_default() += 1;
        }
    }

    fn name(&mut self, name: &'a str, resolvable: bool) {
        if self.constants {
            *self.counts.entry(name).or_default() += 1;
        }
        if resolvable {
            self.resolvable.push(name);
        }
    }

    fn body(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    self.bump(t);
                }
                if let [Expr::Name(n)] = &a.targets[..] {
                    if self.constants {
                        self.assigned.push((n.id.as_str(), &a.value));
                    }
                    if a.value.is_call_expr() {
                        self.resolvable.push(n.id.as_str());
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                self.bump(&a.target);
                if let (Expr::Name(n), Some(v)) = (&*a.target, &a.value)
                    && self.constants
                {
                    self.assigned.push((n.id.as_str(), v));
                }
            }
            Stmt::AugAssign(a) => self.bump(&a.target),
            Stmt::For(f) => {
                self.bump(&f.target);
                self.body(&f.body);
                self.body(&f.orelse);
            }
            Stmt::While(w) => {
                self.body(&w.body);
                self.body(&w.orelse);
            }
            Stmt::If(s) => {
                self.body(&s.body);
                for c in &s.elif_else_clauses {
                    self.body(&c.body);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        self.bump(v);
                    }
                }
                self.body(&w.body);
            }
            Stmt::Try(t) => {
                self.body(&t.body);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        self.name(n.id.as_str(), false);
                    }
                    self.body(&h.body);
                }
                self.body(&t.orelse);
                self.body(&t.finalbody);
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    self.body(&case.body);
                }
            }
            Stmt::FunctionDef(f) => self.name(f.name.id.as_str(), true),
            Stmt::ClassDef(c) => self.name(c.name.id.as_str(), true),
            Stmt::Import(i) => {
                for a in &i.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name);
                    self.name(local.id.split('.').next().unwrap_or_default(), true);
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    self.name(a.asname.as_ref().unwrap_or(&a.name).id.as_str(), true);
                }
            }
            _ => {}
        }
    }
}

/// The names an assignment or loop target binds.
pub fn target_names<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    match e {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// A loop variable bound to each of several strings in turn.
#[derive(Debug, Clone)]
pub struct Loop {
    /// The variable.
    pub name: String,
    /// Its values.
    pub values: Vec<String>,
}

/// Where names are looked up: the loops around the expression (innermost last), then the
/// scopes (innermost first).
pub struct Env<'a> {
    /// Innermost first.
    pub scopes: Vec<&'a Scope<'a>>,
    /// Outermost first.
    pub loops: &'a [Loop],
}

impl Env<'_> {
    /// Every string `expr` can be, one per combination of the loop variables it uses; None
    /// when any part is not a constant.
    pub fn strings(&self, expr: &Expr) -> Option<Vec<String>> {
        let mut used: Vec<usize> = Vec::new();
        self.loops_used(expr, &mut used);
        used.sort_unstable();
        used.dedup();
        let total = used
            .iter()
            .try_fold(1usize, |n, &l| n.checked_mul(self.loops[l].values.len()))?;
        if total == 0 || total > MAX_VALUES {
            return None;
        }
        let mut out = Vec::with_capacity(total);
        for k in 0..total {
            let mut rest = k;
            let mut pick: HashMap<&str, &str> = HashMap::new();
            for &l in &used {
                let lp = &self.loops[l];
                pick.insert(lp.name.as_str(), lp.values[rest % lp.values.len()].as_str());
                rest /= lp.values.len();
            }
            out.push(self.one(expr, &pick)?);
        }
        out.dedup();
        Some(out)
    }

    /// The strings a loop's iterable yields, when it is a constant sequence.
    pub fn sequence(&self, expr: &Expr) -> Option<Vec<String>> {
        match self.value(expr)? {
            Value::Seq(items) if items.len() <= MAX_VALUES => Some(items),
            _ => None,
        }
    }

    fn value(&self, expr: &Expr) -> Option<Value> {
        let elts = match expr {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            Expr::Name(n) => return self.lookup(n.id.as_str()).cloned(),
            _ => return self.one(expr, &HashMap::new()).map(Value::Str),
        };
        elts.iter()
            .map(|e| self.one(e, &HashMap::new()))
            .collect::<Option<Vec<_>>>()
            .map(Value::Seq)
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        for scope in &self.scopes {
            if let Some(v) = scope.values.get(name) {
                return Some(v);
            }
            if scope.hidden.contains(name) {
                return None;
            }
        }
        None
    }

    fn loop_of(&self, name: &str) -> Option<usize> {
        self.loops.iter().rposition(|l| l.name == name)
    }

    fn loops_used(&self, expr: &Expr, out: &mut Vec<usize>) {
        match expr {
            Expr::Name(n) => out.extend(self.loop_of(n.id.as_str())),
            Expr::BinOp(b) => {
                self.loops_used(&b.left, out);
                self.loops_used(&b.right, out);
            }
            Expr::FString(f) => {
                for part in &f.value {
                    if let ast::FStringPart::FString(fs) = part {
                        for el in &fs.elements {
                            if let InterpolatedStringElement::Interpolation(i) = el {
                                self.loops_used(&i.expression, out);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// One string, with the loop variables fixed by `pick`.
    fn one(&self, expr: &Expr, pick: &HashMap<&str, &str>) -> Option<String> {
        match expr {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_owned()),
            Expr::Name(n) => {
                let name = n.id.as_str();
                if self.loop_of(name).is_some() {
                    return pick.get(name).map(|v| (*v).to_owned());
                }
                match self.lookup(name)? {
                    Value::Str(s) => Some(s.clone()),
                    Value::Seq(_) => None,
                }
            }
            Expr::BinOp(b) if b.op == ast::Operator::Add => {
                Some(self.one(&b.left, pick)? + &self.one(&b.right, pick)?)
            }
            Expr::FString(f) => {
                let mut out = String::new();
                for part in &f.value {
                    match part {
                        ast::FStringPart::Literal(s) => out.push_str(&s.value),
                        ast::FStringPart::FString(fs) => {
                            for el in &fs.elements {
                                match el {
                                    InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                                    InterpolatedStringElement::Interpolation(i) => {
                                        let plain = i.format_spec.is_none()
                                            && i.debug_text.is_none()
                                            && matches!(
                                                i.conversion,
                                                ast::ConversionFlag::None
                                                    | ast::ConversionFlag::Str
                                            );
                                        if !plain {
                                            return None;
                                        }
                                        out.push_str(&self.one(&i.expression, pick)?);
                                    }
                                }
                            }
                        }
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_module;

    fn body(src: &str) -> Vec<Stmt> {
        parse_module(src)
            .unwrap()
            .into_syntax()
            .body
            .into_iter()
            .collect()
    }

    fn expr(src: &str) -> Expr {
        match body(src).remove(0) {
            Stmt::Expr(e) => *e.value,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn constants_loops_concatenation_and_fstrings() {
        let src = body("BASE = 'app.'\nNAMES = ('a', 'b')\nX = 1\nX = 2\nPKG = BASE + 'plugins'\n");
        let module = Scope::of_body(&src, &[], &[], true);
        let loops = [Loop {
            name: "n".into(),
            values: vec!["a".into(), "b".into()],
        }];
        let env = Env {
            scopes: vec![&module],
            loops: &loops,
        };
        assert_eq!(
            env.strings(&expr("PKG + '.' + n")),
            Some(vec!["app.plugins.a".into(), "app.plugins.b".into()])
        );
        assert_eq!(
            env.strings(&expr("f'{BASE}x.{n}'")),
            Some(vec!["app.x.a".into(), "app.x.b".into()])
        );
        assert_eq!(
            env.sequence(&expr("NAMES")),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(env.strings(&expr("X")), None, "assigned twice");
        assert_eq!(env.strings(&expr("f'{n!r}'")), None);
        assert_eq!(env.strings(&expr("unknown + 'x'")), None);
    }

    #[test]
    fn parameters_and_reassigned_names_hide_outer_constants() {
        let (outer, inner) = (
            body("name = 'outer'\nother = 'o'\n"),
            body("other = 'x'\nother = 'y'\n"),
        );
        let module = Scope::of_body(&outer, &[], &[], true);
        let func = Scope::of_body(&inner, &["name"], &[&module], true);
        let env = Env {
            scopes: vec![&func, &module],
            loops: &[],
        };
        assert_eq!(env.strings(&expr("name")), None);
        assert_eq!(env.strings(&expr("other")), None);
    }
}
