//! Receipts, blocks and contract records: what the chain keeps of every
//! transaction, as JSON documents (the same shape in the state file, in
//! `--json` output and over JSON-RPC).
//!
//! Byte strings, addresses and hashes are `0x` hex; u128 amounts are decimal
//! strings (JSON numbers lose precision above 2^53 in most readers).

use std::fmt;

use serde::{Deserialize, Serialize};
use x64vm_runtime::{Address, Hash, hex};

/// Serde helpers for the JSON shapes.
pub mod serde_fmt {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Parses `0x` hex (the prefix is optional).
    pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if !s.len().is_multiple_of(2) {
            return None;
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    }

    /// `[u8; 32]` as hex.
    pub mod hex32 {
        use super::*;
        /// Serializes.
        pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&x64vm_runtime::hex(v))
        }
        /// Deserializes.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
            let s = String::deserialize(d)?;
            parse_hex(&s)
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| D::Error::custom(format!("not 32 bytes of hex: {s}")))
        }
    }

    /// `Option<[u8; 32]>` as hex or null.
    pub mod opt_hex32 {
        use super::*;
        /// Serializes.
        pub fn serialize<S: Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(&x64vm_runtime::hex(v)),
                None => s.serialize_none(),
            }
        }
        /// Deserializes.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => parse_hex(&s)
                    .and_then(|v| v.try_into().ok())
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("not 32 bytes of hex: {s}"))),
            }
        }
    }

    /// `Vec<u8>` as hex.
    pub mod hexvec {
        use super::*;
        /// Serializes.
        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&x64vm_runtime::hex(v))
        }
        /// Deserializes.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            let s = String::deserialize(d)?;
            parse_hex(&s).ok_or_else(|| D::Error::custom("malformed hex"))
        }
    }

    /// `u128` as a decimal string (a JSON number is also accepted).
    pub mod dec128 {
        use super::*;
        /// Serializes.
        pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&v.to_string())
        }
        /// Deserializes.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
            match serde_json::Value::deserialize(d)? {
                serde_json::Value::String(s) => s
                    .parse()
                    .map_err(|_| D::Error::custom(format!("not an amount: {s}"))),
                serde_json::Value::Number(n) => n
                    .as_u64()
                    .map(u128::from)
                    .ok_or_else(|| D::Error::custom(format!("not an amount: {n}"))),
                v => Err(D::Error::custom(format!("not an amount: {v}"))),
            }
        }
    }

    /// `Option<u64>` as a `0x` hex string (instruction addresses).
    pub mod opt_addr {
        use super::*;
        /// Serializes.
        pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(&format!("{v:#x}")),
                None => s.serialize_none(),
            }
        }
        /// Deserializes.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16)
                    .map(Some)
                    .map_err(|_| D::Error::custom(format!("not an address: {s}"))),
            }
        }
    }
}

use serde_fmt::{dec128, hex32, hexvec, opt_addr, opt_hex32};

/// What a transaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    /// Deployed a contract (and ran its constructor, if one was given).
    Deploy,
    /// Called a contract.
    Call,
    /// A read-only query (never recorded).
    Query,
}

impl TxKind {
    /// `deploy`, `call` or `query`.
    pub fn name(self) -> &'static str {
        match self {
            TxKind::Deploy => "deploy",
            TxKind::Call => "call",
            TxKind::Query => "query",
        }
    }
}

/// Why a transaction (or a frame) did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxError {
    /// `reverted`, a trap kind (`out_of_gas`, `memory_out_of_bounds`, ...) or a
    /// runtime refusal (`no_contract`, `insufficient_balance`, `call_depth`, ...).
    pub kind: String,
    /// The revert message, or what trapped and where.
    pub message: String,
    /// The instruction address of a trap.
    #[serde(with = "opt_addr", default)]
    pub rip: Option<u64>,
    /// The function the trap is in: the nearest symbol at or below `rip`, as
    /// `name+0xoffset` (when the code keeps symbols).
    #[serde(default)]
    pub symbol: Option<String>,
}

