//! The state file: redb tables, the format check, reads (as the runtime's
//! [`Backend`]) and writes that keep an undo log.
//!
//! Every table maps bytes to bytes; numeric keys are big-endian so that they
//! sort in order. Writes go through [`WriteView`], which remembers the value
//! each key had before; at commit that list becomes one record of the undo log.
//! Replaying undo records backwards gives any earlier state: `revert` of a
//! snapshot applies them, and `trace -v` reads through them (an [`Overlay`]) to
//! re-run an old transaction against the state it saw.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use x64vm_runtime::state::{Backend, StateError};
use x64vm_runtime::{Address, Hash};

use crate::error::ChainError;

/// The identity written into every state file.
pub const MAGIC: &[u8] = b"x64vm-chain";

/// The layout version of the tables. A file with another version is refused
/// with a clear error (dump it with the x64vm that wrote it, then `load`).
pub const FORMAT_VERSION: u32 = 1;

/// The first bytes of every redb database file.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// Memory redb may use for its page cache.
const CACHE_BYTES: usize = 64 << 20;

/// Key-value pairs, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

type Def = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// The tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tbl {
    /// `magic`, `format_version`, `params`, `head`, `next_receipt`, `next_snapshot`.
    Meta,
    /// address → balance (u128 LE) ‖ nonce (u64 LE).
    Accounts,
    /// code hash → code bytes.
    Code,
    /// contract address → code hash.
    Contracts,
    /// contract address → JSON [`crate::ContractInfo`].
    ContractInfo,
    /// contract address ‖ key → value.
    Storage,
    /// receipt id (u64 BE) → JSON receipt.
    Receipts,
    /// block number (u64 BE) → JSON block.
    Blocks,
    /// alias (UTF-8) → contract address.
    Aliases,
    /// sequence (u64 BE) → one committed transaction's undo record.
    Undo,
    /// snapshot id (u64 BE) → undo sequence at the time (u64 BE).
    Snapshots,
}

const ALL: [Tbl; 11] = [
    Tbl::Meta,
    Tbl::Accounts,
    Tbl::Code,
    Tbl::Contracts,
    Tbl::ContractInfo,
    Tbl::Storage,
    Tbl::Receipts,
    Tbl::Blocks,
    Tbl::Aliases,
    Tbl::Undo,
    Tbl::Snapshots,
];

impl Tbl {
    fn name(self) -> &'static str {
        match self {
            Tbl::Meta => "meta",
            Tbl::Accounts => "accounts",
            Tbl::Code => "code",
            Tbl::Contracts => "contracts",
            Tbl::ContractInfo => "contract_info",
            Tbl::Storage => "storage",
            Tbl::Receipts => "receipts",
            Tbl::Blocks => "blocks",
            Tbl::Aliases => "aliases",
            Tbl::Undo => "undo",
            Tbl::Snapshots => "snapshots",
        }
    }

    fn def(self) -> Def {
        TableDefinition::new(self.name())
    }

    fn id(self) -> u8 {
        ALL.iter().position(|&t| t == self).unwrap_or(0) as u8
    }

    fn from_id(id: u8) -> Option<Tbl> {
        ALL.get(usize::from(id)).copied()
    }

    /// Whether writes to this table are undone by `revert`.
    fn undoable(self) -> bool {
        !matches!(self, Tbl::Undo | Tbl::Snapshots)
    }
}

fn db_err(e: impl Into<redb::Error>) -> ChainError {
    let e: redb::Error = e.into();
    match e {
        redb::Error::DatabaseAlreadyOpen => ChainError::InUse,
        redb::Error::Corrupted(m) => ChainError::Corrupt(m),
        redb::Error::UpgradeRequired(v) => ChainError::Version(format!(
            "the file is in redb file format {v}, which this x64vm cannot read"
        )),
        redb::Error::Io(e) => ChainError::Io(e.to_string()),
        other => ChainError::Db(other.to_string()),
    }
}

/// Big-endian u64, for keys that must sort numerically.
pub fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Reads a u64 stored big- or little-endian by [`be`] / meta helpers.
fn u64_of(bytes: &[u8], big: bool) -> Option<u64> {
    let a: [u8; 8] = bytes.try_into().ok()?;
    Some(if big {
        u64::from_be_bytes(a)
    } else {
        u64::from_le_bytes(a)
    })
}

