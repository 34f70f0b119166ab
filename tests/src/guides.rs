//! The guides in `docs/`, included here so that their examples are compiled and run as this
//! crate's doctests (`cargo test -p sentry-tests --doc`): a guide whose code stops compiling or
//! asserting fails the tests.

#[doc = include_str!("../../docs/migration.md")]
pub mod migration {}

#[doc = include_str!("../../docs/library-authors.md")]
pub mod library_authors {}
