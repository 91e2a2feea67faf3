//! Moving around: the tree's cursor, opening and closing nodes, marks, the details
//! scroll, and the actions list.

use super::{App, Effect, Pane};
use crate::tui::keymap::Action;
use crate::tui::tree::{NodeKind, Row, View};

impl App {
    pub(super) fn tree_action(&mut self, action: Action) {
        let len = self.tree.rows.len();
        let page = self.tree_height.max(1);
        match action {
            Action::Up => self.select(self.sel.saturating_sub(1)),
            Action::Down => self.select((self.sel + 1).min(len.saturating_sub(1))),
            Action::PageUp => self.select(self.sel.saturating_sub(page)),
            Action::PageDown => self.select((self.sel + page).min(len.saturating_sub(1))),
            Action::Top => self.select(0),
            Action::Bottom => self.select(len.saturating_sub(1)),
            Action::Expand => self.expand(),
            Action::Collapse => self.collapse(),
            Action::Enter => match self.selected() {
                Some(Row::Cache { .. }) => self.focus = Pane::Details,
                Some(Row::Node(n)) => {
                    let open = self.tree.is_open(n);
                    self.set_open(n, !open);
                }
                None => {}
            },
            _ => {}
        }
    }

    pub(super) fn details_action(&mut self, action: Action) {
        let s = &mut self.details_scroll;
        match action {
            Action::Up => *s = s.saturating_sub(1),
            Action::Down => *s = s.saturating_add(1),
            Action::PageUp => *s = s.saturating_sub(10),
            Action::PageDown => *s = s.saturating_add(10),
            Action::Top => *s = 0,
            Action::Bottom => *s = u16::MAX,
            Action::Enter | Action::Collapse => self.focus = Pane::Tree,
            _ => {}
        }
        // The pane clamps on draw; keep the stored value within the text so Up works at once.
        let lines = crate::tui::panes::details::line_count(self);
        self.details_scroll = self
            .details_scroll
            .min(lines.saturating_sub(1).min(u16::MAX as usize) as u16);
    }

    pub(super) fn actions_action(&mut self, action: Action) {
        let n = self.items().len();
        match action {
            Action::Up => self.action_sel = self.action_sel.saturating_sub(1),
            Action::Down => self.action_sel = (self.action_sel + 1).min(n.saturating_sub(1)),
            Action::Top => self.action_sel = 0,
            Action::Bottom => self.action_sel = n.saturating_sub(1),
            Action::Enter => {
                if let Some(item) = self.items().get(self.action_sel).cloned() {
                    self.plan_item(item);
                }
            }
            _ => {}
        }
    }

    /// Moves the cursor to a row.
    pub(crate) fn select(&mut self, row: usize) {
        if self.tree.rows.is_empty() {
            return;
        }
        let row = row.min(self.tree.rows.len() - 1);
        if row != self.sel {
            self.sel = row;
            self.details_scroll = 0;
        }
        self.project_details = false;
        self.remember_selection();
        self.keep_visible();
        self.after_select();
    }

    /// Queues what the details pane of the new selection needs.
    fn after_select(&mut self) {
        match self.selected() {
            Some(Row::Cache { cache, .. }) => {
                if let Some(c) = self.model.caches.get(cache) {
                    let path = c.path.clone();
                    let uid = c.meta.uid;
                    if !self.code.contains_key(&path) {
                        self.push(Effect::LoadCode(path));
                    }
                    if !self.owners.contains_key(&uid) {
                        self.push(Effect::LookupOwner(uid));
                    }
                }
            }
            Some(Row::Node(n)) => {
                let node = &self.tree.nodes[n];
                let uid = match &node.kind {
                    NodeKind::Module { key, .. } => self
                        .model
                        .modules
                        .get(key)
                        .and_then(|m| m.source_meta)
                        .map(|m| m.uid),
                    _ => None,
                };
                let dir_key = (node.kind == NodeKind::Dir).then(|| node.key.clone());
                if let Some(uid) = uid
                    && !self.owners.contains_key(&uid)
                {
                    self.push(Effect::LookupOwner(uid));
                }
                if let Some(key) = dir_key
                    && self.tree.view == View::Directory
                    && let Some(root) = self.model.roots.first()
                {
                    let dir = root.join(&key);
                    if !self.access.contains_key(&dir) {
                        self.push(Effect::CheckAccess(dir));
                    }
                }
            }
            None => {}
        }
        self.refresh_scope();
    }

