//! Unreadable parts of a tree are not a success.
