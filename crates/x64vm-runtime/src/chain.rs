//! [`TestChain`]: an in-memory chain for contract tests — accounts, deploy,
//! transactions, queries and receipts with decoded outputs and events.

use std::fmt;
use std::sync::Arc;

use x64vm::Config;

use crate::abi::{self, Abi, CallError, Function};
use crate::code::{Code, CodeCache, CodeError, PoolLimits, PoolStats};
use crate::host::{BlockInfo, Frame, FrameStatus, RawEvent, Tx, run_frame};
use crate::receipt::{EventLog, Receipt, ReceiptStatus};
use crate::state::{Backend, Journal, MemState, State};
use crate::{Address, address_of_name};

/// The pre-funded development accounts of a fresh chain.
pub const DEV_ACCOUNTS: [&str; 5] = ["alice", "bob", "carol", "dave", "eve"];

/// What each development account holds on a fresh chain: 10^24.
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000_000_000_000;

/// Gas given to a constructor and to a query.
pub const DEFAULT_GAS: u64 = 1_000_000_000;

/// Block 1's timestamp.
pub const GENESIS_TIMESTAMP: u64 = 1_700_000_000;

/// Seconds between blocks.
pub const BLOCK_TIME: u64 = 12;

/// Why a deployment failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeployError {
    /// The file does not load as a contract (ELF or packed), or its ABI is malformed.
    Code(CodeError),
    /// The constructor call line does not match the ABI.
    BadCall(CallError),
    /// The constructor did not succeed; nothing was deployed.
    Constructor(Box<Receipt>),
    /// The state backend failed.
    State(String),
}

impl fmt::Display for DeployError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeployError::Code(e) => write!(f, "cannot deploy: {e}"),
            DeployError::BadCall(e) => write!(f, "constructor: {e}"),
            DeployError::Constructor(r) => write!(f, "constructor failed: {}", r.status),
            DeployError::State(m) => write!(f, "state: {m}"),
        }
    }
}

impl std::error::Error for DeployError {}

/// An in-memory chain. See the crate documentation for an example.
#[derive(Debug)]
pub struct TestChain {
    state: MemState,
    codes: CodeCache,
    block: BlockInfo,
    /// VM configuration for every frame (its `gas_limit` is set per call).
    pub config: Config,
}

impl Default for TestChain {
    fn default() -> Self {
        Self::new()
    }
}

/// What a transaction should do at the end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Commit on success.
    Transaction,
    /// Read-only: writes trap, nothing is kept.
    Query,
    /// Run as a transaction, keep nothing.
    DryRun,
}

impl TestChain {
    /// A fresh chain at block 1 with the dev accounts funded.
    pub fn new() -> Self {
        let mut state = MemState::new();
        for name in DEV_ACCOUNTS {
            state.set_balance(&address_of_name(name), DEV_BALANCE);
        }
        TestChain {
            state,
            codes: CodeCache::new(),
            block: BlockInfo {
                number: 1,
                timestamp: GENESIS_TIMESTAMP,
            },
            config: Config::default(),
        }
    }

    /// Limits on the idle instances kept for reuse (see [`crate::code`]);
    /// `max_instances: 0` gives every frame a new instance. Results, gas and
    /// state effects are the same either way.
    pub fn set_instance_pool(&mut self, limits: PoolLimits) {
        self.codes.set_pool_limits(limits);
    }

    /// How many frames got a new or a reused instance, and what is kept.
    pub fn pool_stats(&self) -> PoolStats {
        self.codes.pool_stats()
    }

    /// The committed state.
    pub fn state(&self) -> &MemState {
        &self.state
    }

    /// The current block.
    pub fn block(&self) -> BlockInfo {
        self.block
    }

    /// Deploys a contract (ELF or packed) without a constructor.
    ///
    /// # Errors
    /// [`DeployError::Code`] when the file does not load or its ABI is malformed.
    pub fn deploy(&mut self, elf: &[u8], from: &str) -> Result<Address, DeployError> {
        self.deploy_inner(elf, &address_of_name(from), None)
            .map(|(a, _)| a)
    }

