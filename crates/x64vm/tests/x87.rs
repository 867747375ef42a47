//! x87: per-instruction edge values checked against values worked out from the
//! Intel SDM, a differential test against the host CPU (the same snippets run
//! natively in a gcc-built child process and in the VM, 80-bit results compared
//! bit for bit; transcendentals within a documented tolerance), and a
//! freestanding `long double` C program compared with its native run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use iced_x86::code_asm::*;
use x64vm::cpu::{Cpu, flag};
use x64vm::cpu_x87::{F80, sw};
use x64vm::interp::{CodeCache, NoTrace, Stop, run};
use x64vm::mem::{Memory, perm};
use x64vm::trap::Trap;

const CODE: u64 = 0x10000;
const DATA: u64 = 0x20000;
const STACK_TOP: u64 = 0x30000;

// Data layout of a snippet (offsets from RDI).
const CW: usize = 0;
const IN: [usize; 4] = [16, 32, 48, 64];
const M32: usize = 80;
const M64: usize = 88;
const I16: usize = 96;
const I32: usize = 100;
const I64: usize = 104;
const OUT: usize = 128;
const FL: usize = 256;
const SAVE: usize = 272;
const DATA_LEN: usize = 512;

const RDI: usize = 7;

/// The inputs of one snippet run.
#[derive(Clone, Debug)]
struct Input {
    cw: u16,
    ins: [F80; 4],
    m32: u32,
    m64: u64,
    i16: u16,
    i32: u32,
    i64: u64,
}

impl Input {
    fn new(cw: u16, ins: [F80; 4]) -> Input {
        Input {
            cw,
            ins,
            m32: 0,
            m64: 0,
            i16: 0,
            i32: 0,
            i64: 0,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut d = vec![0u8; DATA_LEN];
        d[CW..CW + 2].copy_from_slice(&self.cw.to_le_bytes());
        for (k, v) in self.ins.iter().enumerate() {
            d[IN[k]..IN[k] + 10].copy_from_slice(&v.to_le_bytes());
        }
        d[M32..M32 + 4].copy_from_slice(&self.m32.to_le_bytes());
        d[M64..M64 + 8].copy_from_slice(&self.m64.to_le_bytes());
        d[I16..I16 + 2].copy_from_slice(&self.i16.to_le_bytes());
        d[I32..I32 + 4].copy_from_slice(&self.i32.to_le_bytes());
        d[I64..I64 + 8].copy_from_slice(&self.i64.to_le_bytes());
        d
    }
}

type Body = fn(&mut CodeAssembler) -> Result<(), IcedError>;

/// Assembles prologue (`fninit`, `fldcw`, known flags), `body` and the epilogue
/// that saves RFLAGS and the whole FPU state (`fnsave`), ending in `ret`.
fn assemble(body: &dyn Fn(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    a.fninit().unwrap();
    a.fldcw(word_ptr(rdi + CW)).unwrap();
    a.xor(eax, eax).unwrap();
    body(&mut a).unwrap();
    a.pushfq().unwrap();
    a.pop(rax).unwrap();
    a.mov(qword_ptr(rdi + FL), rax).unwrap();
    a.fnsave(ptr(rdi + SAVE)).unwrap();
    a.ret().unwrap();
    a.assemble(CODE).unwrap()
}

/// Runs code in the VM with RDI pointing at `data`; returns the final CPU, the
/// data area and how it stopped.
fn vm_run(code: &[u8], data: &[u8]) -> (Cpu, Vec<u8>, Stop) {
    let mut mem = Memory::new(CODE, 0x20000).unwrap();
    mem.load(CODE, code).unwrap();
    mem.protect(CODE, code.len() as u64, perm::RX).unwrap();
    mem.protect(DATA, 0x10000, perm::RW).unwrap();
    mem.write_bytes(DATA, data).unwrap();
    let mut cpu = Cpu::default();
    cpu.gpr[4] = STACK_TOP - 0x100;
    mem.write_u64(cpu.gpr[4], 0).unwrap(); // return address: the null address ends the run
    cpu.gpr[RDI] = DATA;
    cpu.rip = CODE;
    cpu.gas = 1 << 40;
    let stop = run(&mut cpu, &mut mem, &mut CodeCache::default(), &mut NoTrace);
    let out = mem.read_bytes(DATA, DATA_LEN as u64).unwrap();
    (cpu, out, stop)
}

/// Runs a snippet in the VM and requires it to return normally.
fn vm(input: &Input, body: &dyn Fn(&mut CodeAssembler) -> Result<(), IcedError>) -> Out {
    let (_, data, stop) = vm_run(&assemble(body), &input.bytes());
    assert!(matches!(stop, Stop::Returned), "stopped with {stop:?}");
    Out::parse(&data)
}

/// What a snippet left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Out {
    cw: u16,
    sw: u16,
    tw: u16,
    st: [F80; 8],
    rflags: u64,
    out: Vec<u8>,
    env_rest: Vec<u8>,
}

impl Out {
    fn parse(d: &[u8]) -> Out {
        let w = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]);
        let s = SAVE;
        let mut st = [F80::default(); 8];
        for (k, v) in st.iter_mut().enumerate() {
            let o = s + 28 + 10 * k;
            *v = F80::from_le_bytes(d[o..o + 10].try_into().unwrap());
        }
        Out {
            cw: w(s),
            sw: w(s + 4),
            tw: w(s + 8),
            st,
            rflags: u64::from_le_bytes(d[FL..FL + 8].try_into().unwrap()),
            out: d[OUT..FL].to_vec(),
            env_rest: d[s..s + 28].to_vec(),
        }
    }

    fn top(&self) -> u8 {
        ((self.sw >> 11) & 7) as u8
    }

    /// Tag of ST(i): 0 valid, 1 zero, 2 special, 3 empty.
    fn tag(&self, i: u8) -> u16 {
        (self.tw >> (2 * ((self.top() + i) & 7))) & 3
    }

    fn empty(&self, i: u8) -> bool {
        self.tag(i) == 3
    }

    /// Number of non-empty registers.
    fn depth(&self) -> usize {
        (0..8).filter(|&i| !self.empty(i)).count()
    }

    fn exc(&self) -> u16 {
        self.sw & (sw::EXC | sw::SF)
    }

    fn out_u64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.out[off..off + 8].try_into().unwrap())
    }

    fn out_f80(&self, off: usize) -> F80 {
        F80::from_le_bytes(self.out[off..off + 10].try_into().unwrap())
    }
}

// ---- Values ----

fn f(v: f64) -> F80 {
    x64vm::isa::x87::arith::load_f64(v.to_bits()).0
}

fn to_f64(x: F80) -> f64 {
    f64::from_bits(
        x64vm::isa::x87::arith::store_ieee(
            x,
            x64vm::isa::x87::arith::DBL,
            x64vm::isa::x87::arith::Rc::Nearest,
        )
        .0,
    )
}

const fn x(se: u16, mant: u64) -> F80 {
    F80 { mant, se }
}

const ONE: F80 = x(0x3fff, 1 << 63);
const PZERO: F80 = x(0, 0);
const NZERO: F80 = x(0x8000, 0);
const PINF: F80 = x(0x7fff, 1 << 63);
const NINF: F80 = x(0xffff, 1 << 63);
const QNAN: F80 = x(0x7fff, 0xc000_0000_0000_1234);
const SNAN: F80 = x(0x7fff, 0x8000_0000_0000_5678);
const INDEF: F80 = F80::INDEFINITE;
const DENORM: F80 = x(0, 0x0000_0000_0000_0001);
const PSEUDO_DENORM: F80 = x(0, 0x8000_0000_0000_0001);
const UNNORMAL: F80 = x(0x3fff, 0x4000_0000_0000_0000);
const PSEUDO_INF: F80 = x(0x7fff, 0);
const MAX: F80 = x(0x7ffe, u64::MAX);
const MIN_NORMAL: F80 = x(0x0001, 1 << 63);
/// 1 + 2^-63: needs all 64 significand bits (not representable in double).
const ONE_PLUS_ULP: F80 = x(0x3fff, (1 << 63) | 1);

const CW_DEFAULT: u16 = 0x037f;

fn cw(pc: u16, rc: u16) -> u16 {
    0x7f | pc << 8 | rc << 10 | 0x40
}

fn ld1(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.fld(tword_ptr(rdi + IN[0]))
}

/// ST(0) = IN0, ST(1) = IN1.
fn ld2(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.fld(tword_ptr(rdi + IN[1]))?;
    a.fld(tword_ptr(rdi + IN[0]))
}

fn bin(op: fn(&mut CodeAssembler) -> Result<(), IcedError>, a: F80, b: F80, cwv: u16) -> Out {
    let body = move |asm: &mut CodeAssembler| {
        ld2(asm)?;
        op(asm)
    };
    vm(&Input::new(cwv, [a, b, PZERO, PZERO]), &body)
}

