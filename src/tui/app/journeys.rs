//! Key journeys through `App::update`, as the event loop feeds it: keys in, effects and
//! screen changes out. Each assert says what the user would have seen go wrong.

use super::*;
use crate::tui::event::Event;
use crate::tui::fixture::{self, app};
use pycache::scan::ScanEvent;
use std::time::Duration;

/// Presses keys through `update`; returns every effect they asked for.
fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in keys.chars() {
        let (effects, redraw) = app.update(Event::Key(fixture::key_event(c)));
        assert!(redraw, "a key press ({c:?}) must redraw the screen");
        out.extend(effects);
    }
    out
}

fn selected_key(app: &App) -> String {
    app.selected()
        .map(|r| app.tree.nodes[r.node()].key.clone())
        .unwrap_or_default()
}

#[test]
fn a_large_regrouping_runs_between_frames_and_the_old_view_keeps_answering() {
    let mut a = app();
    a.regroup_at_once = 0;
    press(&mut a, "v");
    assert_eq!(
        a.tree.view,
        View::Directory,
        "v on a large tree must not block: the old view stays until the new one is built"
    );
    let (view, placed, total) = a.regrouping().expect("a regrouping under way");
    assert_eq!((view, placed), (View::Verdict, 0));
    assert_eq!(total, a.model.modules.len());
    press(&mut a, "j");
    assert_eq!(
        selected_key(&a),
        "app.py",
        "keys move the cursor in the old view while regrouping"
    );
    assert!(a.on_tick(), "the spinner turns while regrouping");
    assert!(a.step_background(Duration::from_secs(5)));
    assert!(
        a.regrouping().is_none(),
        "the whole tree fits one long step"
    );
    assert_eq!(
        a.tree.view,
        View::Verdict,
        "the new view is shown once built"
    );
    assert_eq!(
        a.tree.rows.len(),
        Tree::build(View::Verdict, &a.model, Default::default()).nodes[0]
            .children
            .len()
    );
}

#[test]
fn v_pressed_again_while_regrouping_goes_on_to_the_next_view_and_back_cancels() {
    let mut a = app();
    a.regroup_at_once = 0;
    press(&mut a, "v");
    press(&mut a, "v");
    assert_eq!(a.regrouping().map(|r| r.0), Some(View::Tag));
    press(&mut a, "v");
    assert!(
        a.regrouping().is_none(),
        "cycling back to the view on screen ends the regrouping"
    );
    assert_eq!(a.tree.view, View::Directory);
}

#[test]
fn a_sort_or_filter_changed_while_regrouping_applies_to_the_new_view() {
    let mut a = app();
    a.regroup_at_once = 0;
    press(&mut a, "vs/views\n");
    a.step_background(Duration::from_secs(5));
    assert_eq!(a.tree.view, View::Verdict);
    assert_eq!(a.tree.sort, a.tree.sort.next().next().next(), "sort kept");
    assert_eq!(a.tree.filter.as_deref(), Some("views"), "filter kept");
}

#[test]
fn selecting_rows_asks_for_details_through_update_effects() {
    let mut a = app();
    let effects = press(&mut a, "jll");
    assert!(
        effects.iter().any(|e| matches!(e, Effect::LoadCode(_))),
        "opening app.py and stepping onto its cache loads its code: {effects:?}"
    );
    let (effects, _) = a.update(Event::Owner(0, Some("root".into())));
    assert!(
        effects.is_empty(),
        "an answer asks for nothing more: {effects:?}"
    );
    assert_eq!(a.owners.get(&0), Some(&Some("root".to_string())));
}

#[test]
fn scan_output_through_update_places_each_module_once() {
    let mut a = App::new(fixture::empty(), Options::default());
    let batch = fixture::batch();
    let modules = batch.sources.len();
    let (_, redraw) = a.update(Event::Scan(
        1,
        pycache::scan::ScanEvent::Batch(Box::new(batch)),
    ));
    assert!(redraw);
    assert_eq!(
        a.tree
            .nodes
            .iter()
            .filter(|n| n.alive && n.is_module())
            .count(),
        a.model.modules.len(),
        "one node per module ({modules} sources in the batch)"
    );
}

#[test]
fn idle_ticks_sort_the_closed_groups_before_they_are_opened() {
    let mut a = app();
    crate::tui::fixture::keys(&mut a, "v");
    let fresh = a.tree.find("fresh").unwrap();
    assert!(
        !a.tree.nodes[fresh].tidy,
        "a new view sorts a group on its first open"
    );
    let rows = a.tree.rows.clone();
    let mut ticks = 0;
    while !a.tree.nodes[fresh].tidy && ticks < 10 {
        assert!(!a.on_tick(), "idle: nothing to draw");
        ticks += 1;
    }
    assert!(a.tree.nodes[fresh].tidy, "sorted while idle");
    assert_eq!(a.tree.rows, rows, "the rows are unchanged");
    crate::tui::fixture::keys(&mut a, "jjjj\n");
    assert!(a.tree.is_open(fresh));
}

#[test]
fn a_rescan_puts_the_cursor_back_on_the_same_module_when_it_arrives() {
    let mut a = app();
    press(&mut a, "jjj");
    let before = selected_key(&a);
    assert_eq!(before, "config.py");
    a.reset();
    assert!(a.tree.rows.is_empty(), "a rescan starts from an empty tree");
    // The rescan's first batch lacks config.py; the cursor waits for it.
    let all = fixture::batch();
    let is_config = |p: &std::path::Path| p.to_string_lossy().contains("config");
    let mut first = all.clone();
    first.sources.retain(|s| !is_config(&s.path));
    first.caches.retain(|c| !is_config(&c.path));
    let mut rest = all;
    rest.sources.retain(|s| is_config(&s.path));
    rest.caches.retain(|c| is_config(&c.path));
    rest.errors.clear();
    a.update(Event::Scan(2, ScanEvent::Batch(Box::new(first))));
    assert_ne!(selected_key(&a), before, "config.py has not arrived yet");
    a.update(Event::Scan(2, ScanEvent::Batch(Box::new(rest))));
    assert_eq!(
        selected_key(&a),
        before,
        "the selection is kept across a rescan, not left on whatever arrived first"
    );
}

#[test]
fn a_large_clean_is_planned_off_the_ui_thread_and_its_plan_is_the_same() {
    let mut sync = app();
    press(&mut sync, "nc");
    let Some(crate::tui::work::Dialog::Confirm {
        lines: expected, ..
    }) = sync.dialog().cloned()
    else {
        panic!("a small tree plans at once: {:?}", sync.dialog());
    };
    let mut a = app();
    a.plan_at_once = 0;
    let effects = press(&mut a, "nc");
    assert!(
        a.planning(),
        "a Running 'planning' dialog while the plan is made"
    );
    let Some(Effect::Plan(job)) = effects.into_iter().find(|e| matches!(e, Effect::Plan(_))) else {
        panic!("the plan is asked of an effect");
    };
    let result = crate::tui::work::finish_clean(&job.model, &job.req);
    let (_, redraw) = a.update(Event::Planned(result));
    assert!(redraw);
    let Some(crate::tui::work::Dialog::Confirm { lines, .. }) = a.dialog() else {
        panic!("the plan arrives as its confirm dialog: {:?}", a.dialog());
    };
    assert_eq!(lines, &expected, "off the UI thread, the same plan");
    assert!(!a.planning());
}
