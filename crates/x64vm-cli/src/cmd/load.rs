//! `x64vm load FILE`: build a state file from a dump.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use x64vm_chain::Chain;

use super::chain::{CliError, Global, Progress, Report, read_file};

/// Arguments of `x64vm load`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    /// The dump (from `x64vm dump`).
    pub file: PathBuf,
    /// Replace an existing state file.
    #[arg(long)]
    pub force: bool,
}

/// Loads.
pub fn load(a: &LoadArgs, g: &Global) -> Result<Report, CliError> {
    let text = read_file(&a.file)?;
    let _p = Progress::start("loading");
    let dump = Chain::parse_dump(&text)?;
    let chain = Chain::load(&g.state, &dump, a.force)?;
    let head = chain.head()?;
    Ok(Report::ok(
        json!({"state": g.state.display().to_string(), "head": head.number, "receipts": dump.receipts.len()}),
        format!(
            "loaded {} into {}: head block {}, {} receipts\n",
            a.file.display(),
            g.state.display(),
            head.number,
            dump.receipts.len()
        ),
    ))
}