/// One decoded event field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The field's name, if the ABI gives one.
    pub name: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its value as a call-line literal (`100`, `true`, `"text"`, `0x…`).
    pub value: String,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the transaction's events.
    pub index: u32,
    /// The contract that emitted it.
    #[serde(with = "hex32")]
    pub address: Address,
    /// That contract's alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// keccak256 of the event signature.
    #[serde(with = "hex32")]
    pub topic: [u8; 32],
    /// The Borsh-encoded fields.
    #[serde(with = "hexvec")]
    pub data: Vec<u8>,
    /// The event's name, when the emitter's ABI declares the topic.
    #[serde(default)]
    pub name: Option<String>,
    /// `Name(field: value, ...)`.
    #[serde(default)]
    pub decoded: Option<String>,
    /// The fields, decoded.
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// One frame of the call tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFrame {
    /// 1 for the transaction's own call.
    pub depth: u64,
    /// The contract called.
    #[serde(with = "hex32")]
    pub address: Address,
    /// Its alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// The immediate caller.
    #[serde(with = "hex32")]
    pub caller: Address,
    /// Value sent.
    #[serde(with = "dec128")]
    pub value: u128,
    /// The function's signature, when the callee's ABI knows the selector.
    #[serde(default)]
    pub function: Option<String>,
    /// The input.
    #[serde(with = "hexvec")]
    pub input: Vec<u8>,
    /// Gas given.
    pub gas_limit: u64,
    /// Gas used, nested calls included.
    pub gas_used: u64,
    /// `success`, `reverted` or the failure kind.
    pub status: String,
    /// Why it did not succeed.
    #[serde(default)]
    pub error: Option<TxError>,
    /// Output or revert data.
    #[serde(with = "hexvec")]
    pub output: Vec<u8>,
    /// The return value, decoded.
    #[serde(default)]
    pub decoded_output: Option<String>,
    /// The frames it called, in order.
    #[serde(default)]
    pub calls: Vec<CallFrame>,
}

impl CallFrame {
    /// Gas used by this frame's own code (minus what its callees used).
    pub fn own_gas(&self) -> u64 {
        let callees: u64 = self.calls.iter().map(|c| c.gas_used).sum();
        self.gas_used.saturating_sub(callees)
    }
}

/// The record of one transaction (or of a dry run or query, which are not kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Sequential from 1; 0 for dry runs and queries.
    pub id: u64,
    /// deploy, call or query.
    pub kind: TxKind,
    /// Ran without committing anything.
    #[serde(default)]
    pub dry_run: bool,
    /// The block it is in (for a dry run or query: the block it would be in).
    pub block: u64,
    /// That block's timestamp.
    pub timestamp: u64,
    /// The sender (the zero address for queries).
    #[serde(with = "hex32")]
    pub from: Address,
    /// The contract called or deployed.
    #[serde(with = "hex32")]
    pub to: Address,
    /// Its alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// The sender's nonce used (none for queries).
    #[serde(default)]
    pub nonce: Option<u64>,
    /// For a deploy: the hash of the code.
    #[serde(with = "opt_hex32", default)]
    pub code_hash: Option<Hash>,
    /// The function's signature, e.g. `transfer(address,u128)`.
    #[serde(default)]
    pub function: Option<String>,
    /// The call line as given.
    #[serde(default)]
    pub call: Option<String>,
    /// The call input (selector and arguments; a deploy's constructor input).
    #[serde(with = "hexvec")]
    pub input: Vec<u8>,
    /// Value sent.
    #[serde(with = "dec128")]
    pub value: u128,
    /// `success`, `reverted` or the failure kind.
    pub status: String,
    /// Why it did not succeed.
    #[serde(default)]
    pub error: Option<TxError>,
    /// Gas used.
    pub gas_used: u64,
    /// Gas given.
    pub gas_limit: u64,
    /// Price per gas.
    #[serde(with = "dec128")]
    pub gas_price: u128,
    /// `gas_used × gas_price`, taken from the sender (and burned).
    #[serde(with = "dec128")]
    pub fee: u128,
    /// Output (the return value, or the revert data).
    #[serde(with = "hexvec")]
    pub output: Vec<u8>,
    /// The return value, decoded with the ABI.
    #[serde(default)]
    pub decoded_output: Option<String>,
    /// Events, in emission order (none unless it succeeded).
    #[serde(default)]
    pub events: Vec<Event>,
    /// What the contracts wrote with the `debug` service (lossy UTF-8).
    #[serde(default)]
    pub debug: String,
    /// The call tree, when code ran.
    #[serde(default)]
    pub trace: Option<CallFrame>,
}

