//! Bounded, honest and crash-safe: no raw control byte from a name reaches the terminal,
//! no read blocks on a FIFO or grows without bound, unreadable parts of a tree are not a
//! success, a crashed scanner is an error. Every child runs with a hard timeout, so a
//! regression fails instead of hanging.

mod crash;
mod escapes;
mod reads;
mod skipped;

use std::time::Duration;

/// The hard timeout of every child in these tests.
pub const LIMIT: Duration = Duration::from_secs(30);
