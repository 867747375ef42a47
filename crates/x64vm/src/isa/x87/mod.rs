//! The x87 FPU: operand moving, the register stack, condition codes and the
//! exception protocol. The arithmetic itself is in [`arith`] and
//! [`transcendental`] (pure functions on 80-bit patterns, no host floating point).
//!
//! Exceptions: every exception sets its flag in the status word. With the
//! default masks the masked response is delivered (the real indefinite NaN,
//! infinity, the rounded result, ...). An unmasked invalid, denormal or
//! zero-divide exception leaves the destination and the stack unchanged; an
//! unmasked overflow, underflow or precision exception delivers the masked
//! result (hardware would deliver a scaled one). Either way the exception is
//! then pending (ES), and the next waiting x87 instruction traps with
//! `floating_point_exception`, as #MF would.

pub mod arith;
pub mod transcendental;

use super::{ExecResult, ea};
use crate::cpu::{Cpu, flag, reg};
use crate::cpu_x87::{F80, X87, sw};
use crate::ir::{Inst, Loc, Op};
use crate::mem::Memory;
use crate::trap::Trap;
use arith::{BinOp, Class, Cmp, Ctx, DBL, Rc, Res, SGL, classify};
use transcendental::{Trig, TrigOp};

/// `Fcom` selector bits (in `cc`).
pub mod com {
    /// Number of pops (0, 1 or 2) in bits 1..0.
    pub const POPS: u8 = 3;
    /// `fucom*`: QNaN operands do not raise IE.
    pub const QUIET: u8 = 1 << 2;
    /// `fcomi*`/`fucomi*`: result in ZF, PF, CF.
    pub const EFLAGS: u8 = 1 << 3;
    /// `ficom*`: the memory operand is an integer.
    pub const INT: u8 = 1 << 4;
    /// `ftst`: compare with +0.0.
    pub const TST: u8 = 1 << 5;
}

/// `Farith` selector bits (in `cc`): bits 2..0 the operation (x87 reg-field digit).
pub mod ar {
    /// Pop after the operation (`faddp`, ...).
    pub const POP: u8 = 1 << 3;
    /// The memory operand is an integer (`fiadd`, ...).
    pub const INT: u8 = 1 << 4;
}

/// `Fmisc` selectors.
pub mod misc {
    #![allow(missing_docs)]
    pub const FCHS: u8 = 0;
    pub const FABS: u8 = 1;
    pub const FXAM: u8 = 2;
    pub const FFREE: u8 = 3;
    pub const FFREEP: u8 = 4;
    pub const FINCSTP: u8 = 5;
    pub const FDECSTP: u8 = 6;
    pub const FNOP: u8 = 7;
}

/// `Fmath` selectors.
pub mod math {
    #![allow(missing_docs)]
    pub const FSQRT: u8 = 0;
    pub const FRNDINT: u8 = 1;
    pub const FSCALE: u8 = 2;
    pub const FPREM: u8 = 3;
    pub const FPREM1: u8 = 4;
    pub const FXTRACT: u8 = 5;
}

/// `Ftrans` selectors.
pub mod trans {
    #![allow(missing_docs)]
    pub const F2XM1: u8 = 0;
    pub const FYL2X: u8 = 1;
    pub const FYL2XP1: u8 = 2;
    pub const FSIN: u8 = 3;
    pub const FCOS: u8 = 4;
    pub const FSINCOS: u8 = 5;
    pub const FPTAN: u8 = 6;
    pub const FPATAN: u8 = 7;
}

/// `Fctl` selectors.
pub mod ctl {
    #![allow(missing_docs)]
    pub const FLDCW: u8 = 0;
    pub const FNSTCW: u8 = 1;
    pub const FNSTSW: u8 = 2;
    pub const FNCLEX: u8 = 3;
    pub const FNINIT: u8 = 4;
    pub const FWAIT: u8 = 5;
}

/// `Fenv` selectors.
pub mod env {
    #![allow(missing_docs)]
    pub const FNSTENV: u8 = 0;
    pub const FLDENV: u8 = 1;
    pub const FNSAVE: u8 = 2;
    pub const FRSTOR: u8 = 3;
}

