//! Changes of what the tree shows: scan output, a rescan, and regrouping (`v`). A large
//! tree is regrouped a slice per frame, while the old view stays on screen and answers
//! keys; the status bar says how far it got.

use super::{AUTO_IMPORTS_LIMIT, App, Effect};
use crate::tui::tree::{Tree, View};
use pycache::scan::{ScanEvent, ScanModel};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Up to this many modules a regrouping is done at once (about 40 ms here); above, it runs
/// a slice per frame.
pub const REGROUP_AT_ONCE: usize = 20_000;

/// Modules placed between two looks at the clock.
const REGROUP_SLICE: usize = 2_048;

/// A regrouping in progress: the new view's tree, filled in the model's id order.
#[derive(Debug)]
pub struct Regroup {
    /// The tree of the new view, without its filter until it is complete.
    pub(super) tree: Tree,
    /// Modules placed so far: the ids below this one (ids are the model's arena order).
    pub(super) placed: usize,
}

impl App {
    /// Applies a scanner event and keeps the selection on the same item.
    pub fn on_scan(&mut self, ev: ScanEvent) {
        let finishing = ev == ScanEvent::Finished;
        // Removing modules renumbers the model's arena: a regrouping starts over (placing
        // a module twice is harmless, missing one is not).
        if matches!(ev, ScanEvent::Removed(_))
            && let Some(r) = self.regroup.as_mut()
        {
            r.placed = 0;
        }
        let keys = touched(&self.model, &ev);
        // Not shared unless a plan is being made, and then scan output waits (the loop).
        std::sync::Arc::make_mut(&mut self.model).apply(ev);
        self.model_version += 1;
        self.tree.update(&self.model, keys.iter());
        if let Some(r) = self.regroup.as_mut() {
            // Modules not reached yet are placed now and again later: the same places.
            r.tree.update(&self.model, keys.iter());
        }
        if finishing {
            self.tick = 0;
            // Parsing every source takes all cores for a while: automatic on ordinary
            // trees, on request (the actions pane) on huge ones, so the UI stays quick.
            let sources = self
                .model
                .modules
                .values()
                .filter(|m| m.source_exists())
                .count();
            if sources <= AUTO_IMPORTS_LIMIT {
                self.push(Effect::AnalyzeImports);
            }
            self.judge_service();
        }
        self.sync();
    }

    /// Starts over with an empty model (a rescan), keeping view, expansion and filter.
    pub fn reset(&mut self) {
        let model = ScanModel::new(self.model.roots.clone(), self.model.prefix.clone());
        self.model = std::sync::Arc::new(model);
        self.model_version += 1;
        let expanded = std::mem::take(&mut self.tree.expanded);
        let (view, sort, filter) = (self.tree.view, self.tree.sort, self.tree.filter.clone());
        let reverse = self.tree.reverse;
        self.tree = Tree::build(view, &self.model, expanded);
        self.tree.reverse = reverse;
        self.tree.set_sort(sort);
        self.tree.set_filter(filter.as_deref().unwrap_or(""));
        self.regroup = None;
        self.code.clear();
        self.reach.clear();
        self.access.clear();
        self.sync();
    }

    pub(super) fn set_view(&mut self, view: View) {
        // A regrouping under way gives way to the new one (its expansion is kept).
        if let Some(mut r) = self.regroup.take() {
            self.expanded
                .insert(r.tree.view, std::mem::take(&mut r.tree.expanded));
            // A half-built tree of a million nodes: freed off the UI thread too.
            std::thread::spawn(move || drop(r));
        }
        if view == self.tree.view {
            return;
        }
        let expanded = self.expanded.remove(&view).unwrap_or_default();
        let mut tree = Tree::new(view, expanded);
        if self.model.modules.len() <= self.regroup_at_once {
            tree.add_modules(&self.model, self.model.modules.iter());
            self.show_view(tree);
        } else {
            self.regroup = Some(Regroup { tree, placed: 0 });
        }
    }

    /// The view that `v` regroups to next: after the one being built, if any.
    pub(super) fn next_view(&self) -> View {
        self.regroup
            .as_ref()
            .map_or(self.tree.view, |r| r.tree.view)
            .next()
    }

    /// A regrouping under way: (the view, modules placed, modules in all).
    pub fn regrouping(&self) -> Option<(View, usize, usize)> {
        let r = self.regroup.as_ref()?;
        Some((r.tree.view, r.placed, self.model.modules.len()))
    }

    /// Continues a regrouping for up to `budget`; true when something changed on screen.
    pub fn step_background(&mut self, budget: Duration) -> bool {
        let Some(mut r) = self.regroup.take() else {
            return false;
        };
        let start = Instant::now();
        loop {
            let modules = &self.model.modules;
            if r.placed >= modules.len() {
                self.show_view(r.tree);
                return true;
            }
            let end = modules.len().min(r.placed + REGROUP_SLICE);
            let slice: Vec<_> = (r.placed..end)
                .filter_map(|id| modules.by_id(id))
                .map(|m| (&m.source, m))
                .collect();
            r.placed = end;
            r.tree.add_modules(&self.model, slice);
            if start.elapsed() >= budget {
                break;
            }
        }
        self.regroup = Some(r);
        true
    }

    /// Shows a complete tree of another view, in the order and with the filter of the
    /// one on screen (either may have changed while it was built).
    fn show_view(&mut self, mut tree: Tree) {
        tree.reverse = self.tree.reverse;
        tree.set_sort(self.tree.sort);
        tree.set_filter(self.tree.filter.as_deref().unwrap_or(""));
        tree.set_flagged(self.tree.flagged().clone());
        let mut old = std::mem::replace(&mut self.tree, tree);
        // The old view's expansion is kept for coming back to it.
        self.expanded
            .insert(old.view, std::mem::take(&mut old.expanded));
        // Freeing a million nodes takes a while: not on the UI thread.
        std::thread::spawn(move || drop(old));
        if !self.marks.is_empty() {
            self.marks.clear();
            self.message = Some("marks cleared: they belong to one view".into());
        }
        self.sel = 0;
        self.sel_key = None;
        // The old selection's details were scrolled; the new one's start at the top.
        self.details_scroll = 0;
        self.sync();
    }
}

/// The module keys a scanner event changes (before it is applied), each once: a module
/// with a source and three caches in a batch is re-placed once, not four times.
fn touched(model: &ScanModel, ev: &ScanEvent) -> Vec<PathBuf> {
    let mut keys: Vec<PathBuf> = match ev {
        ScanEvent::Batch(b) => b
            .sources
            .iter()
            .map(|s| s.path.clone())
            .chain(
                b.caches
                    .iter()
                    .map(|c| c.source.clone().unwrap_or_else(|| c.path.clone())),
            )
            .collect(),
        ScanEvent::Removed(paths) => {
            let gone: HashSet<&PathBuf> = paths.iter().collect();
            model
                .caches
                .iter()
                .filter(|c| gone.contains(&c.path))
                .map(|c| c.source.clone().unwrap_or_else(|| c.path.clone()))
                .collect()
        }
        ScanEvent::Finished => Vec::new(),
    };
    keys.sort_unstable();
    keys.dedup();
    keys
}
