//! Fused compare-and-branch (`isa::fused`) against the unfused generic path.
//!
//! A `cmp` or `test` directly followed by a `jcc` runs as one instruction in the
//! normal (threaded) loop; the tracing loop runs the two apart through the generic
//! `exec`. For every fused shape and size, all sixteen conditions and edge values,
//! a small program compares, branches, and records the branch taken and the flags
//! left behind (`pushfq`). Both loops must end in the same state: registers,
//! flags, memory, gas, and for operands that fault (a memory operand crossing into
//! an unmapped page) the same trap at the same address.

mod vmkit;

use iced_x86::IcedError;
use iced_x86::code_asm::*;
use vmkit::{DATA, DATA_SIZE, asm, jcc, program};
use x64vm::{Config, Instance, NoHost, Outcome, load_elf};

/// A tracer that does nothing but switches the interpreter to its
/// one-instruction-at-a-time loop (no fusion, generic handlers).
struct Stepping;

impl x64vm::interp::Tracer for Stepping {
    const ENABLED: bool = true;
    fn before(&mut self, _: &x64vm::Cpu, _: &x64vm::Memory, _: &x64vm::ir::Inst) {}
    fn after(&mut self, _: &x64vm::Cpu, _: &x64vm::Memory, _: &x64vm::ir::Inst) {}
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Cmp,
    Test,
}

#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `op a_reg, b_reg`
    RegReg,
    /// `op a_reg, imm`
    RegImm,
    /// `op a_reg, [mem]`
    RegMem,
    /// `op [mem], b_reg`
    MemReg,
    /// `op [mem], imm8`
    MemImm,
}

/// Where the memory operand lives: normally inside the data, or at its very end
/// so that a wide access runs into the unmapped page after it.
const MEM_OK: u64 = 0x10;
const MEM_FAULT: u64 = DATA_SIZE - 2;

/// The compare itself, with `a` in RAX (or at `[rdx + off]`), `b` in RCX, and the
/// immediate `imm`.
fn compare(
    a: &mut CodeAssembler,
    op: Op,
    shape: Shape,
    size: u8,
    imm: i32,
    off: u64,
) -> Result<(), IcedError> {
    let m = rdx + off as i32;
    match (op, shape, size) {
        (Op::Cmp, Shape::RegReg, 8) => a.cmp(rax, rcx),
        (Op::Cmp, Shape::RegReg, 4) => a.cmp(eax, ecx),
        (Op::Cmp, Shape::RegReg, _) => a.cmp(al, cl),
        (Op::Cmp, Shape::RegImm, 8) => a.cmp(rax, imm),
        (Op::Cmp, Shape::RegImm, 4) => a.cmp(eax, imm),
        (Op::Cmp, Shape::RegImm, _) => a.cmp(al, imm as i8 as i32),
        (Op::Cmp, Shape::RegMem, 8) => a.cmp(rax, qword_ptr(m)),
        (Op::Cmp, Shape::RegMem, _) => a.cmp(eax, dword_ptr(m)),
        (Op::Cmp, Shape::MemReg, 8) => a.cmp(qword_ptr(m), rcx),
        (Op::Cmp, Shape::MemReg, _) => a.cmp(dword_ptr(m), ecx),
        (Op::Cmp, Shape::MemImm, 8) => a.cmp(qword_ptr(m), imm as i8 as i32),
        (Op::Cmp, Shape::MemImm, 4) => a.cmp(dword_ptr(m), imm as i8 as i32),
        (Op::Cmp, Shape::MemImm, _) => a.cmp(byte_ptr(m), imm as i8 as i32),
        (Op::Test, Shape::RegReg, 8) => a.test(rax, rcx),
        (Op::Test, Shape::RegReg, 4) => a.test(eax, ecx),
        (Op::Test, Shape::RegReg, _) => a.test(al, cl),
        (Op::Test, Shape::RegImm, 8) => a.test(rax, imm),
        (Op::Test, Shape::RegImm, 4) => a.test(eax, imm),
        (Op::Test, Shape::RegImm, _) => a.test(al, imm as i8 as i32),
        (Op::Test, _, _) => a.test(byte_ptr(m), imm as i8 as i32),
    }
}

