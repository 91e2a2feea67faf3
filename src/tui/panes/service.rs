//! The service's view in the project's details: what its next start does with the
//! imported modules, the ones without a usable cache first, named.

use super::wrap::LABEL;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use pycache::context::NextStart;
use pycache::pyc::Status;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

/// Lines for the project's details (nothing outside a judged service's view).
pub fn project_lines(app: &App, out: &mut Vec<Line<'static>>, t: Theme) {
    let Some(s) = app.service().filter(|s| s.shown && s.judged) else {
        return;
    };
    let count = |o: NextStart| s.by_source.values().filter(|m| m.next == o).count();
    let mut parts = vec![format!("{} imported", s.by_source.len())];
    for (o, words) in [
        (NextStart::LoadsCache, "load a cache"),
        (NextStart::CompilesWritesCache, "compile once"),
        (NextStart::CompilesEveryStart, "compile at every start"),
        (NextStart::ImportError, "fail to import"),
    ] {
        let n = count(o);
        if n > 0 {
            parts.push(format!("{n} {words}"));
        }
    }
    out.push(Line::from(vec![
        label("next start"),
        Span::raw(parts.join(", ")),
    ]));
    if let Some(ms) = s.every_start_ms {
        out.push(Line::from(vec![
            label(""),
            Span::raw(format!("every start loses {ms:.1} ms compiling")),
        ]));
    }
    // The worst first, then by name: what the seed's question asks for.
    let mut bad: Vec<_> = s
        .by_source
        .values()
        .filter(|m| {
            matches!(
                m.next,
                NextStart::CompilesEveryStart | NextStart::ImportError
            )
        })
        .collect();
    bad.sort_by(|a, b| a.next.cmp(&b.next).then_with(|| a.module.cmp(&b.module)));
    for m in bad {
        out.push(Line::from(vec![
            label(""),
            Span::styled(
                m.module.clone(),
                outcome_style(m.next, t).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(" {} ({})", m.next.words(), when_words(m.when))),
        ]));
    }
}

/// The colour of a next-start outcome (words carry the meaning; colour only helps).
pub fn outcome_style(next: NextStart, t: Theme) -> ratatui::style::Style {
    match next {
        NextStart::LoadsCache => t.status(Status::Fresh),
        NextStart::CompilesWritesCache => t.dim(),
        NextStart::CompilesEveryStart => t.status(Status::Stale),
        NextStart::ImportError => t.status(Status::Invalid),
    }
}

/// When a start imports the module, in words.
pub fn when_words(when: pycache::context::When) -> &'static str {
    match when {
        pycache::context::When::AtStart => "imported at start",
        pycache::context::When::OnFirstUse => "imported on first use",
    }
}

fn label(name: &str) -> Span<'static> {
    Span::raw(format!("{name:<w$} ", w = LABEL - 1))
}
