//! Errors of the chain: everything that is not a transaction's own outcome
//! (a reverted or trapped call is a receipt, not an error).

use std::fmt;

/// Why a chain operation could not be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// A file could not be read or written.
    Io(String),
    /// The database reported a failure.
    Db(String),
    /// The state file is damaged.
    Corrupt(String),
    /// The file is not an x64vm state file.
    Foreign(String),
    /// The file is an x64vm state file of another format version.
    Version(String),
    /// Another process (a running node?) has the state file open.
    InUse,
    /// `init` on a file that already holds a chain.
    Exists(String),
    /// No such receipt, contract, alias, snapshot, block or file.
    NotFound(String),
    /// Malformed input: a call line, an address, a hex string, a dump.
    BadInput(String),
    /// A transaction refused before it ran (e.g. the sender cannot pay for
    /// its value and gas); nothing changed and no receipt was made.
    Rejected(String),
    /// The file is not a loadable contract.
    BadCode(String),
}

impl ChainError {
    /// A short stable name, for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            ChainError::Io(_) => "io",
            ChainError::Db(_) => "database",
            ChainError::Corrupt(_) => "corrupt_state",
            ChainError::Foreign(_) => "not_a_state_file",
            ChainError::Version(_) => "state_version",
            ChainError::InUse => "state_in_use",
            ChainError::Exists(_) => "state_exists",
            ChainError::NotFound(_) => "not_found",
            ChainError::BadInput(_) => "bad_input",
            ChainError::Rejected(_) => "rejected",
            ChainError::BadCode(_) => "bad_code",
        }
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Io(m) => write!(f, "I/O error: {m}"),
            ChainError::Db(m) => write!(f, "database error: {m}"),
            ChainError::Corrupt(m) => write!(
                f,
                "the state file is corrupt: {m} (restore it from a dump with `x64vm load`, \
                 or start over with `x64vm init --force`)"
            ),
            ChainError::Foreign(m) | ChainError::Version(m) => f.write_str(m),
            ChainError::InUse => f.write_str(
                "the state file is in use by another process (a running `x64vm node`? \
                 talk to it over JSON-RPC, or stop it first)",
            ),
            ChainError::Exists(p) => write!(
                f,
                "{p} already holds a chain (use --force to start over, which deletes it)"
            ),
            ChainError::NotFound(m) => write!(f, "not found: {m}"),
            ChainError::BadInput(m) => f.write_str(m),
            ChainError::Rejected(m) => write!(f, "transaction rejected: {m}"),
            ChainError::BadCode(m) => write!(f, "not a loadable contract: {m}"),
        }
    }
}

impl std::error::Error for ChainError {}
