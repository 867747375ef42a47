//! [`Chain`]: the engine. One per state file; shared by threads (`&self`
//! everywhere): reads run on their own consistent snapshots, writes are
//! serialized by the database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use x64vm_runtime::abi::{self, Function};
use x64vm_runtime::chain::{DEV_ACCOUNTS, DEV_BALANCE};
use x64vm_runtime::code::{Code, CodeCache, PoolLimits, PoolStats};
use x64vm_runtime::host::{
    BlockInfo, CallRecord, Frame, FrameStatus, RawEvent, StepSink, Tx, TxExtras, run_frame,
};
use x64vm_runtime::state::{Backend, ChangeSet, Journal, State};
use x64vm_runtime::{Address, Hash, TestChain, address_of_name};

use crate::error::ChainError;
use crate::names;
use crate::receipt::{
    Block, CallFrame, ContractInfo, Event, Field, Receipt, TxError, TxKind, serde_fmt::dec128,
};
use crate::store::{
    Account, Entries, Get, Overlay, StateView, Store, Tbl, WriteView, be, storage_key,
};

/// The state file used when none is given.
pub const DEFAULT_STATE: &str = ".x64vm/state.redb";

/// Chain parameters, fixed at `init` and kept in the state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Price of one unit of gas, taken from the sender (and burned).
    #[serde(with = "dec128")]
    pub gas_price: u128,
    /// Timestamp of block 0.
    pub genesis_timestamp: u64,
    /// Seconds between blocks.
    pub block_time: u64,
    /// Gas given to a call or constructor when none is asked for.
    pub default_gas: u64,
    /// What each development account holds at genesis.
    #[serde(with = "dec128")]
    pub dev_balance: u128,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            gas_price: 1,
            genesis_timestamp: x64vm_runtime::chain::GENESIS_TIMESTAMP,
            block_time: x64vm_runtime::chain::BLOCK_TIME,
            default_gas: x64vm_runtime::chain::DEFAULT_GAS,
            dev_balance: DEV_BALANCE,
        }
    }
}

/// How a transaction is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOptions {
    /// The sender.
    pub from: Address,
    /// Value sent to the contract.
    pub value: u128,
    /// Gas limit (`None`: the chain's default).
    pub gas: Option<u64>,
    /// Run and report, commit nothing.
    pub dry_run: bool,
}

impl TxOptions {
    /// From a named account, no value, default gas.
    pub fn from_name(name: &str) -> TxOptions {
        TxOptions {
            from: address_of_name(name),
            value: 0,
            gas: None,
            dry_run: false,
        }
    }
}

/// An account as `accounts` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// Address.
    #[serde(with = "crate::receipt::serde_fmt::hex32")]
    pub address: Address,
    /// A development account's name.
    pub name: Option<String>,
    /// A contract's alias.
    pub alias: Option<String>,
    /// Whether code is deployed there.
    pub contract: bool,
    /// Balance.
    #[serde(with = "dec128")]
    pub balance: u128,
    /// Transactions sent.
    pub nonce: u64,
}

/// An event found by [`Chain::logs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The receipt it is in.
    pub receipt: u64,
    /// The block.
    pub block: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// What [`Chain::logs`] selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only events emitted by this contract.
    pub contract: Option<Address>,
    /// Only events of this name.
    pub event: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Commit,
    DryRun,
    Query,
}

enum Body {
    Deploy {
        bytes: Arc<[u8]>,
        code: Arc<Code>,
        ctor: Option<(Vec<u8>, Option<Function>)>,
    },
    Call {
        to: Address,
        input: Vec<u8>,
        function: Option<Function>,
    },
}

struct Ctx {
    from: Address,
    value: u128,
    gas: u64,
    block: BlockInfo,
    mode: Mode,
    call: Option<String>,
}

/// The local chain. See the crate documentation.
pub struct Chain {
    store: Store,
    codes: Mutex<CodeCache>,
    params: Params,
    path: Option<PathBuf>,
    /// VM configuration of every frame (`gas_limit` is set per call).
    pub vm: x64vm::Config,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("path", &self.path)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, ChainError> {
    serde_json::to_vec(v).map_err(|e| ChainError::Db(format!("encoding: {e}")))
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, v: &[u8]) -> Result<T, ChainError> {
    serde_json::from_slice(v).map_err(|e| ChainError::Corrupt(format!("{what}: {e}")))
}

/// The hash of block 0.
pub fn genesis_hash(params: &Params) -> Hash {
    x64vm_runtime::crypto::keccak256_parts(&[
        b"x64vm:genesis",
        &params.genesis_timestamp.to_le_bytes(),
    ])
}

/// A block's hash: keccak256(parent hash ‖ digest of each receipt).
pub fn block_hash(parent: &Hash, digests: &[Hash]) -> Hash {
    let mut parts: Vec<&[u8]> = vec![parent];
    for d in digests {
        parts.push(d);
    }
    x64vm_runtime::crypto::keccak256_parts(&parts)
}

/// The nearest symbol at or below `rip` in `code`, as `name` or `name+0xN`.
pub fn symbol_at(code: &Code, rip: u64) -> Option<String> {
    let (name, addr) = code
        .image
        .symbols
        .iter()
        .filter(|(n, a)| **a <= rip && !n.is_empty())
        .max_by_key(|(n, a)| (**a, std::cmp::Reverse((*n).clone())))?;
    // Only within an executable segment that holds the symbol.
    let inside = code.image.segments.iter().any(|s| {
        s.perms & x64vm::mem::perm::X != 0
            && s.vaddr <= *addr
            && rip < s.vaddr.saturating_add(s.mem_size)
    });
    if !inside {
        return None;
    }
    Some(if rip == *addr {
        name.clone()
    } else {
        format!("{name}+{:#x}", rip - addr)
    })
}

fn genesis(w: &mut WriteView, params: &Params) -> Result<(), ChainError> {
    w.put(Tbl::Meta, b"params", Some(&json(params)?))?;
    for name in DEV_ACCOUNTS {
        w.set_account(
            &address_of_name(name),
            Account {
                balance: params.dev_balance,
                nonce: 0,
            },
        )?;
    }
    let block = Block {
        number: 0,
        timestamp: params.genesis_timestamp,
        hash: genesis_hash(params),
        parent_hash: [0; 32],
        receipts: Vec::new(),
    };
    w.put(Tbl::Blocks, &be(0), Some(&json(&block)?))?;
    w.set_meta_u64("head", 0)?;
    w.set_meta_u64("next_receipt", 1)?;
    Ok(())
}

impl Chain {
    fn with_store(store: Store, path: Option<PathBuf>) -> Result<Chain, ChainError> {
        let params = {
            let r = store.read()?;
            let v = r.get(Tbl::Meta, b"params")?.ok_or_else(|| {
                ChainError::Corrupt("no chain parameters (an interrupted init?)".into())
            })?;
            parse::<Params>("chain parameters", &v)?
        };
        Ok(Chain {
            store,
            codes: Mutex::new(CodeCache::new()),
            params,
            path,
            vm: x64vm::Config::default(),
        })
    }