    /// Deploys a contract and calls `ctor_call_line` (any exported function,
    /// with `from` as caller) in the same transaction; if that call does not
    /// succeed nothing is deployed.
    ///
    /// # Errors
    /// [`DeployError`].
    pub fn deploy_with(
        &mut self,
        elf: &[u8],
        from: &str,
        ctor_call_line: &str,
    ) -> Result<(Address, Receipt), DeployError> {
        self.deploy_inner(elf, &address_of_name(from), Some(ctor_call_line))
            .map(|(a, r)| {
                let r = r.unwrap_or(Receipt {
                    status: ReceiptStatus::Success,
                    gas_used: 0,
                    gas_limit: 0,
                    output: Vec::new(),
                    decoded_output: None,
                    events: Vec::new(),
                    debug: Vec::new(),
                });
                (a, r)
            })
    }

    /// The address a contract deployed by `deployer` with `nonce` gets.
    pub fn contract_address(deployer: &Address, nonce: u64) -> Address {
        crate::crypto::keccak256_parts(&[deployer, &nonce.to_le_bytes()])
    }

    fn deploy_inner(
        &mut self,
        bytes: &[u8],
        from: &Address,
        ctor: Option<&str>,
    ) -> Result<(Address, Option<Receipt>), DeployError> {
        x64vm::loader::check_code_size(bytes.len() as u64, &self.config)
            .map_err(|e| DeployError::Code(CodeError::Load(e)))?;
        let code = Arc::new(Code::load(bytes).map_err(DeployError::Code)?);
        let ctor_call = match ctor {
            Some(line) => {
                Some(abi::encode_call_line(line, code.abi.as_ref()).map_err(DeployError::BadCall)?)
            }
            None => None,
        };
        let st = |e: crate::state::StateError| DeployError::State(e.0);
        let nonce = self.state.nonce(from).map_err(st)?;
        let address = Self::contract_address(from, nonce);
        if self.state.code_hash(&address).map_err(st)?.is_some() {
            return Err(DeployError::State(format!(
                "an account already has code at {}",
                crate::hex(&address)
            )));
        }
        self.codes.insert(code.clone());
        let mut journal = Journal::new(&self.state);
        journal.set_nonce(from, nonce.saturating_add(1));
        let deployed = journal.checkpoint();
        journal.set_code(&address, code.hash, Arc::from(bytes));
        let receipt = match ctor_call {
            None => None,
            Some(call) => {
                let gas = DEFAULT_GAS;
                let mut tx = Tx {
                    state: &mut journal,
                    codes: &mut self.codes,
                    config: self.config.clone(),
                    block: self.block,
                    origin: *from,
                    read_only: false,
                    events: Vec::new(),
                    debug: Vec::new(),
                    extras: Default::default(),
                };
                let frame = Frame {
                    address,
                    caller: *from,
                    value: 0,
                    depth: 1,
                };
                let r = run_frame(&mut tx, frame, &call.input, gas);
                let (events, debug) = (tx.events, tx.debug);
                let receipt = self.receipt(r, gas, Some(&call.function), events, debug);
                if !receipt.status.is_success() {
                    journal.revert(deployed);
                    let changes = journal.into_changes();
                    self.state.apply(changes);
                    return Err(DeployError::Constructor(Box::new(receipt)));
                }
                Some(receipt)
            }
        };
        let changes = journal.into_changes();
        self.state.apply(changes);
        Ok((address, receipt))
    }

    /// The ABI of the contract at `address`, if it has code with an ABI.
    pub fn abi_of(&self, address: &Address) -> Option<&Abi> {
        let hash = self.state.code_hash(address).ok()??;
        self.codes.get(&hash)?.abi.as_ref()
    }

