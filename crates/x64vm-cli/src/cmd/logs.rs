//! `x64vm logs`: events of committed transactions.

use clap::Args;
use x64vm_chain::LogFilter;

use super::chain::{CliError, Global, Report, open_existing};

/// Arguments of `x64vm logs`.
#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Only events of this contract (alias or 0x address).
    #[arg(long)]
    pub contract: Option<String>,
    /// Only events of this name (e.g. Transfer).
    #[arg(long)]
    pub event: Option<String>,
}

/// Lists the events.
pub fn logs(a: &LogsArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open_existing(g)?;
    let contract = match &a.contract {
        Some(c) => Some(chain.resolve_contract(c)?),
        None => None,
    };
    let list = chain.logs(&LogFilter {
        contract,
        event: a.event.clone(),
    })?;
    let mut text = String::new();
    for l in &list {
        let who = l
            .event
            .alias
            .clone()
            .unwrap_or_else(|| x64vm_runtime::hex(&l.event.address));
        let what = l
            .event
            .decoded
            .as_deref()
            .map(x64vm_chain::names::readable)
            .unwrap_or_else(|| {
                format!(
                    "topic {} data {}",
                    x64vm_runtime::hex(&l.event.topic),
                    x64vm_runtime::hex(&l.event.data)
                )
            });
        text.push_str(&format!(
            "block {:>4}  receipt {:>4}  {who}: {what}\n",
            l.block, l.receipt
        ));
    }
    if list.is_empty() {
        text.push_str("no events\n");
    }
    Report::typed(&list, text)
}