    /// Creates a fresh chain in a new state file: the development accounts
    /// funded, block 0. With `force`, an existing file is deleted first.
    ///
    /// # Errors
    /// [`ChainError::Exists`] without `force`; I/O and database failures.
    pub fn init(path: &Path, params: Params, force: bool) -> Result<Chain, ChainError> {
        if force && path.exists() {
            std::fs::remove_file(path)
                .map_err(|e| ChainError::Io(format!("{}: {e}", path.display())))?;
        }
        let store = Store::create(path, |w| genesis(w, &params))?;
        Self::with_store(store, Some(path.to_path_buf()))
    }

    /// Opens an existing state file.
    ///
    /// # Errors
    /// [`ChainError::NotFound`], a foreign, corrupt or other-version file, or
    /// a file in use by another process.
    pub fn open(path: &Path) -> Result<Chain, ChainError> {
        let store = Store::open(path)?;
        Self::with_store(store, Some(path.to_path_buf()))
    }

    /// Opens the state file, creating a fresh chain when it does not exist;
    /// says whether it was created.
    ///
    /// # Errors
    /// As [`Chain::open`] and [`Chain::init`].
    pub fn open_or_init(path: &Path) -> Result<(Chain, bool), ChainError> {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return Ok((Self::open(path)?, false));
        }
        // Another process may create it meanwhile: then open theirs.
        match Self::init(path, Params::default(), false) {
            Err(ChainError::Exists(_)) => Ok((Self::open(path)?, false)),
            r => Ok((r?, true)),
        }
    }

    /// A fresh chain in memory (nothing on disk).
    ///
    /// # Errors
    /// Database failures.
    pub fn in_memory(params: Params) -> Result<Chain, ChainError> {
        let store = Store::memory(|w| genesis(w, &params))?;
        Self::with_store(store, None)
    }