/// Whether `i` is a "waiting" instruction, which first delivers a pending
/// unmasked exception. The `fn*` control forms and the loads of control state
/// do not wait.
fn waits(i: &Inst) -> bool {
    match i.op {
        Op::Fctl => !matches!(
            i.cc,
            ctl::FLDCW | ctl::FNSTCW | ctl::FNSTSW | ctl::FNCLEX | ctl::FNINIT
        ),
        Op::Fenv => false,
        _ => true,
    }
}

/// Executes one x87 instruction.
pub(super) fn exec(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    if waits(i) && cpu.x87.pending() {
        return Err(Trap::FloatingPointException.into());
    }
    match i.op {
        Op::Fld => fld(cpu, mem, i),
        Op::FldConst => {
            let x = &mut cpu.x87;
            let v = transcendental::constant(i.cc, Rc::from_cw(x.cw));
            set_c1(x, false);
            push(x, v);
            Ok(())
        }
        Op::Fst => fst(cpu, mem, i),
        Op::Fist => fist(cpu, mem, i),
        Op::Farith => farith(cpu, mem, i),
        Op::Fcom => fcom(cpu, mem, i),
        Op::Fxch => {
            let x = &mut cpu.x87;
            set_c1(x, false);
            let (a, b) = (get(x, 0), get(x, i.sreg));
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (a, b),
                _ => {
                    if !underflow(x) {
                        return Ok(());
                    }
                    (a.unwrap_or(F80::INDEFINITE), b.unwrap_or(F80::INDEFINITE))
                }
            };
            x.set_st(0, b);
            x.set_st(i.sreg, a);
            Ok(())
        }
        Op::Fcmov => {
            let take = cpu.cond(i.cc);
            let x = &mut cpu.x87;
            set_c1(x, false);
            match (get(x, 0), get(x, i.sreg)) {
                (Some(_), Some(v)) => {
                    if take {
                        x.set_st(0, v);
                    }
                }
                _ => {
                    if underflow(x) && take {
                        x.set_st(0, F80::INDEFINITE);
                    }
                }
            }
            Ok(())
        }
        Op::Fmisc => {
            fmisc(&mut cpu.x87, i);
            Ok(())
        }
        Op::Fmath => {
            fmath(&mut cpu.x87, i);
            Ok(())
        }
        Op::Ftrans => {
            ftrans(&mut cpu.x87, i);
            Ok(())
        }
        Op::Fctl => fctl(cpu, mem, i),
        Op::Fenv => fenv(cpu, mem, i),
        _ => Ok(()),
    }
}

// ---- Stack and status helpers ----

fn set_cc(x: &mut X87, bit: u16, on: bool) {
    if on {
        x.sw |= bit;
    } else {
        x.sw &= !bit;
    }
}

fn set_c1(x: &mut X87, on: bool) {
    set_cc(x, sw::C1, on);
}

/// ST(i), or `None` when the register is empty.
fn get(x: &X87, i: u8) -> Option<F80> {
    if x.is_empty(i) { None } else { Some(x.st(i)) }
}

/// Signals stack underflow (IE, SF, C1 = 0). Returns whether the masked
/// response (the indefinite) is to be delivered.
fn underflow(x: &mut X87) -> bool {
    x.sw |= sw::IE | sw::SF;
    set_c1(x, false);
    x.cw & sw::IE != 0
}

/// Records the flags of a result and sets C1 from its rounding. Returns whether
/// the result is to be written (false for unmasked IE, DE, ZE).
fn deliver(x: &mut X87, r: &Res) -> bool {
    x.sw |= r.exc;
    set_c1(x, r.up);
    r.exc & (sw::IE | sw::DE | sw::ZE) & !x.cw == 0
}

/// Pushes `v`. If ST(7) is in use: stack overflow (IE, SF, C1 = 1) and, when
/// masked, the indefinite is pushed instead.
fn push(x: &mut X87, v: F80) {
    let t = x.top.wrapping_sub(1) & 7;
    let v = if x.used & (1 << t) != 0 {
        x.sw |= sw::IE | sw::SF;
        set_c1(x, true);
        if x.cw & sw::IE == 0 {
            return;
        }
        F80::INDEFINITE
    } else {
        v
    };
    x.top = t;
    x.set_st(0, v);
}

/// Marks ST(0) empty and increments TOP.
fn pop(x: &mut X87) {
    x.used &= !(1 << x.top);
    x.top = (x.top + 1) & 7;
}

