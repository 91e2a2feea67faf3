//! One file per pane. Each draws from a borrowed `App` and never changes it.

pub mod actions;
pub mod confirm;
pub mod details;
pub mod help;
pub mod status;
pub mod tree;
