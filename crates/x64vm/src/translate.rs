//! From iced-x86's decoded [`Instruction`] to the interpreter's [`Inst`].
//!
//! Operand shapes are resolved here once, so the interpreter never looks at
//! encodings. Anything not recognised becomes [`Op::Unsupported`], which only
//! traps if it is actually reached.

use iced_x86::{Instruction, Mnemonic, OpKind, Register};

use crate::ir::{Inst, Loc, NO_REG, Op, rep, seg};

/// Maps a general register to its index (16..19 for AH..BH); `None` for others.
fn gpr(r: Register) -> Option<u8> {
    match r {
        Register::AH => Some(16),
        Register::CH => Some(17),
        Register::DH => Some(18),
        Register::BH => Some(19),
        _ if r.is_gpr() => Some(r.full_register() as u8 - Register::RAX as u8),
        _ => None,
    }
}

/// Maps an XMM register to its index.
fn xmm(r: Register) -> Option<u8> {
    if r.is_xmm() {
        Some(r.number() as u8)
    } else {
        None
    }
}

/// Fills the memory-operand fields of `inst`. Returns false for addressing the VM
/// does not model (e.g. a non-GPR base).
fn memory(ins: &Instruction, inst: &mut Inst) -> bool {
    if ins.is_ip_rel_memory_operand() {
        inst.disp = ins.ip_rel_memory_address() as i64;
    } else {
        let base = ins.memory_base();
        let index = ins.memory_index();
        if base != Register::None {
            match gpr(base) {
                Some(b) if b < 16 => inst.base = b,
                _ => return false,
            }
            inst.addr32 = base.size() == 4;
        }
        if index != Register::None {
            match gpr(index) {
                Some(x) if x < 16 => inst.index = x,
                _ => return false,
            }
            inst.addr32 |= index.size() == 4;
        }
        if base == Register::None && index == Register::None {
            // A bare [disp32]: iced-x86 reports a 4-byte displacement only with a
            // 32-bit address size (0x67), where the address wraps at 4 GiB.
            inst.addr32 = ins.memory_displ_size() == 4;
        }
        inst.scale = ins.memory_index_scale().trailing_zeros() as u8;
        inst.disp = ins.memory_displacement64() as i64;
        if inst.addr32 {
            inst.disp = ins.memory_displacement64() as u32 as i64;
        }
    }
    inst.seg = match ins.memory_segment() {
        Register::FS => seg::FS,
        Register::GS => seg::GS,
        _ => seg::NONE,
    };
    true
}

/// Resolves operand `n` into a location, register number and size.
fn operand(ins: &Instruction, n: u32, inst: &mut Inst) -> Option<(Loc, u8, u8)> {
    if n >= ins.op_count() {
        return Some((Loc::None, 0, 0));
    }
    match ins.op_kind(n) {
        OpKind::Register => {
            let r = ins.op_register(n);
            if let Some(g) = gpr(r) {
                Some((Loc::Reg, g, r.size() as u8))
            } else {
                xmm(r).map(|x| (Loc::Xmm, x, 16))
            }
        }
        OpKind::Memory => {
            if !memory(ins, inst) {
                return None;
            }
            Some((Loc::Mem, 0, ins.memory_size().size() as u8))
        }
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate64
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32
        | OpKind::Immediate8to64
        | OpKind::Immediate32to64 => {
            inst.imm = ins.immediate(n);
            Some((Loc::Imm, 0, 0))
        }
        _ => None,
    }
}

/// Operand forms: (dst, src) both read through the generic resolver.
fn two(ins: &Instruction, op: Op, inst: &mut Inst) -> bool {
    let Some((d, dr, ds)) = operand(ins, 0, inst) else {
        return false;
    };
    let Some((s, sr, ss)) = operand(ins, 1, inst) else {
        return false;
    };
    inst.op = op;
    inst.dst = d;
    inst.dreg = dr;
    inst.src = s;
    inst.sreg = sr;
    inst.size = if d == Loc::None { ss } else { ds };
    inst.ssize = ss;
    true
}

fn cc(ins: &Instruction) -> u8 {
    (ins.condition_code() as u8).saturating_sub(1)
}

/// Translates one decoded instruction. Never fails: unknown forms become
/// [`Op::Unsupported`].
pub fn translate(ins: &Instruction) -> Inst {
    let mut inst = Inst::new(ins.ip(), ins.len() as u8, Op::Unsupported);
    if ins.is_invalid() || !translate_into(ins, &mut inst) {
        let mut blank = Inst::new(ins.ip(), ins.len().max(1) as u8, Op::Unsupported);
        blank.size = 0;
        return blank;
    }
    inst
}

