//! Fused compare-and-branch: a `cmp` or `test` directly followed by a `jcc`, run
//! as one decoded instruction.
//!
//! Compilers end most blocks with such a pair (gcc's fib: one instruction in
//! eight; the sieve's inner loops: one in four). Run apart, the `cmp` records the
//! lazy flags and the `jcc` derives its condition from them again; fused, the
//! condition is the comparison itself, fixed at translation, and the pair costs one
//! dispatch. The flags are still recorded exactly as the `cmp`/`test` would record
//! them, since later code may read them. Gas and retired instructions count both
//! guest instructions (the block's totals are summed before fusing). A trap of the
//! `cmp` (a memory operand) reports the `cmp`'s address, as unfused.
//!
//! The tracing loop never sees fused instructions (see `interp`): a trace shows
//! every guest instruction.

use super::fast::is_base_disp;
use super::hot::{CMP, I8, ID, M, Miss, R, TEST, Val, cmp_jcc};
use super::{ExecResult, Handlers, exec};
use crate::cpu::Cpu;
use crate::interp::{fault, follow};
use crate::ir::{Inst, Loc, Op};
use crate::mem::Memory;

/// `ssize` of a fused instruction (unused by `cmp`/`test`): which one it fused.
const FUSED_CMP: u8 = 0;
const FUSED_TEST: u8 = 1;

/// For a fused compare-and-branch (a `Jcc` with operands, see [`fuse`]): the
/// `cmp` or `test` it holds, as the translator made it; `None` for other
/// instructions. Its `imm` is the compare's, so the branch target is `i.imm`.
pub(crate) fn fused_compare(i: &Inst) -> Option<Inst> {
    (i.op == Op::Jcc && i.dst != Loc::None).then(|| unfused(i))
}

/// The `cmp`/`test` that `i` fused, as the translator made it.
fn unfused(i: &Inst) -> Inst {
    let mut c = *i;
    c.op = if i.ssize == FUSED_TEST {
        Op::Test
    } else {
        Op::Cmp
    };
    c.ssize = 0;
    match (i.dst, i.src) {
        (Loc::Mem, Loc::Imm) => c.imm = i.sreg as i8 as u64,
        (_, Loc::Imm) => {
            c.imm = i.disp as u64;
            c.disp = 0;
        }
        _ => {}
    }
    c
}

/// A fused instruction run by the generic path: the `cmp`/`test`, then the branch
/// on the flags it recorded. The fast path's fallback ([`Miss`]: a memory operand
/// that crosses a page or faults), and what a tracing run would use (it never
/// fuses). RIP is already past the pair.
fn fused_step(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    exec(cpu, mem, &unfused(i))?;
    if cpu.cond(i.cc) {
        cpu.rip = i.imm;
    }
    Ok(())
}

/// Threaded [`fused_step`].
///
/// # Safety
///
/// As for [`super::Threaded`].
#[inline(never)]
#[allow(unsafe_code)]
unsafe fn fused_slow(
    cpu: &mut Cpu,
    mem: &mut Memory,
    code: *const Inst,
    at: *const Inst,
) -> ExecResult {
    // SAFETY: as in `isa::last_handlers`.
    unsafe {
        let i = &*at;
        cpu.rip = i.next();
        match fused_step(cpu, mem, i) {
            Ok(()) => follow(cpu, mem, code, at),
            Err(e) => Err(fault(cpu, i, e)),
        }
    }
}

/// [`Handlers`] for a fused fast path `$f` (as `hot`'s `hot_last`, with the fused
/// instruction's own fallback).
macro_rules! fused_last {
    ($f:expr) => {{
        #[allow(unsafe_code)]
        let h = Handlers {
            step: fused_step,
            // SAFETY: as in `isa::last_handlers`.
            threaded: |cpu, mem, code, at| unsafe {
                let i = &*at;
                cpu.rip = i.next();
                match ($f)(cpu, mem, i) {
                    Ok(()) => follow(cpu, mem, code, at),
                    Err(Miss) => fused_slow(cpu, mem, code, at),
                }
            },
        };
        h
    }};
}

