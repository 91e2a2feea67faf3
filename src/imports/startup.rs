//! What else runs at start: the project functions a module body calls (`app =
//! create_app()`, `db.init_app(app)`, `Flask(__name__)` runs `Flask.__init__`), the functions
//! those call, to a bounded depth, and the `lazy import` names that code uses (PEP 810: a
//! use loads the module). Imports inside such functions run at start, not lazily.

use super::flow::{Binding, Receiver, Site, first};
use super::graph::{Import, Module};
use std::collections::{HashMap, HashSet};

/// How many calls deep start-up is followed from a module body.
pub const MAX_DEPTH: usize = 8;
/// How many name hops (re-exports, aliases, base classes) one lookup may take.
const MAX_HOPS: usize = 16;

/// A value a dotted name can denote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Module(usize),
    Function(usize, u32),
    Class(usize, u32),
    Instance(usize, u32),
}

/// One import that runs at start for a reason: (module, import index, why).
pub type AtStart = (usize, usize, String);

/// Follows start-up calls across the project's modules.
pub struct Startup<'a> {
    modules: &'a [Module],
    by_name: HashMap<&'a str, usize>,
    visited: HashSet<(usize, u32)>,
}

impl<'a> Startup<'a> {
    /// Over all modules of a graph.
    pub fn new(modules: &'a [Module]) -> Self {
        let mut by_name = HashMap::new();
        for (i, m) in modules.iter().enumerate() {
            by_name.entry(m.name.as_str()).or_insert(i);
        }
        Startup {
            modules,
            by_name,
            visited: HashSet::new(),
        }
    }

    /// The imports that run at start because module `i`'s body ran: the imports in the
    /// functions it calls (and they call), and the `lazy import`s all that code uses.
    pub fn run_module(&mut self, i: usize, as_main: bool) -> Vec<AtStart> {
        let m = &self.modules[i];
        let runs = |s: &&Site| {
            let w = s.when;
            !w.lazy() && !w.type_checking() && !w.other_version() && (!w.main_only() || as_main)
        };
        let mut out = Vec::new();
        for site in m.flow.module.uses.iter().filter(runs) {
            let why = format!(
                "{} is used at line {} of {}",
                m.flow.dotted(site),
                site.line,
                m.path
            );
            out.extend(reified(m, site, None).map(|k| (i, k, why.clone())));
        }
        let mut work: Vec<(usize, u32, usize, String)> = Vec::new();
        for site in m.flow.module.calls.iter().filter(runs) {
            for (j, f) in self.callables(i, None, m.flow.dotted(site)) {
                let why = format!(
                    "{} line {} calls {}()",
                    m.path, site.line, self.modules[j].flow.functions[f as usize].name
                );
                work.push((j, f, 1, why));
            }
        }
        work.reverse();
        while let Some((j, f, depth, why)) = work.pop() {
            if !self.visited.insert((j, f)) {
                continue;
            }
            let module = &self.modules[j];
            for (k, imp) in module.imports.iter().enumerate() {
                if imp.context.function == Some(f) && runs_in_call(imp) {
                    out.push((j, k, why.clone()));
                }
            }
            // What runs only under a condition in the function stays lazy: pycache does not
            // evaluate the condition.
            let scope = &module.flow.functions[f as usize].scope;
            for site in scope.uses.iter().filter(|s| !s.when.conditional()) {
                out.extend(reified(module, site, Some(f)).map(|k| (j, k, why.clone())));
            }
            if depth >= MAX_DEPTH {
                continue;
            }
            let mut next = Vec::new();
            for site in scope
                .calls
                .iter()
                .filter(|s| !s.when.type_checking() && !s.when.conditional())
            {
                for (t, g) in self.callables(j, Some(f), module.flow.dotted(site)) {
                    let name = &self.modules[t].flow.functions[g as usize].name;
                    next.push((t, g, depth + 1, format!("{why} -> {name}()")));
                }
            }
            next.reverse();
            work.extend(next);
        }
        out
    }

    /// The functions a call of `dotted` in module `m` (inside function `scope`) runs.
    fn callables(&self, m: usize, scope: Option<u32>, dotted: &str) -> Vec<(usize, u32)> {
        let mut hops = 0;
        let Some(value) = self.value(m, scope, dotted, &mut hops) else {
            return Vec::new();
        };
        match value {
            Value::Function(j, f) => vec![(j, f)],
            Value::Class(j, c) => ["__new__", "__init__", "__post_init__"]
                .iter()
                .filter_map(|name| self.method(j, c, name, &mut hops))
                .collect(),
            Value::Instance(j, c) => self
                .method(j, c, "__call__", &mut hops)
                .into_iter()
                .collect(),
            Value::Module(_) => Vec::new(),
        }
    }

    fn value(&self, m: usize, scope: Option<u32>, dotted: &str, hops: &mut usize) -> Option<Value> {
        let mut parts = dotted.split('.');
        let mut v = self.name(m, scope, parts.next()?, hops)?;
        for attr in parts {
            v = self.attribute(v, attr, hops)?;
        }
        Some(v)
    }