fn translate_into(ins: &Instruction, inst: &mut Inst) -> bool {
    use Mnemonic as M;
    let m = ins.mnemonic();
    match m {
        // CET shadow-stack instructions sit in the hint-NOP space and execute as
        // NOPs on a CPU without CET (CPUID reports none), leaving their operand as is.
        M::Nop
        | M::Endbr64
        | M::Endbr32
        | M::Rdsspq
        | M::Rdsspd
        | M::Incsspq
        | M::Incsspd
        | M::Pause
        | M::Lfence
        | M::Mfence
        | M::Sfence
        | M::Prefetchnta
        | M::Prefetcht0
        | M::Prefetcht1
        | M::Prefetcht2
        | M::Prefetchw => {
            inst.op = Op::Nop;
            true
        }
        M::Mov => two(ins, Op::Mov, inst),
        M::Movzx => two(ins, Op::Movzx, inst),
        M::Movsx | M::Movsxd => two(ins, Op::Movsx, inst),
        M::Lea => {
            let ok = two(ins, Op::Lea, inst);
            inst.seg = seg::NONE; // lea ignores segment bases
            ok
        }
        M::Cmova
        | M::Cmovae
        | M::Cmovb
        | M::Cmovbe
        | M::Cmove
        | M::Cmovne
        | M::Cmovg
        | M::Cmovge
        | M::Cmovl
        | M::Cmovle
        | M::Cmovo
        | M::Cmovno
        | M::Cmovp
        | M::Cmovnp
        | M::Cmovs
        | M::Cmovns => {
            inst.cc = cc(ins);
            two(ins, Op::Cmov, inst)
        }
        M::Xchg => two(ins, Op::Xchg, inst),
        M::Bswap => two(ins, Op::Bswap, inst),
        M::Push | M::Pop => {
            let ok = two(ins, if m == M::Push { Op::Push } else { Op::Pop }, inst);
            // Stack slot size: 8, or 2 with an operand-size prefix.
            inst.size = ins.stack_pointer_increment().unsigned_abs() as u8;
            ok && inst.size != 0
        }
        M::Enter => {
            inst.op = Op::Enter;
            inst.imm = ins.immediate16() as u64;
            inst.cc = ins.immediate8_2nd();
            inst.size = 8;
            true
        }
        M::Leave => {
            inst.op = Op::Leave;
            true
        }
        M::Add => two(ins, Op::Add, inst),
        M::Adc => two(ins, Op::Adc, inst),
        M::Sub => two(ins, Op::Sub, inst),
        M::Sbb => two(ins, Op::Sbb, inst),
        M::Cmp => two(ins, Op::Cmp, inst),
        M::And => two(ins, Op::And, inst),
        M::Or => two(ins, Op::Or, inst),
        M::Xor => two(ins, Op::Xor, inst),
        M::Test => two(ins, Op::Test, inst),
        M::Inc => two(ins, Op::Inc, inst),
        M::Dec => two(ins, Op::Dec, inst),
        M::Neg => two(ins, Op::Neg, inst),
        M::Not => two(ins, Op::Not, inst),
        M::Mul => two(ins, Op::Mul, inst),
        M::Div => two(ins, Op::Div, inst),
        M::Idiv => two(ins, Op::Idiv, inst),
        M::Imul => match ins.op_count() {
            1 => two(ins, Op::Imul1, inst),
            2 => two(ins, Op::Imul2, inst),
            _ => {
                let ok = two(ins, Op::Imul2, inst);
                inst.imm = ins.immediate(2);
                inst.has_imm = true;
                ok
            }
        },
        M::Cbw | M::Cwde | M::Cdqe => {
            inst.op = Op::SextA;
            inst.size = match m {
                M::Cbw => 2,
                M::Cwde => 4,
                _ => 8,
            };
            true
        }
        M::Cwd | M::Cdq | M::Cqo => {
            inst.op = Op::SextD;
            inst.size = match m {
                M::Cwd => 2,
                M::Cdq => 4,
                _ => 8,
            };
            true
        }
        M::Shl | M::Sal | M::Shr | M::Sar | M::Rol | M::Ror | M::Rcl | M::Rcr => {
            let op = match m {
                M::Shl | M::Sal => Op::Shl,
                M::Shr => Op::Shr,
                M::Sar => Op::Sar,
                M::Rol => Op::Rol,
                M::Ror => Op::Ror,
                M::Rcl => Op::Rcl,
                _ => Op::Rcr,
            };
            let ok = two(ins, op, inst);
            if inst.src == Loc::None {
                // The implicit count of 1 (D0/D1 forms) is a normal immediate.
                inst.src = Loc::Imm;
                inst.imm = 1;
            }
            ok
        }
        M::Shld | M::Shrd => {
            let ok = two(ins, if m == M::Shld { Op::Shld } else { Op::Shrd }, inst);
            match ins.op_kind(2) {
                OpKind::Register => inst.ssize = 1, // count in CL
                _ => {
                    inst.ssize = 0;
                    inst.imm = ins.immediate(2);
                }
            }
            ok
        }
        M::Bt => two(ins, Op::Bt, inst),
        M::Bts => two(ins, Op::Bts, inst),
        M::Btr => two(ins, Op::Btr, inst),
        M::Btc => two(ins, Op::Btc, inst),
        M::Bsf => two(ins, Op::Bsf, inst),
        M::Bsr => two(ins, Op::Bsr, inst),
        M::Tzcnt => two(ins, Op::Tzcnt, inst),
        M::Lzcnt => two(ins, Op::Lzcnt, inst),
        M::Popcnt => two(ins, Op::Popcnt, inst),
        M::Seta
        | M::Setae
        | M::Setb
        | M::Setbe
        | M::Sete
        | M::Setne
        | M::Setg
        | M::Setge
        | M::Setl
        | M::Setle
        | M::Seto
        | M::Setno
        | M::Setp
        | M::Setnp
        | M::Sets
        | M::Setns => {
            inst.cc = cc(ins);
            two(ins, Op::Setcc, inst)
        }
        M::Ja
        | M::Jae
        | M::Jb
        | M::Jbe
        | M::Je
        | M::Jne
        | M::Jg
        | M::Jge
        | M::Jl
        | M::Jle
        | M::Jo
        | M::Jno
        | M::Jp
        | M::Jnp
        | M::Js
        | M::Jns => {
            inst.op = Op::Jcc;
            inst.cc = cc(ins);
            inst.imm = ins.near_branch_target();
            true
        }
        M::Jmp | M::Call => {
            let direct = m == M::Jmp;
            match ins.op_kind(0) {
                OpKind::NearBranch64 => {
                    inst.op = if direct { Op::Jmp } else { Op::Call };
                    inst.imm = ins.near_branch_target();
                    true
                }
                _ => {
                    let ok = two(ins, if direct { Op::JmpInd } else { Op::CallInd }, inst);
                    ok && inst.size == 8
                }
            }
        }
        M::Ret => {
            inst.op = Op::Ret;
            inst.imm = if ins.op_count() > 0 {
                ins.immediate16() as u64
            } else {
                0
            };
            true
        }
        M::Jrcxz | M::Jecxz => {
            inst.op = Op::Jrcxz;
            inst.size = if m == M::Jrcxz { 8 } else { 4 };
            inst.imm = ins.near_branch_target();
            true
        }
        M::Loop | M::Loope | M::Loopne => {
            inst.op = Op::Loop;
            inst.cc = match m {
                M::Loop => 0,
                M::Loope => 1,
                _ => 2,
            };
            // The counter is RCX, or ECX with an address-size prefix (the branch
            // itself is a 64-bit near branch either way).
            inst.size = if matches!(
                ins.code(),
                iced_x86::Code::Loop_rel8_64_ECX
                    | iced_x86::Code::Loope_rel8_64_ECX
                    | iced_x86::Code::Loopne_rel8_64_ECX
            ) {
                4
            } else {
                8
            };
            inst.imm = ins.near_branch_target();
            true
        }
        M::Movsb
        | M::Movsw
        | M::Movsd
        | M::Movsq
        | M::Stosb
        | M::Stosw
        | M::Stosd
        | M::Stosq
        | M::Lodsb
        | M::Lodsw
        | M::Lodsd
        | M::Lodsq
        | M::Cmpsb
        | M::Cmpsw
        | M::Cmpsd
        | M::Cmpsq
        | M::Scasb
        | M::Scasw
        | M::Scasd
        | M::Scasq
            if is_string_form(ins) =>
        {
            string(ins, inst)
        }
        M::Xadd => two(ins, Op::Xadd, inst),
        M::Cmpxchg => two(ins, Op::Cmpxchg, inst),
        M::Cmpxchg8b | M::Cmpxchg16b => {
            let ok = two(ins, Op::CmpxchgWide, inst);
            inst.size = if m == M::Cmpxchg8b { 8 } else { 16 };
            ok
        }
        M::Cpuid => simple(inst, Op::Cpuid),
        M::Rdtsc => simple(inst, Op::Rdtsc),
        M::Ud2 | M::Ud0 | M::Ud1 => simple(inst, Op::Ud2),
        M::Hlt => simple(inst, Op::Hlt),
        M::Int3 => simple(inst, Op::Int3),
        M::Int => {
            inst.op = Op::Int;
            inst.imm = ins.immediate8() as u64;
            true
        }
        M::Syscall => simple(inst, Op::Syscall),
        M::Pushfq | M::Pushf => {
            inst.size = if m == M::Pushfq { 8 } else { 2 };
            inst.op = Op::Pushf;
            true
        }
        M::Popfq | M::Popf => {
            inst.size = if m == M::Popfq { 8 } else { 2 };
            inst.op = Op::Popf;
            true
        }
        M::Lahf => simple(inst, Op::Lahf),
        M::Sahf => simple(inst, Op::Sahf),
        M::Clc => simple(inst, Op::Clc),
        M::Stc => simple(inst, Op::Stc),
        M::Cmc => simple(inst, Op::Cmc),
        M::Cld => simple(inst, Op::Cld),
        M::Std => simple(inst, Op::Std),
        M::Fld
        | M::Fild
        | M::Fld1
        | M::Fldl2t
        | M::Fldl2e
        | M::Fldpi
        | M::Fldlg2
        | M::Fldln2
        | M::Fldz
        | M::Fst
        | M::Fstp
        | M::Fist
        | M::Fistp
        | M::Fisttp
        | M::Fadd
        | M::Faddp
        | M::Fiadd
        | M::Fmul
        | M::Fmulp
        | M::Fimul
        | M::Fsub
        | M::Fsubp
        | M::Fisub
        | M::Fsubr
        | M::Fsubrp
        | M::Fisubr
        | M::Fdiv
        | M::Fdivp
        | M::Fidiv
        | M::Fdivr
        | M::Fdivrp
        | M::Fidivr
        | M::Fcom
        | M::Fcomp
        | M::Fcompp
        | M::Fucom
        | M::Fucomp
        | M::Fucompp
        | M::Ficom
        | M::Ficomp
        | M::Fcomi
        | M::Fcomip
        | M::Fucomi
        | M::Fucomip
        | M::Ftst
        | M::Fxch
        | M::Fcmovb
        | M::Fcmovbe
        | M::Fcmove
        | M::Fcmovnb
        | M::Fcmovnbe
        | M::Fcmovne
        | M::Fcmovnu
        | M::Fcmovu
        | M::Fchs
        | M::Fabs
        | M::Fxam
        | M::Ffree
        | M::Ffreep
        | M::Fincstp
        | M::Fdecstp
        | M::Fnop
        | M::Fsqrt
        | M::Frndint
        | M::Fscale
        | M::Fprem
        | M::Fprem1
        | M::Fxtract
        | M::F2xm1
        | M::Fyl2x
        | M::Fyl2xp1
        | M::Fsin
        | M::Fcos
        | M::Fsincos
        | M::Fptan
        | M::Fpatan
        | M::Fldcw
        | M::Fnstcw
        | M::Fnstsw
        | M::Fnclex
        | M::Fninit
        | M::Wait
        | M::Fnstenv
        | M::Fldenv
        | M::Fnsave
        | M::Frstor => x87(ins, inst),
        M::Movdqa | M::Movaps | M::Movapd => {
            inst.cc = 1;
            two(ins, Op::Movx, inst) && xmm_shape(inst)
        }
        M::Movdqu | M::Movups | M::Movupd => two(ins, Op::Movx, inst) && xmm_shape(inst),
        M::Movd | M::Movq => {
            let ok = two(ins, Op::MovdQ, inst);
            // Size of the non-XMM side (or 8 for xmm-to-xmm movq).
            inst.size = if m == M::Movd { 4 } else { 8 };
            ok
        }
        M::Pxor | M::Xorps | M::Xorpd => two(ins, Op::Pxor, inst) && xmm_shape(inst),
        M::Por | M::Orps | M::Orpd => two(ins, Op::Por, inst) && xmm_shape(inst),
        M::Pand | M::Andps | M::Andpd => two(ins, Op::Pand, inst) && xmm_shape(inst),
        M::Punpcklqdq | M::Movlhps => two(ins, Op::Punpcklqdq, inst) && xmm_shape(inst),
        M::Movhps | M::Movhpd => {
            let ok = two(ins, Op::MovHigh, inst);
            inst.cc = (inst.dst == Loc::Xmm) as u8;
            inst.size = 8;
            ok
        }
        M::Movhlps => {
            let ok = two(ins, Op::MovHigh, inst);
            inst.cc = 2;
            inst.size = 8;
            ok && inst.dst == Loc::Xmm && inst.src == Loc::Xmm
        }
        M::Paddb | M::Paddw | M::Paddd | M::Paddq => packed(ins, Op::Padd, lane(m), inst),
        M::Psubb | M::Psubw | M::Psubd | M::Psubq => packed(ins, Op::Psub, lane(m), inst),
        M::Pcmpeqb | M::Pcmpeqw | M::Pcmpeqd => packed(ins, Op::Pcmpeq, lane(m), inst),
        M::Pcmpgtb | M::Pcmpgtw | M::Pcmpgtd => packed(ins, Op::Pcmpgt, lane(m), inst),
        M::Pandn | M::Andnps | M::Andnpd => packed(ins, Op::Pandn, 16, inst),
        M::Punpcklbw | M::Punpcklwd | M::Punpckldq => packed(ins, Op::Punpckl, lane(m), inst),
        M::Punpckhbw | M::Punpckhwd | M::Punpckhdq | M::Punpckhqdq => {
            packed(ins, Op::Punpckh, lane(m), inst)
        }
        M::Psllw | M::Pslld | M::Psllq | M::Psrlw | M::Psrld | M::Psrlq | M::Psraw | M::Psrad => {
            let op = match m {
                M::Psllw | M::Pslld | M::Psllq => Op::Psll,
                M::Psrlw | M::Psrld | M::Psrlq => Op::Psrl,
                _ => Op::Psra,
            };
            let ok = two(ins, op, inst);
            inst.cc = lane(m);
            inst.size = 16;
            ok && inst.dst == Loc::Xmm && matches!(inst.src, Loc::Xmm | Loc::Mem | Loc::Imm)
        }
        M::Pslldq | M::Psrldq => {
            let ok = two(ins, Op::PshiftBytes, inst);
            inst.cc = (m == M::Pslldq) as u8;
            inst.size = 16;
            ok && inst.dst == Loc::Xmm && inst.src == Loc::Imm
        }
        M::Pshufd | M::Pshuflw | M::Pshufhw => {
            let op = if m == M::Pshufd {
                Op::Pshufd
            } else {
                Op::Pshufw
            };
            let ok = two(ins, op, inst) && xmm_shape(inst);
            inst.cc = (m == M::Pshufhw) as u8;
            inst.imm = ins.immediate(2);
            ok && inst.dst == Loc::Xmm
        }
        M::Pinsrw => {
            let ok = two(ins, Op::Pinsrw, inst);
            inst.imm = ins.immediate(2);
            inst.size = 16;
            ok && inst.dst == Loc::Xmm && matches!(inst.src, Loc::Reg | Loc::Mem)
        }
        M::Pextrw => {
            let ok = two(ins, Op::Pextrw, inst);
            inst.imm = ins.immediate(2);
            ok && matches!(inst.dst, Loc::Reg | Loc::Mem) && inst.src == Loc::Xmm
        }
        M::Pmovmskb => {
            let ok = two(ins, Op::Pmovmskb, inst);
            ok && inst.dst == Loc::Reg && inst.src == Loc::Xmm
        }
        _ => sse(ins, inst),
    }
}

