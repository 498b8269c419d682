//! Integration tests against real SQLite files, through the library and the binary.

mod audit;
mod boundaries;
mod cascade;
mod cli;
mod configs;
mod crash;
mod guards;
mod strategies;
mod support;