/// The key of a storage slot.
pub fn storage_key(contract: &Address, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(32 + key.len());
    k.extend_from_slice(contract);
    k.extend_from_slice(key);
    k
}

/// An account record: balance and nonce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Balance.
    pub balance: u128,
    /// Transactions sent.
    pub nonce: u64,
}

impl Account {
    /// `balance (16, LE) ‖ nonce (8, LE)`.
    pub fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..16].copy_from_slice(&self.balance.to_le_bytes());
        b[16..].copy_from_slice(&self.nonce.to_le_bytes());
        b
    }

    /// The inverse of [`Account::encode`].
    ///
    /// # Errors
    /// [`ChainError::Corrupt`] for a record of the wrong size.
    pub fn decode(b: &[u8]) -> Result<Account, ChainError> {
        if b.len() != 24 {
            return Err(ChainError::Corrupt(format!(
                "account record of {} bytes",
                b.len()
            )));
        }
        let mut bal = [0u8; 16];
        bal.copy_from_slice(&b[..16]);
        let mut n = [0u8; 8];
        n.copy_from_slice(&b[16..]);
        Ok(Account {
            balance: u128::from_le_bytes(bal),
            nonce: u64::from_le_bytes(n),
        })
    }
}

/// Reading the tables: implemented by read and write transactions and by
/// [`Overlay`].
pub trait Get {
    /// The value under `key`.
    ///
    /// # Errors
    /// Database failures.
    fn get(&self, t: Tbl, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError>;

    /// Every entry whose key starts with `prefix`, in key order, at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    fn scan(&self, t: Tbl, prefix: &[u8], limit: usize) -> Result<Entries, ChainError>;

    /// A meta value as a little-endian u64 (0 when absent).
    ///
    /// # Errors
    /// Database failures, a malformed value.
    fn meta_u64(&self, key: &str) -> Result<u64, ChainError> {
        match self.get(Tbl::Meta, key.as_bytes())? {
            None => Ok(0),
            Some(v) => u64_of(&v, false)
                .ok_or_else(|| ChainError::Corrupt(format!("meta {key} is not a u64"))),
        }
    }

    /// An account (zero when absent).
    ///
    /// # Errors
    /// Database failures, a malformed record.
    fn account(&self, a: &Address) -> Result<Account, ChainError> {
        match self.get(Tbl::Accounts, a)? {
            None => Ok(Account::default()),
            Some(v) => Account::decode(&v),
        }
    }
}

macro_rules! impl_scan {
    ($table:expr, $prefix:expr, $limit:expr) => {{
        let mut out = Vec::new();
        for item in $table.range::<&[u8]>($prefix..).map_err(db_err)? {
            let (k, v) = item.map_err(db_err)?;
            if !k.value().starts_with($prefix) || out.len() >= $limit {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }};
}

/// A consistent read-only view (a redb read transaction): many may be open
/// while one writer commits.
pub struct ReadView {
    txn: ReadTransaction,
}

impl Get for ReadView {
    fn get(&self, t: Tbl, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        let table = match self.txn.open_table(t.def()) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(db_err(e)),
        };
        Ok(table.get(key).map_err(db_err)?.map(|g| g.value().to_vec()))
    }

    fn scan(&self, t: Tbl, prefix: &[u8], limit: usize) -> Result<Entries, ChainError> {
        let table = match self.txn.open_table(t.def()) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(db_err(e)),
        };
        impl_scan!(table, prefix, limit)
    }
}

/// One undo entry: a key and the value it had before (`None`: absent).
type UndoEntry = (Tbl, Vec<u8>, Option<Vec<u8>>);

/// A write transaction. Nothing is visible to others, or on disk, until
/// [`WriteView::commit`]; dropping it discards everything.
pub struct WriteView {
    txn: WriteTransaction,
    undo: Vec<UndoEntry>,
}

impl Get for WriteView {
    fn get(&self, t: Tbl, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        let table = self.txn.open_table(t.def()).map_err(db_err)?;
        Ok(table.get(key).map_err(db_err)?.map(|g| g.value().to_vec()))
    }

