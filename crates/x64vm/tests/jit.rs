//! The block compiler (`src/jit`) against the interpreter, template by template.
//!
//! Every program here runs twice from the same start: with blocks compiled the
//! first time the loop dispatches them (`set_jit(Some(1))`, sometimes a later
//! threshold too) and with compiling off (`set_jit(None)`). Both runs must end
//! in exactly the same state: status (trap kind and address), gas used,
//! instructions retired, all sixteen registers, RIP, RFLAGS, FS/GS bases and
//! every readable page of memory. The compiler must never produce code the
//! assembler rejects (`JitStats::errors == 0`).
//!
//! Most programs are a loop over a table of rows in guest memory. Each row holds
//! sixteen register values and an RFLAGS value (random, edge and pointer
//! values); one iteration loads a row (RFLAGS through `popfq`), runs the body
//! under test and stores every register and `pushfq` into an output row. So one
//! program tries the body's instructions on a dozen states, with the flags
//! entering compiled code from the interpreter, live across blocks and leaving
//! through an exit. Memory operands point into read/write pages at random
//! places, across page ends, at the first write of a page, at read-only pages,
//! and (in the last row of some programs) at unmapped, guard and out-of-arena
//! addresses, so that the run ends with a trap there.
//!
//! Covered: every shape `jit::flags::supported` accepts (two-operand ALU ops
//! and `mov` at every size and operand form, unary ops, `lea`, `movzx`/`movsx`/
//! `movsxd`, `cmovcc`/`setcc`/`jcc` on all sixteen conditions, fused
//! compare-and-branch, `push`/`pop`/`call`/`ret`/`ret imm16`, indirect jumps and
//! calls through registers and memory), addressing with base, index, scale and
//! displacement, 32-bit addresses (0x67), RIP-relative and absolute operands
//! and FS/GS bases; shapes the compiler leaves to the interpreter in the middle
//! of a block; random instruction sequences; stack overflow; gas limits swept
//! over whole programs; self-modifying code with W^X off.

mod vmkit;

use iced_x86::code_asm::*;
use iced_x86::{
    Code, Decoder, DecoderOptions, FastFormatter, Instruction, MemoryOperand, Register,
};
use vmkit::{CODE, jcc};
use x64vm::interp::JitStats;
use x64vm::loader::Segment;
use x64vm::mem::perm;
use x64vm::{Config, Image, Instance, Layout, NoHost};

type R = Result<(), IcedError>;

// ---------------------------------------------------------------------------
// Guest memory layout

/// Read/write data: control words, input rows (page 0), output rows (page 1),
/// then four pages that memory operands point into.
const DATA: u64 = 0x60_0000;
/// Address of the next input row.
const ROWP: u64 = DATA;
/// Address of the next output row.
const OUTP: u64 = DATA + 8;
/// Rows left.
const CTR: u64 = DATA + 16;
/// RSP at entry.
const RSP0: u64 = DATA + 24;
/// R15 while the output row is written.
const SAVE: u64 = DATA + 32;
const ROWS: u64 = DATA + 0x100;
const OUTS: u64 = DATA + 0x1000;
/// Bytes per row: sixteen registers and RFLAGS.
const ROW: u64 = 17 * 8;
const MAX_ROWS: usize = 24;
/// The pages memory operands use.
const MEM: u64 = DATA + 0x2000;
const MEM_END: u64 = DATA + 0x6000;
/// A table of code addresses for indirect jumps through memory.
const TBL: u64 = MEM + 0x3c00;
/// The first of them again, across a page end.
const TBL_CROSS: u64 = MEM + 0x2000 - 4;
/// A read-only page, an unmapped one, and a read/write one after the hole.
const RO: u64 = MEM_END;
const HOLE: u64 = RO + 0x1000;
const FAR: u64 = HOLE + 0x1000;

const RSP: usize = 4;
const NAMES: [&str; 17] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15", "rflags",
];

const R8: [AsmRegister8; 16] = [
    al, cl, dl, bl, spl, bpl, sil, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b,
];
const R16: [AsmRegister16; 16] = [
    ax, cx, dx, bx, sp, bp, si, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w,
];
const R32: [AsmRegister32; 16] = [
    eax, ecx, edx, ebx, esp, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d,
];
const R64: [AsmRegister64; 16] = [
    rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
];
const REGS: [Register; 16] = [
    Register::RAX,
    Register::RCX,
    Register::RDX,
    Register::RBX,
    Register::RSP,
    Register::RBP,
    Register::RSI,
    Register::RDI,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
    Register::R12,
    Register::R13,
    Register::R14,
    Register::R15,
];

// ---------------------------------------------------------------------------
// Random numbers

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    fn pick<T: Copy>(&mut self, s: &[T]) -> T {
        s[self.below(s.len() as u64) as usize]
    }
    /// Edge values at every width, edges under random high bits, random values.
    fn value(&mut self) -> u64 {
        const EDGES: [u64; 22] = [
            0,
            1,
            2,
            0x7f,
            0x80,
            0xff,
            0x100,
            0x7fff,
            0x8000,
            0xffff,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0000,
            i64::MAX as u64,
            i64::MIN as u64,
            u64::MAX,
            u64::MAX - 1,
            0x8000_0000_0000_0001,
            0x0f0f_0f0f_f0f0_f0f0,
            0x10,
            0xfff0,
        ];
        match self.below(8) {
            0..=2 => self.pick(&EDGES),
            3 => {
                let e = self.pick(&EDGES);
                let keep = self.pick(&[0xffu64, 0xffff, 0xffff_ffff]);
                (self.next() & !keep) | (e & keep)
            }
            4 => self.next() & 0xff,
            5 => self.below(32).wrapping_sub(16),
            _ => self.next(),
        }
    }
    /// RFLAGS for `popfq`: random status flags, sometimes DF, AC or ID.
    fn flags(&mut self) -> u64 {
        let mut f = self.next() & 0x8d5;
        if self.chance(6) {
            f |= 1 << 10;
        }
        if self.chance(12) {
            f |= 1 << 18;
        }
        if self.chance(12) {
            f |= 1 << 21;
        }
        f | 2
    }
    /// An immediate for an operation of `size` bytes (signed, as encoded).
    fn imm(&mut self, size: u8) -> i64 {
        let v = match self.below(4) {
            0 => self.pick(&[
                0i64,
                1,
                -1,
                0x7f,
                -0x80,
                0x7fff,
                -0x8000,
                0x7fff_ffff,
                -0x8000_0000,
            ]),
            1 => self.below(32) as i64 - 16,
            _ => self.next() as i64,
        };
        match size {
            1 => i64::from(v as i8),
            2 => i64::from(v as i16),
            _ => i64::from(v as i32),
        }
    }
}

// ---------------------------------------------------------------------------
// Guest instructions

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seg {
    Ds,
    Fs,
    Gs,
}

/// A memory operand: `seg:[base + index*scale + disp]`, 32-bit address size
/// when `a32`; neither base nor index: absolute `[disp]`.
#[derive(Clone, Copy, Debug)]
struct Mem {
    base: Option<usize>,
    index: Option<usize>,
    scale: u8,
    disp: i32,
    a32: bool,
    seg: Seg,
}

impl Mem {
    fn base(b: usize, disp: i32) -> Mem {
        Mem {
            base: Some(b),
            index: None,
            scale: 1,
            disp,
            a32: false,
            seg: Seg::Ds,
        }
    }
}

fn am(m: &Mem) -> AsmMemoryOperand {
    let s = u32::from(m.scale);
    let d = m.disp;
    match (m.base, m.index, m.a32) {
        (Some(b), Some(x), true) => R32[b] + R32[x] * s + d,
        (Some(b), None, true) => R32[b] + d,
        (None, Some(x), true) => R32[x] * s + d,
        (Some(b), Some(x), false) => R64[b] + R64[x] * s + d,
        (Some(b), None, false) => R64[b] + d,
        (None, Some(x), false) => R64[x] * s + d,
        (None, None, _) => AsmMemoryOperand::from(d as u32 as u64),
    }
}

/// `m` as an operand of `size` bytes (0: no size, for `lea`).
fn sized(size: u8, m: &Mem) -> AsmMemoryOperand {
    let o = am(m);
    let o = match size {
        0 => ptr(o),
        1 => byte_ptr(o),
        2 => word_ptr(o),
        4 => dword_ptr(o),
        _ => qword_ptr(o),
    };
    match m.seg {
        Seg::Ds => o,
        Seg::Fs => o.fs(),
        Seg::Gs => o.gs(),
    }
}

