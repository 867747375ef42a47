//! Instances: an image laid out in guest memory, ready to run one call.
//!
//! Contract layout (low to high addresses):
//!
//! ```text
//!   image segments      [low, high)          as the ELF says
//!   guard page
//!   call input          read-only
//!   guard page
//!   heap                read/write           served by `alloc`/`free`
//!   guard page
//!   stack guard region  faults as stack_overflow; as large as the stack (up to
//!                       1 MiB), so a big frame cannot jump it into the heap
//!   stack               read/write           grows down from the top
//! ```

use x64vm_abi as abi;

use crate::config::Config;
use crate::cpu::{Cpu, reg};
use crate::disasm::disassemble_at;
use crate::heap::{Heap, HeapError};
use crate::host::{
    Env, Flow, GAS_HOST_CALL_BASE, GAS_PER_FREE_BLOCK_SCANNED, GAS_PER_HEAP_PAGE, Host,
};
use crate::interp::{self, CodeCache, NoTrace, Stop, Tracer};
use crate::loader::{Image, LoadError};
use crate::mem::{Memory, PAGE_SIZE, page_up, perm};
use crate::trap::{Access, Trap, TrapReport};

/// Size of the guard region below the stack: the stack's own size, from one page
/// up to 1 MiB. Any frame that fits in the stack and overflows it faults in the
/// guard rather than landing in the heap below (stack clash).
fn stack_guard_size(config: &Config) -> u64 {
    page_up(config.stack_size.min(1 << 20)).max(PAGE_SIZE)
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The entry returned (or `finish` was called).
    Success,
    /// The guest called `revert`.
    Reverted,
    /// A trap.
    Trapped(TrapReport),
}

impl Status {
    /// A short stable name: `success`, `reverted` or the trap kind.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Reverted => "reverted",
            Status::Trapped(t) => t.trap.kind(),
        }
    }
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// Gas consumed (all of it on out_of_gas).
    pub gas_used: u64,
    /// The output: what the guest set with `output`/`finish`, the revert data,
    /// or RAX as 8 little-endian bytes when it set nothing.
    pub output: Vec<u8>,
    /// Whether the guest set the output explicitly.
    pub output_set: bool,
    /// RAX at the end.
    pub rax: u64,
    /// Bytes written with the `debug` service.
    pub debug: Vec<u8>,
    /// Instructions retired (counted per block entered).
    pub instructions: u64,
}

/// Addresses of the regions of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Start of the input region.
    pub input: u64,
    /// Start of the heap.
    pub heap_start: u64,
    /// End of the heap.
    pub heap_end: u64,
    /// Lowest stack address (above the guard page).
    pub stack_low: u64,
    /// Initial stack pointer before the return address is pushed.
    pub stack_top: u64,
}

/// One instance of a program: memory, registers, decoded code, and the state of
/// the call in progress.
#[derive(Debug)]
pub struct Instance {
    /// Registers.
    pub cpu: Cpu,
    /// Memory.
    pub mem: Memory,
    /// Where things are.
    pub layout: Layout,
    cache: CodeCache,
    heap: Heap,
    heap_charged_to: u64,
    config: Config,
    /// Bytes of the arena the image's file data occupies (resident from the start).
    image_bytes: u64,
    input: Vec<u8>,
    output: Option<Vec<u8>>,
    revert: Option<Vec<u8>>,
    debug: Vec<u8>,
}

