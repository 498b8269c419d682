//! retentiond: enforces data-retention rules against a shop's SQL database.
//!
//! Data flows one way: `config` -> `policy` -> `purge` -> `audit` (and later `report`).
//! `db` is the only module that writes SQL.

pub mod anonymize;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod db;
pub mod demo;
pub mod metrics;
pub mod period;
pub mod policy;
pub mod purge;
pub mod report;
pub mod scheduler;
pub mod suggest;
