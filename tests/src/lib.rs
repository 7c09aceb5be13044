//! Shared helpers for the system tests live in `tests/tests/common/`.
