//! The service's view through `App::update`: the context switch (`x`) through the tree's
//! other tags and "no context", and the cost bars of a measured context.

use super::*;
use crate::tui::event::Event;
use crate::tui::fixture;
use pycache::doctor::cost::ModuleCost;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The demo judged in lernmanager.service's context, the app fed as the judge thread
/// feeds it (its own view, then the other tags). Returns the app, the demo's root and
/// what the first judgement asked for.
fn demo() -> (App, tempfile::TempDir, String, Vec<Effect>) {
    let (dir, root, svc, model) = fixture::demo_service();
    let others: Vec<_> = {
        let access = pycache::context::SystemAccess::of(&svc.context);
        pycache::context::switch::alternatives(&svc, &model, &access)
            .into_iter()
            .map(|a| (a.context.title(&svc.root), a))
            .collect()
    };
    let mut a = App::new(model, Options::default());
    a.expect_service("as lernmanager".into());
    let (effects, _) = a.update(Event::Service(Ok(Box::new(svc))));
    let round = a.service().map_or(0, |s| s.round);
    let n = others.len();
    let (more, redraw) = a.update(Event::Alternatives(round + 1, others.clone()));
    assert!(redraw);
    assert_eq!(
        a.service().map(|s| s.choices.len()),
        Some(1),
        "another round's views are not this judgement's"
    );
    let (more2, _) = a.update(Event::Alternatives(round, others));
    assert!(
        more.is_empty() && more2.is_empty(),
        "the other tags are not measured until shown"
    );
    assert_eq!(a.service().map(|s| s.choices.len()), Some(1 + n));
    (a, dir, root.display().to_string(), effects)
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in keys.chars() {
        out.extend(app.update(Event::Key(fixture::key_event(c))).0);
    }
    out
}

fn screen(app: &mut App, w: u16, h: u16, root: &str) -> String {
    app.resize(w, h);
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| crate::tui::ui::draw(app, f)).unwrap();
    format!("{}", term.backend()).replace(root, "[DEMO]")
}

fn measured(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Measure(job) => Some(job.title.clone()),
            _ => None,
        })
        .collect()
}

/// The next start of the module whose source is `file`, in the view shown.
fn outcome(a: &App, file: &str) -> Option<pycache::context::NextStart> {
    let s = a.service()?.by_source.iter();
    s.filter(|(p, _)| p.ends_with(file))
        .map(|(_, m)| m.next)
        .next()
        .filter(|_| a.service().is_some_and(|s| s.shown))
}

#[test]
fn x_cycles_the_service_context_the_trees_other_tag_no_context_and_back() {
    let (mut a, _dir, root, first) = demo();
    let own = "cpython-313 as lernmanager, prefix instance/tmp";
    assert_eq!(
        measured(&first),
        [own],
        "the service's own context is measured once judged"
    );
    assert_eq!(a.service_title().as_deref(), Some(own));
    use pycache::context::NextStart as N;
    assert_eq!(outcome(&a, "app.py"), Some(N::LoadsCache));

    let asked = press(&mut a, "x");
    let other = "cpython-312 as lernmanager, prefix instance/tmp";
    assert_eq!(
        a.service_title().as_deref(),
        Some(other),
        "x: the tree's 3.12"
    );
    let msg = a.message.clone().unwrap_or_default();
    assert!(
        msg.starts_with(&format!("context 2 of 2: {other}"))
            && msg.contains("the tree's cpython-312 caches"),
        "the status bar says which context and where its python comes from: {msg}"
    );
    assert_eq!(
        measured(&asked),
        [other],
        "a context shown is measured once"
    );
    assert_eq!(
        outcome(&a, "app.py"),
        Some(N::CompilesEveryStart),
        "the prefix holds 3.13 caches only: under 3.12 app compiles at every start"
    );
    let text = screen(&mut a, 120, 40, &root);
    assert!(text.contains(other), "the title follows:\n{text}");
    let app_row = text.lines().find(|l| l.contains("app.py")).unwrap_or("");
    assert!(
        app_row.contains("every start"),
        "the rows follow the context: {app_row}"
    );
    insta::assert_snapshot!("demo_context_cpython_312_120x40", text);

    press(&mut a, "x");
    assert_eq!(a.service_title(), None, "x again: no context");
    assert!(a.message.as_deref().unwrap_or("").starts_with("no context"));
    assert_eq!(outcome(&a, "app.py"), None);
    let text = screen(&mut a, 120, 40, &root);
    assert!(
        !text.contains("every start"),
        "no context: no next start:\n{text}"
    );

    let again = press(&mut a, "x");
    assert_eq!(
        a.service_title().as_deref(),
        Some(own),
        "and back to the service"
    );
    assert!(measured(&again).is_empty(), "measured once per context");
    assert_eq!(outcome(&a, "app.py"), Some(N::LoadsCache));
    assert_eq!(outcome(&a, "utils.py"), Some(N::CompilesEveryStart));
}

