//! Specialised handlers for hot instruction shapes beyond those of `hot` (which
//! `isa::handlers_for` tries first: 32/64-bit ALU ops and moves on registers,
//! immediates and `[base + disp]`, lea, push/pop, call/ret).
//!
//! The generic path ([`super::exec`]) matches on the op, then on each operand's
//! location and size at run time. For the other shapes compilers emit most (ALU
//! ops and moves of bytes and words, and of any addressing form, movzx and movsx,
//! shifts and rotates, inc/dec/neg/not, imul, cmovcc, setcc, conditional and
//! direct jumps, and the SSE2 integer ops of vectorised loops) the translator
//! instead picks a handler here, monomorphised over op, size and operand shape,
//! so none of those decisions are made per execution. Semantics are the same as
//! the generic path, to the lazy-flag record: tests/fast_paths.rs compares each
//! shape with the generic path, and the differential tests against the host CPU
//! exercise both (a shape not listed here falls back to the generic one).

use super::hot::{self, ADC, ADD, AND, CMP, Fast, MOV, Miss, OR, SBB, SUB, TEST, XOR, hot_body};
use super::shift::szp;
use super::{ExecResult, Handlers, body_handlers, ea, last_handlers};
use crate::cpu::{Cpu, FlagOp, flag, mask, reg, sext, sign_bit};
use crate::ir::{Inst, Loc, NO_REG, Op, seg};
use crate::mem::Memory;
use crate::trap::Trap;

/// An operand location known at compile time.
pub(super) trait Place {
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, which: Which) -> Result<u64, Trap>;
    fn put<const SIZE: u8>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap>;
}

/// Which register field an operand uses.
#[derive(Clone, Copy)]
pub(super) enum Which {
    Dst,
    Src,
}

pub(super) struct Reg;
/// A memory operand of any form.
struct Mem;
/// A memory operand `[base + disp]` (no index, no segment base, 64-bit address):
/// the most common form by far (stack slots, struct fields).
pub(super) struct MemB;
pub(super) struct Imm;

#[inline(always)]
fn ea_base(cpu: &Cpu, i: &Inst) -> u64 {
    cpu.gpr[i.base as usize & 15].wrapping_add(i.disp as u64)
}

/// The low `SIZE` bytes of `v` (SIZE is 1, 2, 4 or 8).
#[inline(always)]
pub(super) fn trunc<const SIZE: u8>(v: u64) -> u64 {
    match SIZE {
        8 => v,
        4 => v & 0xffff_ffff,
        2 => v & 0xffff,
        _ => v & 0xff,
    }
}

/// Reads `SIZE` bytes at `a`, zero-extended.
#[inline(always)]
fn load<const SIZE: u8>(mem: &Memory, a: u64) -> Result<u64, Trap> {
    match SIZE {
        8 => mem.read_u64(a),
        4 => mem.read_u32(a).map(u64::from),
        2 => mem.read_u16(a).map(u64::from),
        _ => mem.read_u8(a).map(u64::from),
    }
}

/// Writes the low `SIZE` bytes of `v` at `a`.
#[inline(always)]
fn store<const SIZE: u8>(mem: &mut Memory, a: u64, v: u64) -> Result<(), Trap> {
    match SIZE {
        8 => mem.write_u64(a, v),
        4 => mem.write_u32(a, v as u32),
        2 => mem.write_u16(a, v as u16),
        _ => mem.write_u8(a, v as u8),
    }
}

impl Place for Reg {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, _: &Memory, i: &Inst, which: Which) -> Result<u64, Trap> {
        let r = match which {
            Which::Dst => i.dreg,
            Which::Src => i.sreg,
        };
        Ok(trunc::<SIZE>(cpu.gpr[r as usize & 15]))
    }
    #[inline(always)]
    fn put<const SIZE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
        let g = &mut cpu.gpr[i.dreg as usize & 15];
        *g = if SIZE >= 4 {
            // 32-bit writes zero the upper half.
            trunc::<SIZE>(v)
        } else {
            // 8- and 16-bit writes keep the other bits. Only registers 0..15:
            // AH..BH (16..19) stay on the generic path.
            (*g & !trunc::<SIZE>(u64::MAX)) | trunc::<SIZE>(v)
        };
        Ok(())
    }
}

impl Place for Mem {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, _: Which) -> Result<u64, Trap> {
        load::<SIZE>(mem, ea(cpu, i))
    }
    #[inline(always)]
    fn put<const SIZE: u8>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
        store::<SIZE>(mem, ea(cpu, i), v)
    }
}

impl Place for MemB {
    #[inline(always)]
    fn get<const SIZE: u8>(cpu: &Cpu, mem: &Memory, i: &Inst, _: Which) -> Result<u64, Trap> {
        load::<SIZE>(mem, ea_base(cpu, i))
    }
    #[inline(always)]
    fn put<const SIZE: u8>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u64) -> Result<(), Trap> {
        store::<SIZE>(mem, ea_base(cpu, i), v)
    }
}

impl Place for Imm {
    #[inline(always)]
    fn get<const SIZE: u8>(_: &Cpu, _: &Memory, i: &Inst, _: Which) -> Result<u64, Trap> {
        Ok(trunc::<SIZE>(i.imm))
    }
    #[inline(always)]
    fn put<const SIZE: u8>(_: &mut Cpu, _: &mut Memory, _: &Inst, _: u64) -> Result<(), Trap> {
        Ok(())
    }
}

