//! Reachability: from the entries' seeds, breadth first, module-level imports first, then
//! what the reached bodies call at start ([`super::startup`]), then lazy and
//! type-checking-only imports; each module keeps the shortest chain that reaches it.

use super::entry::EntryKind;
use super::graph::{EntryPoint, Import, Module, Reachability, Via};
use std::collections::VecDeque;

type Parent = Via;

/// One module's place in the graph: how it is reached, its chain, and the previous link.
pub type Reached = (Reachability, Vec<String>, Option<Via>);

/// Reachability and chain per module, from the entries' seeds.
pub fn reach(modules: &[Module], entries: &[EntryPoint]) -> Vec<Reached> {
    reach_at_start(modules, entries).0
}

/// [`reach`], and the imports in functions (or `lazy import`s) that run at start anyway,
/// with the reason: `(module, import index, why)`.
pub fn reach_at_start(
    modules: &[Module],
    entries: &[EntryPoint],
) -> (Vec<Reached>, Vec<super::startup::AtStart>) {
    let mut startup = super::startup::Startup::new(modules);
    let mut at_start = Vec::new();
    let n = modules.len();
    let mut state: Vec<Option<(Reachability, Parent)>> = vec![None; n];
    let mut runs_as_main = vec![false; n];
    let mut order: Vec<usize> = Vec::new();
    for (e, entry) in entries.iter().enumerate() {
        for &p in &entry.parents {
            if state[p].is_none() {
                state[p] = Some((Reachability::Imported, Parent::Entry(e)));
                order.push(p);
            }
        }
        let Some(t) = entry.target else { continue };
        let level = match entry.kind {
            EntryKind::Script => Reachability::Entry,
            _ => Reachability::Imported,
        };
        runs_as_main[t] |= matches!(entry.kind, EntryKind::Script | EntryKind::RunModule);
        if state[t].is_none_or(|(r, _)| r > level) {
            if state[t].is_none() {
                order.push(t);
            }
            state[t] = Some((level, Parent::Entry(e)));
        }
    }
    let mut started = vec![false; n];
    for level in [
        Reachability::Imported,
        Reachability::Lazy,
        Reachability::TypeCheckingOnly,
    ] {
        let mut walk = Walk {
            state: &mut state,
            order: &mut order,
            queue: VecDeque::new(),
            level,
        };
        walk.queue.extend(walk.order.iter().copied());
        loop {
            while let Some(i) = walk.queue.pop_front() {
                if !modules[i].health.runs() {
                    continue;
                }
                for imp in &modules[i].imports {
                    if follows(imp, level, runs_as_main[i]) {
                        walk.link(i, imp);
                    }
                }
            }
            if level != Reachability::Imported {
                break;
            }
            // Then what the module bodies reached so far call, which may import more
            // modules whose bodies call more.
            let pending: Vec<usize> = walk
                .order
                .iter()
                .copied()
                .filter(|&i| !started[i] && modules[i].health.runs())
                .collect();
            if pending.is_empty() {
                break;
            }
            for i in pending {
                started[i] = true;
                let more = startup.run_module(i, runs_as_main[i]);
                for &(j, k, _) in &more {
                    // The called function's module has run (its name was imported).
                    walk.reach(j, i);
                    walk.link(j, &modules[j].imports[k]);
                }
                at_start.extend(more);
            }
        }
    }
    let mut chains: Vec<Option<Vec<String>>> = vec![None; n];
    let levels = (0..n)
        .map(|i| match state[i] {
            None => (Reachability::NotImported, Vec::new(), None),
            Some((level, via)) => (
                level,
                chain(i, &state, modules, entries, &mut chains),
                Some(via),
            ),
        })
        .collect();
    (levels, at_start)
}

/// One level's breadth-first walk.
struct Walk<'s> {
    state: &'s mut [Option<(Reachability, Parent)>],
    order: &'s mut Vec<usize>,
    queue: VecDeque<usize>,
    level: Reachability,
}

impl Walk<'_> {
    /// Module `t` is reached from module `from` (if it was not yet).
    fn reach(&mut self, t: usize, from: usize) {
        if self.state[t].is_none() {
            self.state[t] = Some((self.level, Parent::Module(from)));
            self.order.push(t);
            self.queue.push_back(t);
        }
    }

    /// Follows one import of module `from`: its parent packages, then its target.
    fn link(&mut self, from: usize, imp: &Import) {
        for &t in imp.parents.iter().chain(imp.target.iter()) {
            match self.state[t] {
                None => self.reach(t, from),
                // An entry script imported by name runs again, as a cached module.
                // Its chain stays its own label (a parent link here could loop).
                Some((Reachability::Entry, parent)) if self.level == Reachability::Imported => {
                    self.state[t] = Some((self.level, parent));
                }
                Some(_) => {}
            }
        }
    }
}

fn follows(imp: &Import, level: Reachability, importer_is_main: bool) -> bool {
    let c = &imp.context;
    if c.other_version || imp.fallback_unused || (c.main_only && !importer_is_main) {
        return false;
    }
    match level {
        Reachability::Imported => !c.lazy && !c.type_checking,
        Reachability::Lazy => !c.type_checking,
        _ => true,
    }
}

fn chain(
    i: usize,
    state: &[Option<(Reachability, Parent)>],
    modules: &[Module],
    entries: &[EntryPoint],
    memo: &mut [Option<Vec<String>>],
) -> Vec<String> {
    // Walk up the parent links (iteratively: chains can be long), then build downwards.
    let mut path = vec![i];
    let mut start: Vec<String> = Vec::new();
    loop {
        let cur = path[path.len() - 1];
        if let Some(known) = &memo[cur] {
            path.pop();
            start = known.clone();
            break;
        }
        match state[cur].map(|s| s.1) {
            Some(Parent::Module(p)) if !path.contains(&p) => path.push(p),
            Some(Parent::Entry(e)) => {
                let entry = &entries[e];
                start.push(entry.label.clone());
                if entry.kind == EntryKind::Script && entry.target == Some(cur) {
                    // The script itself: its chain is just its label.
                    path.pop();
                    memo[cur] = Some(start.clone());
                }
                break;
            }
            _ => break,
        }
    }
    while let Some(m) = path.pop() {
        start.push(modules[m].name.clone());
        memo[m] = Some(start.clone());
    }
    start
}
