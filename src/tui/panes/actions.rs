//! The actions pane: what can be done to the marks (or else the selection), each line with
//! the totals it would touch. Enter shows the plan; nothing runs from here directly.

use crate::tui::app::{ActionItem, App, Pane};
use crate::tui::theme;
use crate::tui::ui::pane_block;
use pycache::actions::plan::count;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let items = app.items();
    let focused = app.focus == Pane::Actions;
    // Unfocused, the list shows from its top (the cleans come first); focused, it follows
    // the cursor.
    let h = usize::from(area.height.saturating_sub(2));
    let offset = if focused {
        (app.action_sel + 1).saturating_sub(h)
    } else {
        0
    };
    let mut title = format!("Actions on {}", app.scope.label);
    if app.opts.read_only {
        title.push_str(" (read-only)");
    }
    if h > 0 && items.len() > h {
        // Otherwise nothing says that more actions are out of sight.
        let last = (offset + h).min(items.len());
        title.push_str(&format!(" ({}-{last} of {})", offset + 1, items.len()));
    }
    let block = pane_block(app, Pane::Actions, title);
    let inner = block.inner(area);
    block.render(area, buf);
    let h = inner.height as usize;
    if h == 0 {
        return;
    }
    if items.is_empty() && app.snapshot.is_some() {
        let note = Line::from(Span::styled(
            " a saved scan: clean, recompile, rescan and the doctor run where it was made",
            app.opts.theme.dim(),
        ));
        let lines = super::wrap::wrap_all(vec![note], usize::from(inner.width));
        for (y, line) in (inner.y..inner.y + inner.height).zip(lines) {
            buf.set_line(inner.x, y, &line, inner.width);
        }
        return;
    }
    for (i, item) in items.iter().enumerate().skip(offset).take(h) {
        let y = inner.y + (i - offset) as u16;
        let line = clip(item_line(app, item), usize::from(inner.width));
        buf.set_line(inner.x, y, &line, inner.width);
        if i == app.action_sel && focused {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                app.opts.theme.selected(true),
            );
        }
    }
}

/// The line cut to `width` columns with `…` when it is longer.
fn clip(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width || width == 0 {
        return line;
    }
    let mut left = width - 1;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = span.width();
        if w <= left {
            left -= w;
            spans.push(span);
            continue;
        }
        let mut text = String::new();
        for ch in span.content.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
            if cw > left {
                break;
            }
            left -= cw;
            text.push(ch);
        }
        text.push('…');
        spans.push(Span::styled(text, span.style));
        break;
    }
    Line::from(spans)
}