// ---- Per-instruction edge values ----

mod edges {
    use super::*;

    fn add(a: F80, b: F80) -> Out {
        bin(|s| s.fadd_2(st0, st1), a, b, CW_DEFAULT)
    }

    #[test]
    fn init_state_and_control_word() {
        let o = vm(&Input::new(CW_DEFAULT, [PZERO; 4]), &|a| a.fnop());
        assert_eq!(o.cw, 0x037f);
        assert_eq!(o.sw, 0);
        assert_eq!(o.tw, 0xffff);
        let o = vm(&Input::new(cw(2, 3), [PZERO; 4]), &|a| {
            a.fnstcw(word_ptr(rdi + OUT))?;
            a.fld1()?;
            a.fnstsw(ax)?;
            a.mov(word_ptr(rdi + OUT + 2), ax)
        });
        assert_eq!(u16::from_le_bytes([o.out[0], o.out[1]]), 0x0e7f);
        assert_eq!(
            u16::from_le_bytes([o.out[2], o.out[3]]),
            7 << 11,
            "TOP = 7 after one push"
        );
    }

    #[test]
    fn zeros_infinities_and_signs() {
        assert_eq!(add(PZERO, NZERO).st[0], PZERO);
        assert_eq!(add(NZERO, NZERO).st[0], NZERO);
        // x - x is -0 only when rounding down.
        let o = bin(|s| s.fsub_2(st0, st1), ONE, ONE, cw(3, 1));
        assert_eq!(o.st[0], NZERO);
        let o = bin(|s| s.fsub_2(st0, st1), ONE, ONE, cw(3, 0));
        assert_eq!(o.st[0], PZERO);
        let o = add(PINF, NINF);
        assert_eq!(o.st[0], INDEF);
        assert_eq!(o.exc(), sw::IE);
        let o = bin(|s| s.fmul_2(st0, st1), PINF, NZERO, CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (INDEF, sw::IE));
        let o = bin(|s| s.fdiv_2(st0, st1), f(-3.0), PZERO, CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (NINF, sw::ZE));
        let o = bin(|s| s.fdiv_2(st0, st1), PZERO, PZERO, CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (INDEF, sw::IE));
        let o = bin(|s| s.fdivr_2(st0, st1), f(2.0), PINF, CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (PINF, 0));
    }

    #[test]
    fn nan_rules() {
        // SNaN is quieted with IE.
        let o = add(SNAN, ONE);
        assert_eq!(o.st[0], x(0x7fff, SNAN.mant | 1 << 62));
        assert_eq!(o.exc(), sw::IE);
        // QNaN passes without IE.
        let o = add(ONE, QNAN);
        assert_eq!((o.st[0], o.exc()), (QNAN, 0));
        // Two QNaNs: the larger significand wins, whatever the order.
        let big = x(0xffff, 0xc000_0000_0000_9999);
        assert_eq!(add(QNAN, big).st[0], big);
        assert_eq!(add(big, QNAN).st[0], big);
        // QNaN beats SNaN even with a smaller significand.
        let s = x(0x7fff, 0xbfff_ffff_ffff_ffff);
        let o = add(s, QNAN);
        assert_eq!((o.st[0], o.exc()), (QNAN, sw::IE));
        // Unsupported encodings are invalid operands.
        for u in [UNNORMAL, PSEUDO_INF, x(0x7fff, 0x4000_0000_0000_0000)] {
            let o = add(u, ONE);
            assert_eq!((o.st[0], o.exc()), (INDEF, sw::IE), "{u:?}");
        }
        // The default NaN is negative with significand C000000000000000.
        assert_eq!(INDEF.to_bits(), 0xffff_c000_0000_0000_0000);
    }

