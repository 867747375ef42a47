//! Loading programs: parse and validate an ELF file (or x64vm's packed form of
//! one, see [`packed`]) into an [`Image`], the position-resolved set of segments
//! that instances are created from.

mod elf;
pub mod packed;
pub mod symbols;

pub use elf::load_elf;
pub use packed::{Format, load_any, load_packed, pack};
pub use symbols::Symbols;

use std::fmt;

/// Why a file could not be loaded. Always a clear message, never a panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Not a well-formed file of the expected format.
    Malformed(String),
    /// Well-formed, but something x64vm does not run (wrong machine, dynamic linking...).
    Unsupported(String),
    /// Exceeds a size limit.
    TooLarge(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Malformed(m) => write!(f, "malformed program: {m}"),
            LoadError::Unsupported(m) => write!(f, "unsupported program: {m}"),
            LoadError::TooLarge(m) => write!(f, "program too large: {m}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Checks a program file of `len` bytes against [`crate::Config::max_code_size`].
///
/// # Errors
/// [`LoadError::TooLarge`] when the file is larger than the limit.
pub fn check_code_size(len: u64, config: &crate::Config) -> Result<(), LoadError> {
    if len > config.max_code_size {
        return Err(LoadError::TooLarge(format!(
            "program of {len} bytes exceeds the code size limit of {}",
            config.max_code_size
        )));
    }
    Ok(())
}

/// [`load_elf`] under `config`: refuses a file over `max_code_size` before
/// parsing anything, and enforces W^X as `enforce_wx` says.
///
/// # Errors
/// As [`load_elf`], and [`LoadError::TooLarge`] for a file over the limit.
pub fn load_elf_with(data: &[u8], config: &crate::Config) -> Result<Image, LoadError> {
    check_code_size(data.len() as u64, config)?;
    load_elf(data, config.enforce_wx)
}

/// One loadable segment, already relocated to its final address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Guest address of the first byte.
    pub vaddr: u64,
    /// Bytes present in the file; the rest up to `mem_size` is zero (bss).
    pub data: Vec<u8>,
    /// Size in memory.
    pub mem_size: u64,
    /// Permission bits, see [`crate::mem::perm`].
    pub perms: u8,
}

/// A validated, relocated program ready to be instantiated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// Entry point (the ELF entry).
    pub entry: u64,
    /// Loadable segments.
    pub segments: Vec<Segment>,
    /// Function and object symbols by name (from `.symtab`/`.dynsym`), relocated;
    /// for a packed file, its export table. A map in name order, built in linear
    /// time (see [`Symbols`]).
    pub symbols: Symbols,
    /// Load bias applied (non-zero for static PIE).
    pub bias: u64,
    /// Address of the program headers in memory, if they are loaded (for auxv).
    pub phdr: u64,
    /// Number of program headers.
    pub phnum: u64,
    /// Whether PT_GNU_STACK asks for an executable stack.
    pub exec_stack: bool,
    /// Size of the input file.
    pub file_size: u64,
    /// The contract's ABI text (the `.x64vm.abi` section, see docs/abi.md); empty
    /// when the file has none.
    pub abi: String,
}

impl Image {
    /// Lowest mapped address (page-aligned).
    pub fn low(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| crate::mem::page_down(s.vaddr))
            .min()
            .unwrap_or(0)
    }

    /// One past the highest mapped address (page-aligned).
    pub fn high(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| crate::mem::page_up(s.vaddr + s.mem_size))
            .max()
            .unwrap_or(0)
    }

    /// Resolves an entry symbol name (or a hex/decimal address) to an address.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        if let Some(&a) = self.symbols.get(name) {
            return Some(a);
        }
        name.strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
    }

    /// Whether `addr` lies in an executable segment.
    pub fn is_executable(&self, addr: u64) -> bool {
        self.segments.iter().any(|s| {
            s.perms & crate::mem::perm::X != 0 && addr >= s.vaddr && addr < s.vaddr + s.mem_size
        })
    }
}
