//! `x64vm pack`: repack a contract ELF file into x64vm's packed format.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `x64vm pack`.
#[derive(Args, Debug)]
pub struct PackArgs {
    /// The contract ELF file.
    pub input: PathBuf,
    /// Where to write the packed file (default: the input with extension `.x64p`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `part` as a percentage of `whole`, one decimal.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// Packs the file and prints the sizes before and after.
pub fn pack(a: &PackArgs) -> Result<ExitCode, String> {
    let elf = std::fs::read(&a.input).map_err(|e| format!("{}: {e}", a.input.display()))?;
    let packed = x64vm::pack(&elf).map_err(|e| format!("{}: {e}", a.input.display()))?;
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| a.input.with_extension("x64p"));
    std::fs::write(&out, &packed).map_err(|e| format!("{}: {e}", out.display()))?;
    let (before, after) = (elf.len() as u64, packed.len() as u64);
    println!(
        "{}: {before} bytes (ELF) -> {}: {after} bytes (x64vm packed), {} of the original, {} bytes saved",
        a.input.display(),
        out.display(),
        percent(after, before),
        before.saturating_sub(after)
    );
    Ok(ExitCode::SUCCESS)
}
