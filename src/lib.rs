//! retentiond: enforces data-retention rules against a shop's SQL database.
//!
//! Data flows one way: `config` -> `policy` -> `engine` -> `db`, and `audit` ->
//! `report`. `db` is the only module that writes SQL; ARCHITECTURE.md maps the rest.

pub mod anonymize;
pub mod api;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod db;
pub mod demo;
pub mod draft;
pub mod engine;
pub mod export;
pub mod files;
pub mod ledger;
pub mod metrics;
pub mod outcome;
pub mod period;
pub mod personal;
pub mod policy;
pub mod processors;
pub mod report;
pub mod scheduler;
pub mod schema;
pub mod secret;
mod spelling;
pub mod status;
pub mod suggest;
pub mod tls;
pub mod tokens;
pub mod value;
