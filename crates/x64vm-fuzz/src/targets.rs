//! The target bodies. Each takes raw bytes and panics only on a finding.

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use iced_x86::{Decoder, DecoderOptions, Instruction};
use x64vm::cpu::reg;
use x64vm::cpu_x87::X87;
use x64vm::interp::Tracer;
use x64vm::ir::Inst;
use x64vm::linux::{LinuxConfig, LinuxHost, spawn};
use x64vm::loader::{Image, Segment};
use x64vm::mem::{PAGE_SIZE, page_up, perm};
use x64vm::{
    Config, Cpu, Env, Flow, Host, Instance, Layout, Memory, NoHost, Outcome, Status, Trap, load_elf,
};
use x64vm_abi as abi;

/// Where generated code is placed (read + execute).
pub const CODE: u64 = 0x40_1000;
/// Where the data segment of generated programs starts (read + write): close
/// to the code, so that the image (which instances copy) has no large gap.
pub const DATA: u64 = 0x40_8000;
/// Size of that data segment.
pub const DATA_SIZE: u64 = 0x4000;
/// Room reserved for generated host-call and syscall scripts.
const SCRIPT_CAP: u64 = 0x4000;
/// Most bytes of raw code the `exec` target runs.
const MAX_CODE: usize = 4096;
/// The call input of every run.
const INPUT: &[u8] = b"fuzz input: 0123456789abcdef";

/// Limits small enough that one fuzz execution takes well under a millisecond.
fn small_config(gas: u64) -> Config {
    Config {
        gas_limit: gas,
        stack_size: 64 << 10,
        heap_size: 64 << 10,
        memory_limit: 64 << 20,
        max_output: 4096,
        max_debug: 4096,
        max_input: 4096,
        ..Config::default()
    }
}

/// Everything observable about a finished run.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    outcome: Outcome,
    gpr: [u64; 16],
    rip: u64,
    rflags: u64,
    xmm: [u128; 16],
    mxcsr: u32,
    fs_base: u64,
    gs_base: u64,
    x87: X87,
    /// Hash of every readable page and of every page's permissions.
    memory: u64,
}

/// A word-at-a-time hash of the arena: contents of readable pages, and all perms.
fn memory_hash(mem: &Memory) -> u64 {
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    let mut h = 0u64;
    let mut a = mem.base();
    while a < mem.end() {
        // Only what the guest can observe; the other bits are the VM's bookkeeping.
        let p = mem.perms_at(a) & (perm::R | perm::W | perm::X | perm::GUARD);
        h = mix(h, u64::from(p));
        if p & perm::R != 0
            && let Ok(page) = mem.slice(a, PAGE_SIZE)
        {
            for w in page.chunks_exact(8) {
                let mut b = [0u8; 8];
                b.copy_from_slice(w);
                h = mix(h, u64::from_le_bytes(b));
            }
        }
        a += PAGE_SIZE;
    }
    h
}

fn snapshot(cpu: &Cpu, mem: &Memory, outcome: Outcome) -> Snapshot {
    Snapshot {
        outcome,
        gpr: cpu.gpr,
        rip: cpu.rip,
        rflags: cpu.rflags(),
        xmm: cpu.xmm,
        mxcsr: cpu.mxcsr,
        fs_base: cpu.fs_base,
        gs_base: cpu.gs_base,
        x87: cpu.x87.clone(),
        memory: memory_hash(mem),
    }
}

/// The invariants of any finished run under `cfg`.
fn check_outcome(out: &Outcome, cfg: &Config) {
    assert!(
        out.gas_used <= cfg.gas_limit,
        "used {} gas of {}",
        out.gas_used,
        cfg.gas_limit
    );
    if let Status::Trapped(t) = &out.status {
        if t.trap == Trap::OutOfGas {
            assert_eq!(
                out.gas_used, cfg.gas_limit,
                "out of gas consumes everything"
            );
        }
        // The report must format (it disassembles guest memory).
        assert!(!t.to_string().is_empty());
    }
    if out.output_set {
        assert!(
            out.output.len() as u64 <= cfg.max_output,
            "output over the limit"
        );
    }
    assert!(
        out.debug.len() as u64 <= cfg.max_debug,
        "debug over the limit"
    );
}

/// A tracer that counts, so that the traced loop is compared with the plain one.
#[derive(Default)]
struct Counter {
    before: u64,
    after: u64,
}

impl Tracer for Counter {
    const ENABLED: bool = true;
    fn before(&mut self, _: &Cpu, _: &Memory, _: &Inst) {
        self.before += 1;
    }
    fn after(&mut self, _: &Cpu, _: &Memory, _: &Inst) {
        self.after += 1;
    }
}

/// Creates an instance of `image`, calls `entry` after `setup`, and snapshots the end.
/// `None` when the instance cannot be created (which must then be stable too).
fn run_once(
    image: &Image,
    cfg: &Config,
    entry: u64,
    setup: &dyn Fn(&mut Instance),
    host: &mut dyn Host,
    traced: bool,
) -> Result<Snapshot, String> {
    run_compiled(image, cfg, entry, setup, host, traced, None)
}

