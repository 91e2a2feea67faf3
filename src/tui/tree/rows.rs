//! The visible rows of the tree: expansion, the name filter, the sort order, and the
//! search for the next problem. Rows are recomputed only when the tree or the expansion
//! changed, never on a cursor move.

use super::{NodeKind, Tree};
use pycache::scan::ScanModel;
use std::cmp::Ordering;

/// One visible line of the tree pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A directory, group or module node.
    Node(usize),
    /// A cache of an expanded module: the module's node and the index into
    /// `ScanModel::caches` (valid until the model changes, when rows are rebuilt).
    Cache {
        /// The module node.
        node: usize,
        /// Index into `ScanModel::caches`.
        cache: usize,
    },
}

impl Row {
    /// The node of the row (the module for a cache row).
    pub fn node(self) -> usize {
        match self {
            Row::Node(n) | Row::Cache { node: n, .. } => n,
        }
    }
}

/// Byte order with ASCII letters folded to lower case. On UTF-8 this is the order of the
/// folded characters (ASCII bytes never occur inside a multi-byte character), without
/// decoding them: the first open of a 90k-module group sorts them all.
fn cmp_ascii_ci(a: &[u8], b: &[u8]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

/// Directories before modules; groups (never beside either) in their own order.
fn rank(k: &NodeKind) -> u32 {
    match k {
        NodeKind::Group { rank } => *rank as u32,
        NodeKind::Dir => 0,
        NodeKind::Module { .. } => 1,
    }
}

/// Order of siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By name.
    #[default]
    Name,
    /// Largest caches first.
    Size,
    /// Oldest first (newest mtime of a source or cache below).
    Age,
}

impl SortKey {
    /// The next order in the cycle.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Size,
            SortKey::Size => SortKey::Age,
            SortKey::Age => SortKey::Name,
        }
    }

    /// The name shown in the tree pane's title.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Age => "age",
        }
    }
}

/// The largest child list sorted while idle (about 15 ms of sorting here).
const IDLE_SORT_LIMIT: usize = 100_000;

impl Tree {
    /// Recomputes the rows when something changed.
    pub fn ensure_rows(&mut self, model: &ScanModel) {
        if !self.rows_dirty {
            return;
        }
        let mut rows = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        // Open nodes by id: hashing each row's key (`is_open`) cost most of the 5-60 ms of
        // opening a 90k-module group; the expanded keys are few.
        let mut open = vec![false; self.nodes.len()];
        for key in &self.expanded {
            if let Some(id) = self.find(key) {
                open[id] = true;
            }
        }
        let filtering = self.filter.is_some();
        self.tidy(0);
        stack.extend(self.nodes[0].children.iter().rev());
        while let Some(id) = stack.pop() {
            if !self.visible(id) {
                continue;
            }
            rows.push(Row::Node(id));
            // As `is_open`: with a filter, every directory and group is open.
            let is_open = open[id] || (filtering && !self.nodes[id].is_module());
            if !is_open {
                continue;
            }
            if let NodeKind::Module { key, filter } = &self.nodes[id].kind {
                if let Some(m) = model.modules.get(key) {
                    let mut caches: Vec<usize> = m
                        .caches
                        .iter()
                        .copied()
                        .filter(|&i| model.caches.get(i).is_some_and(|c| filter.keeps(c)))
                        .collect();
                    caches.sort_by(|&a, &b| {
                        let (a, b) = (&model.caches[a], &model.caches[b]);
                        // Newest interpreter first, as the module's row lists them.
                        (&b.tag, &a.opt, a.location).cmp(&(&a.tag, &b.opt, b.location))
                    });
                    rows.extend(
                        caches
                            .into_iter()
                            .map(|cache| Row::Cache { node: id, cache }),
                    );
                }
            } else {
                self.tidy(id);
                stack.extend(self.nodes[id].children.iter().rev());
            }
        }
        self.rows = rows;
        self.rows_dirty = false;
    }

    /// True when the node's children (or caches) are shown.
    pub fn is_open(&self, id: usize) -> bool {
        let node = &self.nodes[id];
        if self.filter.is_some() && !node.is_module() {
            return true;
        }
        self.expanded.contains(&node.key)
    }

    pub(super) fn visible(&self, id: usize) -> bool {
        self.nodes[id].alive && (self.filter.is_none() || self.shown.get(id) == Some(&true))
    }

    /// Opens or closes a node; returns false when nothing changed.
    pub fn set_open(&mut self, id: usize, open: bool) -> bool {
        let key = self.nodes[id].key.clone();
        let changed = if open {
            self.expanded.insert(key)
        } else {
            self.expanded.remove(&key)
        };
        self.rows_dirty |= changed;
        changed
    }

    /// Sets the name filter (empty clears it).
    pub fn set_filter(&mut self, text: &str) {
        let text = text.trim().to_lowercase();
        self.filter = (!text.is_empty()).then_some(text);
        self.compute_shown();
        self.rows_dirty = true;
    }