    #[test]
    fn denormals_and_pseudo_denormals() {
        let o = add(DENORM, DENORM);
        assert_eq!(o.st[0], x(0, 2));
        assert_eq!(o.exc(), sw::DE);
        // A pseudo-denormal is a valid operand worth 2^-16382 × 1.000..1.
        let o = add(PSEUDO_DENORM, PZERO);
        assert_eq!(o.st[0], x(1, 0x8000_0000_0000_0001));
        assert_eq!(o.exc(), sw::DE);
        // min normal / 2 is an exact denormal: no UE when exact (masked).
        let o = bin(|s| s.fdiv_2(st0, st1), MIN_NORMAL, f(2.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (x(0, 1 << 62), 0));
        // DENORM / 2: tiny and inexact → UE and PE; rounds to even (0).
        let o = bin(|s| s.fdiv_2(st0, st1), DENORM, f(2.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (PZERO, sw::DE | sw::UE | sw::PE));
        // fld m32 of a binary32 denormal is exact, normalised, with DE.
        let mut inp = Input::new(CW_DEFAULT, [PZERO; 4]);
        inp.m32 = 1;
        let o = vm(&inp, &|a| a.fld(dword_ptr(rdi + M32)));
        assert_eq!(o.st[0], x(16383 - 149, 1 << 63));
        assert_eq!(o.exc(), sw::DE);
    }

    #[test]
    fn overflow_and_rounding_control() {
        for (rc, want, up) in [
            (0, PINF, true),
            (1, MAX, false),
            (2, PINF, true),
            (3, MAX, false),
        ] {
            let o = bin(|s| s.fmul_2(st0, st1), MAX, f(2.0), cw(3, rc));
            assert_eq!(o.st[0], want, "rc {rc}");
            assert_eq!(o.exc(), sw::OE | sw::PE);
            assert_eq!(o.sw & sw::C1 != 0, up, "C1 = rounded up, rc {rc}");
        }
        // 1/3 in each mode; C1 tells whether it rounded up.
        let third_dn = 0xaaaa_aaaa_aaaa_aaaa;
        for (rc, mant, up) in [
            (0, third_dn + 1, true),
            (1, third_dn, false),
            (2, third_dn + 1, true),
            (3, third_dn, false),
        ] {
            let o = bin(|s| s.fdiv_2(st0, st1), ONE, f(3.0), cw(3, rc));
            assert_eq!(o.st[0], x(0x3ffd, mant), "rc {rc}");
            assert_eq!(o.sw & sw::C1 != 0, up);
            assert_eq!(o.exc(), sw::PE);
        }
        // Negative: rounding down increases the magnitude.
        let o = bin(|s| s.fdiv_2(st0, st1), f(-1.0), f(3.0), cw(3, 1));
        assert_eq!(o.st[0], x(0xbffd, third_dn + 1));
    }

    #[test]
    fn precision_control() {
        // 1/3 at 24 and 53 bits, exponent range still extended.
        let o = bin(|s| s.fdiv_2(st0, st1), ONE, f(3.0), cw(0, 0));
        assert_eq!(o.st[0], x(0x3ffd, 0xaaaa_ab00_0000_0000));
        let o = bin(|s| s.fdiv_2(st0, st1), ONE, f(3.0), cw(2, 0));
        assert_eq!(o.st[0], x(0x3ffd, 0xaaaa_aaaa_aaaa_a800));
        // 1 + 2^-63 is not representable at 53 bits: adding 0 rounds it.
        let o = bin(|s| s.fadd_2(st0, st1), ONE_PLUS_ULP, PZERO, cw(2, 0));
        assert_eq!((o.st[0], o.exc()), (ONE, sw::PE));
        // ... but a plain load keeps all 64 bits, whatever PC says.
        let o = vm(&Input::new(cw(0, 0), [ONE_PLUS_ULP; 4]), &|a| ld1(a));
        assert_eq!(o.st[0], ONE_PLUS_ULP);
        // Products beyond the double range stay finite at PC=53 (extended exponent).
        let big = x(0x3fff + 1000, 1 << 63);
        let o = bin(|s| s.fmul_2(st0, st1), big, big, cw(2, 0));
        assert_eq!((o.st[0], o.exc()), (x(0x3fff + 2000, 1 << 63), 0));
        // fsqrt obeys PC; 2 at 24 bits.
        let o = vm(&Input::new(cw(0, 0), [f(2.0); 4]), &|a| {
            ld1(a)?;
            a.fsqrt()
        });
        assert_eq!(o.st[0], x(0x3fff, 0xb504_f300_0000_0000));
    }

    #[test]
    fn sqrt_exact_and_special() {
        let o = vm(&Input::new(CW_DEFAULT, [f(2.0); 4]), &|a| {
            ld1(a)?;
            a.fsqrt()
        });
        assert_eq!(o.st[0], x(0x3fff, 0xb504_f333_f9de_6484));
        assert_eq!(o.exc(), sw::PE);
        for (v, want, e) in [
            (f(-1.0), INDEF, sw::IE),
            (NZERO, NZERO, 0),
            (PINF, PINF, 0),
            (NINF, INDEF, sw::IE),
            (f(0.25), f(0.5), 0),
        ] {
            let o = vm(&Input::new(CW_DEFAULT, [v; 4]), &|a| {
                ld1(a)?;
                a.fsqrt()
            });
            assert_eq!((o.st[0], o.exc()), (want, e), "sqrt {v:?}");
        }
    }

    #[test]
    fn stores_to_memory_formats() {
        let o = vm(
            &Input::new(CW_DEFAULT, [ONE_PLUS_ULP, QNAN, SNAN, MAX]),
            &|a| {
                ld1(a)?;
                a.fst(qword_ptr(rdi + OUT))?;
                a.fst(dword_ptr(rdi + OUT + 8))?;
                a.fld(tword_ptr(rdi + IN[2]))?; // SNaN: fld m80 keeps it signalling
                a.fstp(dword_ptr(rdi + OUT + 12))?; // quieted with IE
                a.fld(tword_ptr(rdi + IN[3]))?;
                a.fstp(qword_ptr(rdi + OUT + 16))?; // overflow → inf
                a.fld(tword_ptr(rdi + IN[1]))?;
                a.fstp(tword_ptr(rdi + OUT + 24)) // raw 80-bit copy
            },
        );
        assert_eq!(o.out_u64(0), 1f64.to_bits());
        assert_eq!(
            u32::from_le_bytes(o.out[8..12].try_into().unwrap()),
            1f32.to_bits()
        );
        assert_eq!(
            u32::from_le_bytes(o.out[12..16].try_into().unwrap()),
            0x7fc0_0000
        );
        assert_eq!(o.out_u64(16), f64::INFINITY.to_bits());
        assert_eq!(o.out_f80(24), QNAN);
        assert_eq!(o.exc(), sw::IE | sw::OE | sw::PE);
        // Stores of an empty ST(0): stack underflow, indefinite stored.
        let o = vm(&Input::new(CW_DEFAULT, [PZERO; 4]), &|a| {
            a.fst(qword_ptr(rdi + OUT))
        });
        assert_eq!(o.out_u64(0), 0xfff8_0000_0000_0000);
        assert_eq!(o.exc(), sw::IE | sw::SF);
        assert_eq!(o.sw & sw::C1, 0, "C1 = 0: underflow");
    }

    #[test]
    fn integer_conversions_and_limits() {
        let mut inp = Input::new(
            CW_DEFAULT,
            [f(2.5), f(-2.5), f(32767.5), f(-9.223_372_036_854_776e18)],
        );
        inp.i16 = 0x8000;
        inp.i32 = 0xffff_fffe;
        inp.i64 = 0x8000_0000_0000_0000;
        let o = vm(&inp, &|a| {
            a.fild(word_ptr(rdi + I16))?;
            a.fistp(dword_ptr(rdi + OUT))?; // -32768
            a.fild(dword_ptr(rdi + I32))?;
            a.fistp(word_ptr(rdi + OUT + 4))?; // -2
            a.fild(qword_ptr(rdi + I64))?;
            a.fistp(qword_ptr(rdi + OUT + 8))?; // i64::MIN round trip
            ld1(a)?;
            a.fist(word_ptr(rdi + OUT + 16))?; // 2.5 → 2 (even)
            a.fisttp(word_ptr(rdi + OUT + 18))?; // truncation → 2
            a.fld(tword_ptr(rdi + IN[1]))?;
            a.fistp(dword_ptr(rdi + OUT + 20))?; // -2.5 → -2
            a.fld(tword_ptr(rdi + IN[2]))?;
            a.fistp(word_ptr(rdi + OUT + 24))?; // 32767.5 → 32768: out of range
            a.fld(tword_ptr(rdi + IN[3]))?;
            a.fistp(qword_ptr(rdi + OUT + 32)) // -2^63 fits exactly
        });
        let w = |k: usize| u16::from_le_bytes([o.out[k], o.out[k + 1]]);
        let d = |k: usize| u32::from_le_bytes(o.out[k..k + 4].try_into().unwrap());
        assert_eq!(d(0), -32768i32 as u32);
        assert_eq!(w(4), 0xfffe);
        assert_eq!(o.out_u64(8), 0x8000_0000_0000_0000);
        assert_eq!(w(16), 2);
        assert_eq!(w(18), 2);
        assert_eq!(d(20), -2i32 as u32);
        assert_eq!(w(24), 0x8000, "integer indefinite");
        assert_eq!(o.out_u64(32), 0x8000_0000_0000_0000);
        assert_eq!(o.exc(), sw::IE | sw::PE);
        // NaN and infinity → indefinite with IE.
        for v in [QNAN, PINF, NINF] {
            let o = vm(&Input::new(CW_DEFAULT, [v; 4]), &|a| {
                ld1(a)?;
                a.fistp(qword_ptr(rdi + OUT))
            });
            assert_eq!((o.out_u64(0), o.exc()), (0x8000_0000_0000_0000, sw::IE));
        }
    }

    #[test]
    fn stack_overflow_and_underflow() {
        // Nine pushes: the ninth overflows, the indefinite replaces it.
        let o = vm(&Input::new(CW_DEFAULT, [PZERO; 4]), &|a| {
            for _ in 0..9 {
                a.fld1()?;
            }
            Ok(())
        });
        assert_eq!(o.st[0], INDEF);
        assert_eq!(o.exc(), sw::IE | sw::SF);
        assert_ne!(o.sw & sw::C1, 0, "C1 = 1: overflow");
        assert_eq!(o.depth(), 8);
        // Arithmetic on an empty register: underflow, indefinite result.
        let o = vm(&Input::new(CW_DEFAULT, [ONE; 4]), &|a| {
            ld1(a)?;
            a.fadd_2(st0, st1)
        });
        assert_eq!((o.st[0], o.exc()), (INDEF, sw::IE | sw::SF));
        assert_eq!(o.sw & sw::C1, 0);
    }

    #[test]
    fn compares_set_condition_codes_and_eflags() {
        let cases = [
            (f(1.0), f(2.0), sw::C0, flag::CF),
            (f(2.0), f(1.0), 0, 0),
            (f(2.0), f(2.0), sw::C3, flag::ZF),
            (
                QNAN,
                f(1.0),
                sw::C0 | sw::C2 | sw::C3,
                flag::ZF | flag::PF | flag::CF,
            ),
        ];
        for (a, b, c, fl) in cases {
            let o = bin(|s| s.fucom(st0, st1), a, b, CW_DEFAULT);
            assert_eq!(o.sw & (sw::C0 | sw::C2 | sw::C3), c);
            assert_eq!(o.exc(), 0);
            let o = bin(|s| s.fcomi(st0, st1), a, b, CW_DEFAULT);
            assert_eq!(o.rflags & (flag::STATUS & !flag::AF), fl);
            assert_eq!(o.exc(), if a == QNAN { sw::IE } else { 0 });
            let o = bin(|s| s.fucomip(st0, st1), a, b, CW_DEFAULT);
            assert_eq!(o.rflags & (flag::STATUS & !flag::AF), fl);
            assert_eq!((o.exc(), o.depth()), (0, 1));
        }
        let o = bin(|s| s.fcompp(), QNAN, ONE, CW_DEFAULT);
        assert_eq!((o.exc(), o.depth()), (sw::IE, 0));
        // -0 == +0.
        let o = bin(|s| s.fcom_2(st0, st1), NZERO, PZERO, CW_DEFAULT);
        assert_eq!(o.sw & (sw::C0 | sw::C2 | sw::C3), sw::C3);
        // ftst and fxam.
        let o = vm(&Input::new(CW_DEFAULT, [f(-5.0); 4]), &|a| {
            ld1(a)?;
            a.ftst()
        });
        assert_eq!(o.sw & (sw::C0 | sw::C2 | sw::C3), sw::C0);
        for (v, class) in [
            (f(1.0), sw::C2),
            (PZERO, sw::C3),
            (PINF, sw::C2 | sw::C0),
            (QNAN, sw::C0),
            (DENORM, sw::C3 | sw::C2),
            (UNNORMAL, 0),
        ] {
            let o = vm(&Input::new(CW_DEFAULT, [v; 4]), &|a| {
                ld1(a)?;
                a.fxam()
            });
            assert_eq!(o.sw & (sw::C0 | sw::C2 | sw::C3), class, "fxam {v:?}");
        }
        let o = vm(&Input::new(CW_DEFAULT, [PZERO; 4]), &|a| a.fxam());
        assert_eq!(
            o.sw & (sw::C0 | sw::C2 | sw::C3),
            sw::C3 | sw::C0,
            "fxam of an empty ST(0)"
        );
    }

    #[test]
    fn rndint_scale_xtract_prem() {
        for (rc, want) in [(0, 2.0), (1, 2.0), (2, 3.0), (3, 2.0)] {
            let o = vm(&Input::new(cw(3, rc), [f(2.5); 4]), &|a| {
                ld1(a)?;
                a.frndint()
            });
            assert_eq!(o.st[0], f(want), "rc {rc}");
        }
        let o = vm(&Input::new(CW_DEFAULT, [f(-0.25); 4]), &|a| {
            ld1(a)?;
            a.frndint()
        });
        assert_eq!((o.st[0], o.exc()), (NZERO, sw::PE));
        let o = bin(|s| s.fscale(), f(3.0), f(-2.9), CW_DEFAULT);
        assert_eq!(o.st[0], f(0.75));
        let o = bin(|s| s.fscale(), ONE, f(100000.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (PINF, sw::OE | sw::PE));
        let o = vm(&Input::new(CW_DEFAULT, [f(-10.0); 4]), &|a| {
            ld1(a)?;
            a.fxtract()
        });
        assert_eq!((o.st[0], o.st[1]), (f(-1.25), f(3.0)));
        // fprem: 7 rem 3 = 1, quotient 2 → C0 = Q2 = 0, C3 = Q1 = 1, C1 = Q0 = 0.
        let o = bin(|s| s.fprem(), f(7.0), f(3.0), CW_DEFAULT);
        assert_eq!(o.st[0], f(1.0));
        assert_eq!(o.sw & (sw::C0 | sw::C1 | sw::C2 | sw::C3), sw::C3);
        // fprem1: 8 rem 3 = -1 (quotient 3 rounded to nearest).
        let o = bin(|s| s.fprem1(), f(8.0), f(3.0), CW_DEFAULT);
        assert_eq!(o.st[0], f(-1.0));
        assert_eq!(o.sw & (sw::C0 | sw::C1 | sw::C2 | sw::C3), sw::C3 | sw::C1);
        // A huge exponent difference takes several partial steps (C2 = 1).
        let o = bin(|s| s.fprem(), f(1e300), f(3.0), CW_DEFAULT);
        assert_ne!(o.sw & sw::C2, 0);
        let o = vm(
            &Input::new(CW_DEFAULT, [f(1e300), f(3.0), PZERO, PZERO]),
            &|a| {
                ld2(a)?;
                let mut again = a.create_label();
                a.set_label(&mut again)?;
                a.fprem()?;
                a.fnstsw(ax)?;
                a.test(ax, 0x400)?;
                a.jnz(again)
            },
        );
        // 1e300 as a double is an integer; its remainder mod 3 is exact.
        assert_eq!(o.sw & sw::C2, 0);
        let rem = to_f64(o.st[0]);
        assert!(rem == 0.0 || rem == 1.0 || rem == 2.0, "{rem}");
    }

    #[test]
    fn constants_follow_rounding_control() {
        let o = vm(&Input::new(CW_DEFAULT, [PZERO; 4]), &|a| a.fldpi());
        assert_eq!(o.st[0], x(0x4000, 0xc90f_daa2_2168_c235));
        let o = vm(&Input::new(cw(3, 1), [PZERO; 4]), &|a| a.fldpi());
        assert_eq!(o.st[0], x(0x4000, 0xc90f_daa2_2168_c234));
        let o = vm(&Input::new(CW_DEFAULT, [PZERO; 4]), &|a| {
            a.fldl2e()?;
            a.fldl2t()?;
            a.fldlg2()?;
            a.fldln2()?;
            a.fldz()
        });
        assert_eq!(o.st[0], PZERO);
        assert_eq!(o.st[1], x(0x3ffe, 0xb172_17f7_d1cf_79ac));
        assert_eq!(o.st[2], x(0x3ffd, 0x9a20_9a84_fbcf_f799));
        assert_eq!(o.st[3], x(0x4000, 0xd49a_784b_cd1b_8afe));
        assert_eq!(o.st[4], x(0x3fff, 0xb8aa_3b29_5c17_f0bc));
    }

    #[test]
    fn fxch_fcmov_ffree_and_stack_pointer() {
        let o = bin(|s| s.fxch(st0, st1), f(1.0), f(2.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.st[1]), (f(2.0), f(1.0)));
        let o = vm(
            &Input::new(CW_DEFAULT, [f(1.0), f(2.0), PZERO, PZERO]),
            &|a| {
                ld2(a)?;
                a.stc()?;
                a.fcmovb(st0, st1)?;
                a.fld1()?;
                a.clc()?;
                a.fcmovb(st0, st2)
            },
        );
        assert_eq!((o.st[0], o.st[1]), (f(1.0), f(2.0)));
        let o = vm(
            &Input::new(CW_DEFAULT, [f(1.0), f(2.0), PZERO, PZERO]),
            &|a| {
                ld2(a)?;
                a.ffree(st1)?;
                a.fincstp()
            },
        );
        assert_eq!(o.depth(), 1, "ST(7) (the old ST(0)) stays valid");
        assert_eq!(o.top(), 7);
        assert!(o.empty(0) && !o.empty(7));
    }

    #[test]
    fn environment_save_and_restore() {
        let o = vm(
            &Input::new(cw(2, 1), [f(1.5), f(-2.0), PZERO, PZERO]),
            &|a| {
                ld2(a)?;
                a.fnstenv(ptr(rdi + OUT))?;
                a.fnstcw(word_ptr(rdi + OUT + 30))?; // masks all exceptions (already masked)
                a.fninit()?;
                a.fldenv(ptr(rdi + OUT))
            },
        );
        assert_eq!(o.cw, cw(2, 1));
        assert_eq!(o.depth(), 2);
        assert_eq!((o.st[0], o.st[1]), (f(1.5), f(-2.0)));
        // fnsave + frstor round-trip everything, fnsave reinitialises.
        let o = vm(&Input::new(cw(0, 2), [f(3.0), NZERO, PZERO, PZERO]), &|a| {
            ld2(a)?;
            a.fnsave(ptr(rdi + OUT))?;
            a.fnstcw(word_ptr(rdi + OUT + 110))?;
            a.frstor(ptr(rdi + OUT))
        });
        assert_eq!(u16::from_le_bytes([o.out[110], o.out[111]]), 0x037f);
        assert_eq!(o.cw, cw(0, 2));
        assert_eq!((o.st[0], o.st[1], o.depth()), (f(3.0), NZERO, 2));
        assert_eq!(o.tag(1), 1, "tag of a zero");
    }

    #[test]
    fn unmasked_exception_traps_at_next_waiting_instruction() {
        // Unmask ZE, divide by zero, then the next x87 instruction traps.
        let code = assemble(&|a| {
            ld2(a)?;
            a.fdiv_2(st0, st1)?;
            a.fnstsw(word_ptr(rdi + OUT))?; // no-wait: does not trap
            a.fld1()
        });
        let inp = Input::new(0x037b, [ONE, PZERO, PZERO, PZERO]);
        let (cpu, data, stop) = vm_run(&code, &inp.bytes());
        assert!(
            matches!(stop, Stop::Trap(Trap::FloatingPointException)),
            "{stop:?}"
        );
        let swv = u16::from_le_bytes([data[OUT], data[OUT + 1]]);
        assert_eq!(swv & (sw::ZE | sw::ES | sw::B), sw::ZE | sw::ES | sw::B);
        // The destination kept its value (unmasked ZE does not write).
        assert_eq!(cpu.x87.st(0), ONE);
    }

    #[test]
    fn transcendentals_special_values() {
        let o = vm(&Input::new(CW_DEFAULT, [f(1.0); 4]), &|a| {
            ld1(a)?;
            a.f2xm1()
        });
        // 2^1 - 1 = 1, with PE and C1 as the host CPU reports it.
        assert_eq!((o.st[0], o.exc()), (ONE, sw::PE));
        // Outside -1..1 the operand stays.
        let o = vm(&Input::new(CW_DEFAULT, [f(5.0); 4]), &|a| {
            ld1(a)?;
            a.f2xm1()
        });
        assert_eq!((o.st[0], o.exc()), (f(5.0), sw::PE));
        let o = bin(|s| s.fyl2x(), f(8.0), f(3.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.exc(), o.depth()), (f(9.0), sw::PE, 1));
        let o = bin(|s| s.fyl2x(), PZERO, f(3.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (NINF, sw::ZE));
        let o = bin(|s| s.fyl2x(), f(-1.0), f(3.0), CW_DEFAULT);
        assert_eq!((o.st[0], o.exc()), (INDEF, sw::IE));
        let o = bin(|s| s.fpatan(), f(-1.0), PZERO, CW_DEFAULT);
        assert_eq!(
            o.st[0],
            x(0x4000, 0xc90f_daa2_2168_c235),
            "atan2(+0, -1) = pi"
        );
        let o = vm(&Input::new(CW_DEFAULT, [f(1e18); 4]), &|a| {
            ld1(a)?;
            a.fsin()
        });
        assert_eq!(o.sw & sw::C2, 0);
        let o = vm(&Input::new(CW_DEFAULT, [f(1e19); 4]), &|a| {
            ld1(a)?;
            a.fsin()
        });
        assert_ne!(o.sw & sw::C2, 0, "out of range: C2 set, operand kept");
        assert_eq!(o.st[0], f(1e19));
        let o = vm(&Input::new(CW_DEFAULT, [PINF; 4]), &|a| {
            ld1(a)?;
            a.fcos()
        });
        assert_eq!((o.st[0], o.exc()), (INDEF, sw::IE));
        let o = vm(&Input::new(CW_DEFAULT, [NZERO; 4]), &|a| {
            ld1(a)?;
            a.fptan()
        });
        assert_eq!((o.st[0], o.st[1]), (ONE, NZERO));
        let o = vm(&Input::new(CW_DEFAULT, [f(0.5); 4]), &|a| {
            ld1(a)?;
            a.fsincos()
        });
        assert!((to_f64(o.st[0]) - 0.5f64.cos()).abs() < 1e-16);
        assert!((to_f64(o.st[1]) - 0.5f64.sin()).abs() < 1e-16);
    }

    #[test]
    fn translation_covers_every_form() {
        // Each of these must decode to an x87 op, not `Unsupported`.
        let code = assemble(&|a| {
            a.fld(dword_ptr(rdi + M32))?;
            a.fld(qword_ptr(rdi + M64))?;
            a.fadd(dword_ptr(rdi + M32))?;
            a.fsub(qword_ptr(rdi + M64))?;
            a.fsubr(dword_ptr(rdi + M32))?;
            a.fmul(qword_ptr(rdi + M64))?;
            a.fdiv(dword_ptr(rdi + M32))?;
            a.fdivr(qword_ptr(rdi + M64))?;
            a.fiadd(word_ptr(rdi + I16))?;
            a.fisub(dword_ptr(rdi + I32))?;
            a.fisubr(word_ptr(rdi + I16))?;
            a.fimul(dword_ptr(rdi + I32))?;
            a.fidiv(word_ptr(rdi + I16))?;
            a.fidivr(dword_ptr(rdi + I32))?;
            a.fcom(dword_ptr(rdi + M32))?;
            a.fcomp(qword_ptr(rdi + M64))?;
            a.ficom(word_ptr(rdi + I16))?;
            a.ficomp(dword_ptr(rdi + I32))?;
            a.fld1()?;
            a.fsubp(st1, st0)?;
            a.fld1()?;
            a.fsubrp(st1, st0)?;
            a.fld1()?;
            a.fdivrp(st1, st0)?;
            a.fld1()?;
            a.fmulp(st1, st0)?;
            a.fld1()?;
            a.fdivp(st1, st0)?;
            a.fld1()?;
            a.faddp(st1, st0)?;
            a.fld1()?;
            a.fucomp(st0, st1)?;
            a.fld1()?;
            a.fld1()?;
            a.fucompp()?;
            a.fldz()?;
            a.fcmove(st0, st1)?;
            a.fcmovne(st0, st1)?;
            a.fcmovbe(st0, st1)?;
            a.fcmovnbe(st0, st1)?;
            a.fcmovu(st0, st1)?;
            a.fcmovnu(st0, st1)?;
            a.fcmovnb(st0, st1)?;
            a.fcomip(st0, st1)?;
            a.fld1()?;
            a.fucomi(st0, st1)?;
            a.fstp(st1)?;
            a.wait()?;
            a.fnclex()?;
            a.fdecstp()?;
            a.fincstp()?;
            a.ffreep(st0)?;
            a.fld1()?;
            a.fchs()?;
            a.fabs()?;
            a.fst(st1)?;
            a.fyl2xp1()?;
            a.fld1()?;
            a.fpatan()?;
            a.fld1()?;
            a.fprem1()?;
            a.fstp(st0)
        });
        let mut d = iced_x86::Decoder::with_ip(64, &code, CODE, iced_x86::DecoderOptions::NONE);
        for ins in &mut d {
            let t = x64vm::translate::translate(&ins);
            assert_ne!(
                t.op,
                x64vm::ir::Op::Unsupported,
                "{:?} at {:#x}",
                ins.code(),
                ins.ip()
            );
        }
        let mut inp = Input::new(CW_DEFAULT, [PZERO; 4]);
        inp.m32 = 2f32.to_bits();
        inp.m64 = 3f64.to_bits();
        inp.i16 = 5;
        inp.i32 = 7;
        let (_, _, stop) = vm_run(&code, &inp.bytes());
        assert!(matches!(stop, Stop::Returned), "{stop:?}");
    }

    #[test]
    fn results_are_identical_across_runs_and_hosts() {
        // A fixed mixed program; its bits are pinned so a host-dependent change shows.
        let inp = Input::new(CW_DEFAULT, [f(0.3), f(7.0), f(1e-3), PZERO]);
        let o = vm(&inp, &|a| {
            ld2(a)?;
            a.fsin()?;
            a.fmul_2(st0, st1)?;
            a.fld(tword_ptr(rdi + IN[2]))?;
            a.fyl2x()?;
            a.fld(tword_ptr(rdi + IN[0]))?;
            a.f2xm1()?;
            a.fpatan()?;
            a.fsqrt()
        });
        let again = vm(&inp, &|a| {
            ld2(a)?;
            a.fsin()?;
            a.fmul_2(st0, st1)?;
            a.fld(tword_ptr(rdi + IN[2]))?;
            a.fyl2x()?;
            a.fld(tword_ptr(rdi + IN[0]))?;
            a.f2xm1()?;
            a.fpatan()?;
            a.fsqrt()
        });
        assert_eq!(o, again);
    }
}

// ---- Differential test against the host CPU ----

const RUNNER_C: &str = r#"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
static uint8_t data[512] __attribute__((aligned(64)));
int main(void) {
    uint8_t *code = mmap(0, 1 << 16, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 2;
    uint32_t n;
    while (fread(&n, 4, 1, stdin) == 1) {
        if (n > (1 << 16) || fread(code, 1, n, stdin) != n) return 3;
        if (fread(data, 1, sizeof data, stdin) != sizeof data) return 4;
        ((void (*)(void *))code)(data);
        fwrite(data, 1, sizeof data, stdout);
    }
    return 0;
}
"#;

fn tmp_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("x87");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gcc(args: &[&str], out: &Path, src: &Path) {
    let r = Command::new("gcc")
        .args(args)
        .arg("-o")
        .arg(out)
        .arg(src)
        .output()
        .expect("gcc must be installed");
    assert!(
        r.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
}

fn runner() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let d = tmp_dir();
        let src = d.join("runner.c");
        std::fs::write(&src, RUNNER_C).unwrap();
        let exe = d.join("runner");
        gcc(&["-O1"], &exe, &src);
        exe
    })
}

/// Runs (code, data) pairs natively in one child process.
fn native(cases: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    let mut input = Vec::new();
    for (code, data) in cases {
        input.extend_from_slice(&(code.len() as u32).to_le_bytes());
        input.extend_from_slice(code);
        input.extend_from_slice(data);
    }
    let mut child = Command::new(runner())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&input)
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "native runner: {}", out.status);
    assert_eq!(out.stdout.len(), cases.len() * DATA_LEN);
    out.stdout.chunks(DATA_LEN).map(<[u8]>::to_vec).collect()
}

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// A random 80-bit value, biased towards edge cases.
fn value(r: &mut Rng) -> F80 {
    let sign = (r.below(2) as u16) << 15;
    match r.below(20) {
        0 => r.pick(&[
            PZERO,
            NZERO,
            PINF,
            NINF,
            INDEF,
            ONE,
            MAX,
            MIN_NORMAL,
            ONE_PLUS_ULP,
        ]),
        1 => x(sign | 0x7fff, 0xc000_0000_0000_0000 | r.next() >> 2), // QNaN
        2 => x(
            sign | 0x7fff,
            0x8000_0000_0000_0000 | (r.next() >> 2).max(1),
        ), // SNaN
        3 => x(sign, r.next() >> r.below(64)),                        // denormal
        4 => x(
            sign | r.pick(&[0x3ffe, 0x3fff, 0x4000, 0x403e, 0x401d, 0x400e]),
            1 << 63 | r.next() >> r.below(64),
        ), // near integer limits
        5 => x(sign | (1 + r.below(64)) as u16, 1 << 63 | r.next()),  // tiny normals
        6 => x(sign | (0x7ffe - r.below(64)) as u16, 1 << 63 | r.next()), // huge
        7 => from_int_like(r),
        8 => f(r.pick(&[
            0.5,
            1.5,
            2.5,
            -2.5,
            3.0,
            7.0,
            0.1,
            1e10,
            4294967295.5,
            2147483647.5,
            32767.5,
            -32768.5,
        ])),
        9 => x(
            sign | r.pick(&[0x0000, 0x7fff, 0x3fff, 0x4001]),
            r.next() & !(1 << 63) & r.pick(&[u64::MAX, 0x8000_0000_0000_0001]),
        ), // pseudo/unnormal
        _ => x(
            sign | (0x3fff - 80 + r.below(160)) as u16,
            1 << 63 | r.next(),
        ),
    }
}

fn from_int_like(r: &mut Rng) -> F80 {
    let v = r.next() as i64 >> r.below(63);
    if v == 0 {
        PZERO
    } else {
        x64vm::isa::x87::arith::from_int(v)
    }
}

/// Random control word: all exceptions masked, any precision and rounding.
fn random_cw(r: &mut Rng) -> u16 {
    cw(r.pick(&[0, 1, 2, 3, 3, 3]), r.below(4) as u16)
}

fn random_input(r: &mut Rng) -> Input {
    let mut inp = Input::new(random_cw(r), [value(r), value(r), value(r), value(r)]);
    let f32_edges = [
        0u32,
        0x8000_0000,
        1,
        0x807f_ffff,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0001,
        0x7f80_0001,
        0x7f7f_ffff,
        0x3f80_0000,
    ];
    inp.m32 = if r.below(2) == 0 {
        r.pick(&f32_edges)
    } else {
        r.next() as u32
    };
    let f64_edges = [
        0u64,
        1 << 63,
        1,
        0x000f_ffff_ffff_ffff,
        0x7ff0_0000_0000_0000,
        0x7ff8_0000_0000_0001,
        0x7ff0_0000_0000_0001,
        0x7fef_ffff_ffff_ffff,
    ];
    inp.m64 = if r.below(2) == 0 {
        r.pick(&f64_edges)
    } else {
        r.next()
    };
    let raw = r.next();
    inp.i16 = r.pick(&[0u16, 1, 0x8000, 0x7fff, 0xffff, raw as u16]);
    inp.i32 = r.pick(&[0u32, 0x8000_0000, 0x7fff_ffff, u32::MAX, raw as u32]);
    inp.i64 = r.pick(&[0u64, 1 << 63, u64::MAX >> 1, u64::MAX, raw]);
    inp
}

/// How a template's result is compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cmp {
    /// Bit for bit, flags included.
    Exact,
    /// A transcendental: values within a tolerance (see `close`), C1 and PE/UE not compared.
    Approx,
}

