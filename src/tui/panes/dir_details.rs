//! The details of a directory, a group or the whole project: totals, writability, and
//! the charts of cache bytes by verdict and by interpreter.

use super::bars::{Bar, chart};
use super::details::field;
use crate::tui::app::App;
use crate::tui::theme::{self, Theme};
use crate::tui::tree::{Agg, NodeKind, show_path, status_index};
use pycache::pyc::Status;
use ratatui::text::{Line, Span};

pub fn dir_lines(app: &App, n: usize, width: usize, out: &mut Vec<Line<'static>>, t: Theme) {
    let node = &app.tree.nodes[n];
    let name = if n == 0 {
        let roots: Vec<String> = app
            .model
            .roots
            .iter()
            .map(|r| pycache::scan::display_path(r))
            .collect();
        roots.join(", ")
    } else {
        match node.kind {
            NodeKind::Dir => format!("{}/", node.key),
            _ => node.name.clone(),
        }
    };
    out.push(Line::from(Span::styled(name, t.heading())));
    if n == 0 {
        super::service::project_lines(app, out, t);
    }
    if n == 0
        && let Some(p) = &app.model.prefix
    {
        out.push(field("prefix", pycache::scan::display_path(p)));
    }
    let a: &Agg = &node.agg;
    out.push(field(
        "modules",
        format!("{} ({} without any cache)", a.modules, a.uncached),
    ));
    out.push(field(
        "caches",
        format!("{} ({})", a.caches, theme::size(a.bytes)),
    ));
    if n != 0
        && let Some(root) = app.model.roots.first()
    {
        // The line is there while the check runs, so its answer does not push the charts
        // down (and make the terminal redraw them) a moment after each cursor move.
        match app.access.get(&root.join(&node.key)) {
            Some(text) => out.push(field("writable", text.clone())),
            None if node.kind == NodeKind::Dir
                && app.tree.view == crate::tui::tree::View::Directory
                && app.snapshot.is_none() =>
            {
                out.push(field("writable", "checking…".to_string()))
            }
            None => {}
        }
    }
    let verdicts: Vec<Bar> = Status::ALL
        .iter()
        .filter(|s| a.status[status_index(**s)] > 0)
        .map(|&s| Bar {
            label: s.as_str().to_string(),
            count: a.status[status_index(s)],
            bytes: a.status_bytes[status_index(s)],
            style: t.status(s),
        })
        .collect();
    if n == 0 {
        super::service::cost_lines(app, None, width, out, t);
    } else if node.kind == NodeKind::Dir
        && app.tree.view == crate::tui::tree::View::Directory
        && let Some(root) = app.model.roots.first()
    {
        super::service::cost_lines(app, Some(&root.join(&node.key)), width, out, t);
    }
    out.extend(chart("cache bytes by verdict", &verdicts, width, t));
    let tags: Vec<Bar> = a
        .tags_sorted()
        .into_iter()
        .map(|(tag, count, bytes)| Bar {
            label: if tag == "-" { "untagged".into() } else { tag },
            count,
            bytes,
            style: t.tag(),
        })
        .collect();
    out.extend(chart("cache bytes by interpreter", &tags, width, t));
    let prefix = if n == 0 {
        String::new()
    } else {
        node.key.clone()
    };
    let errors: Vec<_> = app
        .model
        .errors
        .iter()
        .filter(|e| n == 0 || show_path(&app.model, &e.path).starts_with(&prefix))
        .collect();
    if !errors.is_empty() {
        out.push(Line::default());
        out.push(Line::from(Span::styled(
            format!("problems met while scanning ({})", errors.len()),
            t.heading(),
        )));
        for e in errors {
            out.push(Line::from(format!(
                "{}: {}",
                show_path(&app.model, &e.path),
                e.message
            )));
        }
    }
}