fn ctx(x: &X87) -> Ctx {
    Ctx::from_cw(x.cw)
}

fn read_f80(mem: &Memory, a: u64) -> Result<F80, Trap> {
    let b = mem.read_bytes(a, 10)?;
    let mut arr = [0u8; 10];
    arr.copy_from_slice(&b);
    Ok(F80::from_le_bytes(arr))
}

/// Reads a memory operand as an 80-bit value without quieting SNaNs: floats of
/// 4, 8 or 10 bytes, or (with `int`) integers of 2, 4 or 8 bytes. Returns DE for
/// a denormal binary32/binary64.
fn read_operand(cpu: &Cpu, mem: &Memory, i: &Inst, int: bool) -> Result<(F80, u16), Trap> {
    let a = ea(cpu, i);
    if int {
        let v = mem.read_sized(a, i.size)?;
        return Ok((arith::from_int(crate::cpu::sext(v, i.size)), 0));
    }
    Ok(match i.size {
        4 => arith::from_ieee(mem.read_u32(a)? as u64, 8, 23),
        8 => arith::from_ieee(mem.read_u64(a)?, 11, 52),
        _ => (read_f80(mem, a)?, 0),
    })
}

// ---- Loads and stores ----

fn fld(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let (v, exc) = if i.src == Loc::Mem {
        let a = ea(cpu, i);
        if i.cc == 1 {
            let raw = mem.read_sized(a, i.size)?;
            (arith::from_int(crate::cpu::sext(raw, i.size)), 0)
        } else {
            match i.size {
                4 => arith::load_f32(mem.read_u32(a)?),
                8 => arith::load_f64(mem.read_u64(a)?),
                _ => (read_f80(mem, a)?, 0),
            }
        }
    } else {
        match get(&cpu.x87, i.sreg) {
            Some(v) => (v, 0),
            None => {
                if !underflow(&mut cpu.x87) {
                    return Ok(());
                }
                (F80::INDEFINITE, 0)
            }
        }
    };
    let x = &mut cpu.x87;
    if !deliver(x, &Res::exact(v, exc)) {
        return Ok(());
    }
    push(x, v);
    Ok(())
}

fn fst(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let pop_after = i.cc & 1 != 0;
    let rc = Rc::from_cw(cpu.x87.cw);
    let v = match get(&cpu.x87, 0) {
        Some(v) => Some(v),
        None => {
            if !underflow(&mut cpu.x87) {
                return Ok(());
            }
            None
        }
    };
    if i.dst == Loc::Mem {
        let a = ea(cpu, i);
        match i.size {
            4 | 8 => {
                let f = if i.size == 4 { SGL } else { DBL };
                let (bits, exc, up) = match v {
                    Some(v) => arith::store_ieee(v, f, rc),
                    None => arith::store_ieee(F80::INDEFINITE, f, rc),
                };
                if v.is_some()
                    && !deliver(
                        &mut cpu.x87,
                        &Res {
                            v: F80::ZERO,
                            exc,
                            up,
                        },
                    )
                {
                    return Ok(());
                }
                mem.write_sized(a, i.size, bits)?;
            }
            _ => mem.write_bytes(a, &v.unwrap_or(F80::INDEFINITE).to_le_bytes())?,
        }
        if v.is_some() && i.size == 10 {
            set_c1(&mut cpu.x87, false);
        }
    } else {
        let x = &mut cpu.x87;
        if v.is_some() {
            set_c1(x, false);
        }
        x.set_st(i.dreg, v.unwrap_or(F80::INDEFINITE));
    }
    if pop_after {
        pop(&mut cpu.x87);
    }
    Ok(())
}

fn fist(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let bits = i.size as u32 * 8;
    let rc = if i.cc == 2 {
        Rc::Zero
    } else {
        Rc::from_cw(cpu.x87.cw)
    };
    let (val, exc, up) = match get(&cpu.x87, 0) {
        Some(v) => arith::to_int(v, bits, rc),
        None => {
            if !underflow(&mut cpu.x87) {
                return Ok(());
            }
            (1u64 << (bits - 1), 0, false)
        }
    };
    if !deliver(
        &mut cpu.x87,
        &Res {
            v: F80::ZERO,
            exc,
            up,
        },
    ) {
        return Ok(());
    }
    let a = ea(cpu, i);
    mem.write_sized(a, i.size, val)?;
    if i.cc != 0 {
        pop(&mut cpu.x87);
    }
    Ok(())
}

