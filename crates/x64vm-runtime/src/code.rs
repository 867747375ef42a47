//! Contract code: loaded once per code hash (ELF or packed form), kept as an
//! `Arc<Image>` with its parsed ABI, and shared by every call of every contract
//! deployed with that code.
//!
//! The cache also keeps instances of that code for reuse: a frame takes one out
//! ([`CodeCache::instance`]), runs its call, and gives it back
//! ([`CodeCache::recycle`]). A taken instance is [`Instance::reset`], which undoes
//! only the pages the last call wrote and keeps the decoded blocks, so a second
//! call of a contract costs a reset and the run instead of a new arena and
//! decoding every block again. A reset instance behaves exactly as a new one
//! (outputs, gas, traps, state effects); no gas depends on which one a frame
//! gets. Nested and re-entrant calls of the same code each take their own.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use x64vm::{Config, Image, Instance, LoadError};

use crate::Hash;
use crate::abi::{Abi, AbiError, Event, Function};

/// A loaded contract.
#[derive(Debug)]
pub struct Code {
    /// keccak256 of the deployed bytes.
    pub hash: Hash,
    /// The loaded image (entry = the SDK's dispatcher).
    pub image: Arc<Image>,
    /// The embedded ABI description, if the contract has one.
    pub abi: Option<Abi>,
    /// The selectors of `abi.functions` and the topics of `abi.events`, in the
    /// same order: computed once here, not per receipt.
    selectors: Vec<[u8; 4]>,
    topics: Vec<[u8; 32]>,
}

/// Why code could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// Not a loadable contract.
    Load(LoadError),
    /// The `.x64vm.abi` section is malformed.
    Abi(AbiError),
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeError::Load(e) => e.fmt(f),
            CodeError::Abi(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CodeError {}

impl Code {
    /// Loads contract bytes (an ELF file or x64vm's packed form) and parses its ABI.
    ///
    /// # Errors
    /// [`CodeError`] for files that do not load or carry a malformed ABI.
    pub fn load(bytes: &[u8]) -> Result<Code, CodeError> {
        let image = x64vm::loader::load_any(bytes).map_err(CodeError::Load)?;
        let abi = if image
            .abi
            .trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .is_empty()
        {
            None
        } else {
            Some(Abi::parse(&image.abi).map_err(CodeError::Abi)?)
        };
        let selectors = abi
            .iter()
            .flat_map(|a| a.functions.iter().map(|f| f.selector()))
            .collect();
        let topics = abi
            .iter()
            .flat_map(|a| a.events.iter().map(|e| e.topic()))
            .collect();
        Ok(Code {
            hash: crate::crypto::keccak256(bytes),
            image: Arc::new(image),
            abi,
            selectors,
            topics,
        })
    }

    /// The ABI function with this selector (as [`Abi::function_by_selector`],
    /// without hashing every signature).
    pub fn function_by_selector(&self, sel: [u8; 4]) -> Option<&Function> {
        let i = self.selectors.iter().position(|s| *s == sel)?;
        self.abi.as_ref()?.functions.get(i)
    }

    /// The ABI event with this topic (as [`Abi::event_by_topic`], without
    /// hashing every signature).
    pub fn event_by_topic(&self, topic: &[u8; 32]) -> Option<&Event> {
        let i = self.topics.iter().position(|t| t == topic)?;
        self.abi.as_ref()?.events.get(i)
    }
}

/// How many instances a [`CodeCache`] keeps for reuse, and how much memory
/// they may hold (as [`Instance::retained_bytes`] estimates it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLimits {
    /// Most idle instances in all; 0 turns reuse off (every frame gets a new one).
    pub max_instances: usize,
    /// Most idle instances of one code (and configuration). More are needed only
    /// by re-entrant calls.
    pub max_per_code: usize,
    /// Most host memory all idle instances may hold; the least recently used go
    /// first.
    pub max_bytes: u64,
    /// An instance holding more than this (a call that wrote much of its heap)
    /// is dropped instead of kept.
    pub max_instance_bytes: u64,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_instances: 32,
            max_per_code: 4,
            max_bytes: 128 << 20,
            max_instance_bytes: 16 << 20,
        }
    }
}

/// Counters of instance reuse, since the cache was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Frames that got a new instance.
    pub created: u64,
    /// Frames that got a reused one.
    pub reused: u64,
    /// Idle instances now.
    pub idle: usize,
    /// Memory they hold (estimated).
    pub bytes: u64,
}

/// An instance waiting for the next call of its code.
#[derive(Debug)]
struct Idle {
    hash: Hash,
    inst: Instance,
    bytes: u64,
    /// When it was put back (a counter), for least-recently-used eviction.
    at: u64,
}

/// Whether an instance made with `a` serves a call with `b`: the same but for
/// the gas limit, which is set per call.
fn same_layout(a: &Config, b: &Config) -> bool {
    Config {
        gas_limit: b.gas_limit,
        ..a.clone()
    } == *b
}

/// Loaded code by hash, and idle instances of it.
#[derive(Debug, Default)]
pub struct CodeCache {
    map: BTreeMap<Hash, Arc<Code>>,
    idle: Vec<Idle>,
    limits: PoolLimits,
    clock: u64,
    stats: PoolStats,
}

