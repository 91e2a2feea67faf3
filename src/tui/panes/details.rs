//! The details pane: everything known about the selection. For a module, its source and
//! each cache with its decoded header and verdict; for a cache, also its code object
//! (loaded when selected, never during the scan); for a directory (or, with `t`, the whole
//! project), its totals with bar charts by verdict and by tag, and the problems met below
//! it. Lines are wrapped to the pane (recorded and actual values stay readable at 80x24
//! and 100x30); the pane scrolls when long.

use super::dir_details::dir_lines;
use super::wrap::{LABEL, escaped, wrap_all};
use crate::tui::app::{App, Pane};
use crate::tui::theme::{self, Theme};
use crate::tui::tree::{NodeKind, Row, show_path};
use crate::tui::ui::pane_block;
use pycache::pyc::Status;
use pycache::scan::{CacheRecord, FileMeta, Module};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let width = area.width.saturating_sub(2);
    let lines = lines(app, width);
    let max = lines.len().saturating_sub(1).min(u16::MAX as usize) as u16;
    let scroll = app.details_scroll.min(max);
    let mut title = String::from("Details");
    if app.project_details {
        title.push_str(": whole project");
    }
    if scroll > 0 {
        title.push_str(&format!(" (line {}/{})", scroll + 1, lines.len()));
    }
    let block = pane_block(app, Pane::Details, title);
    // Wrapped here, not by the paragraph, so that scroll positions count screen lines.
    Paragraph::new(lines)
        .block(block)
        .scroll((scroll, 0))
        .render(area, buf);
}

/// Number of lines the pane holds for the current selection at the last layout's width.
pub fn line_count(app: &App) -> usize {
    lines(app, app.details_width).len()
}

/// The pane's text, wrapped to `width` columns.
pub fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = app.opts.theme;
    let width = usize::from(width);
    let mut out = Vec::new();
    if app.project_details {
        dir_lines(app, 0, width, &mut out, t);
        return wrap_all(escaped(out), width);
    }
    match app.selected() {
        None => dir_lines(app, 0, width, &mut out, t),
        Some(Row::Cache { cache, .. }) => {
            if let Some(c) = app.model.caches.get(cache) {
                cache_lines(app, c, true, &mut out, t);
            }
        }
        Some(Row::Node(n)) => match &app.tree.nodes[n].kind {
            NodeKind::Module { key, .. } => {
                if let Some(m) = app.model.modules.get(key) {
                    module_lines(app, m, &mut out, t);
                }
            }
            _ => dir_lines(app, n, width, &mut out, t),
        },
    }
    wrap_all(escaped(out), width)
}

/// A `label     value` line; wrapping continues it under the value.
pub(super) fn field(name: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![label(name), Span::raw(value.into())])
}

fn label(name: &str) -> Span<'static> {
    Span::raw(format!("{name:<w$} ", w = LABEL - 1))
}

fn module_lines(app: &App, m: &Module, out: &mut Vec<Line<'static>>, t: Theme) {
    let kind = if m.is_package { "package" } else { "module" };
    out.push(Line::from(Span::styled(
        format!("{kind} {}", m.name),
        t.heading(),
    )));
    match &m.source_meta {
        Some(meta) => {
            out.push(field("source", show_path(&app.model, &m.source)));
            out.push(field("", file_facts(app, meta)));
        }
        None => out.push(field(
            "source",
            format!("{} (missing)", show_path(&app.model, &m.source)),
        )),
    }
    if let Some(o) = app.outcome_of(&m.source) {
        // The service's next start first: it is the question the view answers.
        let style = super::service::outcome_style(o.next, t);
        out.push(Line::from(vec![
            label("next start"),
            Span::styled(o.next.words(), style.add_modifier(Modifier::BOLD)),
            Span::raw(format!(" ({})", super::service::when_words(o.when))),
        ]));
        out.push(field("why", o.why.clone()));
        if let Some(ms) = o.compile_ms {
            out.push(field("costs", format!("{ms:.1} ms to compile")));
        }
    }
    if let Some(r) = app.reach.get(&m.source) {
        let text = if r.chain.is_empty() {
            r.label.to_string()
        } else {
            format!("{}: {}", r.label, r.chain.join(" -> "))
        };
        out.push(field("imports", text));
    }
    let caches: Vec<&CacheRecord> = app.model.caches_of(m).collect();
    if caches.is_empty() {
        out.push(field(
            "caches",
            "none: Python compiles this module on every start unless it can write a cache",
        ));
    }
    for c in caches {
        out.push(Line::default());
        cache_lines(app, c, false, out, t);
    }
}

