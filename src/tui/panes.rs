//! One file per pane, plus what they draw with (`bars`, `wrap`). Each draws from a
//! borrowed `App` and never changes it.

pub mod actions;
pub mod bars;
pub mod confirm;
pub mod details;
pub mod dir_details;
pub mod help;
pub mod service;
pub mod status;
pub mod tree;
pub mod wrap;