/// Lane size in bytes of a packed-integer mnemonic.
fn lane(m: Mnemonic) -> u8 {
    use Mnemonic as M;
    match m {
        M::Paddb | M::Psubb | M::Pcmpeqb | M::Pcmpgtb | M::Punpcklbw | M::Punpckhbw => 1,
        M::Paddw
        | M::Psubw
        | M::Pcmpeqw
        | M::Pcmpgtw
        | M::Punpcklwd
        | M::Punpckhwd
        | M::Psllw
        | M::Psrlw
        | M::Psraw => 2,
        M::Paddd
        | M::Psubd
        | M::Pcmpeqd
        | M::Pcmpgtd
        | M::Punpckldq
        | M::Punpckhdq
        | M::Pslld
        | M::Psrld
        | M::Psrad => 4,
        _ => 8,
    }
}

/// A packed-integer op `op xmm, xmm/m128` on lanes of `lane` bytes (in `cc`).
fn packed(ins: &Instruction, op: Op, lane: u8, inst: &mut Inst) -> bool {
    let ok = two(ins, op, inst) && xmm_shape(inst);
    inst.cc = lane;
    ok && inst.dst == Loc::Xmm
}

/// 128-bit ops: operands must be XMM or memory, size 16.
fn xmm_shape(inst: &mut Inst) -> bool {
    inst.size = 16;
    matches!(inst.dst, Loc::Xmm | Loc::Mem) && matches!(inst.src, Loc::Xmm | Loc::Mem)
}

