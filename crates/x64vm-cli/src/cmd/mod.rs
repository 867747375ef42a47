//! One module per subcommand.

pub mod echo;
pub mod exec;
pub mod inspect;
pub mod pack;
pub mod run;
pub mod run_contract;

// The local chain (x64vm-chain): shared options and output in `chain`, one
// file per verb.
pub mod accounts;
pub mod call;
pub mod chain;
pub mod deploy;
pub mod disasm;
pub mod dump;
pub mod gas_report;
pub mod init;
pub mod load;
pub mod logs;
pub mod mine;
pub mod node;
pub mod query;
pub mod receipt;
pub mod revert;
pub mod set_balance;
pub mod snapshot;
pub mod storage;
pub mod trace;
