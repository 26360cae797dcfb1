//! Test support: real servers and certificates, for this crate's tests and,
//! with the `test-support` feature, the end-to-end tests. A missing server
//! binary fails the test with a message; nothing is skipped silently.

pub mod mariadb;
pub mod postgres;
pub mod redis;
pub mod report;
pub mod tls;