    fn scan(&self, t: Tbl, prefix: &[u8], limit: usize) -> Result<Entries, ChainError> {
        let table = self.txn.open_table(t.def()).map_err(db_err)?;
        impl_scan!(table, prefix, limit)
    }
}

impl WriteView {
    /// Stores (`Some`) or removes (`None`) a value, remembering the old one.
    ///
    /// # Errors
    /// Database failures.
    pub fn put(&mut self, t: Tbl, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        let mut table = self.txn.open_table(t.def()).map_err(db_err)?;
        let old = match value {
            Some(v) => table.insert(key, v).map_err(db_err)?,
            None => table.remove(key).map_err(db_err)?,
        }
        .map(|g| g.value().to_vec());
        if t.undoable() {
            self.undo.push((t, key.to_vec(), old));
        }
        Ok(())
    }

    /// Stores a value that `revert` does not restore (counters that must keep
    /// growing across reverts).
    ///
    /// # Errors
    /// Database failures.
    pub fn put_raw(&mut self, t: Tbl, key: &[u8], value: &[u8]) -> Result<(), ChainError> {
        let mut table = self.txn.open_table(t.def()).map_err(db_err)?;
        table.insert(key, value).map_err(db_err)?;
        Ok(())
    }

    /// Stores a meta u64 (little-endian).
    ///
    /// # Errors
    /// Database failures.
    pub fn set_meta_u64(&mut self, key: &str, v: u64) -> Result<(), ChainError> {
        self.put(Tbl::Meta, key.as_bytes(), Some(&v.to_le_bytes()))
    }

    /// Stores an account.
    ///
    /// # Errors
    /// Database failures.
    pub fn set_account(&mut self, a: &Address, acct: Account) -> Result<(), ChainError> {
        self.put(Tbl::Accounts, a, Some(&acct.encode()))
    }

    /// Applies a runtime change set (storage, balances, nonces, code).
    ///
    /// # Errors
    /// Database failures.
    pub fn apply(&mut self, changes: &x64vm_runtime::ChangeSet) -> Result<(), ChainError> {
        for ((contract, key), value) in &changes.storage {
            self.put(Tbl::Storage, &storage_key(contract, key), value.as_deref())?;
        }
        let mut touched: BTreeMap<Address, Account> = BTreeMap::new();
        for a in changes.balances.keys().chain(changes.nonces.keys()) {
            if !touched.contains_key(a) {
                touched.insert(*a, self.account(a)?);
            }
        }
        for (a, acct) in &mut touched {
            if let Some(b) = changes.balances.get(a) {
                acct.balance = *b;
            }
            if let Some(n) = changes.nonces.get(a) {
                acct.nonce = *n;
            }
        }
        for (a, acct) in touched {
            self.set_account(&a, acct)?;
        }
        for (hash, code) in &changes.codes {
            if self.get(Tbl::Code, hash)?.is_none() {
                self.put(Tbl::Code, hash, Some(code))?;
            }
        }
        for (a, hash) in &changes.code_hashes {
            self.put(Tbl::Contracts, a, Some(hash))?;
        }
        Ok(())
    }

    /// Commits: writes the undo record (tagged with the first receipt id the
    /// transaction created, or 0) and makes everything durable at once.
    ///
    /// # Errors
    /// Database failures; then nothing was committed.
    pub fn commit(mut self, receipt: u64) -> Result<(), ChainError> {
        if !self.undo.is_empty() {
            let undo = std::mem::take(&mut self.undo);
            let seq = {
                let table = self.txn.open_table(Tbl::Undo.def()).map_err(db_err)?;
                let last = table.last().map_err(db_err)?;
                match last {
                    Some((k, _)) => u64_of(k.value(), true).unwrap_or(0) + 1,
                    None => 1,
                }
            };
            let rec = encode_undo(receipt, &undo);
            self.put(Tbl::Undo, &be(seq), Some(&rec))?;
        }
        self.txn.commit().map_err(db_err)
    }