impl Instance {
    /// Lays `image` out in a fresh arena with `input` in its read-only region.
    ///
    /// # Errors
    /// [`LoadError::TooLarge`] when the layout exceeds the memory limit, the input
    /// `max_input`, or the program file (`image.file_size`) `max_code_size`.
    pub fn new(image: &Image, config: &Config, input: &[u8]) -> Result<Self, LoadError> {
        crate::loader::check_code_size(image.file_size, config)?;
        if input.len() as u64 > config.max_input {
            return Err(LoadError::TooLarge(format!(
                "input of {} bytes exceeds the limit of {}",
                input.len(),
                config.max_input
            )));
        }
        let low = image.low();
        let high = image.high();
        let input_addr = high + PAGE_SIZE;
        // The input region has room for the largest input, so the layout does not
        // depend on the input and an instance can be reused for the next call.
        let heap_start = input_addr + page_up(config.max_input.max(1)) + PAGE_SIZE;
        let heap_end = heap_start + page_up(config.heap_size);
        let stack_low = heap_end + PAGE_SIZE + stack_guard_size(config);
        let stack_top = stack_low + page_up(config.stack_size.max(PAGE_SIZE));
        let total = stack_top - low;
        if total > config.memory_limit {
            return Err(LoadError::TooLarge(format!(
                "instance needs {total} bytes of address space, limit is {}",
                config.memory_limit
            )));
        }
        let mut mem = Memory::new(low, total).map_err(LoadError::TooLarge)?;
        let io = |e: String| LoadError::Malformed(e);
        for s in &image.segments {
            mem.load(s.vaddr, &s.data).map_err(io)?;
        }
        // Permissions after the data: pages shared by two segments get the union.
        // An empty segment maps nothing (not even the page its address falls in).
        for s in image.segments.iter().filter(|s| s.mem_size > 0) {
            let mut p = s.perms;
            let first = crate::mem::page_down(s.vaddr);
            let mut a = first;
            while a < s.vaddr + s.mem_size {
                p |= mem.perms_at(a) & !perm::GUARD;
                if config.enforce_wx && p & perm::W != 0 && p & perm::X != 0 {
                    return Err(LoadError::Unsupported(format!(
                        "page {a:#x} would be writable and executable (W^X)"
                    )));
                }
                mem.protect(a, PAGE_SIZE, p).map_err(io)?;
                p = s.perms;
                a += PAGE_SIZE;
            }
        }
        mem.load(input_addr, input).map_err(io)?;
        mem.protect(input_addr, input.len().max(1) as u64, perm::R)
            .map_err(io)?;
        mem.protect(heap_start, heap_end - heap_start, perm::RW)
            .map_err(io)?;
        let guard = stack_guard_size(config);
        mem.protect(stack_low - guard, guard, perm::GUARD)
            .map_err(io)?;
        mem.protect(stack_low, stack_top - stack_low, perm::RW)
            .map_err(io)?;
        let layout = Layout {
            input: input_addr,
            heap_start,
            heap_end,
            stack_low,
            stack_top,
        };
        // From here on, record written pages so `reset` can undo a call cheaply.
        // Only the bytes the segments brought from the file are saved: everything
        // else writable (`.bss`, heap, stack) is zero now and restores to zero.
        let loaded: Vec<(u64, u64)> = image
            .segments
            .iter()
            .map(|s| (s.vaddr, s.vaddr.saturating_add(s.data.len() as u64)))
            .collect();
        mem.track_writes(&loaded);
        Ok(Instance {
            cpu: Cpu::default(),
            mem,
            layout,
            cache: CodeCache::default(),
            heap: Heap::new(heap_start, heap_end),
            heap_charged_to: heap_start,
            config: config.clone(),
            image_bytes: loaded.iter().map(|(a, b)| page_up(b - a)).sum(),
            input: input.to_vec(),
            output: None,
            revert: None,
            debug: Vec::new(),
        })
    }

    /// Makes this instance equivalent to `Instance::new(image, config, input)` for
    /// the same image and config, in time proportional to the pages the previous
    /// call wrote (the decoded code is kept: contract code pages are read-only).
    /// This is what makes calling a cached contract cheap.
    ///
    /// # Errors
    /// [`LoadError::TooLarge`] when the input exceeds `max_input`.
    pub fn reset(&mut self, input: &[u8]) -> Result<(), LoadError> {
        if input.len() as u64 > self.config.max_input {
            return Err(LoadError::TooLarge(format!(
                "input of {} bytes exceeds the limit of {}",
                input.len(),
                self.config.max_input
            )));
        }
        self.mem.restore();
        if self.mem.take_code_dirty() {
            // A writable code page (W^X off) went back to its old bytes: code decoded
            // from what the last call wrote there must not run in the next one.
            self.cache.clear();
        }
        let io = |e: String| LoadError::Malformed(e);
        let at = self.layout.input;
        self.mem
            .fill(at, page_up(self.input.len().max(1) as u64), 0)
            .map_err(io)?;
        self.mem
            .protect(at, page_up(self.input.len().max(1) as u64), 0)
            .map_err(io)?;
        self.mem.load(at, input).map_err(io)?;
        self.mem
            .protect(at, input.len().max(1) as u64, perm::R)
            .map_err(io)?;
        self.heap = Heap::new(self.layout.heap_start, self.layout.heap_end);
        self.heap_charged_to = self.layout.heap_start;
        self.input.clear();
        self.input.extend_from_slice(input);
        self.output = None;
        self.revert = None;
        self.debug.clear();
        self.cpu = Cpu::default();
        Ok(())
    }

    /// Sets when blocks are compiled to host code: after `Some(n)` dispatches
    /// from the loop (`Some(1)`: at once), or never (`None`). The default is
    /// [`crate::interp::JIT_THRESHOLD`]. Results, gas and state are the same
    /// either way (tests/jit.rs); this is for tests and benchmarks.
    pub fn set_jit(&mut self, threshold: Option<u32>) {
        self.cache.set_jit(threshold);
    }

    /// What the block compiler of this instance has done.
    pub fn jit_stats(&self) -> crate::interp::JitStats {
        self.cache.jit_stats()
    }