/// Label and totals of one action: what its plan would remove, and how many of the scope's
/// caches it keeps as a live prefix mirror (the planner's own rule), so the line never
/// promises more than the plan does.
pub fn item_line(app: &App, item: &ActionItem) -> Line<'static> {
    let t = app.opts.theme;
    let agg = &app.scope.agg;
    let kept = &app.scope.kept_mirror;
    let totals = |(n, bytes): (u32, u64), (kn, kb): (u32, u64)| {
        let mut s = format!(
            "{}  {}",
            count(u64::from(n.saturating_sub(kn)), "file"),
            theme::size(bytes.saturating_sub(kb))
        );
        if kn > 0 {
            s.push_str(&format!(" ({kn} kept: live prefix mirror)"));
        }
        s
    };
    let problems = |a: &crate::tui::tree::Agg| {
        let bytes: u64 = pycache::pyc::Status::ALL
            .iter()
            .filter(|s| s.is_problem())
            .map(|s| a.of_status(*s).1)
            .sum();
        (a.problems(), bytes)
    };
    let of_tag = |a: &crate::tui::tree::Agg, tag: &str| {
        a.clean_tags
            .iter()
            .find(|x| x.0 == tag)
            .map_or((0, 0), |x| (x.1, x.2))
    };
    let (label, detail, style) = match item {
        ActionItem::CleanProblems => (
            "clean problems".to_string(),
            totals(problems(agg), problems(kept)),
            Style::default(),
        ),
        ActionItem::CleanStatus(s) => (
            format!("clean {}", s.as_str()),
            totals(agg.of_status(*s), kept.of_status(*s)),
            t.status(*s),
        ),
        ActionItem::CleanTag(tag) => (
            // A tag is part of a file name: shown escaped like every name.
            format!("clean tag {}", pycache::text::terminal_safe(tag)),
            totals(of_tag(agg, tag), of_tag(kept, tag)),
            Style::default(),
        ),
        ActionItem::CleanAll => {
            let (n, b) = agg.of_status(pycache::pyc::Status::Sourceless);
            let sourceless = if n > 0 { " (sourceless kept)" } else { "" };
            (
                "clean all caches".to_string(),
                format!(
                    "{}{sourceless}",
                    totals((agg.caches - n, agg.bytes - b), (kept.caches, kept.bytes))
                ),
                Style::default(),
            )
        }
        ActionItem::Recompile => (
            "recompile…".to_string(),
            format!(
                "{}; choose interpreter and mode",
                count(u64::from(agg.modules), "module")
            ),
            Style::default(),
        ),
        ActionItem::Rescan => (
            "rescan".to_string(),
            "walk the tree again".to_string(),
            Style::default(),
        ),
        ActionItem::Imports => (
            "analyze imports".to_string(),
            "which modules do the entry points import?".to_string(),
            Style::default(),
        ),
        ActionItem::Doctor => (
            "doctor".to_string(),
            "can the service user write caches? what does it cost?".to_string(),
            Style::default(),
        ),
    };
    Line::from(vec![
        Span::styled(format!(" {label:<22}"), style),
        Span::styled(detail, t.dim()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::Options;
    use crate::tui::fixture::{self, cache};
    use crate::tui::work::Dialog;
    use pycache::pyc::{Location, Status};
    use pycache::scan::ScanEvent;

    /// The fixture plus `mirror/`: a copy of a PYTHONPYCACHEPREFIX tree for the root
    /// (`mirror/srv/app/app.cpython-313.pyc`, whose source `app.py` exists: the planner keeps
    /// it) and one orphan of a deleted module there (removed).
    fn app_with_a_mirror() -> App {
        let gone = Some("source is gone: Python never imports it");
        let mut batch = fixture::batch();
        for (name, src) in [("app", "app.py"), ("old", "old.py")] {
            let mut c = cache(
                &format!("mirror/srv/app/{name}.cpython-313.pyc"),
                &format!("mirror/srv/app/{src}"),
                Some("cpython-313"),
                Status::Orphaned,
                gone,
                500,
            );
            c.location = Location::Legacy;
            batch.caches.push(c);
        }
        let mut m = fixture::empty();
        m.apply(ScanEvent::Batch(Box::new(batch)));
        m.apply(ScanEvent::Finished);
        let mut a = App::new(m, Options::default());
        a.resize(80, 24);
        let row = a
            .tree
            .rows
            .iter()
            .position(|r| a.tree.nodes[r.node()].key == "mirror")
            .expect("mirror/ is a top-level row");
        a.select(row);
        a.refresh_scope();
        a
    }

    #[test]
    fn clean_counts_are_what_the_plan_removes_and_say_what_the_mirror_keeps() {
        let mut a = app_with_a_mirror();
        assert_eq!(a.scope.agg.problems(), 2);
        for item in [
            ActionItem::CleanProblems,
            ActionItem::CleanStatus(Status::Orphaned),
            ActionItem::CleanAll,
        ] {
            assert!(a.items().contains(&item), "{item:?} is offered");
            let text = item_line(&a, &item).to_string();
            assert!(
                text.contains("1 file  500B (1 kept: live prefix mirror)"),
                "{item:?}: {text}"
            );
            let Ok(Dialog::Confirm { work, .. }) = crate::tui::work::plan(&mut a, &item) else {
                panic!("{item:?} has a plan");
            };
            let crate::tui::work::Work::Execute(plan) = work else {
                panic!("{item:?} plans a clean");
            };
            assert_eq!(plan.totals.files, 1, "{item:?}");
            assert_eq!(plan.totals.bytes, 500, "{item:?}");
        }
    }

    #[test]
    fn a_named_mirror_cache_is_counted_because_the_plan_removes_it() {
        let mut a = app_with_a_mirror();
        // Marked, the caches are named one by one: the planner removes the mirror's too.
        a.marks.insert("mirror".into());
        a.refresh_scope();
        let text = item_line(&a, &ActionItem::CleanProblems).to_string();
        assert!(
            text.contains("2 files  1000B") && !text.contains("kept"),
            "{text}"
        );
        let Ok(Dialog::Confirm { work, .. }) =
            crate::tui::work::plan(&mut a, &ActionItem::CleanProblems)
        else {
            panic!("a plan");
        };
        let crate::tui::work::Work::Execute(plan) = work else {
            panic!("a clean");
        };
        assert_eq!(plan.totals.files, 2);
    }
}