    /// The sequence number the next undo record will get.
    ///
    /// # Errors
    /// Database failures.
    pub fn next_undo_seq(&self) -> Result<u64, ChainError> {
        let table = self.txn.open_table(Tbl::Undo.def()).map_err(db_err)?;
        let last = table.last().map_err(db_err)?;
        Ok(match last {
            Some((k, _)) => u64_of(k.value(), true).unwrap_or(0) + 1,
            None => 1,
        })
    }

    /// Undoes every committed transaction after undo sequence `seq` (their
    /// undo records are consumed). The undo entries of this write itself are
    /// dropped: a revert is not undoable.
    ///
    /// # Errors
    /// Database failures, a malformed undo record.
    pub fn rewind_to(&mut self, seq: u64) -> Result<(), ChainError> {
        let records = self.scan(Tbl::Undo, &[], usize::MAX)?;
        for (k, v) in records.into_iter().rev() {
            let s = u64_of(&k, true).ok_or_else(|| ChainError::Corrupt("undo key".into()))?;
            if s <= seq {
                break;
            }
            let (_, entries) = decode_undo(&v)?;
            for (t, key, old) in entries.into_iter().rev() {
                self.put(t, &key, old.as_deref())?;
            }
            self.put(Tbl::Undo, &k, None)?;
        }
        self.undo.clear();
        Ok(())
    }
}

fn encode_undo(receipt: u64, entries: &[UndoEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&receipt.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (t, key, old) in entries {
        out.push(t.id());
        out.extend_from_slice(&(key.len() as u64).to_le_bytes());
        out.extend_from_slice(key);
        match old {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                out.extend_from_slice(v);
            }
        }
    }
    out
}

/// Decodes an undo record: the receipt tag and the entries in write order.
fn decode_undo(b: &[u8]) -> Result<(u64, Vec<UndoEntry>), ChainError> {
    let bad = || ChainError::Corrupt("malformed undo record".into());
    let mut pos = 0usize;
    let mut take = |n: usize| -> Result<&[u8], ChainError> {
        let end = pos.checked_add(n).ok_or_else(bad)?;
        let s = b.get(pos..end).ok_or_else(bad)?;
        pos = end;
        Ok(s)
    };
    let u64le = |s: &[u8]| u64_of(s, false).ok_or_else(bad);
    let receipt = u64le(take(8)?)?;
    let n = u64le(take(8)?)?;
    let mut entries = Vec::new();
    for _ in 0..n {
        let t = Tbl::from_id(take(1)?[0]).ok_or_else(bad)?;
        let kl = usize::try_from(u64le(take(8)?)?).map_err(|_| bad())?;
        let key = take(kl)?.to_vec();
        let old = match take(1)?[0] {
            0 => None,
            1 => {
                let vl = usize::try_from(u64le(take(8)?)?).map_err(|_| bad())?;
                Some(take(vl)?.to_vec())
            }
            _ => return Err(bad()),
        };
        entries.push((t, key, old));
    }
    Ok((receipt, entries))
}

/// A view of an earlier state: the current state with the undo records of
/// every transaction from receipt `since` on rolled back, in memory.
pub struct Overlay<'a, G: Get> {
    base: &'a G,
    old: BTreeMap<(Tbl, Vec<u8>), Option<Vec<u8>>>,
}

impl<'a, G: Get> Overlay<'a, G> {
    /// The state just before the transaction that created receipt `receipt`.
    ///
    /// # Errors
    /// [`ChainError::NotFound`] when no undo record carries that receipt
    /// (a receipt from a loaded dump, or reverted away); database failures.
    pub fn before_receipt(base: &'a G, receipt: u64) -> Result<Self, ChainError> {
        let records = base.scan(Tbl::Undo, &[], usize::MAX)?;
        let mut old = BTreeMap::new();
        for (_, v) in records.into_iter().rev() {
            let (tag, entries) = decode_undo(&v)?;
            for (t, key, prev) in entries.into_iter().rev() {
                old.insert((t, key), prev);
            }
            if tag == receipt {
                return Ok(Overlay { base, old });
            }
            if tag != 0 && tag < receipt {
                break;
            }
        }
        Err(ChainError::NotFound(format!(
            "the state before receipt {receipt} (its undo record is gone: loaded from a dump?)"
        )))
    }
}

