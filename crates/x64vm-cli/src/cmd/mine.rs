//! `x64vm mine [N]`: mine empty blocks.

use clap::Args;

use super::chain::{CliError, Global, Report, open};

/// Arguments of `x64vm mine`.
#[derive(Args, Debug)]
pub struct MineArgs {
    /// How many blocks.
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub blocks: u64,
}

/// Mines and prints the new head.
pub fn mine(a: &MineArgs, g: &Global) -> Result<Report, CliError> {
    let chain = open(g)?;
    let head = chain.mine(a.blocks)?;
    Report::typed(
        &head,
        format!(
            "head: block {} (timestamp {}) {}\n",
            head.number,
            head.timestamp,
            x64vm_runtime::hex(&head.hash)
        ),
    )
}
