//! `x64vm init`: create a fresh local chain.

use clap::Args;
use serde_json::json;
use x64vm_chain::{Chain, Params};

use super::chain::{CliError, Global, Report, to_json};

/// Arguments of `x64vm init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Delete an existing state file first.
    #[arg(long)]
    pub force: bool,
    /// Price of one unit of gas, taken from senders and burned (0: gas is free).
    #[arg(long, default_value_t = Params::default().gas_price)]
    pub gas_price: u128,
}

/// Creates the chain.
pub fn init(a: &InitArgs, g: &Global) -> Result<Report, CliError> {
    let params = Params {
        gas_price: a.gas_price,
        ..Params::default()
    };
    let chain = Chain::init(&g.state, params, a.force)?;
    let accounts = chain.accounts()?;
    let head = chain.head()?;
    let mut text = format!(
        "initialized a fresh chain in {}\ngenesis block 0 {} (timestamp {}), gas price {}\n",
        g.state.display(),
        x64vm_runtime::hex(&head.hash),
        head.timestamp,
        chain.params().gas_price
    );
    for acct in &accounts {
        text.push_str(&format!(
            "  {:<6} {}  {}\n",
            acct.name.as_deref().unwrap_or("?"),
            x64vm_runtime::hex(&acct.address),
            acct.balance
        ));
    }
    let json = json!({
        "state": g.state.display().to_string(),
        "params": to_json(chain.params())?,
        "head": to_json(&head)?,
        "accounts": to_json(&accounts)?,
    });
    Ok(Report::ok(json, text))
}