impl CodeCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loaded code with this hash, if cached.
    pub fn get(&self, hash: &Hash) -> Option<&Arc<Code>> {
        self.map.get(hash)
    }

    /// The loaded form of `bytes` (whose hash is `hash`), loading it on first use.
    ///
    /// # Errors
    /// [`CodeError`] when the bytes do not load.
    pub fn load(&mut self, hash: &Hash, bytes: &[u8]) -> Result<Arc<Code>, CodeError> {
        if let Some(c) = self.map.get(hash) {
            return Ok(c.clone());
        }
        let code = Arc::new(Code::load(bytes)?);
        self.map.insert(*hash, code.clone());
        Ok(code)
    }

    /// Inserts already loaded code.
    pub fn insert(&mut self, code: Arc<Code>) {
        self.map.insert(code.hash, code);
    }

    /// Every cached code (for decoding events by topic).
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Code>> {
        self.map.values()
    }

    /// An instance of `code` for one call with `input` and `config` (its gas
    /// limit included): the most recently used idle instance of that code and
    /// configuration, reset, or else a new one. Give it back with
    /// [`CodeCache::recycle`] when the call is over. Either way the instance is
    /// equivalent to `Instance::new(&code.image, config, input)`.
    ///
    /// # Errors
    /// As [`Instance::new`] (the same error for a reused instance).
    pub fn instance(
        &mut self,
        code: &Code,
        config: &Config,
        input: &[u8],
    ) -> Result<Instance, LoadError> {
        let found = self
            .idle
            .iter()
            .enumerate()
            .filter(|(_, e)| e.hash == code.hash && same_layout(e.inst.config(), config))
            .max_by_key(|(_, e)| e.at)
            .map(|(i, _)| i);
        if let Some(i) = found {
            let mut e = self.idle.swap_remove(i);
            self.stats.bytes -= e.bytes;
            match e.inst.reset(input) {
                Ok(()) => {
                    e.inst.set_gas_limit(config.gas_limit);
                    self.stats.reused += 1;
                    return Ok(e.inst);
                }
                Err(err) => {
                    // Only an oversized input fails a reset; keep the instance.
                    self.recycle(&e.hash, e.inst);
                    return Err(err);
                }
            }
        }
        let inst = Instance::new(&code.image, config, input)?;
        self.stats.created += 1;
        Ok(inst)
    }

    /// Takes back an instance of the code with hash `hash` after its call, to
    /// reuse it (it is reset when taken again), or drops it when the limits say
    /// so (see [`PoolLimits`]).
    pub fn recycle(&mut self, hash: &Hash, inst: Instance) {
        let bytes = inst.retained_bytes();
        let limits = self.limits;
        if limits.max_instances == 0 || limits.max_per_code == 0 {
            return;
        }
        if bytes > limits.max_instance_bytes || bytes > limits.max_bytes {
            return;
        }
        let same = self
            .idle
            .iter()
            .filter(|e| e.hash == *hash && same_layout(e.inst.config(), inst.config()))
            .count();
        if same >= limits.max_per_code {
            return;
        }
        self.clock += 1;
        self.stats.bytes += bytes;
        self.idle.push(Idle {
            hash: *hash,
            inst,
            bytes,
            at: self.clock,
        });
        self.evict();
    }

    /// Drops the least recently used idle instances until the limits hold.
    fn evict(&mut self) {
        while self.idle.len() > self.limits.max_instances
            || self.stats.bytes > self.limits.max_bytes
        {
            let Some((i, _)) = self.idle.iter().enumerate().min_by_key(|(_, e)| e.at) else {
                break;
            };
            let e = self.idle.swap_remove(i);
            self.stats.bytes -= e.bytes;
        }
    }

    /// The limits on idle instances.
    pub fn pool_limits(&self) -> PoolLimits {
        self.limits
    }

    /// Sets the limits on idle instances, dropping what exceeds them
    /// (`max_instances: 0` turns reuse off).
    pub fn set_pool_limits(&mut self, limits: PoolLimits) {
        self.limits = limits;
        if limits.max_instances == 0 {
            self.idle.clear();
            self.stats.bytes = 0;
        }
        self.evict();
    }

    /// Reuse counters and what is idle now.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            idle: self.idle.len(),
            ..self.stats
        }
    }

    /// Moves the idle instances of `other` into this cache (within this cache's
    /// limits), and adds its reuse counters to this one's: e.g. between a shared
    /// cache and one transaction's copy of it.
    pub fn take_instances_from(&mut self, other: &mut CodeCache) {
        self.stats.created += std::mem::take(&mut other.stats.created);
        self.stats.reused += std::mem::take(&mut other.stats.reused);
        if self.idle.is_empty() && self.limits == other.limits {
            // Within the same limits already: move them as they are.
            self.idle = std::mem::take(&mut other.idle);
            self.stats.bytes = std::mem::take(&mut other.stats.bytes);
            self.clock = self.clock.max(other.clock);
            return;
        }
        let mut moved = std::mem::take(&mut other.idle);
        other.stats.bytes = 0;
        // Oldest first, so that the most recently used end up the most recent here.
        moved.sort_by_key(|e| e.at);
        for e in moved {
            self.recycle(&e.hash, e.inst);
        }
    }
}