fn cache_lines(app: &App, c: &CacheRecord, full: bool, out: &mut Vec<Line<'static>>, t: Theme) {
    out.push(Line::from(vec![
        Span::styled(
            format!("{} ", c.tag.as_deref().unwrap_or("untagged")),
            t.heading(),
        ),
        Span::raw(show_path(&app.model, &c.path)),
    ]));
    let mut verdict = vec![
        label("verdict"),
        Span::styled(c.status.as_str(), t.status(c.status)),
    ];
    if let Some(r) = &c.reason {
        verdict.push(Span::raw(format!(": {r}")));
    }
    out.push(Line::from(verdict));
    if full {
        out.push(field("file", file_facts(app, &c.meta)));
        if let Some(src) = &c.source {
            out.push(field("source", show_path(&app.model, src)));
        }
    } else {
        out.push(field("file", theme::size(c.meta.size)));
    }
    let mut magic = match (&c.header, c.magic) {
        (Some(h), _) => format!(
            "{} ({}), {}-byte header",
            h.magic.magic,
            h.magic.describe(),
            h.header_size
        ),
        (None, Some(m)) => format!("{m} ({})", pycache::pyc::magic::lookup(m).describe()),
        (None, None) => "unreadable".to_string(),
    };
    if c.location != pycache::pyc::Location::Pycache {
        magic.push_str(&format!(", {} location", c.location.as_str()));
    }
    out.push(field("magic", magic));
    if let Some(inv) = c.invalidation {
        out.push(field("mode", inv.as_str()));
    }
    if let Some(h) = &c.header {
        let actual = c
            .source
            .as_ref()
            .and_then(|s| app.model.modules.get(s))
            .and_then(|m| m.source_meta);
        if let Some(hash) = h.source_hash_hex() {
            let now = c
                .verdict
                .actual_hash
                .as_ref()
                .map(|a| (a.clone(), *a == hash));
            compare(out, "hash", hash, now, t);
        } else {
            // CPython compares the low 32 bits of the source's mtime and size.
            if let Some(m) = h.source_mtime {
                let now = actual.map(|a| (date(a.mtime), a.mtime as u32 == m));
                compare(out, "mtime", date(i64::from(m)), now, t);
            }
            if let Some(size) = h.source_size {
                let now = actual.map(|a| (a.size.to_string(), a.size as u32 == size));
                compare(out, "size", size.to_string(), now, t);
            }
        }
    }
    if full {
        code_lines(app, c, out, t);
    }
}

/// `what       recorded VALUE` with `actual   VALUE` below it, aligned so the two read
/// as a column; an actual value that differs (`same` false) is shown in the stale style.
fn compare(
    out: &mut Vec<Line<'static>>,
    what: &str,
    recorded: String,
    actual: Option<(String, bool)>,
    t: Theme,
) {
    out.push(Line::from(vec![
        label(what),
        Span::raw("recorded "),
        Span::raw(recorded),
    ]));
    if let Some((text, same)) = actual {
        let style = if same {
            ratatui::style::Style::default()
        } else {
            t.status(Status::Stale)
        };
        out.push(Line::from(vec![
            label(""),
            Span::raw("actual   "),
            Span::styled(text, style),
        ]));
    }
}

fn code_lines(app: &App, c: &CacheRecord, out: &mut Vec<Line<'static>>, t: Theme) {
    out.push(Line::default());
    out.push(Line::from(Span::styled("code", t.heading())));
    if app.snapshot.is_some() {
        // Decoding would read this machine's file, not the snapshot's.
        out.push(field(
            "",
            format!(
                "not in the snapshot: run 'pycache inspect {}' where it was scanned",
                pycache::scan::display_path(&c.path)
            ),
        ));
        return;
    }
    match app.code.get(&c.path) {
        None => out.push(field("", "loading…")),
        Some(Err(e)) => out.push(field("", format!("not decoded: {e}"))),
        Some(Ok(code)) => {
            out.push(field("filename", code.filename.clone()));
            let list = |v: &[String]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    v.join(", ")
                }
            };
            out.push(field("functions", list(&code.functions)));
            out.push(field("classes", list(&code.classes)));
        }
    }
}

/// `1.2K  2024-05-01 10:00:00 UTC  root  rw-r--r--`
fn file_facts(app: &App, m: &FileMeta) -> String {
    let owner = match app.owners.get(&m.uid) {
        Some(Some(name)) => name.clone(),
        _ => format!("uid {}", m.uid),
    };
    format!(
        "{}  {}  {owner}  {}",
        theme::size(m.size),
        date(m.mtime),
        mode(m.mode)
    )
}

/// Seconds since the epoch as a UTC date (no time-zone database needed, same everywhere).
pub fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Permission bits as `ls -l` shows them.
pub fn mode(mode: u32) -> String {
    let mut s = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil() {
        assert_eq!(date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(1_714_557_600), "2024-05-01 10:00:00 UTC");
        assert_eq!(mode(0o100644), "rw-r--r--");
    }
}
