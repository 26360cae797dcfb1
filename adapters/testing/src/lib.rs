//! Test support: real servers (MariaDB, PostgreSQL, Redis) and throwaway
//! certificates, for the adapters' tests and the end-to-end tests. A
//! dev-dependency only. A missing server binary fails the test with a
//! message; nothing is skipped silently.

pub mod mariadb;
pub mod postgres;
pub mod redis;
pub mod tls;
