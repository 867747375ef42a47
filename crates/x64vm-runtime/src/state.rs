//! Chain state: a [`Backend`] holds what is committed; a [`Journal`] over it
//! collects one transaction's changes with nested checkpoints, so a failed
//! nested call rolls back only its own frame; at the end the journal yields a
//! [`ChangeSet`] that the backend applies atomically (or that is dropped, for a
//! query, a dry run or a failed transaction).
//!
//! [`MemState`] is the in-memory backend. A database backend (the local chain)
//! implements [`Backend`] with reads from its tables and `apply` as one write
//! transaction; the journal and everything above it stay the same.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::{Address, Hash};

/// A backend failure (I/O, corruption). Ends the run as a `host_error` trap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError(pub String);

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state: {}", self.0)
    }
}

impl std::error::Error for StateError {}

/// Committed state, read-only during a transaction.
pub trait Backend {
    /// The value stored under `key` by `contract`.
    ///
    /// # Errors
    /// [`StateError`] when the backend cannot be read.
    fn storage(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// An account's balance (0 for unknown accounts).
    ///
    /// # Errors
    /// As [`Backend::storage`].
    fn balance(&self, account: &Address) -> Result<u128, StateError>;
    /// An account's nonce: transactions it has sent (0 for unknown accounts).
    ///
    /// # Errors
    /// As [`Backend::storage`].
    fn nonce(&self, account: &Address) -> Result<u64, StateError>;
    /// The hash of the code deployed at `account`, if it is a contract.
    ///
    /// # Errors
    /// As [`Backend::storage`].
    fn code_hash(&self, account: &Address) -> Result<Option<Hash>, StateError>;
    /// Code bytes by hash.
    ///
    /// # Errors
    /// As [`Backend::storage`].
    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError>;
}

/// Everything one transaction changed, in a deterministic (sorted) order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Storage writes (`None` = removed), by contract and key.
    pub storage: BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
    /// New balances.
    pub balances: BTreeMap<Address, u128>,
    /// New nonces.
    pub nonces: BTreeMap<Address, u64>,
    /// Code deployed at an address (by hash).
    pub code_hashes: BTreeMap<Address, Hash>,
    /// New code by hash.
    pub codes: BTreeMap<Hash, Arc<[u8]>>,
}

impl ChangeSet {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
            && self.balances.is_empty()
            && self.nonces.is_empty()
            && self.code_hashes.is_empty()
            && self.codes.is_empty()
    }
}

/// A position in the journal to return to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint(usize);

/// State as a transaction sees it: reads, writes and nested checkpoints.
pub trait State {
    /// The value stored under `key` by `contract`.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    fn storage(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// Stores (`Some`) or removes (`None`) a value.
    fn set_storage(&mut self, contract: &Address, key: &[u8], value: Option<Vec<u8>>);
    /// An account's balance.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    fn balance(&self, account: &Address) -> Result<u128, StateError>;
    /// Sets an account's balance.
    fn set_balance(&mut self, account: &Address, value: u128);
    /// An account's nonce.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    fn nonce(&self, account: &Address) -> Result<u64, StateError>;
    /// Sets an account's nonce.
    fn set_nonce(&mut self, account: &Address, value: u64);
    /// The hash of the code at `account`.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    fn code_hash(&self, account: &Address) -> Result<Option<Hash>, StateError>;
    /// Code bytes by hash.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError>;
    /// Deploys `code` (whose hash is `hash`) at `account`.
    fn set_code(&mut self, account: &Address, hash: Hash, code: Arc<[u8]>);
    /// Marks the current position; changes after it can be reverted.
    fn checkpoint(&mut self) -> Checkpoint;
    /// Keeps the changes made since `cp` (an outer revert still undoes them).
    fn commit(&mut self, cp: Checkpoint);
    /// Undoes every change made since `cp`.
    fn revert(&mut self, cp: Checkpoint);

    /// Moves `amount` from `from` to `to`; `Ok(false)` (and no change) when
    /// `from` has less. A transfer to oneself only checks the balance.
    ///
    /// # Errors
    /// [`StateError`] from the backend.
    fn transfer(&mut self, from: &Address, to: &Address, amount: u128) -> Result<bool, StateError> {
        let have = self.balance(from)?;
        if have < amount {
            return Ok(false);
        }
        if from == to || amount == 0 {
            return Ok(true);
        }
        let dest = self.balance(to)?;
        let Some(new_dest) = dest.checked_add(amount) else {
            return Ok(false);
        };
        self.set_balance(from, have - amount);
        self.set_balance(to, new_dest);
        Ok(true)
    }
}

/// One undo record: the journal's previous entry for a slot (`None`: no entry,
/// i.e. the backend's value showed through).
#[derive(Clone, Debug)]
enum Undo {
    Storage((Address, Vec<u8>), Option<Option<Vec<u8>>>),
    Balance(Address, Option<u128>),
    Nonce(Address, Option<u64>),
    CodeHash(Address, Option<Hash>),
    Code(Hash, Option<Arc<[u8]>>),
}

/// A transaction's view of a backend: an overlay of changes plus an undo log.
pub struct Journal<'a> {
    backend: &'a dyn Backend,
    changes: ChangeSet,
    undo: Vec<Undo>,
}

impl fmt::Debug for Journal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("changes", &self.changes)
            .field("undo_len", &self.undo.len())
            .finish()
    }
}

