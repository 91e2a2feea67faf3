//! The search for the next module with a problem (`n`): subtrees whose totals have no
//! problem (and no module flagged by the service's view) are skipped whole.

use super::Tree;
use std::collections::HashSet;
use std::path::PathBuf;

impl Tree {
    /// Sets the modules `n` visits beside those with a problem cache.
    pub fn set_flagged(&mut self, keys: HashSet<PathBuf>) {
        self.flagged = keys;
        let mut below = vec![false; self.nodes.len()];
        for key in &self.flagged {
            for &id in self.placements.get(key).into_iter().flatten() {
                let mut at = Some(id);
                while let Some(n) = at {
                    if below[n] {
                        break;
                    }
                    below[n] = true;
                    at = self.nodes[n].parent;
                }
            }
        }
        self.flag_below = below;
    }

    /// The modules `n` visits beside those with a problem cache.
    pub fn flagged(&self) -> &HashSet<PathBuf> {
        &self.flagged
    }

    /// The first module with a problem after node `from` in display order (wrapping),
    /// with its ancestors opened so that it has a row. Subtrees without a problem are
    /// skipped whole (their totals say so), so a press costs the path to the next problem,
    /// not a walk of every node.
    pub fn next_problem(&mut self, from: Option<usize>) -> Option<usize> {
        let found = from
            .filter(|&f| f != 0 && self.nodes.get(f).is_some_and(|n| n.alive))
            .and_then(|f| self.problem_after(f))
            .or_else(|| self.first_problem_in(0))?;
        let mut at = self.nodes[found].parent;
        while let Some(p) = at {
            if p != 0 {
                self.set_open(p, true);
            }
            at = self.nodes[p].parent;
        }
        Some(found)
    }

    /// The first problem module in display order after `from` (its own subtree first,
    /// then what follows it at each level up), without wrapping.
    fn problem_after(&mut self, from: usize) -> Option<usize> {
        if !self.nodes[from].is_module() {
            self.tidy(from);
            for c in self.nodes[from].children.clone() {
                if let Some(f) = self.first_problem_in(c) {
                    return Some(f);
                }
            }
        }
        let mut at = from;
        while let Some(parent) = self.nodes[at].parent {
            self.tidy(parent);
            let siblings = &self.nodes[parent].children;
            let after: Vec<usize> = siblings
                .iter()
                .skip_while(|&&c| c != at)
                .skip(1)
                .copied()
                .collect();
            for c in after {
                if let Some(f) = self.first_problem_in(c) {
                    return Some(f);
                }
            }
            at = parent;
        }
        None
    }

    /// The first problem module in display order at or below `id` (the root included).
    fn first_problem_in(&mut self, id: usize) -> Option<usize> {
        let node = &self.nodes[id];
        let flagged = self.flag_below.get(id) == Some(&true);
        if (id != 0 && !self.visible(id)) || (node.agg.problems() == 0 && !flagged) {
            return None;
        }
        if node.is_module() {
            return Some(id);
        }
        self.tidy(id);
        for c in self.nodes[id].children.clone() {
            if let Some(f) = self.first_problem_in(c) {
                return Some(f);
            }
        }
        None
    }
}