/// One ALU op (or `mov`) on 32- or 64-bit operands of fixed locations.
#[inline(always)]
fn alu<const OP: u8, const SIZE: u8, D: Place, S: Place>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let b = S::get::<SIZE>(cpu, mem, i, Which::Src)?;
    if OP == MOV {
        D::put::<SIZE>(cpu, mem, i, b)?;
        return Ok(());
    }
    let a = D::get::<SIZE>(cpu, mem, i, Which::Dst)?;
    let r = hot::compute::<OP, SIZE>(cpu, a, b);
    if OP != CMP && OP != TEST {
        D::put::<SIZE>(cpu, mem, i, r)?;
    }
    Ok(())
}

/// Whether the memory operand of `i` is the simple `[base + disp]` form.
pub(super) fn is_base_disp(i: &Inst) -> bool {
    i.base != NO_REG && i.index == NO_REG && i.seg == seg::NONE && !i.addr32
}

/// The specialised handler for a 32/64-bit ALU op or `mov` with a memory operand
/// of any addressing form (registers, immediates and `[base + disp]` have hot
/// handlers, see `hot::select`, which comes first).
fn alu_for<const OP: u8>(i: &Inst) -> Option<Handlers> {
    Some(match (i.dst, i.src, i.size) {
        (Loc::Reg, Loc::Mem, 8) => body_handlers!(alu::<OP, 8, Reg, Mem>),
        (Loc::Reg, Loc::Mem, 4) => body_handlers!(alu::<OP, 4, Reg, Mem>),
        (Loc::Mem, Loc::Reg, 8) => body_handlers!(alu::<OP, 8, Mem, Reg>),
        (Loc::Mem, Loc::Reg, 4) => body_handlers!(alu::<OP, 4, Mem, Reg>),
        (Loc::Mem, Loc::Imm, 8) => body_handlers!(alu::<OP, 8, Mem, Imm>),
        (Loc::Mem, Loc::Imm, 4) => body_handlers!(alu::<OP, 4, Mem, Imm>),
        _ => return None,
    })
}

/// JCC with a condition fixed at translation.
fn jcc<const CC: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    if cpu.cond(CC) {
        cpu.rip = i.imm;
    }
    Ok(())
}

fn jcc_for(cc: u8) -> Handlers {
    match cc & 15 {
        0 => last_handlers!(jcc::<0>),
        1 => last_handlers!(jcc::<1>),
        2 => last_handlers!(jcc::<2>),
        3 => last_handlers!(jcc::<3>),
        4 => last_handlers!(jcc::<4>),
        5 => last_handlers!(jcc::<5>),
        6 => last_handlers!(jcc::<6>),
        7 => last_handlers!(jcc::<7>),
        8 => last_handlers!(jcc::<8>),
        9 => last_handlers!(jcc::<9>),
        10 => last_handlers!(jcc::<10>),
        11 => last_handlers!(jcc::<11>),
        12 => last_handlers!(jcc::<12>),
        13 => last_handlers!(jcc::<13>),
        14 => last_handlers!(jcc::<14>),
        _ => last_handlers!(jcc::<15>),
    }
}

fn jmp(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    cpu.rip = i.imm;
    Ok(())
}

fn lea<const SIZE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    let a = ea(cpu, i);
    cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(a);
    Ok(())
}