// ---- Arithmetic and compares ----

fn farith(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let op = BinOp::from_digit(i.cc & 7);
    let (dst, a, b, mem_exc) = if i.src == Loc::Mem {
        let (b, e) = read_operand(cpu, mem, i, i.cc & ar::INT != 0)?;
        (0, get(&cpu.x87, 0), Some(b), e)
    } else {
        (i.dreg, get(&cpu.x87, i.dreg), get(&cpu.x87, i.sreg), 0)
    };
    let x = &mut cpu.x87;
    match (a, b) {
        (Some(a), Some(b)) => {
            let mut r = arith::arith(op, a, b, ctx(x));
            // DE of a denormal binary32/binary64 operand (which is normal once
            // widened), unless a NaN or unsupported operand or zero divide wins.
            let special =
                |v: F80| matches!(classify(v), Class::Unsupported | Class::QNan | Class::SNan);
            if !special(a) && !special(b) && r.exc & sw::ZE == 0 {
                r.exc |= mem_exc;
            }
            if !deliver(x, &r) {
                return Ok(());
            }
            x.set_st(dst, r.v);
        }
        _ => {
            if !underflow(x) {
                return Ok(());
            }
            x.set_st(dst, F80::INDEFINITE);
        }
    }
    if i.cc & ar::POP != 0 {
        pop(x);
    }
    Ok(())
}

fn fcom(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let b = if i.cc & com::TST != 0 {
        Some((F80::ZERO, 0))
    } else if i.src == Loc::Mem {
        Some(read_operand(cpu, mem, i, i.cc & com::INT != 0)?)
    } else {
        get(&cpu.x87, i.sreg).map(|v| (v, 0))
    };
    let a = get(&cpu.x87, 0);
    let (result, exc) = match (a, b) {
        (Some(a), Some((b, e))) => {
            let (c, exc) = arith::compare(a, b, i.cc & com::QUIET != 0);
            let e = if c == Cmp::Unordered { 0 } else { e };
            (c, exc | e)
        }
        _ => {
            let x = &mut cpu.x87;
            if !underflow(x) {
                return Ok(());
            }
            (Cmp::Unordered, 0)
        }
    };
    let x = &mut cpu.x87;
    if !deliver(
        x,
        &Res {
            v: F80::ZERO,
            exc,
            up: false,
        },
    ) {
        return Ok(());
    }
    let (lt, eq, un) = (
        result == Cmp::Less,
        result == Cmp::Equal,
        result == Cmp::Unordered,
    );
    if i.cc & com::EFLAGS != 0 {
        // OF, SF and AF are cleared.
        let bits = if un {
            flag::ZF | flag::PF | flag::CF
        } else if lt {
            flag::CF
        } else if eq {
            flag::ZF
        } else {
            0
        };
        cpu.set_status(bits);
    } else {
        set_cc(x, sw::C0, lt || un);
        set_cc(x, sw::C2, un);
        set_cc(x, sw::C3, eq || un);
    }
    let x = &mut cpu.x87;
    for _ in 0..(i.cc & com::POPS) {
        pop(x);
    }
    Ok(())
}

// ---- One-operand and miscellaneous ----

fn fmisc(x: &mut X87, i: &Inst) {
    match i.cc {
        misc::FCHS | misc::FABS => match get(x, 0) {
            Some(v) => {
                set_c1(x, false);
                let s = if i.cc == misc::FCHS { !v.sign() } else { false };
                x.set_st(0, arith::with_sign(v, s));
            }
            None => {
                if underflow(x) {
                    x.set_st(0, F80::INDEFINITE);
                }
            }
        },
        misc::FXAM => {
            let v = x.st(0);
            let class: u16 = if x.is_empty(0) {
                0b101
            } else {
                match classify(v) {
                    Class::Unsupported => 0b000,
                    Class::QNan | Class::SNan => 0b001,
                    Class::Normal => 0b010,
                    Class::Inf => 0b011,
                    Class::Zero => 0b100,
                    Class::Denormal => 0b110,
                }
            };
            set_cc(x, sw::C3, class & 4 != 0);
            set_cc(x, sw::C2, class & 2 != 0);
            set_cc(x, sw::C0, class & 1 != 0);
            set_c1(x, v.sign());
        }
        misc::FFREE => x.used &= !(1 << x.phys(i.sreg)),
        misc::FFREEP => {
            x.used &= !(1 << x.phys(i.sreg));
            x.top = (x.top + 1) & 7;
        }
        misc::FINCSTP => {
            x.top = (x.top + 1) & 7;
            set_c1(x, false);
        }
        misc::FDECSTP => {
            x.top = x.top.wrapping_sub(1) & 7;
            set_c1(x, false);
        }
        _ => {}
    }
}