/// x87 instructions: the op and its selector (`cc`), ST(i) operands as indices
/// (`dreg` = first ST operand, `sreg` = last), a memory operand (`src` for
/// loads, `dst` for stores, `size` its width) or AX (`fnstsw ax`).
fn x87(ins: &Instruction, inst: &mut Inst) -> bool {
    use Mnemonic as M;
    let m = ins.mnemonic();
    let digit = |m: Mnemonic| match m {
        M::Fadd | M::Faddp | M::Fiadd => 0,
        M::Fmul | M::Fmulp | M::Fimul => 1,
        M::Fsub | M::Fsubp | M::Fisub => 4,
        M::Fsubr | M::Fsubrp | M::Fisubr => 5,
        M::Fdiv | M::Fdivp | M::Fidiv => 6,
        _ => 7,
    };
    let (op, cc, store) = match m {
        M::Fld => (Op::Fld, 0, false),
        M::Fild => (Op::Fld, 1, false),
        M::Fld1 => (Op::FldConst, 0, false),
        M::Fldl2t => (Op::FldConst, 1, false),
        M::Fldl2e => (Op::FldConst, 2, false),
        M::Fldpi => (Op::FldConst, 3, false),
        M::Fldlg2 => (Op::FldConst, 4, false),
        M::Fldln2 => (Op::FldConst, 5, false),
        M::Fldz => (Op::FldConst, 6, false),
        M::Fst => (Op::Fst, 0, true),
        M::Fstp => (Op::Fst, 1, true),
        M::Fist => (Op::Fist, 0, true),
        M::Fistp => (Op::Fist, 1, true),
        M::Fisttp => (Op::Fist, 2, true),
        M::Fadd | M::Fmul | M::Fsub | M::Fsubr | M::Fdiv | M::Fdivr => {
            (Op::Farith, digit(m), false)
        }
        M::Faddp | M::Fmulp | M::Fsubp | M::Fsubrp | M::Fdivp | M::Fdivrp => {
            (Op::Farith, digit(m) | 8, false)
        }
        M::Fiadd | M::Fimul | M::Fisub | M::Fisubr | M::Fidiv | M::Fidivr => {
            (Op::Farith, digit(m) | 16, false)
        }
        M::Fcom => (Op::Fcom, 0, false),
        M::Fcomp => (Op::Fcom, 1, false),
        M::Fcompp => (Op::Fcom, 2, false),
        M::Fucom => (Op::Fcom, 4, false),
        M::Fucomp => (Op::Fcom, 4 | 1, false),
        M::Fucompp => (Op::Fcom, 4 | 2, false),
        M::Ficom => (Op::Fcom, 16, false),
        M::Ficomp => (Op::Fcom, 16 | 1, false),
        M::Fcomi => (Op::Fcom, 8, false),
        M::Fcomip => (Op::Fcom, 8 | 1, false),
        M::Fucomi => (Op::Fcom, 8 | 4, false),
        M::Fucomip => (Op::Fcom, 8 | 4 | 1, false),
        M::Ftst => (Op::Fcom, 32, false),
        M::Fxch => (Op::Fxch, 0, false),
        // Conditions in x86 `tttn` order: B 2, NB 3, E 4, NE 5, BE 6, NBE 7, P 10, NP 11.
        M::Fcmovb => (Op::Fcmov, 2, false),
        M::Fcmovnb => (Op::Fcmov, 3, false),
        M::Fcmove => (Op::Fcmov, 4, false),
        M::Fcmovne => (Op::Fcmov, 5, false),
        M::Fcmovbe => (Op::Fcmov, 6, false),
        M::Fcmovnbe => (Op::Fcmov, 7, false),
        M::Fcmovu => (Op::Fcmov, 10, false),
        M::Fcmovnu => (Op::Fcmov, 11, false),
        M::Fchs => (Op::Fmisc, 0, false),
        M::Fabs => (Op::Fmisc, 1, false),
        M::Fxam => (Op::Fmisc, 2, false),
        M::Ffree => (Op::Fmisc, 3, false),
        M::Ffreep => (Op::Fmisc, 4, false),
        M::Fincstp => (Op::Fmisc, 5, false),
        M::Fdecstp => (Op::Fmisc, 6, false),
        M::Fnop => (Op::Fmisc, 7, false),
        M::Fsqrt => (Op::Fmath, 0, false),
        M::Frndint => (Op::Fmath, 1, false),
        M::Fscale => (Op::Fmath, 2, false),
        M::Fprem => (Op::Fmath, 3, false),
        M::Fprem1 => (Op::Fmath, 4, false),
        M::Fxtract => (Op::Fmath, 5, false),
        M::F2xm1 => (Op::Ftrans, 0, false),
        M::Fyl2x => (Op::Ftrans, 1, false),
        M::Fyl2xp1 => (Op::Ftrans, 2, false),
        M::Fsin => (Op::Ftrans, 3, false),
        M::Fcos => (Op::Ftrans, 4, false),
        M::Fsincos => (Op::Ftrans, 5, false),
        M::Fptan => (Op::Ftrans, 6, false),
        M::Fpatan => (Op::Ftrans, 7, false),
        M::Fldcw => (Op::Fctl, 0, false),
        M::Fnstcw => (Op::Fctl, 1, true),
        M::Fnstsw => (Op::Fctl, 2, true),
        M::Fnclex => (Op::Fctl, 3, false),
        M::Fninit => (Op::Fctl, 4, false),
        M::Wait => (Op::Fctl, 5, false),
        M::Fnstenv => (Op::Fenv, 0, true),
        M::Fldenv => (Op::Fenv, 1, false),
        M::Fnsave => (Op::Fenv, 2, true),
        M::Frstor => (Op::Fenv, 3, false),
        _ => return false,
    };
    inst.op = op;
    inst.cc = cc;
    inst.size = 0;
    let mut sts = Vec::new();
    for n in 0..ins.op_count() {
        match ins.op_kind(n) {
            OpKind::Register => {
                let r = ins.op_register(n);
                if r.is_st() {
                    sts.push((r as u32 - Register::ST0 as u32) as u8);
                } else if r == Register::AX {
                    inst.dst = Loc::Reg;
                    inst.dreg = 0;
                    inst.size = 2;
                } else {
                    return false;
                }
            }
            OpKind::Memory => {
                if !memory(ins, inst) {
                    return false;
                }
                if store {
                    inst.dst = Loc::Mem;
                } else {
                    inst.src = Loc::Mem;
                }
                inst.size = ins.memory_size().size() as u8;
            }
            _ => return false,
        }
    }
    if let (Some(&first), Some(&last)) = (sts.first(), sts.last()) {
        inst.dreg = first;
        inst.sreg = last;
    }
    if matches!(m, M::Fcompp | M::Fucompp) {
        inst.sreg = 1;
    }
    // Only the 32-bit-layout environment forms (no 0x66 prefix) are modelled.
    match op {
        Op::Fenv => matches!(inst.size, 28 | 108),
        Op::Fld | Op::Fst | Op::Farith | Op::Fcom | Op::Fist
            if inst.src == Loc::Mem || inst.dst == Loc::Mem =>
        {
            matches!(inst.size, 2 | 4 | 8 | 10)
        }
        _ => true,
    }
}

