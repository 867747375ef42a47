//! Which instructions the compiler handles, and where the guest's status flags
//! are still needed (liveness), so that the code it inserts (memory checks, gas)
//! saves and restores the host flags only where they matter.

use crate::ir::{Inst, Loc, Op};

/// How an instruction uses the status flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlagUse {
    /// Reads some status flag before writing any.
    pub reads: bool,
    /// Writes all six (so flags before it are dead unless it reads them).
    pub writes_all: bool,
    /// A logic op: AF is undefined on hardware and 0 in the interpreter.
    pub logic: bool,
}

const NONE: FlagUse = FlagUse {
    reads: false,
    writes_all: false,
    logic: false,
};

/// Flag use of an instruction the compiler handles (see [`supported`]).
pub(crate) fn flag_use(i: &Inst) -> FlagUse {
    let all = |logic| FlagUse {
        reads: false,
        writes_all: true,
        logic,
    };
    let reads = FlagUse {
        reads: true,
        writes_all: false,
        logic: false,
    };
    match i.op {
        Op::Add | Op::Sub | Op::Cmp | Op::Neg => all(false),
        Op::And | Op::Or | Op::Xor | Op::Test => all(true),
        Op::Adc | Op::Sbb => FlagUse {
            reads: true,
            writes_all: true,
            logic: false,
        },
        // CF survives: whatever was live after is live before.
        Op::Inc | Op::Dec => NONE,
        // A non-zero count (the only kind compiled) writes every flag.
        Op::Shl | Op::Shr | Op::Sar | Op::Imul2 => all(false),
        // Only CF and OF change.
        Op::Rol | Op::Ror => NONE,
        // A fused compare-and-branch writes all flags, then reads them.
        Op::Jcc if i.dst != Loc::None => {
            all(crate::isa::fused_compare(i).is_some_and(|c| c.op == Op::Test))
        }
        Op::Jcc | Op::Setcc | Op::Cmov => reads,
        _ => NONE,
    }
}

/// Whether `r` is a plain general register (not AH..BH).
fn plain(loc: Loc, r: u8) -> bool {
    loc != Loc::Reg || r < 16
}

/// Whether the compiler has a template for `i` (everything else ends the
/// compiled part of a block and runs in the interpreter). Only instructions whose
/// every flag result the architecture defines are here (plus the logic ops, whose
/// undefined AF the compiler canonicalises to the interpreter's 0): host CPUs
/// differ in undefined flags, and results must not.
pub(crate) fn supported(i: &Inst) -> bool {
    if !plain(i.dst, i.dreg) || !plain(i.src, i.sreg) {
        return false;
    }
    let sized = matches!(i.size, 1 | 2 | 4 | 8);
    match i.op {
        Op::Nop => true,
        Op::Mov => {
            sized
                && matches!(
                    (i.dst, i.src),
                    (Loc::Reg, Loc::Reg | Loc::Imm | Loc::Mem) | (Loc::Mem, Loc::Reg | Loc::Imm)
                )
                && (i.size != 8 || i.src != Loc::Imm || i.dst == Loc::Reg || fits_i32(i.imm))
        }
        Op::Add | Op::Sub | Op::And | Op::Or | Op::Xor | Op::Adc | Op::Sbb | Op::Cmp | Op::Test => {
            sized
                && alu_shape(i.dst, i.src)
                && (i.src != Loc::Imm || i.size != 8 || fits_i32(i.imm))
        }
        Op::Inc | Op::Dec | Op::Neg | Op::Not => sized && matches!(i.dst, Loc::Reg | Loc::Mem),
        Op::Lea => i.dst == Loc::Reg && matches!(i.size, 4 | 8),
        Op::Movzx | Op::Movsx => {
            i.dst == Loc::Reg
                && matches!(i.size, 4 | 8)
                && matches!(i.src, Loc::Reg | Loc::Mem)
                && matches!(i.ssize, 1 | 2 | 4)
                && i.ssize < i.size
                && !(i.op == Op::Movzx && i.ssize == 4)
        }
        Op::Cmov => {
            matches!(i.size, 4 | 8) && i.dst == Loc::Reg && matches!(i.src, Loc::Reg | Loc::Mem)
        }
        Op::Setcc => i.size == 1 && matches!(i.dst, Loc::Reg | Loc::Mem),
        Op::Push => i.size == 8 && (i.dst == Loc::Reg || (i.dst == Loc::Imm)),
        Op::Pop => i.size == 8 && i.dst == Loc::Reg,
        Op::Jmp | Op::Call => true,
        Op::Shl | Op::Shr | Op::Sar | Op::Rol | Op::Ror => {
            sized
                && matches!(i.dst, Loc::Reg | Loc::Mem)
                && i.src == Loc::Imm
                && shift_count(i) != 0
        }
        Op::Imul2 => {
            matches!(i.size, 4 | 8)
                && i.dst == Loc::Reg
                && matches!(i.src, Loc::Reg | Loc::Mem)
                // A 32-bit imul's imm32 is kept zero-extended: its low 32 bits
                // are the operand.
                && (!i.has_imm || i.size == 4 || fits_i32(i.imm))
        }
        Op::Ret => i.imm <= 0xffff,
        Op::JmpInd | Op::CallInd => i.size == 8 && matches!(i.dst, Loc::Reg | Loc::Mem),
        Op::Jcc => match crate::isa::fused_compare(i) {
            None => true,
            Some(c) => {
                alu_shape(c.dst, c.src)
                    && matches!(c.size, 1 | 2 | 4 | 8)
                    && (c.src != Loc::Imm || c.size != 8 || fits_i32(c.imm))
            }
        },
        _ => false,
    }
}