/// Applies a one-operand result to ST(0), or underflow when it is empty.
fn unary(x: &mut X87, f: impl FnOnce(F80, &X87) -> Res) {
    match get(x, 0) {
        Some(v) => {
            let r = f(v, x);
            if deliver(x, &r) {
                x.set_st(0, r.v);
            }
        }
        None => {
            if underflow(x) {
                x.set_st(0, F80::INDEFINITE);
            }
        }
    }
}

/// Applies a two-operand result (ST(0), ST(1)) to ST(`dst`), then pops `pops` times.
fn binary(x: &mut X87, dst: u8, pops: u8, f: impl FnOnce(F80, F80, &X87) -> Res) {
    match (get(x, 0), get(x, 1)) {
        (Some(a), Some(b)) => {
            let r = f(a, b, x);
            if !deliver(x, &r) {
                return;
            }
            x.set_st(dst, r.v);
        }
        _ => {
            if !underflow(x) {
                return;
            }
            x.set_st(dst, F80::INDEFINITE);
        }
    }
    for _ in 0..pops {
        pop(x);
    }
}

fn fmath(x: &mut X87, i: &Inst) {
    let rc = Rc::from_cw(x.cw);
    match i.cc {
        math::FSQRT => unary(x, |v, x| arith::sqrt(v, ctx(x))),
        math::FRNDINT => unary(x, |v, _| arith::round_int(v, rc)),
        math::FSCALE => binary(x, 0, 0, |a, b, _| arith::scale(a, b, rc)),
        math::FPREM | math::FPREM1 => {
            let (Some(a), Some(b)) = (get(x, 0), get(x, 1)) else {
                if underflow(x) {
                    x.set_st(0, F80::INDEFINITE);
                }
                return;
            };
            let p = arith::prem(a, b, i.cc == math::FPREM1);
            x.sw |= p.res.exc;
            if p.res.exc & (sw::IE | sw::DE) & !x.cw != 0 {
                return;
            }
            x.set_st(0, p.res.v);
            set_cc(x, sw::C2, p.incomplete);
            if let Some(q) = p.q {
                set_cc(x, sw::C0, q & 4 != 0);
                set_cc(x, sw::C3, q & 2 != 0);
                set_cc(x, sw::C1, q & 1 != 0);
            } else if !p.incomplete {
                set_c1(x, false);
            }
        }
        math::FXTRACT => match get(x, 0) {
            Some(v) => {
                let (e, s, exc) = arith::xtract(v);
                if !deliver(x, &Res::exact(e, exc)) {
                    return;
                }
                x.set_st(0, e);
                push(x, s);
            }
            None => {
                if underflow(x) {
                    x.set_st(0, F80::INDEFINITE);
                    push(x, F80::INDEFINITE);
                }
            }
        },
        _ => {}
    }
}