#[derive(Clone, Copy, Debug)]
enum Opd {
    R(usize),
    M(Mem),
    I(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alu {
    Mov,
    Add,
    Sub,
    And,
    Or,
    Xor,
    Adc,
    Sbb,
    Cmp,
    Test,
}

const ALUS: [Alu; 10] = [
    Alu::Mov,
    Alu::Add,
    Alu::Sub,
    Alu::And,
    Alu::Or,
    Alu::Xor,
    Alu::Adc,
    Alu::Sbb,
    Alu::Cmp,
    Alu::Test,
];

impl Alu {
    fn writes(self) -> bool {
        !matches!(self, Alu::Cmp | Alu::Test)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Un {
    Inc,
    Dec,
    Neg,
    Not,
}

/// Instructions the compiler has no template for (they end the compiled part
/// of a block, which the interpreter finishes).
#[derive(Clone, Copy, Debug)]
enum Odd {
    Imul16(usize, usize),
    ShlCl(usize),
    Rcl(usize),
    Bswap(usize),
    MovzxAh(usize),
    Movzx16(usize, usize),
    Lea16(usize, usize),
    Bt(usize, usize),
    Xchg(usize, usize),
    Cmc,
    Stc,
    Clc,
    PushMem(Mem),
    Push16(usize),
    SetAh(u8),
    /// `int 0x27`: the gas left, in RAX (a host call).
    GasLeft,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sh {
    Shl,
    Shr,
    Sar,
    Rol,
    Ror,
}

const SHIFTS: [Sh; 5] = [Sh::Shl, Sh::Shr, Sh::Sar, Sh::Rol, Sh::Ror];

#[derive(Clone, Copy, Debug)]
enum I {
    /// Shift or rotate by an immediate count (0 has no template).
    Shift(Sh, u8, Opd, u8),
    /// `imul r, r/m` or `imul r, r/m, imm`.
    Imul(u8, usize, Opd, Option<i32>),
    Alu(Alu, u8, Opd, Opd),
    Un(Un, u8, Opd),
    /// `lea` into a register of 4 or 8 (or, unsupported, 2) bytes.
    Lea(u8, usize, Mem),
    Movzx(u8, usize, u8, Opd),
    Movsx(u8, usize, u8, Opd),
    Cmov(u8, u8, usize, Opd),
    Set(u8, Opd),
    Push(Opd),
    Pop(usize),
    MovImm64(usize, u64),
    /// A conditional branch over the next `n` instructions of the sequence.
    JccSkip(u8, usize),
    Nop,
    Raw(Instruction),
    Odd(Odd),
}

macro_rules! alu2 {
    ($a:ident, $op:ident, $size:expr, $d:expr, $s:expr, $rm:ident) => {
        alu2!($a, $op, $size, $d, $s, $rm, i32)
    };
    ($a:ident, $op:ident, $size:expr, $d:expr, $s:expr, $rm:ident, $t64:ty) => {
        match ($d, $s) {
            (Opd::R(d), Opd::R(s)) => match $size {
                1 => $a.$op(R8[d], R8[s]),
                2 => $a.$op(R16[d], R16[s]),
                4 => $a.$op(R32[d], R32[s]),
                _ => $a.$op(R64[d], R64[s]),
            },
            (Opd::R(d), Opd::I(v)) => match $size {
                1 => $a.$op(R8[d], v as i32),
                2 => $a.$op(R16[d], v as i32),
                4 => $a.$op(R32[d], v as i32),
                _ => $a.$op(R64[d], v as $t64),
            },
            (Opd::M(m), Opd::R(s)) => match $size {
                1 => $a.$op(sized(1, &m), R8[s]),
                2 => $a.$op(sized(2, &m), R16[s]),
                4 => $a.$op(sized(4, &m), R32[s]),
                _ => $a.$op(sized(8, &m), R64[s]),
            },
            (Opd::M(m), Opd::I(v)) => $a.$op(sized($size, &m), v as i32),
            (Opd::R(d), Opd::M(m)) => alu2!(@$rm $a, $op, $size, d, m),
            _ => unreachable!("no such form"),
        }
    };
    (@normal $a:ident, $op:ident, $size:expr, $d:ident, $m:ident) => {
        match $size {
            1 => $a.$op(R8[$d], sized(1, &$m)),
            2 => $a.$op(R16[$d], sized(2, &$m)),
            4 => $a.$op(R32[$d], sized(4, &$m)),
            _ => $a.$op(R64[$d], sized(8, &$m)),
        }
    };
    (@swap $a:ident, $op:ident, $size:expr, $d:ident, $m:ident) => {
        match $size {
            1 => $a.$op(sized(1, &$m), R8[$d]),
            2 => $a.$op(sized(2, &$m), R16[$d]),
            4 => $a.$op(sized(4, &$m), R32[$d]),
            _ => $a.$op(sized(8, &$m), R64[$d]),
        }
    };
}

macro_rules! un1 {
    ($a:ident, $op:ident, $size:expr, $d:expr $(, $arg:expr)?) => {
        match ($d, $size) {
            (Opd::R(r), 1) => $a.$op(R8[r] $(, $arg)?),
            (Opd::R(r), 2) => $a.$op(R16[r] $(, $arg)?),
            (Opd::R(r), 4) => $a.$op(R32[r] $(, $arg)?),
            (Opd::R(r), _) => $a.$op(R64[r] $(, $arg)?),
            (Opd::M(m), size) => $a.$op(sized(size, &m) $(, $arg)?),
            _ => unreachable!("no such form"),
        }
    };
}

macro_rules! by_cc {
    ($cc:expr, $go:ident) => {
        match $cc & 15 {
            0 => $go!(o),
            1 => $go!(no),
            2 => $go!(b),
            3 => $go!(ae),
            4 => $go!(e),
            5 => $go!(ne),
            6 => $go!(be),
            7 => $go!(a),
            8 => $go!(s),
            9 => $go!(ns),
            10 => $go!(p),
            11 => $go!(np),
            12 => $go!(l),
            13 => $go!(ge),
            14 => $go!(le),
            _ => $go!(g),
        }
    };
}

macro_rules! a_cmov {
    ($a:ident, o, $x:expr, $y:expr) => {
        $a.cmovo($x, $y)
    };
    ($a:ident, no, $x:expr, $y:expr) => {
        $a.cmovno($x, $y)
    };
    ($a:ident, b, $x:expr, $y:expr) => {
        $a.cmovb($x, $y)
    };
    ($a:ident, ae, $x:expr, $y:expr) => {
        $a.cmovae($x, $y)
    };
    ($a:ident, e, $x:expr, $y:expr) => {
        $a.cmove($x, $y)
    };
    ($a:ident, ne, $x:expr, $y:expr) => {
        $a.cmovne($x, $y)
    };
    ($a:ident, be, $x:expr, $y:expr) => {
        $a.cmovbe($x, $y)
    };
    ($a:ident, a, $x:expr, $y:expr) => {
        $a.cmova($x, $y)
    };
    ($a:ident, s, $x:expr, $y:expr) => {
        $a.cmovs($x, $y)
    };
    ($a:ident, ns, $x:expr, $y:expr) => {
        $a.cmovns($x, $y)
    };
    ($a:ident, p, $x:expr, $y:expr) => {
        $a.cmovp($x, $y)
    };
    ($a:ident, np, $x:expr, $y:expr) => {
        $a.cmovnp($x, $y)
    };
    ($a:ident, l, $x:expr, $y:expr) => {
        $a.cmovl($x, $y)
    };
    ($a:ident, ge, $x:expr, $y:expr) => {
        $a.cmovge($x, $y)
    };
    ($a:ident, le, $x:expr, $y:expr) => {
        $a.cmovle($x, $y)
    };
    ($a:ident, g, $x:expr, $y:expr) => {
        $a.cmovg($x, $y)
    };
}

macro_rules! a_set {
    ($a:ident, o, $x:expr) => {
        $a.seto($x)
    };
    ($a:ident, no, $x:expr) => {
        $a.setno($x)
    };
    ($a:ident, b, $x:expr) => {
        $a.setb($x)
    };
    ($a:ident, ae, $x:expr) => {
        $a.setae($x)
    };
    ($a:ident, e, $x:expr) => {
        $a.sete($x)
    };
    ($a:ident, ne, $x:expr) => {
        $a.setne($x)
    };
    ($a:ident, be, $x:expr) => {
        $a.setbe($x)
    };
    ($a:ident, a, $x:expr) => {
        $a.seta($x)
    };
    ($a:ident, s, $x:expr) => {
        $a.sets($x)
    };
    ($a:ident, ns, $x:expr) => {
        $a.setns($x)
    };
    ($a:ident, p, $x:expr) => {
        $a.setp($x)
    };
    ($a:ident, np, $x:expr) => {
        $a.setnp($x)
    };
    ($a:ident, l, $x:expr) => {
        $a.setl($x)
    };
    ($a:ident, ge, $x:expr) => {
        $a.setge($x)
    };
    ($a:ident, le, $x:expr) => {
        $a.setle($x)
    };
    ($a:ident, g, $x:expr) => {
        $a.setg($x)
    };
}

/// `cmovcc` into a register of `size` bytes (2: no template).
fn cmov(a: &mut CodeAssembler, cc: u8, size: u8, d: usize, s: Opd) -> R {
    macro_rules! go {
        ($c:ident) => {
            match (size, s) {
                (2, Opd::R(s)) => a_cmov!(a, $c, R16[d], R16[s]),
                (2, Opd::M(m)) => a_cmov!(a, $c, R16[d], sized(2, &m)),
                (4, Opd::R(s)) => a_cmov!(a, $c, R32[d], R32[s]),
                (4, Opd::M(m)) => a_cmov!(a, $c, R32[d], sized(4, &m)),
                (_, Opd::R(s)) => a_cmov!(a, $c, R64[d], R64[s]),
                (_, Opd::M(m)) => a_cmov!(a, $c, R64[d], sized(8, &m)),
                _ => unreachable!(),
            }
        };
    }
    by_cc!(cc, go)
}

fn setcc(a: &mut CodeAssembler, cc: u8, d: Opd) -> R {
    macro_rules! go {
        ($c:ident) => {
            match d {
                Opd::R(r) => a_set!(a, $c, R8[r]),
                Opd::M(m) => a_set!(a, $c, sized(1, &m)),
                Opd::I(_) => unreachable!(),
            }
        };
    }
    by_cc!(cc, go)
}

fn emit(a: &mut CodeAssembler, i: &I) -> R {
    match *i {
        // `mov r64, imm32` (sign-extended, C7 /0); `mov r64, imm64` is MovImm64.
        I::Alu(Alu::Mov, 8, Opd::R(d), Opd::I(v)) => {
            a.add_instruction(Instruction::with2(Code::Mov_rm64_imm32, REGS[d], v as i32)?)
        }
        I::Alu(op, size, d, s) => match op {
            Alu::Mov => alu2!(a, mov, size, d, s, normal, i64),
            Alu::Add => alu2!(a, add, size, d, s, normal),
            Alu::Sub => alu2!(a, sub, size, d, s, normal),
            Alu::And => alu2!(a, and, size, d, s, normal),
            Alu::Or => alu2!(a, or, size, d, s, normal),
            Alu::Xor => alu2!(a, xor, size, d, s, normal),
            Alu::Adc => alu2!(a, adc, size, d, s, normal),
            Alu::Sbb => alu2!(a, sbb, size, d, s, normal),
            Alu::Cmp => alu2!(a, cmp, size, d, s, normal),
            // `test r, r/m` is `test r/m, r`.
            Alu::Test => alu2!(a, test, size, d, s, swap),
        },
        I::Un(op, size, d) => match op {
            Un::Inc => un1!(a, inc, size, d),
            Un::Dec => un1!(a, dec, size, d),
            Un::Neg => un1!(a, neg, size, d),
            Un::Not => un1!(a, not, size, d),
        },
        I::Lea(size, d, m) => match size {
            2 => a.lea(R16[d], sized(0, &m)),
            4 => a.lea(R32[d], sized(0, &m)),
            _ => a.lea(R64[d], sized(0, &m)),
        },
        I::Movzx(size, d, ssz, s) => match (size, ssz, s) {
            (2, _, Opd::R(s)) => a.movzx(R16[d], R8[s]),
            (4, 1, Opd::R(s)) => a.movzx(R32[d], R8[s]),
            (4, _, Opd::R(s)) => a.movzx(R32[d], R16[s]),
            (_, 1, Opd::R(s)) => a.movzx(R64[d], R8[s]),
            (_, _, Opd::R(s)) => a.movzx(R64[d], R16[s]),
            (2, _, Opd::M(m)) => a.movzx(R16[d], sized(1, &m)),
            (4, ssz, Opd::M(m)) => a.movzx(R32[d], sized(ssz, &m)),
            (_, ssz, Opd::M(m)) => a.movzx(R64[d], sized(ssz, &m)),
            _ => unreachable!(),
        },
        I::Movsx(size, d, ssz, s) => match (size, ssz, s) {
            (2, _, Opd::R(s)) => a.movsx(R16[d], R8[s]),
            (4, 1, Opd::R(s)) => a.movsx(R32[d], R8[s]),
            (4, _, Opd::R(s)) => a.movsx(R32[d], R16[s]),
            (_, 1, Opd::R(s)) => a.movsx(R64[d], R8[s]),
            (_, 2, Opd::R(s)) => a.movsx(R64[d], R16[s]),
            (_, _, Opd::R(s)) => a.movsxd(R64[d], R32[s]),
            (2, _, Opd::M(m)) => a.movsx(R16[d], sized(1, &m)),
            (4, ssz, Opd::M(m)) => a.movsx(R32[d], sized(ssz, &m)),
            (_, 4, Opd::M(m)) => a.movsxd(R64[d], sized(4, &m)),
            (_, ssz, Opd::M(m)) => a.movsx(R64[d], sized(ssz, &m)),
            _ => unreachable!(),
        },
        I::Shift(op, size, d, n) => {
            let n = i32::from(n);
            match op {
                Sh::Shl => un1!(a, shl, size, d, n),
                Sh::Shr => un1!(a, shr, size, d, n),
                Sh::Sar => un1!(a, sar, size, d, n),
                Sh::Rol => un1!(a, rol, size, d, n),
                Sh::Ror => un1!(a, ror, size, d, n),
            }
        }
        I::Imul(size, d, s, imm) => match (size, s, imm) {
            (4, Opd::R(s), None) => a.imul_2(R32[d], R32[s]),
            (4, Opd::M(m), None) => a.imul_2(R32[d], sized(4, &m)),
            (4, Opd::R(s), Some(v)) => a.imul_3(R32[d], R32[s], v),
            (4, Opd::M(m), Some(v)) => a.imul_3(R32[d], sized(4, &m), v),
            (_, Opd::R(s), None) => a.imul_2(R64[d], R64[s]),
            (_, Opd::M(m), None) => a.imul_2(R64[d], sized(8, &m)),
            (_, Opd::R(s), Some(v)) => a.imul_3(R64[d], R64[s], v),
            (_, Opd::M(m), Some(v)) => a.imul_3(R64[d], sized(8, &m), v),
            _ => unreachable!(),
        },
        I::Cmov(cc, size, d, s) => cmov(a, cc, size, d, s),
        I::Set(cc, d) => setcc(a, cc, d),
        I::Push(Opd::R(r)) => a.push(R64[r]),
        I::Push(Opd::I(v)) => a.push(v as i32),
        I::Push(Opd::M(m)) => a.push(sized(8, &m)),
        I::Pop(r) => a.pop(R64[r]),
        I::MovImm64(r, v) => a.mov(R64[r], v),
        I::JccSkip(..) => unreachable!("emitted by emit_seq"),
        I::Nop => a.nop(),
        I::Raw(ins) => a.add_instruction(ins),
        I::Odd(o) => match o {
            Odd::Imul16(d, s) => a.imul_2(R16[d], R16[s]),
            Odd::ShlCl(d) => a.shl(R32[d], cl),
            Odd::Rcl(d) => a.rcl(R64[d], 3),
            Odd::Bswap(d) => a.bswap(R64[d]),
            Odd::MovzxAh(d) => a.movzx(R32[d], ah),
            Odd::Movzx16(d, s) => a.movzx(R16[d], R8[s]),
            Odd::Lea16(d, s) => a.lea(R16[d], ptr(R64[s] + 1)),
            Odd::Bt(d, s) => a.bt(R64[d], R64[s]),
            Odd::Xchg(d, s) => a.xchg(R64[d], R64[s]),
            Odd::Cmc => a.cmc(),
            Odd::Stc => a.stc(),
            Odd::Clc => a.clc(),
            Odd::PushMem(m) => a.push(sized(8, &m)),
            Odd::Push16(r) => a.push(R16[r]),
            Odd::SetAh(cc) => setcc_ah(a, cc),
            Odd::GasLeft => a.int(0x27),
        },
    }
}

fn setcc_ah(a: &mut CodeAssembler, cc: u8) -> R {
    macro_rules! go {
        ($c:ident) => {
            a_set!(a, $c, ah)
        };
    }
    by_cc!(cc, go)
}

/// Emits a sequence; `JccSkip` branches over the instructions after it.
fn emit_seq(a: &mut CodeAssembler, seq: &[I]) -> R {
    let mut due: Vec<(usize, CodeLabel)> = Vec::new();
    for (k, i) in seq.iter().enumerate() {
        bind_due(a, &mut due, k)?;
        match *i {
            I::JccSkip(cc, n) => {
                let l = a.create_label();
                jcc(a, cc, l)?;
                due.push((k + 1 + n, l));
            }
            _ => emit(a, i)?,
        }
    }
    bind_due(a, &mut due, usize::MAX)
}

/// Binds the labels due at or before `k` (one per instruction: a `nop` between).
fn bind_due(a: &mut CodeAssembler, due: &mut Vec<(usize, CodeLabel)>, k: usize) -> R {
    let mut first = true;
    let mut keep = Vec::new();
    for (at, mut l) in due.drain(..) {
        if at <= k {
            if !first {
                a.nop()?;
            }
            a.set_label(&mut l)?;
            first = false;
        } else {
            keep.push((at, l));
        }
    }
    *due = keep;
    if !first && k == usize::MAX {
        a.nop()?;
    }
    Ok(())
}

/// A RIP-relative instruction: `code` with its memory operand at the absolute
/// address `target` (and register `r` / immediate `imm` where the form has one).
fn riprel(code: Code, r: usize, size: u8, target: u64, imm: i32) -> I {
    let m = MemoryOperand::with_base_displ(Register::RIP, target as i64);
    let rr = match code {
        Code::Movzx_r32_rm16 => sized_reg(r, 4),
        Code::Movsx_r64_rm8 | Code::Lea_r64_m | Code::Cmovl_r64_rm64 => sized_reg(r, 8),
        _ => sized_reg(r, size),
    };
    let ins = match code {
        Code::Mov_r64_rm64
        | Code::Mov_r32_rm32
        | Code::Mov_r8_rm8
        | Code::Add_r32_rm32
        | Code::Cmp_r64_rm64
        | Code::Lea_r64_m
        | Code::Movzx_r32_rm16
        | Code::Movsx_r64_rm8
        | Code::Cmovl_r64_rm64 => Instruction::with2(code, rr, m),
        Code::Mov_rm64_r64 | Code::Add_rm32_r32 | Code::Sub_rm16_r16 | Code::Test_rm8_r8 => {
            Instruction::with2(code, m, rr)
        }
        Code::Cmp_rm8_imm8 | Code::Add_rm64_imm8 | Code::Mov_rm32_imm32 => {
            Instruction::with2(code, m, imm)
        }
        Code::Inc_rm16 | Code::Neg_rm64 | Code::Sete_rm8 | Code::Jmp_rm64 | Code::Call_rm64 => {
            Instruction::with1(code, m)
        }
        _ => unreachable!("no RIP-relative form listed for {code:?}"),
    };
    I::Raw(ins.expect("a valid RIP-relative instruction"))
}

fn sized_reg(r: usize, size: u8) -> Register {
    match size {
        1 => [
            Register::AL,
            Register::CL,
            Register::DL,
            Register::BL,
            Register::SPL,
            Register::BPL,
            Register::SIL,
            Register::DIL,
            Register::R8L,
            Register::R9L,
            Register::R10L,
            Register::R11L,
            Register::R12L,
            Register::R13L,
            Register::R14L,
            Register::R15L,
        ][r],
        2 => [
            Register::AX,
            Register::CX,
            Register::DX,
            Register::BX,
            Register::SP,
            Register::BP,
            Register::SI,
            Register::DI,
            Register::R8W,
            Register::R9W,
            Register::R10W,
            Register::R11W,
            Register::R12W,
            Register::R13W,
            Register::R14W,
            Register::R15W,
        ][r],
        4 => [
            Register::EAX,
            Register::ECX,
            Register::EDX,
            Register::EBX,
            Register::ESP,
            Register::EBP,
            Register::ESI,
            Register::EDI,
            Register::R8D,
            Register::R9D,
            Register::R10D,
            Register::R11D,
            Register::R12D,
            Register::R13D,
            Register::R14D,
            Register::R15D,
        ][r],
        _ => REGS[r],
    }
}

// ---------------------------------------------------------------------------
// Programs, runs, end states

struct Prog {
    code: Vec<u8>,
    /// DATA..MEM_END, the read-only page and the page after the hole.
    data: Vec<u8>,
    ro: Vec<u8>,
    far: Vec<u8>,
    /// Code pages writable (and W^X off).
    wx: bool,
    gas: u64,
    /// Registers other than RSP at entry (else as `prepare_call` leaves them).
    regs: Option<[u64; 16]>,
    rflags: Option<u64>,
    fs_base: u64,
    gs_base: u64,
}

impl Prog {
    fn new(code: Vec<u8>) -> Prog {
        Prog {
            code,
            data: vec![0; (MEM_END - DATA) as usize],
            ro: vec![0x5a; 0x1000],
            far: vec![0xa5; 0x1000],
            wx: false,
            gas: 5_000_000,
            regs: None,
            rflags: None,
            fs_base: 0,
            gs_base: 0,
        }
    }

    fn image(&self) -> Image {
        let code_perms = if self.wx {
            perm::R | perm::W | perm::X
        } else {
            perm::RX
        };
        assert!(self.code.len() as u64 <= 0x2000, "code too long");
        Image {
            entry: CODE,
            segments: vec![
                Segment {
                    vaddr: CODE,
                    data: self.code.clone(),
                    mem_size: 0x2000,
                    perms: code_perms,
                },
                Segment {
                    vaddr: DATA,
                    data: self.data.clone(),
                    mem_size: MEM_END - DATA,
                    perms: perm::RW,
                },
                Segment {
                    vaddr: RO,
                    data: self.ro.clone(),
                    mem_size: 0x1000,
                    perms: perm::R,
                },
                Segment {
                    vaddr: FAR,
                    data: self.far.clone(),
                    mem_size: 0x1000,
                    perms: perm::RW,
                },
            ],
            ..Image::default()
        }
    }

    fn config(&self) -> Config {
        Config {
            gas_limit: self.gas,
            stack_size: 16 << 10,
            heap_size: 4 << 10,
            max_input: 4096,
            enforce_wx: !self.wx,
            ..Config::default()
        }
    }
}

/// Everything observable at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct End {
    status: String,
    gas_used: u64,
    instructions: u64,
    output: Vec<u8>,
    gpr: [u64; 16],
    rip: u64,
    rflags: u64,
    fs_base: u64,
    gs_base: u64,
    /// Readable pages: address, guest-visible permissions, contents.
    pages: Vec<(u64, u8, Vec<u8>)>,
}

impl End {
    fn trapped(&self) -> bool {
        self.status.starts_with("Trapped")
    }
    fn success(&self) -> bool {
        self.status == "Success"
    }
}

fn run(p: &Prog, image: &Image, jit: Option<u32>) -> (End, JitStats) {
    let mut inst = Instance::new(image, &p.config(), &[]).expect("instance");
    inst.set_jit(jit);
    let end = call(&mut inst, p);
    (end, inst.jit_stats())
}

/// Prepares and runs one call of `p`'s entry in `inst`.
fn call(inst: &mut Instance, p: &Prog) -> End {
    inst.prepare_call(CODE, &[]).expect("prepare_call");
    if let Some(r) = p.regs {
        for (k, v) in r.iter().enumerate() {
            if k != RSP {
                inst.cpu.gpr[k] = *v;
            }
        }
    }
    if let Some(f) = p.rflags {
        inst.cpu.set_rflags(f);
    }
    inst.cpu.fs_base = p.fs_base;
    inst.cpu.gs_base = p.gs_base;
    let out = inst.run(&mut NoHost);
    End {
        status: format!("{:?}", out.status),
        gas_used: out.gas_used,
        instructions: out.instructions,
        output: out.output,
        gpr: inst.cpu.gpr,
        rip: inst.cpu.rip,
        rflags: inst.cpu.rflags(),
        fs_base: inst.cpu.fs_base,
        gs_base: inst.cpu.gs_base,
        pages: pages(inst),
    }
}

/// The readable pages of `inst`: address, guest-visible permissions, bytes.
fn pages(inst: &Instance) -> Vec<(u64, u8, Vec<u8>)> {
    let mem = &inst.mem;
    let mut pages = Vec::new();
    let mut a = mem.base();
    while a < mem.end() {
        let pm = mem.perms_at(a) & (perm::R | perm::W | perm::X | perm::GUARD);
        if pm & perm::R != 0 {
            pages.push((a, pm, mem.read_bytes(a, 0x1000).unwrap()));
        }
        a += 0x1000;
    }
    pages
}

/// Where a guest address is, for reports.
fn locate(addr: u64) -> String {
    if (OUTS..OUTS + MAX_ROWS as u64 * ROW).contains(&addr) {
        let o = addr - OUTS;
        format!(
            "output row {} {} byte {}",
            o / ROW,
            NAMES[(o % ROW / 8) as usize],
            o % 8
        )
    } else if (ROWS..ROWS + MAX_ROWS as u64 * ROW).contains(&addr) {
        let o = addr - ROWS;
        format!("input row {} {}", o / ROW, NAMES[(o % ROW / 8) as usize])
    } else {
        String::new()
    }
}

/// The differences between two end states, readable.
fn diff(x: &End, y: &End) -> String {
    let mut out = Vec::new();
    if x.status != y.status {
        out.push(format!("status\n    {}\n    {}", x.status, y.status));
    }
    let mut num = |name: &str, a: u64, b: u64| {
        if a != b {
            out.push(format!("{name}: {a:#x} / {b:#x} (xor {:#x})", a ^ b));
        }
    };
    num("gas_used", x.gas_used, y.gas_used);
    num("instructions", x.instructions, y.instructions);
    num("rip", x.rip, y.rip);
    num("rflags", x.rflags, y.rflags);
    num("fs_base", x.fs_base, y.fs_base);
    num("gs_base", x.gs_base, y.gs_base);
    for (r, name) in NAMES.iter().take(16).enumerate() {
        num(name, x.gpr[r], y.gpr[r]);
    }
    if x.output != y.output {
        out.push(format!("output {:x?} / {:x?}", x.output, y.output));
    }
    let mut shown = 0;
    for (p, q) in x.pages.iter().zip(&y.pages) {
        if p.0 != q.0 || p.1 != q.1 {
            out.push(format!(
                "page {:#x} perms {:#x} / page {:#x} perms {:#x}",
                p.0, p.1, q.0, q.1
            ));
            continue;
        }
        for (k, (a, b)) in p.2.iter().zip(&q.2).enumerate() {
            if a != b && shown < 16 {
                let addr = p.0 + k as u64;
                out.push(format!(
                    "memory {addr:#x}: {a:#04x} / {b:#04x} {}",
                    locate(addr)
                ));
                shown += 1;
            }
        }
    }
    if x.pages.len() != y.pages.len() {
        out.push(format!(
            "{} / {} readable pages",
            x.pages.len(),
            y.pages.len()
        ));
    }
    out.join("\n  ")
}

/// Disassembly of `code` (at CODE) from `from`.
fn listing(code: &[u8], from: u64) -> String {
    let start = (from - CODE) as usize;
    let mut d = Decoder::with_ip(64, &code[start..], from, DecoderOptions::NONE);
    let mut f = FastFormatter::new();
    let mut out = String::new();
    let mut ins = Instruction::default();
    while d.can_decode() {
        d.decode_out(&mut ins);
        let mut t = String::new();
        f.format(&ins, &mut t);
        out.push_str(&format!("    {:#x}: {t}\n", ins.ip()));
    }
    out
}

// ---------------------------------------------------------------------------
// The harness

/// The skeleton's marks: the body's first instruction, then the indirect
/// targets (see `build`).
const MARK_BODY: usize = 0;
const MARK_TARGETS: usize = 1;
/// Indirect-branch targets per program.
const TARGETS: usize = 3;

#[derive(Clone, Debug)]
enum Flow {
    /// Straight on to the output row.
    Plain,
    /// `jcc`: both ways write a different value to `mark`.
    Jcc { cc: u8, mark: usize },
    /// `call f` where `f` runs `inner` and returns with `ret imm16`.
    Call { inner: Vec<I>, ret_imm: u16 },
    /// `jmp reg` / `jmp [mem]` to one of `TARGETS` places (each writes `mark`).
    JmpInd { via: Opd, mark: usize },
    /// `call reg` / `call [mem]` to one of `TARGETS` functions.
    CallInd { via: Opd, mark: usize },
    /// `push reg; ret`: a return to one of `TARGETS` places.
    PushRet { via: usize, mark: usize },
    /// `call f` with `f: push rax; call f`: unbounded recursion.
    Recurse,
    /// `mov counter, n`, then `inner` in a loop of one or more blocks that
    /// branch back (compiled blocks linked to themselves): `dec; jnz`, or
    /// `sub; cmp; jne` (fused) when `fused`.
    Loop {
        counter: usize,
        n: u32,
        inner: Vec<I>,
        fused: bool,
    },
}

struct Loop {
    body: Vec<I>,
    flow: Flow,
    /// The body in the block that loads the row (its registers are then cached
    /// in host registers), else in a block of its own.
    merged: bool,
    rows: usize,
}

/// Assembles the row loop around `l`'s body.
fn build(l: &Loop) -> vmkit::Code {
    vmkit::asm(|a| {
        let mut top = a.create_label();
        let mut load = a.create_label();
        let mut rec = a.create_label();
        let mut tail = a.create_label();
        a.mov(qword_ptr(RSP0), rsp)?;
        a.jmp(top)?;
        a.set_label(&mut top)?;
        a.mov(r15, qword_ptr(ROWP))?;
        a.push(qword_ptr(r15 + 128))?;
        a.popfq()?;
        a.jmp(load)?;
        a.set_label(&mut load)?;
        for (r, &g) in R64.iter().take(15).enumerate() {
            a.mov(g, qword_ptr(r15 + 8 * r as i32))?;
        }
        a.mov(r15, qword_ptr(r15 + 120))?;
        if !l.merged {
            let mut body = a.create_label();
            a.jmp(body)?;
            a.mark_label(&mut body);
        } else {
            a.mark();
        }
        emit_seq(a, &l.body)?;
        match &l.flow {
            Flow::Plain => a.jmp(rec)?,
            Flow::Jcc { cc, mark } => {
                let mut taken = a.create_label();
                jcc(a, *cc, taken)?;
                a.mov(R32[*mark], 0x1111)?;
                a.jmp(rec)?;
                a.set_label(&mut taken)?;
                a.mov(R32[*mark], 0x2222)?;
                a.jmp(rec)?;
            }
            Flow::Call { inner, ret_imm } => {
                let mut f = a.create_label();
                a.call(f)?;
                a.jmp(rec)?;
                a.set_label(&mut f)?;
                emit_seq(a, inner)?;
                if *ret_imm == 0 {
                    a.ret()?;
                } else {
                    a.ret_1(i32::from(*ret_imm))?;
                }
            }
            Flow::JmpInd { via, mark } | Flow::CallInd { via, mark } => {
                let call = matches!(l.flow, Flow::CallInd { .. });
                match (via, call) {
                    (Opd::R(r), false) => a.jmp(R64[*r])?,
                    (Opd::R(r), true) => a.call(R64[*r])?,
                    (Opd::M(m), false) => a.jmp(sized(8, m))?,
                    (Opd::M(m), true) => a.call(sized(8, m))?,
                    _ => unreachable!(),
                }
                if call {
                    a.jmp(rec)?;
                }
                for k in 0..TARGETS {
                    a.mark();
                    a.mov(R32[*mark], 0x100 + k as u32)?;
                    if call {
                        a.ret()?;
                    } else {
                        a.jmp(rec)?;
                    }
                }
            }
            Flow::PushRet { via, mark } => {
                a.push(R64[*via])?;
                a.ret()?;
                for k in 0..TARGETS {
                    a.mark();
                    a.mov(R32[*mark], 0x100 + k as u32)?;
                    a.jmp(rec)?;
                }
            }
            Flow::Recurse => {
                let mut f = a.create_label();
                a.call(f)?;
                a.jmp(rec)?;
                a.set_label(&mut f)?;
                a.push(rax)?;
                a.call(f)?;
            }
            Flow::Loop {
                counter,
                n,
                inner,
                fused,
            } => {
                let mut back = a.create_label();
                a.mov(R32[*counter], *n)?;
                a.set_label(&mut back)?;
                a.nop()?;
                emit_seq(a, inner)?;
                if *fused {
                    a.sub(R32[*counter], 1)?;
                    a.cmp(R32[*counter], 0)?;
                    a.jne(back)?;
                } else {
                    a.dec(R32[*counter])?;
                    a.jne(back)?;
                }
                a.jmp(rec)?;
            }
        }
        a.set_label(&mut rec)?;
        a.mov(qword_ptr(SAVE), r15)?;
        a.mov(r15, qword_ptr(OUTP))?;
        for (r, &g) in R64.iter().take(15).enumerate() {
            a.mov(qword_ptr(r15 + 8 * r as i32), g)?;
        }
        a.mov(rax, qword_ptr(SAVE))?;
        a.mov(qword_ptr(r15 + 120), rax)?;
        a.mov(rsp, qword_ptr(RSP0))?;
        a.pushfq()?;
        a.pop(qword_ptr(r15 + 128))?;
        a.jmp(tail)?;
        a.set_label(&mut tail)?;
        a.add(qword_ptr(OUTP), ROW as i32)?;
        a.add(qword_ptr(ROWP), ROW as i32)?;
        a.dec(qword_ptr(CTR))?;
        a.jne(top)?;
        a.mov(rsp, qword_ptr(RSP0))?;
        a.ret()
    })
}

/// Initial data: control words, rows, random memory, the address table.
fn data_for(rng: &mut Rng, rows: &[[u64; 17]], table: &[u64]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    assert!(rows.len() <= MAX_ROWS);
    let mut data = vec![0u8; (MEM_END - DATA) as usize];
    let put = |data: &mut Vec<u8>, at: u64, v: u64| {
        let o = (at - DATA) as usize;
        data[o..o + 8].copy_from_slice(&v.to_le_bytes());
    };
    put(&mut data, ROWP, ROWS);
    put(&mut data, OUTP, OUTS);
    put(&mut data, CTR, rows.len() as u64);
    for (k, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            put(&mut data, ROWS + k as u64 * ROW + 8 * j as u64, *v);
        }
    }
    let mut words = |len: u64| -> Vec<u8> {
        (0..len / 8)
            .flat_map(|_| rng.value().to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let mem = words(MEM_END - MEM);
    data[(MEM - DATA) as usize..].copy_from_slice(&mem);
    for (k, t) in table.iter().enumerate() {
        put(&mut data, TBL + 8 * k as u64, *t);
    }
    if let Some(&t) = table.first() {
        put(&mut data, TBL_CROSS, t);
    }
    let ro = words(0x1000);
    let far = words(0x1000);
    (data, ro, far)
}

/// A row of `base_row` (for `H::run_loop`).
fn plain_row(rng: &mut Rng, lay: &Layout, _: usize, _: &[u64]) -> [u64; 17] {
    base_row(rng, lay)
}

/// A valid stack pointer for a row (room for pops above and pushes below).
fn stack_ptr(rng: &mut Rng, lay: &Layout) -> u64 {
    // Near the end of the page with the return address, so that pushes make
    // the first writes to the page below (and cross to it unaligned).
    let p = if rng.chance(4) {
        lay.stack_top - 0x1000 + 8 * rng.below(4)
    } else {
        lay.stack_top - 0x800 - 8 * rng.below(64)
    };
    if rng.chance(10) { p - rng.below(8) } else { p }
}

/// A row of random and edge values, a valid RSP and random flags.
fn base_row(rng: &mut Rng, lay: &Layout) -> [u64; 17] {
    let mut r = [0u64; 17];
    for v in r.iter_mut().take(16) {
        *v = rng.value();
    }
    r[RSP] = stack_ptr(rng, lay);
    r[16] = rng.flags();
    r
}

/// A target for an access of `n` bytes that does not fault (possibly crossing
/// pages, possibly the first write to a page, possibly read-only for reads).
fn ok_target(rng: &mut Rng, n: u64, write: bool) -> u64 {
    let page = MEM + 0x1000 * rng.below(4);
    match rng.below(16) {
        0..=6 => MEM + rng.below(MEM_END - MEM - n),
        7 | 8 => page + rng.below(0x1000 / n) * n,
        9 | 10 if n > 1 && page > MEM => page - 1 - rng.below(n - 1),
        11 => page + 0x1000 - n,
        12 => FAR + rng.below(0x1000 - n + 1),
        13 if !write => RO + rng.below(0x1000 - n + 1),
        _ => page + rng.below(0x40),
    }
}

/// A target for an access of `n` bytes that faults.
fn fault_target(rng: &mut Rng, lay: &Layout, n: u64, write: bool) -> u64 {
    match rng.below(10) {
        0 | 1 if write => RO + rng.below(0x1000 - n + 1),
        2 if write && n > 1 => MEM_END - 1 - rng.below(n - 1),
        3 if n > 1 => HOLE - 1 - rng.below(n - 1),
        4 if n > 1 => FAR - 1 - rng.below(n - 1),
        5 => 0x1000 + rng.below(0x1000),
        6 => u64::MAX - rng.below(8),
        7 => lay.stack_low - 1 - rng.below(0x100),
        8 => lay.heap_end + rng.below(0x100),
        _ => HOLE + rng.below(0x1000 - n + 1),
    }
}

/// Sets the registers of memory operand `m` in `row` so that it addresses the
/// `target` (FS/GS bases `seg`).
fn aim(rng: &mut Rng, row: &mut [u64; 17], m: &Mem, target: u64, seg: (u64, u64)) {
    let segbase = match m.seg {
        Seg::Ds => 0,
        Seg::Fs => seg.0,
        Seg::Gs => seg.1,
    };
    let scale = u64::from(m.scale);
    let mut rest = target
        .wrapping_sub(segbase)
        .wrapping_sub(m.disp as i64 as u64);
    let garbage = |rng: &mut Rng| {
        if m.a32 && rng.chance(2) {
            rng.next() << 32
        } else {
            0
        }
    };
    match (m.base, m.index) {
        (Some(RSP), _) | (None, None) => {
            if let Some(x) = m.index {
                row[x] = rng.below(8);
            }
        }
        (Some(b), index) => {
            let k = match index {
                Some(_) => match rng.below(4) {
                    0 => 0,
                    1 => rng.below(4),
                    2 => rng.below(64),
                    _ => rng.below(0x200),
                },
                None => 0,
            };
            let v = rest.wrapping_sub(k.wrapping_mul(scale));
            row[b] = if m.a32 {
                (v & 0xffff_ffff) | garbage(rng)
            } else {
                v
            };
            if let Some(x) = index {
                row[x] = k | garbage(rng);
            }
        }
        (None, Some(x)) => {
            // index * scale must make the whole offset: the target moves by
            // less than the scale (down, but not from the page after the
            // hole into it).
            let adj = rest % scale;
            if adj != 0 {
                if (FAR..FAR + 8).contains(&target) {
                    rest += scale - adj;
                } else {
                    rest -= adj;
                }
            }
            let v = if m.a32 {
                ((rest & 0xffff_ffff) / scale) | garbage(rng)
            } else {
                rest / scale
            };
            row[x] = v;
        }
    }
}

/// Makes row `k` of a row loop from the RNG, the layout and the addresses of
/// the indirect-branch targets.
type RowFn<'a> = &'a mut dyn FnMut(&mut Rng, &Layout, usize, &[u64]) -> [u64; 17];

/// Shared state of one test: RNG, layout, the skeleton's compiled-block count.
struct H {
    rng: Rng,
    lay: Layout,
    baseline: u64,
    programs: u64,
    cases: u64,
    compiled: u64,
}

impl H {
    fn new(seed: u64) -> H {
        let probe = Prog::new(vec![0xc3]);
        let lay = Instance::new(&probe.image(), &probe.config(), &[])
            .expect("layout probe")
            .layout;
        let mut h = H {
            rng: Rng::new(seed),
            lay,
            baseline: 0,
            programs: 0,
            cases: 0,
            compiled: 0,
        };
        // Blocks compiled when nothing in the body needs the interpreter.
        let l = Loop {
            body: vec![I::Nop],
            flow: Flow::Plain,
            merged: false,
            rows: 2,
        };
        let (end, stats) = h.run_loop("baseline", &l, &mut plain_row, &[1]);
        assert!(end.success(), "baseline: {}", end.status);
        assert!(stats.compiled >= 6, "baseline compiled {}", stats.compiled);
        h.baseline = stats.compiled;
        h
    }

    /// Runs `p` without the compiler and with it at each threshold in `jits`;
    /// all runs must end alike. Returns the reference end and the statistics
    /// of the first compiled run.
    fn compare(&mut self, what: &dyn Fn() -> String, p: &Prog, jits: &[u32]) -> (End, JitStats) {
        let image = p.image();
        let (reference, none) = run(p, &image, None);
        assert_eq!(none, JitStats::default(), "no compiler without set_jit");
        let mut first = None;
        for &t in jits {
            let (end, stats) = run(p, &image, Some(t));
            assert_eq!(
                stats.errors,
                0,
                "a template the assembler rejects (threshold {t}): {}",
                what()
            );
            if end != reference {
                panic!(
                    "compiled (threshold {t}) and interpreted runs differ\n  {}\n{}",
                    diff(&end, &reference),
                    what()
                );
            }
            self.compiled += stats.compiled;
            first.get_or_insert(stats);
        }
        self.programs += 1;
        (reference, first.unwrap_or_default())
    }

    /// Builds and runs the row loop `l` with rows from `row` (given the RNG,
    /// the layout, the row index and the addresses of the indirect targets).
    fn run_loop(&mut self, what: &str, l: &Loop, row: RowFn<'_>, jits: &[u32]) -> (End, JitStats) {
        self.run_loop_with(what, l, row, jits, (0, 0))
    }

    fn run_loop_with(
        &mut self,
        what: &str,
        l: &Loop,
        row: RowFn<'_>,
        jits: &[u32],
        seg: (u64, u64),
    ) -> (End, JitStats) {
        let code = build(l);
        let targets: Vec<u64> = code.marks[MARK_TARGETS..].to_vec();
        let rows: Vec<[u64; 17]> = (0..l.rows)
            .map(|k| row(&mut self.rng, &self.lay, k, &targets))
            .collect();
        let (data, ro, far) = data_for(&mut self.rng, &rows, &targets);
        let mut p = Prog::new(code.bytes.clone());
        p.data = data;
        p.ro = ro;
        p.far = far;
        p.fs_base = seg.0;
        p.gs_base = seg.1;
        self.cases += l.rows as u64;
        let body_at = code.mark(MARK_BODY);
        let describe = || {
            let mut s = format!(
                "{what}\nbody {:?}\nflow {:?} merged {}\nfs {:#x} gs {:#x}\nrows:\n",
                l.body, l.flow, l.merged, seg.0, seg.1
            );
            for (k, r) in rows.iter().enumerate() {
                s.push_str(&format!("  {k:2}: {r:x?}\n"));
            }
            s.push_str("code from the body on:\n");
            s.push_str(&listing(&code.bytes, body_at));
            s
        };
        self.compare(&describe, &p, jits)
    }

    /// One instruction shape: `body` in the row loop, `rows` rows; memory
    /// operand `mem` (accessing `n` bytes, written when `write`) aimed at a new
    /// target in every row. Variants: 0 body in a block of its own (must
    /// compile), 1 in the load block (registers cached), 2 followed by a
    /// conditional branch, 3 as 0 with a faulting last row (when there is
    /// memory; else the body repeated).
    fn shape(&mut self, what: &str, body: Vec<I>, mem: Option<(Mem, u64, bool)>, variant: u32) {
        let mut body = body;
        let mut flow = Flow::Plain;
        if variant == 2 {
            let mark = self
                .rng
                .pick(&[0usize, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
            flow = Flow::Jcc {
                cc: self.rng.below(16) as u8,
                mark,
            };
        }
        if variant == 3 && mem.is_none() {
            let again = body.clone();
            body.extend(again);
        }
        let (_, stats) = self.body_run(what, body.clone(), flow, variant == 1, mem, variant == 3);
        if variant == 0 {
            assert_eq!(
                stats.compiled, self.baseline,
                "{what}: the body's block should compile ({body:?})"
            );
        } else {
            assert!(stats.compiled > 0, "{what}");
        }
    }

    /// `body` then `flow` in the row loop (12 rows); memory operand `mem`
    /// (accessing `n` bytes, written when `write`) aimed at a new target in
    /// every row, in the last row where the access faults when `fault`. The
    /// run must succeed, or trap when it should.
    fn body_run(
        &mut self,
        what: &str,
        body: Vec<I>,
        flow: Flow,
        merged: bool,
        mem: Option<(Mem, u64, bool)>,
        fault: bool,
    ) -> (End, JitStats) {
        let fault = fault
            && mem.is_some_and(|(m, _, _)| {
                m.base != Some(RSP) && (m.base.is_some() || m.index.is_some())
            });
        // Bases at or below every target, so that 32-bit sums do not wrap.
        let seg = (
            self.rng.pick(&[0, MEM, MEM - 0x123, DATA, 0x10]),
            self.rng.pick(&[0, DATA + 0x800, 0x7]),
        );
        let l = Loop {
            body,
            flow,
            merged,
            rows: 12,
        };
        let mut place = |rng: &mut Rng, lay: &Layout, k: usize, _: &[u64]| {
            let mut r = base_row(rng, lay);
            if let Some((m, n, write)) = mem {
                let t = if fault && k == 11 {
                    fault_target(rng, lay, n, write)
                } else {
                    ok_target(rng, n, write)
                };
                aim(rng, &mut r, &m, t, seg);
            }
            r
        };
        let (end, stats) = self.run_loop_with(what, &l, &mut place, &[1], seg);
        // (An index-only operand may move the target off a page end.)
        let exact = mem.is_some_and(|(m, _, _)| m.base.is_some() || m.scale == 1);
        if fault && exact {
            assert!(
                end.trapped(),
                "{what}: the last row should fault: {}",
                end.status
            );
        } else if !fault {
            assert!(end.success(), "{what}: {}", end.status);
        }
        (end, stats)
    }

    fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} programs, {} rows, {} blocks compiled",
            self.programs, self.cases, self.compiled
        );
        assert!(self.compiled > 0);
    }
}

/// A random general register other than RSP.
fn reg(rng: &mut Rng) -> usize {
    loop {
        let r = rng.below(16) as usize;
        if r != RSP {
            return r;
        }
    }
}

/// A random memory operand whose registers avoid `avoid`.
fn mem_op(rng: &mut Rng, avoid: &[usize]) -> Mem {
    let pick = |rng: &mut Rng, not: &[usize]| loop {
        let r = reg(rng);
        if !not.contains(&r) {
            return r;
        }
    };
    let base = pick(rng, avoid);
    let mut not = avoid.to_vec();
    not.push(base);
    let index = if rng.chance(2) {
        Some(pick(rng, &not))
    } else {
        None
    };
    let disp = match rng.below(8) {
        0..=1 => 0,
        2..=4 => rng.below(256) as i32 - 128,
        5 => rng.pick(&[0x1000, -0x1000, 0x7f, -0x80, 0x80, -0x81]),
        6 => rng.pick(&[0x7fff_fff0, -0x7fff_fff0, 0x1234_5678]),
        _ => rng.below(0x10000) as i32 - 0x8000,
    };
    let a32 = rng.chance(8);
    let seg = match rng.below(16) {
        0 => Seg::Fs,
        1 => Seg::Gs,
        _ => Seg::Ds,
    };
    let mut m = Mem {
        base: Some(base),
        index,
        scale: rng.pick(&[1, 2, 4, 8]),
        disp,
        a32,
        seg,
    };
    match rng.below(24) {
        // No base: index * scale + disp.
        0 if index.is_some() => m.base = None,
        // Absolute.
        1 if !a32 => {
            m.base = None;
            m.index = None;
            m.seg = Seg::Ds;
            m.disp = ok_target(rng, 8, true) as i32;
        }
        _ => {}
    }
    m
}

const SIZES: [u8; 4] = [1, 2, 4, 8];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    RR,
    RI,
    RM,
    MR,
    MI,
}

const FORMS: [Form; 5] = [Form::RR, Form::RI, Form::RM, Form::MR, Form::MI];

/// Operands of form `f` at `size` bytes: (dst, src, memory operand if any).
fn operands(rng: &mut Rng, f: Form, size: u8, dst_writes: bool) -> (Opd, Opd, Option<Mem>) {
    // RSP as an operand now and then (written only by 8-byte ops).
    let any = |rng: &mut Rng, w: bool| {
        if rng.chance(16) && (!w || size == 8) {
            RSP
        } else {
            reg(rng)
        }
    };
    let d = any(rng, dst_writes);
    let s = if rng.chance(5) { d } else { any(rng, false) };
    match f {
        Form::RR => (Opd::R(d), Opd::R(s), None),
        Form::RI => (Opd::R(d), Opd::I(rng.imm(size)), None),
        Form::RM => {
            let avoid = if rng.chance(6) { vec![] } else { vec![d] };
            let m = mem_op(rng, &avoid);
            (Opd::R(d), Opd::M(m), Some(m))
        }
        Form::MR => {
            let avoid = if rng.chance(6) { vec![] } else { vec![s] };
            let m = mem_op(rng, &avoid);
            (Opd::M(m), Opd::R(s), Some(m))
        }
        Form::MI => {
            let m = mem_op(rng, &[]);
            (Opd::M(m), Opd::I(rng.imm(size)), Some(m))
        }
    }
}

// ---------------------------------------------------------------------------
// Tests: shapes

#[test]
fn two_operand_alu_and_mov_at_every_size_and_form() {
    let mut h = H::new(1);
    for op in ALUS {
        for size in SIZES {
            for f in FORMS {
                if op == Alu::Test && f == Form::RM {
                    continue;
                }
                for variant in 0..4 {
                    let (d, s, m) = operands(&mut h.rng, f, size, op.writes() && f != Form::MR);
                    let write = op.writes() && matches!(f, Form::MR | Form::MI);
                    let what = format!("{op:?} size {size} {f:?} variant {variant}");
                    h.shape(
                        &what,
                        vec![I::Alu(op, size, d, s)],
                        m.map(|m| (m, u64::from(size), write)),
                        variant,
                    );
                }
            }
        }
    }
    // `mov r64, imm64`.
    for variant in 0..12 {
        let r = reg(&mut h.rng);
        let v = h.rng.value();
        h.shape(
            &format!("mov r64, imm64 {v:#x}"),
            vec![I::MovImm64(r, v)],
            None,
            variant % 4,
        );
    }
    h.report("alu");
}

#[test]
fn unary_ops_on_registers_and_memory() {
    let mut h = H::new(2);
    for op in [Un::Inc, Un::Dec, Un::Neg, Un::Not] {
        for size in SIZES {
            for mem in [false, true] {
                for variant in 0..4 {
                    let (d, m) = if mem {
                        let m = mem_op(&mut h.rng, &[]);
                        (Opd::M(m), Some((m, u64::from(size), true)))
                    } else {
                        (Opd::R(reg(&mut h.rng)), None)
                    };
                    h.shape(
                        &format!("{op:?} size {size} mem {mem} variant {variant}"),
                        vec![I::Un(op, size, d)],
                        m,
                        variant,
                    );
                }
            }
        }
    }
    h.report("unary");
}

/// What follows a shift, rotate or `imul` (whose flags the host leaves partly
/// undefined): they compile only where their flags are overwritten before
/// anything reads them or control could leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// Nothing: the flags are live at the block's end.
    Nothing,
    /// An instruction writing all flags.
    Writer,
    /// `inc`/`dec` (every flag but CF).
    IncDec,
    /// Register moves, then a writer.
    MovesThenWriter,
    /// A memory access (which may leave), then a writer.
    MemoryThenWriter,
    /// A flag reader.
    Reader,
    /// Another shift, then a writer.
    ShiftThenWriter,
}

const AFTERS: [After; 7] = [
    After::Nothing,
    After::Writer,
    After::IncDec,
    After::MovesThenWriter,
    After::MemoryThenWriter,
    After::Reader,
    After::ShiftThenWriter,
];

fn after(rng: &mut Rng, k: After, x: usize, y: usize, m: Mem) -> Vec<I> {
    let size = rng.pick(&SIZES);
    let writer = match rng.below(7) {
        0 => I::Alu(Alu::Add, size, Opd::R(y), Opd::R(x)),
        1 => I::Alu(Alu::Sub, size, Opd::R(y), Opd::I(rng.imm(size))),
        2 => I::Alu(Alu::Cmp, size, Opd::R(x), Opd::R(y)),
        3 => I::Alu(Alu::And, size, Opd::R(y), Opd::I(rng.imm(size))),
        4 => I::Alu(Alu::Xor, size, Opd::R(y), Opd::R(y)),
        5 => I::Alu(Alu::Test, size, Opd::R(x), Opd::R(x)),
        _ => I::Un(Un::Neg, size, Opd::R(y)),
    };
    match k {
        After::Nothing => vec![],
        After::Writer => vec![writer],
        After::IncDec => vec![I::Un(
            if rng.chance(2) { Un::Inc } else { Un::Dec },
            size,
            Opd::R(y),
        )],
        After::MovesThenWriter => vec![
            I::Alu(Alu::Mov, 8, Opd::R(y), Opd::R(x)),
            I::Lea(8, y, Mem::base(x, 3)),
            I::Movzx(4, y, 1, Opd::R(x)),
            writer,
        ],
        After::MemoryThenWriter => vec![I::Alu(Alu::Mov, 4, Opd::R(y), Opd::M(m)), writer],
        After::Reader => vec![match rng.below(4) {
            0 => I::Set(rng.below(16) as u8, Opd::R(y)),
            1 => I::Cmov(rng.below(16) as u8, 8, y, Opd::R(x)),
            2 => I::Alu(Alu::Adc, 4, Opd::R(y), Opd::I(1)),
            _ => I::Odd(Odd::Cmc),
        }],
        After::ShiftThenWriter => vec![I::Shift(Sh::Rol, 4, Opd::R(y), 5), writer],
    }
}

#[test]
fn shifts_rotates_and_imul_where_their_flags_die() {
    let mut h = H::new(17);
    let counts = [1u8, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 0];
    let mut k = 0;
    for op in SHIFTS {
        for size in SIZES {
            for mem in [false, true] {
                for j in 0..10 {
                    let rng = &mut h.rng;
                    let n = if j < 2 {
                        rng.pick(&[1, 2])
                    } else {
                        rng.pick(&counts)
                    };
                    let m = mem_op(rng, &[]);
                    let (x, y) = loop {
                        let (x, y) = (reg(rng), reg(rng));
                        if x != y
                            && Some(x) != m.base
                            && Some(y) != m.base
                            && Some(x) != m.index
                            && Some(y) != m.index
                        {
                            break (x, y);
                        }
                    };
                    let dst = if mem { Opd::M(m) } else { Opd::R(x) };
                    let kind = AFTERS[k % AFTERS.len()];
                    k += 1;
                    let mut body = vec![I::Shift(op, size, dst, n)];
                    body.extend(after(rng, kind, x, y, m));
                    let uses_mem = mem || kind == After::MemoryThenWriter;
                    let merged = j % 3 == 2;
                    let what = format!("{body:?}");
                    let (_, stats) = h.body_run(
                        &what,
                        body,
                        Flow::Plain,
                        merged,
                        // (A register shift: only the 4-byte load uses `m`.)
                        uses_mem.then_some(if mem {
                            (m, u64::from(size), true)
                        } else {
                            (m, 4, false)
                        }),
                        j == 9,
                    );
                    let masked = u32::from(n) & if size == 8 { 63 } else { 31 };
                    // `inc`/`dec` keep CF, which a byte or word shift by its width
                    // or more leaves undefined on some CPUs: not a writer here.
                    let compiles = masked != 0
                        && matches!(
                            kind,
                            After::Writer | After::MovesThenWriter | After::ShiftThenWriter
                        );
                    if !merged && j != 9 {
                        let want = h.baseline - u64::from(!compiles);
                        assert_eq!(stats.compiled, want, "{what}: compiled blocks");
                    }
                }
            }
        }
    }
    // CF of shl/shr by the operand's width or more (architecturally undefined
    // for 8- and 16-bit operands) seen through inc/dec, which keep it.
    for op in [Sh::Shl, Sh::Shr, Sh::Sar] {
        for size in [1u8, 2] {
            for n in [8u8, 9, 15, 16, 17, 24, 31] {
                let x = reg(&mut h.rng);
                let y = loop {
                    let y = reg(&mut h.rng);
                    if y != x {
                        break y;
                    }
                };
                let body = vec![
                    I::Shift(op, size, Opd::R(x), n),
                    I::Un(Un::Inc, 4, Opd::R(y)),
                ];
                h.body_run(&format!("{body:?}"), body, Flow::Plain, false, None, false);
            }
        }
    }
    // imul r, r/m and imul r, r/m, imm.
    for size in [4u8, 8] {
        for mem in [false, true] {
            for three in [false, true] {
                for kind in AFTERS {
                    for merged in [false, true] {
                        let rng = &mut h.rng;
                        let m = mem_op(rng, &[]);
                        let (x, y) = loop {
                            let (x, y) = (reg(rng), reg(rng));
                            if x != y
                                && Some(x) != m.base
                                && Some(y) != m.base
                                && Some(x) != m.index
                                && Some(y) != m.index
                            {
                                break (x, y);
                            }
                        };
                        let src = if mem { Opd::M(m) } else { Opd::R(reg(rng)) };
                        let imm = three.then(|| rng.imm(4) as i32);
                        let mut body = vec![I::Imul(size, x, src, imm)];
                        body.extend(after(rng, kind, x, y, m));
                        let uses_mem = mem || kind == After::MemoryThenWriter;
                        let what = format!("{body:?}");
                        let (_, stats) = h.body_run(
                            &what,
                            body,
                            Flow::Plain,
                            merged,
                            uses_mem.then_some((m, u64::from(size), false)),
                            false,
                        );
                        // (`inc`/`dec` keep CF: not writers of every flag.)
                        let compiles = matches!(
                            kind,
                            After::Writer | After::MovesThenWriter | After::ShiftThenWriter
                        );
                        if !merged {
                            assert_eq!(
                                stats.compiled,
                                h.baseline - u64::from(!compiles),
                                "{what}: compiled blocks"
                            );
                        }
                    }
                }
            }
        }
    }
    h.report("shifts/imul");
}

#[test]
fn lea_with_every_addressing_form() {
    let mut h = H::new(3);
    for size in [4u8, 8] {
        for k in 0..24 {
            let d = reg(&mut h.rng);
            let mut m = mem_op(&mut h.rng, &[]);
            match k % 6 {
                0 => m.index = None,
                1 => m.a32 = true,
                2 => m.seg = Seg::Fs, // lea ignores segment bases
                3 => m.base = Some(RSP),
                _ => {}
            }
            if m.base.is_none() && m.index.is_none() {
                m.base = Some(reg(&mut h.rng));
            }
            // Addresses are not accessed: any register values do.
            h.shape(
                &format!("lea size {size} {m:?}"),
                vec![I::Lea(size, d, m)],
                None,
                k % 3,
            );
        }
        // RIP-relative and absolute.
        for target in [MEM + 0x10, CODE + 3, 0x7fff_fff0] {
            let d = reg(&mut h.rng);
            let ins = Instruction::with2(
                if size == 8 {
                    Code::Lea_r64_m
                } else {
                    Code::Lea_r32_m
                },
                sized_reg(d, size),
                MemoryOperand::with_base_displ(Register::RIP, target as i64),
            )
            .unwrap();
            h.shape(
                &format!("lea rip-relative {target:#x}"),
                vec![I::Raw(ins)],
                None,
                0,
            );
            let m = Mem {
                base: None,
                index: None,
                scale: 1,
                disp: target as i32,
                a32: false,
                seg: Seg::Ds,
            };
            h.shape(
                &format!("lea absolute {target:#x}"),
                vec![I::Lea(size, d, m)],
                None,
                1,
            );
        }
    }
    h.report("lea");
}

#[test]
fn zero_and_sign_extensions() {
    let mut h = H::new(4);
    // (movsx?, size, source size)
    let shapes = [
        (false, 4, 1),
        (false, 4, 2),
        (false, 8, 1),
        (false, 8, 2),
        (true, 4, 1),
        (true, 4, 2),
        (true, 8, 1),
        (true, 8, 2),
        (true, 8, 4),
    ];
    for (sx, size, ssz) in shapes {
        for mem in [false, true] {
            for variant in 0..4 {
                let d = reg(&mut h.rng);
                let (src, m) = if mem {
                    let avoid = if h.rng.chance(4) { vec![] } else { vec![d] };
                    let m = mem_op(&mut h.rng, &avoid);
                    (Opd::M(m), Some((m, u64::from(ssz), false)))
                } else {
                    (Opd::R(reg(&mut h.rng)), None)
                };
                let i = if sx {
                    I::Movsx(size, d, ssz, src)
                } else {
                    I::Movzx(size, d, ssz, src)
                };
                h.shape(&format!("{i:?} variant {variant}"), vec![i], m, variant);
            }
        }
    }
    h.report("extensions");
}

#[test]
fn cmov_and_setcc_on_all_sixteen_conditions() {
    let mut h = H::new(5);
    for cc in 0..16u8 {
        for size in [4u8, 8] {
            for mem in [false, true] {
                for variant in [0, 1, 3] {
                    let d = reg(&mut h.rng);
                    let (src, m) = if mem {
                        let m = mem_op(&mut h.rng, &[d]);
                        (Opd::M(m), Some((m, u64::from(size), false)))
                    } else {
                        (Opd::R(reg(&mut h.rng)), None)
                    };
                    let i = I::Cmov(cc, size, d, src);
                    h.shape(&format!("{i:?} variant {variant}"), vec![i], m, variant);
                }
            }
        }
        for mem in [false, true] {
            for variant in [0, 1, 3] {
                let (dst, m) = if mem {
                    let m = mem_op(&mut h.rng, &[]);
                    (Opd::M(m), Some((m, 1, true)))
                } else {
                    (Opd::R(reg(&mut h.rng)), None)
                };
                let i = I::Set(cc, dst);
                h.shape(&format!("{i:?} variant {variant}"), vec![i], m, variant);
            }
        }
    }
    h.report("cmov/setcc");
}

#[test]
fn jcc_on_all_conditions_and_fused_compares() {
    let mut h = H::new(6);
    // Plain conditional branches on the flags `popfq` loaded, and after a
    // flag-neutral instruction.
    for cc in 0..16u8 {
        for k in 0..3 {
            let mark = reg(&mut h.rng);
            let body = match k {
                0 => vec![],
                1 => vec![I::Nop],
                _ => vec![I::Lea(8, reg(&mut h.rng), Mem::base(reg(&mut h.rng), 8))],
            };
            let l = Loop {
                body,
                flow: Flow::Jcc { cc, mark },
                merged: k == 1,
                rows: 16,
            };
            let (end, stats) = h.run_loop(&format!("jcc {cc}"), &l, &mut plain_row, &[1, 2]);
            assert!(end.success());
            assert!(stats.compiled >= h.baseline, "jcc {cc}: {stats:?}");
        }
    }
    // cmp/test then jcc: the fused forms (and those that do not fuse).
    for op in [Alu::Cmp, Alu::Test] {
        for size in SIZES {
            for f in FORMS {
                if op == Alu::Test && f == Form::RM {
                    continue;
                }
                for cc in 0..16u8 {
                    let (d, s, m) = operands(&mut h.rng, f, size, false);
                    let rng = &mut h.rng;
                    let mark = reg(rng);
                    let merged = rng.chance(3);
                    let fault = m.is_some() && rng.chance(6);
                    let l = Loop {
                        body: vec![I::Alu(op, size, d, s)],
                        flow: Flow::Jcc { cc, mark },
                        merged,
                        rows: 12,
                    };
                    // Equal operands now and then (ZF, and the unsigned and
                    // signed orders at their boundaries).
                    let mut place = |rng: &mut Rng, lay: &Layout, k: usize, _: &[u64]| {
                        let mut r = base_row(rng, lay);
                        if let (Opd::R(x), Opd::R(y)) = (d, s)
                            && rng.chance(3)
                        {
                            r[y] = r[x];
                        }
                        if let Some(m) = m {
                            let n = u64::from(size);
                            let t = if fault && k == 11 {
                                fault_target(rng, lay, n, false)
                            } else {
                                ok_target(rng, n, false)
                            };
                            aim(rng, &mut r, &m, t, (0, 0));
                        }
                        r
                    };
                    let what = format!("{op:?} size {size} {f:?} + jcc {cc}");
                    let (end, stats) = h.run_loop_with(&what, &l, &mut place, &[1], (0, 0));
                    assert!(end.success() || fault, "{what}: {}", end.status);
                    assert!(stats.compiled > 0);
                }
            }
        }
    }
    h.report("jcc");
}

#[test]
fn push_pop_call_ret() {
    let mut h = H::new(7);
    for (r, name) in NAMES.iter().take(16).enumerate() {
        for variant in 0..3 {
            h.shape(
                &format!("push {name}"),
                vec![I::Push(Opd::R(r))],
                None,
                variant,
            );
            h.shape(&format!("pop {name}"), vec![I::Pop(r)], None, variant);
            let x = reg(&mut h.rng);
            h.shape(
                &format!("push {name}; pop {}", NAMES[x]),
                vec![I::Push(Opd::R(r)), I::Pop(x)],
                None,
                variant,
            );
        }
    }
    for v in [
        0i64,
        1,
        -1,
        0x7f,
        -0x80,
        0x80,
        0x7fff_ffff,
        -0x8000_0000,
        0x1234_5678,
    ] {
        for variant in 0..3 {
            h.shape(
                &format!("push {v:#x}"),
                vec![I::Push(Opd::I(v))],
                None,
                variant,
            );
        }
    }
    // push rsp / pop rsp with something on the stack.
    h.shape(
        "push rsp; pop rsp",
        vec![I::Push(Opd::R(RSP)), I::Pop(RSP)],
        None,
        0,
    );
    h.shape(
        "push rax; pop rsp",
        vec![I::Push(Opd::R(0)), I::Pop(RSP)],
        None,
        1,
    );
    // call / ret / ret imm16, with bodies in the callee.
    for k in 0..24 {
        let rng = &mut h.rng;
        let ret_imm = match k % 4 {
            0 => 0,
            1 => 8,
            2 => rng.pick(&[1, 2, 3, 0x10, 0x100]),
            _ => rng.pick(&[0xfff8, 0xffff, 0x8000]),
        };
        let inner = match k % 3 {
            0 => vec![],
            1 => vec![I::Alu(Alu::Add, 8, Opd::R(reg(rng)), Opd::R(reg(rng)))],
            _ => vec![
                I::Push(Opd::R(reg(rng))),
                I::Alu(Alu::Mov, 8, Opd::R(reg(rng)), Opd::M(Mem::base(RSP, 8))),
                I::Pop(reg(rng)),
            ],
        };
        let body = if k % 2 == 0 {
            vec![]
        } else {
            vec![I::Alu(Alu::Cmp, 4, Opd::R(reg(rng)), Opd::I(rng.imm(4)))]
        };
        let l = Loop {
            body,
            flow: Flow::Call { inner, ret_imm },
            merged: k % 5 == 0,
            rows: 10,
        };
        let (end, stats) = h.run_loop(&format!("call/ret {ret_imm}"), &l, &mut plain_row, &[1, 3]);
        assert!(end.success(), "{}", end.status);
        assert!(stats.compiled > h.baseline);
    }
    h.report("stack");
}

#[test]
fn stack_overflow_into_the_guard() {
    let mut h = H::new(8);
    // The last row's RSP at the bottom of the stack: push, call and push imm
    // fault in the guard below it; unbounded recursion from anywhere.
    // (body, flow, RSP above the guard in the last row)
    let bodies: Vec<(Vec<I>, Flow, &[u64])> = vec![
        (vec![I::Push(Opd::R(0))], Flow::Plain, &[0, 4]),
        (vec![I::Push(Opd::R(RSP))], Flow::Plain, &[0]),
        (vec![I::Push(Opd::I(-1))], Flow::Plain, &[0, 7]),
        (
            vec![I::Push(Opd::R(3)), I::Push(Opd::R(5))],
            Flow::Plain,
            &[0, 8],
        ),
        (
            vec![],
            Flow::Call {
                inner: vec![],
                ret_imm: 0,
            },
            &[0, 3],
        ),
        (
            vec![],
            Flow::Call {
                inner: vec![I::Push(Opd::I(1)), I::Pop(0)],
                ret_imm: 0,
            },
            &[8],
        ),
        (
            vec![],
            Flow::CallInd {
                via: Opd::R(0),
                mark: 1,
            },
            &[0, 5],
        ),
        (vec![], Flow::Recurse, &[0, 8, 0x800]),
        (
            vec![I::Alu(Alu::Sub, 8, Opd::R(RSP), Opd::I(0x100))],
            Flow::Recurse,
            &[0x1000],
        ),
    ];
    for (body, flow, depths) in bodies {
        for &depth in depths {
            for merged in [false, true] {
                let l = Loop {
                    body: body.clone(),
                    flow: flow.clone(),
                    merged,
                    rows: 4,
                };
                let mut place = |rng: &mut Rng, lay: &Layout, k: usize, t: &[u64]| {
                    let mut r = base_row(rng, lay);
                    if k == 3 {
                        r[RSP] = lay.stack_low + depth;
                    }
                    if let Some(&t) = t.first() {
                        r[0] = t;
                    }
                    r
                };
                let what = format!("{body:?} {flow:?} depth {depth}");
                let (end, _) = h.run_loop(&what, &l, &mut place, &[1, 2]);
                assert!(
                    end.status.contains("StackOverflow"),
                    "{what}: {}",
                    end.status
                );
            }
        }
    }
    h.report("stack overflow");
}

#[test]
fn indirect_jumps_and_calls() {
    let mut h = H::new(9);
    for k in 0..64 {
        let rng = &mut h.rng;
        let mark = reg(rng);
        let mut via_reg = reg(rng);
        while via_reg == mark {
            via_reg = reg(rng);
        }
        let mem = k % 2 == 1;
        let m = {
            let mut m = mem_op(rng, &[mark]);
            m.seg = Seg::Ds;
            if m.base.is_none() && m.index.is_none() {
                m.base = Some(via_reg);
            }
            m
        };
        let via = if mem { Opd::M(m) } else { Opd::R(via_reg) };
        // Through the stack: `push reg` then `jmp/call [rsp]`.
        let on_stack = Opd::M(Mem::base(RSP, 0));
        let flow = match k % 8 {
            0 | 1 => Flow::JmpInd { via, mark },
            2 | 3 => Flow::CallInd { via, mark },
            4 | 5 => Flow::PushRet { via: via_reg, mark },
            6 => Flow::JmpInd {
                via: on_stack,
                mark,
            },
            _ => Flow::CallInd {
                via: on_stack,
                mark,
            },
        };
        let fault = k % 7 == 5;
        let mut body = if k % 3 == 0 {
            vec![I::Alu(Alu::And, 4, Opd::R(mark), Opd::I(0x5555))]
        } else {
            vec![]
        };
        if k % 8 >= 6 {
            body.push(I::Push(Opd::R(via_reg)));
        }
        let mem = mem && k % 8 < 4;
        let l = Loop {
            body,
            flow: flow.clone(),
            merged: k % 4 == 2,
            rows: 14,
        };
        let uses_mem = mem;
        let mut place = |rng: &mut Rng, lay: &Layout, row: usize, t: &[u64]| {
            let mut r = base_row(rng, lay);
            let which = rng.below(TARGETS as u64);
            let last = fault && row == 13;
            if uses_mem {
                let target = if last {
                    fault_target(rng, lay, 8, false)
                } else if which == 0 && rng.chance(3) {
                    TBL_CROSS
                } else {
                    TBL + 8 * which
                };
                aim(rng, &mut r, &m, target, (0, 0));
            } else {
                r[via_reg] = if last {
                    // Not executable, unmapped, the null address.
                    rng.pick(&[DATA + 0x40, HOLE, 0, CODE + 0x3000])
                } else {
                    t[which as usize]
                };
            }
            r
        };
        let what = format!("{flow:?}");
        let (end, stats) = h.run_loop(&what, &l, &mut place, &[1, 2]);
        assert!(end.success() || fault, "{what}: {}", end.status);
        assert!(stats.compiled >= h.baseline, "{what}: {stats:?}");
    }
    h.report("indirect");
}

// ---------------------------------------------------------------------------
// Tests: flags around memory checks and exits

/// Flag producers, memory accesses in between, flag consumers.
#[test]
fn flags_live_across_memory_accesses() {
    let mut h = H::new(10);
    for k in 0..160 {
        let rng = &mut h.rng;
        let p = reg(rng);
        let mut x = reg(rng);
        while x == p {
            x = reg(rng);
        }
        let y = loop {
            let y = reg(rng);
            if y != p {
                break y;
            }
        };
        let m = Mem::base(p, rng.below(64) as i32 - 32);
        let size = rng.pick(&SIZES);
        let producer = match k % 6 {
            0 => I::Alu(Alu::Cmp, size, Opd::R(x), Opd::R(y)),
            1 => I::Alu(Alu::Sub, size, Opd::R(x), Opd::I(rng.imm(size))),
            2 => I::Alu(Alu::And, size, Opd::R(x), Opd::R(y)),
            3 => I::Alu(Alu::Test, size, Opd::R(x), Opd::I(rng.imm(size))),
            4 => I::Un(Un::Inc, size, Opd::R(x)),
            _ => I::Un(Un::Neg, size, Opd::R(x)),
        };
        let access = match rng.below(6) {
            0 => I::Alu(Alu::Mov, 8, Opd::R(x), Opd::M(m)),
            1 => I::Alu(Alu::Mov, 4, Opd::M(m), Opd::R(y)),
            2 => I::Movzx(4, x, 1, Opd::M(m)),
            3 => I::Alu(Alu::Mov, 2, Opd::M(m), Opd::I(7)),
            4 => I::Push(Opd::R(y)),
            _ => I::Un(Un::Not, 8, Opd::M(m)),
        };
        let write = !matches!(
            access,
            I::Alu(_, _, Opd::R(_), _) | I::Movzx(..) | I::Push(_)
        );
        let cc = rng.below(16) as u8;
        let consumer = match rng.below(7) {
            0 => I::Set(cc, Opd::R(y)),
            1 => I::Set(cc, Opd::M(m)),
            2 => I::Cmov(cc, 8, x, Opd::R(y)),
            3 => I::Alu(Alu::Adc, 8, Opd::R(x), Opd::I(0)),
            4 => I::Alu(Alu::Sbb, 4, Opd::R(y), Opd::M(m)),
            5 => I::Un(Un::Inc, 8, Opd::M(m)),
            _ => I::Nop,
        };
        let flow = if rng.chance(3) {
            Flow::Jcc {
                cc: rng.below(16) as u8,
                mark: y,
            }
        } else {
            Flow::Plain
        };
        let fault = rng.chance(4);
        let l = Loop {
            body: vec![producer, access, consumer],
            flow,
            merged: rng.chance(2),
            rows: 12,
        };
        let mut place = |rng: &mut Rng, lay: &Layout, row: usize, _: &[u64]| {
            let mut r = base_row(rng, lay);
            let t = if fault && row == 11 {
                fault_target(rng, lay, 8, write)
            } else {
                ok_target(rng, 8, true)
            };
            aim(rng, &mut r, &m, t, (0, 0));
            r
        };
        let what = format!("flags across memory {k}");
        let (end, _) = h.run_loop(&what, &l, &mut place, &[1]);
        assert!(end.success() || fault, "{what}: {}", end.status);
    }
    h.report("flags across memory");
}

/// After `and`/`or`/`xor`/`test` AF is 0 as in the interpreter, where the
/// flags leave: `pushfq`, an exit before a faulting access whose trap shows
/// them, an exit before an instruction without a template.
#[test]
fn logic_ops_leave_af_clear() {
    let mut h = H::new(11);
    let logic = [Alu::And, Alu::Or, Alu::Xor, Alu::Test];
    for op in logic {
        for size in SIZES {
            for k in 0..6 {
                let rng = &mut h.rng;
                let p = 3; // rbx: the pointer
                let x = rng.pick(&[0usize, 1, 2, 8, 12]);
                let y = rng.pick(&[6usize, 7, 9, 15]);
                let m = Mem::base(p, 16);
                let src = if rng.chance(2) {
                    Opd::R(y)
                } else {
                    Opd::I(rng.imm(size))
                };
                let producer = I::Alu(op, size, Opd::R(x), src);
                let body = match k {
                    // Flags live: the output row's pushfq.
                    0 => vec![producer],
                    // Dead (`add` overwrites them) but a faulting load between
                    // shows them in the trap state.
                    1 => vec![
                        producer,
                        I::Alu(Alu::Mov, 8, Opd::R(y), Opd::M(m)),
                        I::Alu(Alu::Add, 8, Opd::R(y), Opd::I(1)),
                    ],
                    // Dead, then an instruction without a template.
                    2 => vec![producer, I::Odd(Odd::Imul16(y, x))],
                    3 => vec![producer, I::Odd(Odd::Cmc)],
                    // Live into inc (which keeps CF) and a store that faults.
                    4 => vec![
                        producer,
                        I::Un(Un::Inc, 4, Opd::R(y)),
                        I::Alu(Alu::Mov, 1, Opd::M(m), Opd::R(x)),
                    ],
                    _ => vec![
                        producer,
                        I::Alu(Alu::Mov, 4, Opd::M(m), Opd::R(y)),
                        I::Set(4, Opd::R(y)),
                    ],
                };
                let l = Loop {
                    body,
                    flow: Flow::Plain,
                    merged: k % 2 == 1,
                    rows: 8,
                };
                let mut place = |rng: &mut Rng, lay: &Layout, row: usize, _: &[u64]| {
                    let mut r = base_row(rng, lay);
                    r[16] |= 0x10; // AF set going in
                    let t = if row == 7 {
                        rng.pick(&[HOLE + 8, RO + 8, HOLE - 4])
                    } else {
                        ok_target(rng, 8, true)
                    };
                    aim(rng, &mut r, &m, t, (0, 0));
                    r
                };
                let what = format!("{op:?} size {size} case {k}");
                h.run_loop(&what, &l, &mut place, &[1]);
            }
        }
    }
    h.report("logic AF");
}

// ---------------------------------------------------------------------------
// Tests: addressing

#[test]
fn rip_relative_absolute_segment_and_32_bit_addresses() {
    let mut h = H::new(12);
    // RIP-relative: the target is fixed per program; the last program of each
    // kind points where the access faults.
    let forms: [(Code, u8, bool); 20] = [
        (Code::Mov_r64_rm64, 8, false),
        (Code::Mov_r32_rm32, 4, false),
        (Code::Mov_r8_rm8, 1, false),
        (Code::Add_r32_rm32, 4, false),
        (Code::Cmp_r64_rm64, 8, false),
        (Code::Movzx_r32_rm16, 2, false),
        (Code::Movsx_r64_rm8, 1, false),
        (Code::Cmovl_r64_rm64, 8, false),
        (Code::Mov_rm64_r64, 8, true),
        (Code::Add_rm32_r32, 4, true),
        (Code::Sub_rm16_r16, 2, true),
        (Code::Test_rm8_r8, 1, false),
        (Code::Cmp_rm8_imm8, 1, false),
        (Code::Add_rm64_imm8, 8, true),
        (Code::Mov_rm32_imm32, 4, true),
        (Code::Inc_rm16, 2, true),
        (Code::Neg_rm64, 8, true),
        (Code::Sete_rm8, 1, true),
        (Code::Lea_r64_m, 8, false),
        (Code::Mov_r64_rm64, 8, false),
    ];
    for (code, n, write) in forms {
        for k in 0..4 {
            let rng = &mut h.rng;
            let target = match k {
                0 => MEM + rng.below(0x3ff0),
                1 => MEM + 0x1000 - 1,
                2 if !write => RO + 0x10,
                2 => FAR + 0x10,
                _ => {
                    if write {
                        RO + 0x20
                    } else {
                        HOLE + 0x20
                    }
                }
            };
            let r = reg(rng);
            let i = riprel(code, r, n, target, rng.imm(1) as i32);
            let faults = k == 3 && code != Code::Lea_r64_m;
            let l = Loop {
                body: vec![i],
                flow: Flow::Plain,
                merged: k == 1,
                rows: if faults { 3 } else { 8 },
            };
            let what = format!("{code:?} rip-relative {target:#x}");
            let (end, stats) = h.run_loop(&what, &l, &mut plain_row, &[1]);
            assert_eq!(end.trapped(), faults, "{what}: {}", end.status);
            if k == 0 {
                assert_eq!(stats.compiled, h.baseline, "{what}");
            }
        }
    }
    // Indirect jumps and calls through RIP-relative table entries.
    for call in [false, true] {
        let c = if call {
            Code::Call_rm64
        } else {
            Code::Jmp_rm64
        };
        let i = riprel(c, 0, 8, TBL + 8, 0);
        let mark = 9;
        let l = Loop {
            body: vec![],
            flow: if call {
                Flow::CallInd {
                    via: Opd::R(0),
                    mark,
                }
            } else {
                Flow::JmpInd {
                    via: Opd::R(0),
                    mark,
                }
            },
            merged: false,
            rows: 6,
        };
        // The body jumps through [rip + TBL+8] before the flow's own `jmp rax`:
        // rax holds the same target, so both go to target 1.
        let mut l = l;
        l.body = vec![i];
        let (end, _) = h.run_loop(
            &format!("{c:?} rip-relative"),
            &l,
            &mut |rng: &mut Rng, lay: &Layout, _: usize, t: &[u64]| {
                let mut r = base_row(rng, lay);
                r[0] = t[1];
                r
            },
            &[1, 2],
        );
        assert!(end.success(), "{}", end.status);
    }
    // moffs (`mov al/ax/eax/rax, [abs64]` and back) and absolute [disp32].
    for size in SIZES {
        for (k, load) in [true, false, true, false].into_iter().enumerate() {
            let target = if k < 2 {
                MEM + 0x100 + 8 * k as u64
            } else {
                MEM + 0x1000 - 2
            };
            let m = Mem {
                base: None,
                index: None,
                scale: 1,
                disp: target as i32,
                a32: false,
                seg: Seg::Ds,
            };
            let r = if k % 2 == 0 { 0 } else { reg(&mut h.rng) };
            let i = if load {
                I::Alu(Alu::Mov, size, Opd::R(r), Opd::M(m))
            } else {
                I::Alu(Alu::Mov, size, Opd::M(m), Opd::R(r))
            };
            h.shape(&format!("absolute {i:?}"), vec![i], None, k as u32 % 3);
        }
    }
    // 64-bit absolute addresses (moffs): inside the data, across a page end,
    // above 4 GiB, wrapping.
    let moffs = [
        (Code::Mov_AL_moffs8, Register::AL, true),
        (Code::Mov_AX_moffs16, Register::AX, true),
        (Code::Mov_EAX_moffs32, Register::EAX, true),
        (Code::Mov_RAX_moffs64, Register::RAX, true),
        (Code::Mov_moffs8_AL, Register::AL, false),
        (Code::Mov_moffs32_EAX, Register::EAX, false),
        (Code::Mov_moffs64_RAX, Register::RAX, false),
    ];
    for (code, r, load) in moffs {
        for addr in [
            MEM + 0x18,
            MEM + 0xffd,
            FAR + 0x20,
            0x1_0060_2000,
            u64::MAX - 3,
        ] {
            let m = MemoryOperand::with_displ(addr, 8);
            let ins = if load {
                Instruction::with2(code, r, m)
            } else {
                Instruction::with2(code, m, r)
            }
            .unwrap();
            let l = Loop {
                body: vec![I::Raw(ins)],
                flow: Flow::Plain,
                merged: addr % 2 == 1,
                rows: 4,
            };
            let what = format!("{code:?} {addr:#x}");
            let (end, _) = h.run_loop(&what, &l, &mut plain_row, &[1]);
            assert_eq!(end.trapped(), addr > FAR + 0x1000, "{what}: {}", end.status);
        }
    }
    // FS and GS bases, with 64- and 32-bit addresses; and 32-bit addresses
    // whose sum wraps at 4 GiB.
    for k in 0..96 {
        let rng = &mut h.rng;
        let size = rng.pick(&SIZES);
        let mut m = mem_op(rng, &[]);
        if m.base.is_none() && m.index.is_none() {
            m.base = Some(reg(rng));
        }
        m.seg = match k % 3 {
            0 => Seg::Fs,
            1 => Seg::Gs,
            _ => Seg::Ds,
        };
        m.a32 = k % 2 == 0;
        if k % 4 == 0 {
            m.disp = rng.pick(&[0x7fff_fff0, -0x7fff_fff0, -0x1000, 0x4000_0000]);
        }
        let x = loop {
            let x = reg(rng);
            if Some(x) != m.base && Some(x) != m.index {
                break x;
            }
        };
        let op = rng.pick(&ALUS);
        let (i, write) = match k % 4 {
            0 => (I::Alu(op, size, Opd::R(x), Opd::M(m)), false),
            1 => (I::Alu(op, size, Opd::M(m), Opd::R(x)), op.writes()),
            2 => (
                I::Alu(op, size, Opd::M(m), Opd::I(rng.imm(size))),
                op.writes(),
            ),
            _ => (I::Un(Un::Neg, size, Opd::M(m)), true),
        };
        let i = if op == Alu::Test && k % 4 == 0 {
            I::Alu(op, size, Opd::M(m), Opd::R(x))
        } else {
            i
        };
        h.shape(
            &format!("segment/a32 {i:?}"),
            vec![i],
            Some((m, u64::from(size), write)),
            (k / 3) as u32 % 4,
        );
    }
    h.report("addressing");
}

// ---------------------------------------------------------------------------
// Tests: what has no template

/// Which shapes compile: the body's block compiles exactly when its first
/// instruction has a template; those without one run in the interpreter with
/// the same results.
#[test]
fn shapes_without_templates_run_in_the_interpreter() {
    let mut h = H::new(13);
    let m = Mem::base(3, 8);
    let supported: Vec<I> = vec![
        I::Alu(Alu::Add, 8, Opd::R(0), Opd::I(0x7fff_ffff)),
        I::MovImm64(0, 0x1234_5678_9abc_def0),
        I::Lea(4, 0, m),
        I::Push(Opd::I(5)),
        I::Nop,
    ];
    let unsupported: Vec<I> = vec![
        I::Odd(Odd::Imul16(0, 1)),
        I::Odd(Odd::ShlCl(0)),
        I::Odd(Odd::Rcl(0)),
        // Shifts by 0 (no flags change), and those whose flags stay live.
        I::Shift(Sh::Shl, 4, Opd::R(0), 0),
        I::Shift(Sh::Ror, 8, Opd::R(0), 64),
        I::Shift(Sh::Sar, 2, Opd::R(0), 32),
        I::Imul(8, 0, Opd::R(1), None),
        I::Odd(Odd::Bswap(2)),
        I::Odd(Odd::MovzxAh(1)),
        I::Odd(Odd::Movzx16(1, 2)),
        I::Odd(Odd::Lea16(1, 2)),
        I::Odd(Odd::Bt(1, 2)),
        I::Odd(Odd::Xchg(1, 2)),
        I::Odd(Odd::Cmc),
        I::Odd(Odd::Stc),
        I::Odd(Odd::Clc),
        I::Odd(Odd::PushMem(m)),
        I::Odd(Odd::Push16(1)),
        I::Odd(Odd::SetAh(3)),
        I::Cmov(4, 2, 0, Opd::R(1)),
        I::Lea(2, 0, m),
        I::Movzx(2, 0, 1, Opd::R(1)),
        I::Movsx(2, 0, 1, Opd::M(m)),
    ];
    for (list, expect) in [(&supported, h.baseline), (&unsupported, h.baseline - 1)] {
        for i in list.iter() {
            for merged in [false, true] {
                // The instruction, then more that have templates (which then
                // run in the interpreter too when it has none).
                // (For the imul: `not [m]` may leave, so its flags are live.)
                let l = Loop {
                    body: vec![
                        *i,
                        I::Un(Un::Not, 8, Opd::M(m)),
                        I::Alu(Alu::Add, 4, Opd::R(5), Opd::R(6)),
                    ],
                    flow: Flow::Plain,
                    merged,
                    rows: 6,
                };
                let what = format!("{i:?} merged {merged}");
                let (end, stats) = h.run_loop(
                    &what,
                    &l,
                    &mut |rng: &mut Rng, lay: &Layout, _: usize, _: &[u64]| {
                        let mut r = base_row(rng, lay);
                        let t = ok_target(rng, 8, true);
                        aim(rng, &mut r, &m, t, (0, 0));
                        r
                    },
                    &[1],
                );
                assert!(end.success(), "{what}: {}", end.status);
                if !merged {
                    assert_eq!(stats.compiled, expect, "{what}");
                }
            }
        }
    }
    h.report("without templates");
}

// ---------------------------------------------------------------------------
// Tests: random sequences

/// Registers a random sequence may use: pointers (never written), an index
/// (never written) and data registers.
struct Regs {
    ptrs: Vec<usize>,
    idx: usize,
    data: Vec<usize>,
}

fn seq_mem(rng: &mut Rng, g: &Regs) -> Mem {
    Mem {
        // The stack now and then (RSP is valid in every row).
        base: Some(if rng.chance(8) {
            RSP
        } else {
            rng.pick(&g.ptrs)
        }),
        index: if rng.chance(3) { Some(g.idx) } else { None },
        scale: rng.pick(&[1, 2, 4, 8]),
        disp: rng.below(128) as i32 - 64,
        a32: rng.chance(10),
        seg: match rng.below(20) {
            0 => Seg::Fs,
            1 => Seg::Gs,
            _ => Seg::Ds,
        },
    }
}

fn seq_inst(rng: &mut Rng, g: &Regs, odd: bool) -> I {
    let any = |rng: &mut Rng| reg(rng);
    let data = |rng: &mut Rng| rng.pick(&g.data);
    let size = rng.pick(&SIZES);
    let cc = rng.below(16) as u8;
    match rng.below(if odd { 44 } else { 40 }) {
        36 | 37 => {
            let op = rng.pick(&SHIFTS);
            let n = rng.pick(&[1u8, 1, 2, 3, 7, 8, 9, 15, 16, 31, 32, 33, 63, 0]);
            if rng.chance(3) {
                I::Shift(op, size, Opd::M(seq_mem(rng, g)), n)
            } else {
                I::Shift(op, size, Opd::R(data(rng)), n)
            }
        }
        38 | 39 => {
            let src = if rng.chance(2) {
                Opd::R(any(rng))
            } else {
                Opd::M(seq_mem(rng, g))
            };
            let imm = if rng.chance(2) {
                Some(rng.imm(4) as i32)
            } else {
                None
            };
            I::Imul(rng.pick(&[4, 8]), data(rng), src, imm)
        }
        0..=13 => {
            let op = rng.pick(&ALUS);
            let f = rng.pick(&FORMS);
            let d = if op.writes() { data(rng) } else { any(rng) };
            let m = seq_mem(rng, g);
            match f {
                Form::RR => I::Alu(op, size, Opd::R(d), Opd::R(any(rng))),
                Form::RI => I::Alu(op, size, Opd::R(d), Opd::I(rng.imm(size))),
                Form::RM if op != Alu::Test => I::Alu(op, size, Opd::R(d), Opd::M(m)),
                Form::RM | Form::MR => I::Alu(op, size, Opd::M(m), Opd::R(any(rng))),
                Form::MI => I::Alu(op, size, Opd::M(m), Opd::I(rng.imm(size))),
            }
        }
        14..=16 => {
            let op = rng.pick(&[Un::Inc, Un::Dec, Un::Neg, Un::Not]);
            if rng.chance(2) {
                I::Un(op, size, Opd::R(data(rng)))
            } else {
                I::Un(op, size, Opd::M(seq_mem(rng, g)))
            }
        }
        17 => {
            let mut m = seq_mem(rng, g);
            m.base = Some(any(rng));
            I::Lea(rng.pick(&[4, 8]), data(rng), m)
        }
        18 | 19 => {
            let (size, ssz) = rng.pick(&[(4u8, 1u8), (4, 2), (8, 1), (8, 2), (8, 4)]);
            let src = if rng.chance(2) {
                Opd::R(any(rng))
            } else {
                Opd::M(seq_mem(rng, g))
            };
            if ssz == 4 || rng.chance(2) {
                I::Movsx(size, data(rng), ssz, src)
            } else {
                I::Movzx(size, data(rng), ssz, src)
            }
        }
        20 | 21 => {
            let src = if rng.chance(2) {
                Opd::R(any(rng))
            } else {
                Opd::M(seq_mem(rng, g))
            };
            I::Cmov(cc, rng.pick(&[4, 8]), data(rng), src)
        }
        22 | 23 => {
            if rng.chance(2) {
                I::Set(cc, Opd::R(data(rng)))
            } else {
                I::Set(cc, Opd::M(seq_mem(rng, g)))
            }
        }
        24 | 25 => {
            if rng.chance(3) {
                I::Push(Opd::I(rng.imm(4)))
            } else {
                I::Push(Opd::R(rng.below(16) as usize))
            }
        }
        26 => I::Pop(data(rng)),
        27 => I::MovImm64(data(rng), rng.value()),
        28..=30 => I::JccSkip(cc, 1 + rng.below(3) as usize),
        31 => {
            let forms = [
                (Code::Mov_r64_rm64, 8),
                (Code::Add_rm32_r32, 4),
                (Code::Cmp_rm8_imm8, 1),
                (Code::Inc_rm16, 2),
            ];
            let (c, n) = rng.pick(&forms);
            let t = MEM + rng.below(0x3ff8);
            let r = if c == Code::Mov_r64_rm64 {
                data(rng)
            } else {
                any(rng)
            };
            riprel(c, r, n, t, rng.imm(1) as i32)
        }
        32..=35 => {
            // A compare directly before a branch: fused where the shape allows.
            let op = rng.pick(&[Alu::Cmp, Alu::Test]);
            let m = seq_mem(rng, g);
            match rng.below(4) {
                0 => I::Alu(op, size, Opd::R(any(rng)), Opd::R(any(rng))),
                1 => I::Alu(op, size, Opd::R(any(rng)), Opd::I(rng.imm(size))),
                2 => I::Alu(op, size, Opd::M(m), Opd::R(any(rng))),
                _ => I::Alu(op, size, Opd::M(m), Opd::I(rng.imm(size))),
            }
        }
        40.. => {
            let (d, s) = (data(rng), data(rng));
            I::Odd(match rng.below(10) {
                0 => Odd::Imul16(d, s),
                1 => Odd::ShlCl(d),
                2 => Odd::Bswap(d),
                3 => Odd::Movzx16(d, s),
                4 => Odd::Bt(d, s),
                5 => Odd::Xchg(d, s),
                6 => Odd::Cmc,
                7 => Odd::Stc,
                8 => Odd::PushMem(seq_mem(rng, g)),
                9 if g.data.contains(&0) => Odd::GasLeft,
                _ => Odd::Clc,
            })
        }
    }
}

fn seq(rng: &mut Rng, g: &Regs, len: usize, odd: bool) -> Vec<I> {
    let mut out = Vec::new();
    while out.len() < len {
        let i = seq_inst(rng, g, odd);
        out.push(i);
        // Compares mostly right before a branch.
        if let I::Alu(Alu::Cmp | Alu::Test, ..) = i
            && rng.chance(2)
        {
            out.push(I::JccSkip(rng.below(16) as u8, 1 + rng.below(2) as usize));
        }
    }
    out
}

/// A loop of a random sequence that keeps its counter.
fn loop_flow(rng: &mut Rng, g: &Regs) -> Flow {
    let counter = rng.pick(&g.data);
    let inner_regs = Regs {
        ptrs: g.ptrs.clone(),
        idx: g.idx,
        data: g.data.iter().copied().filter(|&r| r != counter).collect(),
    };
    let len = 1 + rng.below(6) as usize;
    let odd = rng.chance(3);
    Flow::Loop {
        counter,
        n: 1 + rng.below(24) as u32,
        inner: seq(rng, &inner_regs, len, odd),
        fused: rng.chance(2),
    }
}

/// `body` without the instructions that would move its return address.
fn callee(mut body: Vec<I>) -> Vec<I> {
    body.retain(|i| {
        !matches!(
            i,
            I::Push(_) | I::Pop(_) | I::Odd(Odd::PushMem(_) | Odd::Push16(_))
        )
    });
    body
}

fn seq_regs(rng: &mut Rng) -> Regs {
    let mut free: Vec<usize> = (0..16).filter(|&r| r != RSP).collect();
    let mut take = |rng: &mut Rng| {
        let k = rng.below(free.len() as u64) as usize;
        free.remove(k)
    };
    let ptrs = (0..1 + rng.below(2)).map(|_| take(rng)).collect();
    let idx = take(rng);
    Regs {
        ptrs,
        idx,
        data: free,
    }
}

/// Rows for a random sequence: pointers into the data (sometimes at page ends,
/// in the last row sometimes where accesses fault), small indexes.
fn seq_row(rng: &mut Rng, lay: &Layout, g: &Regs, last: bool, fault: bool) -> [u64; 17] {
    let mut r = base_row(rng, lay);
    for &p in &g.ptrs {
        r[p] = if last && fault {
            rng.pick(&[
                HOLE + 0x200,
                RO + 0x200,
                MEM_END - 0x20,
                HOLE - 0x30,
                0x2000,
            ])
        } else if rng.chance(4) {
            MEM + 0x1000 * (1 + rng.below(3)) - rng.below(16)
        } else {
            MEM + 0x100 + rng.below(MEM_END - MEM - 0x200)
        };
    }
    r[g.idx] = rng.below(16);
    r
}

#[test]
fn random_sequences() {
    // X64VM_JIT_SEQUENCES=n runs n programs instead (X64VM_JIT_SEED: another
    // seed), for longer hunts.
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let programs = env("X64VM_JIT_SEQUENCES").unwrap_or(1200);
    let mut h = H::new(env("X64VM_JIT_SEED").unwrap_or(14));
    for k in 0..programs {
        let rng = &mut h.rng;
        let g = seq_regs(rng);
        let len = 2 + rng.below(11) as usize;
        let body = seq(rng, &g, len, true);
        let flow = match rng.below(8) {
            0 => Flow::Jcc {
                cc: rng.below(16) as u8,
                mark: rng.pick(&g.data),
            },
            1 => Flow::Call {
                inner: {
                    let n = 1 + rng.below(5) as usize;
                    callee(seq(rng, &g, n, true))
                },
                ret_imm: rng.pick(&[0, 0, 8, 16]),
            },
            2 => loop_flow(rng, &g),
            _ => Flow::Plain,
        };
        let fault = rng.chance(5);
        let rows = 6 + rng.below(10) as usize;
        let merged = rng.chance(2);
        let seg = (rng.below(0x40), rng.below(0x40));
        let l = Loop {
            body,
            flow,
            merged,
            rows,
        };
        let jits: &[u32] = match k % 4 {
            0 => &[1, 3],
            2 => &[1, 8],
            _ => &[1],
        };
        let mut place = |rng: &mut Rng, lay: &Layout, row: usize, _: &[u64]| {
            seq_row(rng, lay, &g, row + 1 == rows, fault)
        };
        let (end, stats) =
            h.run_loop_with(&format!("random sequence {k}"), &l, &mut place, jits, seg);
        assert!(end.success() || end.trapped(), "{}", end.status);
        assert!(stats.compiled > 0);
    }
    h.report("random sequences");
}

// ---------------------------------------------------------------------------
// Tests: gas

/// Every gas limit from 1 to what the program needs (in small steps): the same
/// out-of-gas stop (address, registers, flags, memory) either way.
#[test]
fn out_of_gas_at_every_limit() {
    let mut h = H::new(15);
    let mut programs: Vec<(String, Prog)> = Vec::new();
    for k in 0..5 {
        let rng = &mut h.rng;
        let g = seq_regs(rng);
        let body = seq(rng, &g, 6, k % 2 == 0);
        let flow = match k {
            0 => Flow::Plain,
            1 => Flow::Call {
                inner: callee(seq(rng, &g, 3, false)),
                ret_imm: 8,
            },
            2 => Flow::Jcc {
                cc: 5,
                mark: g.data[0],
            },
            3 => loop_flow(rng, &g),
            _ => Flow::Recurse,
        };
        let l = Loop {
            body,
            flow,
            merged: k % 2 == 1,
            rows: 4,
        };
        let code = build(&l);
        let rows: Vec<[u64; 17]> = (0..l.rows)
            .map(|r| seq_row(rng, &h.lay, &g, r == 3, k == 2))
            .collect();
        let (data, ro, far) = data_for(rng, &rows, &code.marks[MARK_TARGETS..]);
        let mut p = Prog::new(code.bytes);
        p.data = data;
        p.ro = ro;
        p.far = far;
        programs.push((format!("{:?} {:?}", l.body, l.flow), p));
    }
    programs.push(("self-modifying loop".into(), self_modifying(0, 12)));
    programs.push(("self-modifying callee".into(), self_modifying(1, 12)));
    let mut limits_run = 0;
    for (what, p) in &mut programs {
        let full = {
            let (end, _) = run(p, &p.image(), None);
            end.gas_used
        };
        assert!(full > 10, "{what}: {full}");
        let step = (full / 300).max(1);
        let mut limit = 1;
        while limit <= full + 1 {
            p.gas = limit;
            let jits: &[u32] = if limit % 3 == 0 { &[1, 2] } else { &[1] };
            let describe = || format!("{what} with gas limit {limit} of {full}");
            h.compare(&describe, p, jits);
            limits_run += 1;
            limit += if limit < 150 { 1 } else { step };
        }
    }
    eprintln!("gas: {limits_run} limits");
    h.report("gas");
}

// ---------------------------------------------------------------------------
// Tests: self-modifying code

/// Programs that write over their own code (code pages writable, W^X off):
/// 0 patches an immediate in the running loop's block; 1 patches a callee's
/// immediate and branch condition; 2 writes next to the code on its page; 3
/// writes fresh code to a page never run before and calls it, then rewrites it.
fn self_modifying(kind: u32, rounds: u32) -> Prog {
    let code = vmkit::asm(|a| {
        let mut top = a.create_label();
        let mut callee = a.create_label();
        let mut cjump = a.create_label();
        let mut other = a.create_label();
        let mut room = a.create_label();
        a.mov(ecx, rounds)?;
        a.xor(ebx, ebx)?;
        a.lea(rdx, ptr(top))?;
        a.lea(rsi, ptr(callee))?;
        a.lea(rdi, ptr(room))?;
        a.lea(r9, ptr(cjump))?;
        // The loop's first instruction: `mov eax, imm32` (imm at top + 1).
        a.set_label(&mut top)?;
        a.mov(eax, 0x1111_1111u32)?;
        a.add(rbx, rax)?;
        match kind {
            0 => {
                a.add(dword_ptr(rdx + 1), 0x0101_0101)?;
            }
            1 => {
                a.call(callee)?;
                a.add(dword_ptr(rsi + 1), 3)?;
                // Flip the callee's branch (je <-> jne) every round.
                a.xor(byte_ptr(r9), 1)?;
            }
            2 => {
                a.mov(qword_ptr(rdi), rbx)?;
                a.add(qword_ptr(rdi + 8), rcx)?;
            }
            _ => {
                // `mov eax, imm32; ret` at CODE + 0x1000 (a page not run before).
                a.mov(r8, CODE + 0x1000)?;
                a.mov(byte_ptr(r8), 0xb8)?;
                a.mov(dword_ptr(r8 + 1), ecx)?;
                a.mov(byte_ptr(r8 + 5), 0xc3)?;
                a.call(r8)?;
                a.add(rbx, rax)?;
            }
        }
        a.dec(ecx)?;
        a.jne(top)?;
        a.mov(rax, rbx)?;
        a.ret()?;
        // callee: `mov eax, 7` (imm at callee + 1), then a branch.
        a.set_label(&mut callee)?;
        a.mov(eax, 7)?;
        a.test(ecx, 1)?;
        a.set_label(&mut cjump)?;
        a.je(other)?;
        a.add(rbx, 0x100)?;
        a.ret()?;
        a.set_label(&mut other)?;
        a.add(rbx, 0x10000)?;
        a.ret()?;
        // Room the program writes into (on the code's page).
        a.set_label(&mut room)?;
        a.db(&[0u8; 32])
    });
    let mut p = Prog::new(code.bytes);
    p.wx = true;
    p
}

#[test]
fn self_modifying_code() {
    let mut h = H::new(16);
    for kind in 0..4 {
        for rounds in [1, 2, 9, 40] {
            let p = self_modifying(kind, rounds);
            let describe = || format!("self-modifying kind {kind} rounds {rounds}");
            let (end, stats) = h.compare(&describe, &p, &[1, 2, 5]);
            assert!(end.success(), "{}: {}", describe(), end.status);
            assert!(stats.compiled > 0, "{}", describe());
        }
    }
    // The row loop with W^X off: random bodies on writable code pages.
    for k in 0..40 {
        let rng = &mut h.rng;
        let g = seq_regs(rng);
        let body = seq(rng, &g, 5, true);
        let l = Loop {
            body,
            flow: Flow::Plain,
            merged: k % 2 == 0,
            rows: 6,
        };
        let code = build(&l);
        let code_len = code.bytes.len() as u64;
        assert!(code_len + 0x200 < 0x1000);
        let rows: Vec<[u64; 17]> = (0..l.rows)
            .map(|r| {
                let mut row = seq_row(rng, &h.lay, &g, false, false);
                // Some pointers at the code page, past the code.
                if r % 3 == 2 {
                    row[g.ptrs[0]] = CODE + code_len + 0x80 + rng.below(0x100);
                }
                row
            })
            .collect();
        let (data, ro, far) = data_for(rng, &rows, &[]);
        let mut p = Prog::new(code.bytes);
        p.data = data;
        p.ro = ro;
        p.far = far;
        p.wx = true;
        let describe = || format!("writable code {k}: {:?}", l.body);
        let (end, _) = h.compare(&describe, &p, &[1, 3]);
        assert!(end.success() || end.trapped(), "{}", end.status);
    }
    h.report("self-modifying");
}

// ---------------------------------------------------------------------------
// Tests: instance reuse

/// Compiled code writes pages only after the interpreter did the first write
/// of each (which records the page for `Instance::reset`): after a compiled
/// run, `reset` restores exactly the initial memory, and the next call, run by
/// the code compiled in the first, ends as a fresh interpreted one.
#[test]
fn reset_after_compiled_writes() {
    let mut h = H::new(18);
    for k in 0..60 {
        let rng = &mut h.rng;
        let g = seq_regs(rng);
        let len = 4 + rng.below(6) as usize;
        let mut body = seq(rng, &g, len, k % 2 == 0);
        // Writes through every pointer.
        for &p in &g.ptrs {
            body.push(I::Alu(
                Alu::Add,
                8,
                Opd::M(Mem::base(p, 8)),
                Opd::R(g.data[0]),
            ));
        }
        let l = Loop {
            body,
            flow: Flow::Plain,
            merged: k % 3 == 0,
            rows: 8,
        };
        let code = build(&l);
        let rows: Vec<[u64; 17]> = (0..l.rows)
            .map(|r| seq_row(rng, &h.lay, &g, r == 7, k % 5 == 4))
            .collect();
        let (data, ro, far) = data_for(rng, &rows, &[]);
        let mut p = Prog::new(code.bytes);
        p.data = data;
        p.ro = ro;
        p.far = far;
        p.wx = k % 4 == 1;
        let image = p.image();
        let (reference, _) = run(&p, &image, None);
        let mut inst = Instance::new(&image, &p.config(), &[]).expect("instance");
        let fresh = pages(&inst);
        inst.set_jit(Some(1));
        let what = || format!("program {k}: {:?}", l.body);
        for round in 0..3 {
            let end = call(&mut inst, &p);
            assert!(
                end == reference,
                "round {round} differs from a fresh interpreted run\n  {}\n{}",
                diff(&end, &reference),
                what()
            );
            inst.reset(&[]).expect("reset");
            let now = pages(&inst);
            if now != fresh {
                let page = now
                    .iter()
                    .zip(&fresh)
                    .find(|(a, b)| a != b)
                    .map(|(a, _)| a.0);
                panic!(
                    "round {round}: reset left page {page:x?} changed\n{}",
                    what()
                );
            }
        }
        let stats = inst.jit_stats();
        assert_eq!(stats.errors, 0);
        assert!(stats.compiled > 0);
        h.programs += 1;
        h.compiled += stats.compiled;
    }
    h.report("reset");
}

/// Blocks cut at the interpreter's limit of instructions per block (the
/// compiled part continues at the next block).
#[test]
fn long_blocks_are_cut() {
    let mut h = H::new(19);
    for k in 0..8 {
        let rng = &mut h.rng;
        let g = seq_regs(rng);
        let mut body = seq(rng, &g, 300, false);
        body.retain(|i| !matches!(i, I::JccSkip(..)));
        let l = Loop {
            body,
            flow: Flow::Plain,
            merged: k % 2 == 0,
            rows: 4,
        };
        let fault = k % 4 == 3;
        let mut place = |rng: &mut Rng, lay: &Layout, row: usize, _: &[u64]| {
            seq_row(rng, lay, &g, row == 3, fault)
        };
        let (end, stats) = h.run_loop(&format!("long block {k}"), &l, &mut place, &[1, 2]);
        assert!(end.success() || fault, "{}", end.status);
        assert!(stats.compiled >= h.baseline - 2, "{stats:?}");
    }
    h.report("long blocks");
}

// ---------------------------------------------------------------------------
// Tests: grouped memory checks

/// Several accesses `[base + disp]` through one base register, of every
/// permission class, spread over up to two pages (one check may cover a
/// group), with the base written or other instructions in between, and rows
/// where a later access than the first faults or crosses into another page.
#[test]
fn accesses_through_one_base() {
    let mut h = H::new(20);
    for k in 0..320 {
        let rng = &mut h.rng;
        let on_stack = k % 5 == 0;
        let b = if on_stack { RSP } else { reg(rng) };
        let data: Vec<usize> = (0..16).filter(|&r| r != b && r != RSP).collect();
        let wide = k % 3 != 0;
        let mut body = Vec::new();
        let mut min_disp = i32::MAX;
        let mut max_end = i32::MIN;
        let count = 2 + rng.below(7);
        for _ in 0..count {
            let size = rng.pick(&SIZES);
            let disp = if wide {
                rng.below(4200) as i32 - 2100
            } else {
                rng.below(128) as i32 - 64
            };
            min_disp = min_disp.min(disp);
            max_end = max_end.max(disp + i32::from(size));
            let m = Mem::base(b, disp);
            let x = rng.pick(&data);
            let y = rng.pick(&data);
            let cc = rng.below(16) as u8;
            body.push(match rng.below(12) {
                // Reads.
                0 => I::Alu(Alu::Mov, size, Opd::R(x), Opd::M(m)),
                1 => I::Alu(Alu::Cmp, size, Opd::R(x), Opd::M(m)),
                2 => I::Movzx(4, x, 1, Opd::M(m)),
                3 => I::Cmov(cc, 8, x, Opd::M(m)),
                4 => I::Alu(Alu::Test, size, Opd::M(m), Opd::R(y)),
                // Writes.
                5 => I::Alu(Alu::Mov, size, Opd::M(m), Opd::R(y)),
                6 => I::Alu(Alu::Mov, size, Opd::M(m), Opd::I(rng.imm(size))),
                7 => I::Set(cc, Opd::M(m)),
                // Read-modify-write.
                8 => I::Alu(Alu::Add, size, Opd::M(m), Opd::R(y)),
                9 => I::Un(Un::Inc, size, Opd::M(m)),
                10 => I::Un(Un::Not, size, Opd::M(m)),
                _ => I::Alu(Alu::Sbb, size, Opd::M(m), Opd::I(rng.imm(size))),
            });
            // Something in between now and then: a register op, the base
            // moved (a new group), the stack, an instruction without a template.
            match rng.below(10) {
                0 | 1 => body.push(I::Alu(Alu::Xor, 8, Opd::R(x), Opd::R(y))),
                2 if !on_stack => body.push(I::Alu(Alu::Add, 8, Opd::R(b), Opd::I(0))),
                3 => body.push(I::Lea(8, x, Mem::base(b, 8))),
                4 if !on_stack => body.push(I::Push(Opd::R(x))),
                5 => body.push(I::Odd(Odd::Bswap(x))),
                _ => {}
            }
        }
        let fault = k % 4 == 3;
        let l = Loop {
            body,
            flow: Flow::Plain,
            merged: k % 2 == 1,
            rows: 10,
        };
        let (lo, hi) = (i64::from(min_disp), i64::from(max_end));
        let mut place = |rng: &mut Rng, lay: &Layout, row: usize, _: &[u64]| {
            let mut r = base_row(rng, lay);
            let last = row == 9;
            let v = if on_stack {
                if fault && last {
                    // The lowest access just below the stack: the guard.
                    (lay.stack_low as i64 - lo - 1 - rng.below(8) as i64) as u64
                } else {
                    (lay.stack_top - 0x1000 - rng.below(0x800)) & !7
                }
            } else if fault && last {
                // The highest access across the end of the writable pages
                // (into the read-only one), or of the read-only page (into
                // the hole).
                let end = rng.pick(&[MEM_END, HOLE]) as i64;
                (end - hi + 1 + rng.below(8) as i64) as u64
            } else if rng.chance(3) {
                // The accesses around a page end.
                let page = (MEM + 0x1000 * (1 + rng.below(3))) as i64;
                (page - (lo + hi) / 2 + rng.below(64) as i64 - 32) as u64
            } else {
                MEM + 0x900 + rng.below(MEM_END - MEM - 0x1200)
            };
            r[b] = v;
            r
        };
        let what = format!("accesses through {} {k}", NAMES[b]);
        let (end, stats) = h.run_loop(&what, &l, &mut place, &[1]);
        assert!(end.success() || fault, "{what}: {}", end.status);
        assert!(stats.compiled > 0);
    }
    h.report("one base");
}

/// Loops whose blocks branch back to themselves (compiled blocks linked to
/// themselves run without the interpreter's loop in between; gas is charged
/// on every entry).
#[test]
fn tight_loops() {
    let mut h = H::new(21);
    for k in 0..160 {
        let rng = &mut h.rng;
        let g = seq_regs(rng);
        let flow = loop_flow(rng, &g);
        let fault = k % 6 == 5;
        let l = Loop {
            body: vec![],
            flow,
            merged: k % 2 == 0,
            rows: 4,
        };
        let mut place = |rng: &mut Rng, lay: &Layout, row: usize, _: &[u64]| {
            seq_row(rng, lay, &g, row == 3, fault)
        };
        let jits: &[u32] = if k % 3 == 0 { &[1, 4] } else { &[1] };
        let (end, stats) = h.run_loop(&format!("tight loop {k}"), &l, &mut place, jits);
        assert!(end.success() || end.trapped(), "{}", end.status);
        assert!(stats.compiled > 0);
    }
    h.report("tight loops");
}
