//! The SSE moves and bitwise ops that integer code gets from compilers (struct
//! copies, zeroing, `memset` expansions). The full SSE set comes later.

use super::{ExecResult, ea};
use crate::cpu::Cpu;
use crate::ir::{Inst, Loc, Op};
use crate::mem::Memory;
use crate::trap::Trap;

fn read128(cpu: &Cpu, mem: &Memory, i: &Inst, loc: Loc, reg: u8, aligned: bool) -> Result<u128, Trap> {
    match loc {
        Loc::Xmm => Ok(cpu.xmm[reg as usize & 15]),
        _ => {
            let a = ea(cpu, i);
            if aligned && a % 16 != 0 {
                return Err(Trap::MisalignedAccess { addr: a });
            }
            mem.read_u128(a)
        }
    }
}

fn write128(cpu: &mut Cpu, mem: &mut Memory, i: &Inst, v: u128, aligned: bool) -> Result<(), Trap> {
    match i.dst {
        Loc::Xmm => {
            cpu.xmm[i.dreg as usize & 15] = v;
            Ok(())
        }
        _ => {
            let a = ea(cpu, i);
            if aligned && a % 16 != 0 {
                return Err(Trap::MisalignedAccess { addr: a });
            }
            mem.write_u128(a, v)
        }
    }
}

/// Executes one of the SSE ops above.
pub(super) fn exec(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> ExecResult {
    match i.op {
        Op::Movx => {
            let aligned = i.cc == 1;
            let v = read128(cpu, mem, i, i.src, i.sreg, aligned)?;
            write128(cpu, mem, i, v, aligned)?;
        }
        Op::Pxor | Op::Por | Op::Pand => {
            // Legacy-SSE packed ops with a memory source require alignment.
            let b = read128(cpu, mem, i, i.src, i.sreg, true)?;
            let a = cpu.xmm[i.dreg as usize & 15];
            cpu.xmm[i.dreg as usize & 15] = match i.op {
                Op::Pxor => a ^ b,
                Op::Por => a | b,
                _ => a & b,
            };
        }
        Op::Punpcklqdq => {
            let b = read128(cpu, mem, i, i.src, i.sreg, i.src == Loc::Mem)?;
            let a = cpu.xmm[i.dreg as usize & 15];
            cpu.xmm[i.dreg as usize & 15] = (a & u64::MAX as u128) | (b << 64);
        }
        Op::MovHigh => {
            if i.cc == 1 {
                let v = mem.read_u64(ea(cpu, i))?;
                let x = &mut cpu.xmm[i.dreg as usize & 15];
                *x = (*x & u64::MAX as u128) | ((v as u128) << 64);
            } else {
                let v = (cpu.xmm[i.sreg as usize & 15] >> 64) as u64;
                mem.write_u64(ea(cpu, i), v)?;
            }
        }
        _ => movd_movq(cpu, mem, i)?,
    }
    Ok(())
}

/// MOVD/MOVQ: to an XMM register the value is zero-extended to 128 bits; from
/// one, the low 32/64 bits are taken.
fn movd_movq(cpu: &mut Cpu, mem: &mut Memory, i: &Inst) -> Result<(), Trap> {
    let v: u64 = match i.src {
        Loc::Xmm => cpu.xmm[i.sreg as usize & 15] as u64,
        Loc::Reg => cpu.read_reg(i.sreg, i.size),
        Loc::Mem => mem.read_sized(ea(cpu, i), i.size)?,
        _ => 0,
    } & crate::cpu::mask(i.size);
    match i.dst {
        Loc::Xmm => cpu.xmm[i.dreg as usize & 15] = v as u128,
        Loc::Reg => cpu.write_reg(i.dreg, i.size, v),
        Loc::Mem => mem.write_sized(ea(cpu, i), i.size, v)?,
        _ => {}
    }
    Ok(())
}