    /// The configuration this instance was created with (its `gas_limit` as last
    /// set, see [`Instance::set_gas_limit`]).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets the gas the next call gets (read by [`Instance::prepare_call`]), so
    /// that a reused instance can run calls with different limits. Nothing else
    /// depends on the limit: an instance created with `gas` behaves the same.
    pub fn set_gas_limit(&mut self, gas: u64) {
        self.config.gas_limit = gas;
    }

    /// An estimate of the host memory this instance keeps while it waits to be
    /// reused, in bytes: the pages dirty tracking saved and those the calls so
    /// far wrote (they stay resident), the image bytes laid out in the arena,
    /// the decoded blocks and the compiled code. For bounding caches of
    /// instances; not exact.
    pub fn retained_bytes(&self) -> u64 {
        /// Host bytes per decoded block: its instructions and lookup entries (a
        /// block averages well under ten instructions).
        const PER_BLOCK: u64 = 512;
        // The decoder's fixed lookup table and the per-page permission bytes.
        let fixed = 64 * 1024 + (self.mem.end() - self.mem.base()) / PAGE_SIZE;
        let input = page_up(self.input.len() as u64);
        fixed
            + self.mem.retained_bytes()
            + self.image_bytes
            + input
            + self.cache.len() as u64 * PER_BLOCK
            + self.cache.jit_retained_bytes()
    }

    /// An instance over memory that the caller has laid out (the Linux profile).
    pub(crate) fn from_memory(mem: Memory, layout: Layout, config: &Config) -> Self {
        Instance {
            cpu: Cpu::default(),
            mem,
            layout,
            cache: CodeCache::default(),
            heap: Heap::new(layout.heap_start, layout.heap_start),
            heap_charged_to: layout.heap_start,
            config: config.clone(),
            image_bytes: 0,
            input: Vec::new(),
            output: None,
            revert: None,
            debug: Vec::new(),
        }
    }

    /// Prepares a call of `entry`: pushes the null return address and passes
    /// either `args` (integers in RDI, RSI, RDX, RCX, R8, R9) or, when `args` is
    /// empty, the input pointer and length in RDI and RSI.
    pub fn prepare_call(&mut self, entry: u64, args: &[u64]) -> Result<(), Trap> {
        let mut cpu = Cpu::default();
        cpu.gas = self.config.gas_limit;
        // Output, revert data and debug output belong to one call.
        self.output = None;
        self.revert = None;
        self.debug.clear();
        let sp = self.layout.stack_top - 8;
        self.mem.write_u64(sp, 0)?;
        cpu.gpr[reg::RSP] = sp;
        cpu.rip = entry;
        if args.is_empty() {
            cpu.gpr[reg::RDI] = self.layout.input;
            cpu.gpr[reg::RSI] = self.input.len() as u64;
        } else {
            let order = [reg::RDI, reg::RSI, reg::RDX, reg::RCX, reg::R8, reg::R9];
            for (&r, &v) in order.iter().zip(args) {
                cpu.gpr[r] = v;
            }
        }
        self.cpu = cpu;
        Ok(())
    }

    /// Runs until the call ends.
    pub fn run(&mut self, host: &mut dyn Host) -> Outcome {
        self.run_with(host, &mut NoTrace)
    }