/// The specialised handler for `i`, if one exists.
pub(super) fn select(i: &Inst) -> Option<Handlers> {
    if let Some(h) = select_more(i) {
        return Some(h);
    }
    match i.op {
        Op::Mov => alu_for::<MOV>(i),
        Op::Add => alu_for::<ADD>(i),
        Op::Or => alu_for::<OR>(i),
        Op::Adc => alu_for::<ADC>(i),
        Op::Sbb => alu_for::<SBB>(i),
        Op::And => alu_for::<AND>(i),
        Op::Sub => alu_for::<SUB>(i),
        Op::Xor => alu_for::<XOR>(i),
        Op::Cmp => alu_for::<CMP>(i),
        Op::Test => alu_for::<TEST>(i),
        Op::Jcc => Some(jcc_for(i.cc)),
        Op::Jmp => Some(last_handlers!(jmp)),
        // `call`, `ret`, `push reg` and `pop reg`: `hot::select`.
        Op::Lea if i.dst == Loc::Reg && i.size == 8 => Some(body_handlers!(lea::<8>)),
        Op::Lea if i.dst == Loc::Reg && i.size == 4 => Some(body_handlers!(lea::<4>)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// More shapes: byte and word ALU ops and moves, movzx/movsx, shifts and rotates
// of a register, inc/dec/not/neg, two- and three-operand imul, cmovcc, setcc
// and nop. Each mirrors its generic handler (arith.rs, mov.rs, muldiv.rs,
// shift.rs) step for step: same reads in the same order (so the same traps),
// same results, and the same lazy-flag record.

/// Whether the register operands of `i` are 0..15: AH..BH (16..19) take the
/// generic path.
fn low_regs(i: &Inst) -> bool {
    (i.dst != Loc::Reg || i.dreg < 16) && (i.src != Loc::Reg || i.sreg < 16)
}

/// The specialised handler for a byte or word ALU op or `mov` (not `adc`/`sbb`);
/// `HOT_OP` is the same op in `hot`'s numbering.
fn alu_small_for<const OP: u8, const HOT_OP: u8>(i: &Inst) -> Option<Handlers> {
    if !low_regs(i) {
        return None;
    }
    if is_base_disp(i) {
        return small_base_disp::<HOT_OP>(i);
    }
    Some(match (i.dst, i.src, i.size) {
        (Loc::Reg, Loc::Reg, 1) => body_handlers!(alu::<OP, 1, Reg, Reg>),
        (Loc::Reg, Loc::Reg, 2) => body_handlers!(alu::<OP, 2, Reg, Reg>),
        (Loc::Reg, Loc::Imm, 1) => body_handlers!(alu::<OP, 1, Reg, Imm>),
        (Loc::Reg, Loc::Imm, 2) => body_handlers!(alu::<OP, 2, Reg, Imm>),
        (Loc::Reg, Loc::Mem, 1) => body_handlers!(alu::<OP, 1, Reg, Mem>),
        (Loc::Reg, Loc::Mem, 2) => body_handlers!(alu::<OP, 2, Reg, Mem>),
        (Loc::Mem, Loc::Reg, 1) => body_handlers!(alu::<OP, 1, Mem, Reg>),
        (Loc::Mem, Loc::Reg, 2) => body_handlers!(alu::<OP, 2, Mem, Reg>),
        (Loc::Mem, Loc::Imm, 1) => body_handlers!(alu::<OP, 1, Mem, Imm>),
        (Loc::Mem, Loc::Imm, 2) => body_handlers!(alu::<OP, 2, Mem, Imm>),
        _ => return None,
    })
}

/// MOVZX (`SX` false) / MOVSX, MOVSXD (`SX` true) from `SSIZE` to `SIZE` bytes
/// (see `mov::movzx`, `mov::movsx`).
#[inline(always)]
fn extend<const SX: bool, const SSIZE: u8, const SIZE: u8, S: Place>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let v = S::get::<SSIZE>(cpu, mem, i, Which::Src)?;
    let v = if SX { sext(v, SSIZE) as u64 } else { v };
    Reg::put::<SIZE>(cpu, mem, i, v)?;
    Ok(())
}

/// The handlers of one extension, by source shape (`N` = `SSIZE`).
fn extend_at<const SX: bool, const SSIZE: u8, const N: usize, const SIZE: u8>(
    i: &Inst,
) -> Handlers {
    match i.src {
        Loc::Reg => body_handlers!(extend::<SX, SSIZE, SIZE, Reg>),
        _ if is_base_disp(i) => hot_body!(extend_load::<SX, SSIZE, N, SIZE>),
        _ => body_handlers!(extend::<SX, SSIZE, SIZE, Mem>),
    }
}

fn extend_for(i: &Inst) -> Option<Handlers> {
    if i.dst != Loc::Reg || !matches!(i.src, Loc::Reg | Loc::Mem) || !low_regs(i) {
        return None;
    }
    Some(match (i.op == Op::Movsx, i.ssize, i.size) {
        (false, 1, 4) => extend_at::<false, 1, 1, 4>(i),
        (false, 1, 8) => extend_at::<false, 1, 1, 8>(i),
        (false, 2, 4) => extend_at::<false, 2, 2, 4>(i),
        (false, 2, 8) => extend_at::<false, 2, 2, 8>(i),
        (true, 1, 4) => extend_at::<true, 1, 1, 4>(i),
        (true, 1, 8) => extend_at::<true, 1, 1, 8>(i),
        (true, 2, 4) => extend_at::<true, 2, 2, 4>(i),
        (true, 2, 8) => extend_at::<true, 2, 2, 8>(i),
        (true, 4, 8) => extend_at::<true, 4, 4, 8>(i),
        _ => return None,
    })
}

const SHL: u8 = 0;
const SHR: u8 = 1;
const SAR: u8 = 2;
const ROL: u8 = 3;
const ROR: u8 = 4;

/// SHL/SHR/SAR/ROL/ROR of a 32- or 64-bit register by an immediate or (`CL`) by
/// CL: `shift::shift` and `shift::rotate` for that shape, formulas unchanged.
#[inline(always)]
fn shift_reg<const OP: u8, const SIZE: u8, const CL: bool>(
    cpu: &mut Cpu,
    _: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let raw = if CL { cpu.gpr[reg::RCX] } else { i.imm };
    let n = (raw & 0xff) as u32 & if SIZE == 8 { 63 } else { 31 };
    let d = i.dreg as usize & 15;
    let a = trunc::<SIZE>(cpu.gpr[d]);
    if n == 0 {
        // Operand and flags unchanged, but a 32-bit register is still written.
        cpu.gpr[d] = a;
        return Ok(());
    }
    let bits = SIZE as u32 * 8;
    let m = mask(SIZE);
    let top = sign_bit(SIZE);
    if OP == ROL || OP == ROR {
        // n < bits here (masked count), so no `k == 0` case.
        let r = if OP == ROL {
            ((a << n) | (a >> (bits - n))) & m
        } else {
            ((a >> n) | (a << (bits - n))) & m
        };
        cpu.gpr[d] = r;
        let msb = r & top != 0;
        let (cf, of) = if OP == ROL {
            let cf = r & 1 != 0;
            (cf, msb != cf)
        } else {
            (msb, msb != (r & (top >> 1) != 0))
        };
        // `cpu.status() & !(CF | OF)` (as `shift::rotate`), from the inlined
        // accessors: the same bits without a call.
        let s = (cpu.pf() as u64) << 2
            | (cpu.af() as u64) << 4
            | (cpu.zf() as u64) << 6
            | (cpu.sf() as u64) << 7;
        cpu.set_status(s | cf as u64 | if of { flag::OF } else { 0 });
        return Ok(());
    }
    let (r, cf, of) = match OP {
        SHL => {
            let wide = (a as u128) << n;
            let r = wide as u64 & m;
            let cf = (wide >> bits) & 1 != 0;
            (r, cf, (r & top != 0) != cf)
        }
        SHR => {
            let r = a >> n;
            let cf = (a as u128 >> (n - 1)) & 1 != 0;
            (r, cf, a & top != 0)
        }
        _ => {
            let s = sext(a, SIZE);
            let r = (s >> n) as u64 & m;
            let cf = (s >> (n - 1)) & 1 != 0;
            (r, cf, false)
        }
    };
    cpu.gpr[d] = r;
    let mut f = szp(SIZE, r);
    if cf {
        f |= flag::CF;
    }
    if of {
        f |= flag::OF;
    }
    cpu.set_status(f);
    Ok(())
}

fn shift_at<const OP: u8>(i: &Inst) -> Option<Handlers> {
    if i.dst != Loc::Reg {
        return None;
    }
    let cl = match i.src {
        Loc::Imm => false,
        Loc::Reg if i.sreg == reg::RCX as u8 => true,
        _ => return None,
    };
    Some(match (i.size, cl) {
        (8, false) => body_handlers!(shift_reg::<OP, 8, false>),
        (4, false) => body_handlers!(shift_reg::<OP, 4, false>),
        (8, true) => body_handlers!(shift_reg::<OP, 8, true>),
        (4, true) => body_handlers!(shift_reg::<OP, 4, true>),
        _ => return None,
    })
}

const INC: u8 = 0;
const DEC: u8 = 1;
const NEG: u8 = 2;
const NOT: u8 = 3;

/// INC/DEC (CF kept), NEG, NOT: `arith::incdec`, `arith::neg`, `arith::not`.
#[inline(always)]
fn unary<const OP: u8, const SIZE: u8, D: Place>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let a = D::get::<SIZE>(cpu, mem, i, Which::Dst)?;
    match OP {
        INC | DEC => {
            let (op, r) = if OP == INC {
                (FlagOp::Inc, a.wrapping_add(1))
            } else {
                (FlagOp::Dec, a.wrapping_sub(1))
            };
            let r = trunc::<SIZE>(r);
            D::put::<SIZE>(cpu, mem, i, r)?;
            cpu.set_flags_incdec(op, SIZE, a, r);
        }
        NEG => {
            let r = trunc::<SIZE>(0u64.wrapping_sub(a));
            D::put::<SIZE>(cpu, mem, i, r)?;
            cpu.set_flags(FlagOp::Sub, SIZE, 0, a, r);
        }
        _ => D::put::<SIZE>(cpu, mem, i, trunc::<SIZE>(!a))?,
    }
    Ok(())
}

fn unary_at<const OP: u8>(i: &Inst) -> Option<Handlers> {
    Some(match (i.dst, i.size) {
        (Loc::Reg, 8) => body_handlers!(unary::<OP, 8, Reg>),
        (Loc::Reg, 4) => body_handlers!(unary::<OP, 4, Reg>),
        (Loc::Mem, 8) if is_base_disp(i) => body_handlers!(unary::<OP, 8, MemB>),
        (Loc::Mem, 4) if is_base_disp(i) => body_handlers!(unary::<OP, 4, MemB>),
        _ => return None,
    })
}

/// IMUL r, r/m and (`IMM`) IMUL r, r/m, imm: `muldiv::imul2`.
#[inline(always)]
fn imul2<const SIZE: u8, const IMM: bool, S: Place>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let b = S::get::<SIZE>(cpu, mem, i, Which::Src)?;
    let a = if IMM {
        trunc::<SIZE>(i.imm)
    } else {
        trunc::<SIZE>(cpu.gpr[i.dreg as usize & 15])
    };
    let p = sext(a, SIZE) as i128 * sext(b, SIZE) as i128;
    let lo = p as u64 & mask(SIZE);
    Reg::put::<SIZE>(cpu, mem, i, lo)?;
    let overflow = p != sext(lo, SIZE) as i128;
    cpu.set_status(if overflow { flag::CF | flag::OF } else { 0 });
    Ok(())
}