impl<'a> Journal<'a> {
    /// An empty journal over `backend`.
    pub fn new(backend: &'a dyn Backend) -> Self {
        Journal {
            backend,
            changes: ChangeSet::default(),
            undo: Vec::new(),
        }
    }

    /// The changes kept so far (those not reverted).
    pub fn changes(&self) -> &ChangeSet {
        &self.changes
    }

    /// Ends the journal, yielding its changes for [`MemState::apply`] (or a
    /// database's commit).
    pub fn into_changes(self) -> ChangeSet {
        self.changes
    }
}

fn put<K: Ord + Clone, V>(map: &mut BTreeMap<K, V>, key: &K, value: V) -> Option<V> {
    map.insert(key.clone(), value)
}

impl State for Journal<'_> {
    fn storage(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.changes.storage.get(&(*contract, key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => self.backend.storage(contract, key),
        }
    }

    fn set_storage(&mut self, contract: &Address, key: &[u8], value: Option<Vec<u8>>) {
        let k = (*contract, key.to_vec());
        let prev = put(&mut self.changes.storage, &k, value);
        self.undo.push(Undo::Storage(k, prev));
    }

    fn balance(&self, account: &Address) -> Result<u128, StateError> {
        match self.changes.balances.get(account) {
            Some(v) => Ok(*v),
            None => self.backend.balance(account),
        }
    }

    fn set_balance(&mut self, account: &Address, value: u128) {
        let prev = put(&mut self.changes.balances, account, value);
        self.undo.push(Undo::Balance(*account, prev));
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        match self.changes.nonces.get(account) {
            Some(v) => Ok(*v),
            None => self.backend.nonce(account),
        }
    }

    fn set_nonce(&mut self, account: &Address, value: u64) {
        let prev = put(&mut self.changes.nonces, account, value);
        self.undo.push(Undo::Nonce(*account, prev));
    }

    fn code_hash(&self, account: &Address) -> Result<Option<Hash>, StateError> {
        match self.changes.code_hashes.get(account) {
            Some(h) => Ok(Some(*h)),
            None => self.backend.code_hash(account),
        }
    }

    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        match self.changes.codes.get(hash) {
            Some(c) => Ok(Some(c.clone())),
            None => self.backend.code(hash),
        }
    }

    fn set_code(&mut self, account: &Address, hash: Hash, code: Arc<[u8]>) {
        let prev = put(&mut self.changes.codes, &hash, code);
        self.undo.push(Undo::Code(hash, prev));
        let prev = put(&mut self.changes.code_hashes, account, hash);
        self.undo.push(Undo::CodeHash(*account, prev));
    }

    fn checkpoint(&mut self) -> Checkpoint {
        Checkpoint(self.undo.len())
    }

    fn commit(&mut self, cp: Checkpoint) {
        // The undo records stay: an enclosing frame that fails must still undo them.
        debug_assert!(cp.0 <= self.undo.len());
    }

    fn revert(&mut self, cp: Checkpoint) {
        fn restore<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, prev: Option<V>) {
            match prev {
                Some(v) => {
                    map.insert(key, v);
                }
                None => {
                    map.remove(&key);
                }
            }
        }
        while self.undo.len() > cp.0 {
            let Some(u) = self.undo.pop() else { break };
            match u {
                Undo::Storage(k, p) => restore(&mut self.changes.storage, k, p),
                Undo::Balance(k, p) => restore(&mut self.changes.balances, k, p),
                Undo::Nonce(k, p) => restore(&mut self.changes.nonces, k, p),
                Undo::CodeHash(k, p) => restore(&mut self.changes.code_hashes, k, p),
                Undo::Code(k, p) => restore(&mut self.changes.codes, k, p),
            }
        }
    }
}

/// In-memory committed state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemState {
    storage: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
    balances: BTreeMap<Address, u128>,
    nonces: BTreeMap<Address, u64>,
    code_hashes: BTreeMap<Address, Hash>,
    codes: BTreeMap<Hash, Arc<[u8]>>,
}

impl MemState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a transaction's changes.
    pub fn apply(&mut self, changes: ChangeSet) {
        for (k, v) in changes.storage {
            match v {
                Some(v) => {
                    self.storage.insert(k, v);
                }
                None => {
                    self.storage.remove(&k);
                }
            }
        }
        self.balances.extend(changes.balances);
        self.nonces.extend(changes.nonces);
        self.code_hashes.extend(changes.code_hashes);
        self.codes.extend(changes.codes);
    }

    /// Sets a balance directly (genesis, test setup).
    pub fn set_balance(&mut self, account: &Address, value: u128) {
        self.balances.insert(*account, value);
    }

    /// Every storage entry of `contract`, sorted by key.
    pub fn storage_of(&self, contract: &Address) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.storage
            .range((*contract, Vec::new())..)
            .take_while(|((c, _), _)| c == contract)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Backend for MemState {
    fn storage(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.storage.get(&(*contract, key.to_vec())).cloned())
    }

    fn balance(&self, account: &Address) -> Result<u128, StateError> {
        Ok(self.balances.get(account).copied().unwrap_or(0))
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        Ok(self.nonces.get(account).copied().unwrap_or(0))
    }

    fn code_hash(&self, account: &Address) -> Result<Option<Hash>, StateError> {
        Ok(self.code_hashes.get(account).copied())
    }

    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.codes.get(hash).cloned())
    }
}
