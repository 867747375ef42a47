//! Guest programs for the `jit` target: the fuzzer's bytes either as raw code or
//! as records, each one instruction of a shape the block compiler has templates
//! for (`x64vm`'s `jit::flags::supported`), run in a loop so that blocks are
//! compiled, linked and entered many times.
//!
//! A record is [`RECORD`] bytes: kind, form, registers, a memory operand
//! (base and index, scale and flags, displacement) and an immediate. Fixed-size
//! records keep a mutation local to one instruction; missing bytes read as
//! zero, so every input makes a program. Memory operands take their base (and
//! index) from the registers the record names: the `exec` selectors decide
//! which registers hold pointers.

use iced_x86::code_asm::*;

/// Where the loop counter lives: the last quadword of the data segment.
pub(crate) const COUNTER: u64 = super::targets::DATA + super::targets::DATA_SIZE - 8;

/// Most records turned into instructions.
const MAX_RECORDS: usize = 96;

type R = Result<(), IcedError>;

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

/// The fuzzer's bytes, read front to back; zeros once they run out.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn four(&mut self) -> [u8; 4] {
        [self.u8(), self.u8(), self.u8(), self.u8()]
    }
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
}

/// Bytes per record.
pub(crate) const RECORD: usize = 13;

/// One record (see the module documentation).
struct Rec {
    kind: u8,
    x: u8,
    regs: u8,
    m0: u8,
    m1: u8,
    disp: [u8; 4],
    imm: [u8; 4],
}

impl Rec {
    fn read(b: &mut Bytes<'_>) -> Rec {
        let start = b.at;
        let r = Rec {
            kind: b.u8(),
            x: b.u8(),
            regs: b.u8(),
            m0: b.u8(),
            m1: b.u8(),
            disp: b.four(),
            imm: b.four(),
        };
        debug_assert_eq!(b.at - start, RECORD);
        r
    }

    /// The memory operand: base `m0 & 15`, index `m0 >> 4` when `m1 & 4`,
    /// scale `1 << (m1 & 3)`, 32-bit addresses when `m1 & 0x38 == 0x38`,
    /// FS/GS when `m1 & 0x80` and `(m1 >> 4) & 3` is 2/3, disp32 when `m1 & 0x40`
    /// (else disp8).
    fn mem(&self) -> Mem {
        let (m0, m1) = (self.m0, self.m1);
        let index = usize::from(m0 >> 4);
        let disp = if m1 & 0x40 != 0 {
            i32::from_le_bytes(self.disp)
        } else {
            i32::from(self.disp[0] as i8)
        };
        Mem {
            base: usize::from(m0 & 15),
            // RSP cannot be an index.
            index: (m1 & 4 != 0 && index != 4 && index != usize::from(m0 & 15)).then_some(index),
            scale: 1 << (m1 & 3),
            disp,
            a32: m1 & 0x38 == 0x38,
            seg: match (m1 >> 4) & 3 {
                2 if m1 & 0x80 != 0 => 1,
                3 if m1 & 0x80 != 0 => 2,
                _ => 0,
            },
        }
    }

    /// An immediate of an operation of `size` bytes: imm32 when `wide`, else
    /// imm8 (sign-extended).
    fn imm(&self, size: u8, wide: bool) -> i32 {
        let v = if wide {
            i32::from_le_bytes(self.imm)
        } else {
            i32::from(self.imm[0] as i8)
        };
        match size {
            1 => i32::from(v as i8),
            2 => i32::from(v as i16),
            _ => v,
        }
    }

    /// A 64-bit immediate: the displacement and immediate bytes.
    fn imm64(&self) -> u64 {
        u64::from(u32::from_le_bytes(self.disp)) << 32 | u64::from(u32::from_le_bytes(self.imm))
    }
}

/// A memory operand: base, optional index and scale, displacement, 32-bit
/// address size, segment (0 none, 1 FS, 2 GS).
#[derive(Clone, Copy)]
struct Mem {
    base: usize,
    index: Option<usize>,
    scale: u32,
    disp: i32,
    a32: bool,
    seg: u8,
}

fn operand(m: &Mem, size: u8) -> AsmMemoryOperand {
    let o = match (m.a32, m.index) {
        (true, Some(x)) => R32[m.base] + R32[x] * m.scale + m.disp,
        (true, None) => R32[m.base] + m.disp,
        (false, Some(x)) => R64[m.base] + R64[x] * m.scale + m.disp,
        (false, None) => R64[m.base] + m.disp,
    };
    let o = match size {
        0 => ptr(o),
        1 => byte_ptr(o),
        2 => word_ptr(o),
        4 => dword_ptr(o),
        _ => qword_ptr(o),
    };
    match m.seg {
        1 => o.fs(),
        2 => o.gs(),
        _ => o,
    }
}