/// [`run_once`] with the block compiler set up by `Instance::set_jit(jit)`
/// (`None`: the default threshold). The compiler must never produce code the
/// host assembler rejects.
fn run_compiled(
    image: &Image,
    cfg: &Config,
    entry: u64,
    setup: &dyn Fn(&mut Instance),
    host: &mut dyn Host,
    traced: bool,
    jit: Option<Option<u32>>,
) -> Result<Snapshot, String> {
    let mut inst = Instance::new(image, cfg, INPUT).map_err(|e| e.to_string())?;
    if let Some(j) = jit {
        inst.set_jit(j);
    }
    inst.prepare_call(entry, &[]).map_err(|t| t.to_string())?;
    setup(&mut inst);
    let out = if traced {
        let mut c = Counter::default();
        let out = inst.run_with(host, &mut c);
        // Instructions that leave the loop (traps, `int`, `syscall`) get no `after`.
        assert!(c.after <= c.before);
        out
    } else {
        inst.run(host)
    };
    check_outcome(&out, cfg);
    assert_eq!(
        inst.jit_stats().errors,
        0,
        "the block compiler produced code the assembler rejects"
    );
    Ok(snapshot(&inst.cpu, &inst.mem, out))
}

/// Runs twice in fresh instances (the second traced when `trace_second`) and
/// requires identical results.
fn run_twice(
    image: &Image,
    cfg: &Config,
    entry: u64,
    setup: &dyn Fn(&mut Instance),
    host: &mut dyn FnMut() -> Box<dyn Host>,
    trace_second: bool,
) {
    let a = run_once(image, cfg, entry, setup, &mut *host(), false);
    let b = run_once(image, cfg, entry, setup, &mut *host(), trace_second);
    assert_eq!(a, b, "two runs of the same program disagree");
}

/// An image of a code segment at [`CODE`] (`cap` bytes in memory) and a data
/// segment at [`DATA`].
fn image_of(code: &[u8], cap: u64, code_perms: u8, data: &[u8]) -> Image {
    Image {
        entry: CODE,
        segments: vec![
            Segment {
                vaddr: CODE,
                data: code.to_vec(),
                mem_size: page_up(cap.max(code.len() as u64).max(1)),
                perms: code_perms,
            },
            Segment {
                vaddr: DATA,
                data: data.to_vec(),
                mem_size: DATA_SIZE,
                perms: perm::RW,
            },
        ],
        ..Image::default()
    }
}

/// The structural invariants of a loaded image.
fn check_image(image: &Image) {
    assert!(image.is_executable(image.entry), "entry not executable");
    assert!(!image.segments.is_empty());
    for s in &image.segments {
        assert!(
            s.data.len() as u64 <= s.mem_size,
            "segment data beyond its size"
        );
        assert!(s.vaddr >= 0x1000 && s.vaddr + s.mem_size <= 1 << 47);
    }
    for w in image.segments.windows(2) {
        assert!(w[0].vaddr + w[0].mem_size <= w[1].vaddr, "segments overlap");
    }
}

/// Runs `image`'s entry twice under a small gas cap.
fn run_image(image: &Image, wx: bool) {
    check_image(image);
    let cfg = Config {
        enforce_wx: wx,
        ..small_config(20_000)
    };
    run_twice(
        image,
        &cfg,
        image.entry,
        &|_| {},
        &mut || Box::new(NoHost),
        false,
    );
}

/// ELF loader: arbitrary files never panic (with and without W^X); what loads
/// is well formed and runs deterministically under a gas cap.
pub fn elf_load(data: &[u8]) {
    let strict = load_elf(data, true);
    let lax = load_elf(data, false);
    if let Ok(s) = &strict {
        // W^X only ever refuses files; what it accepts loads the same without it.
        assert_eq!(lax.as_ref().ok(), Some(s), "W^X changed a loaded image");
    }
    match (strict, lax) {
        (Ok(i), _) => run_image(&i, true),
        (Err(_), Ok(i)) => run_image(&i, false),
        (Err(a), Err(b)) => assert!(!a.to_string().is_empty() && !b.to_string().is_empty()),
    }
}

