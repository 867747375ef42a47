//! `x64vm dump [--out FILE]`: the whole state as JSON.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::chain::{CliError, Global, Report, open_existing};

/// Arguments of `x64vm dump`.
#[derive(Args, Debug)]
pub struct DumpArgs {
    /// Write the dump to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// Dumps.
pub fn dump(a: &DumpArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open_existing(g)?;
    let d = chain.dump()?;
    match &a.out {
        None => {
            let mut rep = Report::typed(&d, String::new())?;
            rep.text = rep.rendered.clone().unwrap_or_default() + "\n";
            Ok(rep)
        }
        Some(p) => {
            let bytes = serde_json::to_vec_pretty(&d).map_err(|e| e.to_string())?;
            std::fs::write(p, &bytes).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(Report::ok(
                json!({"dump": p.display().to_string(), "bytes": bytes.len()}),
                format!(
                    "wrote {} ({} bytes: {} accounts, {} contracts, {} receipts, head block {})\n",
                    p.display(),
                    bytes.len(),
                    d.accounts.len(),
                    d.contracts.len(),
                    d.receipts.len(),
                    d.head
                ),
            ))
        }
    }
}
