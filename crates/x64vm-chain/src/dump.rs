//! State dump and load: the whole chain as one versioned JSON document.
//!
//! A dump holds the parameters, accounts, code, contracts and aliases,
//! storage, blocks and receipts. It does not hold the undo log, so snapshots
//! are not carried over and `trace -v` cannot re-run transactions made before
//! the load (`trace` without `-v` still shows their recorded call trees).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use x64vm_runtime::Address;

use crate::chain::{Chain, Params};
use crate::error::ChainError;
use crate::receipt::serde_fmt::{dec128, hex32, hexvec};
use crate::receipt::{Block, ContractInfo, Receipt};
use crate::store::{Account, Get, Store, Tbl, WriteView, be, storage_key};

/// The `format` field of every dump.
pub const DUMP_FORMAT: &str = "x64vm-state";
/// The dump layout version this x64vm writes and reads.
pub const DUMP_VERSION: u32 = 1;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpAccount {
    /// Address.
    #[serde(with = "hex32")]
    pub address: Address,
    /// Balance.
    #[serde(with = "dec128")]
    pub balance: u128,
    /// Nonce.
    pub nonce: u64,
}

/// Code by hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpCode {
    /// keccak256 of the bytes.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    /// The bytes.
    #[serde(with = "hexvec")]
    pub code: Vec<u8>,
}

/// A contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpContract {
    /// Address.
    #[serde(with = "hex32")]
    pub address: Address,
    /// Its code.
    #[serde(with = "hex32")]
    pub code_hash: [u8; 32],
    /// Its record (alias, deployer, ...), if it has one.
    pub info: Option<ContractInfo>,
}

/// A storage entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpSlot {
    /// The contract.
    #[serde(with = "hex32")]
    pub contract: Address,
    /// Key.
    #[serde(with = "hexvec")]
    pub key: Vec<u8>,
    /// Value.
    #[serde(with = "hexvec")]
    pub value: Vec<u8>,
}

/// The whole state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dump {
    /// Always [`DUMP_FORMAT`].
    pub format: String,
    /// [`DUMP_VERSION`].
    pub version: u32,
    /// Chain parameters.
    pub params: Params,
    /// The head block number.
    pub head: u64,
    /// The id the next receipt gets.
    pub next_receipt: u64,
    /// Accounts, by address.
    pub accounts: Vec<DumpAccount>,
    /// Code, by hash.
    pub codes: Vec<DumpCode>,
    /// Contracts, by address.
    pub contracts: Vec<DumpContract>,
    /// Storage, by contract and key.
    pub storage: Vec<DumpSlot>,
    /// Blocks, by number.
    pub blocks: Vec<Block>,
    /// Receipts, by id.
    pub receipts: Vec<Receipt>,
}

fn addr(k: &[u8]) -> Result<Address, ChainError> {
    k.try_into()
        .map_err(|_| ChainError::Corrupt("malformed address key".into()))
}

fn corrupt(what: &str, e: serde_json::Error) -> ChainError {
    ChainError::Corrupt(format!("{what}: {e}"))
}

fn bad(m: impl Into<String>) -> ChainError {
    ChainError::BadInput(format!("dump: {}", m.into()))
}

impl Chain {
    /// The whole state as a [`Dump`] (from one consistent snapshot).
    ///
    /// # Errors
    /// Database failures.
    pub fn dump(&self) -> Result<Dump, ChainError> {
        let r = self.store().read()?;
        let mut d = Dump {
            format: DUMP_FORMAT.into(),
            version: DUMP_VERSION,
            params: self.params().clone(),
            head: r.meta_u64("head")?,
            next_receipt: r.meta_u64("next_receipt")?,
            accounts: Vec::new(),
            codes: Vec::new(),
            contracts: Vec::new(),
            storage: Vec::new(),
            blocks: Vec::new(),
            receipts: Vec::new(),
        };
        for (k, v) in r.scan(Tbl::Accounts, &[], usize::MAX)? {
            let a = Account::decode(&v)?;
            d.accounts.push(DumpAccount {
                address: addr(&k)?,
                balance: a.balance,
                nonce: a.nonce,
            });
        }
        for (k, v) in r.scan(Tbl::Code, &[], usize::MAX)? {
            d.codes.push(DumpCode {
                hash: addr(&k)?,
                code: v,
            });
        }
        for (k, v) in r.scan(Tbl::Contracts, &[], usize::MAX)? {
            let info = r
                .get(Tbl::ContractInfo, &k)?
                .map(|i| serde_json::from_slice(&i).map_err(|e| corrupt("contract record", e)))
                .transpose()?;
            d.contracts.push(DumpContract {
                address: addr(&k)?,
                code_hash: addr(&v)?,
                info,
            });
        }
        for (k, v) in r.scan(Tbl::Storage, &[], usize::MAX)? {
            if k.len() < 32 {
                return Err(ChainError::Corrupt("malformed storage key".into()));
            }
            d.storage.push(DumpSlot {
                contract: addr(&k[..32])?,
                key: k[32..].to_vec(),
                value: v,
            });
        }
        for (_, v) in r.scan(Tbl::Blocks, &[], usize::MAX)? {
            d.blocks
                .push(serde_json::from_slice(&v).map_err(|e| corrupt("block", e))?);
        }
        for (_, v) in r.scan(Tbl::Receipts, &[], usize::MAX)? {
            d.receipts
                .push(serde_json::from_slice(&v).map_err(|e| corrupt("receipt", e))?);
        }
        Ok(d)
    }