/// The masked count of a shift or rotate by an immediate.
pub(crate) fn shift_count(i: &Inst) -> u32 {
    (i.imm as u32) & if i.size == 8 { 63 } else { 31 }
}

/// Whether the host leaves some flag of `i` undefined that the interpreter
/// defines (shifts and rotates: AF, and OF past a count of 1; `imul`: SF, ZF,
/// AF, PF). Such an instruction is compiled only where [`flags_die`] holds.
pub(crate) fn undefined_flags(i: &Inst) -> bool {
    matches!(
        i.op,
        Op::Shl | Op::Shr | Op::Sar | Op::Rol | Op::Ror | Op::Imul2
    )
}

/// Whether an instruction can leave the compiled code (a memory check, a stack
/// access, the end of the block) or has no template.
fn may_exit(i: &Inst) -> bool {
    let memory = (i.dst == Loc::Mem || i.src == Loc::Mem) && i.op != Op::Lea;
    memory || matches!(i.op, Op::Push | Op::Pop) || i.ends_block() || !supported(i)
}

/// Whether the flags that `body[k]` leaves are overwritten by a later
/// instruction of `body` before anything reads them and before control could
/// leave the compiled code: then nobody can see the host's undefined flag bits.
pub(crate) fn flags_die(body: &[Inst], k: usize) -> bool {
    for i in &body[k + 1..] {
        let u = flag_use(i);
        if u.reads || may_exit(i) {
            return false;
        }
        // Only a writer of every flag: `inc`/`dec` keep CF, which a byte or word
        // shift by its width or more leaves undefined on some CPUs.
        if u.writes_all && !undefined_flags(i) {
            return true;
        }
    }
    false
}

fn alu_shape(dst: Loc, src: Loc) -> bool {
    matches!(
        (dst, src),
        (Loc::Reg, Loc::Reg | Loc::Imm | Loc::Mem) | (Loc::Mem, Loc::Reg | Loc::Imm)
    )
}

pub(crate) fn fits_i32(v: u64) -> bool {
    v as i64 == i64::from(v as i32)
}

/// For each instruction, whether the flags are live just before it. After the
/// last one they count as live (the next block or the interpreter may read them).
pub(crate) fn live_before(insts: &[Inst]) -> Vec<bool> {
    let mut live = vec![false; insts.len()];
    let mut after = true;
    for (k, i) in insts.iter().enumerate().rev() {
        let u = flag_use(i);
        let before = u.reads || (after && !u.writes_all);
        live[k] = before;
        after = before;
    }
    live
}