impl<G: Get> Get for Overlay<'_, G> {
    fn get(&self, t: Tbl, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        match self.old.get(&(t, key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(t, key),
        }
    }

    fn scan(&self, t: Tbl, prefix: &[u8], limit: usize) -> Result<Entries, ChainError> {
        let mut m: BTreeMap<Vec<u8>, Vec<u8>> =
            self.base.scan(t, prefix, usize::MAX)?.into_iter().collect();
        for ((tt, k), v) in &self.old {
            if *tt == t && k.starts_with(prefix) {
                match v {
                    Some(v) => m.insert(k.clone(), v.clone()),
                    None => m.remove(k),
                };
            }
        }
        Ok(m.into_iter().take(limit).collect())
    }
}

/// The runtime's view of committed state, over any [`Get`].
pub struct StateView<'a, G: Get>(pub &'a G);

fn st(e: ChainError) -> StateError {
    StateError(e.to_string())
}

impl<G: Get> Backend for StateView<'_, G> {
    fn storage(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0
            .get(Tbl::Storage, &storage_key(contract, key))
            .map_err(st)
    }

    fn balance(&self, account: &Address) -> Result<u128, StateError> {
        self.0.account(account).map(|a| a.balance).map_err(st)
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        self.0.account(account).map(|a| a.nonce).map_err(st)
    }

    fn code_hash(&self, account: &Address) -> Result<Option<Hash>, StateError> {
        match self.0.get(Tbl::Contracts, account).map_err(st)? {
            None => Ok(None),
            Some(v) => v
                .as_slice()
                .try_into()
                .map(Some)
                .map_err(|_| StateError("malformed contract record".into())),
        }
    }

    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.0.get(Tbl::Code, hash).map_err(st)?.map(Arc::from))
    }
}

/// The database.
pub struct Store {
    db: Database,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn builder() -> redb::Builder {
    let mut b = redb::Builder::new();
    b.set_cache_size(CACHE_BYTES);
    // The v3 file format, which later redb versions read without an upgrade.
    b.create_with_file_format_v3(true);
    b
}

impl Store {
    /// Creates a new, empty database file (with every table and the meta
    /// identity) at `path`, which must not exist or be empty.
    ///
    /// # Errors
    /// [`ChainError::Exists`], database and I/O failures.
    pub fn create(
        path: &Path,
        init: impl FnOnce(&mut WriteView) -> Result<(), ChainError>,
    ) -> Result<Store, ChainError> {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return Err(ChainError::Exists(path.display().to_string()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ChainError::Io(format!("{}: {e}", dir.display())))?;
        }
        let db = open_guarded(|| builder().create(path))?;
        Self::fresh(db, init)
    }

    /// An in-memory database (tests, gas reports).
    ///
    /// # Errors
    /// Database failures.
    pub fn memory(
        init: impl FnOnce(&mut WriteView) -> Result<(), ChainError>,
    ) -> Result<Store, ChainError> {
        let db = builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(db_err)?;
        Self::fresh(db, init)
    }

    /// Creates the tables, the identity and `init`'s content in one commit, so
    /// an interrupted init leaves a file that `open` refuses, never half a chain.
    fn fresh(
        db: Database,
        init: impl FnOnce(&mut WriteView) -> Result<(), ChainError>,
    ) -> Result<Store, ChainError> {
        let txn = db.begin_write().map_err(db_err)?;
        for t in ALL {
            txn.open_table(t.def()).map_err(db_err)?;
        }
        let mut w = WriteView {
            txn,
            undo: Vec::new(),
        };
        w.put_raw(Tbl::Meta, b"magic", MAGIC)?;
        w.put_raw(Tbl::Meta, b"format_version", &FORMAT_VERSION.to_le_bytes())?;
        init(&mut w)?;
        // Genesis is not undoable: there is nothing before it.
        w.undo.clear();
        w.txn.commit().map_err(db_err)?;
        Ok(Store { db })
    }

