//! The command line as a user drives it: outputs, `--json`, exit code 2 and no partial file on
//! bad input; one file per subcommand (the other stages' commands are tested beside their
//! library tests: dedup, retrieval, labels, projection, report).

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod cluster;
mod compare;
mod embed;
mod errors;
mod health;
mod queries;
mod shards;
mod stability;

/// A file of `tests/fixtures/inputs`.
fn input(name: &str) -> std::path::PathBuf {
    common::fixture("inputs").join(name)
}
