//! The host-call boundary: what a guest reaches with `int imm8` (and, in the
//! Linux profile, `syscall`).
//!
//! The core services of `x64vm-abi` (input, output, revert, debug, heap, gas)
//! are served by the VM itself, because they only touch the instance. Every
//! other number is passed to the embedder's [`Host`], which is where chains plug
//! in storage, events, context and calls.

use crate::cpu::{Cpu, reg};
use crate::mem::Memory;
use crate::trap::Trap;

/// Gas for crossing the boundary, charged before any service runs.
pub const GAS_HOST_CALL_BASE: u64 = 20;
/// Gas per 32 bytes copied across the boundary (either direction).
pub const GAS_PER_32_BYTES: u64 = 1;
/// Gas per 4 KiB page the heap grows by (memory growth).
pub const GAS_PER_HEAP_PAGE: u64 = 64;
/// Gas per freed block `alloc` examines looking for a fit (the guest controls how
/// fragmented the free list is, so this work is metered).
pub const GAS_PER_FREE_BLOCK_SCANNED: u64 = 1;

/// What the run does after a host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Resume the guest after the `int`.
    Continue,
    /// Stop successfully now (output as set).
    Finish,
    /// Stop and revert with the data set through [`Env::set_revert`].
    Revert,
}

/// What a host sees of the instance during a call: registers, memory and gas.
#[derive(Debug)]
pub struct Env<'a> {
    /// Guest registers; arguments are in RDI, RSI, RDX, RCX, R8, R9.
    pub cpu: &'a mut Cpu,
    /// Guest memory (permissions apply to [`Env::read`] and [`Env::write`]).
    pub mem: &'a mut Memory,
    pub(crate) revert: &'a mut Option<Vec<u8>>,
}

impl Env<'_> {
    /// Argument `n` (0 = RDI, 1 = RSI, 2 = RDX, 3 = RCX, 4 = R8, 5 = R9).
    pub fn arg(&self, n: usize) -> u64 {
        const ORDER: [usize; 6] = [reg::RDI, reg::RSI, reg::RDX, reg::RCX, reg::R8, reg::R9];
        ORDER.get(n).map_or(0, |&r| self.cpu.gpr[r])
    }

    /// Sets the result register RAX.
    pub fn set_result(&mut self, v: u64) {
        self.cpu.gpr[reg::RAX] = v;
    }

    /// Gas remaining.
    pub fn gas_left(&self) -> u64 {
        self.cpu.gas
    }

    /// Charges `gas`; out of gas consumes everything and traps.
    ///
    /// # Errors
    /// [`Trap::OutOfGas`].
    pub fn charge(&mut self, gas: u64) -> Result<(), Trap> {
        if self.cpu.gas < gas {
            self.cpu.gas = 0;
            return Err(Trap::OutOfGas);
        }
        self.cpu.gas -= gas;
        Ok(())
    }

    /// Charges the copy cost of `len` bytes.
    ///
    /// # Errors
    /// [`Trap::OutOfGas`].
    pub fn charge_bytes(&mut self, len: u64) -> Result<(), Trap> {
        self.charge(len.div_ceil(32).saturating_mul(GAS_PER_32_BYTES))
    }

    /// Reads guest bytes (charging for the copy).
    ///
    /// # Errors
    /// A memory trap for unreadable ranges, [`Trap::OutOfGas`].
    pub fn read(&mut self, ptr: u64, len: u64) -> Result<Vec<u8>, Trap> {
        self.charge_bytes(len)?;
        self.mem.read_bytes(ptr, len)
    }

    /// Writes guest bytes (charging for the copy).
    ///
    /// # Errors
    /// A memory trap for unwritable ranges, [`Trap::OutOfGas`].
    pub fn write(&mut self, ptr: u64, bytes: &[u8]) -> Result<(), Trap> {
        self.charge_bytes(bytes.len() as u64)?;
        self.mem.write_bytes(ptr, bytes)
    }

    /// Records revert data; return [`Flow::Revert`] afterwards.
    pub fn set_revert(&mut self, data: Vec<u8>) {
        *self.revert = Some(data);
    }
}

/// The embedder's side of the boundary.
pub trait Host {
    /// Whether this host serves `int number` itself even where the VM has a core
    /// service of that number. A host for a foreign ABI (the Echo profile, whose
    /// numbers overlap the core ones) claims every number; the default claims none.
    fn claims(&self, number: u8) -> bool {
        let _ = number;
        false
    }

    /// Serves `int number` for every number the VM does not serve itself.
    ///
    /// # Errors
    /// A trap ends the run; the default rejects every number.
    fn interrupt(&mut self, number: u8, env: &mut Env<'_>) -> Result<Flow, Trap> {
        let _ = env;
        Err(Trap::InvalidHostCall {
            number,
            reason: "no such service".into(),
        })
    }

    /// Serves the `syscall` instruction. The default (contracts) refuses it.
    ///
    /// # Errors
    /// A trap ends the run.
    fn syscall(&mut self, env: &mut Env<'_>) -> Result<Flow, Trap> {
        let _ = env;
        Err(Trap::SyscallNotAllowed)
    }
}

/// A host with no services beyond the VM's core ones.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHost;

impl Host for NoHost {}