/// The handlers of one shape, chosen by condition code.
fn by_cc<const OP: u8, const SIZE: u8, D: Val, S: Val>(cc: u8) -> Handlers {
    match cc & 15 {
        0 => fused_last!(cmp_jcc::<OP, SIZE, 0, D, S>),
        1 => fused_last!(cmp_jcc::<OP, SIZE, 1, D, S>),
        2 => fused_last!(cmp_jcc::<OP, SIZE, 2, D, S>),
        3 => fused_last!(cmp_jcc::<OP, SIZE, 3, D, S>),
        4 => fused_last!(cmp_jcc::<OP, SIZE, 4, D, S>),
        5 => fused_last!(cmp_jcc::<OP, SIZE, 5, D, S>),
        6 => fused_last!(cmp_jcc::<OP, SIZE, 6, D, S>),
        7 => fused_last!(cmp_jcc::<OP, SIZE, 7, D, S>),
        8 => fused_last!(cmp_jcc::<OP, SIZE, 8, D, S>),
        9 => fused_last!(cmp_jcc::<OP, SIZE, 9, D, S>),
        10 => fused_last!(cmp_jcc::<OP, SIZE, 10, D, S>),
        11 => fused_last!(cmp_jcc::<OP, SIZE, 11, D, S>),
        12 => fused_last!(cmp_jcc::<OP, SIZE, 12, D, S>),
        13 => fused_last!(cmp_jcc::<OP, SIZE, 13, D, S>),
        14 => fused_last!(cmp_jcc::<OP, SIZE, 14, D, S>),
        _ => fused_last!(cmp_jcc::<OP, SIZE, 15, D, S>),
    }
}

/// The handlers for `cmp`/`test` (`OP`) of shape `(dst, src)` and `size`.
fn handlers<const OP: u8>(dst: Loc, src: Loc, size: u8, cc: u8) -> Option<Handlers> {
    Some(match (dst, src, size) {
        (Loc::Reg, Loc::Reg, 8) => by_cc::<OP, 8, R, R>(cc),
        (Loc::Reg, Loc::Reg, 4) => by_cc::<OP, 4, R, R>(cc),
        (Loc::Reg, Loc::Imm, 8) => by_cc::<OP, 8, R, ID>(cc),
        (Loc::Reg, Loc::Imm, 4) => by_cc::<OP, 4, R, ID>(cc),
        (Loc::Reg, Loc::Mem, 8) if OP == CMP => by_cc::<OP, 8, R, M>(cc),
        (Loc::Reg, Loc::Mem, 4) if OP == CMP => by_cc::<OP, 4, R, M>(cc),
        (Loc::Mem, Loc::Reg, 8) if OP == CMP => by_cc::<OP, 8, M, R>(cc),
        (Loc::Mem, Loc::Reg, 4) if OP == CMP => by_cc::<OP, 4, M, R>(cc),
        // `cmp [mem], imm8` (the immediate fits a signed byte, see `fuse`).
        (Loc::Mem, Loc::Imm, 8) if OP == CMP => by_cc::<OP, 8, M, I8>(cc),
        (Loc::Mem, Loc::Imm, 4) if OP == CMP => by_cc::<OP, 4, M, I8>(cc),
        (Loc::Mem, Loc::Imm, 1) => by_cc::<OP, 1, M, I8>(cc),
        // Byte registers (`test al, al`: C's booleans).
        (Loc::Reg, Loc::Reg, 1) => by_cc::<OP, 1, R, R>(cc),
        (Loc::Reg, Loc::Imm, 1) => by_cc::<OP, 1, R, ID>(cc),
        _ => return None,
    })
}
/// One instruction doing `cmp` (or `test`) and then `jcc`, if the pair has a
/// fused form. `cmp` must be directly followed by `jcc`.
pub fn fuse(cmp: &Inst, jcc: &Inst) -> Option<Inst> {
    if jcc.op != Op::Jcc || cmp.next() != jcc.addr {
        return None;
    }
    let regs_ok = (cmp.dst != Loc::Reg || cmp.dreg < 16) && (cmp.src != Loc::Reg || cmp.sreg < 16);
    let mem_ok = (cmp.dst != Loc::Mem && cmp.src != Loc::Mem) || is_base_disp(cmp);
    // With memory, an immediate must fit the spare byte `sreg` (`disp` addresses
    // the memory, `imm` holds the target).
    let imm8 = cmp.imm as i64 == i64::from(cmp.imm as i8);
    let imm_ok = cmp.src != Loc::Imm || cmp.dst != Loc::Mem || imm8;
    if !regs_ok || !mem_ok || !imm_ok {
        return None;
    }
    let (h, kind) = match cmp.op {
        Op::Cmp => (
            handlers::<CMP>(cmp.dst, cmp.src, cmp.size, jcc.cc)?,
            FUSED_CMP,
        ),
        Op::Test => (
            handlers::<TEST>(cmp.dst, cmp.src, cmp.size, jcc.cc)?,
            FUSED_TEST,
        ),
        _ => return None,
    };
    let mut f = *cmp;
    f.ssize = kind;
    match (cmp.dst, cmp.src) {
        (Loc::Mem, Loc::Imm) => f.sreg = cmp.imm as i8 as u8,
        // A register operand: `disp` is free.
        (_, Loc::Imm) => f.disp = cmp.imm as i64,
        _ => {}
    }
    f.op = Op::Jcc;
    f.cc = jcc.cc;
    f.imm = jcc.imm;
    f.len = cmp.len + jcc.len;
    f.handler = h.step;
    f.threaded = h.threaded;
    Some(f)
}