fn imul2_at<const IMM: bool>(i: &Inst) -> Option<Handlers> {
    Some(match (i.src, i.size) {
        (Loc::Reg, 8) => body_handlers!(imul2::<8, IMM, Reg>),
        (Loc::Reg, 4) => body_handlers!(imul2::<4, IMM, Reg>),
        (Loc::Mem, 8) if is_base_disp(i) => body_handlers!(imul2::<8, IMM, MemB>),
        (Loc::Mem, 4) if is_base_disp(i) => body_handlers!(imul2::<4, IMM, MemB>),
        (Loc::Mem, 8) => body_handlers!(imul2::<8, IMM, Mem>),
        (Loc::Mem, 4) => body_handlers!(imul2::<4, IMM, Mem>),
        _ => return None,
    })
}

/// A condition code given at run time (`i.cc`) rather than as a constant.
const CC_DYN: u8 = 16;

#[inline(always)]
fn cond<const CC: u8>(cpu: &Cpu, i: &Inst) -> bool {
    cpu.cond(if CC == CC_DYN { i.cc } else { CC })
}

/// CMOVcc r, r/m: `mov::cmov` (the source is read whatever the condition; a
/// 32-bit destination is written, so zero-extended, either way).
#[inline(always)]
fn cmov<const CC: u8, const SIZE: u8, S: Place>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let v = S::get::<SIZE>(cpu, mem, i, Which::Src)?;
    let r = if cond::<CC>(cpu, i) {
        v
    } else {
        trunc::<SIZE>(cpu.gpr[i.dreg as usize & 15])
    };
    Reg::put::<SIZE>(cpu, mem, i, r)?;
    Ok(())
}

