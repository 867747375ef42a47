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

use super::Handlers;
use super::fast::is_base_disp;
use super::hot::{CMP, ID, M, R, TEST, Val, cmp_jcc, hot_last};
use crate::ir::{Inst, Loc, Op};

/// The handlers of one shape, chosen by condition code.
fn by_cc<const OP: u8, const SIZE: u8, D: Val, S: Val>(cc: u8) -> Handlers {
    match cc & 15 {
        0 => hot_last!(cmp_jcc::<OP, SIZE, 0, D, S>),
        1 => hot_last!(cmp_jcc::<OP, SIZE, 1, D, S>),
        2 => hot_last!(cmp_jcc::<OP, SIZE, 2, D, S>),
        3 => hot_last!(cmp_jcc::<OP, SIZE, 3, D, S>),
        4 => hot_last!(cmp_jcc::<OP, SIZE, 4, D, S>),
        5 => hot_last!(cmp_jcc::<OP, SIZE, 5, D, S>),
        6 => hot_last!(cmp_jcc::<OP, SIZE, 6, D, S>),
        7 => hot_last!(cmp_jcc::<OP, SIZE, 7, D, S>),
        8 => hot_last!(cmp_jcc::<OP, SIZE, 8, D, S>),
        9 => hot_last!(cmp_jcc::<OP, SIZE, 9, D, S>),
        10 => hot_last!(cmp_jcc::<OP, SIZE, 10, D, S>),
        11 => hot_last!(cmp_jcc::<OP, SIZE, 11, D, S>),
        12 => hot_last!(cmp_jcc::<OP, SIZE, 12, D, S>),
        13 => hot_last!(cmp_jcc::<OP, SIZE, 13, D, S>),
        14 => hot_last!(cmp_jcc::<OP, SIZE, 14, D, S>),
        _ => hot_last!(cmp_jcc::<OP, SIZE, 15, D, S>),
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
    if !regs_ok || !mem_ok {
        return None;
    }
    let h = match cmp.op {
        Op::Cmp => handlers::<CMP>(cmp.dst, cmp.src, cmp.size, jcc.cc)?,
        Op::Test => handlers::<TEST>(cmp.dst, cmp.src, cmp.size, jcc.cc)?,
        _ => return None,
    };
    let mut f = *cmp;
    if cmp.src == Loc::Imm {
        // Register operand only (checked above: no memory with an immediate), so
        // `disp` is free.
        f.disp = cmp.imm as i64;
    }
    f.op = Op::Jcc;
    f.cc = jcc.cc;
    f.imm = jcc.imm;
    f.len = cmp.len + jcc.len;
    f.handler = h.step;
    f.threaded = h.threaded;
    Some(f)
}
