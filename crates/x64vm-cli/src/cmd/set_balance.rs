//! `x64vm set-balance ACCOUNT AMOUNT`.

use clap::Args;
use serde_json::json;

use super::chain::{CliError, Global, Report, open};

/// Arguments of `x64vm set-balance`.
#[derive(Args, Debug)]
pub struct SetBalanceArgs {
    /// A name, an alias or a 0x address.
    pub account: String,
    /// The new balance.
    pub balance: u128,
}

/// Sets the balance.
pub fn set_balance(a: &SetBalanceArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open(g)?;
    let addr = chain.resolve_account(&a.account)?;
    chain.set_balance(&addr, a.balance)?;
    Ok(Report::ok(
        json!({"address": x64vm_runtime::hex(&addr), "balance": a.balance.to_string()}),
        format!("{} now holds {}\n", a.account, a.balance),
    ))
}