/// `cmov` between registers, by condition.
fn cmov_rr<const SIZE: u8>(cc: u8) -> Handlers {
    match cc & 15 {
        0 => body_handlers!(cmov::<0, SIZE, Reg>),
        1 => body_handlers!(cmov::<1, SIZE, Reg>),
        2 => body_handlers!(cmov::<2, SIZE, Reg>),
        3 => body_handlers!(cmov::<3, SIZE, Reg>),
        4 => body_handlers!(cmov::<4, SIZE, Reg>),
        5 => body_handlers!(cmov::<5, SIZE, Reg>),
        6 => body_handlers!(cmov::<6, SIZE, Reg>),
        7 => body_handlers!(cmov::<7, SIZE, Reg>),
        8 => body_handlers!(cmov::<8, SIZE, Reg>),
        9 => body_handlers!(cmov::<9, SIZE, Reg>),
        10 => body_handlers!(cmov::<10, SIZE, Reg>),
        11 => body_handlers!(cmov::<11, SIZE, Reg>),
        12 => body_handlers!(cmov::<12, SIZE, Reg>),
        13 => body_handlers!(cmov::<13, SIZE, Reg>),
        14 => body_handlers!(cmov::<14, SIZE, Reg>),
        _ => body_handlers!(cmov::<15, SIZE, Reg>),
    }
}

fn cmov_for(i: &Inst) -> Option<Handlers> {
    if i.dst != Loc::Reg {
        return None;
    }
    Some(match (i.src, i.size) {
        (Loc::Reg, 8) => cmov_rr::<8>(i.cc),
        (Loc::Reg, 4) => cmov_rr::<4>(i.cc),
        (Loc::Mem, 8) => body_handlers!(cmov::<CC_DYN, 8, Mem>),
        (Loc::Mem, 4) => body_handlers!(cmov::<CC_DYN, 4, Mem>),
        _ => return None,
    })
}

/// SETcc r/m8: `mov::setcc`.
#[inline(always)]
fn setcc<const CC: u8, D: Place>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = cond::<CC>(cpu, i) as u64;
    D::put::<1>(cpu, mem, i, v)?;
    Ok(())
}

fn setcc_for(i: &Inst) -> Option<Handlers> {
    match i.dst {
        Loc::Reg if i.dreg < 16 => {}
        Loc::Mem => return Some(body_handlers!(setcc::<CC_DYN, Mem>)),
        _ => return None,
    }
    Some(match i.cc & 15 {
        0 => body_handlers!(setcc::<0, Reg>),
        1 => body_handlers!(setcc::<1, Reg>),
        2 => body_handlers!(setcc::<2, Reg>),
        3 => body_handlers!(setcc::<3, Reg>),
        4 => body_handlers!(setcc::<4, Reg>),
        5 => body_handlers!(setcc::<5, Reg>),
        6 => body_handlers!(setcc::<6, Reg>),
        7 => body_handlers!(setcc::<7, Reg>),
        8 => body_handlers!(setcc::<8, Reg>),
        9 => body_handlers!(setcc::<9, Reg>),
        10 => body_handlers!(setcc::<10, Reg>),
        11 => body_handlers!(setcc::<11, Reg>),
        12 => body_handlers!(setcc::<12, Reg>),
        13 => body_handlers!(setcc::<13, Reg>),
        14 => body_handlers!(setcc::<14, Reg>),
        _ => body_handlers!(setcc::<15, Reg>),
    })
}

fn nop(_: &mut Cpu, _: &mut Memory, _: &Inst) -> ExecResult {
    Ok(())
}

/// The handlers of this section, for shapes [`select`]'s own table does not cover.
fn select_more(i: &Inst) -> Option<Handlers> {
    match i.op {
        Op::Mov if i.size < 4 => alu_small_for::<MOV, { hot::MOV }>(i),
        Op::Add if i.size < 4 => alu_small_for::<ADD, { hot::ADD }>(i),
        Op::Or if i.size < 4 => alu_small_for::<OR, { hot::OR }>(i),
        Op::And if i.size < 4 => alu_small_for::<AND, { hot::AND }>(i),
        Op::Sub if i.size < 4 => alu_small_for::<SUB, { hot::SUB }>(i),
        Op::Xor if i.size < 4 => alu_small_for::<XOR, { hot::XOR }>(i),
        Op::Cmp if i.size < 4 => alu_small_for::<CMP, { hot::CMP }>(i),
        Op::Test if i.size < 4 => alu_small_for::<TEST, { hot::TEST }>(i),
        Op::Movzx | Op::Movsx => extend_for(i),
        Op::Shl => shift_at::<SHL>(i),
        Op::Shr => shift_at::<SHR>(i),
        Op::Sar => shift_at::<SAR>(i),
        Op::Rol => shift_at::<ROL>(i),
        Op::Ror => shift_at::<ROR>(i),
        Op::Inc => unary_at::<INC>(i),
        Op::Dec => unary_at::<DEC>(i),
        Op::Neg => unary_at::<NEG>(i),
        Op::Not => unary_at::<NOT>(i),
        Op::Imul2 if i.dst == Loc::Reg && i.has_imm => imul2_at::<true>(i),
        Op::Imul2 if i.dst == Loc::Reg => imul2_at::<false>(i),
        Op::Cmov => cmov_for(i),
        Op::Setcc => setcc_for(i),
        Op::Nop => Some(body_handlers!(nop)),
        _ => select_sse(i),
    }
}