fn simple(inst: &mut Inst, op: Op) -> bool {
    inst.op = op;
    true
}

/// `movsd`/`cmpsd` are also SSE2 mnemonics; the string forms have no explicit
/// register operands.
fn is_string_form(ins: &Instruction) -> bool {
    (0..ins.op_count()).all(|i| {
        matches!(
            ins.op_kind(i),
            OpKind::MemorySegRSI | OpKind::MemoryESRDI | OpKind::Register
        ) && (ins.op_kind(i) != OpKind::Register || gpr(ins.op_register(i)).is_some())
    }) && ins.op_count() > 0
}

fn string(ins: &Instruction, inst: &mut Inst) -> bool {
    use Mnemonic as M;
    inst.op = match ins.mnemonic() {
        M::Movsb | M::Movsw | M::Movsd | M::Movsq => Op::Movs,
        M::Stosb | M::Stosw | M::Stosd | M::Stosq => Op::Stos,
        M::Lodsb | M::Lodsw | M::Lodsd | M::Lodsq => Op::Lods,
        M::Cmpsb | M::Cmpsw | M::Cmpsd | M::Cmpsq => Op::Cmps,
        _ => Op::Scas,
    };
    inst.size = ins.memory_size().size() as u8;
    inst.cc = if ins.has_repne_prefix() {
        rep::REPNE
    } else if ins.has_rep_prefix() || ins.has_repe_prefix() {
        rep::REPE
    } else {
        rep::NONE
    };
    // A segment override on the source (fs:/gs:) of movs/lods/cmps.
    inst.seg = match ins.memory_segment() {
        Register::FS => seg::FS,
        Register::GS => seg::GS,
        _ => seg::NONE,
    };
    // 32-bit string addressing (0x67) is not modelled; compilers do not emit it.
    inst.addr32 = false;
    inst.base = NO_REG;
    matches!(inst.size, 1 | 2 | 4 | 8)
}