/// The packed contract format (`x64vm::loader::packed`):
///
/// - the bytes as a packed file: a file that parses re-serialises to a file that
///   parses the same, and its image runs deterministically;
/// - `load_any` agrees with the loader of the format it detects;
/// - the bytes as an ELF file to pack: what packs loads back, and (when the ELF
///   has no empty segments, which packing drops) runs exactly as the ELF does.
pub fn packed_load(data: &[u8]) {
    use x64vm::loader::packed::{Format, parse_packed};
    use x64vm::{load_any, load_packed, pack};
    match parse_packed(data) {
        Ok(p) => {
            let again = p.to_bytes().expect("a parsed file re-serialises");
            assert_eq!(
                parse_packed(&again).as_ref(),
                Ok(&p),
                "re-serialised file differs"
            );
            let image = load_packed(data).expect("parsed, so it loads");
            run_image(&image, true);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let any = load_any(data);
    match Format::detect(data) {
        Format::Elf => assert_eq!(any, load_elf(data, true)),
        Format::Packed => assert_eq!(any, load_packed(data)),
        _ => assert!(any.is_err()),
    }
    if Format::detect(data) == Format::Elf
        && let Ok(packed) = pack(data)
    {
        let elf_image = load_elf(data, true).expect("packed, so it loads");
        let image = load_packed(&packed).expect("pack output loads");
        assert_eq!(image.entry, elf_image.entry);
        if elf_image.segments.iter().all(|s| s.mem_size > 0) {
            let cfg = small_config(20_000);
            let a = run_once(
                &elf_image,
                &cfg,
                elf_image.entry,
                &|_| {},
                &mut NoHost,
                false,
            );
            let b = run_once(&image, &cfg, image.entry, &|_| {}, &mut NoHost, false);
            assert_eq!(a, b, "the packed contract runs differently from its ELF");
        }
    }
}

/// Scratch memory for single-instruction runs: 8 pages at [`SCRATCH`], the first
/// six read/write, then one read-only page and one guard page.
const SCRATCH: u64 = 0x10_0000;

fn scratch(seed: u64) -> (Cpu, Memory) {
    let mut rng = crate::Rng::new(seed);
    let mut mem = Memory::new(SCRATCH, 8 * PAGE_SIZE).expect("scratch arena");
    let fill: Vec<u8> = (0..7 * PAGE_SIZE).map(|_| rng.next_u64() as u8).collect();
    mem.load(SCRATCH, &fill).expect("scratch fill");
    mem.protect(SCRATCH, 6 * PAGE_SIZE, perm::RW).expect("rw");
    mem.protect(SCRATCH + 6 * PAGE_SIZE, PAGE_SIZE, perm::R)
        .expect("r");
    mem.protect(SCRATCH + 7 * PAGE_SIZE, PAGE_SIZE, perm::GUARD)
        .expect("guard");
    let mut cpu = Cpu::default();
    for (k, r) in cpu.gpr.iter_mut().enumerate() {
        let v = rng.next_u64();
        *r = match v % 4 {
            // Pointers into the arena, some near its edges.
            0 | 1 => SCRATCH + (v >> 8) % (8 * PAGE_SIZE),
            2 => (v >> 8) % 70,
            _ => v.rotate_left(k as u32),
        };
    }
    cpu.gpr[reg::RSP] = SCRATCH + 3 * PAGE_SIZE;
    for x in cpu.xmm.iter_mut() {
        *x = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    }
    cpu.gas = 1 << 20;
    (cpu, mem)
}

/// Readable contents and permissions of the scratch arena.
fn scratch_view(mem: &Memory) -> Vec<u8> {
    let mut v = Vec::new();
    let mut a = mem.base();
    while a < mem.end() {
        v.push(mem.perms_at(a));
        if let Ok(s) = mem.slice(a, PAGE_SIZE) {
            v.extend_from_slice(s);
        }
        a += PAGE_SIZE;
    }
    v
}

/// Executes `inst` with its selected step handler (a specialised one from
/// `isa::fast` where there is one) and with the generic one, from the same state:
/// both must do exactly the same. (The threaded handlers, and the `isa::hot` ones
/// whose step is the generic one, are compared with it by the VM's tests
/// `fast_paths.rs`, `fused.rs` and `determinism.rs`.)
fn handlers_agree(inst: &Inst, seed: u64) {
    let (cpu, mem) = scratch(seed);
    let (mut c1, mut m1) = (cpu.clone(), mem.clone());
    let (mut c2, mut m2) = (cpu, mem);
    c1.rip = inst.next();
    c2.rip = inst.next();
    let r1 = format!("{:?}", (inst.handler)(&mut c1, &mut m1, inst));
    let r2 = format!("{:?}", x64vm::isa::exec(&mut c2, &mut m2, inst));
    let text = format!("{:?} at {:#x}", inst.op, inst.addr);
    assert_eq!(r1, r2, "result of {text}");
    assert_eq!(c1.gpr, c2.gpr, "registers after {text}");
    assert_eq!(c1.rip, c2.rip, "rip after {text}");
    assert_eq!(c1.rflags(), c2.rflags(), "flags after {text}");
    assert_eq!(c1.xmm, c2.xmm, "xmm after {text}");
    assert_eq!(c1.mxcsr, c2.mxcsr, "mxcsr after {text}");
    assert_eq!(c1.gas, c2.gas, "gas after {text}");
    assert_eq!(c1.x87, c2.x87, "x87 after {text}");
    assert!(
        scratch_view(&m1) == scratch_view(&m2),
        "memory after {text}"
    );
}

/// Decoder and translator on arbitrary bytes: the first 8 bytes seed the
/// register and memory state, the rest is decoded at [`CODE`]. Every decoded
/// instruction is translated and disassembled; the first few are executed with
/// their specialised handler and with the generic one, which must agree.
pub fn translate(data: &[u8]) {
    let (seed_bytes, code) = data.split_at(data.len().min(8));
    let mut sb = [0u8; 8];
    sb[..seed_bytes.len()].copy_from_slice(seed_bytes);
    let seed = u64::from_le_bytes(sb);
    let code = &code[..code.len().min(1024)];
    let mut ins = Instruction::default();
    // From every one of the first 16 offsets (jumps may land anywhere).
    for start in 0..code.len().min(16) {
        let mut decoder = Decoder::with_ip(
            64,
            &code[start..],
            CODE + start as u64,
            DecoderOptions::NONE,
        );
        let mut n = 0u64;
        while decoder.can_decode() && n < if start == 0 { 128 } else { 4 } {
            let pos = decoder.position();
            decoder.decode_out(&mut ins);
            let mut inst = x64vm::translate::translate(&ins);
            assert_eq!(inst.addr, ins.ip());
            assert_eq!(usize::from(inst.len), ins.len().max(1));
            inst.handler = x64vm::isa::handlers_for(&inst).step;
            let text = x64vm::disasm::disassemble_bytes(&code[start + pos..], ins.ip());
            assert!(!text.is_empty());
            if start == 0 && n < 24 {
                handlers_agree(&inst, seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            }
            n += 1;
        }
    }
}

/// A register value for the `exec` target from one selector byte.
fn exec_reg(sel: u8, layout: &Layout) -> u64 {
    let k = u64::from(sel >> 3);
    match sel & 7 {
        0 => DATA + (k * 0x1f8) % DATA_SIZE,
        1 => layout.heap_start + k * 0x40,
        2 => layout.stack_top - 16 - k * 0x80,
        3 => layout.input + k,
        4 => k,
        5 => u64::MAX - k,
        6 if k & 1 == 0 => (1 << 63) | (k << 40),
        6 => DATA + DATA_SIZE - k,
        _ => CODE + k,
    }
}

/// The header of an `exec` or `jit` input: the mode byte, one selector per
/// register, and the rest (at most `MAX_CODE` bytes).
fn exec_header(data: &[u8]) -> (u8, [u8; 16], &[u8]) {
    let mode = data.first().copied().unwrap_or(0);
    let mut sel = [0u8; 16];
    let given = data.get(1..).unwrap_or(&[]);
    let n = given.len().min(16);
    sel[..n].copy_from_slice(&given[..n]);
    let rest = data.get(17..).unwrap_or(&[]);
    (mode, sel, &rest[..rest.len().min(MAX_CODE)])
}

/// The image (`code` at CODE, writable when mode bit 0 is set, a patterned data
/// page) and limits (a small gas limit from `gas_sel` when mode bit 2 is set) of
/// an `exec` or `jit` guest.
fn exec_guest(code: &[u8], mode: u8, gas_sel: u8) -> (Image, Config) {
    let writable = mode & 1 != 0;
    let code_perms = if writable {
        perm::R | perm::W | perm::X
    } else {
        perm::RX
    };
    let pattern: Vec<u8> = (0..256u32).map(|i| (i * 37 + 11) as u8).collect();
    let image = image_of(code, 0, code_perms, &pattern);
    let gas = if mode & 4 != 0 {
        50 + u64::from(gas_sel) * 13
    } else {
        20_000
    };
    let cfg = Config {
        enforce_wx: !writable,
        ..small_config(gas)
    };
    (image, cfg)
}

/// The layout of an `exec` input.
///
/// ```text
///   byte 0      mode: bit 0 code writable (W^X off), bit 1 DF set, bit 2 small
///               gas limit (from byte 1), bit 3 trace the second run
///   bytes 1-16  one selector per register RAX..R15 (RSP keeps the stack)
///   rest        code, run at CODE (at most 4096 bytes)
/// ```
pub fn exec(data: &[u8]) {
    let (mode, sel, code) = exec_header(data);
    let (image, cfg) = exec_guest(code, mode, sel[0]);
    let setup = |inst: &mut Instance| {
        let layout = inst.layout;
        for (r, &s) in sel.iter().enumerate() {
            if r != reg::RSP {
                inst.cpu.gpr[r] = exec_reg(s, &layout);
            }
        }
        if mode & 2 != 0 {
            inst.cpu.set_df(true);
        }
    };
    run_twice(
        &image,
        &cfg,
        CODE,
        &setup,
        &mut || Box::new(NoHost),
        mode & 8 != 0,
    );
}

/// Block compiler against interpreter: the `exec` target's guests, run in a
/// loop, once with every block compiled the first time it is dispatched
/// (`set_jit(Some(1))`, and after 3 dispatches when asked) and once with the
/// compiler off; both runs must end exactly alike (status, gas, registers,
/// flags, memory).
///
/// ```text
///   byte 0      mode: bit 0 code writable (W^X off), bit 1 DF set, bit 2 small
///               gas limit (from byte 1), bit 3 records (see `jit_gen`) instead
///               of raw code, bit 4 also compile after 3 dispatches,
///               bits 5-7 loop rounds - 1
///   bytes 1-16  one selector per register RAX..R15 (as `exec`; RSP's selects
///               the FS and GS bases)
///   rest        raw code or records, run in a loop at CODE
/// ```
///
/// `exec` inputs without the trace bit are `jit` inputs (raw code, one round).
pub fn jit(data: &[u8]) {
    let (mode, sel, rest) = exec_header(data);
    let rounds = 1 + u32::from(mode >> 5);
    let code = if mode & 8 != 0 {
        crate::jit_gen::structured(rest, rounds, CODE)
    } else {
        crate::jit_gen::looped(rest, rounds)
    };
    let (image, cfg) = exec_guest(&code, mode, sel[0]);
    let setup = |inst: &mut Instance| {
        let layout = inst.layout;
        for (r, &s) in sel.iter().enumerate() {
            if r != reg::RSP {
                inst.cpu.gpr[r] = exec_reg(s, &layout);
            }
        }
        let s = sel[reg::RSP];
        inst.cpu.fs_base = if s & 0x80 != 0 {
            exec_reg(s & 0x7f, &layout)
        } else {
            u64::from(s) * 8
        };
        inst.cpu.gs_base = u64::from(s & 0x0f) << 12;
        if mode & 2 != 0 {
            inst.cpu.set_df(true);
        }
    };
    let run =
        |jit: Option<u32>| run_compiled(&image, &cfg, CODE, &setup, &mut NoHost, false, Some(jit));
    let interpreted = run(None);
    let thresholds: &[u32] = if mode & 16 != 0 { &[1, 3] } else { &[1] };
    for &t in thresholds {
        assert_eq!(
            run(Some(t)),
            interpreted,
            "compiled (threshold {t}) and interpreted runs differ"
        );
    }
}

/// Encodes `mov r64, imm64`.
fn mov_imm(code: &mut Vec<u8>, r: usize, v: u64) {
    code.push(0x48 | ((r >> 3) as u8 & 1));
    code.push(0xb8 + (r & 7) as u8);
    code.extend_from_slice(&v.to_le_bytes());
}

/// Argument registers of `int` (System V order) and of `syscall` (R10 for RCX).
const INT_ARGS: [usize; 6] = [reg::RDI, reg::RSI, reg::RDX, reg::RCX, reg::R8, reg::R9];
const SYSCALL_ARGS: [usize; 6] = [reg::RDI, reg::RSI, reg::RDX, 10, reg::R8, reg::R9];

/// Where a host-call argument comes from.
enum Arg {
    /// A constant.
    Imm(u64),
    /// A base register (saved in the script's prologue) plus an offset.
    Rel(usize, i32),
}

/// Registers the script prologue fills: the input pointer, a 4 KiB heap block
/// and the stack pointer at entry.
const INPUT_REG: usize = 15;
const HEAP_REG: usize = 14;
const STACK_REG: usize = 13;

/// A host-call argument: pointers at and around every region edge, lengths,
/// boundary values, or raw bits. With a known `layout` the region edges are
/// absolute; without one (a chain decides the layout) they are relative to the
/// input, a heap block and the stack pointer.
fn call_arg(u: &mut Unstructured<'_>, layout: Option<&Layout>) -> Arg {
    let sel: u8 = u.arbitrary().unwrap_or(0);
    let k = u64::from(sel >> 4);
    let ki = i32::from(sel >> 4);
    Arg::Imm(match (sel & 15, layout) {
        (0, _) => DATA + k * 0x100,
        (1, _) => DATA + DATA_SIZE - k,
        (2, Some(l)) => l.heap_start + k * 16,
        (2, None) => return Arg::Rel(HEAP_REG, ki * 16),
        (3, Some(l)) => l.heap_end.wrapping_sub(k),
        (3, None) => return Arg::Rel(HEAP_REG, 4096 - ki),
        (4, Some(l)) => l.stack_top - 0x200 - k * 0x100,
        (4, None) => return Arg::Rel(STACK_REG, -0x200 - ki * 0x100),
        (5, Some(l)) => l.stack_low.wrapping_sub(k),
        (5, None) => return Arg::Rel(STACK_REG, -(ki << 16)),
        (6, Some(l)) => l.input + k,
        (6, None) => return Arg::Rel(INPUT_REG, ki),
        (7, _) => CODE + k,
        (8, _) => k,
        (9, _) => 32 * k,
        (10, _) => 1 << (k * 4),
        (11, _) => u64::MAX - k,
        (12, _) => (1 << 63) + k,
        (13, _) => DATA_SIZE + k - 8,
        _ => u.arbitrary().unwrap_or(0),
    })
}

/// Encodes `mov dst, src` (64-bit registers).
fn mov_reg(code: &mut Vec<u8>, dst: usize, src: usize) {
    code.push(0x48 | (((src >> 3) as u8 & 1) << 2) | ((dst >> 3) as u8 & 1));
    code.push(0x89);
    code.push(0xc0 | (((src & 7) as u8) << 3) | (dst & 7) as u8);
}

/// Encodes `add r64, imm32`.
fn add_imm(code: &mut Vec<u8>, r: usize, v: i32) {
    code.push(0x48 | ((r >> 3) as u8 & 1));
    code.push(0x81);
    code.push(0xc0 | (r & 7) as u8);
    code.extend_from_slice(&v.to_le_bytes());
}

fn emit_arg(code: &mut Vec<u8>, r: usize, a: Arg) {
    match a {
        Arg::Imm(v) => mov_imm(code, r, v),
        Arg::Rel(base, off) => {
            mov_reg(code, r, base);
            add_imm(code, r, off);
        }
    }
}

/// Every documented host-call number.
fn known_services() -> Vec<u8> {
    abi::CORE_SERVICES
        .iter()
        .chain(abi::CHAIN_SERVICES)
        .map(|s| s.number)
        .collect()
}

/// A script of up to 48 `int n` calls with arbitrary arguments, then `ret`,
/// after a prologue that saves the input pointer and stack pointer and
/// allocates a 4 KiB heap block (the bases of relative arguments).
fn int_script(u: &mut Unstructured<'_>, layout: Option<&Layout>) -> Vec<u8> {
    let known = known_services();
    let mut code = Vec::new();
    mov_reg(&mut code, INPUT_REG, reg::RDI);
    mov_reg(&mut code, STACK_REG, reg::RSP);
    mov_imm(&mut code, reg::RDI, 4096);
    mov_imm(&mut code, reg::RSI, 0);
    code.extend_from_slice(&[0xcd, abi::ALLOC]);
    mov_reg(&mut code, HEAP_REG, reg::RAX);
    for _ in 0..48 {
        if u.is_empty() {
            break;
        }
        let n: u8 = if u.ratio(3u8, 4).unwrap_or(true) {
            known[u.choose_index(known.len()).unwrap_or(0)]
        } else {
            u.arbitrary().unwrap_or(0)
        };
        for &r in &INT_ARGS {
            let a = call_arg(u, layout);
            emit_arg(&mut code, r, a);
        }
        code.extend_from_slice(&[0xcd, n]);
    }
    code.push(0xc3);
    code
}

/// A deterministic stand-in for a chain host: serves the chain services of
/// `x64vm-abi` through [`Env`] with the documented argument shapes and limits,
/// so that hostile pointers and lengths reach `Env::read`/`Env::write`.
#[derive(Default)]
struct MockChain {
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
    events: u64,
    return_data: Vec<u8>,
}

fn limit(what: &str, len: u64, max: u64) -> Result<(), Trap> {
    if len > max {
        return Err(Trap::LimitExceeded(format!(
            "{what} of {len} bytes exceeds the limit of {max}"
        )));
    }
    Ok(())
}

impl Host for MockChain {
    fn interrupt(&mut self, number: u8, env: &mut Env<'_>) -> Result<Flow, Trap> {
        use abi::limits::*;
        let a: Vec<u64> = (0..6).map(|k| env.arg(k)).collect();
        let digest = |bytes: &[u8]| {
            let mut out = [0u8; 32];
            for (k, b) in bytes.iter().enumerate() {
                out[k % 32] = out[k % 32].rotate_left(3) ^ b;
            }
            out
        };
        match number {
            abi::STORAGE_READ => {
                limit("key", a[1], MAX_KEY)?;
                let key = env.read(a[0], a[1])?;
                match self.storage.get(&key).cloned() {
                    Some(v) => {
                        let n = (v.len() as u64).min(a[3]) as usize;
                        env.write(a[2], &v[..n])?;
                        env.set_result(v.len() as u64);
                    }
                    None => env.set_result(u64::MAX),
                }
            }
            abi::STORAGE_WRITE => {
                limit("key", a[1], MAX_KEY)?;
                limit("value", a[3], MAX_VALUE)?;
                let key = env.read(a[0], a[1])?;
                let val = env.read(a[2], a[3])?;
                self.storage.insert(key, val);
                env.set_result(0);
            }
            abi::STORAGE_REMOVE => {
                limit("key", a[1], MAX_KEY)?;
                let key = env.read(a[0], a[1])?;
                let existed = self.storage.remove(&key).is_some();
                env.set_result(u64::from(existed));
            }
            abi::EMIT_EVENT => {
                limit("event data", a[2], MAX_EVENT_DATA)?;
                if self.events >= MAX_EVENTS {
                    return Err(Trap::LimitExceeded("too many events".into()));
                }
                let _topic = env.read(a[0], 32)?;
                let _data = env.read(a[1], a[2])?;
                self.events += 1;
                env.set_result(0);
            }
            abi::CALLER | abi::ORIGIN | abi::SELF_ADDRESS => {
                env.write(a[0], &[number; 32])?;
                env.set_result(0);
            }
            abi::VALUE => {
                env.write(a[0], &[0; 16])?;
                env.set_result(0);
            }
            abi::BLOCK_NUMBER => env.set_result(7),
            abi::TIMESTAMP => env.set_result(1_700_000_000),
            abi::BLOCK_HASH => {
                env.write(a[1], &[a[0] as u8; 32])?;
                env.set_result(1);
            }
            abi::BALANCE => {
                let _addr = env.read(a[0], 32)?;
                env.write(a[1], &[1; 16])?;
                env.set_result(0);
            }
            abi::TRANSFER => {
                let _addr = env.read(a[0], 32)?;
                let _amount = env.read(a[1], 16)?;
                env.set_result(1);
            }
            abi::CALL => {
                let _addr = env.read(a[0], 32)?;
                limit("call input", a[2], MAX_CALL_INPUT)?;
                let input = env.read(a[1], a[2])?;
                if a[3] != 0 {
                    let _value = env.read(a[3], 16)?;
                }
                self.return_data = digest(&input).to_vec();
                env.set_result(2);
            }
            abi::RETURN_DATA_LEN => env.set_result(self.return_data.len() as u64),
            abi::RETURN_DATA_READ => {
                let avail = (self.return_data.len() as u64).saturating_sub(a[1]);
                let n = a[2].min(avail);
                if n > 0 {
                    let start = a[1] as usize;
                    let bytes = self.return_data[start..start + n as usize].to_vec();
                    env.write(a[0], &bytes)?;
                }
                env.set_result(n);
            }
            abi::SHA256 | abi::KECCAK256 => {
                let data = env.read(a[0], a[1])?;
                env.write(a[2], &digest(&data))?;
                env.set_result(0);
            }
            abi::SECP256K1_RECOVER => {
                let _h = env.read(a[0], 32)?;
                let _s = env.read(a[1], 65)?;
                env.write(a[2], &[0; 64])?;
                env.set_result(1);
            }
            abi::ED25519_VERIFY => {
                let _k = env.read(a[0], 32)?;
                let _s = env.read(a[1], 64)?;
                let _m = env.read(a[2], a[3])?;
                env.set_result(0);
            }
            _ => {
                return Err(Trap::InvalidHostCall {
                    number,
                    reason: "no such service".into(),
                });
            }
        }
        Ok(Flow::Continue)
    }
}

/// Host-call boundary: arbitrary `int` numbers and arguments, against the VM's
/// core services alone ([`NoHost`]) and against a chain-shaped host.
///
/// The input is a sequence of records (service number, then six arguments, each
/// chosen by one selector byte from pointers at region edges, lengths, boundary
/// values or raw bits), decoded with `arbitrary`.
pub fn host_calls(data: &[u8]) {
    let image = image_of(&[], SCRIPT_CAP, perm::RX, &[]);
    let cfg = small_config(50_000);
    let layout = Instance::new(&image, &cfg, INPUT)
        .expect("the fixed image instantiates")
        .layout;
    let mut u = Unstructured::new(data);
    let trace = u.arbitrary::<bool>().unwrap_or(false);
    let code = int_script(&mut u, Some(&layout));
    let setup = |inst: &mut Instance| {
        inst.mem.load(CODE, &code).expect("script fits");
    };
    run_twice(&image, &cfg, CODE, &setup, &mut || Box::new(NoHost), trace);
    run_twice(
        &image,
        &cfg,
        CODE,
        &setup,
        &mut || Box::<MockChain>::default(),
        !trace,
    );
    // The same bytes as a contract on the runtime's test chain (its own host and
    // layout, so the region arguments are relative).
    let mut u = Unstructured::new(data);
    let _ = u.arbitrary::<bool>();
    let script = int_script(&mut u, None);
    chain_twice(&script);
}

/// Deploys `script` as a contract on two fresh test chains, calls it on each
/// and requires identical receipts.
fn chain_twice(script: &[u8]) {
    use x64vm::loader::packed::Packed;
    use x64vm_runtime::{TestChain, address_of_name};
    let packed = Packed {
        entry: CODE,
        segments: vec![
            Segment {
                vaddr: CODE,
                data: script.to_vec(),
                mem_size: page_up(script.len() as u64),
                perms: perm::RX,
            },
            Segment {
                vaddr: DATA,
                data: b"data segment of the fuzz contract".to_vec(),
                mem_size: DATA_SIZE,
                perms: perm::RW,
            },
        ],
        ..Packed::default()
    }
    .to_bytes()
    .expect("a small packed file");
    let run = || {
        let mut chain = TestChain::new();
        let to = chain.deploy(&packed, "alice").expect("the script deploys");
        let r = chain.call_raw(to, address_of_name("bob"), INPUT, 0, 200_000);
        assert!(r.gas_used <= 200_000, "{r:?}");
        r
    };
    assert_eq!(run(), run(), "two chains disagree on the same call");
}

/// Syscall numbers the Linux profile implements, exit and kill excepted.
const SYSCALLS: &[u64] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 19, 20, 21, 24, 25, 28, 32, 33, 39, 63,
    72, 79, 87, 89, 96, 102, 104, 107, 108, 110, 131, 158, 186, 201, 202, 218, 228, 257, 262, 267,
    273, 292, 302, 318,
];

/// Flag words the Linux calls care about (open, mmap, arch_prctl, fstatat...).
const FLAGS: &[u64] = &[
    0, 1, 2, 3, 7, 0x22, 0x32, 0x41, 0x241, 0x441, 0x10000, 0x1002, 0x1003, 0x1000, 0x80, 0x100,
];

fn syscall_arg(u: &mut Unstructured<'_>, layout: &Layout) -> u64 {
    let sel: u8 = u.arbitrary().unwrap_or(0);
    let k = u64::from(sel >> 4);
    match sel & 15 {
        0 => DATA + k * 0x20,
        1 => DATA + DATA_SIZE - k,
        2 => layout.heap_start + k * PAGE_SIZE,
        3 => layout.heap_end + PAGE_SIZE + k * PAGE_SIZE,
        4 => layout.stack_top - 0x1000 - k * 0x40,
        5 => k,
        6 => k * PAGE_SIZE,
        7 => FLAGS[k as usize % FLAGS.len()],
        8 => u64::MAX - k,
        9 => (1 << 63) | k,
        10 => CODE + k * 0x10,
        11 => DATA + 0x100 + k * 16,
        _ => u.arbitrary().unwrap_or(0),
    }
}

/// The data segment of the syscall target: paths, an iovec array, a pollfd array.
fn syscall_data() -> Vec<u8> {
    let mut d = vec![0u8; 0x400];
    for (k, p) in [
        "/data.txt",
        "/new.txt",
        "/",
        "/dir/../data.txt",
        "rel",
        "/dir/f",
    ]
    .iter()
    .enumerate()
    {
        d[k * 0x20..k * 0x20 + p.len()].copy_from_slice(p.as_bytes());
    }
    let iov: [(u64, u64); 4] = [
        (DATA + 0x1000, 64),
        (DATA + 0x2000, 300),
        (0xdead, 8),
        (DATA + DATA_SIZE - 16, 32),
    ];
    for (k, (base, len)) in iov.iter().enumerate() {
        let at = 0x100 + 16 * k;
        d[at..at + 8].copy_from_slice(&base.to_le_bytes());
        d[at + 8..at + 16].copy_from_slice(&len.to_le_bytes());
    }
    for (k, fd) in [0u32, 1, 2, 3, 99, u32::MAX].iter().enumerate() {
        let at = 0x200 + 8 * k;
        d[at..at + 4].copy_from_slice(&fd.to_le_bytes());
        d[at + 4..at + 6].copy_from_slice(&5u16.to_le_bytes());
    }
    d
}

/// Everything observable about a Linux-profile run.
#[derive(Debug, PartialEq, Eq)]
struct LinuxSnapshot {
    run: Snapshot,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit_code: Option<i32>,
    unsupported: BTreeMap<u64, u64>,
    files: Vec<Option<Vec<u8>>>,
}

fn linux_once(
    image: &Image,
    cfg: &Config,
    linux: &LinuxConfig,
    code: &[u8],
    traced: bool,
) -> LinuxSnapshot {
    let (mut inst, mut host): (Instance, LinuxHost) =
        spawn(image, cfg, linux).expect("the fixed image spawns");
    inst.mem.load(CODE, code).expect("script fits");
    let out = if traced {
        inst.run_with(&mut host, &mut Counter::default())
    } else {
        inst.run(&mut host)
    };
    check_outcome(&out, cfg);
    let files = ["/data.txt", "/new.txt", "/rel", "/dir/f"]
        .iter()
        .map(|p| host.fs.get(p).map(<[u8]>::to_vec))
        .collect();
    LinuxSnapshot {
        run: snapshot(&inst.cpu, &inst.mem, out),
        stdout: host.stdout,
        stderr: host.stderr,
        exit_code: host.exit_code,
        unsupported: host.unsupported,
        files,
    }
}

/// The Linux profile: arbitrary syscall numbers and arguments (records as in
/// [`host_calls`], numbers mostly among the implemented ones), then `exit(0)`.
pub fn linux_syscalls(data: &[u8]) {
    let image = image_of(&[], SCRIPT_CAP, perm::RX, &syscall_data());
    let cfg = small_config(200_000);
    let linux = LinuxConfig {
        args: vec!["prog".into(), "arg".into()],
        env: vec!["K=V".into()],
        stdin: b"standard input bytes\n".to_vec(),
        seed: 7,
        brk_size: 1 << 20,
        mmap_size: 4 << 20,
        files: vec![
            ("/data.txt".into(), (0..300u32).map(|i| i as u8).collect()),
            ("/dir/f".into(), b"f".to_vec()),
        ],
    };
    let layout = spawn(&image, &cfg, &linux)
        .expect("the fixed image spawns")
        .0
        .layout;
    let mut u = Unstructured::new(data);
    let trace = u.arbitrary::<bool>().unwrap_or(false);
    let mut code = Vec::new();
    for _ in 0..48 {
        if u.is_empty() {
            break;
        }
        let nr = if u.ratio(7u8, 8).unwrap_or(true) {
            SYSCALLS[u.choose_index(SYSCALLS.len()).unwrap_or(0)]
        } else {
            u.arbitrary::<u64>().unwrap_or(0) % 1024
        };
        mov_imm(&mut code, reg::RAX, nr);
        for &r in &SYSCALL_ARGS {
            let v = syscall_arg(&mut u, &layout);
            mov_imm(&mut code, r, v);
        }
        code.extend_from_slice(&[0x0f, 0x05]);
    }
    mov_imm(&mut code, reg::RAX, 60);
    mov_imm(&mut code, reg::RDI, 0);
    code.extend_from_slice(&[0x0f, 0x05]);
    let a = linux_once(&image, &cfg, &linux, &code, false);
    let b = linux_once(&image, &cfg, &linux, &code, trace);
    assert_eq!(a, b, "two runs of the same syscalls disagree");
}

/// The call-line parser of the runtime, with and without an ABI.
///
/// The input is `ABI text 0xFF call line` (0xFF never occurs in UTF-8 text) or
/// just a call line. A line that parses must encode to its selector followed by
/// the Borsh encoding of its arguments, and that must decode back to the same
/// values; the raw bytes, decoded as arguments of the function, must not panic.
pub fn call_line(data: &[u8]) {
    use x64vm_runtime::abi::{Abi, decode, encode, encode_call_line, parse_call_line};
    let (abi_bytes, line) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (Some(&data[..at]), &data[at + 1..]),
        None => (None, data),
    };
    let abi = abi_bytes.and_then(|b| Abi::parse_bytes(b).ok());
    let line = String::from_utf8_lossy(line);
    let parsed = parse_call_line(&line, abi.as_ref());
    let encoded = encode_call_line(&line, abi.as_ref());
    match (parsed, encoded) {
        (Ok((f, values)), Ok(call)) => {
            assert_eq!(call.function, f);
            assert_eq!(call.args, values);
            assert_eq!(&call.input[..4], &f.selector());
            assert_eq!(&call.input[4..], &encode(&values)[..]);
            let back = decode(&f.param_types(), &call.input[4..]).expect("encoded, so it decodes");
            assert_eq!(back, values, "Borsh round trip of {line:?}");
            for v in &values {
                let _ = v.to_string();
            }
            let _ = decode(&f.param_types(), data);
            if let Some(ret) = f.ret {
                let _ = decode(&[ret], data);
            }
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "parse and encode disagree on {line:?}");
            assert!(!a.to_string().is_empty());
        }
        (a, b) => panic!("parse ({a:?}) and encode ({b:?}) disagree on {line:?}"),
    }
}

