//! The module tree pane: one line per visible row, the verdicts of each module per
//! interpreter tag, directory totals, marks, and the selection. Only the visible window of
//! rows is formatted, so drawing costs the same for 10 or 100k modules.

use crate::tui::app::{App, Pane};
use crate::tui::theme::{self, Theme};
use crate::tui::tree::{Agg, NodeKind, Row, status_index};
use crate::tui::ui::pane_block;
use pycache::context::NextStart;
use pycache::pyc::Status;
use pycache::scan::CacheRecord;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthStr;

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let tree = &app.tree;
    let mut title = format!(
        "Modules {}, sorted by {}",
        tree.view.label(),
        tree.sort.label()
    );
    if let Some(file) = &app.snapshot {
        title = format!("Snapshot {file}: {}", title.to_lowercase());
    }
    if let Some(service) = app.service_title() {
        // Who starts it comes first: a narrow title cuts from the right.
        title = format!("{service}: modules {}", tree.view.label());
        if tree.sort != crate::tui::tree::SortKey::Name {
            title.push_str(&format!(", sorted by {}", tree.sort.label()));
        }
    }
    if tree.reverse {
        title.push_str(", reversed");
    }
    if let Some(f) = &tree.filter {
        title.push_str(&format!(" /{f}"));
    }
    if !app.marks.is_empty() {
        title.push_str(&format!(" {} marked", app.marks.len()));
    }
    let block = pane_block(app, Pane::Tree, title);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    if tree.rows.is_empty() {
        let text = if !app.model.progress.finished {
            "scanning…"
        } else if tree.filter.is_some() {
            "no module matches the filter (Esc clears it)"
        } else {
            "no Python sources or caches here"
        };
        buf.set_stringn(
            inner.x + 1,
            inner.y,
            text,
            inner.width.saturating_sub(1) as usize,
            Style::default(),
        );
        return;
    }
    let theme = app.opts.theme;
    let focused = app.focus == Pane::Tree;
    let end = (app.offset + inner.height as usize).min(tree.rows.len());
    let visible = &tree.rows[app.offset.min(end)..end];
    // The info column starts after the longest visible name, within half the width.
    let name_col = visible
        .iter()
        .map(|r| prefix_width(app, *r) + name_of(app, *r).width() + 2)
        .max()
        .unwrap_or(0)
        .min(inner.width as usize * 2 / 5)
        .max(12);
    for (i, row) in visible.iter().enumerate() {
        let y = inner.y + i as u16;
        let line = row_line(app, *row, name_col, inner.width as usize, theme);
        buf.set_line(inner.x, y, &line, inner.width);
        if app.offset + i == app.sel {
            // The marker and the name only: a whole-line highlight rewrites two full lines
            // per cursor move, most of the bytes a move costs over ssh.
            let w = (name_col as u16).min(inner.width);
            buf.set_style(Rect::new(inner.x, y, w, 1), theme.selected(focused));
        }
    }
}

fn prefix_width(app: &App, row: Row) -> usize {
    let depth =
        app.tree.nodes[row.node()].depth as usize + usize::from(matches!(row, Row::Cache { .. }));
    1 + 2 * depth + 2
}

fn name_of(app: &App, row: Row) -> String {
    match row {
        Row::Node(n) => {
            let node = &app.tree.nodes[n];
            match node.kind {
                NodeKind::Dir => format!("{}/", node.name),
                _ => node.name.clone(),
            }
        }
        Row::Cache { cache, .. } => app
            .model
            .caches
            .get(cache)
            .map(|c| theme::short_tag(c.tag.as_deref()).to_string() + opt_suffix(c).as_str())
            .unwrap_or_default(),
    }
}

/// What tells two caches of one tag apart: the prefix tree, the optimisation level.
fn opt_suffix(c: &CacheRecord) -> String {
    let mut s = String::new();
    if c.location == pycache::pyc::Location::Prefix {
        s.push_str("@prefix");
    }
    if let Some(o) = &c.opt {
        s.push_str(&format!(" opt-{o}"));
    }
    s
}

