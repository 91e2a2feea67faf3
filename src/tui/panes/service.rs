//! The service's view in the project's details: what its next start does with the
//! imported modules, the ones without a usable cache first, named.

use super::bars::{TimeBar, time_chart};
use super::wrap::LABEL;
use crate::tui::app::{App, Measure};
use crate::tui::theme::Theme;
use pycache::context::NextStart;
use pycache::pyc::Status;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use std::path::Path;

/// Lines for the project's details (nothing outside a judged service's view).
pub fn project_lines(app: &App, out: &mut Vec<Line<'static>>, t: Theme) {
    let Some(s) = app.service().filter(|s| s.shown && s.judged) else {
        return;
    };
    let count = |o: NextStart| s.by_source.values().filter(|m| m.next == o).count();
    let mut parts = vec![format!("{} imported", s.by_source.len())];
    // "1 compiles", "2 compile": the count is the subject.
    for (o, one, many) in [
        (NextStart::LoadsCache, "loads a cache", "load a cache"),
        (
            NextStart::CompilesWritesCache,
            "compiles once",
            "compile once",
        ),
        (
            NextStart::CompilesEveryStart,
            "compiles at every start",
            "compile at every start",
        ),
        (NextStart::ImportError, "fails to import", "fail to import"),
    ] {
        let n = count(o);
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    out.push(Line::from(vec![
        label("next start"),
        Span::raw(parts.join(", ")),
    ]));
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

/// The most modules a cost chart shows; the rest are summed in one line.
const COST_ROWS: usize = 12;

/// What each start pays for the imported modules under `dir` (None: the whole project)
/// in the shown context, slowest first, and what a start loses to missing caches. While
/// measuring, or when it cannot be measured, one line says so; numbers are never guessed.
pub fn cost_lines(
    app: &App,
    dir: Option<&Path>,
    width: usize,
    out: &mut Vec<Line<'static>>,
    t: Theme,
) {
    let Some(s) = app.service().filter(|s| s.shown && s.judged) else {
        return;
    };
    let Some(choice) = s.choice() else {
        return;
    };
    let modules: Vec<_> = choice
        .view
        .modules
        .iter()
        .filter(|m| dir.is_none_or(|d| m.source.starts_with(d)))
        .collect();
    if modules.is_empty() {
        return;
    }
    let (python, costs) = match &choice.measure {
        Measure::Done(python, costs) => (python, costs),
        Measure::NotYet | Measure::Running => {
            out.push(cost_note("measuring compile and load times…".into()));
            return;
        }
        Measure::Failed(why) => {
            out.push(cost_note(format!("not measured: {why}")));
            return;
        }
    };
    let mut bars: Vec<TimeBar> = modules
        .iter()
        .filter_map(|m| {
            let ms = pycache::context::switch::per_start_ms(m.next, costs.get(&m.source)?)?;
            let kind = if m.next == NextStart::CompilesEveryStart {
                "compile"
            } else {
                "load"
            };
            Some(TimeBar {
                label: m.module.clone(),
                ms,
                kind,
                style: outcome_style(m.next, t),
            })
        })
        .collect();
    if bars.is_empty() {
        out.push(cost_note(
            "the driver measured none of these modules".into(),
        ));
        return;
    }
    bars.sort_by(|a, b| b.ms.total_cmp(&a.ms).then_with(|| a.label.cmp(&b.label)));
    let rest: Vec<TimeBar> = bars.split_off(bars.len().min(COST_ROWS));
    let tag = choice
        .context
        .interpreter
        .as_ref()
        .map_or_else(String::new, |p| format!(", {}", p.key()));
    out.extend(time_chart(
        &format!("per-start cost{tag}, slowest first"),
        &bars,
        width,
        t,
    ));
    if !rest.is_empty() {
        let ms = rest.iter().fold(0.0, |a, b| a + b.ms);
        out.push(Line::from(format!(
            "… {} more modules, {ms:.2} ms",
            rest.len()
        )));
    }
    out.push(Line::from(lost_words(&modules)));
    out.push(Line::from(Span::styled(
        format!("measured with {}", pycache::scan::display_path(python)),
        t.dim(),
    )));
}

/// What a start loses to missing caches: compiling the modules that compile at every
/// start (at start, and on first use apart).
fn lost_words(modules: &[&pycache::context::ModuleOutcome]) -> String {
    let every: Vec<_> = modules
        .iter()
        .filter(|m| m.next == NextStart::CompilesEveryStart)
        .collect();
    if every.is_empty() {
        return "a start loses nothing to missing caches".into();
    }
    let sum = |when| -> f64 {
        every
            .iter()
            .filter(|m| m.when == when)
            .filter_map(|m| m.compile_ms)
            .fold(0.0, |a, b| a + b)
    };
    let at_start = sum(pycache::context::When::AtStart);
    let first_use = sum(pycache::context::When::OnFirstUse);
    let mut parts = Vec::new();
    if at_start > 0.0 {
        parts.push(format!("{at_start:.2} ms at start"));
    }
    if first_use > 0.0 {
        parts.push(format!("{first_use:.2} ms on first use"));
    }
    let n = every.len();
    let verb = if n == 1 { "compiles" } else { "compile" };
    if parts.is_empty() {
        return format!("{n} {verb} at every start (not measured)");
    }
    format!(
        "every start loses {} to missing caches ({n} {verb} at every start)",
        parts.join(" + ")
    )
}

fn cost_note(text: String) -> Line<'static> {
    Line::from(vec![label("cost"), Span::raw(text)])
}
