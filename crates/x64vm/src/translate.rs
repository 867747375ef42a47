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
    if r.is_xmm() { Some(r.number() as u8) } else { None }
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
    let Some((d, dr, ds)) = operand(ins, 0, inst) else { return false };
    let Some((s, sr, ss)) = operand(ins, 1, inst) else { return false };
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
        M::Nop | M::Endbr64 | M::Endbr32 | M::Pause | M::Lfence | M::Mfence | M::Sfence
        | M::Prefetchnta | M::Prefetcht0 | M::Prefetcht1 | M::Prefetcht2 | M::Prefetchw => {
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
        M::Cmova | M::Cmovae | M::Cmovb | M::Cmovbe | M::Cmove | M::Cmovne | M::Cmovg
        | M::Cmovge | M::Cmovl | M::Cmovle | M::Cmovo | M::Cmovno | M::Cmovp | M::Cmovnp
        | M::Cmovs | M::Cmovns => {
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
        M::Seta | M::Setae | M::Setb | M::Setbe | M::Sete | M::Setne | M::Setg | M::Setge
        | M::Setl | M::Setle | M::Seto | M::Setno | M::Setp | M::Setnp | M::Sets | M::Setns => {
            inst.cc = cc(ins);
            two(ins, Op::Setcc, inst)
        }
        M::Ja | M::Jae | M::Jb | M::Jbe | M::Je | M::Jne | M::Jg | M::Jge | M::Jl | M::Jle
        | M::Jo | M::Jno | M::Jp | M::Jnp | M::Js | M::Jns => {
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
            inst.imm = if ins.op_count() > 0 { ins.immediate16() as u64 } else { 0 };
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
            inst.size = if ins.op_kind(0) == OpKind::NearBranch64 { 8 } else { 4 };
            inst.imm = ins.near_branch_target();
            true
        }
        M::Movsb | M::Movsw | M::Movsd | M::Movsq | M::Stosb | M::Stosw | M::Stosd | M::Stosq
        | M::Lodsb | M::Lodsw | M::Lodsd | M::Lodsq | M::Cmpsb | M::Cmpsw | M::Cmpsd
        | M::Cmpsq | M::Scasb | M::Scasw | M::Scasd | M::Scasq
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
        _ => false,
    }
}

/// 128-bit ops: operands must be XMM or memory, size 16.
fn xmm_shape(inst: &mut Inst) -> bool {
    inst.size = 16;
    matches!(inst.dst, Loc::Xmm | Loc::Mem) && matches!(inst.src, Loc::Xmm | Loc::Mem)
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
