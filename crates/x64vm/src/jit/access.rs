//! Which memory checks a compiled block makes: one per access, or one for a group
//! of `[base + disp]` accesses of the same kind while the base keeps its value.

use super::flags::fits_i32;
use crate::ir::{Inst, Loc, NO_REG, Op, seg};
use crate::mem::perm;

/// What an access needs of its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Read,
    Write,
    Modify,
}

impl Class {
    /// The permission rule (see `Compiler::check`): bits masked, bits wanted.
    pub(crate) fn rule(self) -> (u8, u8) {
        let rw = perm::R | perm::W;
        match self {
            Class::Read => (perm::R, perm::R),
            Class::Write => (perm::W | perm::DECODED | perm::CLEAN, perm::W),
            Class::Modify => (rw | perm::DECODED | perm::CLEAN, rw),
        }
    }
}

/// How an instruction's memory operand is checked (see [`plan_accesses`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// On its own.
    Alone,
    /// It leads a group: one check covers the bytes `[base + lo, base + lo +
    /// span)`, which every member's access lies in.
    Lead { lo: i32, span: u32 },
    /// A later member of a group: no check.
    Covered,
}

/// The permission class of instruction `i`'s explicit memory operand, if any.
fn class_of(i: &Inst) -> Option<Class> {
    if i.op == Op::Lea || (i.dst != Loc::Mem && i.src != Loc::Mem) {
        return None;
    }
    if matches!(i.op, Op::JmpInd | Op::CallInd | Op::Push | Op::Pop) {
        // Checked with the stack access they also make; left alone.
        return None;
    }
    let writes = i.dst == Loc::Mem && !matches!(i.op, Op::Cmp | Op::Test | Op::Jcc);
    Some(match (writes, i.op) {
        (false, _) => Class::Read,
        (true, Op::Mov | Op::Setcc) => Class::Write,
        _ => Class::Modify,
    })
}

/// Guest registers (bit per register) that instruction `i` writes.
fn writes_regs(i: &Inst) -> u16 {
    let mut w = 0u16;
    let dst_written = !matches!(i.op, Op::Cmp | Op::Test | Op::Jcc | Op::Push);
    if i.dst == Loc::Reg && dst_written {
        w |= 1 << (i.dreg & 15);
    }
    if matches!(i.op, Op::Push | Op::Pop | Op::Call | Op::Ret | Op::CallInd) {
        w |= 1 << 4;
    }
    w
}

/// Groups memory operands `[base + disp]` of the same class whose base register
/// keeps its value in between, so that one check of the (at most two) pages
/// they span covers all: a function's stack slots, a struct's fields. If the
/// check fails the interpreter runs from the first of them, so every fault
/// still happens at its own instruction.
pub(crate) fn plan_accesses(body: &[Inst]) -> Vec<Plan> {
    // Most bytes one group spans: two pages at most.
    const MAX_SPAN: i64 = 2048;
    let mut plan = vec![Plan::Alone; body.len()];
    // Open groups: (base, class, leader, lo, hi).
    let mut open: Vec<(u8, Class, usize, i64, i64)> = Vec::new();
    for (k, i) in body.iter().enumerate() {
        if let Some(class) = class_of(i) {
            let simple = i.base < 16
                && i.index == NO_REG
                && i.seg == seg::NONE
                && !i.addr32
                && fits_i32(i.disp as u64);
            if simple {
                let n = i64::from(i.size.max(1));
                let (d, e) = (i.disp, i.disp + n);
                let g = open.iter_mut().find(|g| g.0 == i.base && g.1 == class);
                match g {
                    Some(g) if g.4.max(e) - g.3.min(d) <= MAX_SPAN => {
                        g.3 = g.3.min(d);
                        g.4 = g.4.max(e);
                        plan[k] = Plan::Covered;
                    }
                    Some(g) => *g = (i.base, class, k, d, e),
                    None => open.push((i.base, class, k, d, e)),
                }
                if plan[k] != Plan::Covered {
                    plan[k] = Plan::Lead { lo: 0, span: 0 };
                }
                // Record the group's extent at its leader as it grows.
                if let Some(g) = open.iter().find(|g| g.0 == i.base && g.1 == class) {
                    plan[g.2] = Plan::Lead {
                        lo: g.3 as i32,
                        span: (g.4 - g.3) as u32,
                    };
                }
            }
        }
        let w = writes_regs(i);
        open.retain(|g| w & (1 << g.0) == 0);
    }
    // A group of one is a plain check.
    for k in 0..plan.len() {
        if let Plan::Lead { lo, span } = plan[k] {
            let i = &body[k];
            if i64::from(lo) == i.disp && span == u32::from(i.size.max(1)) {
                plan[k] = Plan::Alone;
            }
        }
    }
    plan
}