    /// Opens an existing state file and checks that it is one, of this version.
    ///
    /// # Errors
    /// [`ChainError::NotFound`] for a missing file, [`ChainError::Foreign`],
    /// [`ChainError::Version`], [`ChainError::Corrupt`], [`ChainError::InUse`].
    pub fn open(path: &Path) -> Result<Store, ChainError> {
        match std::fs::metadata(path) {
            Err(_) => {
                return Err(ChainError::NotFound(format!(
                    "state file {}",
                    path.display()
                )));
            }
            Ok(m) if m.len() == 0 => {
                return Err(ChainError::Foreign(format!(
                    "{} is empty (an interrupted init?); delete it or run `x64vm init --force`",
                    path.display()
                )));
            }
            Ok(_) => {}
        }
        let foreign = || {
            ChainError::Foreign(format!(
                "{} is not an x64vm state file (not a redb database)",
                path.display()
            ))
        };
        let mut head = [0u8; 9];
        let mut file = std::fs::File::open(path)
            .map_err(|e| ChainError::Io(format!("{}: {e}", path.display())))?;
        if std::io::Read::read_exact(&mut file, &mut head).is_err() || head != REDB_MAGIC {
            return Err(foreign());
        }
        drop(file);
        let db = open_guarded(|| builder().open(path)).map_err(|e| match e {
            ChainError::Corrupt(m) if m.contains("magic") => foreign(),
            ChainError::Io(m) => ChainError::Corrupt(m),
            e => e,
        })?;
        let store = Store { db };
        store.check(path)?;
        Ok(store)
    }

    fn check(&self, path: &Path) -> Result<(), ChainError> {
        let r = self.read()?;
        let magic = r.get(Tbl::Meta, b"magic")?;
        if magic.as_deref() != Some(MAGIC) {
            return Err(ChainError::Foreign(format!(
                "{} is a redb database but not an x64vm state file (or its init was interrupted); \
                 delete it or run `x64vm init --force`",
                path.display()
            )));
        }
        let v = r
            .get(Tbl::Meta, b"format_version")?
            .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok())
            .map(u32::from_le_bytes);
        match v {
            Some(FORMAT_VERSION) => Ok(()),
            Some(v) => Err(ChainError::Version(format!(
                "{} has state format version {v}; this x64vm reads version {FORMAT_VERSION} \
                 (dump it with the x64vm that wrote it, then `x64vm load` the dump)",
                path.display()
            ))),
            None => Err(ChainError::Corrupt(format!(
                "{} has no readable format version",
                path.display()
            ))),
        }
    }

    /// A consistent read-only view.
    ///
    /// # Errors
    /// Database failures.
    pub fn read(&self) -> Result<ReadView, ChainError> {
        Ok(ReadView {
            txn: self.db.begin_read().map_err(db_err)?,
        })
    }

    /// A write transaction (waits for the current writer to finish).
    ///
    /// # Errors
    /// Database failures.
    pub fn write(&self) -> Result<WriteView, ChainError> {
        Ok(WriteView {
            txn: self.db.begin_write().map_err(db_err)?,
            undo: Vec::new(),
        })
    }

    /// Overwrites the format version (tests of the version check).
    #[doc(hidden)]
    pub fn set_format_version_for_tests(&self, v: u32) -> Result<(), ChainError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut meta = txn.open_table(Tbl::Meta.def()).map_err(db_err)?;
            meta.insert(b"format_version".as_slice(), v.to_le_bytes().as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }
}

thread_local! {
    /// Set while this thread opens a database under [`open_guarded`].
    static OPENING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs, once, a panic hook that stays silent for panics on a thread in
/// [`open_guarded`] and hands every other panic to the previous hook.
fn quiet_open_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !OPENING.with(|o| o.get()) {
                previous(info);
            }
        }));
    });
}

/// Opens a database, turning a panic inside the database library on a
/// malformed file (redb asserts on some truncated files) into an error: a bad
/// state file must never abort the process.
fn open_guarded(
    f: impl FnOnce() -> Result<Database, redb::DatabaseError> + std::panic::UnwindSafe,
) -> Result<Database, ChainError> {
    quiet_open_panics();
    OPENING.with(|o| o.set(true));
    let r = std::panic::catch_unwind(f);
    OPENING.with(|o| o.set(false));
    match r {
        Ok(r) => r.map_err(db_err),
        Err(_) => Err(ChainError::Corrupt(
            "the database library could not read the file".into(),
        )),
    }
}