fn ftrans(x: &mut X87, i: &Inst) {
    let rc = Rc::from_cw(x.cw);
    match i.cc {
        trans::F2XM1 => unary(x, |v, _| transcendental::f2xm1(v, rc)),
        trans::FYL2X => binary(x, 1, 1, |a, b, _| transcendental::fyl2x(a, b, rc)),
        trans::FYL2XP1 => binary(x, 1, 1, |a, b, _| transcendental::fyl2xp1(a, b, rc)),
        trans::FPATAN => binary(x, 1, 1, |a, b, _| transcendental::fpatan(a, b, rc)),
        _ => {
            let op = match i.cc {
                trans::FSIN => TrigOp::Sin,
                trans::FCOS => TrigOp::Cos,
                trans::FSINCOS => TrigOp::SinCos,
                _ => TrigOp::Tan,
            };
            let Some(v) = get(x, 0) else {
                if underflow(x) {
                    x.set_st(0, F80::INDEFINITE);
                    if matches!(op, TrigOp::SinCos | TrigOp::Tan) {
                        push(x, F80::INDEFINITE);
                    }
                }
                return;
            };
            // A second result needs a free ST(7).
            if matches!(op, TrigOp::SinCos | TrigOp::Tan)
                && x.used & (1 << (x.top.wrapping_sub(1) & 7)) != 0
            {
                x.sw |= sw::IE | sw::SF;
                set_c1(x, true);
                if x.cw & sw::IE != 0 {
                    x.set_st(0, F80::INDEFINITE);
                    push(x, F80::INDEFINITE);
                    x.used |= 1 << x.top;
                }
                return;
            }
            match transcendental::trig(op, v, rc) {
                Trig::OutOfRange => set_cc(x, sw::C2, true),
                Trig::Done(r, second) => {
                    set_cc(x, sw::C2, false);
                    if !deliver(x, &r) {
                        return;
                    }
                    x.set_st(0, r.v);
                    match (op, second) {
                        (TrigOp::SinCos, Some(c)) => {
                            // The cosine is pushed (ST(1) = sin, ST(0) = cos).
                            let write = deliver(x, &c);
                            if write {
                                push(x, c.v);
                            }
                        }
                        (TrigOp::Tan, Some(one)) => push(x, one.v),
                        _ => {}
                    }
                }
            }
        }
    }
}

// ---- Control ----

fn fctl(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    match i.cc {
        ctl::FLDCW => {
            let v = mem.read_u16(ea(cpu, i))?;
            cpu.x87.cw = v | 0x40; // bit 6 reads as 1
        }
        ctl::FNSTCW => mem.write_u16(ea(cpu, i), cpu.x87.cw)?,
        ctl::FNSTSW => {
            let v = cpu.x87.status_word();
            if i.dst == Loc::Reg {
                cpu.write_reg(reg::RAX as u8, 2, v as u64);
            } else {
                mem.write_u16(ea(cpu, i), v)?;
            }
        }
        ctl::FNCLEX => cpu.x87.sw &= !(sw::EXC | sw::SF | sw::ES | sw::B),
        ctl::FNINIT => cpu.x87.init(),
        _ => {}
    }
    Ok(())
}

/// The 28-byte environment (32-bit protected-mode layout). The instruction and
/// operand pointers and the opcode are stored as 0.
fn env_bytes(x: &X87) -> [u8; 28] {
    let mut b = [0u8; 28];
    let words = [
        0xffff_0000 | x.cw as u32,
        0xffff_0000 | x.status_word() as u32,
        0xffff_0000 | x.tag_word() as u32,
        0,
        0,
        0,
        0xffff_0000,
    ];
    for (k, w) in words.iter().enumerate() {
        b[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
    }
    b
}

fn load_env(x: &mut X87, b: &[u8]) {
    let w = |k: usize| u16::from_le_bytes([b[4 * k], b[4 * k + 1]]);
    x.cw = w(0) | 0x40;
    x.set_status_word(w(1));
    x.set_tag_word(w(2));
}

fn fenv(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    let a = ea(cpu, i);
    match i.cc {
        env::FNSTENV => {
            mem.write_bytes(a, &env_bytes(&cpu.x87))?;
            cpu.x87.cw |= sw::EXC;
        }
        env::FLDENV => {
            let b = mem.read_bytes(a, 28)?;
            load_env(&mut cpu.x87, &b);
        }
        env::FNSAVE => {
            let x = &mut cpu.x87;
            let mut b = env_bytes(x).to_vec();
            for k in 0..8 {
                b.extend_from_slice(&x.st(k).to_le_bytes());
            }
            mem.write_bytes(a, &b)?;
            x.init();
        }
        _ => {
            let b = mem.read_bytes(a, 108)?;
            let x = &mut cpu.x87;
            load_env(x, &b);
            for k in 0..8u8 {
                let mut r = [0u8; 10];
                r.copy_from_slice(&b[28 + 10 * k as usize..38 + 10 * k as usize]);
                let p = x.phys(k);
                x.regs[p] = F80::from_le_bytes(r);
            }
        }
    }
    Ok(())
}
