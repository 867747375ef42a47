//! The `x64vm` command.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run x86-64 ELF contracts and programs in a deterministic, gas-metered VM.
#[derive(Parser, Debug)]
#[command(name = "x64vm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one function of an ELF program and print status, gas and output.
    Run(cmd::run::RunArgs),
    /// Run a static Linux program (musl, glibc -static, Rust std) under the
    /// deterministic Linux profile; exits with the program's exit code.
    Exec(cmd::exec::ExecArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::run(&args),
        Command::Exec(args) => cmd::exec::exec(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