// ---------------------------------------------------------------------------
// SSE .. SSE4.2 beyond the integer-code basics above (isa/sse_float.rs,
// sse_move.rs, sse_int.rs, sse_string.rs). Reached only for mnemonics that
// the arms of `translate_into` do not claim.

/// Shape `op xmm, xmm/mem[, imm8]`: `cc` = `kind`, `ssize` = `elem`, `size` = the
/// memory operand's size (16 means the legacy-SSE alignment rule applies) or
/// `xsize` for a register source.
fn sse_op(ins: &Instruction, inst: &mut Inst, op: Op, kind: u8, elem: u8, xsize: u8) -> bool {
    let ok = two(ins, op, inst);
    inst.cc = kind;
    inst.ssize = elem;
    inst.size = if inst.src == Loc::Mem {
        ins.memory_size().size() as u8
    } else {
        xsize
    };
    if ins.op_count() == 3 && ins.op_kind(2) == OpKind::Immediate8 {
        inst.imm = ins.immediate8() as u64;
    }
    ok && inst.dst == Loc::Xmm && matches!(inst.src, Loc::Xmm | Loc::Mem)
}

/// Translates the SSE instructions of `isa::sse_float`, `sse_move`, `sse_int`
/// and `sse_string`; false for anything else.
fn sse(ins: &Instruction, inst: &mut Inst) -> bool {
    use crate::ir::sse_kind as k;
    use Mnemonic as M;
    let m = ins.mnemonic();
    let (fa, fd, fx) = (Op::SseFloatArith, Op::SseFloatDiv, Op::SseFloatApprox);
    let (ib, sh, cv) = (Op::PackedIntBinary, Op::SseShuffle, Op::SseCvt);
    let (op, kind, elem, xsize) = match m {
        M::Addps => (fa, k::ADD, 4, 16),
        M::Addpd => (fa, k::ADD, 8, 16),
        M::Addss => (fa, k::ADD, 4, 4),
        M::Addsd => (fa, k::ADD, 8, 8),
        M::Subps => (fa, k::SUB, 4, 16),
        M::Subpd => (fa, k::SUB, 8, 16),
        M::Subss => (fa, k::SUB, 4, 4),
        M::Subsd => (fa, k::SUB, 8, 8),
        M::Mulps => (fa, k::MUL, 4, 16),
        M::Mulpd => (fa, k::MUL, 8, 16),
        M::Mulss => (fa, k::MUL, 4, 4),
        M::Mulsd => (fa, k::MUL, 8, 8),
        M::Minps => (fa, k::MIN, 4, 16),
        M::Minpd => (fa, k::MIN, 8, 16),
        M::Minss => (fa, k::MIN, 4, 4),
        M::Minsd => (fa, k::MIN, 8, 8),
        M::Maxps => (fa, k::MAX, 4, 16),
        M::Maxpd => (fa, k::MAX, 8, 16),
        M::Maxss => (fa, k::MAX, 4, 4),
        M::Maxsd => (fa, k::MAX, 8, 8),
        M::Addsubps => (fa, k::ADDSUB, 4, 16),
        M::Addsubpd => (fa, k::ADDSUB, 8, 16),
        M::Haddps => (fa, k::HADD, 4, 16),
        M::Haddpd => (fa, k::HADD, 8, 16),
        M::Hsubps => (fa, k::HSUB, 4, 16),
        M::Hsubpd => (fa, k::HSUB, 8, 16),
        M::Divps => (fd, k::DIV, 4, 16),
        M::Divpd => (fd, k::DIV, 8, 16),
        M::Divss => (fd, k::DIV, 4, 4),
        M::Divsd => (fd, k::DIV, 8, 8),
        M::Sqrtps => (fd, k::SQRT, 4, 16),
        M::Sqrtpd => (fd, k::SQRT, 8, 16),
        M::Sqrtss => (fd, k::SQRT, 4, 4),
        M::Sqrtsd => (fd, k::SQRT, 8, 8),
        M::Rcpps => (fx, k::RCP, 4, 16),
        M::Rcpss => (fx, k::RCP, 4, 4),
        M::Rsqrtps => (fx, k::RSQRT, 4, 16),
        M::Rsqrtss => (fx, k::RSQRT, 4, 4),
        M::Cmpps => (Op::SseFloatCmp, 0, 4, 16),
        M::Cmppd => (Op::SseFloatCmp, 0, 8, 16),
        M::Cmpss => (Op::SseFloatCmp, 0, 4, 4),
        M::Cmpsd => (Op::SseFloatCmp, 0, 8, 8),
        M::Comiss => (Op::SseComi, 1, 4, 4),
        M::Comisd => (Op::SseComi, 1, 8, 8),
        M::Ucomiss => (Op::SseComi, 0, 4, 4),
        M::Ucomisd => (Op::SseComi, 0, 8, 8),
        M::Cvtss2sd => (cv, k::CVT_F2F, 4, 4),
        M::Cvtsd2ss => (cv, k::CVT_F2F, 8, 8),
        M::Cvtdq2ps => (cv, k::CVT_DQ2PS, 4, 16),
        M::Cvtps2dq => (cv, k::CVT_PS2DQ, 4, 16),
        M::Cvttps2dq => (cv, k::CVTT_PS2DQ, 4, 16),
        M::Cvtdq2pd => (cv, k::CVT_DQ2PD, 4, 16),
        M::Cvtpd2dq => (cv, k::CVT_PD2DQ, 8, 16),
        M::Cvttpd2dq => (cv, k::CVTT_PD2DQ, 8, 16),
        M::Cvtps2pd => (cv, k::CVT_PS2PD, 4, 16),
        M::Cvtpd2ps => (cv, k::CVT_PD2PS, 8, 16),
        M::Roundps => (Op::SseRound, 0, 4, 16),
        M::Roundpd => (Op::SseRound, 0, 8, 16),
        M::Roundss => (Op::SseRound, 0, 4, 4),
        M::Roundsd => (Op::SseRound, 0, 8, 8),
        M::Dpps => (Op::SseDot, 0, 4, 16),
        M::Dppd => (Op::SseDot, 0, 8, 16),
        M::Movddup => (Op::SseDup, k::MOVDDUP, 8, 16),
        M::Movshdup => (Op::SseDup, k::MOVSHDUP, 4, 16),
        M::Movsldup => (Op::SseDup, k::MOVSLDUP, 4, 16),
        M::Shufps => (sh, k::SHUFPS, 4, 16),
        M::Shufpd => (sh, k::SHUFPD, 8, 16),
        M::Blendps => (sh, k::BLENDPS, 4, 16),
        M::Blendpd => (sh, k::BLENDPD, 8, 16),
        M::Pblendw => (sh, k::PBLENDW, 2, 16),
        M::Insertps => (sh, k::INSERTPS, 4, 16),
        M::Palignr => (sh, k::PALIGNR, 1, 16),
        M::Pshufb => (sh, k::PSHUFB, 1, 16),
        M::Blendvps => (Op::SseBlendv, 0, 4, 16),
        M::Blendvpd => (Op::SseBlendv, 0, 8, 16),
        M::Pblendvb => (Op::SseBlendv, 0, 1, 16),
        M::Pmovzxbw => (Op::SsePmovx, 2, 1, 16),
        M::Pmovzxbd => (Op::SsePmovx, 4, 1, 16),
        M::Pmovzxbq => (Op::SsePmovx, 8, 1, 16),
        M::Pmovzxwd => (Op::SsePmovx, 4, 2, 16),
        M::Pmovzxwq => (Op::SsePmovx, 8, 2, 16),
        M::Pmovzxdq => (Op::SsePmovx, 8, 4, 16),
        M::Pmovsxbw => (Op::SsePmovx, 0x82, 1, 16),
        M::Pmovsxbd => (Op::SsePmovx, 0x84, 1, 16),
        M::Pmovsxbq => (Op::SsePmovx, 0x88, 1, 16),
        M::Pmovsxwd => (Op::SsePmovx, 0x84, 2, 16),
        M::Pmovsxwq => (Op::SsePmovx, 0x88, 2, 16),
        M::Pmovsxdq => (Op::SsePmovx, 0x88, 4, 16),
        M::Paddsb => (ib, k::ADDS, 1, 16),
        M::Paddsw => (ib, k::ADDS, 2, 16),
        M::Paddusb => (ib, k::ADDUS, 1, 16),
        M::Paddusw => (ib, k::ADDUS, 2, 16),
        M::Psubsb => (ib, k::SUBS, 1, 16),
        M::Psubsw => (ib, k::SUBS, 2, 16),
        M::Psubusb => (ib, k::SUBUS, 1, 16),
        M::Psubusw => (ib, k::SUBUS, 2, 16),
        M::Pmullw => (ib, k::MULLO, 2, 16),
        M::Pmulld => (ib, k::MULLO, 4, 16),
        M::Pmulhw => (ib, k::MULHI, 2, 16),
        M::Pmulhuw => (ib, k::MULHU, 2, 16),
        M::Pmulhrsw => (ib, k::MULHRS, 2, 16),
        M::Pmuludq => (ib, k::MULUDQ, 8, 16),
        M::Pmuldq => (ib, k::MULDQ, 8, 16),
        M::Pmaddwd => (ib, k::MADDWD, 4, 16),
        M::Pmaddubsw => (ib, k::MADDUBSW, 2, 16),
        M::Psadbw => (ib, k::SADBW, 8, 16),
        M::Pavgb => (ib, k::AVG, 1, 16),
        M::Pavgw => (ib, k::AVG, 2, 16),
        M::Pminub => (ib, k::MINU, 1, 16),
        M::Pminuw => (ib, k::MINU, 2, 16),
        M::Pminud => (ib, k::MINU, 4, 16),
        M::Pminsb => (ib, k::MINS, 1, 16),
        M::Pminsw => (ib, k::MINS, 2, 16),
        M::Pminsd => (ib, k::MINS, 4, 16),
        M::Pmaxub => (ib, k::MAXU, 1, 16),
        M::Pmaxuw => (ib, k::MAXU, 2, 16),
        M::Pmaxud => (ib, k::MAXU, 4, 16),
        M::Pmaxsb => (ib, k::MAXS, 1, 16),
        M::Pmaxsw => (ib, k::MAXS, 2, 16),
        M::Pmaxsd => (ib, k::MAXS, 4, 16),
        M::Psignb => (ib, k::SIGN, 1, 16),
        M::Psignw => (ib, k::SIGN, 2, 16),
        M::Psignd => (ib, k::SIGN, 4, 16),
        M::Phaddw => (ib, k::PHADD, 2, 16),
        M::Phaddd => (ib, k::PHADD, 4, 16),
        M::Phaddsw => (ib, k::PHADDS, 2, 16),
        M::Phsubw => (ib, k::PHSUB, 2, 16),
        M::Phsubd => (ib, k::PHSUB, 4, 16),
        M::Phsubsw => (ib, k::PHSUBS, 2, 16),
        M::Packsswb => (ib, k::PACKSS, 2, 16),
        M::Packssdw => (ib, k::PACKSS, 4, 16),
        M::Packuswb => (ib, k::PACKUS, 2, 16),
        M::Packusdw => (ib, k::PACKUS, 4, 16),
        M::Mpsadbw => (ib, k::MPSADBW, 1, 16),
        M::Pabsb => (Op::PackedIntUnary, k::ABS, 1, 16),
        M::Pabsw => (Op::PackedIntUnary, k::ABS, 2, 16),
        M::Pabsd => (Op::PackedIntUnary, k::ABS, 4, 16),
        M::Phminposuw => (Op::PackedIntUnary, k::MINPOS, 2, 16),
        M::Ptest => (Op::Ptest, 0, 16, 16),
        M::Pcmpistri => (Op::PcmpStr, 0, 4, 16),
        M::Pcmpistrm => (Op::PcmpStr, k::STR_MASK, 4, 16),
        M::Pcmpestri => (Op::PcmpStr, k::STR_EXPLICIT, 4, 16),
        M::Pcmpestri64 => (Op::PcmpStr, k::STR_EXPLICIT, 8, 16),
        M::Pcmpestrm => (Op::PcmpStr, k::STR_EXPLICIT | k::STR_MASK, 4, 16),
        M::Pcmpestrm64 => (Op::PcmpStr, k::STR_EXPLICIT | k::STR_MASK, 8, 16),
        _ => return sse_other(ins, inst, m),
    };
    sse_op(ins, inst, op, kind, elem, xsize)
}