/// The ABI text parser of the runtime: arbitrary bytes never panic; a text that
/// parses parses the same again, every function is found by its selector and
/// every event by its topic (unless two share one), and arbitrary bytes decode
/// (or fail to) as any function's arguments without panicking.
pub fn abi_text(data: &[u8]) {
    use x64vm_runtime::abi::{Abi, decode, encode};
    let Ok(abi) = Abi::parse_bytes(data) else {
        return;
    };
    assert_eq!(
        Abi::parse_bytes(data).as_ref(),
        Ok(&abi),
        "parsing is not deterministic"
    );
    for f in &abi.functions {
        let sel = f.selector();
        assert!(abi.function_by_selector(sel).is_some(), "{}", f.signature());
        let types = f.param_types();
        if let Ok(values) = decode(&types, data) {
            let again = encode(&values);
            assert_eq!(decode(&types, &again).as_ref(), Ok(&values));
        }
    }
    for e in &abi.events {
        assert!(
            abi.event_by_topic(&e.topic()).is_some(),
            "{}",
            e.signature()
        );
    }
}

/// The original Echo contract format and its call lines: the input is a call line,
/// a NUL byte, then the file. Parsing either must never panic; a file that loads
/// runs the call under a small gas cap, twice, with identical outcomes.
pub fn echo_load(data: &[u8]) {
    let (line, file) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b"fib(10)"[..], data),
    };
    let line = String::from_utf8_lossy(line);
    let _ = x64vm_echo::parse_call_line(&line);
    match x64vm_echo::load_echo(file) {
        Ok(image) => {
            let config = x64vm::Config {
                gas_limit: 200_000,
                ..x64vm_echo::echo_config()
            };
            let ctx = x64vm_echo::EchoContext::default();
            let a = x64vm_echo::call(&image, &line, &ctx, &config);
            let b = x64vm_echo::call(&image, &line, &ctx, &config);
            assert_eq!(
                format!("{a:?}"),
                format!("{b:?}"),
                "two runs of one Echo call differ"
            );
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