    /// The state file, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The chain parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn from_store(store: Store) -> Result<Chain, ChainError> {
        Self::with_store(store, None)
    }

    // ---- reads ------------------------------------------------------------

    /// The latest block.
    ///
    /// # Errors
    /// Database failures.
    pub fn head(&self) -> Result<Block, ChainError> {
        let r = self.store.read()?;
        head_block(&r)
    }

    /// Block `n`.
    ///
    /// # Errors
    /// Database failures.
    pub fn block(&self, n: u64) -> Result<Option<Block>, ChainError> {
        let r = self.store.read()?;
        r.get(Tbl::Blocks, &be(n))?
            .map(|v| parse("block", &v))
            .transpose()
    }

    /// An account's balance.
    ///
    /// # Errors
    /// Database failures.
    pub fn balance(&self, a: &Address) -> Result<u128, ChainError> {
        Ok(self.store.read()?.account(a)?.balance)
    }

    /// An account's nonce.
    ///
    /// # Errors
    /// Database failures.
    pub fn nonce(&self, a: &Address) -> Result<u64, ChainError> {
        Ok(self.store.read()?.account(a)?.nonce)
    }

    /// Every account with a record, development accounts first.
    ///
    /// # Errors
    /// Database failures.
    pub fn accounts(&self) -> Result<Vec<AccountEntry>, ChainError> {
        let r = self.store.read()?;
        let mut out = Vec::new();
        let mut keys = std::collections::BTreeSet::new();
        for t in [Tbl::Accounts, Tbl::Contracts] {
            for (k, _) in r.scan(t, &[], usize::MAX)? {
                keys.insert(k);
            }
        }
        for k in keys {
            let Ok(address) = <Address>::try_from(k.as_slice()) else {
                return Err(ChainError::Corrupt("account key".into()));
            };
            let acct = r.account(&address)?;
            let info = contract_info(&r, &address)?;
            out.push(AccountEntry {
                address,
                name: names::label(&address),
                alias: info.as_ref().and_then(|i| i.alias.clone()),
                contract: r.get(Tbl::Contracts, &address)?.is_some(),
                balance: acct.balance,
                nonce: acct.nonce,
            });
        }
        let rank = |e: &AccountEntry| {
            e.name
                .as_ref()
                .and_then(|n| DEV_ACCOUNTS.iter().position(|d| d == n))
                .unwrap_or(usize::MAX)
        };
        out.sort_by_key(|e| (rank(e), e.contract, e.address));
        Ok(out)
    }

    /// A deployed contract's record.
    ///
    /// # Errors
    /// Database failures.
    pub fn contract(&self, a: &Address) -> Result<Option<ContractInfo>, ChainError> {
        contract_info(&self.store.read()?, a)
    }

    /// Every deployed contract, by address.
    ///
    /// # Errors
    /// Database failures.
    pub fn contracts(&self) -> Result<Vec<ContractInfo>, ChainError> {
        let r = self.store.read()?;
        r.scan(Tbl::ContractInfo, &[], usize::MAX)?
            .iter()
            .map(|(_, v)| parse("contract record", v))
            .collect()
    }

    /// The loaded code at a contract address.
    ///
    /// # Errors
    /// Database failures, code that no longer loads.
    pub fn code_at(&self, a: &Address) -> Result<Option<Arc<Code>>, ChainError> {
        let r = self.store.read()?;
        let mut codes = self.local_codes();
        let c = load_code(&r, &mut codes, a)?;
        self.merge_codes(codes);
        Ok(c)
    }

    /// Resolves a contract: `0x` address or alias.
    ///
    /// # Errors
    /// [`ChainError::NotFound`] for an unknown alias, [`ChainError::BadInput`].
    pub fn resolve_contract(&self, s: &str) -> Result<Address, ChainError> {
        if s.starts_with("0x") {
            return names::parse_address(s).ok_or_else(|| {
                ChainError::BadInput(format!("bad address {s:?}: expected 0x and 64 hex digits"))
            });
        }
        let r = self.store.read()?;
        match r.get(Tbl::Aliases, s.as_bytes())? {
            Some(v) => v
                .as_slice()
                .try_into()
                .map_err(|_| ChainError::Corrupt("alias record".into())),
            None => {
                let known: Vec<String> = r
                    .scan(Tbl::Aliases, &[], 20)?
                    .into_iter()
                    .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
                    .collect();
                Err(ChainError::NotFound(if known.is_empty() {
                    format!("no contract called {s:?} (nothing deployed yet)")
                } else {
                    format!("no contract called {s:?}; known: {}", known.join(", "))
                }))
            }
        }
    }

    /// Resolves an account: `0x` address, a contract alias, or any other name
    /// (`alice`, ...: `keccak256("x64vm:account:" ‖ name)`).
    ///
    /// # Errors
    /// [`ChainError::BadInput`] for a malformed address.
    pub fn resolve_account(&self, s: &str) -> Result<Address, ChainError> {
        if s.starts_with("0x") {
            return self.resolve_contract(s);
        }
        if s.is_empty() {
            return Err(ChainError::BadInput("empty account name".into()));
        }
        let r = self.store.read()?;
        if let Some(v) = r.get(Tbl::Aliases, s.as_bytes())? {
            return v
                .as_slice()
                .try_into()
                .map_err(|_| ChainError::Corrupt("alias record".into()));
        }
        Ok(address_of_name(s))
    }

    /// Limits on the idle contract instances kept between transactions for reuse
    /// (see `x64vm_runtime::code`); `max_instances: 0` gives every frame a new
    /// instance. Receipts and state are the same either way.
    pub fn set_instance_pool(&self, limits: PoolLimits) {
        let mut shared = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        shared.set_pool_limits(limits);
    }

    /// How many frames got a new or a reused instance (since the chain was
    /// opened), and what is kept idle now.
    pub fn instance_pool_stats(&self) -> PoolStats {
        let shared = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        shared.pool_stats()
    }

    /// A receipt.
    ///
    /// # Errors
    /// Database failures.
    pub fn receipt(&self, id: u64) -> Result<Option<Receipt>, ChainError> {
        let r = self.store.read()?;
        r.get(Tbl::Receipts, &be(id))?
            .map(|v| parse("receipt", &v))
            .transpose()
    }

    /// Every receipt, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub fn receipts(&self) -> Result<Vec<Receipt>, ChainError> {
        let r = self.store.read()?;
        r.scan(Tbl::Receipts, &[], usize::MAX)?
            .iter()
            .map(|(_, v)| parse("receipt", v))
            .collect()
    }

    /// Events of committed transactions, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub fn logs(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, ChainError> {
        let mut out = Vec::new();
        for r in self.receipts()? {
            for e in &r.events {
                if filter.contract.is_some_and(|c| c != e.address) {
                    continue;
                }
                if let Some(name) = &filter.event
                    && e.name.as_deref() != Some(name.as_str())
                {
                    continue;
                }
                out.push(LogEntry {
                    receipt: r.id,
                    block: r.block,
                    event: e.clone(),
                });
            }
        }
        Ok(out)
    }

    /// A contract's storage: one key, or every entry (sorted by key).
    ///
    /// # Errors
    /// Database failures.
    pub fn storage(&self, contract: &Address, key: Option<&[u8]>) -> Result<Entries, ChainError> {
        let r = self.store.read()?;
        match key {
            Some(k) => Ok(r
                .get(Tbl::Storage, &storage_key(contract, k))?
                .map(|v| vec![(k.to_vec(), v)])
                .unwrap_or_default()),
            None => Ok(r
                .scan(Tbl::Storage, contract, usize::MAX)?
                .into_iter()
                .map(|(k, v)| (k[32..].to_vec(), v))
                .collect()),
        }
    }

    // ---- transactions -----------------------------------------------------

    /// Deploys a contract (ELF or packed), running `ctor` (a call line of any
    /// exported function) in the same transaction. A failed constructor leaves
    /// a failed receipt and no contract. Code is stored once per content hash;
    /// the address is `keccak256(deployer ‖ nonce)`.
    ///
    /// # Errors
    /// [`ChainError::BadCode`], [`ChainError::BadInput`] for a constructor line
    /// that does not match the ABI or a bad alias, [`ChainError::Rejected`]
    /// when the sender cannot pay; database failures.
    pub fn deploy(
        &self,
        bytes: &[u8],
        ctor: Option<&str>,
        alias: Option<&str>,
        opts: &TxOptions,
    ) -> Result<Receipt, ChainError> {
        let code = Arc::new(Code::load(bytes).map_err(|e| ChainError::BadCode(e.to_string()))?);
        if let Some(a) = alias {
            names::check_alias(a)?;
        }
        let (ctor_call, line) = match ctor {
            Some(line) => {
                let c = abi::encode_call_line(line, code.abi.as_ref())
                    .map_err(|e| ChainError::BadInput(format!("constructor: {e}")))?;
                (Some((c.input, Some(c.function))), Some(line.to_string()))
            }
            None => (None, None),
        };
        let body = Body::Deploy {
            bytes: Arc::from(bytes),
            code,
            ctor: ctor_call,
        };
        self.transact(body, opts, line, alias)
    }

    /// Calls a contract with a call line (`transfer("bob", 100)`, or the typed
    /// form `transfer(address,u128)("bob", 100)` for code without an ABI).
    /// Commits only if the call succeeds (the fee and the sender's nonce are
    /// kept either way), unless `opts.dry_run`.
    ///
    /// # Errors
    /// [`ChainError::NotFound`] (no contract), [`ChainError::BadInput`] (the
    /// line does not match the ABI), [`ChainError::Rejected`]; database failures.
    pub fn call(&self, to: &Address, line: &str, opts: &TxOptions) -> Result<Receipt, ChainError> {
        let (input, function) = self.encode(to, line)?;
        let body = Body::Call {
            to: *to,
            input,
            function: Some(function),
        };
        self.transact(body, opts, Some(line.to_string()), None)
    }

    /// A call with raw input (selector and Borsh arguments).
    ///
    /// # Errors
    /// As [`Chain::call`].
    pub fn call_raw(
        &self,
        to: &Address,
        input: &[u8],
        opts: &TxOptions,
    ) -> Result<Receipt, ChainError> {
        self.require_contract(to)?;
        let body = Body::Call {
            to: *to,
            input: input.to_vec(),
            function: None,
        };
        self.transact(body, opts, None, None)
    }

    /// A read-only query: writes, transfers, value and events fail it
    /// (`host_error`); nothing changes, nothing is recorded, no fee. Runs with
    /// the chain's default gas, from the zero address, in the pending block.
    ///
    /// # Errors
    /// As [`Chain::call`].
    pub fn query(&self, to: &Address, line: &str) -> Result<Receipt, ChainError> {
        let (input, function) = self.encode(to, line)?;
        self.query_inner(to, input, Some(function), Some(line.to_string()))
    }

    /// A read-only query with raw input.
    ///
    /// # Errors
    /// As [`Chain::query`].
    pub fn query_raw(&self, to: &Address, input: &[u8]) -> Result<Receipt, ChainError> {
        self.require_contract(to)?;
        self.query_inner(to, input.to_vec(), None, None)
    }

    fn query_inner(
        &self,
        to: &Address,
        input: Vec<u8>,
        function: Option<Function>,
        call: Option<String>,
    ) -> Result<Receipt, ChainError> {
        let r = self.store.read()?;
        let head = head_block(&r)?;
        let ctx = Ctx {
            from: [0; 32],
            value: 0,
            gas: self.params.default_gas,
            block: self.pending_block(head.number),
            mode: Mode::Query,
            call,
        };
        let body = Body::Call {
            to: *to,
            input,
            function,
        };
        let mut codes = self.local_codes();
        let out = self.run(&r, &mut codes, &ctx, &body, None);
        self.merge_codes(codes);
        Ok(out?.0)
    }

    fn require_contract(&self, to: &Address) -> Result<(), ChainError> {
        if self.store.read()?.get(Tbl::Contracts, to)?.is_none() {
            return Err(ChainError::NotFound(format!(
                "no contract at {}",
                x64vm_runtime::hex(to)
            )));
        }
        Ok(())
    }

    fn encode(&self, to: &Address, line: &str) -> Result<(Vec<u8>, Function), ChainError> {
        let code = self.code_at(to)?.ok_or_else(|| {
            ChainError::NotFound(format!("no contract at {}", x64vm_runtime::hex(to)))
        })?;
        let c = abi::encode_call_line(line, code.abi.as_ref())
            .map_err(|e| ChainError::BadInput(e.to_string()))?;
        Ok((c.input, c.function))
    }

    fn pending_block(&self, head: u64) -> BlockInfo {
        let number = head.saturating_add(1);
        BlockInfo {
            number,
            timestamp: self
                .params
                .genesis_timestamp
                .saturating_add(number.saturating_mul(self.params.block_time)),
        }
    }

    /// One transaction's copy of the shared code cache. It takes the shared idle
    /// instances along (a transaction running at the same time gets new ones),
    /// and [`Chain::merge_codes`] gives them back.
    fn local_codes(&self) -> CodeCache {
        let mut local = CodeCache::new();
        let mut shared = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        for c in shared.iter() {
            local.insert(c.clone());
        }
        local.set_pool_limits(shared.pool_limits());
        local.take_instances_from(&mut shared);
        local
    }

    fn merge_codes(&self, mut local: CodeCache) {
        let mut shared = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        for c in local.iter() {
            if shared.get(&c.hash).is_none() {
                shared.insert(c.clone());
            }
        }
        shared.take_instances_from(&mut local);
    }

    /// Runs a deploy or call as a transaction (or a dry run) and, for a
    /// transaction, commits its changes, receipt and block in one database
    /// transaction.
    fn transact(
        &self,
        body: Body,
        opts: &TxOptions,
        call: Option<String>,
        alias: Option<&str>,
    ) -> Result<Receipt, ChainError> {
        let gas = opts.gas.unwrap_or(self.params.default_gas);
        let mode = if opts.dry_run {
            Mode::DryRun
        } else {
            Mode::Commit
        };
        let mut codes = self.local_codes();
        if mode == Mode::DryRun {
            let r = self.store.read()?;
            let head = head_block(&r)?;
            let ctx = Ctx {
                from: opts.from,
                value: opts.value,
                gas,
                block: self.pending_block(head.number),
                mode,
                call,
            };
            let out = self.run(&r, &mut codes, &ctx, &body, None);
            self.merge_codes(codes);
            let (mut receipt, _) = out?;
            if let (TxKind::Deploy, Some(a)) = (receipt.kind, alias) {
                receipt.alias = Some(a.to_string());
            }
            return Ok(receipt);
        }
        let mut w = self.store.write()?;
        let head = head_block(&w)?;
        let ctx = Ctx {
            from: opts.from,
            value: opts.value,
            gas,
            block: self.pending_block(head.number),
            mode,
            call,
        };
        let out = self.run(&w, &mut codes, &ctx, &body, None);
        self.merge_codes(codes);
        let (mut receipt, changes) = out?;
        let id = w.meta_u64("next_receipt")?.max(1);
        receipt.id = id;
        w.apply(&changes)?;
        if receipt.kind == TxKind::Deploy && receipt.is_success() {
            let alias = match alias {
                Some(a) => Some(unique_alias(&w, a)?),
                None => None,
            };
            let size = match &body {
                Body::Deploy { bytes, .. } => bytes.len() as u64,
                Body::Call { .. } => 0,
            };
            let info = ContractInfo {
                address: receipt.to,
                alias: alias.clone(),
                code_hash: receipt.code_hash.unwrap_or_default(),
                deployer: receipt.from,
                receipt: id,
                block: receipt.block,
                size,
            };
            w.put(Tbl::ContractInfo, &receipt.to, Some(&json(&info)?))?;
            if let Some(a) = &alias {
                w.put(Tbl::Aliases, a.as_bytes(), Some(&receipt.to))?;
            }
            name_deployed(&mut receipt, alias);
        }
        w.put(Tbl::Receipts, &be(id), Some(&json(&receipt)?))?;
        w.set_meta_u64("next_receipt", id + 1)?;
        let block = Block {
            number: ctx.block.number,
            timestamp: ctx.block.timestamp,
            hash: block_hash(&head.hash, &[receipt.digest()]),
            parent_hash: head.hash,
            receipts: vec![id],
        };
        w.put(Tbl::Blocks, &be(block.number), Some(&json(&block)?))?;
        w.set_meta_u64("head", block.number)?;
        w.commit(id)?;
        Ok(receipt)
    }

    /// Executes `body` against `view` in a journal; returns the receipt and the
    /// changes to commit (empty for queries).
    fn run<G: Get>(
        &self,
        view: &G,
        codes: &mut CodeCache,
        ctx: &Ctx,
        body: &Body,
        steps: Option<&dyn StepSink>,
    ) -> Result<(Receipt, ChangeSet), ChainError> {
        let backend = StateView(view);
        let mut journal = Journal::new(&backend);
        let price = if ctx.mode == Mode::Query {
            0
        } else {
            self.params.gas_price
        };
        let st = |e: x64vm_runtime::state::StateError| ChainError::Db(e.0);
        let mut nonce = None;
        if ctx.mode != Mode::Query {
            let acct = view.account(&ctx.from)?;
            let cost = u128::from(ctx.gas)
                .checked_mul(price)
                .and_then(|c| c.checked_add(ctx.value));
            match cost {
                Some(c) if c <= acct.balance => {}
                _ => {
                    return Err(ChainError::Rejected(format!(
                        "{} holds {} but the transaction may cost {} (value {} + gas limit {} × gas price {})",
                        names::label(&ctx.from).unwrap_or_else(|| x64vm_runtime::hex(&ctx.from)),
                        acct.balance,
                        cost.map_or("more than 2^128".into(), |c| c.to_string()),
                        ctx.value,
                        ctx.gas,
                        price
                    )));
                }
            }
            journal.set_nonce(&ctx.from, acct.nonce.saturating_add(1));
            nonce = Some(acct.nonce);
        }
        let (kind, to, input, function, deployed) = match body {
            Body::Deploy { bytes, code, ctor } => {
                let addr = TestChain::contract_address(&ctx.from, nonce.unwrap_or(0));
                if journal.code_hash(&addr).map_err(st)?.is_some() {
                    return Err(ChainError::Rejected(format!(
                        "an account already has code at {}",
                        x64vm_runtime::hex(&addr)
                    )));
                }
                let cp = journal.checkpoint();
                journal.set_code(&addr, code.hash, bytes.clone());
                codes.insert(code.clone());
                let (input, function) = match ctor {
                    Some((i, f)) => (Some(i.clone()), f.clone()),
                    None => (None, None),
                };
                (TxKind::Deploy, addr, input, function, Some((cp, code.hash)))
            }
            Body::Call {
                to,
                input,
                function,
            } => {
                let kind = if ctx.mode == Mode::Query {
                    TxKind::Query
                } else {
                    TxKind::Call
                };
                (kind, *to, Some(input.clone()), function.clone(), None)
            }
        };
        let hashes = |n: u64| -> Option<Hash> {
            let v = view.get(Tbl::Blocks, &be(n)).ok()??;
            serde_json::from_slice::<Block>(&v).ok().map(|b| b.hash)
        };
        let mut calls: Vec<CallRecord> = Vec::new();
        let mut events: Vec<RawEvent> = Vec::new();
        let mut debug = Vec::new();
        let mut result = None;
        match &input {
            Some(input) => {
                let mut tx = Tx {
                    state: &mut journal,
                    codes: &mut *codes,
                    config: self.vm.clone(),
                    block: ctx.block,
                    origin: ctx.from,
                    read_only: ctx.mode == Mode::Query,
                    events: Vec::new(),
                    debug: Vec::new(),
                    extras: TxExtras {
                        calls: Some(&mut calls),
                        steps,
                        block_hash: Some(&hashes),
                    },
                };
                let frame = Frame {
                    address: to,
                    caller: ctx.from,
                    value: ctx.value,
                    depth: 1,
                };
                let r = run_frame(&mut tx, frame, input, ctx.gas);
                events = tx.events;
                debug = tx.debug;
                result = Some(r);
            }
            None => {
                // A deploy without a constructor: the value goes to the contract.
                if ctx.value > 0 && !journal.transfer(&ctx.from, &to, ctx.value).map_err(st)? {
                    return Err(ChainError::Rejected(
                        "insufficient balance for the value".into(),
                    ));
                }
            }
        }
        let (status, error, output, gas_used) = match &result {
            None => ("success".to_string(), None, Vec::new(), 0),
            Some(r) => {
                let root = calls.first();
                let error = frame_error(&r.status, &r.output, root, codes);
                (status_name(&r.status), error, r.output.clone(), r.gas_used)
            }
        };
        let success = error.is_none();
        if let (Some((cp, _)), false) = (&deployed, success) {
            journal.revert(*cp);
        }
        let fee = u128::from(gas_used).saturating_mul(price);
        if fee > 0 {
            let bal = journal.balance(&ctx.from).map_err(st)?;
            journal.set_balance(&ctx.from, bal.saturating_sub(fee));
        }
        let decoded_output = match (success, function.as_ref()) {
            (true, Some(f)) => abi::display_output(f, &output),
            _ => None,
        };
        let events = if success {
            events
                .iter()
                .enumerate()
                .map(|(i, e)| decode_event(&journal, view, codes, i, e))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let trace = build_tree(&calls, &journal, view, codes)?;
        let alias = match kind {
            TxKind::Deploy => None,
            _ => contract_info(view, &to)?.and_then(|i| i.alias),
        };
        let receipt = Receipt {
            id: 0,
            kind,
            dry_run: ctx.mode == Mode::DryRun,
            block: ctx.block.number,
            timestamp: ctx.block.timestamp,
            from: ctx.from,
            to,
            alias,
            nonce,
            code_hash: deployed.map(|(_, h)| h),
            function: function.as_ref().map(|f| f.signature()),
            call: ctx.call.clone(),
            input: input.unwrap_or_default(),
            value: ctx.value,
            status,
            error,
            gas_used,
            gas_limit: ctx.gas,
            gas_price: price,
            fee,
            output,
            decoded_output,
            events,
            debug: String::from_utf8_lossy(&debug).into_owned(),
            trace,
        };
        let changes = if ctx.mode == Mode::Commit {
            journal.into_changes()
        } else {
            ChangeSet::default()
        };
        Ok((receipt, changes))
    }

    // ---- chain control ----------------------------------------------------

    /// Mines `n` empty blocks (at least one); returns the new head.
    ///
    /// # Errors
    /// Database failures.
    pub fn mine(&self, n: u64) -> Result<Block, ChainError> {
        let mut w = self.store.write()?;
        let mut head = head_block(&w)?;
        for _ in 0..n.max(1) {
            let b = self.pending_block(head.number);
            head = Block {
                number: b.number,
                timestamp: b.timestamp,
                hash: block_hash(&head.hash, &[]),
                parent_hash: head.hash,
                receipts: Vec::new(),
            };
            w.put(Tbl::Blocks, &be(head.number), Some(&json(&head)?))?;
        }
        w.set_meta_u64("head", head.number)?;
        w.commit(0)?;
        Ok(head)
    }

    /// Sets an account's balance (outside any transaction; `revert` undoes it).
    ///
    /// # Errors
    /// Database failures.
    pub fn set_balance(&self, a: &Address, balance: u128) -> Result<(), ChainError> {
        let mut w = self.store.write()?;
        let mut acct = w.account(a)?;
        acct.balance = balance;
        w.set_account(a, acct)?;
        w.commit(0)
    }

    /// Records the current state; [`Chain::revert`] returns to it. Ids grow
    /// and are never reused.
    ///
    /// # Errors
    /// Database failures.
    pub fn snapshot(&self) -> Result<u64, ChainError> {
        let mut w = self.store.write()?;
        let seq = w.next_undo_seq()?.saturating_sub(1);
        let id = w.meta_u64("next_snapshot")?.max(1);
        w.put(Tbl::Snapshots, &be(id), Some(&be(seq)))?;
        w.put_raw(Tbl::Meta, b"next_snapshot", &(id + 1).to_le_bytes())?;
        w.commit(0)?;
        Ok(id)
    }

    /// Returns the whole state (accounts, code, storage, receipts, blocks,
    /// aliases) to snapshot `id`. That snapshot and every later one are used up.
    ///
    /// # Errors
    /// [`ChainError::NotFound`] for an unknown snapshot; database failures.
    pub fn revert(&self, id: u64) -> Result<(), ChainError> {
        let mut w = self.store.write()?;
        let seq = w
            .get(Tbl::Snapshots, &be(id))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| ChainError::NotFound(format!("snapshot {id}")))?;
        w.rewind_to(seq)?;
        for (k, _) in w.scan(Tbl::Snapshots, &[], usize::MAX)? {
            if k.as_slice() >= be(id).as_slice() {
                w.put(Tbl::Snapshots, &k, None)?;
            }
        }
        w.commit(0)
    }

    /// Re-runs the transaction of receipt `id` against the state it saw, with
    /// `sink` observing every instruction of every frame; commits nothing.
    /// Returns the receipt of the re-run (equal to the recorded one: execution
    /// is deterministic).
    ///
    /// # Errors
    /// [`ChainError::NotFound`] for an unknown receipt, or one whose earlier
    /// state is no longer known (loaded from a dump); database failures.
    pub fn replay(&self, id: u64, sink: &dyn StepSink) -> Result<Receipt, ChainError> {
        let r = self.store.read()?;
        let receipt: Receipt = match r.get(Tbl::Receipts, &be(id))? {
            Some(v) => parse("receipt", &v)?,
            None => return Err(ChainError::NotFound(format!("receipt {id}"))),
        };
        let before = Overlay::before_receipt(&r, id)?;
        let mut codes = self.local_codes();
        let body = match receipt.kind {
            TxKind::Deploy => {
                let hash = receipt
                    .code_hash
                    .ok_or_else(|| ChainError::Corrupt("deploy receipt without code".into()))?;
                let bytes: Arc<[u8]> = r
                    .get(Tbl::Code, &hash)?
                    .ok_or_else(|| ChainError::NotFound("the deployed code".into()))?
                    .into();
                let code = codes
                    .load(&hash, &bytes)
                    .map_err(|e| ChainError::BadCode(e.to_string()))?;
                let ctor = if receipt.function.is_some() || !receipt.input.is_empty() {
                    let f = receipt.input.get(..4).and_then(|s| {
                        let sel: [u8; 4] = s.try_into().ok()?;
                        code.function_by_selector(sel).cloned()
                    });
                    Some((receipt.input.clone(), f))
                } else {
                    None
                };
                Body::Deploy { bytes, code, ctor }
            }
            TxKind::Call | TxKind::Query => {
                let function = match load_code(&before, &mut codes, &receipt.to)? {
                    Some(c) => receipt.input.get(..4).and_then(|s| {
                        let sel: [u8; 4] = s.try_into().ok()?;
                        c.function_by_selector(sel).cloned()
                    }),
                    None => None,
                };
                Body::Call {
                    to: receipt.to,
                    input: receipt.input.clone(),
                    function,
                }
            }
        };
        let ctx = Ctx {
            from: receipt.from,
            value: receipt.value,
            gas: receipt.gas_limit,
            block: BlockInfo {
                number: receipt.block,
                timestamp: receipt.timestamp,
            },
            mode: Mode::DryRun,
            call: receipt.call.clone(),
        };
        let out = self.run(&before, &mut codes, &ctx, &body, Some(sink));
        self.merge_codes(codes);
        let (mut again, _) = out?;
        again.id = receipt.id;
        again.dry_run = false;
        if again.kind == TxKind::Deploy {
            name_deployed(&mut again, receipt.alias.clone());
        }
        Ok(again)
    }
}

