//! `x64vm exec`: run a static Linux program under the Linux profile, forwarding
//! its output and exit code.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use x64vm::linux::{LinuxConfig, spawn};
use x64vm::trace::StepTracer;
use x64vm::{Config, NoHost, Status, load_elf};

/// Arguments of `x64vm exec`.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Gas limit.
    #[arg(long, default_value_t = 1u64 << 40)]
    pub gas: u64,
    /// Print every executed instruction (to stderr), and the system calls answered with ENOSYS.
    #[arg(long)]
    pub trace: bool,
    /// Environment variable for the program (KEY=value); repeatable. The host's
    /// environment is never passed through.
    #[arg(long = "env")]
    pub env: Vec<String>,
    /// Seed of the program's randomness (getrandom, AT_RANDOM).
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
    /// The static ELF program.
    pub program: PathBuf,
    /// Arguments passed to the program.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Runs the program; returns its exit code (or 128+ for traps).
pub fn exec(a: &ExecArgs) -> Result<ExitCode, String> {
    let bytes = std::fs::read(&a.program).map_err(|e| format!("{}: {e}", a.program.display()))?;
    let image = load_elf(&bytes, false).map_err(|e| format!("{}: {e}", a.program.display()))?;
    let mut stdin = Vec::new();
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        std::io::stdin()
            .read_to_end(&mut stdin)
            .map_err(|e| format!("stdin: {e}"))?;
    }
    let mut args = vec![a.program.display().to_string()];
    args.extend(a.args.iter().cloned());
    let linux = LinuxConfig {
        args,
        env: a.env.clone(),
        stdin,
        seed: a.seed,
        ..LinuxConfig::default()
    };
    let config = Config {
        gas_limit: a.gas,
        memory_limit: 1 << 30,
        stack_size: 8 << 20,
        ..Config::default()
    };
    let (mut inst, mut host) = spawn(&image, &config, &linux).map_err(|e| e.to_string())?;
    let outcome = if a.trace {
        let mut tracer = StepTracer::new(std::io::stderr().lock());
        inst.run_with(&mut host, &mut tracer)
    } else {
        inst.run(&mut host)
    };
    let _ = std::io::stdout().write_all(&host.stdout);
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(&host.stderr);
    if a.trace {
        for (nr, count) in &host.unsupported {
            eprintln!("x64vm: syscall {nr} answered with ENOSYS {count} time(s)");
        }
        eprintln!("x64vm: gas used {}", outcome.gas_used);
    }
    let _ = NoHost;
    match (&outcome.status, host.exit_code) {
        (Status::Success, Some(code)) => Ok(ExitCode::from(code as u8)),
        (Status::Success, None) => Ok(ExitCode::SUCCESS),
        (Status::Trapped(report), _) => {
            eprintln!("x64vm: {report}");
            Ok(ExitCode::from(if report.trap.kind() == "out_of_gas" {
                124
            } else {
                134
            }))
        }
        (Status::Reverted, _) => Ok(ExitCode::from(1)),
    }
}