struct Tpl {
    name: &'static str,
    cmp: Cmp,
    body: Body,
    /// Shapes the random input for the instruction's domain.
    prep: Prep,
}

type Prep = fn(&mut Rng, &mut Input);

fn no_prep(_: &mut Rng, _: &mut Input) {}

fn exact(name: &'static str, body: Body) -> Tpl {
    Tpl {
        name,
        cmp: Cmp::Exact,
        body,
        prep: no_prep,
    }
}

fn exact_in(name: &'static str, prep: Prep, body: Body) -> Tpl {
    Tpl {
        name,
        cmp: Cmp::Exact,
        body,
        prep,
    }
}

fn approx(name: &'static str, prep: Prep, body: Body) -> Tpl {
    Tpl {
        name,
        cmp: Cmp::Approx,
        body,
        prep,
    }
}

fn finite_in(r: &mut Rng, lo_exp: i32, hi_exp: i32) -> F80 {
    let e = lo_exp + r.below((hi_exp - lo_exp + 1) as u64) as i32;
    x(
        ((r.below(2) as u16) << 15) | (16383 + e) as u16,
        1 << 63 | r.next(),
    )
}

fn positive(v: F80) -> F80 {
    x(v.se & 0x7fff, v.mant)
}

fn templates() -> Vec<Tpl> {
    vec![
        exact("fld m80", ld1),
        exact("fld m32", |a| a.fld(dword_ptr(rdi + M32))),
        exact("fld m64", |a| a.fld(qword_ptr(rdi + M64))),
        exact("fild m16/m32/m64", |a| {
            a.fild(word_ptr(rdi + I16))?;
            a.fild(dword_ptr(rdi + I32))?;
            a.fild(qword_ptr(rdi + I64))
        }),
        exact("fld st(i)", |a| {
            ld2(a)?;
            a.fld(st1)
        }),
        exact("constants", |a| {
            a.fld1()?;
            a.fldl2t()?;
            a.fldl2e()?;
            a.fldpi()?;
            a.fldlg2()?;
            a.fldln2()?;
            a.fldz()
        }),
        exact("fst m32/m64", |a| {
            ld1(a)?;
            a.fst(dword_ptr(rdi + OUT))?;
            a.fstp(qword_ptr(rdi + OUT + 8))
        }),
        exact("fstp m80/st(i)", |a| {
            ld2(a)?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT))?;
            a.fstp(st1)
        }),
        exact("fist/fistp", |a| {
            ld1(a)?;
            a.fist(word_ptr(rdi + OUT))?;
            a.fist(dword_ptr(rdi + OUT + 4))?;
            a.fistp(qword_ptr(rdi + OUT + 8))
        }),
        exact("fisttp", |a| {
            ld1(a)?;
            a.fld(st0)?;
            a.fld(st0)?;
            a.fisttp(word_ptr(rdi + OUT))?;
            a.fisttp(dword_ptr(rdi + OUT + 4))?;
            a.fisttp(qword_ptr(rdi + OUT + 8))
        }),
        exact("fadd st,st(i)", |a| {
            ld2(a)?;
            a.fadd_2(st0, st1)
        }),
        exact("fadd st(i),st", |a| {
            ld2(a)?;
            a.fadd_2(st1, st0)
        }),
        exact("faddp", |a| {
            ld2(a)?;
            a.faddp(st1, st0)
        }),
        exact("fsub", |a| {
            ld2(a)?;
            a.fsub_2(st0, st1)
        }),
        exact("fsub st(i),st", |a| {
            ld2(a)?;
            a.fsub_2(st1, st0)
        }),
        exact("fsubr", |a| {
            ld2(a)?;
            a.fsubr_2(st0, st1)
        }),
        exact("fsubp", |a| {
            ld2(a)?;
            a.fsubp(st1, st0)
        }),
        exact("fsubrp", |a| {
            ld2(a)?;
            a.fsubrp(st1, st0)
        }),
        exact("fmul", |a| {
            ld2(a)?;
            a.fmul_2(st0, st1)
        }),
        exact("fmulp", |a| {
            ld2(a)?;
            a.fmulp(st1, st0)
        }),
        exact("fdiv", |a| {
            ld2(a)?;
            a.fdiv_2(st0, st1)
        }),
        exact("fdivr", |a| {
            ld2(a)?;
            a.fdivr_2(st0, st1)
        }),
        exact("fdivp", |a| {
            ld2(a)?;
            a.fdivp(st1, st0)
        }),
        exact("fdivrp", |a| {
            ld2(a)?;
            a.fdivrp(st1, st0)
        }),
        exact("arith m32", |a| {
            ld1(a)?;
            a.fadd(dword_ptr(rdi + M32))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT))?;
            ld1(a)?;
            a.fsubr(dword_ptr(rdi + M32))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT + 16))?;
            ld1(a)?;
            a.fdiv(dword_ptr(rdi + M32))
        }),
        exact("arith m64", |a| {
            ld1(a)?;
            a.fmul(qword_ptr(rdi + M64))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT))?;
            ld1(a)?;
            a.fsub(qword_ptr(rdi + M64))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT + 16))?;
            ld1(a)?;
            a.fdivr(qword_ptr(rdi + M64))
        }),
        exact("fiadd/fisub/fimul", |a| {
            ld1(a)?;
            a.fiadd(word_ptr(rdi + I16))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT))?;
            ld1(a)?;
            a.fisubr(dword_ptr(rdi + I32))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT + 16))?;
            ld1(a)?;
            a.fimul(dword_ptr(rdi + I32))
        }),
        exact("fidiv/fidivr", |a| {
            ld1(a)?;
            a.fidiv(word_ptr(rdi + I16))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT))?;
            ld1(a)?;
            a.fidivr(dword_ptr(rdi + I32))?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT + 16))?;
            ld1(a)?;
            a.fisub(word_ptr(rdi + I16))
        }),
        exact("fcom", |a| {
            ld2(a)?;
            a.fcom_2(st0, st1)
        }),
        exact("fcomp/fucomp", |a| {
            ld2(a)?;
            a.fucomp(st0, st1)?;
            a.fnstsw(word_ptr(rdi + OUT))?;
            ld1(a)?;
            a.fcomp_2(st0, st1)
        }),
        exact("fcompp", |a| {
            ld2(a)?;
            a.fcompp()
        }),
        exact("fucompp", |a| {
            ld2(a)?;
            a.fucompp()
        }),
        exact("fcom m32/m64", |a| {
            ld1(a)?;
            a.fcom(dword_ptr(rdi + M32))?;
            a.fnstsw(word_ptr(rdi + OUT))?;
            a.fcomp(qword_ptr(rdi + M64))
        }),
        exact("ficom", |a| {
            ld1(a)?;
            a.ficom(word_ptr(rdi + I16))?;
            a.fnstsw(word_ptr(rdi + OUT))?;
            a.ficomp(dword_ptr(rdi + I32))
        }),
        exact("fcomi", |a| {
            ld2(a)?;
            a.fcomi(st0, st1)
        }),
        exact("fucomi", |a| {
            ld2(a)?;
            a.fucomi(st0, st1)
        }),
        exact("fcomip", |a| {
            ld2(a)?;
            a.fcomip(st0, st1)
        }),
        exact("fucomip", |a| {
            ld2(a)?;
            a.fucomip(st0, st1)
        }),
        exact("ftst", |a| {
            ld1(a)?;
            a.ftst()
        }),
        exact("fxam", |a| {
            ld1(a)?;
            a.fxam()
        }),
        exact("fchs/fabs", |a| {
            ld1(a)?;
            a.fchs()?;
            a.fld(st0)?;
            a.fabs()
        }),
        exact("fsqrt", |a| {
            ld1(a)?;
            a.fsqrt()
        }),
        exact("frndint", |a| {
            ld1(a)?;
            a.frndint()
        }),
        exact("fscale", |a| {
            ld2(a)?;
            a.fscale()
        }),
        exact("fxtract", |a| {
            ld1(a)?;
            a.fxtract()
        }),
        exact("fprem", |a| {
            ld2(a)?;
            a.fprem()
        }),
        exact("fprem1", |a| {
            ld2(a)?;
            a.fprem1()
        }),
        exact("fxch", |a| {
            ld2(a)?;
            a.fxch(st0, st1)
        }),
        exact("fcmov", |a| {
            a.fld(tword_ptr(rdi + IN[2]))?;
            ld2(a)?;
            a.fucomi(st0, st2)?;
            a.fcmovb(st0, st1)?;
            a.fcmovnbe(st0, st2)?;
            a.fcmovu(st0, st1)?;
            a.fld(st0)?;
            a.fstp(tword_ptr(rdi + OUT))?;
            a.fcmove(st0, st2)?;
            a.fcmovnu(st0, st1)
        }),
        exact("ffree/fincstp/fdecstp", |a| {
            ld2(a)?;
            a.ffree(st0)?;
            a.fincstp()?;
            a.fld1()?;
            a.fdecstp()
        }),
        exact("stack overflow", |a| {
            for _ in 0..8 {
                ld1(a)?;
            }
            a.fld(tword_ptr(rdi + IN[1]))?;
            a.fnstsw(word_ptr(rdi + OUT))?;
            a.fld1()
        }),
        exact("stack underflow", |a| {
            ld1(a)?;
            a.fadd_2(st0, st1)?;
            a.fnstsw(word_ptr(rdi + OUT))?;
            a.fstp(dword_ptr(rdi + OUT + 4))?;
            a.fstp(qword_ptr(rdi + OUT + 8))?;
            a.fistp(word_ptr(rdi + OUT + 16))?;
            a.fxch(st0, st1)
        }),
        exact("fnstenv/fldenv", |a| {
            ld2(a)?;
            a.fnstenv(ptr(rdi + OUT))?;
            a.fldcw(word_ptr(rdi + CW))?;
            a.fnclex()?;
            a.fstp(st0)?;
            a.fldenv(ptr(rdi + OUT))?;
            // Only the control, status and tag words are compared.
            a.mov(qword_ptr(rdi + OUT + 12), 0)?;
            a.mov(qword_ptr(rdi + OUT + 20), 0)
        }),
        exact("fld1 fsub chain", |a| {
            ld2(a)?;
            a.fmul_2(st0, st0)?;
            a.fld1()?;
            a.fsubrp(st1, st0)?;
            a.fdiv_2(st0, st1)?;
            a.fsqrt()?;
            a.fadd(dword_ptr(rdi + M32))
        }),
        exact_in(
            "fprem wide",
            |r, inp| {
                inp.ins[0] = finite_in(r, -16000, 16000);
                inp.ins[1] = finite_in(r, -16382, 16000);
            },
            |a| {
                ld2(a)?;
                a.fprem()?;
                a.fnstsw(word_ptr(rdi + OUT))?;
                a.fprem1()
            },
        ),
        exact_in(
            "fprem1 loop",
            |r, inp| {
                inp.ins[0] = finite_in(r, -200, 1000);
                inp.ins[1] = finite_in(r, -300, 200);
            },
            |a| {
                ld2(a)?;
                let mut again = a.create_label();
                a.set_label(&mut again)?;
                a.fprem1()?;
                a.fnstsw(ax)?;
                a.test(ax, 0x400)?;
                a.jnz(again)
            },
        ),
        exact_in(
            "fscale wide",
            |r, inp| {
                inp.ins[0] = finite_in(r, -16382, 16383);
                inp.ins[1] = finite_in(r, -3, 16);
            },
            |a| {
                ld2(a)?;
                a.fscale()
            },
        ),
        approx("f2xm1 any", no_prep, |a| {
            ld1(a)?;
            a.f2xm1()
        }),
        approx("fyl2x any", no_prep, |a| {
            ld2(a)?;
            a.fyl2x()
        }),
        approx("fyl2xp1 any", no_prep, |a| {
            ld2(a)?;
            a.fyl2xp1()
        }),
        approx("fpatan any", no_prep, |a| {
            ld2(a)?;
            a.fpatan()
        }),
        approx("fsin any", no_prep, |a| {
            ld1(a)?;
            a.fsin()
        }),
        approx("fcos any", no_prep, |a| {
            ld1(a)?;
            a.fcos()
        }),
        approx("fsincos any", no_prep, |a| {
            ld1(a)?;
            a.fsincos()
        }),
        approx("fptan any", no_prep, |a| {
            ld1(a)?;
            a.fptan()
        }),
        approx(
            "f2xm1",
            |r, inp| inp.ins[0] = finite_in(r, -70, -1),
            |a| {
                ld1(a)?;
                a.f2xm1()
            },
        ),
        approx(
            "fyl2x",
            |r, inp| {
                inp.ins[0] = positive(finite_in(r, -300, 300));
                inp.ins[1] = finite_in(r, -20, 20);
            },
            |a| {
                ld2(a)?;
                a.fyl2x()
            },
        ),
        approx(
            "fyl2xp1",
            |r, inp| {
                inp.ins[0] = finite_in(r, -60, -3);
                inp.ins[1] = finite_in(r, -20, 20);
            },
            |a| {
                ld2(a)?;
                a.fyl2xp1()
            },
        ),
        approx(
            "fpatan",
            |r, inp| {
                inp.ins[0] = finite_in(r, -40, 40);
                inp.ins[1] = finite_in(r, -40, 40);
            },
            |a| {
                ld2(a)?;
                a.fpatan()
            },
        ),
        approx(
            "fsin",
            |r, inp| inp.ins[0] = finite_in(r, -30, 10),
            |a| {
                ld1(a)?;
                a.fsin()
            },
        ),
        approx(
            "fcos",
            |r, inp| inp.ins[0] = finite_in(r, -30, 10),
            |a| {
                ld1(a)?;
                a.fcos()
            },
        ),
        approx(
            "fsincos",
            |r, inp| inp.ins[0] = finite_in(r, -30, 4),
            |a| {
                ld1(a)?;
                a.fsincos()
            },
        ),
        approx(
            "fptan",
            |r, inp| inp.ins[0] = finite_in(r, -30, 4),
            |a| {
                ld1(a)?;
                a.fptan()
            },
        ),
    ]
}

