//! Limits and knobs of one run.

/// Configuration of an instance. The defaults suit contracts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Gas available to the run.
    pub gas_limit: u64,
    /// Stack size in bytes (a guard page sits below it).
    pub stack_size: u64,
    /// Heap size in bytes (served by the `alloc` host call).
    pub heap_size: u64,
    /// Upper bound on the whole guest arena (image + input + heap + stack).
    pub memory_limit: u64,
    /// Largest output (or revert data) in bytes.
    pub max_output: u64,
    /// Largest debug output in bytes; more is a trap.
    pub max_debug: u64,
    /// Largest call input in bytes.
    pub max_input: u64,
    /// Refuse pages that are both writable and executable.
    pub enforce_wx: bool,
    /// Largest program file (ELF or packed) an instance is created from, in bytes:
    /// the code size limit at deploy. [`crate::loader::load_elf_with`] checks it
    /// before parsing, [`crate::Instance::new`] against the image's file size.
    pub max_code_size: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gas_limit: 10_000_000_000,
            stack_size: 1 << 20,
            heap_size: 16 << 20,
            memory_limit: 256 << 20,
            max_output: 1 << 20,
            max_debug: 1 << 20,
            max_input: 1 << 20,
            enforce_wx: true,
            max_code_size: 8 << 20,
        }
    }
}