    fn code_of(&mut self, address: &Address) -> Result<Option<Arc<Code>>, String> {
        let Some(hash) = self.state.code_hash(address).map_err(|e| e.0)? else {
            return Ok(None);
        };
        if let Some(c) = self.codes.get(&hash) {
            return Ok(Some(c.clone()));
        }
        let bytes = self
            .state
            .code(&hash)
            .map_err(|e| e.0)?
            .ok_or("code missing from the state")?;
        self.codes
            .load(&hash, &bytes)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// Resolves and encodes a call line for the contract at `to`.
    fn encode(
        &mut self,
        to: &Address,
        line: &str,
        gas: u64,
    ) -> Result<abi::EncodedCall, Box<Receipt>> {
        let code = match self.code_of(to) {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(Box::new(Receipt::refused(
                    "no_contract",
                    format!("no contract at {}", crate::hex(to)),
                    gas,
                )));
            }
            Err(m) => return Err(Box::new(Receipt::refused("load_error", m, gas))),
        };
        abi::encode_call_line(line, code.abi.as_ref())
            .map_err(|e| Box::new(Receipt::refused("bad_call", e.to_string(), gas)))
    }

    /// A transaction from the named account: runs `call_line` on `to` with
    /// `value` and `gas`, and commits its effects only if it succeeds.
    pub fn call(
        &mut self,
        to: Address,
        from: &str,
        call_line: &str,
        value: u128,
        gas: u64,
    ) -> Receipt {
        self.call_as(to, address_of_name(from), call_line, value, gas)
    }

    /// As [`TestChain::call`], from any address (e.g. a contract's, or one
    /// written as hex).
    pub fn call_as(
        &mut self,
        to: Address,
        from: Address,
        call_line: &str,
        value: u128,
        gas: u64,
    ) -> Receipt {
        match self.encode(&to, call_line, gas) {
            Ok(c) => self.execute(
                to,
                from,
                &c.input,
                value,
                gas,
                Some(&c.function),
                Mode::Transaction,
            ),
            Err(r) => *r,
        }
    }

    /// As [`TestChain::call`], but keeps nothing (the full receipt of what would happen).
    pub fn dry_run(
        &mut self,
        to: Address,
        from: &str,
        call_line: &str,
        value: u128,
        gas: u64,
    ) -> Receipt {
        match self.encode(&to, call_line, gas) {
            Ok(c) => self.execute(
                to,
                address_of_name(from),
                &c.input,
                value,
                gas,
                Some(&c.function),
                Mode::DryRun,
            ),
            Err(r) => *r,
        }
    }

    /// A transaction with raw input (selector + arguments) from any address.
    pub fn call_raw(
        &mut self,
        to: Address,
        from: Address,
        input: &[u8],
        value: u128,
        gas: u64,
    ) -> Receipt {
        self.execute(to, from, input, value, gas, None, Mode::Transaction)
    }

    /// A read-only call with [`DEFAULT_GAS`]: writes, transfers, value and events
    /// fail it (`host_error`), and nothing changes. The caller and origin are the
    /// zero address.
    pub fn query(&mut self, to: Address, call_line: &str) -> Receipt {
        match self.encode(&to, call_line, DEFAULT_GAS) {
            Ok(c) => self.execute(
                to,
                [0; 32],
                &c.input,
                0,
                DEFAULT_GAS,
                Some(&c.function),
                Mode::Query,
            ),
            Err(r) => *r,
        }
    }

    /// A read-only call with raw input.
    pub fn query_raw(&mut self, to: Address, input: &[u8]) -> Receipt {
        self.execute(to, [0; 32], input, 0, DEFAULT_GAS, None, Mode::Query)
    }