// ---------------------------------------------------------------------------
// SSE2 integer ops that gcc emits for vectorised integer loops (SHA-256's message
// schedule and byte swaps): 128-bit moves (register and memory), logic, lane adds
// and subtracts, unpacks and packs between XMM registers, lane shifts by an
// immediate, and `movd`/`movq` between XMM and memory. Same formulas as sse.rs
// and sse_int.rs; other shapes take the generic path.

/// MOVDQA/MOVDQU/MOVAPS/... xmm, xmm.
fn movx_rr(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    cpu.xmm[i.dreg as usize & 15] = cpu.xmm[i.sreg as usize & 15];
    Ok(())
}

const PXOR: u8 = 0;
const POR: u8 = 1;
const PAND: u8 = 2;
const PADD: u8 = 3;
const PSUB: u8 = 4;

/// `f` on each pair of `LANE`-byte lanes, the result truncated to the lane (as
/// `lanes` in sse.rs). On byte arrays with a fixed lane size, so that the loop
/// unrolls into plain moves.
#[inline(always)]
fn lanes_of<const LANE: u8>(a: u128, b: u128, f: impl Fn(u64, u64) -> u64) -> u128 {
    let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
    let l = LANE as usize;
    let mut out = [0u8; 16];
    for k in 0..16 / l {
        let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
        x[..l].copy_from_slice(&a[k * l..k * l + l]);
        y[..l].copy_from_slice(&b[k * l..k * l + l]);
        let r = f(u64::from_le_bytes(x), u64::from_le_bytes(y));
        out[k * l..k * l + l].copy_from_slice(&r.to_le_bytes()[..l]);
    }
    u128::from_le_bytes(out)
}

/// PXOR/POR/PAND and PADD/PSUB on `LANE`-byte lanes, xmm, xmm.
#[inline(always)]
fn packed_rr<const OP: u8, const LANE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    let b = cpu.xmm[i.sreg as usize & 15];
    let x = &mut cpu.xmm[i.dreg as usize & 15];
    let a = *x;
    *x = match OP {
        PXOR => a ^ b,
        POR => a | b,
        PAND => a & b,
        PADD => lanes_of::<LANE>(a, b, u64::wrapping_add),
        _ => lanes_of::<LANE>(a, b, u64::wrapping_sub),
    };
    Ok(())
}

const PSLL: u8 = 0;
const PSRL: u8 = 1;
const PSRA: u8 = 2;

/// PSLL/PSRL/PSRA xmm, imm8 on `LANE`-byte lanes (`shift_lanes` in sse.rs).
#[inline(always)]
fn pshift_imm<const OP: u8, const LANE: u8>(cpu: &mut Cpu, _: &mut Memory, i: &Inst) -> ExecResult {
    let count = i.imm & 0xff;
    let bits = LANE as u64 * 8;
    let x = &mut cpu.xmm[i.dreg as usize & 15];
    *x = lanes_of::<LANE>(*x, 0, |v, _| match OP {
        PSLL if count < bits => v << count,
        PSRL if count < bits => v >> count,
        PSRA => (sext(v, LANE) >> count.min(bits - 1)) as u64,
        _ => 0,
    });
    Ok(())
}

/// MOVD/MOVQ xmm, m32/m64 (zero-extended into the register).
#[inline(always)]
fn movdq_load<const SIZE: u8, S: Place>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = S::get::<SIZE>(cpu, mem, i, Which::Src)?;
    cpu.xmm[i.dreg as usize & 15] = v as u128;
    Ok(())
}

/// MOVD/MOVQ m32/m64, xmm.
#[inline(always)]
fn movdq_store<const SIZE: u8, D: Place>(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let v = trunc::<SIZE>(cpu.xmm[i.sreg as usize & 15] as u64);
    D::put::<SIZE>(cpu, mem, i, v)?;
    Ok(())
}

fn packed_for<const OP: u8>(i: &Inst) -> Option<Handlers> {
    if i.dst != Loc::Xmm || i.src != Loc::Xmm {
        return None;
    }
    Some(match (OP, i.cc) {
        (PXOR | POR | PAND, _) => body_handlers!(packed_rr::<OP, 16>),
        (_, 1) => body_handlers!(packed_rr::<OP, 1>),
        (_, 2) => body_handlers!(packed_rr::<OP, 2>),
        (_, 4) => body_handlers!(packed_rr::<OP, 4>),
        (_, 8) => body_handlers!(packed_rr::<OP, 8>),
        _ => return None,
    })
}

fn pshift_for<const OP: u8>(i: &Inst) -> Option<Handlers> {
    if i.dst != Loc::Xmm || i.src != Loc::Imm {
        return None;
    }
    Some(match i.cc {
        2 => body_handlers!(pshift_imm::<OP, 2>),
        4 => body_handlers!(pshift_imm::<OP, 4>),
        8 => body_handlers!(pshift_imm::<OP, 8>),
        _ => return None,
    })
}

fn movdq_for(i: &Inst) -> Option<Handlers> {
    let b = is_base_disp(i);
    Some(match (i.dst, i.src, i.size, b) {
        (Loc::Xmm, Loc::Mem, 8, true) => body_handlers!(movdq_load::<8, MemB>),
        (Loc::Xmm, Loc::Mem, 4, true) => body_handlers!(movdq_load::<4, MemB>),
        (Loc::Xmm, Loc::Mem, 8, false) => body_handlers!(movdq_load::<8, Mem>),
        (Loc::Xmm, Loc::Mem, 4, false) => body_handlers!(movdq_load::<4, Mem>),
        (Loc::Mem, Loc::Xmm, 8, true) => body_handlers!(movdq_store::<8, MemB>),
        (Loc::Mem, Loc::Xmm, 4, true) => body_handlers!(movdq_store::<4, MemB>),
        (Loc::Mem, Loc::Xmm, 8, false) => body_handlers!(movdq_store::<8, Mem>),
        (Loc::Mem, Loc::Xmm, 4, false) => body_handlers!(movdq_store::<4, Mem>),
        _ => return None,
    })
}