/// Total order key of a finite value (for ulp distances).
fn key(v: F80) -> i128 {
    let m = ((v.exp() as i128) << 64) | v.mant as i128;
    if v.sign() { -m } else { m }
}

/// Whether VM and native results of a transcendental agree: same class and sign,
/// and within `8 + |x| (1/|r| + |r|) / 2` ulps of the host's result r (the host
/// reduces arguments with a 66-bit pi, an error that grows with |x| and is
/// amplified near zeros of sin/cos and poles of tan).
fn close(vm: F80, hw: F80, arg: F80) -> bool {
    if vm == hw {
        return true;
    }
    let fin = |v: F80| v.exp() != 0x7fff;
    // Beyond 2^40 the host's argument reduction error dominates: any two finite
    // results pass (the VM's reduction is checked against libm in the unit
    // tests of `transcendental`).
    if fin(vm) && fin(hw) && to_f64(arg).abs() > 2f64.powi(40) {
        return true;
    }
    if !fin(vm) || !fin(hw) || (vm.sign() != hw.sign() && vm.mant != 0 && hw.mant != 0) {
        return false;
    }
    let r = to_f64(hw).abs().clamp(f64::MIN_POSITIVE, f64::MAX);
    let tol = 8.0 + 0.5 * to_f64(arg).abs() * (1.0 / r + r);
    ((key(vm) - key(hw)).abs() as f64) <= tol
}

