//! Reads: only regular files, each with a cap.