/// The SSE instructions with other operand shapes.
fn sse_other(ins: &Instruction, inst: &mut Inst, m: Mnemonic) -> bool {
    use crate::ir::sse_kind as k;
    use Mnemonic as M;
    let elem = |m: Mnemonic| match m {
        M::Movss | M::Cvtsi2ss | M::Cvtss2si | M::Cvttss2si | M::Movmskps | M::Movlps => 4,
        _ => 8,
    };
    match m {
        M::Movss | M::Movsd => {
            let ok = two(ins, Op::SseMovScalar, inst);
            inst.ssize = elem(m);
            ok && matches!(
                (inst.dst, inst.src),
                (Loc::Xmm, Loc::Xmm) | (Loc::Xmm, Loc::Mem) | (Loc::Mem, Loc::Xmm)
            )
        }
        M::Movlps | M::Movlpd => {
            let ok = two(ins, Op::SseMovLow, inst);
            ok && matches!(
                (inst.dst, inst.src),
                (Loc::Xmm, Loc::Mem) | (Loc::Mem, Loc::Xmm)
            )
        }
        M::Movmskps | M::Movmskpd => {
            let ok = two(ins, Op::SseMovMask, inst);
            inst.ssize = if m == M::Movmskps { 4 } else { 8 };
            ok && inst.dst == Loc::Reg && inst.src == Loc::Xmm
        }
        M::Movntps | M::Movntpd | M::Movntdq | M::Movntdqa => {
            inst.cc = 1;
            two(ins, Op::Movx, inst) && xmm_shape(inst)
        }
        M::Lddqu => two(ins, Op::Movx, inst) && xmm_shape(inst),
        M::Movnti => {
            let ok = two(ins, Op::Mov, inst);
            ok && inst.dst == Loc::Mem && inst.src == Loc::Reg
        }
        M::Unpcklps => packed(ins, Op::Punpckl, 4, inst),
        M::Unpckhps => packed(ins, Op::Punpckh, 4, inst),
        M::Unpckhpd => packed(ins, Op::Punpckh, 8, inst),
        M::Unpcklpd => two(ins, Op::Punpcklqdq, inst) && xmm_shape(inst) && inst.dst == Loc::Xmm,
        M::Pcmpeqq => packed(ins, Op::Pcmpeq, 8, inst),
        M::Pcmpgtq => packed(ins, Op::Pcmpgt, 8, inst),
        M::Cvtsi2ss | M::Cvtsi2sd => {
            let ok = two(ins, Op::SseCvt, inst);
            inst.cc = k::CVT_I2F;
            inst.size = inst.ssize; // integer source size
            inst.ssize = elem(m);
            ok && inst.dst == Loc::Xmm
                && matches!(inst.src, Loc::Reg | Loc::Mem)
                && matches!(inst.size, 4 | 8)
        }
        M::Cvtss2si | M::Cvtsd2si | M::Cvttss2si | M::Cvttsd2si => {
            let ok = two(ins, Op::SseCvt, inst);
            inst.cc = if matches!(m, M::Cvttss2si | M::Cvttsd2si) {
                k::CVTT_F2I
            } else {
                k::CVT_F2I
            };
            inst.ssize = elem(m);
            ok && inst.dst == Loc::Reg
                && matches!(inst.src, Loc::Xmm | Loc::Mem)
                && matches!(inst.size, 4 | 8)
        }
        M::Pinsrb | M::Pinsrd | M::Pinsrq => {
            let ok = two(ins, Op::SsePinsr, inst);
            inst.ssize = match m {
                M::Pinsrb => 1,
                M::Pinsrd => 4,
                _ => 8,
            };
            inst.imm = ins.immediate8() as u64;
            ok && inst.dst == Loc::Xmm && matches!(inst.src, Loc::Reg | Loc::Mem)
        }
        M::Pextrb | M::Pextrd | M::Pextrq | M::Extractps => {
            let ok = two(ins, Op::SsePextr, inst);
            inst.ssize = match m {
                M::Pextrb => 1,
                M::Pextrq => 8,
                _ => 4,
            };
            inst.imm = ins.immediate8() as u64;
            ok && matches!(inst.dst, Loc::Reg | Loc::Mem) && inst.src == Loc::Xmm
        }
        M::Maskmovdqu => {
            // Operands: [rdi] (implicit), xmm1 (data), xmm2 (byte mask).
            let (Some(d), Some(s)) = (xmm(ins.op_register(1)), xmm(ins.op_register(2))) else {
                return false;
            };
            inst.op = Op::SseMaskMov;
            inst.dst = Loc::Xmm;
            inst.dreg = d;
            inst.src = Loc::Xmm;
            inst.sreg = s;
            inst.base = crate::cpu::reg::RDI as u8;
            inst.addr32 = ins.memory_base() == Register::EDI;
            inst.seg = match ins.memory_segment() {
                Register::FS => seg::FS,
                Register::GS => seg::GS,
                _ => seg::NONE,
            };
            true
        }
        M::Crc32 => {
            let ok = two(ins, Op::Crc32, inst);
            ok && inst.dst == Loc::Reg && matches!(inst.src, Loc::Reg | Loc::Mem)
        }
        M::Ldmxcsr | M::Stmxcsr => {
            let ok = two(
                ins,
                if m == M::Ldmxcsr {
                    Op::Ldmxcsr
                } else {
                    Op::Stmxcsr
                },
                inst,
            );
            ok && inst.dst == Loc::Mem
        }
        _ => false,
    }
}
