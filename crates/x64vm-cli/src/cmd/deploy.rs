//! `x64vm deploy FILE [CTOR]`: deploy a contract.

use std::path::PathBuf;

use clap::Args;

use super::chain::{CliError, Global, Progress, Report, TxArgs, open, read_file, receipt_report};

/// Arguments of `x64vm deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The contract: an ELF file or a packed file (`x64vm pack`).
    pub file: PathBuf,
    /// A constructor call line run in the same transaction, e.g. 'mint("alice", 1000)'.
    pub ctor: Option<String>,
    /// The alias to call the contract by (default: the file's stem; -2, -3, ... when taken).
    #[arg(long)]
    pub alias: Option<String>,
    #[command(flatten)]
    pub tx: TxArgs,
}

/// Deploys and prints the receipt.
pub fn deploy(a: &DeployArgs, g: &Global) -> Result<Report, CliError> {
    let bytes = read_file(&a.file)?;
    let chain = open(g)?;
    let alias = match &a.alias {
        Some(x) => x.clone(),
        None => x64vm_chain::names::alias_from_stem(
            &a.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "contract".into()),
        ),
    };
    let opts = a.tx.options(&chain)?;
    let r = {
        let _p = Progress::start("deploying");
        chain.deploy(&bytes, a.ctor.as_deref(), Some(&alias), &opts)?
    };
    let extra = match (&r.alias, r.is_success(), r.dry_run) {
        (Some(alias), true, false) => format!(
            "deployed {} as {alias}: call it with `x64vm call {alias} '...'`\n",
            x64vm_runtime::hex(&r.to)
        ),
        _ => String::new(),
    };
    receipt_report(&r, &extra)
}
