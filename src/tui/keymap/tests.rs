//! The key table: lookups by context, help and hints.

use super::*;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[test]
fn vim_keys_and_arrows_move_alike() {
    let ctx = [Ctx::Tree, Ctx::Global];
    assert_eq!(
        action_for(&key(KeyCode::Char('j')), &ctx),
        Some(Action::Down)
    );
    assert_eq!(action_for(&key(KeyCode::Down), &ctx), Some(Action::Down));
    assert_eq!(
        action_for(&key(KeyCode::Char('l')), &ctx),
        Some(Action::Expand)
    );
}

#[test]
fn context_order_decides_and_filter_takes_text() {
    let n = key(KeyCode::Char('n'));
    assert_eq!(
        action_for(&n, &[Ctx::Tree, Ctx::Global]),
        Some(Action::NextProblem)
    );
    assert_eq!(action_for(&n, &[Ctx::Dialog]), Some(Action::Cancel));
    assert_eq!(action_for(&n, &[Ctx::Filter]), Some(Action::Type('n')));
    let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(action_for(&shift_g, &[Ctx::Global]), Some(Action::Bottom));
    let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_eq!(action_for(&ctrl_z, &[Ctx::Global]), Some(Action::Suspend));
}

#[test]
fn help_lists_every_binding_once() {
    let rows: usize = help_rows().iter().map(|(_, r)| r.len()).sum();
    assert_eq!(rows, BINDINGS.len());
    assert!(
        hints(&[Ctx::Tree, Ctx::Global], false)
            .iter()
            .any(|(k, _)| k == "/")
    );
    assert!(
        !hints(&[Ctx::Tree, Ctx::Global], true)
            .iter()
            .any(|(_, h)| *h == "clean")
    );
}