fn compare(t: &Tpl, inp: &Input, vm: &Out, hw: &Out) -> Result<(), String> {
    let mut diffs = Vec::new();
    let status = flag::ZF | flag::PF | flag::CF | flag::OF | flag::SF;
    if vm.rflags & status != hw.rflags & status {
        diffs.push(format!(
            "rflags vm {:#x} hw {:#x}",
            vm.rflags & status,
            hw.rflags & status
        ));
    }
    if vm.cw != hw.cw {
        diffs.push(format!("cw vm {:#06x} hw {:#06x}", vm.cw, hw.cw));
    }
    let sw_mask = match t.cmp {
        Cmp::Exact => 0xffff,
        Cmp::Approx => !(sw::C1 | sw::PE | sw::UE),
    };
    if vm.sw & sw_mask != hw.sw & sw_mask {
        diffs.push(format!("sw vm {:#06x} hw {:#06x}", vm.sw, hw.sw));
    }
    if vm.tw != hw.tw && t.cmp == Cmp::Exact {
        diffs.push(format!("tw vm {:#06x} hw {:#06x}", vm.tw, hw.tw));
    }
    for i in 0..8u8 {
        if hw.empty(i) || vm.empty(i) {
            continue;
        }
        let (a, b) = (vm.st[i as usize], hw.st[i as usize]);
        let same = match t.cmp {
            Cmp::Exact => a == b,
            Cmp::Approx => close(a, b, inp.ins[0]),
        };
        if !same {
            diffs.push(format!(
                "st{i} vm {:#022x} hw {:#022x}",
                a.to_bits(),
                b.to_bits()
            ));
        }
    }
    if vm.out != hw.out {
        let at = (0..vm.out.len()).find(|&k| vm.out[k] != hw.out[k]).unwrap();
        diffs.push(format!(
            "memory at OUT+{at}: vm {:02x?} hw {:02x?}",
            &vm.out[at & !7..(at & !7) + 16],
            &hw.out[at & !7..(at & !7) + 16]
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

fn describe(inp: &Input) -> String {
    format!(
        "cw {:#06x} in {:#022x} {:#022x} {:#022x} m32 {:#010x} m64 {:#018x} i16 {:#x} i32 {:#x} i64 {:#x}",
        inp.cw,
        inp.ins[0].to_bits(),
        inp.ins[1].to_bits(),
        inp.ins[2].to_bits(),
        inp.m32,
        inp.m64,
        inp.i16,
        inp.i32,
        inp.i64
    )
}

#[test]
fn differential_against_host_cpu() {
    let per_template: usize = std::env::var("X87_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("X87_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x87_87);
    let mut rng = Rng(seed | 1);
    let tpls = templates();
    let mut cases = Vec::new();
    let mut meta = Vec::new();
    for (k, t) in tpls.iter().enumerate() {
        let code = assemble(&t.body);
        for _ in 0..per_template {
            let mut inp = random_input(&mut rng);
            (t.prep)(&mut rng, &mut inp);
            cases.push((code.clone(), inp.bytes()));
            meta.push((k, inp));
        }
    }
    let hw = native(&cases);
    let mut failures: Vec<String> = Vec::new();
    let mut per: Vec<usize> = vec![0; tpls.len()];
    for (n, ((code, data), (k, inp))) in cases.iter().zip(&meta).enumerate() {
        let (_, vdata, stop) = vm_run(code, data);
        let t = &tpls[*k];
        if !matches!(stop, Stop::Returned) {
            failures.push(format!("{}: VM stopped with {stop:?}", t.name));
            continue;
        }
        let (v, h) = (Out::parse(&vdata), Out::parse(&hw[n]));
        if let Err(e) = compare(t, inp, &v, &h) {
            per[*k] += 1;
            if per[*k] <= 3 {
                failures.push(format!("{}: {e}\n    {}", t.name, describe(inp)));
            }
        }
    }
    let summary: Vec<String> = tpls
        .iter()
        .zip(&per)
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{}: {n}", t.name))
        .collect();
    assert!(
        failures.is_empty(),
        "{} cases, mismatches per template: {summary:?}\n{}",
        cases.len(),
        failures.join("\n")
    );
}

// ---- A freestanding long double program, native vs VM ----

const PROGRAM_C: &str = r#"
typedef unsigned long u64;
static long sys(long n, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
static char buf[8192];
static int len;
static void hex(u64 v, int digits) {
    for (int i = digits - 1; i >= 0; i--) buf[len++] = "0123456789abcdef"[(v >> (4 * i)) & 15];
}
static void put_ld(long double x) {
    union { long double x; struct { u64 m; unsigned short se; } p; } u;
    u.x = x;
    hex(u.p.se, 4);
    buf[len++] = ':';
    hex(u.p.m, 16);
    buf[len++] = '\n';
}
static void put_i(long v) { hex((u64)v, 16); buf[len++] = '\n'; }
static volatile long double seed_a = 1.1L, seed_b = 3.0L, seed_c = -2.5e-3L;
static volatile long iv = 123456789;
static volatile double dv = 0.1;
static volatile float fv = 1e-40f;
long double poly(long double x) {
    long double s = 0;
    for (int k = 20; k >= 0; k--) s = s * x + 1.0L / (k + 1);
    return s;
}
void _start(void) {
    long double a = seed_a, b = seed_b, c = seed_c;
    long double acc = 0;
    for (int i = 1; i <= 200; i++) {
        acc += a / (b * i) - c * i;
        acc *= 1.0L + 1.0L / (i * i);
        if (acc > 1e30L) acc = -acc / 7;
    }
    put_ld(acc);
    put_ld(poly(a) - poly(-c));
    put_ld(a * b - c / a);
    put_ld((long double)iv * dv + fv);
    put_i((long)(acc * 1000));
    put_i((long)(a * 1e18L));
    put_i(acc < a ? 1 : acc == a ? 2 : 3);
    long double h = 1;
    for (int i = 0; i < 70; i++) h /= 2;
    put_ld(h + 1);
    put_ld((1 + h * 2) - 1);
    double d = (double)(a / b);
    float f = (float)(a / b);
    hex(*(u64 *)&d, 16); buf[len++] = '\n';
    hex(*(unsigned *)&f, 8); buf[len++] = '\n';
    unsigned long long big = 18446744073709551615ULL;
    put_ld((long double)big);
    put_i((long)(unsigned long long)((long double)big / 3));
    sys(1, 1, (long)buf, len);
    sys(60, 0, 0, 0);
    for (;;) {}
}
"#;

#[test]
fn freestanding_long_double_program_matches_native() {
    let d = tmp_dir();
    let src = d.join("ld_prog.c");
    std::fs::write(&src, PROGRAM_C).unwrap();
    let exe = d.join("ld_prog");
    gcc(
        &[
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
            "-fno-stack-protector",
        ],
        &exe,
        &src,
    );
    let native = Command::new(&exe).output().unwrap();
    assert!(native.status.success());
    let bytes = std::fs::read(&exe).unwrap();
    let image = x64vm::load_elf(&bytes, false).unwrap();
    let config = x64vm::Config {
        gas_limit: 1 << 32,
        memory_limit: 1 << 30,
        stack_size: 8 << 20,
        ..x64vm::Config::default()
    };
    let linux = x64vm::linux::LinuxConfig {
        args: vec!["ld_prog".into()],
        ..Default::default()
    };
    let (mut inst, mut host) = x64vm::linux::spawn(&image, &config, &linux).unwrap();
    let outcome = inst.run(&mut host);
    assert!(
        !matches!(outcome.status, x64vm::Status::Trapped(_)),
        "{:?}",
        outcome.status
    );
    assert_eq!(
        String::from_utf8_lossy(&host.stdout),
        String::from_utf8_lossy(&native.stdout)
    );
    assert!(host.stdout.len() > 100);
}
