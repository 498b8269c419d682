//! Integration tests against real databases: SQLite files, and PostgreSQL and
//! MariaDB servers that `servers` starts for the run.

#[macro_use]
mod support;

mod api;
mod api_load;
mod audit;
mod batches;
mod boundaries;
mod browser;
mod cascade;
mod cascade_links;
mod cli;
mod configs;
mod contrib;
mod crash;
mod crash_files;
mod daemon;
mod disk_full;
mod docs;
mod erasure;
mod export;
mod failover;
mod faults;
mod files;
mod forms;
mod fuzz;
mod galera;
mod guards;
mod holds;
mod init;
mod init_traps;
mod injection;
mod lag;
mod mail;
mod migrations;
mod partitions;
mod patroni;
mod print;
mod processors;
mod receiver;
mod replicas;
mod reports;
mod restore;
mod s3;
mod servers;
mod shop_schemas;
mod strategies;
mod systemd;
mod walks;