    #[allow(clippy::too_many_arguments)]
    fn execute(
        &mut self,
        to: Address,
        from: Address,
        input: &[u8],
        value: u128,
        gas: u64,
        function: Option<&Function>,
        mode: Mode,
    ) -> Receipt {
        let mut journal = Journal::new(&self.state);
        if mode != Mode::Query {
            // The sender's nonce counts every transaction, even a failed one.
            match self.state.nonce(&from) {
                Ok(n) => journal.set_nonce(&from, n.saturating_add(1)),
                Err(e) => return Receipt::refused("host_error", e.to_string(), gas),
            }
        }
        let mut tx = Tx {
            state: &mut journal,
            codes: &mut self.codes,
            config: self.config.clone(),
            block: self.block,
            origin: from,
            read_only: mode == Mode::Query,
            events: Vec::new(),
            debug: Vec::new(),
            extras: Default::default(),
        };
        let frame = Frame {
            address: to,
            caller: from,
            value,
            depth: 1,
        };
        let r = run_frame(&mut tx, frame, input, gas);
        let (events, debug) = (tx.events, tx.debug);
        let changes = journal.into_changes();
        if mode == Mode::Transaction {
            self.state.apply(changes);
        }
        // Without a known function (raw input), decode with the ABI entry whose
        // selector starts the input.
        let found;
        let function = match function {
            Some(f) => Some(f),
            None => {
                found = r.code.as_ref().and_then(|c| {
                    let sel: [u8; 4] = input.get(..4)?.try_into().ok()?;
                    c.function_by_selector(sel).cloned()
                });
                found.as_ref()
            }
        };
        self.receipt(r, gas, function, events, debug)
    }

    fn receipt(
        &self,
        r: crate::host::FrameResult,
        gas: u64,
        function: Option<&Function>,
        events: Vec<RawEvent>,
        debug: Vec<u8>,
    ) -> Receipt {
        let status = match r.status {
            FrameStatus::Success => ReceiptStatus::Success,
            FrameStatus::Reverted => {
                ReceiptStatus::Reverted(String::from_utf8_lossy(&r.output).into_owned())
            }
            FrameStatus::Failed { kind, message } => ReceiptStatus::Failed { kind, message },
        };
        let decoded_output = match (&status, function.and_then(|f| f.ret)) {
            (ReceiptStatus::Success, Some(ty)) => {
                abi::decode_one(ty, &r.output).ok().map(|v| v.to_string())
            }
            _ => None,
        };
        let events = if status.is_success() {
            events
                .into_iter()
                .map(|e| {
                    let decoded = self.decode_event(&e);
                    EventLog {
                        address: e.address,
                        topic: e.topic,
                        data: e.data,
                        decoded,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Receipt {
            status,
            gas_used: r.gas_used,
            gas_limit: gas,
            output: r.output,
            decoded_output,
            events,
            debug,
        }
    }

    /// Decodes an event with the emitting contract's ABI, or failing that with
    /// any loaded contract's ABI that declares the topic.
    fn decode_event(&self, e: &RawEvent) -> Option<String> {
        let own = self
            .state
            .code_hash(&e.address)
            .ok()
            .flatten()
            .and_then(|h| self.codes.get(&h));
        for code in own.into_iter().chain(self.codes.iter()) {
            if let Some(ev) = code.event_by_topic(&e.topic)
                && let Some(s) = abi::display_event(ev, &e.data)
            {
                return Some(s);
            }
        }
        None
    }

    /// A committed balance.
    pub fn balance(&self, a: &Address) -> u128 {
        self.state.balance(a).unwrap_or(0)
    }

    /// Sets a balance directly (test setup).
    pub fn set_balance(&mut self, a: &Address, value: u128) {
        self.state.set_balance(a, value);
    }

    /// A committed storage value of `contract`.
    pub fn storage(&self, contract: &Address, key: &[u8]) -> Option<Vec<u8>> {
        self.state.storage(contract, key).ok().flatten()
    }

    /// A committed nonce.
    pub fn nonce(&self, a: &Address) -> u64 {
        self.state.nonce(a).unwrap_or(0)
    }

    /// Starts the next block: number + 1, timestamp + [`BLOCK_TIME`].
    pub fn advance_block(&mut self) {
        self.block.number += 1;
        self.block.timestamp += BLOCK_TIME;
    }
}
