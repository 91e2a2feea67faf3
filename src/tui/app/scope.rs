//! What actions apply to: the marks when there are any, else the selection; and the list
//! of actions the actions pane offers for it, with totals from the tree's aggregates.

use super::{App, Effect, Pane};
use crate::tui::keymap::Action;
use crate::tui::tree::{Agg, NodeKind, Row};
use crate::tui::work;
use pycache::pyc::Status;
use std::collections::HashSet;
use std::path::PathBuf;

/// The totals of what actions would touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// What it is, in words: `3 marked`, `pkg/`, `app.py`.
    pub label: String,
    /// Its caches by verdict and tag.
    pub agg: Agg,
    /// True when it comes from marks.
    pub marked: bool,
    /// Its caches that a clean leaves alone because they mirror the sources (a live
    /// PYTHONPYCACHEPREFIX tree; see `ScanModel::mirror_prefix_of`).
    pub kept_mirror: Agg,
    /// What the mirror totals were taken of (the selection's key, the model's version),
    /// so that a sort, a redraw or a scan batch does not walk the scope's caches again.
    of: Option<(String, u64)>,
}

/// One line of the actions pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionItem {
    /// Remove the stale, orphaned, shadowed and invalid caches.
    CleanProblems,
    /// Remove the caches with this verdict.
    CleanStatus(Status),
    /// Remove the caches with this interpreter tag (`-`: untagged).
    CleanTag(String),
    /// Remove every cache in the scope.
    CleanAll,
    /// Compile the sources again with a chosen interpreter and invalidation mode.
    Recompile,
    /// Scan the tree again.
    Rescan,
    /// Check writability and cost for the service user.
    Doctor,
    /// Work out which modules the entry points import (on request on huge trees).
    Imports,
}

impl App {
    /// Recomputes the scope's totals (cheap: sums of node aggregates).
    pub(crate) fn refresh_scope(&mut self) {
        let mut agg = Agg::default();
        let (label, marked) = if self.marks.is_empty() {
            match self.selected() {
                Some(row) => {
                    agg = self.row_agg(row);
                    (self.row_label(row), false)
                }
                None => (String::from("nothing selected"), false),
            }
        } else {
            let mut n = 0;
            for key in &self.marks {
                let (node_key, cache) = key.split_once('\0').unwrap_or((key, ""));
                let Some(node) = self.tree.find(node_key) else {
                    continue;
                };
                if self.ancestor_marked(node, !cache.is_empty()) {
                    continue;
                }
                n += 1;
                let row = if cache.is_empty() {
                    Row::Node(node)
                } else {
                    match self.cache_index(cache) {
                        Some(cache) => Row::Cache { node, cache },
                        None => continue,
                    }
                };
                agg.add(&self.row_agg(row));
            }
            (format!("{n} marked"), true)
        };
        let of = if marked {
            None
        } else {
            self.sel_key.clone().map(|k| (k, self.model_version))
        };
        // Finding the mirror caches walks every cache of the scope: once per scope and
        // model; while scanning once per scope (a batch would repeat it for a whole
        // directory), and again at the end.
        let same_scope = of.is_some()
            && match (&of, &self.scope.of) {
                (Some((k, v)), Some((k0, v0))) => {
                    k == k0 && (v == v0 || !self.model.progress.finished)
                }
                _ => false,
            };
        let kept_mirror = if same_scope {
            self.scope.kept_mirror.clone()
        } else {
            self.kept_mirror(&agg)
        };
        self.scope = super::Scope {
            label,
            agg,
            marked,
            kept_mirror,
            of,
        };
        let n = self.items().len();
        self.action_sel = self.action_sel.min(n.saturating_sub(1));
    }

    /// The scope's caches the clean planner keeps as a live prefix mirror. It keeps them
    /// only when the scope is selected as a directory (a named cache goes); the items that
    /// select otherwise (the untagged tag) never meet a mirror cache, which has a tag.
    fn kept_mirror(&self, agg: &Agg) -> Agg {
        // Mirror caches are orphaned: most scopes have none and cost nothing here.
        if agg.of_status(Status::Orphaned).0 == 0
            || work::selected_directory(self, &ActionItem::CleanAll).is_none()
        {
            return Agg::default();
        }
        let paths: HashSet<PathBuf> = self
            .scope_caches(|c| self.model.mirror_prefix_of(c).is_some())
            .into_iter()
            .collect();
        Agg::of_caches(self.model.caches.iter().filter(|c| paths.contains(&c.path)))
    }

    fn ancestor_marked(&self, node: usize, include_self: bool) -> bool {
        let mut at = if include_self {
            Some(node)
        } else {
            self.tree.nodes[node].parent
        };
        while let Some(n) = at {
            if n != 0 && self.marks.contains(&self.tree.nodes[n].key) {
                return true;
            }
            at = self.tree.nodes[n].parent;
        }
        false
    }

    fn cache_index(&self, path: &str) -> Option<usize> {
        self.model
            .caches
            .iter()
            .position(|c| c.path.to_string_lossy() == path)
    }

    fn row_agg(&self, row: Row) -> Agg {
        match row {
            Row::Node(n) => self.tree.nodes[n].agg.clone(),
            Row::Cache { cache, .. } => {
                let Some(c) = self.model.caches.get(cache) else {
                    return Agg::default();
                };
                let Some(m) = self.model.module_of(c) else {
                    return Agg::default();
                };
                Agg::of_module(m, std::iter::once(c), |_| true)
            }
        }
    }