    /// Parses and checks a dump document.
    ///
    /// # Errors
    /// [`ChainError::BadInput`] for malformed JSON or an inconsistent dump,
    /// [`ChainError::Version`] for another format or version.
    pub fn parse_dump(text: &[u8]) -> Result<Dump, ChainError> {
        let v: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let format = v.get("format").and_then(|f| f.as_str());
        if format != Some(DUMP_FORMAT) {
            return Err(ChainError::Version(format!(
                "not an x64vm state dump (its \"format\" is {}, expected \"{DUMP_FORMAT}\")",
                format.map_or("missing".to_string(), |f| format!("{f:?}"))
            )));
        }
        let version = v.get("version").and_then(|x| x.as_u64());
        if version != Some(u64::from(DUMP_VERSION)) {
            return Err(ChainError::Version(format!(
                "state dump version {}; this x64vm reads version {DUMP_VERSION}",
                version.map_or("missing".to_string(), |x| x.to_string())
            )));
        }
        let d: Dump = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
        d.check()?;
        Ok(d)
    }

    /// Builds a state file from a dump (the file must not exist, unless `force`).
    ///
    /// # Errors
    /// As [`Chain::init`]; [`ChainError::BadInput`] for an inconsistent dump.
    pub fn load(path: &Path, dump: &Dump, force: bool) -> Result<Chain, ChainError> {
        dump.check()?;
        if force && path.exists() {
            std::fs::remove_file(path)
                .map_err(|e| ChainError::Io(format!("{}: {e}", path.display())))?;
        }
        Store::create(path, |w| dump.write(w))?;
        Chain::open(path)
    }

    /// A chain in memory from a dump.
    ///
    /// # Errors
    /// As [`Chain::load`].
    pub fn load_in_memory(dump: &Dump) -> Result<Chain, ChainError> {
        dump.check()?;
        let store = Store::memory(|w| dump.write(w))?;
        Chain::from_store(store)
    }
}

impl Dump {
    /// Checks internal consistency: code hashes, contract code, blocks, receipts.
    ///
    /// # Errors
    /// [`ChainError::BadInput`] naming the first problem.
    pub fn check(&self) -> Result<(), ChainError> {
        let mut hashes = BTreeSet::new();
        for c in &self.codes {
            if x64vm_runtime::crypto::keccak256(&c.code) != c.hash {
                return Err(bad(format!(
                    "code {} does not hash to its key",
                    x64vm_runtime::hex(&c.hash)
                )));
            }
            hashes.insert(c.hash);
        }
        for c in &self.contracts {
            if !hashes.contains(&c.code_hash) {
                return Err(bad(format!(
                    "contract {} refers to missing code",
                    x64vm_runtime::hex(&c.address)
                )));
            }
        }
        let mut prev: Option<&Block> = None;
        for b in &self.blocks {
            if let Some(p) = prev
                && (b.number != p.number + 1 || b.parent_hash != p.hash)
            {
                return Err(bad(format!(
                    "block {} does not follow block {}",
                    b.number, p.number
                )));
            }
            prev = Some(b);
        }
        match (self.blocks.first(), prev) {
            (Some(first), Some(last)) if first.number == 0 && last.number == self.head => {}
            _ => return Err(bad("blocks must run from 0 to the head")),
        }
        let ids: BTreeSet<u64> = self.receipts.iter().map(|r| r.id).collect();
        if ids.iter().any(|&i| i == 0 || i >= self.next_receipt) {
            return Err(bad("receipt ids must be between 1 and next_receipt"));
        }
        if self.params.block_time == 0 {
            return Err(bad("block_time must be positive"));
        }
        Ok(())
    }

    fn write(&self, w: &mut WriteView) -> Result<(), ChainError> {
        w.put(Tbl::Meta, b"params", Some(&to_json(&self.params)?))?;
        w.set_meta_u64("head", self.head)?;
        w.set_meta_u64("next_receipt", self.next_receipt)?;
        for a in &self.accounts {
            w.set_account(
                &a.address,
                Account {
                    balance: a.balance,
                    nonce: a.nonce,
                },
            )?;
        }
        for c in &self.codes {
            w.put(Tbl::Code, &c.hash, Some(&c.code))?;
        }
        for c in &self.contracts {
            w.put(Tbl::Contracts, &c.address, Some(&c.code_hash))?;
            if let Some(info) = &c.info {
                w.put(Tbl::ContractInfo, &c.address, Some(&to_json(info)?))?;
                if let Some(a) = &info.alias {
                    w.put(Tbl::Aliases, a.as_bytes(), Some(&c.address))?;
                }
            }
        }
        for s in &self.storage {
            w.put(
                Tbl::Storage,
                &storage_key(&s.contract, &s.key),
                Some(&s.value),
            )?;
        }
        for b in &self.blocks {
            w.put(Tbl::Blocks, &be(b.number), Some(&to_json(b)?))?;
        }
        for r in &self.receipts {
            w.put(Tbl::Receipts, &be(r.id), Some(&to_json(r)?))?;
        }
        Ok(())
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ChainError> {
    serde_json::to_vec(v).map_err(|e| ChainError::Db(format!("encoding: {e}")))
}