    /// What `name` denotes in module `m`, looked up from function `scope` outwards.
    fn name(&self, m: usize, scope: Option<u32>, name: &str, hops: &mut usize) -> Option<Value> {
        *hops += 1;
        if *hops > MAX_HOPS {
            return None;
        }
        let flow = &self.modules[m].flow;
        let mut at = scope;
        loop {
            let names = match at {
                Some(f) => &flow.functions.get(f as usize)?.scope.names,
                None => &flow.module.names,
            };
            if let Some((_, b)) = names.iter().rev().find(|(n, _)| n == name) {
                return self.binding(m, at, b, hops);
            }
            if let Some(v) = self.imported(m, at, name, hops) {
                return Some(v);
            }
            let f = at?;
            let func = &flow.functions[f as usize];
            if let (Some((receiver, kind)), Some(c)) = (&func.receiver, func.class)
                && receiver == name
            {
                return Some(match kind {
                    Receiver::Instance => Value::Instance(m, c),
                    Receiver::Class => Value::Class(m, c),
                });
            }
            at = func.parent;
        }
    }

    fn binding(&self, m: usize, at: Option<u32>, b: &Binding, hops: &mut usize) -> Option<Value> {
        match b {
            Binding::Function(f) => Some(Value::Function(m, *f)),
            Binding::Class(c) => Some(Value::Class(m, *c)),
            Binding::CallResult(callee) => match self.value(m, at, callee, hops)? {
                Value::Class(j, c) => Some(Value::Instance(j, c)),
                _ => None,
            },
        }
    }

    /// A name bound by an import in that scope (one that runs there).
    fn imported(&self, m: usize, at: Option<u32>, name: &str, hops: &mut usize) -> Option<Value> {
        let module = &self.modules[m];
        let (imp, bind) = module
            .imports
            .iter()
            .filter(|i| i.context.function == at && binds_at_run_time(i))
            .flat_map(|i| i.binds.iter().map(move |b| (i, b)))
            .rfind(|(i, b)| b.local(&i.module) == name)?;
        let base = Value::Module(*self.by_name.get(bind.module(&imp.module))?);
        match &bind.attr {
            None => Some(base),
            Some(attr) => self.attribute(base, attr, hops),
        }
    }

    fn attribute(&self, v: Value, attr: &str, hops: &mut usize) -> Option<Value> {
        match v {
            Value::Module(m) => {
                let sub = format!("{}.{attr}", self.modules[m].name);
                match self.by_name.get(sub.as_str()) {
                    Some(&s) => Some(Value::Module(s)),
                    None => self.name(m, None, attr, hops),
                }
            }
            Value::Class(m, c) | Value::Instance(m, c) => self
                .method(m, c, attr, hops)
                .map(|(j, f)| Value::Function(j, f)),
            Value::Function(..) => None,
        }
    }

    /// A method of class `c` of module `m`, or of its bases.
    fn method(&self, m: usize, c: u32, name: &str, hops: &mut usize) -> Option<(usize, u32)> {
        *hops += 1;
        if *hops > MAX_HOPS {
            return None;
        }
        let class = self.modules[m].flow.classes.get(c as usize)?;
        if let Some((_, f)) = class.methods.iter().find(|(n, _)| n == name) {
            return Some((m, *f));
        }
        class
            .bases
            .iter()
            .find_map(|base| match self.value(m, None, base, hops)? {
                Value::Class(j, bc) => self.method(j, bc, name, hops),
                _ => None,
            })
    }
}

/// Whether an import binds its names when its scope runs.
fn binds_at_run_time(i: &Import) -> bool {
    !i.context.type_checking && !i.context.other_version && !i.fallback_unused
}

/// Whether PEP 810 defers an import (`lazy import`, `__lazy_modules__`, the `all` mode):
/// a lazy import statement at module level (module-level imports are lazy for no other
/// reason; import calls bind no names).
fn deferred(i: &Import) -> bool {
    i.context.lazy && i.context.function.is_none() && !i.binds.is_empty()
}

/// Whether an import in a called function runs when the function runs.
fn runs_in_call(i: &Import) -> bool {
    binds_at_run_time(i) && !i.context.main_only && !i.context.conditional
}

/// The `lazy import`s of module `m` that a use of `site` loads (PEP 810: the first use of
/// the name loads the module; `a.b.c` for `lazy import a.b.c`), with the submodule records
/// of a `lazy from` statement. `scope` is the function the use is in, if any: a name the
/// function binds itself hides the module's.
fn reified<'m>(
    m: &'m Module,
    site: &'m Site,
    scope: Option<u32>,
) -> impl Iterator<Item = usize> + 'm {
    let hidden = scope.is_some_and(|f| {
        m.flow.functions[f as usize]
            .scope
            .names
            .iter()
            .any(|(n, _)| first(m.flow.dotted(site)) == n)
            || m.imports.iter().any(|i| {
                i.context.function == Some(f)
                    && i.binds
                        .iter()
                        .any(|b| first(m.flow.dotted(site)) == b.local(&i.module))
            })
    });
    let lazy = m
        .imports
        .iter()
        .enumerate()
        .filter(move |(_, i)| !hidden && deferred(i) && binds_at_run_time(i));
    lazy.flat_map(move |(k, imp)| {
        let mut hit = Vec::new();
        for b in &imp.binds {
            let uses = if b.plain {
                // `a.b` is used by `a.b` and `a.b.x`, not by `a.bc`.
                m.flow
                    .dotted(site)
                    .strip_prefix(imp.module.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            } else {
                first(m.flow.dotted(site)) == b.local(&imp.module)
            };
            if !uses {
                continue;
            }
            hit.push(k);
            if let Some(attr) = &b.attr {
                let sub = format!("{}.{attr}", b.module(&imp.module));
                hit.extend(
                    m.imports
                        .iter()
                        .enumerate()
                        .filter(|(s, i)| *s != k && i.line == imp.line && i.module == sub)
                        .map(|(s, _)| s),
                );
            }
        }
        hit
    })
}

#[cfg(test)]
mod tests;