    /// Marks the modules whose name contains the filter, and their ancestors.
    pub(super) fn compute_shown(&mut self) {
        let Some(f) = self.filter.clone() else {
            self.shown.clear();
            return;
        };
        let mut shown = vec![false; self.nodes.len()];
        for (id, node) in self.nodes.iter().enumerate() {
            // The key is the module's whole path (with its group in the other views), so
            // `/pkg` finds the modules of package pkg too.
            if node.alive && node.is_module() && node.key.to_lowercase().contains(&f) {
                let mut at = Some(id);
                while let Some(n) = at {
                    if shown[n] {
                        break;
                    }
                    shown[n] = true;
                    at = self.nodes[n].parent;
                }
            }
        }
        self.shown = shown;
    }

    /// Reverses the sibling order (or back).
    pub fn set_reverse(&mut self, reverse: bool) {
        self.reverse = reverse;
        self.set_sort(self.sort);
    }

    /// Changes the sibling order.
    pub fn set_sort(&mut self, sort: SortKey) {
        self.sort = sort;
        for n in &mut self.nodes {
            n.tidy = false;
        }
        self.rows_dirty = true;
    }

    /// Sorts the children of one top-level directory or group that needs it, the largest
    /// first; false when none does. Run while idle, so that the first open of a 90k-module
    /// verdict group after a view switch does not pay for the sort (14 ms).
    pub fn tidy_idle(&mut self) -> bool {
        let next = self.nodes[0]
            .children
            .iter()
            .copied()
            .filter(|&n| {
                let node = &self.nodes[n];
                // A group of a million modules sorts for a second: a key pressed then would
                // wait for it. Those are sorted when opened (the user asked), not here.
                node.alive
                    && !node.tidy
                    && !node.is_module()
                    && node.children.len() <= IDLE_SORT_LIMIT
            })
            .max_by_key(|&n| self.nodes[n].children.len());
        match next {
            Some(n) => {
                self.tidy(n);
                true
            }
            None => false,
        }
    }

    /// Drops dead children and sorts the rest.
    pub(super) fn tidy(&mut self, id: usize) {
        if self.nodes[id].tidy {
            return;
        }
        let mut children = std::mem::take(&mut self.nodes[id].children);
        children.retain(|&c| self.nodes[c].alive);
        // The keys are gathered into one contiguous vector first: comparing through the
        // node arena costs two cache misses per side, which made the first open of a
        // 90k-module group take 20+ ms. The sort is stable, and the scan's order already
        // has long sorted runs.
        let nodes = &self.nodes;
        let mut keyed: Vec<(u32, u64, &[u8], usize)> = children
            .iter()
            .map(|&c| {
                let n = &nodes[c];
                let by = match self.sort {
                    SortKey::Name => 0,
                    // Largest first.
                    SortKey::Size => !n.agg.bytes,
                    // Oldest first; the flipped sign bit orders i64 as u64.
                    SortKey::Age => (n.agg.newest as u64) ^ (1 << 63),
                };
                (rank(&n.kind), by, n.name.as_bytes(), c)
            })
            .collect();
        let reverse = self.reverse;
        keyed.sort_by(|a, b| {
            let within =
                a.1.cmp(&b.1)
                    // Case-insensitive without allocating, then exact bytes to make it total.
                    .then_with(|| cmp_ascii_ci(a.2, b.2))
                    .then_with(|| a.2.cmp(b.2));
            a.0.cmp(&b.0)
                .then(if reverse { within.reverse() } else { within })
        });
        let children = keyed.into_iter().map(|k| k.3).collect();
        self.nodes[id].children = children;
        self.nodes[id].tidy = true;
    }

    /// A stable identity for a row, to keep the selection across rebuilds.
    pub fn row_key(&self, model: &ScanModel, row: Row) -> String {
        match row {
            Row::Node(n) => self.nodes[n].key.clone(),
            Row::Cache { node, cache } => format!(
                "{}\0{}",
                self.nodes[node].key,
                model
                    .caches
                    .get(cache)
                    .map(|c| c.path.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        }
    }

    /// The row index of a key, if it is visible.
    pub fn row_of_key(&self, model: &ScanModel, key: &str) -> Option<usize> {
        let (node_key, _) = key.split_once('\0').unwrap_or((key, ""));
        let node = self.find(node_key)?;
        let first = self.rows.iter().position(|r| *r == Row::Node(node))?;
        if !key.contains('\0') {
            return Some(first);
        }
        self.rows[first..]
            .iter()
            .take_while(|r| r.node() == node)
            .position(|r| self.row_key(model, *r) == key)
            .map(|p| first + p)
    }
}

#[cfg(test)]
mod tests {
    use super::cmp_ascii_ci;

    #[test]
    fn folded_byte_order_is_the_folded_character_order() {
        let names = [
            "Zeta.py",
            "alpha.py",
            "Alpha.py",
            "ébauche.py",
            "Éclair.py",
            "a",
            "ab",
            "aB_c",
            "mod_10.py",
            "mod_9.py",
            "Ω.py",
            "z",
        ];
        for a in names {
            for b in names {
                let by_chars = a
                    .chars()
                    .map(|c| c.to_ascii_lowercase())
                    .cmp(b.chars().map(|c| c.to_ascii_lowercase()));
                assert_eq!(
                    cmp_ascii_ci(a.as_bytes(), b.as_bytes()),
                    by_chars,
                    "{a} vs {b}"
                );
            }
        }
    }
}