fn row_line(app: &App, row: Row, name_col: usize, width: usize, theme: Theme) -> Line<'static> {
    let node = &app.tree.nodes[row.node()];
    let (own_mark, inherited) = app.is_marked(row);
    let mark = if own_mark {
        theme.mark()
    } else if inherited {
        if theme.ascii { "." } else { "·" }
    } else {
        " "
    };
    let (open, closed, leaf) = theme.tree_marks();
    let depth = node.depth as usize + usize::from(matches!(row, Row::Cache { .. }));
    let symbol = match row {
        Row::Cache { .. } => leaf,
        Row::Node(n) => {
            let openable = !node.is_module() || node.agg.caches > 0;
            if !openable {
                leaf
            } else if app.tree.is_open(n) {
                open
            } else {
                closed
            }
        }
    };
    let mut name = name_of(app, row);
    let prefix = format!("{mark}{}{symbol}", "  ".repeat(depth));
    let size_w = 7;
    let room = name_col.saturating_sub(prefix.width() + 1).max(4);
    if name.width() > room {
        name = truncate(&name, room, theme);
    }
    let mut spans = vec![Span::raw(prefix.clone()), Span::raw(name.clone())];
    let used = prefix.width() + name.width();
    spans.push(Span::raw(" ".repeat(name_col.saturating_sub(used).max(1))));
    let info = match row {
        Row::Cache { cache, .. } => match app.model.caches.get(cache) {
            Some(c) => cache_info(app, c, theme),
            None => Vec::new(),
        },
        Row::Node(_) => match &node.kind {
            NodeKind::Module { key, .. } => module_info(app, key, theme),
            _ => dir_info(&node.agg, theme),
        },
    };
    let size = match row {
        Row::Cache { cache, .. } => app.model.caches.get(cache).map_or(0, |c| c.meta.size),
        Row::Node(_) => node.agg.bytes,
    };
    let info_room = width.saturating_sub(name_col.max(used + 1) + size_w);
    // Units ("313 stale", "2 orphan") end at a two-space separator and are shown whole or
    // not at all; a cut is marked, so a row never reads "313" without its verdict.
    let mut units: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    for s in info {
        let sep = s.content == "  ";
        if let Some(u) = units.last_mut() {
            u.push(s);
        }
        if sep {
            units.push(Vec::new());
        }
    }
    units.retain(|u| !u.is_empty());
    let cut = if theme.ascii { "~" } else { "…" };
    let mut info_w = 0;
    let n_units = units.len();
    for (i, unit) in units.into_iter().enumerate() {
        let w: usize = unit.iter().map(|s| s.content.width()).sum();
        let more = i + 1 < n_units;
        if info_w + w + usize::from(more) > info_room && (more || info_w + w > info_room) {
            if info_w < info_room {
                spans.push(Span::styled(cut, theme.dim()));
                info_w += 1;
            }
            break;
        }
        info_w += w;
        spans.extend(unit);
    }
    let pad = width.saturating_sub(name_col.max(used + 1) + info_w + size_w);
    spans.push(Span::raw(" ".repeat(pad)));
    let size_text = if size > 0 {
        theme::size(size)
    } else {
        String::new()
    };
    spans.push(Span::styled(format!("{size_text:>size_w$}"), theme.dim()));
    Line::from(spans)
}

/// The verdict of each cache: `313 ok  312 stale`, plus reachability when known.
fn module_info(app: &App, key: &std::path::Path, theme: Theme) -> Vec<Span<'static>> {
    let Some(m) = app.model.modules.get(key) else {
        return Vec::new();
    };
    // A module row shows all its caches, whatever group it sits in: the full story.
    let mut caches: Vec<&CacheRecord> = app.model.caches_of(m).collect();
    // The path breaks ties (a tag in __pycache__ and in the prefix), so rows do not
    // change with the order the scanner met the files in.
    caches.sort_by(|a, b| {
        b.tag
            .cmp(&a.tag)
            .then_with(|| a.opt.cmp(&b.opt))
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut out = Vec::new();
    // In a service's view, what its next start does comes first when it is not a load.
    if let Some(o) = app
        .outcome_of(key)
        .filter(|o| o.next != NextStart::LoadsCache)
    {
        let (word, style) = match o.next {
            NextStart::ImportError => ("import error", theme.status(Status::Invalid)),
            NextStart::CompilesEveryStart => ("every start", theme.status(Status::Stale)),
            _ => ("compiles once", theme.dim()),
        };
        out.push(Span::styled(word, style.add_modifier(Modifier::BOLD)));
        out.push(Span::raw("  "));
    }
    if caches.is_empty() {
        out.push(Span::styled(
            if m.source_exists() { "no cache  " } else { "" },
            theme.dim(),
        ));
    }
    for c in caches {
        out.push(Span::raw(format!(
            "{}{} ",
            theme::short_tag(c.tag.as_deref()),
            opt_suffix(c)
        )));
        out.push(Span::styled(theme::short(c.status), theme.status(c.status)));
        out.push(Span::raw("  "));
    }
    if let Some(r) = app.reach.get(key) {
        out.push(Span::styled(r.label, theme.dim()));
    }
    out
}

fn cache_info(app: &App, c: &CacheRecord, theme: Theme) -> Vec<Span<'static>> {
    let _ = app;
    let mut out = vec![Span::styled(theme::short(c.status), theme.status(c.status))];
    if c.location != pycache::pyc::Location::Pycache {
        out.push(Span::styled(
            format!("  {}", c.location.as_str()),
            theme.dim(),
        ));
    }
    if let (None, Some(v)) = (&c.tag, c.python) {
        out.push(Span::styled(format!("  py{v}"), theme.dim()));
    }
    out
}

/// Directory totals: module count, then each problem verdict with a count.
fn dir_info(agg: &Agg, theme: Theme) -> Vec<Span<'static>> {
    let mut out = vec![
        Span::styled(format!("{} mod", agg.modules), theme.dim()),
        Span::raw("  "),
    ];
    for s in Status::ALL {
        let n = agg.status[status_index(s)];
        if n > 0 && s != Status::Fresh {
            out.push(Span::styled(
                format!("{n} {}", theme::short(s)),
                theme.status(s),
            ));
            out.push(Span::raw("  "));
        }
    }
    let fresh = agg.status[status_index(Status::Fresh)];
    if fresh > 0 {
        out.push(Span::styled(
            format!("{fresh} ok"),
            theme.status(Status::Fresh),
        ));
        out.push(Span::raw("  "));
    }
    if agg.uncached > 0 {
        out.push(Span::styled(
            format!("{} no cache", agg.uncached),
            theme.dim(),
        ));
    }
    out
}

/// Cuts text to `w` columns, marking the cut.
pub fn truncate(s: &str, w: usize, theme: Theme) -> String {
    let ell = if theme.ascii { "~" } else { "…" };
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push_str(ell);
    out
}