    fn can_open(&self, n: usize) -> bool {
        match &self.tree.nodes[n].kind {
            NodeKind::Module { key, filter } => self
                .model
                .modules
                .get(key)
                .is_some_and(|m| self.model.caches_of(m).any(|c| filter.keeps(c))),
            _ => true,
        }
    }

    fn set_open(&mut self, n: usize, open: bool) {
        if open && !self.can_open(n) {
            return;
        }
        if self.tree.set_open(n, open) {
            self.sync();
        }
    }

    fn expand(&mut self) {
        let Some(Row::Node(n)) = self.selected() else {
            return;
        };
        if !self.can_open(n) {
            return;
        }
        if self.tree.is_open(n) {
            // Already open: step onto the first child, as file managers do.
            if self
                .tree
                .rows
                .get(self.sel + 1)
                .is_some_and(|r| self.parent_of(*r) == Some(n))
            {
                self.select(self.sel + 1);
            }
        } else {
            self.set_open(n, true);
        }
    }

    fn collapse(&mut self) {
        let Some(row) = self.selected() else {
            return;
        };
        if let Row::Node(n) = row
            && self.tree.is_open(n)
            && self.tree.filter.is_none()
        {
            self.set_open(n, false);
            return;
        }
        if let Some(parent) = self.parent_of(row)
            && let Some(i) = self.tree.rows.iter().position(|r| *r == Row::Node(parent))
        {
            self.select(i);
        }
    }

    /// The node a row hangs from (None at the top level).
    fn parent_of(&self, row: Row) -> Option<usize> {
        match row {
            Row::Cache { node, .. } => Some(node),
            Row::Node(n) => self.tree.nodes[n].parent.filter(|&p| p != 0),
        }
    }

    pub(super) fn toggle_mark(&mut self) {
        let Some(row) = self.selected() else {
            return;
        };
        let key = self.tree.row_key(&self.model, row);
        if !self.marks.remove(&key) {
            self.marks.insert(key);
        }
        // Marking moves on, so Space Space Space marks three lines.
        self.tree_action(Action::Down);
        self.refresh_scope();
    }

    pub(super) fn next_problem(&mut self) {
        let from = self.selected().map(Row::node);
        match self.tree.next_problem(from) {
            Some(node) => {
                self.sync();
                if let Some(i) = self.tree.rows.iter().position(|r| *r == Row::Node(node)) {
                    self.select(i);
                }
            }
            None => self.message = Some("no problems: every cache is fresh or sourceless".into()),
        }
    }

    /// Recomputes rows if needed and puts the selection back on the same item.
    pub(crate) fn sync(&mut self) {
        if self.tree.rows_dirty {
            self.tree.ensure_rows(&self.model);
            let found = self
                .sel_key
                .as_deref()
                .and_then(|k| self.tree.row_of_key(&self.model, k));
            match found {
                Some(row) => self.sel = row,
                // Rescanning: the selected item comes back when its batch arrives, and
                // the cursor with it.
                None if !self.model.progress.finished && self.sel_key.is_some() => {
                    self.sel = self.sel.min(self.tree.rows.len().saturating_sub(1));
                }
                None => {
                    self.sel = self.sel.min(self.tree.rows.len().saturating_sub(1));
                    self.remember_selection();
                }
            }
            self.keep_visible();
        }
        self.refresh_scope();
    }

    pub(crate) fn remember_selection(&mut self) {
        self.sel_key = self.selected().map(|r| self.tree.row_key(&self.model, r));
    }

    pub(crate) fn keep_visible(&mut self) {
        let h = self.tree_height.max(1);
        if self.sel < self.offset {
            self.offset = self.sel;
        } else if self.sel >= self.offset + h {
            self.offset = self.sel + 1 - h;
        }
        let max_offset = self.tree.rows.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }

    /// True when the row or one of its ancestors is marked.
    pub fn is_marked(&self, row: Row) -> (bool, bool) {
        let own = self.marks.contains(&self.tree.row_key(&self.model, row));
        let mut at = match row {
            Row::Node(n) => self.tree.nodes[n].parent,
            Row::Cache { node, .. } => Some(node),
        };
        while let Some(n) = at {
            if n != 0 && self.marks.contains(&self.tree.nodes[n].key) {
                return (own, true);
            }
            at = self.tree.nodes[n].parent;
        }
        (own, false)
    }
}
