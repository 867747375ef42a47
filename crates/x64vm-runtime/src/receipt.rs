//! Receipts: what a deploy or call left behind.

use std::fmt;

use crate::Address;

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// Success: its state changes are committed.
    Success,
    /// The contract reverted; the revert data as (lossy) UTF-8.
    Reverted(String),
    /// A trap (`kind` is the trap kind, e.g. `out_of_gas`, `host_error`) or a
    /// runtime refusal (`bad_call`, `no_contract`, `insufficient_balance`,
    /// `load_error`); `message` says what and, for traps, where (RIP and instruction).
    Failed {
        /// A short stable name.
        kind: String,
        /// A readable explanation.
        message: String,
    },
}

impl ReceiptStatus {
    /// Whether the call succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, ReceiptStatus::Success)
    }

    /// `success`, `reverted` or the failure kind.
    pub fn name(&self) -> &str {
        match self {
            ReceiptStatus::Success => "success",
            ReceiptStatus::Reverted(_) => "reverted",
            ReceiptStatus::Failed { kind, .. } => kind,
        }
    }
}

impl fmt::Display for ReceiptStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiptStatus::Success => f.write_str("success"),
            ReceiptStatus::Reverted(m) => write!(f, "reverted: {m}"),
            ReceiptStatus::Failed { message, .. } => f.write_str(message),
        }
    }
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventLog {
    /// The contract that emitted it.
    pub address: Address,
    /// keccak256 of the event signature.
    pub topic: [u8; 32],
    /// The fields, Borsh-encoded.
    pub data: Vec<u8>,
    /// `Name(field: value, ...)`, when an ABI declares an event with this topic
    /// and the data decodes.
    pub decoded: Option<String>,
}

/// The result of a call (or of a constructor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// How it ended.
    pub status: ReceiptStatus,
    /// Gas used (all of `gas_limit` on out of gas).
    pub gas_used: u64,
    /// Gas given.
    pub gas_limit: u64,
    /// Output bytes (the return value; the revert data when reverted).
    pub output: Vec<u8>,
    /// The return value rendered with the ABI (e.g. `100`, `true`, `"hi"`).
    pub decoded_output: Option<String>,
    /// Events of all frames that succeeded, in emission order (empty unless the
    /// whole call succeeded).
    pub events: Vec<EventLog>,
    /// Bytes written with the `debug` service by every frame, in order.
    pub debug: Vec<u8>,
}

impl Receipt {
    /// A receipt for a call refused before any code ran.
    pub fn refused(kind: &str, message: impl Into<String>, gas_limit: u64) -> Receipt {
        Receipt {
            status: ReceiptStatus::Failed {
                kind: kind.to_string(),
                message: message.into(),
            },
            gas_used: 0,
            gas_limit,
            output: Vec::new(),
            decoded_output: None,
            events: Vec::new(),
            debug: Vec::new(),
        }
    }
}

/// A readable multi-line summary: status, gas, output, events, debug.
impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "status:   {}", self.status)?;
        writeln!(f, "gas used: {} of {}", self.gas_used, self.gas_limit)?;
        match &self.decoded_output {
            Some(d) => writeln!(f, "output:   {d}")?,
            // Revert data is already shown, as text, in the status line.
            None if !self.output.is_empty()
                && !matches!(self.status, ReceiptStatus::Reverted(_)) =>
            {
                writeln!(f, "output:   {}", crate::hex(&self.output))?
            }
            None => {}
        }
        for e in &self.events {
            match &e.decoded {
                Some(d) => writeln!(f, "event:    {d}")?,
                None => writeln!(
                    f,
                    "event:    topic {} data {}",
                    crate::hex(&e.topic),
                    crate::hex(&e.data)
                )?,
            }
            writeln!(f, "          from {}", crate::hex(&e.address))?;
        }
        if !self.debug.is_empty() {
            writeln!(f, "debug:    {}", String::from_utf8_lossy(&self.debug))?;
        }
        Ok(())
    }
}