/// The handlers of this section.
fn select_sse(i: &Inst) -> Option<Handlers> {
    match i.op {
        Op::Movx => movx_for(i),
        Op::Punpckl => punpck_for::<false>(i),
        Op::Punpckh => punpck_for::<true>(i),
        Op::PackedIntBinary => pack_for(i),
        Op::Pxor => packed_for::<PXOR>(i),
        Op::Por => packed_for::<POR>(i),
        Op::Pand => packed_for::<PAND>(i),
        Op::Padd => packed_for::<PADD>(i),
        Op::Psub => packed_for::<PSUB>(i),
        Op::Psll => pshift_for::<PSLL>(i),
        Op::Psrl => pshift_for::<PSRL>(i),
        Op::Psra => pshift_for::<PSRA>(i),
        Op::MovdQ => movdq_for(i),
        _ => None,
    }
}

/// PUNPCKL* (`HIGH` false) / PUNPCKH* xmm, xmm on `LANE`-byte lanes (`packed` in sse.rs).
#[inline(always)]
fn punpck_rr<const HIGH: bool, const LANE: u8>(
    cpu: &mut Cpu,
    _: &mut Memory,
    i: &Inst,
) -> ExecResult {
    // Lanes base + k of the destination and the source go to lanes 2k and 2k + 1.
    let b = cpu.xmm[i.sreg as usize & 15].to_le_bytes();
    let a = cpu.xmm[i.dreg as usize & 15].to_le_bytes();
    let l = LANE as usize;
    let n = 8 / l;
    let base = if HIGH { n } else { 0 };
    let mut out = [0u8; 16];
    for k in 0..n {
        let from = (base + k) * l;
        out[2 * k * l..2 * k * l + l].copy_from_slice(&a[from..from + l]);
        out[(2 * k + 1) * l..(2 * k + 2) * l].copy_from_slice(&b[from..from + l]);
    }
    cpu.xmm[i.dreg as usize & 15] = u128::from_le_bytes(out);
    Ok(())
}

/// PACKSSWB/PACKSSDW (`SIGNED`) and PACKUSWB/PACKUSDW xmm, xmm: the signed
/// `W`-byte lanes of the destination, then of the source, saturated to `W / 2`
/// bytes (`pack` in sse_int.rs).
#[inline(always)]
fn pack_rr<const SIGNED: bool, const W: usize>(
    cpu: &mut Cpu,
    _: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let a = cpu.xmm[i.dreg as usize & 15].to_le_bytes();
    let b = cpu.xmm[i.sreg as usize & 15].to_le_bytes();
    let h = W / 2;
    let bits = h as u32 * 8;
    let (lo, hi) = if SIGNED {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        (0, (1i64 << bits) - 1)
    };
    let mut out = [0u8; 16];
    // 16 / W lanes of each operand make the 16 / h lanes of the result.
    for j in 0..16 / h {
        let (v, k) = if j < 16 / W {
            (&a, j)
        } else {
            (&b, j - 16 / W)
        };
        let mut x = [0u8; 8];
        x[..W].copy_from_slice(&v[k * W..k * W + W]);
        let x = sext(u64::from_le_bytes(x), W as u8).clamp(lo, hi) as u64;
        out[j * h..j * h + h].copy_from_slice(&x.to_le_bytes()[..h]);
    }
    cpu.xmm[i.dreg as usize & 15] = u128::from_le_bytes(out);
    Ok(())
}

fn pack_for(i: &Inst) -> Option<Handlers> {
    use crate::ir::sse_kind as k;
    if i.dst != Loc::Xmm || i.src != Loc::Xmm {
        return None;
    }
    Some(match (i.cc, i.ssize) {
        (k::PACKSS, 2) => body_handlers!(pack_rr::<true, 2>),
        (k::PACKSS, 4) => body_handlers!(pack_rr::<true, 4>),
        (k::PACKUS, 2) => body_handlers!(pack_rr::<false, 2>),
        (k::PACKUS, 4) => body_handlers!(pack_rr::<false, 4>),
        _ => return None,
    })
}

fn punpck_for<const HIGH: bool>(i: &Inst) -> Option<Handlers> {
    if i.dst != Loc::Xmm || i.src != Loc::Xmm {
        return None;
    }
    Some(match i.cc {
        1 => body_handlers!(punpck_rr::<HIGH, 1>),
        2 => body_handlers!(punpck_rr::<HIGH, 2>),
        4 => body_handlers!(punpck_rr::<HIGH, 4>),
        8 => body_handlers!(punpck_rr::<HIGH, 8>),
        _ => return None,
    })
}

/// The address of a 16-byte operand: `[base + disp]` (`BASE`) or any form,
/// checked for 16-byte alignment when `ALIGNED` (`movdqa`, `movaps`, ...).
#[inline(always)]
fn ea16<const BASE: bool, const ALIGNED: bool>(cpu: &Cpu, i: &Inst) -> Result<u64, Trap> {
    let a = if BASE { ea_base(cpu, i) } else { ea(cpu, i) };
    if ALIGNED && a & 15 != 0 {
        return Err(Trap::MisalignedAccess { addr: a });
    }
    Ok(a)
}

