//! `x64vm revert ID`: return to a snapshot.

use clap::Args;
use serde_json::json;

use super::chain::{CliError, Global, Report, open_existing, to_json};

/// Arguments of `x64vm revert`.
#[derive(Args, Debug)]
pub struct RevertArgs {
    /// The snapshot id (it and later snapshots are used up).
    pub id: u64,
}

/// Reverts.
pub fn revert(a: &RevertArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open_existing(g)?;
    chain.revert(a.id)?;
    let head = chain.head()?;
    Ok(Report::ok(
        json!({ "reverted_to": a.id, "head": to_json(&head)? }),
        format!(
            "reverted to snapshot {}; head is block {}\n",
            a.id, head.number
        ),
    ))
}