    fn row_label(&self, row: Row) -> String {
        let node = &self.tree.nodes[row.node()];
        match row {
            Row::Cache { cache, .. } => self
                .model
                .caches
                .get(cache)
                .and_then(|c| c.path.file_name())
                .map(|f| pycache::scan::display_path(std::path::Path::new(f)))
                .unwrap_or_default(),
            Row::Node(_) if node.kind == NodeKind::Dir => format!("{}/", node.name),
            Row::Node(_) => node.name.clone(),
        }
    }

    /// The actions offered for the scope, in the order the pane lists them.
    pub fn items(&self) -> Vec<ActionItem> {
        let mut out = Vec::new();
        let agg = &self.scope.agg;
        if !self.opts.read_only && work::CAN_CLEAN && agg.caches > 0 {
            if agg.problems() > 0 {
                out.push(ActionItem::CleanProblems);
            }
            for s in Status::ALL {
                if s.is_problem() && agg.of_status(s).0 > 0 {
                    out.push(ActionItem::CleanStatus(s));
                }
            }
            let mut tags = agg.clean_tags.clone();
            tags.sort();
            if tags.len() > 1 {
                out.extend(tags.into_iter().map(|(t, _, _)| ActionItem::CleanTag(t)));
            }
            if agg.caches > agg.of_status(Status::Sourceless).0 {
                out.push(ActionItem::CleanAll);
            }
        }
        if !self.opts.read_only && work::CAN_RECOMPILE && agg.modules > 0 {
            out.push(ActionItem::Recompile);
        }
        if self.snapshot.is_some() {
            // Rescan, imports and the doctor would describe this machine, not the snapshot's.
            return out;
        }
        out.push(ActionItem::Rescan);
        if self.reach.is_empty() && self.model.progress.finished {
            out.push(ActionItem::Imports);
        }
        if work::CAN_DOCTOR {
            out.push(ActionItem::Doctor);
        }
        out
    }

    /// Starts an action: non-destructive ones run at once, the rest show their plan.
    pub(crate) fn plan_item(&mut self, item: ActionItem) {
        let destructive = !matches!(
            item,
            ActionItem::Rescan | ActionItem::Doctor | ActionItem::Imports
        );
        if self.snapshot.is_some() {
            let what = match item {
                ActionItem::Recompile => "recompile",
                ActionItem::Rescan => "rescan",
                ActionItem::Doctor => "the doctor",
                ActionItem::Imports => "import analysis",
                _ => "clean",
            };
            self.message = Some(format!("{what} is off: a saved scan is read-only"));
            return;
        }
        if destructive && self.opts.read_only {
            self.message = Some("read-only session: nothing can be changed (--read-only)".into());
            return;
        }
        if item == ActionItem::Imports {
            self.push(Effect::AnalyzeImports);
            self.message = Some("analysing imports in the background".into());
            return;
        }
        if item == ActionItem::Rescan {
            if !self.model.progress.finished {
                self.message = Some("a scan is running; rescan once it ends".into());
                return;
            }
            self.reset();
            self.push(Effect::Rescan);
            self.message = Some("rescanning".into());
            return;
        }
        match work::plan(self, &item) {
            Ok(dialog) => {
                self.set_dialog(Some(dialog));
            }
            Err(why) => self.message = Some(why),
        }
    }

    /// The caches in the scope that `item` would act on, as paths.
    pub fn scope_caches(&self, keep: impl Fn(&pycache::scan::CacheRecord) -> bool) -> Vec<PathBuf> {
        let rows: Vec<Row> = if self.marks.is_empty() {
            self.selected().into_iter().collect()
        } else {
            self.marks
                .iter()
                .filter_map(|key| {
                    let (node_key, cache) = key.split_once('\0').unwrap_or((key, ""));
                    let node = self.tree.find(node_key)?;
                    if cache.is_empty() {
                        Some(Row::Node(node))
                    } else {
                        Some(Row::Cache {
                            node,
                            cache: self.cache_index(cache)?,
                        })
                    }
                })
                .collect()
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for row in rows {
            let caches: Vec<usize> = match row {
                Row::Cache { cache, .. } => vec![cache],
                Row::Node(n) => {
                    self.tree
                        .modules_below(n)
                        .into_iter()
                        .filter_map(|(key, filter)| Some((self.model.modules.get(key)?, filter)))
                        .flat_map(|(m, f)| {
                            m.caches.iter().copied().filter(move |&i| {
                                self.model.caches.get(i).is_some_and(|c| f.keeps(c))
                            })
                        })
                        .collect()
                }
            };
            for i in caches {
                let c = &self.model.caches[i];
                if keep(c) && seen.insert(i) {
                    out.push(c.path.clone());
                }
            }
        }
        out.sort();
        out
    }

    /// The module source paths in the scope (for recompiling).
    pub fn scope_sources(&self) -> Vec<PathBuf> {
        let nodes: Vec<usize> = if self.marks.is_empty() {
            self.selected().map(Row::node).into_iter().collect()
        } else {
            self.marks
                .iter()
                .filter_map(|k| self.tree.find(k.split('\0').next().unwrap_or(k)))
                .collect()
        };
        let mut out: Vec<PathBuf> = nodes
            .into_iter()
            .flat_map(|n| self.tree.modules_below(n))
            .filter_map(|(key, _)| self.model.modules.get(key))
            .filter(|m| m.source_exists())
            .map(|m| m.source.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub(super) fn handle_dialog(&mut self, action: Action) {
        let super::Mode::Dialog(dialog) = std::mem::take(&mut self.mode) else {
            return;
        };
        match work::on_dialog_action(self, dialog, action) {
            Some(d) => self.set_dialog(Some(d)),
            None => {
                if self.focus == Pane::Actions {
                    self.refresh_scope();
                }
            }
        }
    }
}
