//! The module tree the left pane shows: nodes built from the scan model for one view
//! (by directory, by verdict, by interpreter tag), with aggregates per node.
//!
//! The tree is updated per module: a scan batch re-places only the modules it touched and
//! adjusts the aggregates of their ancestors, so a 100k-file scan never rebuilds the whole
//! tree. The flattened rows (what is visible, in order) live in [`rows`].

mod agg;
mod place;
pub mod rows;
mod search;

pub use place::show_path;
use place::{group_rank, placements};

pub use agg::{Agg, status_index};
pub use rows::{Row, SortKey};

use pycache::pyc::Status;
use pycache::scan::{CacheRecord, Module, ScanModel};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// How modules are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum View {
    /// Packages and modules as they lie on disk.
    #[default]
    Directory,
    /// One group per verdict, worst first.
    Verdict,
    /// One group per interpreter tag.
    Tag,
}

impl View {
    /// The name shown in the tree pane's title.
    pub fn label(self) -> &'static str {
        match self {
            View::Directory => "by directory",
            View::Verdict => "by verdict",
            View::Tag => "by tag",
        }
    }

    /// The next view in the cycle.
    pub fn next(self) -> View {
        match self {
            View::Directory => View::Verdict,
            View::Verdict => View::Tag,
            View::Tag => View::Directory,
        }
    }
}

/// Which caches of a module a placement shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheFilter {
    /// All of them.
    All,
    /// Those with this verdict.
    Status(Status),
    /// Those with this tag (`None`: untagged).
    Tag(Option<String>),
    /// None (the module has no cache).
    Nothing,
}

impl CacheFilter {
    /// True when the cache belongs to this placement.
    pub fn keeps(&self, c: &CacheRecord) -> bool {
        match self {
            CacheFilter::All => true,
            CacheFilter::Status(s) => c.status == *s,
            CacheFilter::Tag(t) => c.tag == *t,
            CacheFilter::Nothing => false,
        }
    }
}

/// What a node stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory (or the invisible root).
    Dir,
    /// A group of the verdict or tag view; `rank` orders groups.
    Group {
        /// Position among the groups.
        rank: u16,
    },
    /// A module, keyed like [`ScanModel::modules`].
    Module {
        /// The key into `ScanModel::modules`.
        key: PathBuf,
        /// Which of its caches this placement shows.
        filter: CacheFilter,
    },
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// The name shown (a path component, a group name, or a relative path).
    pub name: String,
    /// Stable identity across rebuilds: the names from the root joined with `/`.
    pub key: String,
    /// What it stands for.
    pub kind: NodeKind,
    /// Parent node (None for the root).
    pub parent: Option<usize>,
    /// Depth below the root (top-level entries have depth 0).
    pub depth: u16,
    /// Totals below it.
    pub agg: Agg,
    /// Child nodes (may hold dead ones until the next compaction).
    pub children: Vec<usize>,
    /// False once removed.
    pub alive: bool,
    /// True when `children` is in the current sort order and has no dead entries.
    pub tidy: bool,
}

impl Node {
    /// True for modules.
    pub fn is_module(&self) -> bool {
        matches!(self.kind, NodeKind::Module { .. })
    }
}

/// The tree for one view.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The grouping.
    pub view: View,
    /// All nodes; 0 is the root.
    pub nodes: Vec<Node>,
    by_key: HashMap<String, usize>,
    pub(super) placements: HashMap<PathBuf, Vec<usize>>,
    /// Expanded node keys.
    pub expanded: HashSet<String>,
    /// Lower-case name filter, when one is set.
    pub filter: Option<String>,
    /// Child order.
    pub sort: SortKey,
    /// The order reversed (directories still before modules, groups in their order).
    pub reverse: bool,
    /// Visible rows, valid while `rows_dirty` is false.
    pub rows: Vec<Row>,
    /// True when `rows` must be recomputed.
    pub rows_dirty: bool,
    /// Nodes shown under the filter (empty when no filter).
    pub(super) shown: Vec<bool>,
    /// Modules `n` visits beside those with a problem cache (the service's view: imported
    /// without a usable cache), by key.
    pub(super) flagged: HashSet<PathBuf>,
    /// Nodes at or above a flagged module, by id.
    pub(super) flag_below: Vec<bool>,
}

impl Tree {
    /// An empty tree for `view`, with these nodes expanded.
    pub fn new(view: View, expanded: HashSet<String>) -> Self {
        let root = Node {
            name: String::new(),
            key: String::new(),
            kind: NodeKind::Dir,
            parent: None,
            depth: 0,
            agg: Agg::default(),
            children: Vec::new(),
            alive: true,
            tidy: true,
        };
        let mut by_key = HashMap::new();
        by_key.insert(String::new(), 0);
        Tree {
            view,
            nodes: vec![root],
            by_key,
            placements: HashMap::new(),
            expanded,
            filter: None,
            sort: SortKey::Name,
            reverse: false,
            rows: Vec::new(),
            rows_dirty: true,
            shown: Vec::new(),
            flagged: HashSet::new(),
            flag_below: Vec::new(),
        }
    }

    /// A tree of every module in the model.
    pub fn build(view: View, model: &ScanModel, expanded: HashSet<String>) -> Self {
        let mut t = Tree::new(view, expanded);
        t.add_modules(model, model.modules.iter());
        t
    }