fn head_block<G: Get>(g: &G) -> Result<Block, ChainError> {
    let n = g.meta_u64("head")?;
    let v = g
        .get(Tbl::Blocks, &be(n))?
        .ok_or_else(|| ChainError::Corrupt(format!("head block {n} is missing")))?;
    parse("block", &v)
}

fn contract_info<G: Get>(g: &G, a: &Address) -> Result<Option<ContractInfo>, ChainError> {
    g.get(Tbl::ContractInfo, a)?
        .map(|v| parse("contract record", &v))
        .transpose()
}

fn unique_alias(w: &WriteView, want: &str) -> Result<String, ChainError> {
    if w.get(Tbl::Aliases, want.as_bytes())?.is_none() {
        return Ok(want.to_string());
    }
    for n in 2u64.. {
        let cand = format!("{want}-{n}");
        if w.get(Tbl::Aliases, cand.as_bytes())?.is_none() {
            return Ok(cand);
        }
    }
    Err(ChainError::BadInput("no free alias".into()))
}

/// Loads the code deployed at `a` as `g` sees it.
fn load_code<G: Get>(
    g: &G,
    codes: &mut CodeCache,
    a: &Address,
) -> Result<Option<Arc<Code>>, ChainError> {
    let Some(hash) = StateView(g)
        .code_hash(a)
        .map_err(|e| ChainError::Corrupt(e.0))?
    else {
        return Ok(None);
    };
    code_by_hash(g, codes, &hash)
}

