//! Runs a [`Case`] in the x64vm interpreter with the same memory layout as the
//! native runner.

use x64vm::Memory;
use x64vm::cpu::Cpu;
use x64vm::interp::{CodeCache, NoTrace, Stop, run};
use x64vm::mem::perm;
use x64vm::trap::Trap;

use crate::proto::{CODE_BASE, CODE_SIZE, Case, DATA_BASE, DATA_SIZE, End, Outcome};

/// Gas given to every case: far more than any snippet needs, little enough that
/// a runaway loop stops within milliseconds.
pub const GAS: u64 = 1 << 22;

/// A reusable VM memory arena covering the code and data regions.
#[derive(Debug)]
pub struct VmHarness {
    mem: Memory,
}

impl Default for VmHarness {
    fn default() -> Self {
        Self::new()
    }
}

impl VmHarness {
    /// An arena from [`CODE_BASE`] to the end of the data region; code R+X, data RW,
    /// everything between inaccessible.
    pub fn new() -> Self {
        let mut mem = Memory::new(CODE_BASE, DATA_BASE + DATA_SIZE - CODE_BASE)
            .expect("test arena is addressable");
        mem.protect(CODE_BASE, CODE_SIZE, perm::RX)
            .expect("code region inside the arena");
        mem.protect(DATA_BASE, DATA_SIZE, perm::RW)
            .expect("data region inside the arena");
        VmHarness { mem }
    }

    /// Runs `case` from a fresh CPU and fresh code cache.
    pub fn run(&mut self, case: &Case) -> Outcome {
        let mem = &mut self.mem;
        mem.fill(CODE_BASE, CODE_SIZE, 0).expect("code region");
        mem.load(CODE_BASE, &case.code)
            .expect("snippet fits the code region");
        mem.load(case.end(), &[0xf4])
            .expect("hlt fits the code region");
        mem.fill(DATA_BASE, DATA_SIZE, 0).expect("data region");
        mem.load(DATA_BASE, &case.data)
            .expect("data fits the data region");
        let mut cpu = Cpu::default();
        cpu.gpr = case.gpr;
        cpu.rip = CODE_BASE;
        cpu.gas = GAS;
        cpu.set_rflags(case.rflags);
        let stop = run(&mut cpu, mem, &mut CodeCache::default(), &mut NoTrace);
        let end = match stop {
            Stop::Trap(Trap::Halt) if cpu.rip == case.end() => End::Completed,
            Stop::Trap(t) => End::Trap(t),
            other => End::Other(format!("{other:?}")),
        };
        let data = mem
            .read_bytes(DATA_BASE, DATA_SIZE)
            .expect("data region is readable");
        Outcome {
            end,
            rip: cpu.rip,
            gpr: cpu.gpr,
            rflags: cpu.rflags(),
            data,
        }
    }
}