    /// Places modules taken straight from the model (no lookup by path per module).
    pub fn add_modules<'a>(
        &mut self,
        model: &ScanModel,
        modules: impl IntoIterator<Item = (&'a PathBuf, &'a Module)>,
    ) {
        for (key, module) in modules {
            self.update_module(model, key, Some(module));
        }
        self.rows_dirty = true;
        if self.filter.is_some() {
            self.compute_shown();
        }
    }

    /// Re-places the modules with these keys (added, changed or removed in the model).
    pub fn update<'a>(&mut self, model: &ScanModel, keys: impl IntoIterator<Item = &'a PathBuf>) {
        for key in keys {
            self.update_module(model, key, model.modules.get(key));
        }
        self.rows_dirty = true;
        if self.filter.is_some() {
            self.compute_shown();
        }
    }

    fn update_module(&mut self, model: &ScanModel, key: &PathBuf, module: Option<&Module>) {
        let Some(module) = module else {
            self.unplace(key);
            return;
        };
        let new = placements(self.view, model, key, module);
        let aggs: Vec<Agg> = new
            .iter()
            .map(|(_, f)| Agg::of_module(module, model.caches_of(module), |c| f.keeps(c)))
            .collect();
        if !self.same_places(key, &new) {
            self.unplace(key);
            for ((path, filter), agg) in new.into_iter().zip(aggs) {
                self.place(key, path, filter, agg);
            }
            return;
        }
        // Same places (the common case during a scan): adjust the aggregates in place
        // rather than growing the node arena.
        let ids = self.placements.get(key).cloned().unwrap_or_default();
        for (id, agg) in ids.into_iter().zip(aggs) {
            let old = std::mem::replace(&mut self.nodes[id].agg, agg.clone());
            let mut at = self.nodes[id].parent;
            while let Some(n) = at {
                self.nodes[n].agg.sub(&old);
                self.nodes[n].agg.add(&agg);
                self.nodes[n].tidy = self.nodes[n].tidy && self.sort == SortKey::Name;
                at = self.nodes[n].parent;
            }
        }
    }

    /// A node by its key.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// The module keys below a node (the node itself when it is a module).
    pub fn modules_below(&self, id: usize) -> Vec<(&PathBuf, &CacheFilter)> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n];
            if !node.alive {
                continue;
            }
            match &node.kind {
                NodeKind::Module { key, filter } => out.push((key, filter)),
                _ => stack.extend(node.children.iter().copied()),
            }
        }
        out
    }

    fn same_places(&self, key: &Path, new: &[(Vec<String>, CacheFilter)]) -> bool {
        let Some(ids) = self.placements.get(key) else {
            return false;
        };
        ids.len() == new.len()
            && ids.iter().zip(new).all(|(&id, (path, filter))| {
                let n = &self.nodes[id];
                n.alive
                    && matches!(&n.kind, NodeKind::Module { filter: f, .. } if f == filter)
                    && n.key == path.join("/")
            })
    }

    fn place(&mut self, key: &Path, path: Vec<String>, filter: CacheFilter, agg: Agg) {
        let mut parent = 0usize;
        let mut node_key = String::new();
        let last = path.len().saturating_sub(1);
        for (i, name) in path.into_iter().enumerate() {
            if !node_key.is_empty() {
                node_key.push('/');
            }
            node_key.push_str(&name);
            let kind = if i == last {
                NodeKind::Module {
                    key: key.to_path_buf(),
                    filter: filter.clone(),
                }
            } else if i == 0 && self.view != View::Directory {
                NodeKind::Group {
                    rank: group_rank(&name),
                }
            } else {
                NodeKind::Dir
            };
            parent = match self.by_key.get(&node_key) {
                Some(&id) if self.nodes[id].alive => id,
                _ => self.add_node(parent, name, node_key.clone(), kind),
            };
        }
        self.placements
            .entry(key.to_path_buf())
            .or_default()
            .push(parent);
        let mut at = Some(parent);
        while let Some(id) = at {
            self.nodes[id].agg.add(&agg);
            at = self.nodes[id].parent;
        }
    }

    fn add_node(&mut self, parent: usize, name: String, key: String, kind: NodeKind) -> usize {
        let id = self.nodes.len();
        let depth = if parent == 0 {
            0
        } else {
            self.nodes[parent].depth + 1
        };
        self.nodes.push(Node {
            name,
            key: key.clone(),
            kind,
            parent: Some(parent),
            depth,
            agg: Agg::default(),
            children: Vec::new(),
            alive: true,
            tidy: true,
        });
        self.by_key.insert(key, id);
        let p = &mut self.nodes[parent];
        p.children.push(id);
        p.tidy = false;
        id
    }

    fn unplace(&mut self, key: &Path) {
        let Some(ids) = self.placements.remove(key) else {
            return;
        };
        for id in ids {
            let agg = self.nodes[id].agg.clone();
            let mut at = Some(id);
            while let Some(n) = at {
                self.nodes[n].agg.sub(&agg);
                at = self.nodes[n].parent;
            }
            // Remove the module node, then every ancestor left without modules.
            let mut dead = Some(id);
            while let Some(n) = dead {
                if n == 0 || (n != id && self.nodes[n].agg.modules > 0) {
                    break;
                }
                self.nodes[n].alive = false;
                self.by_key.remove(&self.nodes[n].key);
                dead = self.nodes[n].parent;
                if let Some(p) = dead {
                    self.nodes[p].tidy = false;
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