fn code_by_hash<G: Get>(
    g: &G,
    codes: &mut CodeCache,
    hash: &Hash,
) -> Result<Option<Arc<Code>>, ChainError> {
    if let Some(c) = codes.get(hash) {
        return Ok(Some(c.clone()));
    }
    let Some(bytes) = g.get(Tbl::Code, hash)? else {
        return Ok(None);
    };
    codes
        .load(hash, &bytes)
        .map(Some)
        .map_err(|e| ChainError::BadCode(e.to_string()))
}

/// Code at `a` as the transaction left it (including a contract it deployed).
fn code_in_tx<G: Get>(
    journal: &Journal<'_>,
    g: &G,
    codes: &mut CodeCache,
    a: &Address,
) -> Option<Arc<Code>> {
    let hash = journal.code_hash(a).ok()??;
    code_by_hash(g, codes, &hash).ok().flatten()
}

fn status_name(s: &FrameStatus) -> String {
    match s {
        FrameStatus::Success => "success".into(),
        FrameStatus::Reverted => "reverted".into(),
        FrameStatus::Failed { kind, .. } => kind.clone(),
    }
}

fn frame_error(
    s: &FrameStatus,
    output: &[u8],
    rec: Option<&CallRecord>,
    codes: &CodeCache,
) -> Option<TxError> {
    match s {
        FrameStatus::Success => None,
        FrameStatus::Reverted => Some(TxError {
            kind: "reverted".into(),
            message: String::from_utf8_lossy(output).into_owned(),
            rip: None,
            symbol: None,
        }),
        FrameStatus::Failed { kind, message } => {
            let rip = rec.and_then(|r| r.trap_rip);
            let symbol = match (rip, rec.and_then(|r| r.code_hash)) {
                (Some(rip), Some(h)) => codes.get(&h).and_then(|c| symbol_at(c, rip)),
                _ => None,
            };
            Some(TxError {
                kind: kind.clone(),
                message: message.clone(),
                rip,
                symbol,
            })
        }
    }
}

