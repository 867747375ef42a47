//! `x64vm receipt [ID]`: show a receipt.

use clap::Args;

use super::chain::{CliError, Global, Report, open_existing, receipt_report};

/// Arguments of `x64vm receipt`.
#[derive(Args, Debug)]
pub struct ReceiptArgs {
    /// The receipt id (what `deploy` and `call` printed); the latest without it.
    pub id: Option<u64>,
}

/// Prints the receipt; the exit code says whether that transaction succeeded.
pub fn receipt(a: &ReceiptArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open_existing(g)?;
    let r = match a.id {
        Some(id) => chain.receipt(id)?.ok_or_else(|| {
            CliError::from(x64vm_chain::ChainError::NotFound(format!("receipt {id}")))
        })?,
        None => chain.receipts()?.pop().ok_or_else(|| {
            CliError::from(x64vm_chain::ChainError::NotFound(
                "any receipt (no transactions yet)".into(),
            ))
        })?,
    };
    receipt_report(&r, "")
}