/// The program: set up operands, compare and branch, record which way it went
/// (RBX) and the flags (RSI).
#[allow(clippy::too_many_arguments)]
fn program_for(
    op: Op,
    shape: Shape,
    size: u8,
    cc: u8,
    a_val: u64,
    b_val: u64,
    imm: i32,
    off: u64,
) -> Vec<u8> {
    let code = asm(|a| {
        a.mov(rax, a_val)?;
        a.mov(rcx, b_val)?;
        a.mov(rdx, DATA)?;
        if off == MEM_OK {
            a.mov(qword_ptr(rdx + MEM_OK as i32), rax)?;
        }
        // Leave flags from an unrelated operation, so that a wrong lazy-flag
        // record would show.
        a.add(rdi, 0x7fi32)?;
        let mut taken = a.create_label();
        let mut end = a.create_label();
        compare(a, op, shape, size, imm, off)?;
        jcc(a, cc, taken)?;
        a.mov(rbx, 1u64)?;
        a.jmp(end)?;
        a.set_label(&mut taken)?;
        a.mov(rbx, 2u64)?;
        a.set_label(&mut end)?;
        a.pushfq()?;
        a.pop(rsi)?;
        a.ret()
    });
    program(&code.bytes, &[]).bytes()
}

fn run(elf: &[u8], traced: bool) -> (Outcome, Vec<u64>, u64, Vec<u8>) {
    let image = load_elf(elf, true).unwrap();
    let mut inst = Instance::new(&image, &Config::default(), &[]).unwrap();
    inst.prepare_call(image.entry, &[]).unwrap();
    let out = if traced {
        inst.run_with(&mut NoHost, &mut Stepping)
    } else {
        inst.run(&mut NoHost)
    };
    let data = inst.mem.slice(DATA, 0x40).unwrap().to_vec();
    (out, inst.cpu.gpr.to_vec(), inst.cpu.rflags(), data)
}

const EDGES: [u64; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    0x1234_5678_9abc_def0,
];

#[test]
fn fused_compare_and_branch_matches_the_generic_pair() {
    let shapes: &[(Op, Shape, &[u8])] = &[
        (Op::Cmp, Shape::RegReg, &[8, 4, 1]),
        (Op::Cmp, Shape::RegImm, &[8, 4, 1]),
        (Op::Cmp, Shape::RegMem, &[8, 4]),
        (Op::Cmp, Shape::MemReg, &[8, 4]),
        (Op::Cmp, Shape::MemImm, &[8, 4, 1]),
        (Op::Test, Shape::RegReg, &[8, 4, 1]),
        (Op::Test, Shape::RegImm, &[8, 4, 1]),
        (Op::Test, Shape::MemImm, &[1]),
    ];
    let mut runs = 0;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for &(op, shape, sizes) in shapes {
        for &size in sizes {
            for cc in 0..16u8 {
                // Pairs of edge values (including equal ones), and a few random.
                for k in 0..10 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let a_val = EDGES[(seed % 12) as usize];
                    let b_val = if k % 3 == 0 {
                        a_val
                    } else {
                        EDGES[((seed >> 8) % 12) as usize] ^ (seed >> 60)
                    };
                    let imm = [0i32, 1, -1, 0x7f, -0x80, 5][(seed >> 20) as usize % 6];
                    let uses_mem = matches!(shape, Shape::RegMem | Shape::MemReg | Shape::MemImm);
                    let off = if uses_mem && k == 9 && size > 2 {
                        MEM_FAULT
                    } else {
                        MEM_OK
                    };
                    let elf = program_for(op, shape, size, cc, a_val, b_val, imm, off);
                    let threaded = run(&elf, false);
                    let traced = run(&elf, true);
                    let what = format!(
                        "{op:?} {shape:?} size {size} cc {cc} a {a_val:#x} b {b_val:#x} imm {imm} off {off:#x}"
                    );
                    assert_eq!(
                        format!("{:?}", threaded.0.status),
                        format!("{:?}", traced.0.status),
                        "{what}"
                    );
                    assert_eq!(threaded.0.gas_used, traced.0.gas_used, "{what}");
                    assert_eq!(threaded.1, traced.1, "registers: {what}");
                    assert_eq!(threaded.2, traced.2, "rflags: {what}");
                    assert_eq!(threaded.3, traced.3, "memory: {what}");
                    runs += 1;
                }
            }
        }
    }
    assert_eq!(runs, 20 * 16 * 10);
}