/// Fixed measurements for the demo's imported modules: 1 ms compile and 0.1 ms load per
/// 100 bytes of source, so the order is known.
fn fixed_costs(a: &App) -> Vec<ModuleCost> {
    let s = a.service().unwrap();
    let mut sources: Vec<_> = s.by_source.keys().cloned().collect();
    sources.sort();
    sources
        .into_iter()
        .enumerate()
        .map(|(i, source)| ModuleCost {
            compile_ms: Some(1.0 + i as f64 * 1.5),
            load_ms: Some(0.1 + i as f64 * 0.05),
            source,
            cache_used: None,
            error: None,
        })
        .collect()
}

#[test]
fn the_projects_details_show_per_start_costs_slowest_first_and_the_time_lost() {
    let (mut a, _dir, root, _) = demo();
    let title = a.service_title().unwrap();
    let costs = fixed_costs(&a);
    let measured = pycache::context::switch::Measured {
        python: "/usr/bin/python3.13".into(),
        costs,
    };
    let (_, redraw) = a.update(Event::Measured(title, Ok(measured)));
    assert!(redraw);
    let text = screen(&mut a, 120, 40, &root);
    assert!(
        text.contains("per-start cost, cpython-313, slowest first"),
        "{text}"
    );
    assert!(
        text.contains("every start loses 10.00 ms on first use"),
        "utils (the slowest) compiles at every start, on first use: {text}"
    );
    insta::assert_snapshot!("demo_costs_120x40", text);

    // A directory's details: its own modules only.
    press(&mut a, "jk");
    let text = screen(&mut a, 120, 40, &root);
    assert!(text.contains("│microweb/ "), "{text}");
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" ms load") || l.contains(" ms compile"))
        .map(|l| l.rsplit('│').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(rows.len(), 2, "microweb and microweb.routing: {rows:?}");
    assert!(
        rows[0].starts_with("microweb.routing") && rows[1].starts_with("microweb "),
        "slowest first: {rows:?}"
    );
    assert!(
        text.contains("a start loses nothing to missing caches"),
        "{text}"
    );
}

#[test]
fn a_context_that_cannot_be_measured_says_why_in_one_line() {
    let (mut a, _dir, root, _) = demo();
    let title = a.service_title().unwrap();
    let why = "/usr/bin/python3.13 may be changed by user 1000".to_string();
    a.update(Event::Measured(title, Err(why.clone())));
    let text = screen(&mut a, 120, 40, &root);
    assert!(
        text.contains("cost       not measured: /usr/bin/python3.13"),
        "{text}"
    );
    assert!(text.contains("may be changed by user 1000"), "{text}");
    assert!(
        !text.contains("per-start cost"),
        "no bars without numbers:\n{text}"
    );
}

/// The real measurement (the doctor's driver, a trusted interpreter of the demo's 3.13)
/// gives non-zero bars. Under CI a missing interpreter is a failure.
#[test]
fn a_real_measurement_of_the_demo_gives_non_zero_bars() {
    let (mut a, _dir, root, _) = demo();
    let choice = a.service().and_then(|s| s.choice()).unwrap().clone();
    if let Err(why) = pycache::context::switch::measuring_python(&choice.context) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but the demo's interpreter is missing: {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    let result = pycache::context::switch::measure_start(&choice.context, &choice.view, 1);
    let measured = result.expect("the demo is measured with a trusted interpreter");
    let costs = measured.costs.clone();
    assert_eq!(
        costs.len(),
        choice.view.modules.len(),
        "every imported module"
    );
    assert!(
        costs
            .iter()
            .all(|c| c.compile_ms.is_some_and(|ms| ms > 0.0)),
        "{costs:?}"
    );
    a.update(Event::Measured(choice.title.clone(), Ok(measured)));
    let text = screen(&mut a, 120, 40, &root);
    let bars: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" ms load") || l.contains(" ms compile"))
        .collect();
    assert_eq!(bars.len(), choice.view.modules.len(), "{text}");
    assert!(
        bars.iter().all(|l| l.contains('█')
            || l.contains('▏')
            || l.contains('▎')
            || l.contains('▍')
            || l.contains('▌')
            || l.contains('▋')
            || l.contains('▊')
            || l.contains('▉')),
        "every bar is drawn: {bars:?}"
    );
    assert!(text.contains("every start loses "), "{text}");
}