impl Receipt {
    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        self.status == "success"
    }

    /// The digest that goes into the block hash: keccak256 over the fields
    /// that consensus would fix (not the decoded renderings).
    pub fn digest(&self) -> Hash {
        let mut b = Vec::new();
        let mut put = |x: &[u8]| {
            b.extend_from_slice(&(x.len() as u64).to_le_bytes());
            b.extend_from_slice(x);
        };
        put(&self.id.to_le_bytes());
        put(self.kind.name().as_bytes());
        put(&self.from);
        put(&self.to);
        put(&self.nonce.unwrap_or(0).to_le_bytes());
        put(self.code_hash.as_ref().map_or(&[][..], |h| &h[..]));
        put(&self.input);
        put(&self.value.to_le_bytes());
        put(self.status.as_bytes());
        put(&self.gas_used.to_le_bytes());
        put(&self.gas_limit.to_le_bytes());
        put(&self.fee.to_le_bytes());
        put(&self.output);
        for e in &self.events {
            put(&e.address);
            put(&e.topic);
            put(&e.data);
        }
        x64vm_runtime::crypto::keccak256(&b)
    }
}

/// A block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Number; 0 is genesis.
    pub number: u64,
    /// Seconds: genesis + number × block time.
    pub timestamp: u64,
    /// keccak256(parent hash ‖ digest of each receipt, in order).
    #[serde(with = "hex32")]
    pub hash: Hash,
    /// The previous block's hash (zero for genesis).
    #[serde(with = "hex32")]
    pub parent_hash: Hash,
    /// Receipts of the transactions in it.
    pub receipts: Vec<u64>,
}

/// A deployed contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInfo {
    /// Its address.
    #[serde(with = "hex32")]
    pub address: Address,
    /// Its alias (what `deploy` printed).
    pub alias: Option<String>,
    /// The hash of its code.
    #[serde(with = "hex32")]
    pub code_hash: Hash,
    /// Who deployed it.
    #[serde(with = "hex32")]
    pub deployer: Address,
    /// The deploy receipt.
    pub receipt: u64,
    /// The block it was deployed in.
    pub block: u64,
    /// Code size in bytes.
    pub size: u64,
}

fn short(a: &Address) -> String {
    let h = hex(a);
    format!("{}…{}", &h[..10], &h[h.len() - 6..])
}

fn who(a: &Address, alias: &Option<String>) -> String {
    match alias {
        Some(n) => format!("{n} ({})", short(a)),
        None => crate::names::label(a).unwrap_or_else(|| hex(a)),
    }
}