/// An operand of a two-operand instruction.
#[derive(Clone, Copy)]
enum Opd {
    R(usize),
    M(Mem),
    I(i32),
}

macro_rules! alu2 {
    ($a:ident, $op:ident, $size:expr, $d:expr, $s:expr) => {
        alu2!($a, $op, $size, $d, $s, i32)
    };
    ($a:ident, $op:ident, $size:expr, $d:expr, $s:expr, $t64:ty) => {
        match ($d, $s) {
            (Opd::R(d), Opd::R(s)) => match $size {
                1 => $a.$op(R8[d], R8[s]),
                2 => $a.$op(R16[d], R16[s]),
                4 => $a.$op(R32[d], R32[s]),
                _ => $a.$op(R64[d], R64[s]),
            },
            (Opd::R(d), Opd::I(v)) => match $size {
                1 => $a.$op(R8[d], v),
                2 => $a.$op(R16[d], v),
                4 => $a.$op(R32[d], v),
                _ => $a.$op(R64[d], <$t64>::from(v)),
            },
            (Opd::M(m), Opd::R(s)) => match $size {
                1 => $a.$op(operand(&m, 1), R8[s]),
                2 => $a.$op(operand(&m, 2), R16[s]),
                4 => $a.$op(operand(&m, 4), R32[s]),
                _ => $a.$op(operand(&m, 8), R64[s]),
            },
            (Opd::M(m), Opd::I(v)) => $a.$op(operand(&m, $size), v),
            (Opd::R(d), Opd::M(m)) => match $size {
                1 => $a.$op(R8[d], operand(&m, 1)),
                2 => $a.$op(R16[d], operand(&m, 2)),
                4 => $a.$op(R32[d], operand(&m, 4)),
                _ => $a.$op(R64[d], operand(&m, 8)),
            },
            _ => Ok(()),
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
            (Opd::M(m), size) => $a.$op(operand(&m, size) $(, $arg)?),
            _ => Ok(()),
        }
    };
}

/// The sixteen conditions: `$go!(suffix)` for the one numbered `$cc`.
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

