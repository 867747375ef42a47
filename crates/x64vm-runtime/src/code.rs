//! Contract code: loaded once per code hash (ELF or packed form), kept as an
//! `Arc<Image>` with its parsed ABI, and shared by every call of every contract
//! deployed with that code.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use x64vm::{Image, LoadError};

use crate::Hash;
use crate::abi::{Abi, AbiError};

/// A loaded contract.
#[derive(Debug)]
pub struct Code {
    /// keccak256 of the deployed bytes.
    pub hash: Hash,
    /// The loaded image (entry = the SDK's dispatcher).
    pub image: Arc<Image>,
    /// The embedded ABI description, if the contract has one.
    pub abi: Option<Abi>,
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
        Ok(Code {
            hash: crate::crypto::keccak256(bytes),
            image: Arc::new(image),
            abi,
        })
    }
}

/// Loaded code by hash.
#[derive(Debug, Default)]
pub struct CodeCache {
    map: BTreeMap<Hash, Arc<Code>>,
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
}