/// A readable multi-line receipt.
impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = match (self.id, self.dry_run, self.kind) {
            (_, _, TxKind::Query) => "query".to_string(),
            (_, true, k) => format!("{} (dry run, nothing committed)", k.name()),
            (id, false, k) => format!("receipt {id}: {}", k.name()),
        };
        writeln!(f, "{head}")?;
        let status = match &self.error {
            None => self.status.clone(),
            Some(e) if e.kind == "reverted" => format!("reverted: {}", e.message),
            Some(e) => format!("{}: {}", e.kind, e.message),
        };
        writeln!(f, "  status:   {status}")?;
        if let Some(e) = &self.error
            && let Some(rip) = e.rip
        {
            match &e.symbol {
                Some(s) => writeln!(f, "  at:       {rip:#x} in {s}")?,
                None => writeln!(f, "  at:       {rip:#x}")?,
            }
        }
        writeln!(
            f,
            "  block:    {} (timestamp {})",
            self.block, self.timestamp
        )?;
        if self.kind != TxKind::Query {
            writeln!(f, "  from:     {}", who(&self.from, &None))?;
        }
        let to_label = if self.kind == TxKind::Deploy {
            "contract"
        } else {
            "to"
        };
        writeln!(
            f,
            "  {to_label}: {}{}",
            " ".repeat(8 - to_label.len().min(8)),
            {
                let mut s = hex(&self.to);
                if let Some(a) = &self.alias {
                    s.push_str(&format!(" ({a})"));
                }
                s
            }
        )?;
        if let Some(c) = self.call.as_ref().or(self.function.as_ref()) {
            writeln!(f, "  call:     {c}")?;
        }
        if self.value > 0 {
            writeln!(f, "  value:    {}", self.value)?;
        }
        writeln!(
            f,
            "  gas:      {} used of {}{}",
            self.gas_used,
            self.gas_limit,
            if self.fee > 0 {
                format!(" (fee {})", self.fee)
            } else {
                String::new()
            }
        )?;
        match &self.decoded_output {
            Some(d) => writeln!(f, "  output:   {}", crate::names::readable(d))?,
            None if !self.output.is_empty() && self.error.is_none() => {
                writeln!(f, "  output:   {}", hex(&self.output))?
            }
            None => {}
        }
        for e in &self.events {
            match &e.decoded {
                Some(d) => writeln!(f, "  event:    {}", crate::names::readable(d))?,
                None => writeln!(
                    f,
                    "  event:    topic {} data {}",
                    hex(&e.topic),
                    hex(&e.data)
                )?,
            }
            writeln!(f, "            from {}", who(&e.address, &e.alias))?;
        }
        if !self.debug.is_empty() {
            for line in self.debug.lines() {
                writeln!(f, "  debug:    {line}")?;
            }
        }
        Ok(())
    }
}

/// Writes the call tree, one line per frame, indented by depth.
pub fn write_tree(f: &mut dyn fmt::Write, frame: &CallFrame) -> fmt::Result {
    let indent = "  ".repeat(frame.depth.saturating_sub(1) as usize);
    let target = match &frame.alias {
        Some(a) => a.clone(),
        None => short(&frame.address),
    };
    let func = frame
        .function
        .clone()
        .unwrap_or_else(|| match frame.input.get(..4) {
            Some(sel) => format!("selector {}", hex(sel)),
            None => "(no selector)".into(),
        });
    let mut line = format!(
        "{indent}{target}::{func}  gas {} of {} (own {})",
        frame.gas_used,
        frame.gas_limit,
        frame.own_gas()
    );
    if frame.value > 0 {
        line.push_str(&format!(" value {}", frame.value));
    }
    match &frame.error {
        None => {
            line.push_str(" ok");
            if let Some(d) = &frame.decoded_output {
                line.push_str(&format!(" -> {d}"));
            }
        }
        Some(e) => {
            line.push_str(&format!(" {}", e.kind));
            if e.kind == "reverted" {
                line.push_str(&format!(": {}", e.message));
            } else if let Some(rip) = e.rip {
                line.push_str(&format!(" at {rip:#x}"));
                if let Some(s) = &e.symbol {
                    line.push_str(&format!(" in {s}"));
                }
            } else {
                line.push_str(&format!(": {}", e.message));
            }
        }
    }
    writeln!(f, "{line}")?;
    for c in &frame.calls {
        write_tree(f, c)?;
    }
    Ok(())
}
