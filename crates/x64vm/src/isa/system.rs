//! cpuid, rdtsc, and the flag instructions (lahf, sahf, clc, stc, cmc, cld, std).

use super::ExecResult;
use crate::cpu::{Cpu, flag, reg};
use crate::ir::{Inst, Op};

/// The vendor string CPUID leaf 0 reports.
pub const CPUID_VENDOR: &[u8; 12] = b"x64vm-VM x86";

/// The fixed CPUID identity: `(eax, ebx, ecx, edx)` for a leaf and subleaf.
///
/// Reports exactly what the VM implements (docs/semantics.md lists the bits).
pub fn cpuid(leaf: u32, _subleaf: u32) -> (u32, u32, u32, u32) {
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    match leaf {
        0 => (
            1,
            word(&CPUID_VENDOR[0..4]),
            word(&CPUID_VENDOR[8..12]),
            word(&CPUID_VENDOR[4..8]),
        ),
        // Family 6, model 0, stepping 0. ECX: SSE3 (0), SSSE3 (9), CX16 (13),
        // SSE4.1 (19), SSE4.2 (20, with CRC32), POPCNT (23).
        // EDX: FPU (0, x87), TSC (4), CX8 (8), CMOV (15, with FCMOV), SSE (25), SSE2 (26).
        1 => (
            0x0000_0600,
            0,
            1 | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 23),
            1 | (1 << 4) | (1 << 8) | (1 << 15) | (1 << 25) | (1 << 26),
        ),
        0x8000_0000 => (0x8000_0001, 0, 0, 0),
        // ECX: LAHF/SAHF in 64-bit mode (0), LZCNT (5). EDX: SYSCALL (11), LM (29).
        0x8000_0001 => (0, 0, 1 | (1 << 5), (1 << 11) | (1 << 29)),
        _ => (0, 0, 0, 0),
    }
}

/// CPUID.
pub(super) fn cpuid_op(cpu: &mut Cpu) -> ExecResult {
    let (a, b, c, d) = cpuid(cpu.gpr[reg::RAX] as u32, cpu.gpr[reg::RCX] as u32);
    cpu.gpr[reg::RAX] = a as u64;
    cpu.gpr[reg::RBX] = b as u64;
    cpu.gpr[reg::RCX] = c as u64;
    cpu.gpr[reg::RDX] = d as u64;
    Ok(())
}

/// RDTSC: EDX:EAX = instructions retired (counted at block granularity), so the
/// value depends only on the program's own execution.
pub(super) fn rdtsc(cpu: &mut Cpu) -> ExecResult {
    let t = cpu.retired;
    cpu.gpr[reg::RAX] = t & 0xffff_ffff;
    cpu.gpr[reg::RDX] = t >> 32;
    Ok(())
}

/// LAHF, SAHF, CLC, STC, CMC, CLD, STD.
pub(super) fn flag_op(cpu: &mut Cpu, i: &Inst) -> ExecResult {
    let s = cpu.status();
    match i.op {
        Op::Lahf => {
            // AH = SF:ZF:0:AF:0:PF:1:CF
            let ah = (s & (flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF)) | 2;
            cpu.write_reg(16, 1, ah);
        }
        Op::Sahf => {
            let ah = cpu.read_reg(16, 1);
            let low = flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF;
            cpu.set_status((s & flag::OF) | (ah & low));
        }
        Op::Clc => cpu.set_status(s & !flag::CF),
        Op::Stc => cpu.set_status(s | flag::CF),
        Op::Cmc => cpu.set_status(s ^ flag::CF),
        Op::Cld => cpu.set_df(false),
        _ => cpu.set_df(true),
    }
    Ok(())
}