macro_rules! paste_cmov {
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

macro_rules! paste_set {
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

fn jcc(a: &mut CodeAssembler, cc: u8, l: CodeLabel) -> R {
    match cc & 15 {
        0 => a.jo(l),
        1 => a.jno(l),
        2 => a.jb(l),
        3 => a.jae(l),
        4 => a.je(l),
        5 => a.jne(l),
        6 => a.jbe(l),
        7 => a.ja(l),
        8 => a.js(l),
        9 => a.jns(l),
        10 => a.jp(l),
        11 => a.jnp(l),
        12 => a.jl(l),
        13 => a.jge(l),
        14 => a.jle(l),
        _ => a.jg(l),
    }
}

const SIZES: [u8; 4] = [1, 2, 4, 8];

/// `test` (whose `r, r/m` form is the `r/m, r` one).
fn test(a: &mut CodeAssembler, size: u8, dst: Opd, src: Opd) -> R {
    match (dst, src) {
        (Opd::R(d), Opd::R(s)) => match size {
            1 => a.test(R8[d], R8[s]),
            2 => a.test(R16[d], R16[s]),
            4 => a.test(R32[d], R32[s]),
            _ => a.test(R64[d], R64[s]),
        },
        (Opd::R(d), Opd::I(v)) => match size {
            1 => a.test(R8[d], v),
            2 => a.test(R16[d], v),
            4 => a.test(R32[d], v),
            _ => a.test(R64[d], v),
        },
        (Opd::M(m), Opd::R(r)) | (Opd::R(r), Opd::M(m)) => match size {
            1 => a.test(operand(&m, 1), R8[r]),
            2 => a.test(operand(&m, 2), R16[r]),
            4 => a.test(operand(&m, 4), R32[r]),
            _ => a.test(operand(&m, 8), R64[r]),
        },
        (Opd::M(m), Opd::I(v)) => a.test(operand(&m, size), v),
        _ => Ok(()),
    }
}

/// A register or memory operand (memory when `bit` is set).
fn rm(rec: &Rec, bit: bool, r: usize) -> Opd {
    if bit { Opd::M(rec.mem()) } else { Opd::R(r) }
}

/// One record: an instruction (or a compare and a branch over the next ones).
fn record(
    a: &mut CodeAssembler,
    b: &mut Bytes<'_>,
    due: &mut Vec<(usize, CodeLabel)>,
    k: usize,
) -> R {
    let rec = Rec::read(b);
    let (kind, x, regs) = (rec.kind, rec.x, rec.regs);
    let (d, s) = (usize::from(regs & 15), usize::from(regs >> 4));
    let size = SIZES[usize::from(x >> 6)];
    match kind % 16 {
        0..=4 => {
            let form = (x >> 3) & 7;
            let (dst, src) = match form {
                0 | 1 => (Opd::R(d), Opd::R(s)),
                2 => (Opd::R(d), Opd::I(rec.imm(size, x & 4 != 0))),
                3 => (Opd::R(d), Opd::M(rec.mem())),
                4 | 5 => (Opd::M(rec.mem()), Opd::R(s)),
                _ => (Opd::M(rec.mem()), Opd::I(rec.imm(size, x & 4 != 0))),
            };
            match (u32::from(kind >> 4) + u32::from(x)) % 10 {
                0 => match (size, dst, src) {
                    (8, Opd::R(d), Opd::I(_)) if x & 4 != 0 => a.mov(R64[d], rec.imm64()),
                    // (`mov r64, imm` here is the imm64 form.)
                    _ => alu2!(a, mov, size, dst, src, i64),
                },
                1 => alu2!(a, add, size, dst, src),
                2 => alu2!(a, sub, size, dst, src),
                3 => alu2!(a, and, size, dst, src),
                4 => alu2!(a, or, size, dst, src),
                5 => alu2!(a, xor, size, dst, src),
                6 => alu2!(a, adc, size, dst, src),
                7 => alu2!(a, sbb, size, dst, src),
                8 => alu2!(a, cmp, size, dst, src),
                _ => test(a, size, dst, src),
            }
        }
        5 => {
            let dst = rm(&rec, x & 8 != 0, d);
            match x & 3 {
                0 => un1!(a, inc, size, dst),
                1 => un1!(a, dec, size, dst),
                2 => un1!(a, neg, size, dst),
                _ => un1!(a, not, size, dst),
            }
        }
        6 => {
            let m = Mem {
                seg: 0,
                ..rec.mem()
            };
            match x & 3 {
                0 => a.lea(R32[d], operand(&m, 0)),
                1 => a.lea(R16[d], operand(&m, 0)),
                _ => a.lea(R64[d], operand(&m, 0)),
            }
        }
        7 => {
            let src = rm(&rec, x & 8 != 0, s);
            let m = match src {
                Opd::M(m) => Some(m),
                _ => None,
            };
            match (x & 7, m) {
                (0, None) => a.movzx(R32[d], R8[s]),
                (1, None) => a.movzx(R64[d], R16[s]),
                (2, None) => a.movsx(R32[d], R16[s]),
                (3, None) => a.movsx(R64[d], R8[s]),
                (4, None) => a.movsxd(R64[d], R32[s]),
                (5, None) => a.movsx(R32[d], R8[s]),
                (6, None) => a.movzx(R16[d], R8[s]),
                (_, None) => a.movsx(R64[d], R16[s]),
                (0, Some(m)) => a.movzx(R32[d], operand(&m, 1)),
                (1, Some(m)) => a.movzx(R64[d], operand(&m, 2)),
                (2, Some(m)) => a.movsx(R32[d], operand(&m, 2)),
                (3, Some(m)) => a.movsx(R64[d], operand(&m, 1)),
                (4, Some(m)) => a.movsxd(R64[d], operand(&m, 4)),
                (5, Some(m)) => a.movsx(R32[d], operand(&m, 1)),
                (6, Some(m)) => a.movzx(R16[d], operand(&m, 1)),
                (_, Some(m)) => a.movsx(R64[d], operand(&m, 2)),
            }
        }
        8 => {
            let src = rm(&rec, x & 16 != 0, s);
            macro_rules! go {
                ($c:ident) => {
                    match (x & 32 != 0, src) {
                        (true, Opd::R(s)) => paste_cmov!(a, $c, R32[d], R32[s]),
                        (true, Opd::M(m)) => paste_cmov!(a, $c, R32[d], operand(&m, 4)),
                        (false, Opd::R(s)) => paste_cmov!(a, $c, R64[d], R64[s]),
                        (false, Opd::M(m)) => paste_cmov!(a, $c, R64[d], operand(&m, 8)),
                        _ => Ok(()),
                    }
                };
            }
            by_cc!(x, go)
        }
        9 => {
            let dst = rm(&rec, x & 16 != 0, d);
            macro_rules! go {
                ($c:ident) => {
                    match dst {
                        Opd::R(r) => paste_set!(a, $c, R8[r]),
                        Opd::M(m) => paste_set!(a, $c, operand(&m, 1)),
                        Opd::I(_) => Ok(()),
                    }
                };
            }
            by_cc!(x, go)
        }
        10 => match x & 3 {
            0 => a.push(R64[d]),
            1 => a.pop(R64[d]),
            2 => a.push(rec.imm(4, x & 4 != 0)),
            _ => {
                a.push(R64[d])?;
                a.pop(R64[s])
            }
        },
        11 => {
            let dst = rm(&rec, x & 8 != 0, d);
            let n = i32::from(rec.imm[0]);
            match x & 7 {
                0 | 5 => un1!(a, shl, size, dst, n),
                1 | 6 => un1!(a, shr, size, dst, n),
                2 => un1!(a, sar, size, dst, n),
                3 => un1!(a, rol, size, dst, n),
                _ => un1!(a, ror, size, dst, n),
            }
        }
        12 => {
            let src = rm(&rec, x & 8 != 0, s);
            let three = x & 16 != 0;
            let v = rec.imm(4, x & 4 != 0);
            match (x & 32 != 0, src, three) {
                (true, Opd::R(s), false) => a.imul_2(R32[d], R32[s]),
                (true, Opd::R(s), true) => a.imul_3(R32[d], R32[s], v),
                (true, Opd::M(m), false) => a.imul_2(R32[d], operand(&m, 4)),
                (true, Opd::M(m), true) => a.imul_3(R32[d], operand(&m, 4), v),
                (false, Opd::R(s), false) => a.imul_2(R64[d], R64[s]),
                (false, Opd::R(s), true) => a.imul_3(R64[d], R64[s], v),
                (false, Opd::M(m), false) => a.imul_2(R64[d], operand(&m, 8)),
                (false, Opd::M(m), true) => a.imul_3(R64[d], operand(&m, 8), v),
                _ => Ok(()),
            }
        }
        13 | 14 => {
            // A compare (fused with the branch where the shape allows) or a
            // plain branch on the flags as they are, over the next records.
            if kind % 16 == 13 {
                let src = match x & 3 {
                    0 => Opd::R(s),
                    1 => Opd::I(rec.imm(size, x & 4 != 0)),
                    _ => Opd::M(rec.mem()),
                };
                if x & 8 != 0 {
                    test(a, size, Opd::R(d), src)?;
                } else {
                    alu2!(a, cmp, size, Opd::R(d), src)?;
                }
            }
            let l = a.create_label();
            jcc(a, regs, l)?;
            due.push((k + 1 + usize::from(x >> 4 & 3), l));
            Ok(())
        }
        _ => a.nop(),
    }
}

/// Binds the labels due at record `k` (a `nop` between two at one place).
fn bind(a: &mut CodeAssembler, due: &mut Vec<(usize, CodeLabel)>, k: usize) -> R {
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
    Ok(())
}

/// The program of `records`: sets the counter to `rounds`, runs the records,
/// counts down and loops, then returns.
pub(crate) fn structured(records: &[u8], rounds: u32, at: u64) -> Vec<u8> {
    let build = || -> Result<Vec<u8>, IcedError> {
        let mut a = CodeAssembler::new(64)?;
        let mut b = Bytes {
            data: records,
            at: 0,
        };
        let mut top = a.create_label();
        a.mov(qword_ptr(COUNTER), rounds as i32)?;
        a.set_label(&mut top)?;
        a.nop()?;
        let mut due = Vec::new();
        let mut k = 0;
        while !b.done() && k < MAX_RECORDS {
            bind(&mut a, &mut due, k)?;
            record(&mut a, &mut b, &mut due, k)?;
            k += 1;
        }
        bind(&mut a, &mut due, usize::MAX)?;
        a.dec(qword_ptr(COUNTER))?;
        a.jne(top)?;
        a.ret()?;
        a.assemble(at)
    };
    // (An operand combination the assembler refuses: an empty loop.)
    build().unwrap_or_else(|_| looped(&[], rounds))
}

/// `code` in the same loop (raw bytes; they may jump anywhere).
pub(crate) fn looped(code: &[u8], rounds: u32) -> Vec<u8> {
    let abs = (COUNTER as u32).to_le_bytes();
    // mov qword [COUNTER], rounds
    let mut v = vec![0x48, 0xc7, 0x04, 0x25];
    v.extend_from_slice(&abs);
    v.extend_from_slice(&rounds.to_le_bytes());
    let top = v.len();
    v.extend_from_slice(code);
    // dec qword [COUNTER]; jnz top; ret
    v.extend_from_slice(&[0x48, 0xff, 0x0c, 0x25]);
    v.extend_from_slice(&abs);
    let rel = top as i64 - (v.len() as i64 + 6);
    v.extend_from_slice(&[0x0f, 0x85]);
    v.extend_from_slice(&(rel as i32).to_le_bytes());
    v.push(0xc3);
    v
}
