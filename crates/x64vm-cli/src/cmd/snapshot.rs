//! `x64vm snapshot`: record the state.

use clap::Args;
use serde_json::json;

use super::chain::{CliError, Global, Report, open};

/// Arguments of `x64vm snapshot`.
#[derive(Args, Debug)]
pub struct SnapshotArgs {}

/// Takes a snapshot and prints its id.
pub fn snapshot(_: &SnapshotArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open(g)?;
    let id = chain.snapshot()?;
    Ok(Report::ok(
        json!({ "snapshot": id }),
        format!("snapshot {id} (return to it with `x64vm revert {id}`)\n"),
    ))
}