fn decode_event<G: Get>(
    journal: &Journal<'_>,
    g: &G,
    codes: &mut CodeCache,
    index: usize,
    e: &RawEvent,
) -> Result<Event, ChainError> {
    let code = code_in_tx(journal, g, codes, &e.address);
    let decl = code
        .as_ref()
        .and_then(|c| c.event_by_topic(&e.topic).cloned());
    let mut ev = Event {
        index: index as u32,
        address: e.address,
        alias: contract_info(g, &e.address)?.and_then(|i| i.alias),
        topic: e.topic,
        data: e.data.clone(),
        name: None,
        decoded: None,
        fields: Vec::new(),
    };
    if let Some(decl) = decl {
        ev.name = Some(decl.name.clone());
        ev.decoded = abi::display_event(&decl, &e.data);
        let types: Vec<_> = decl.fields.iter().map(|p| p.ty).collect();
        if let Ok(values) = abi::decode(&types, &e.data) {
            ev.fields = decl
                .fields
                .iter()
                .zip(values)
                .map(|(p, v)| Field {
                    name: p.name.clone(),
                    ty: p.ty.to_string(),
                    value: v.to_string(),
                })
                .collect();
        }
    }
    Ok(ev)
}

/// The call tree from the frames recorded in pre-order.
fn build_tree<G: Get>(
    calls: &[CallRecord],
    journal: &Journal<'_>,
    g: &G,
    codes: &mut CodeCache,
) -> Result<Option<CallFrame>, ChainError> {
    let mut frames = Vec::with_capacity(calls.len());
    for rec in calls {
        let code = match rec.code_hash {
            Some(h) => code_by_hash(g, codes, &h).ok().flatten(),
            None => code_in_tx(journal, g, codes, &rec.frame.address),
        };
        let function = code.as_ref().and_then(|c| {
            let sel: [u8; 4] = rec.input.get(..4)?.try_into().ok()?;
            c.function_by_selector(sel).cloned()
        });
        let error = frame_error(&rec.status, &rec.output, Some(rec), codes);
        let decoded_output = match (&error, &function) {
            (None, Some(f)) => abi::display_output(f, &rec.output),
            _ => None,
        };
        frames.push(CallFrame {
            depth: rec.frame.depth,
            address: rec.frame.address,
            alias: contract_info(g, &rec.frame.address)?.and_then(|i| i.alias),
            caller: rec.frame.caller,
            value: rec.frame.value,
            function: function.map(|f| f.signature()),
            input: rec.input.clone(),
            gas_limit: rec.gas_limit,
            gas_used: rec.gas_used,
            status: status_name(&rec.status),
            error,
            output: rec.output.clone(),
            decoded_output,
            calls: Vec::new(),
        });
    }
    // Pre-order with depths: fold each frame into its parent, deepest first.
    let mut stack: Vec<CallFrame> = Vec::new();
    let mut root = None;
    for f in frames {
        while stack.last().is_some_and(|top| top.depth >= f.depth) {
            pop_into(&mut stack, &mut root);
        }
        stack.push(f);
    }
    while !stack.is_empty() {
        pop_into(&mut stack, &mut root);
    }
    Ok(root)
}

/// Gives a just-deployed contract's alias to its receipt, events and frames.
fn name_deployed(receipt: &mut Receipt, alias: Option<String>) {
    for e in &mut receipt.events {
        if e.address == receipt.to {
            e.alias.clone_from(&alias);
        }
    }
    if let Some(t) = &mut receipt.trace {
        name_frames(t, &receipt.to, &alias);
    }
    receipt.alias = alias;
}

fn name_frames(f: &mut CallFrame, a: &Address, alias: &Option<String>) {
    if f.address == *a {
        f.alias.clone_from(alias);
    }
    for c in &mut f.calls {
        name_frames(c, a, alias);
    }
}

fn pop_into(stack: &mut Vec<CallFrame>, root: &mut Option<CallFrame>) {
    if let Some(done) = stack.pop() {
        match stack.last_mut() {
            Some(parent) => parent.calls.push(done),
            None => *root = Some(done),
        }
    }
}
