//! `x64vm accounts`: balances and nonces.

use clap::Args;

use super::chain::{CliError, Global, Report, open};

/// Arguments of `x64vm accounts`.
#[derive(Args, Debug)]
pub struct AccountsArgs {}

/// Lists the accounts.
pub fn accounts(_: &AccountsArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open(g)?;
    let list = chain.accounts()?;
    let mut text = format!(
        "{:<12} {:<66} {:>28} {:>6}\n",
        "name", "address", "balance", "nonce"
    );
    for a in &list {
        let name = match (&a.name, &a.alias) {
            (Some(n), _) => n.clone(),
            (None, Some(alias)) => format!("{alias} (contract)"),
            (None, None) if a.contract => "(contract)".into(),
            _ => String::new(),
        };
        text.push_str(&format!(
            "{name:<12} {:<66} {:>28} {:>6}\n",
            x64vm_runtime::hex(&a.address),
            a.balance,
            a.nonce
        ));
    }
    Report::typed(&list, text)
}