    /// Runs with a tracer observing every instruction.
    pub fn run_with<T: Tracer>(&mut self, host: &mut dyn Host, tracer: &mut T) -> Outcome {
        let status = loop {
            match interp::run(&mut self.cpu, &mut self.mem, &mut self.cache, tracer) {
                // Address 0 is the return sentinel pushed by `prepare_call`: only a
                // return that pops it (leaving RSP at the stack top) is success. A
                // null function pointer or a jump to 0 faults like any unmapped fetch.
                Stop::Returned if self.cpu.gpr[reg::RSP] == self.layout.stack_top => {
                    break Status::Success;
                }
                Stop::Returned => {
                    let t = Trap::MemoryOutOfBounds {
                        addr: 0,
                        size: 1,
                        access: Access::Execute,
                    };
                    break self.trapped(t, 0);
                }
                Stop::Trap(t) => break self.trapped(t, self.cpu.rip),
                Stop::Interrupt(n, at) => match self.host_call(n, host) {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Finish) => break Status::Success,
                    Ok(Flow::Revert) => break Status::Reverted,
                    Err(t) => break self.trapped(t, at),
                },
                Stop::Syscall(at) => {
                    let mut env = Env {
                        cpu: &mut self.cpu,
                        mem: &mut self.mem,
                        revert: &mut self.revert,
                    };
                    match host.syscall(&mut env) {
                        Ok(Flow::Continue) => {}
                        Ok(Flow::Finish) => break Status::Success,
                        Ok(Flow::Revert) => break Status::Reverted,
                        Err(t) => break self.trapped(t, at),
                    }
                }
            }
        };
        self.outcome(status)
    }

    fn trapped(&self, trap: Trap, rip: u64) -> Status {
        let instruction = disassemble_at(&self.mem, rip);
        Status::Trapped(TrapReport {
            trap,
            rip,
            instruction,
        })
    }

    fn outcome(&mut self, status: Status) -> Outcome {
        let rax = self.cpu.gpr[reg::RAX];
        let (output, output_set) = match (&status, &self.revert, &self.output) {
            (Status::Reverted, Some(r), _) => (r.clone(), true),
            (Status::Success, _, Some(o)) => (o.clone(), true),
            (Status::Success, _, None) => (rax.to_le_bytes().to_vec(), false),
            _ => (Vec::new(), false),
        };
        Outcome {
            status,
            gas_used: self.config.gas_limit - self.cpu.gas,
            output,
            output_set,
            rax,
            debug: std::mem::take(&mut self.debug),
            instructions: self.cpu.retired,
        }
    }

    /// Serves `int n`: core services here, the rest through `host`.
    fn host_call(&mut self, n: u8, host: &mut dyn Host) -> Result<Flow, Trap> {
        let mut env = Env {
            cpu: &mut self.cpu,
            mem: &mut self.mem,
            revert: &mut self.revert,
        };
        env.charge(GAS_HOST_CALL_BASE)?;
        if host.claims(n) {
            return host.interrupt(n, &mut env);
        }
        let too_big = |what: &str, len: u64, max: u64| {
            Trap::LimitExceeded(format!("{what} of {len} bytes exceeds the limit of {max}"))
        };
        match n {
            abi::INPUT_LEN => env.set_result(self.input.len() as u64),
            abi::INPUT_READ => {
                let (dst, off, len) = (env.arg(0), env.arg(1), env.arg(2));
                let avail = (self.input.len() as u64).saturating_sub(off);
                let n = len.min(avail);
                if n > 0 {
                    let start = off as usize;
                    let bytes = self.input[start..start + n as usize].to_vec();
                    env.write(dst, &bytes)?;
                }
                env.set_result(n);
            }
            abi::OUTPUT | abi::FINISH | abi::REVERT => {
                let (ptr, len) = (env.arg(0), env.arg(1));
                if len > self.config.max_output {
                    return Err(too_big("output", len, self.config.max_output));
                }
                let data = env.read(ptr, len)?;
                env.set_result(0);
                match n {
                    abi::OUTPUT => self.output = Some(data),
                    abi::FINISH => {
                        self.output = Some(data);
                        return Ok(Flow::Finish);
                    }
                    _ => {
                        env.set_revert(data);
                        return Ok(Flow::Revert);
                    }
                }
            }
            abi::DEBUG => {
                let (ptr, len) = (env.arg(0), env.arg(1));
                let total = (self.debug.len() as u64).saturating_add(len);
                if total > self.config.max_debug {
                    return Err(too_big("debug output", total, self.config.max_debug));
                }
                let data = env.read(ptr, len)?;
                self.debug.extend_from_slice(&data);
                env.set_result(0);
            }
            abi::ALLOC => {
                let (size, align) = (env.arg(0), env.arg(1));
                let ptr = match self.heap.alloc(size, align) {
                    Ok(p) => p.unwrap_or(0),
                    Err(HeapError::BadAlignment(a)) => {
                        return Err(Trap::InvalidHostCall {
                            number: n,
                            reason: format!("alignment {a} is not a power of two up to 1 MiB"),
                        });
                    }
                    Err(e) => return Err(Trap::HostError(format!("{e:?}"))),
                };
                let scanned = self.heap.last_alloc_work();
                env.charge(scanned.saturating_mul(GAS_PER_FREE_BLOCK_SCANNED))?;
                // Memory growth: charge for heap pages touched for the first time.
                let top = page_up(self.heap.top());
                if top > self.heap_charged_to {
                    let pages = (top - self.heap_charged_to) / PAGE_SIZE;
                    env.charge(pages.saturating_mul(GAS_PER_HEAP_PAGE))?;
                    self.heap_charged_to = top;
                }
                env.set_result(ptr);
            }
            abi::FREE => {
                let ptr = env.arg(0);
                self.heap.free(ptr).map_err(|_| Trap::InvalidHostCall {
                    number: n,
                    reason: format!("free of {ptr:#x}, which is not a live allocation"),
                })?;
                env.set_result(0);
            }
            abi::GAS_LEFT => {
                let g = env.gas_left();
                env.set_result(g);
            }
            _ => return host.interrupt(n, &mut env),
        }
        Ok(Flow::Continue)
    }

    /// Number of decoded blocks cached so far.
    pub fn cached_blocks(&self) -> usize {
        self.cache.len()
    }
}