/// MOVDQA/MOVDQU/MOVAPS/... xmm, m128.
#[inline(always)]
fn movx_load<const BASE: bool, const ALIGNED: bool>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let v = mem.read_u128(ea16::<BASE, ALIGNED>(cpu, i)?)?;
    cpu.xmm[i.dreg as usize & 15] = v;
    Ok(())
}

/// MOVDQA/MOVDQU/MOVAPS/... m128, xmm.
#[inline(always)]
fn movx_store<const BASE: bool, const ALIGNED: bool>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> ExecResult {
    let v = cpu.xmm[i.sreg as usize & 15];
    mem.write_u128(ea16::<BASE, ALIGNED>(cpu, i)?, v)?;
    Ok(())
}

fn movx_for(i: &Inst) -> Option<Handlers> {
    let b = is_base_disp(i);
    Some(match (i.dst, i.src, b, i.cc == 1) {
        (Loc::Xmm, Loc::Xmm, _, _) => body_handlers!(movx_rr),
        (Loc::Xmm, Loc::Mem, true, true) => body_handlers!(movx_load::<true, true>),
        (Loc::Xmm, Loc::Mem, true, false) => body_handlers!(movx_load::<true, false>),
        (Loc::Xmm, Loc::Mem, false, true) => body_handlers!(movx_load::<false, true>),
        (Loc::Xmm, Loc::Mem, false, false) => body_handlers!(movx_load::<false, false>),
        (Loc::Mem, Loc::Xmm, true, true) => body_handlers!(movx_store::<true, true>),
        (Loc::Mem, Loc::Xmm, true, false) => body_handlers!(movx_store::<true, false>),
        (Loc::Mem, Loc::Xmm, false, true) => body_handlers!(movx_store::<false, true>),
        (Loc::Mem, Loc::Xmm, false, false) => body_handlers!(movx_store::<false, false>),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Byte and word ALU ops and moves with a `[base + disp]` operand, and
// movzx/movsx loads from one, in the style of `hot`: memory through the probes,
// and anything out of the ordinary (an access that crosses a page, faults or
// needs bookkeeping) runs the generic path before any state changes. The fast
// path never calls out, so it saves no registers (the sieve's inner loops are
// such byte accesses). Flags through `hot::compute`, as for 32/64-bit operands.

/// The little-endian value of `N` bytes.
#[inline(always)]
pub(super) fn le_u64<const N: usize>(b: [u8; N]) -> u64 {
    let mut w = [0u8; 8];
    w[..N].copy_from_slice(&b);
    u64::from_le_bytes(w)
}

/// The low `N` bytes of `v`, little-endian.
#[inline(always)]
pub(super) fn le_bytes<const N: usize>(v: u64) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&v.to_le_bytes()[..N]);
    out
}

/// `OP reg, [base + disp]` on `SIZE` = `N` bytes (1 or 2): the register's
/// other bytes are kept.
#[inline(always)]
fn small_load_op<const OP: u8, const SIZE: u8, const N: usize>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> Fast {
    let at = mem.probe_read::<N>(ea_base(cpu, i)).ok_or(Miss)?;
    let b = le_u64(mem.load_probed(at));
    let d = i.dreg as usize & 15;
    let a = if OP == hot::MOV {
        0
    } else {
        trunc::<SIZE>(cpu.gpr[d])
    };
    let r = hot::compute::<OP, SIZE>(cpu, a, b);
    if OP != hot::CMP && OP != hot::TEST {
        let m = trunc::<SIZE>(u64::MAX);
        cpu.gpr[d] = (cpu.gpr[d] & !m) | (r & m);
    }
    Ok(())
}

/// The handlers for a byte or word op with a `[base + disp]` operand (`OP` in
/// `hot`'s numbering).
fn small_base_disp<const OP: u8>(i: &Inst) -> Option<Handlers> {
    Some(match (i.dst, i.src, i.size) {
        (Loc::Mem, Loc::Reg, 1) => hot_body!(hot::alu_mem::<OP, 1, hot::R>),
        (Loc::Mem, Loc::Reg, 2) => hot_body!(hot::alu_mem::<OP, 2, hot::R>),
        (Loc::Mem, Loc::Imm, 1) => hot_body!(hot::alu_mem::<OP, 1, hot::I>),
        (Loc::Mem, Loc::Imm, 2) => hot_body!(hot::alu_mem::<OP, 2, hot::I>),
        (Loc::Reg, Loc::Mem, 1) => hot_body!(small_load_op::<OP, 1, 1>),
        (Loc::Reg, Loc::Mem, 2) => hot_body!(small_load_op::<OP, 2, 2>),
        _ => return None,
    })
}

/// MOVZX/MOVSX/MOVSXD reg, `[base + disp]`: `SSIZE` = `N` bytes to `SIZE` (4 or 8).
#[inline(always)]
fn extend_load<const SX: bool, const SSIZE: u8, const N: usize, const SIZE: u8>(
    cpu: &mut Cpu,
    mem: &mut Memory,
    i: &Inst,
) -> Fast {
    let at = mem.probe_read::<N>(ea_base(cpu, i)).ok_or(Miss)?;
    let v = le_u64(mem.load_probed(at));
    let v = if SX { sext(v, SSIZE) as u64 } else { v };
    cpu.gpr[i.dreg as usize & 15] = trunc::<SIZE>(v);
    Ok(())
}
