//! SSE .. SSE4.2 edge cases, per instruction family, with expected values worked
//! out from the Intel SDM (crates/x64vm-testkit/tests/sse_diff.rs checks the same
//! instructions against the host CPU with random values): ±0, ±inf, quiet and
//! signalling NaNs with payloads, denormals, conversion limits, saturation
//! limits, every MXCSR rounding mode, DAZ/FTZ, alignment faults and unmasked
//! exceptions.

use iced_x86::code_asm::*;
use x64vm::cpu::{Cpu, flag};
use x64vm::interp::{CodeCache, NoTrace, Stop, run};
use x64vm::mem::{Memory, perm};
use x64vm::trap::Trap;

const CODE: u64 = 0x10000;
const DATA: u64 = 0x20000;
const STACK_TOP: u64 = 0x30000;

/// MXCSR flag bits.
const IE: u32 = 1;
const DE: u32 = 2;
const ZE: u32 = 4;
const OE: u32 = 8;
const UE: u32 = 16;
const PE: u32 = 32;
const DAZ: u32 = 0x40;
const FTZ: u32 = 0x8000;
const MXCSR: u32 = 0x1f80;
const RC_DOWN: u32 = 0x2000;
const RC_UP: u32 = 0x4000;
const RC_ZERO: u32 = 0x6000;

struct Run {
    cpu: Cpu,
    mem: Memory,
    stop: Stop,
}

/// Runs `body` + `hlt` with XMM registers, MXCSR and general registers preset and
/// `data` at DATA (RSI points at DATA).
fn exec(
    xmm: &[(usize, u128)],
    mxcsr: u32,
    regs: &[(usize, u64)],
    data: &[u8],
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Run {
    let mut a = CodeAssembler::new(64).unwrap();
    body(&mut a).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(CODE).unwrap();
    let mut mem = Memory::new(CODE, 0x20000).unwrap();
    mem.load(CODE, &code).unwrap();
    mem.protect(CODE, code.len() as u64, perm::RX).unwrap();
    mem.protect(DATA, 0x10000, perm::RW).unwrap();
    mem.load(DATA, data).unwrap();
    let mut cpu = Cpu::default();
    cpu.gpr[4] = STACK_TOP - 0x100;
    cpu.gpr[6] = DATA;
    for &(r, v) in regs {
        cpu.gpr[r] = v;
    }
    for &(x, v) in xmm {
        cpu.xmm[x] = v;
    }
    cpu.mxcsr = mxcsr;
    cpu.rip = CODE;
    cpu.gas = 1 << 40;
    let stop = run(&mut cpu, &mut mem, &mut CodeCache::default(), &mut NoTrace);
    Run { cpu, mem, stop }
}

/// Runs and requires the snippet to complete.
fn ok(
    xmm: &[(usize, u128)],
    mxcsr: u32,
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Cpu {
    let r = exec(xmm, mxcsr, &[], &[], body);
    assert!(
        matches!(r.stop, Stop::Trap(Trap::Halt)),
        "stopped with {:?}",
        r.stop
    );
    r.cpu
}

fn trap_of(r: &Run) -> Trap {
    match &r.stop {
        Stop::Trap(t) => t.clone(),
        s => panic!("expected a trap, got {s:?}"),
    }
}

/// Four binary32 lanes, lane 0 first.
fn v4(l: [u32; 4]) -> u128 {
    l.iter()
        .enumerate()
        .fold(0, |v, (k, &x)| v | (x as u128) << (32 * k))
}

/// Two binary64 lanes, lane 0 first.
fn v2(l: [u64; 2]) -> u128 {
    l[0] as u128 | (l[1] as u128) << 64
}

fn s(x: f32) -> u32 {
    x.to_bits()
}

fn d(x: f64) -> u64 {
    x.to_bits()
}

fn lo32(v: u128) -> u32 {
    v as u32
}

fn lo64(v: u128) -> u64 {
    v as u64
}

/// Result of one scalar binary32 op `op xmm0, xmm1` on (a, b): (bits, flags).
fn ss(
    op: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> Result<(), IcedError>,
    a: u32,
    b: u32,
    mxcsr: u32,
) -> (u32, u32) {
    let c = ok(&[(0, a as u128), (1, b as u128)], mxcsr, |asm| {
        op(asm, xmm0, xmm1)
    });
    (lo32(c.xmm[0]), c.mxcsr & 0x3f)
}

/// As [`ss`], for binary64.
fn sd(
    op: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> Result<(), IcedError>,
    a: u64,
    b: u64,
    mxcsr: u32,
) -> (u64, u32) {
    let c = ok(&[(0, a as u128), (1, b as u128)], mxcsr, |asm| {
        op(asm, xmm0, xmm1)
    });
    (lo64(c.xmm[0]), c.mxcsr & 0x3f)
}

const QNAN32: u32 = 0x7fc0_0000;
const DEFNAN32: u32 = 0xffc0_0000;
const SNAN32: u32 = 0x7f80_0001;
const INF32: u32 = 0x7f80_0000;
const DEFNAN64: u64 = 0xfff8_0000_0000_0000;
const SNAN64: u64 = 0x7ff0_0000_0000_0042;
const QNAN64: u64 = 0x7ff8_0000_0000_0077;
const INF64: u64 = 0x7ff0_0000_0000_0000;

mod nans {
    use super::*;

    #[test]
    fn first_source_nan_wins_and_snans_are_quieted() {
        let add: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.addss(x, y);
        // Two NaNs: the destination's (first source) wins, quieted.
        assert_eq!(ss(add, 0xff80_1234, 0x7fc0_5678, MXCSR), (0xffc0_1234, IE));
        assert_eq!(ss(add, 0x7fc0_5678, 0xff80_1234, MXCSR), (0x7fc0_5678, IE));
        // One NaN: that one, payload kept.
        assert_eq!(ss(add, s(1.0), 0xffc0_0abc, MXCSR), (0xffc0_0abc, 0));
        assert_eq!(ss(add, SNAN32, s(1.0), MXCSR), (0x7fc0_0001, IE));
        let mul: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.mulsd(x, y);
        assert_eq!(sd(mul, d(2.0), SNAN64, MXCSR), (SNAN64 | 1 << 51, IE));
        assert_eq!(sd(mul, QNAN64, SNAN64, MXCSR), (QNAN64, IE));
    }

    #[test]
    fn invalid_operations_give_the_default_nan() {
        let sub: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.subss(x, y);
        assert_eq!(ss(sub, INF32, INF32, MXCSR), (DEFNAN32, IE));
        let mul: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.mulss(x, y);
        assert_eq!(ss(mul, 0x8000_0000, INF32, MXCSR), (DEFNAN32, IE));
        let div: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.divsd(x, y);
        assert_eq!(sd(div, 0, 0x8000_0000_0000_0000, MXCSR), (DEFNAN64, IE));
        assert_eq!(sd(div, INF64, INF64, MXCSR), (DEFNAN64, IE));
        let sqrt: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.sqrtsd(x, y);
        assert_eq!(sd(sqrt, 0, d(-1.0), MXCSR), (DEFNAN64, IE));
        assert_eq!(sd(sqrt, 0, d(-0.0), MXCSR), (d(-0.0), 0));
        assert_eq!(
            sd(sqrt, 0, d(-1e-310), MXCSR),
            (DEFNAN64, IE),
            "no DE for an invalid op"
        );
    }

    #[test]
    fn min_and_max_return_the_second_operand_unquieted() {
        let min: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.minss(x, y);
        let max: fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> _ =
            |a, x, y| a.maxss(x, y);
        assert_eq!(
            ss(min, QNAN32, s(1.0), MXCSR),
            (s(1.0), IE),
            "a QNaN raises IE"
        );
        assert_eq!(ss(min, s(1.0), SNAN32, MXCSR), (SNAN32, IE), "not quieted");
        assert_eq!(ss(max, s(0.0), s(-0.0), MXCSR), (s(-0.0), 0));
        assert_eq!(ss(max, s(-0.0), s(0.0), MXCSR), (s(0.0), 0));
        assert_eq!(ss(min, s(-0.0), s(0.0), MXCSR), (s(0.0), 0));
        assert_eq!(ss(min, s(-3.0), s(2.0), MXCSR), (s(-3.0), 0));
        assert_eq!(ss(max, s(-3.0), s(2.0), MXCSR), (s(2.0), 0));
        // A denormal operand sets DE unless DAZ, which compares it as zero.
        assert_eq!(ss(max, 1, 0x8000_0000, MXCSR), (1, DE));
        assert_eq!(ss(max, 1, 0x8000_0000, MXCSR | DAZ), (0x8000_0000, 0));
    }
}

mod arithmetic {
    use super::*;

    fn addss(a: &mut CodeAssembler, x: AsmRegisterXmm, y: AsmRegisterXmm) -> Result<(), IcedError> {
        a.addss(x, y)
    }
    fn mulss(a: &mut CodeAssembler, x: AsmRegisterXmm, y: AsmRegisterXmm) -> Result<(), IcedError> {
        a.mulss(x, y)
    }
    fn divss(a: &mut CodeAssembler, x: AsmRegisterXmm, y: AsmRegisterXmm) -> Result<(), IcedError> {
        a.divss(x, y)
    }
    fn addsd(a: &mut CodeAssembler, x: AsmRegisterXmm, y: AsmRegisterXmm) -> Result<(), IcedError> {
        a.addsd(x, y)
    }

    #[test]
    fn rounding_modes_through_mxcsr() {
        let tiny = s(2f32.powi(-30));
        let one = s(1.0);
        assert_eq!(ss(addss, one, tiny, MXCSR), (one, PE));
        assert_eq!(ss(addss, one, tiny, MXCSR | RC_UP), (one + 1, PE));
        assert_eq!(ss(addss, one, tiny, MXCSR | RC_DOWN), (one, PE));
        let mone = s(-1.0);
        assert_eq!(
            ss(addss, mone, tiny | 1 << 31, MXCSR | RC_DOWN),
            (mone + 1, PE)
        );
        assert_eq!(ss(addss, mone, tiny | 1 << 31, MXCSR | RC_ZERO), (mone, PE));
        // x - x is +0, except -0 when rounding down.
        assert_eq!(ss(addss, one, mone, MXCSR), (0, 0));
        assert_eq!(ss(addss, one, mone, MXCSR | RC_DOWN), (0x8000_0000, 0));
        // Ties to even.
        assert_eq!(sd(addsd, d(1.0), d(2f64.powi(-53)), MXCSR), (d(1.0), PE));
        assert_eq!(
            sd(addsd, d(1.0) + 1, d(2f64.powi(-53)), MXCSR),
            (d(1.0) + 2, PE)
        );
    }

    #[test]
    fn overflow_saturates_or_goes_to_infinity_by_mode() {
        let max = 0x7f7f_ffff;
        assert_eq!(ss(mulss, max, s(2.0), MXCSR), (INF32, OE | PE));
        assert_eq!(ss(mulss, max, s(2.0), MXCSR | RC_ZERO), (max, OE | PE));
        assert_eq!(ss(mulss, max, s(2.0), MXCSR | RC_DOWN), (max, OE | PE));
        assert_eq!(
            ss(mulss, max | 1 << 31, s(2.0), MXCSR | RC_DOWN),
            (INF32 | 1 << 31, OE | PE)
        );
        assert_eq!(
            ss(mulss, max | 1 << 31, s(2.0), MXCSR | RC_UP),
            (max | 1 << 31, OE | PE)
        );
    }

    #[test]
    fn underflow_denormals_daz_and_ftz() {
        let min_normal = 0x0080_0000;
        // Exact denormal result: no UE (underflow is masked and nothing was lost).
        assert_eq!(ss(mulss, min_normal, s(0.5), MXCSR), (0x0040_0000, 0));
        // Inexact tiny result: UE and PE.
        assert_eq!(
            ss(mulss, min_normal, s(1.0 / 3.0), MXCSR),
            (0x002a_aaab, UE | PE)
        );
        // Tininess is detected after rounding: (1 - 2^-24) * 2^-126 is tiny even
        // though it rounds to the smallest normal.
        assert_eq!(
            ss(mulss, 0x3f7f_ffff, min_normal, MXCSR),
            (min_normal, UE | PE)
        );
        // ... but (1 - 2^-23) * (1 + 2^-23) * 2^-126 = 2^-126 * (1 - 2^-46) rounds
        // to 2^-126 even with an unbounded exponent: not tiny, so only PE.
        assert_eq!(ss(mulss, 0x3f7f_fffe, 0x0080_0001, MXCSR), (min_normal, PE));
        // FTZ flushes tiny results to zero with UE and PE.
        assert_eq!(ss(mulss, min_normal, s(0.5), MXCSR | FTZ), (0, UE | PE));
        assert_eq!(
            ss(mulss, min_normal | 1 << 31, s(0.25), MXCSR | FTZ),
            (1 << 31, UE | PE)
        );
        // Denormal operands set DE; with DAZ they read as signed zeros.
        assert_eq!(ss(addss, 1, 0, MXCSR), (1, DE));
        assert_eq!(ss(addss, 1, 0, MXCSR | DAZ), (0, 0));
        assert_eq!(
            ss(addss, 0x8000_0001, 0x8000_0000, MXCSR | DAZ),
            (0x8000_0000, 0)
        );
        assert_eq!(ss(mulss, 1, s(2.0), MXCSR), (2, DE));
    }

    #[test]
    fn division_by_zero() {
        assert_eq!(ss(divss, s(1.0), 0x8000_0000, MXCSR), (INF32 | 1 << 31, ZE));
        assert_eq!(ss(divss, INF32, 0, MXCSR), (INF32, 0), "inf / 0 is exact");
        // Division by zero takes precedence over (and suppresses) DE.
        assert_eq!(ss(divss, 1, 0, MXCSR), (INF32, ZE));
        assert_eq!(ss(divss, 0, 1, MXCSR), (0, DE));
    }

    #[test]
    fn packed_and_horizontal_forms() {
        let a = v4([s(1.0), s(2.0), s(3.0), s(4.0)]);
        let b = v4([s(10.0), s(20.0), s(30.0), s(40.0)]);
        let c = ok(&[(0, a), (1, b)], MXCSR, |x| x.addsubps(xmm0, xmm1));
        assert_eq!(c.xmm[0], v4([s(-9.0), s(22.0), s(-27.0), s(44.0)]));
        let c = ok(&[(0, a), (1, b)], MXCSR, |x| x.haddps(xmm0, xmm1));
        assert_eq!(c.xmm[0], v4([s(3.0), s(7.0), s(30.0), s(70.0)]));
        let c = ok(&[(0, a), (1, b)], MXCSR, |x| x.hsubps(xmm0, xmm1));
        assert_eq!(c.xmm[0], v4([s(-1.0), s(-1.0), s(-10.0), s(-10.0)]));
        let c = ok(
            &[(0, v2([d(1.0), d(2.0)])), (1, v2([d(5.0), d(7.0)]))],
            MXCSR,
            |x| x.haddpd(xmm0, xmm1),
        );
        assert_eq!(c.xmm[0], v2([d(3.0), d(12.0)]));
        // Scalar forms keep the upper lanes of the destination.
        let c = ok(&[(0, a), (1, b)], MXCSR, |x| x.sqrtss(xmm0, xmm1));
        assert_eq!(c.xmm[0], v4([s(10f32.sqrt()), s(2.0), s(3.0), s(4.0)]));
        // dpps: products 1 and 3 summed, written to lanes 0 and 2.
        let c = ok(&[(0, a), (1, b)], MXCSR, |x| x.dpps(xmm0, xmm1, 0xa5));
        assert_eq!(c.xmm[0], v4([s(2.0 * 20.0 + 4.0 * 40.0), 0, s(200.0), 0]));
    }

    #[test]
    fn approximations_are_close_and_deterministic() {
        let c = ok(&[(1, v4([s(3.0), s(0.0), s(-0.0), INF32]))], MXCSR, |x| {
            x.rcpps(xmm0, xmm1)
        });
        let r = f32::from_bits(lo32(c.xmm[0]));
        assert!((r - 1.0 / 3.0).abs() < 1.0 / 3.0 * 1.5 / 4096.0, "{r}");
        assert_eq!(
            c.xmm[0] >> 32,
            v4([INF32, INF32 | 1 << 31, 0, 0]) & ((1 << 96) - 1)
        );
        let c = ok(&[(1, v4([s(4.0), s(-1.0), 0, 1]))], MXCSR, |x| {
            x.rsqrtps(xmm0, xmm1)
        });
        let r = f32::from_bits(lo32(c.xmm[0]));
        assert!((r - 0.5).abs() < 0.5 * 1.5 / 4096.0, "{r}");
        assert_eq!((c.xmm[0] >> 32) as u32, DEFNAN32);
        assert_eq!(c.mxcsr, MXCSR, "no flags");
    }
}

mod compares {
    use super::*;

    #[test]
    fn cmpps_predicates() {
        let a = v4([s(1.0), s(1.0), QNAN32, s(-0.0)]);
        let b = v4([s(1.0), s(2.0), s(1.0), s(0.0)]);
        let expect = |pred: u32| -> [u32; 4] {
            // (1 == 1, 1 < 2, NaN unordered, -0 == 0)
            let t = [
                [1, 0, 0, 1], // EQ
                [0, 1, 0, 0], // LT
                [1, 1, 0, 1], // LE
                [0, 0, 1, 0], // UNORD
                [0, 1, 1, 0], // NEQ
                [1, 0, 1, 1], // NLT
                [0, 0, 1, 0], // NLE
                [1, 1, 0, 1], // ORD
            ];
            t[pred as usize].map(|x| if x == 1 { u32::MAX } else { 0 })
        };
        for pred in 0..8u32 {
            let c = ok(&[(0, a), (1, b)], MXCSR, |x| {
                x.cmpps(xmm0, xmm1, pred | 0xf8)
            });
            assert_eq!(c.xmm[0], v4(expect(pred)), "predicate {pred}");
            // The ordered predicates (LT, LE, NLT, NLE) signal on a QNaN.
            let ie = matches!(pred, 1 | 2 | 5 | 6) as u32;
            assert_eq!(c.mxcsr & 0x3f, ie, "predicate {pred}");
        }
    }

    #[test]
    fn comis_and_ucomis_flags() {
        let run = |a: u64, b: u64, signalling: bool| {
            let c = ok(&[(0, a as u128), (1, b as u128)], MXCSR, |x| {
                x.stc()?;
                if signalling {
                    x.comisd(xmm0, xmm1)
                } else {
                    x.ucomisd(xmm0, xmm1)
                }
            });
            (c.rflags() & flag::STATUS, c.mxcsr & 0x3f)
        };
        assert_eq!(run(d(1.0), d(2.0), false), (flag::CF, 0));
        assert_eq!(run(d(2.0), d(1.0), false), (0, 0));
        assert_eq!(run(d(0.0), d(-0.0), false), (flag::ZF, 0));
        let un = flag::ZF | flag::PF | flag::CF;
        assert_eq!(run(QNAN64, d(1.0), false), (un, 0));
        assert_eq!(run(QNAN64, d(1.0), true), (un, IE));
        assert_eq!(run(SNAN64, d(1.0), false), (un, IE));
        assert_eq!(run(1, d(1.0), false), (flag::CF, DE));
    }
}

mod conversions {
    use super::*;

    fn cvt2si32(x: f64, mxcsr: u32, trunc: bool) -> (u64, u32) {
        let c = ok(&[(1, d(x) as u128)], mxcsr, |a| {
            a.mov(rax, -1i64)?;
            if trunc {
                a.cvttsd2si(eax, xmm1)
            } else {
                a.cvtsd2si(eax, xmm1)
            }
        });
        (c.gpr[0], c.mxcsr & 0x3f)
    }

    fn cvtss2si64(x: u32, mxcsr: u32, trunc: bool) -> (u64, u32) {
        let c = ok(&[(1, x as u128)], mxcsr, |a| {
            if trunc {
                a.cvttss2si(rax, xmm1)
            } else {
                a.cvtss2si(rax, xmm1)
            }
        });
        (c.gpr[0], c.mxcsr & 0x3f)
    }

    #[test]
    fn float_to_int_limits_and_the_integer_indefinite() {
        assert_eq!(cvt2si32(2147483647.0, MXCSR, true), (0x7fff_ffff, 0));
        assert_eq!(cvt2si32(2147483648.0, MXCSR, true), (0x8000_0000, IE));
        assert_eq!(cvt2si32(-2147483648.0, MXCSR, true), (0x8000_0000, 0));
        assert_eq!(cvt2si32(-2147483648.9, MXCSR, true), (0x8000_0000, PE));
        assert_eq!(cvt2si32(-2147483649.0, MXCSR, true), (0x8000_0000, IE));
        assert_eq!(
            cvt2si32(2147483647.5, MXCSR, false),
            (0x8000_0000, IE),
            "rounds to 2^31"
        );
        assert_eq!(
            cvt2si32(2147483647.5, MXCSR | RC_DOWN, false),
            (0x7fff_ffff, PE)
        );
        assert_eq!(cvt2si32(f64::NAN, MXCSR, false), (0x8000_0000, IE));
        assert_eq!(cvt2si32(f64::NEG_INFINITY, MXCSR, true), (0x8000_0000, IE));
        assert_eq!(cvt2si32(2.5, MXCSR, false), (2, PE));
        assert_eq!(cvt2si32(3.5, MXCSR, false), (4, PE));
        assert_eq!(cvt2si32(-2.5, MXCSR, false), (-2i32 as u32 as u64, PE));
        assert_eq!(
            cvt2si32(-0.5, MXCSR | RC_DOWN, false),
            (u32::MAX as u64, PE)
        );
        assert_eq!(cvt2si32(0.5, MXCSR | RC_UP, false), (1, PE));
        assert_eq!(
            cvt2si32(-1.7, MXCSR | RC_ZERO, false),
            (u32::MAX as u64, PE)
        );
        assert_eq!(
            cvt2si32(-1.7, MXCSR | RC_UP, true),
            (u32::MAX as u64, PE),
            "cvtt ignores RC"
        );
        assert_eq!(
            cvt2si32(5e-324, MXCSR, false),
            (0, PE),
            "a denormal does not set DE"
        );
        assert_eq!(
            cvt2si32(5e-324, MXCSR | DAZ, false),
            (0, 0),
            "DAZ reads it as zero"
        );
        let two63 = s(9.223372e18);
        assert_eq!(cvtss2si64(two63, MXCSR, true), (1 << 63, IE));
        assert_eq!(cvtss2si64(two63 | 1 << 31, MXCSR, true), (1 << 63, 0));
        assert_eq!(
            cvtss2si64(0x5eff_ffff, MXCSR, true),
            (0x7fff_ff80_0000_0000, 0)
        );
    }

    #[test]
    fn int_to_float_rounds_by_mode() {
        let cvt = |v: u64, mxcsr: u32| {
            let c = ok(&[(0, u128::MAX)], mxcsr, |a| {
                a.mov(rax, v)?;
                a.cvtsi2ss(xmm0, rax)
            });
            (c.xmm[0], c.mxcsr & 0x3f)
        };
        let upper = u128::MAX << 32;
        assert_eq!(
            cvt((1 << 24) + 1, MXCSR),
            (upper | s(16777216.0) as u128, PE)
        );
        assert_eq!(
            cvt((1 << 24) + 1, MXCSR | RC_UP),
            (upper | s(16777218.0) as u128, PE)
        );
        assert_eq!(cvt(u64::MAX, MXCSR), (upper | s(-1.0) as u128, 0));
        assert_eq!(cvt(1 << 63, MXCSR), (upper | 0xdf00_0000, 0));
        assert_eq!(cvt(0, MXCSR), (upper, 0), "+0");
        let c = ok(&[], MXCSR, |a| {
            a.mov(eax, 0x8000_0000u32)?;
            a.cvtsi2sd(xmm0, eax)
        });
        assert_eq!(lo64(c.xmm[0]), d(-2147483648.0));
    }

    #[test]
    fn float_to_float() {
        let c = ok(&[(1, v2([0x7ff4_0000_dead_beef, 0]))], MXCSR, |a| {
            a.cvtsd2ss(xmm0, xmm1)
        });
        assert_eq!(lo32(c.xmm[0]), 0x7fe0_0006, "payload's top bits, quieted");
        assert_eq!(c.mxcsr & 0x3f, IE);
        let c = ok(&[(1, v2([d(1e300), d(-1e-300)]))], MXCSR, |a| {
            a.cvtpd2ps(xmm0, xmm1)
        });
        assert_eq!(c.xmm[0], v4([INF32, 0x8000_0000, 0, 0]));
        assert_eq!(c.mxcsr & 0x3f, OE | UE | PE);
        let c = ok(&[(1, v4([SNAN32, 1, 0, 0]))], MXCSR, |a| {
            a.cvtps2pd(xmm0, xmm1)
        });
        assert_eq!(
            c.xmm[0],
            v2([0x7ff8_0000_2000_0000, d(f32::from_bits(1) as f64)])
        );
        assert_eq!(c.mxcsr & 0x3f, IE | DE);
        let c = ok(&[(1, v2([d(-1.5), d(1e10)]))], MXCSR, |a| {
            a.cvtpd2dq(xmm0, xmm1)
        });
        assert_eq!(
            c.xmm[0],
            v4([-2i32 as u32, 0x8000_0000, 0, 0]),
            "upper half zeroed"
        );
        let c = ok(
            &[(1, v4([s(-1.5), s(2.5), INF32, 0x4f00_0000]))],
            MXCSR,
            |a| a.cvttps2dq(xmm0, xmm1),
        );
        assert_eq!(c.xmm[0], v4([-1i32 as u32, 2, 0x8000_0000, 0x8000_0000]));
    }

    #[test]
    fn round_instructions() {
        let r = |x: f64, imm: u32, mxcsr: u32| {
            let c = ok(&[(1, d(x) as u128)], mxcsr, |a| a.roundsd(xmm0, xmm1, imm));
            (f64::from_bits(lo64(c.xmm[0])), c.mxcsr & 0x3f)
        };
        assert_eq!(r(2.5, 0, MXCSR), (2.0, PE));
        assert_eq!(r(-2.5, 1, MXCSR), (-3.0, PE));
        assert_eq!(r(2.1, 2, MXCSR), (3.0, PE));
        assert_eq!(r(-2.9, 3, MXCSR), (-2.0, PE));
        assert_eq!(r(2.5, 8, MXCSR), (2.0, 0), "imm bit 3 suppresses PE");
        assert_eq!(
            r(2.5, 4, MXCSR | RC_UP),
            (3.0, PE),
            "imm bit 2 selects MXCSR.RC"
        );
        let (z, f) = r(-0.3, 0, MXCSR);
        assert_eq!((z.to_bits(), f), (d(-0.0), PE));
        assert_eq!(r(1e300, 0, MXCSR), (1e300, 0));
        let c = ok(&[(1, v4([SNAN32, s(0.5), s(1.5), INF32]))], MXCSR, |a| {
            a.roundps(xmm0, xmm1, 0)
        });
        assert_eq!(c.xmm[0], v4([0x7fc0_0001, 0, s(2.0), INF32]));
        assert_eq!(c.mxcsr & 0x3f, IE | PE);
    }
}

mod packed_int {
    use super::*;

    fn bin(a: u128, b: u128, op: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> u128 {
        ok(&[(0, a), (1, b)], MXCSR, op).xmm[0]
    }

    fn bytes(b: &[u8]) -> u128 {
        let mut x = [0u8; 16];
        x[..b.len()].copy_from_slice(b);
        u128::from_le_bytes(x)
    }

    fn words(w: &[u16]) -> u128 {
        w.iter()
            .enumerate()
            .fold(0, |v, (k, &x)| v | (x as u128) << (16 * k))
    }

    #[test]
    fn saturation_limits() {
        let a = bytes(&[0x7f, 0x80, 0xff, 0x00, 200, 100]);
        let b = bytes(&[0x01, 0xff, 0x01, 0x01, 100, 200]);
        assert_eq!(
            bin(a, b, |x| x.paddsb(xmm0, xmm1)),
            bytes(&[0x7f, 0x80, 0x00, 0x01, 0x2c, 0x2c])
        );
        assert_eq!(
            bin(a, b, |x| x.paddusb(xmm0, xmm1)),
            bytes(&[0x80, 0xff, 0xff, 0x01, 0xff, 0xff])
        );
        assert_eq!(
            bin(a, b, |x| x.psubusb(xmm0, xmm1)),
            bytes(&[0x7e, 0x00, 0xfe, 0x00, 100, 0])
        );
        assert_eq!(
            bin(a, b, |x| x.psubsb(xmm0, xmm1)),
            bytes(&[0x7e, 0x81, 0xfe, 0xff, 0x80, 0x7f])
        );
        let w = words(&[0xffff, 300, 0x7fff, 0x8000, 255, 0, 1, 256]);
        assert_eq!(
            bin(w, 0, |x| x.packuswb(xmm0, xmm1)),
            bytes(&[0, 255, 255, 0, 255, 0, 1, 255])
        );
        assert_eq!(
            bin(w, 0, |x| x.packsswb(xmm0, xmm1)),
            bytes(&[0xff, 0x7f, 0x7f, 0x80, 0x7f, 0, 1, 0x7f])
        );
        let dw = v4([0xffff_ffff, 70000, 0x8000_0000, 65535]);
        assert_eq!(
            bin(dw, 0, |x| x.packusdw(xmm0, xmm1)),
            words(&[0, 0xffff, 0, 0xffff])
        );
        assert_eq!(
            bin(dw, 0, |x| x.packssdw(xmm0, xmm1)),
            words(&[0xffff, 0x7fff, 0x8000, 0x7fff])
        );
    }

    #[test]
    fn multiplies() {
        let a = words(&[0x8000, 0x4000, 0xffff, 3, 0x7fff]);
        let b = words(&[0x8000, 0x4000, 0xffff, 5, 0x7fff]);
        assert_eq!(
            bin(a, b, |x| x.pmulhw(xmm0, xmm1)),
            words(&[0x4000, 0x1000, 0, 0, 0x3fff])
        );
        assert_eq!(
            bin(a, b, |x| x.pmulhuw(xmm0, xmm1)),
            words(&[0x4000, 0x1000, 0xfffe, 0, 0x3fff])
        );
        assert_eq!(
            bin(a, b, |x| x.pmullw(xmm0, xmm1)),
            words(&[0, 0, 1, 15, 1])
        );
        assert_eq!(
            bin(a, b, |x| x.pmulhrsw(xmm0, xmm1)),
            words(&[0x8000, 0x2000, 0, 0, 0x7ffe])
        );
        assert_eq!(
            bin(a, b, |x| x.pmaddwd(xmm0, xmm1)),
            v4([0x5000_0000, 1 + 15, 0x3fff_0001, 0])
        );
        let u = bytes(&[255, 255, 1, 2]);
        let sgn = bytes(&[127, 127, 0x80, 0x80]);
        assert_eq!(
            bin(u, sgn, |x| x.pmaddubsw(xmm0, xmm1)),
            words(&[0x7fff, (-384i16) as u16])
        );
        let q = v4([0xffff_ffff, 7, 2, 9]);
        assert_eq!(
            bin(q, q, |x| x.pmuludq(xmm0, xmm1)),
            v2([0xffff_fffe_0000_0001, 4])
        );
        assert_eq!(bin(q, q, |x| x.pmuldq(xmm0, xmm1)), v2([1, 4]));
        assert_eq!(bin(q, q, |x| x.pmulld(xmm0, xmm1)), v4([1, 49, 4, 81]));
    }

    #[test]
    fn averages_sad_min_max_abs_sign() {
        let a = bytes(&[0, 255, 1, 0x80]);
        let b = bytes(&[1, 255, 2, 0x7f]);
        assert_eq!(
            bin(a, b, |x| x.pavgb(xmm0, xmm1)),
            bytes(&[1, 255, 2, 0x80])
        );
        assert_eq!(bin(a, b, |x| x.psadbw(xmm0, xmm1)), v2([3, 0]));
        assert_eq!(
            bin(a, b, |x| x.pminub(xmm0, xmm1)),
            bytes(&[0, 255, 1, 0x7f])
        );
        assert_eq!(
            bin(a, b, |x| x.pminsb(xmm0, xmm1)),
            bytes(&[0, 255, 1, 0x80])
        );
        assert_eq!(
            bin(a, b, |x| x.pmaxsb(xmm0, xmm1)),
            bytes(&[1, 255, 2, 0x7f])
        );
        let d4 = v4([0x8000_0000, 5, 0xffff_fffb, 0]);
        assert_eq!(
            bin(0, d4, |x| x.pabsd(xmm0, xmm1)),
            v4([0x8000_0000, 5, 5, 0])
        );
        let sg = v4([1, 0xffff_ffff, 0, 0xffff_ffff]);
        assert_eq!(
            bin(d4, sg, |x| x.psignd(xmm0, xmm1)),
            v4([0x8000_0000, 0xffff_fffb, 0, 0])
        );
        assert_eq!(bin(d4, d4, |x| x.pminud(xmm0, xmm1)), d4);
        let h = words(&[1, 2, 0x7fff, 1, 5, 6, 7, 8]);
        assert_eq!(
            bin(h, h, |x| x.phaddw(xmm0, xmm1)),
            words(&[3, 0x8000, 11, 15, 3, 0x8000, 11, 15])
        );
        assert_eq!(
            bin(h, h, |x| x.phaddsw(xmm0, xmm1)),
            words(&[3, 0x7fff, 11, 15, 3, 0x7fff, 11, 15])
        );
        let m = words(&[9, 4, 7, 4, 0xffff, 5, 6, 8]);
        assert_eq!(bin(0, m, |x| x.phminposuw(xmm0, xmm1)), 4 | 1 << 16);
    }

    #[test]
    fn compares_64_bit() {
        let a = v2([5, 1 << 63]);
        let b = v2([5, 1]);
        assert_eq!(bin(a, b, |x| x.pcmpeqq(xmm0, xmm1)), v2([u64::MAX, 0]));
        assert_eq!(bin(a, b, |x| x.pcmpgtq(xmm0, xmm1)), v2([0, 0]));
        assert_eq!(bin(b, a, |x| x.pcmpgtq(xmm0, xmm1)), v2([0, u64::MAX]));
    }
}

mod shuffles {
    use super::*;

    fn bin(a: u128, b: u128, op: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> u128 {
        ok(&[(0, a), (1, b)], MXCSR, op).xmm[0]
    }

    const A: u128 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
    const B: u128 = 0x1f1e_1d1c_1b1a_1918_1716_1514_1312_1110;

    #[test]
    fn byte_shuffles() {
        let sel =
            u128::from_le_bytes([15, 0x80, 1, 0x8f, 0, 0, 0, 0, 3, 3, 3, 3, 16, 17, 31, 0x7f]);
        let r = bin(A, sel, |x| x.pshufb(xmm0, xmm1)).to_le_bytes();
        assert_eq!(r, [15, 0, 1, 0, 0, 0, 0, 0, 3, 3, 3, 3, 0, 1, 15, 15]);
        assert_eq!(bin(A, B, |x| x.palignr(xmm0, xmm1, 0)), B);
        assert_eq!(bin(A, B, |x| x.palignr(xmm0, xmm1, 16)), A);
        assert_eq!(
            bin(A, B, |x| x.palignr(xmm0, xmm1, 4)),
            (B >> 32) | (A << 96)
        );
        assert_eq!(bin(A, B, |x| x.palignr(xmm0, xmm1, 20)), A >> 32);
        assert_eq!(bin(A, B, |x| x.palignr(xmm0, xmm1, 32)), 0);
    }

    #[test]
    fn shufps_blends_insertps() {
        let a = v4([0, 1, 2, 3]);
        let b = v4([10, 11, 12, 13]);
        assert_eq!(
            bin(a, b, |x| x.shufps(xmm0, xmm1, 0b00_01_10_11)),
            v4([3, 2, 11, 10])
        );
        assert_eq!(
            bin(v2([1, 2]), v2([3, 4]), |x| x.shufpd(xmm0, xmm1, 0b01)),
            v2([2, 3])
        );
        assert_eq!(
            bin(a, b, |x| x.blendps(xmm0, xmm1, 0b0101)),
            v4([10, 1, 12, 3])
        );
        assert_eq!(
            bin(a, b, |x| x.insertps(xmm0, xmm1, 0b1001_0100)),
            v4([0, 12, 0, 3])
        );
        let c = ok(
            &[(0, v4([1 << 31, 0, 1 << 31, 0])), (1, a), (2, b)],
            MXCSR,
            |x| x.blendvps(xmm1, xmm2),
        );
        assert_eq!(c.xmm[1], v4([10, 1, 12, 3]));
    }

    #[test]
    fn inserts_extracts_extensions() {
        let c = ok(&[(0, A)], MXCSR, |x| {
            x.mov(rax, 0x1122_3344_5566_7788u64)?;
            x.pinsrb(xmm0, eax, 17)?; // lane 17 mod 16 = 1
            x.pextrb(ebx, xmm0, 1)?;
            x.pextrq(rcx, xmm0, 1)?;
            x.mov(rdx, -1i64)?;
            x.extractps(edx, xmm0, 3)?;
            x.pinsrq(xmm0, rax, 0)
        });
        assert_eq!(c.gpr[3], 0x88);
        assert_eq!(c.gpr[1], 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(c.gpr[2], 0x0f0e_0d0c, "extractps zero-extends");
        assert_eq!(lo64(c.xmm[0]), 0x1122_3344_5566_7788);
        let sx = bytes16(&[0x80, 0x7f, 0xff, 1]);
        assert_eq!(
            ok(&[(1, sx)], MXCSR, |x| x.pmovsxbd(xmm0, xmm1)).xmm[0],
            v4([0xffff_ff80, 0x7f, u32::MAX, 1])
        );
        assert_eq!(
            ok(&[(1, sx)], MXCSR, |x| x.pmovzxbq(xmm0, xmm1)).xmm[0],
            v2([0x80, 0x7f])
        );
    }

    fn bytes16(b: &[u8]) -> u128 {
        let mut x = [0u8; 16];
        x[..b.len()].copy_from_slice(b);
        u128::from_le_bytes(x)
    }

    #[test]
    fn moves_merge_or_zero() {
        let data: Vec<u8> = (0..32).collect();
        let r = exec(
            &[(0, u128::MAX), (1, u128::MAX), (2, 0x55)],
            MXCSR,
            &[],
            &data,
            |x| {
                x.movss(xmm0, dword_ptr(rsi))?; // load: upper lanes zeroed
                x.movss(xmm1, xmm2)?; // register: upper lanes kept
                x.movlps(xmm2, qword_ptr(rsi + 8))?;
                x.movddup(xmm3, qword_ptr(rsi + 1))?; // m64: no alignment rule
                x.movsd_2(qword_ptr(rsi + 16), xmm1)
            },
        );
        assert!(matches!(r.stop, Stop::Trap(Trap::Halt)), "{:?}", r.stop);
        assert_eq!(r.cpu.xmm[0], 0x0302_0100);
        assert_eq!(r.cpu.xmm[1], (u128::MAX << 32) | 0x55);
        assert_eq!(r.cpu.xmm[2], 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(r.cpu.xmm[3], 0x0807_0605_0403_0201_0807_0605_0403_0201);
        assert_eq!(r.mem.read_u64(DATA + 16).unwrap(), 0xffff_ffff_0000_0055);
        let c = ok(&[(1, v4([1 << 31, 0, 1 << 31, 1 << 31]))], MXCSR, |x| {
            x.movmskps(eax, xmm1)
        });
        assert_eq!(c.gpr[0], 0b1101);
    }
}

mod strings_crc_ptest {
    use super::*;

    fn text(t: &[u8]) -> u128 {
        let mut b = [0u8; 16];
        b[..t.len()].copy_from_slice(t);
        u128::from_le_bytes(b)
    }

    #[test]
    fn pcmpistri_idioms() {
        // strlen: equal-each against zero finds the terminator; ZF: b has one.
        let c = ok(&[(0, 0), (1, text(b"hello"))], MXCSR, |x| {
            x.pcmpistri(xmm0, xmm1, 0x08)
        });
        assert_eq!(c.gpr[1], 5);
        // strchr-like: equal any of "lo"; CF set, ZF set (terminator in b), SF
        // set (terminator in a).
        let c = ok(&[(0, text(b"lo")), (1, text(b"hello"))], MXCSR, |x| {
            x.pcmpistri(xmm0, xmm1, 0x00)
        });
        assert_eq!(c.gpr[1], 2);
        assert_eq!(c.rflags() & flag::STATUS, flag::CF | flag::ZF | flag::SF);
        // Most significant index (imm bit 6).
        let c = ok(&[(0, text(b"lo")), (1, text(b"hello"))], MXCSR, |x| {
            x.pcmpistri(xmm0, xmm1, 0x40)
        });
        assert_eq!(c.gpr[1], 4);
        // Nothing found: index 16; a full 16-byte operand leaves ZF clear.
        let c = ok(
            &[(0, text(b"z")), (1, text(b"abcdefghijklmnop"))],
            MXCSR,
            |x| x.pcmpistri(xmm0, xmm1, 0x00),
        );
        assert_eq!(c.gpr[1], 16);
        assert_eq!(c.rflags() & flag::STATUS, flag::SF);
        // Substring search (equal ordered) and the byte mask output.
        let c = ok(&[(0, text(b"ll")), (1, text(b"hello"))], MXCSR, |x| {
            x.pcmpistrm(xmm0, xmm1, 0x4c)
        });
        assert_eq!(c.xmm[0], 0xff << 16);
    }

    #[test]
    fn pcmpestri_lengths_saturate_and_take_absolute_values() {
        let r = exec(
            &[(0, text(b"ab")), (1, text(b"xxab"))],
            MXCSR,
            &[(0, -2i64 as u64), (2, 100)],
            &[],
            |x| x.pcmpestri(xmm0, xmm1, 0x0c),
        );
        assert_eq!(r.cpu.gpr[1], 2);
        assert_eq!(r.cpu.rflags() & flag::STATUS, flag::CF | flag::SF);
    }

    #[test]
    fn pcmpistri_memory_operand_needs_no_alignment() {
        let data = b"..needle in haystack\0".to_vec();
        let r = exec(&[(0, text(b"in"))], MXCSR, &[], &data, |x| {
            x.pcmpistri(xmm0, xmmword_ptr(rsi + 3), 0x0c)
        });
        assert!(matches!(r.stop, Stop::Trap(Trap::Halt)), "{:?}", r.stop);
        assert_eq!(r.cpu.gpr[1], 6);
    }

    #[test]
    fn crc32_matches_the_castagnoli_check_value() {
        let data = b"123456789".to_vec();
        let r = exec(&[], MXCSR, &[], &data, |x| {
            x.mov(eax, -1i32)?;
            x.crc32(eax, dword_ptr(rsi))?;
            x.crc32(eax, word_ptr(rsi + 4))?;
            x.crc32(eax, byte_ptr(rsi + 6))?;
            x.mov(bx, word_ptr(rsi + 7))?;
            x.crc32(eax, bx)?;
            x.not(eax)
        });
        assert_eq!(r.cpu.gpr[0], 0xe306_9283);
    }

    #[test]
    fn ptest_sets_zf_and_cf_only() {
        let f = |a: u128, b: u128| {
            let c = ok(&[(0, a), (1, b)], MXCSR, |x| {
                x.stc()?;
                x.ptest(xmm0, xmm1)
            });
            c.rflags() & flag::STATUS
        };
        assert_eq!(f(0xf0, 0x0f), flag::ZF);
        assert_eq!(f(0xff, 0x0f), flag::CF);
        assert_eq!(f(0xf0, 0x1f), 0);
        assert_eq!(f(0, 0), flag::ZF | flag::CF);
    }
}

mod faults_and_mxcsr {
    use super::*;

    #[test]
    fn packed_memory_operands_must_be_aligned() {
        let t = trap_of(&exec(&[], MXCSR, &[], &[0; 64], |x| {
            x.addps(xmm0, xmmword_ptr(rsi + 8))
        }));
        assert_eq!(t, Trap::MisalignedAccess { addr: DATA + 8 });
        let t = trap_of(&exec(&[], MXCSR, &[], &[0; 64], |x| {
            x.pshufb(xmm0, xmmword_ptr(rsi + 1))
        }));
        assert_eq!(t, Trap::MisalignedAccess { addr: DATA + 1 });
        // Scalar and explicitly unaligned forms do not care.
        let r = exec(&[], MXCSR, &[], &[0; 64], |x| {
            x.addss(xmm0, dword_ptr(rsi + 1))?;
            x.lddqu(xmm1, xmmword_ptr(rsi + 3))?;
            x.pmovzxbw(xmm1, qword_ptr(rsi + 5))?;
            x.cvtps2pd(xmm2, qword_ptr(rsi + 7))
        });
        assert!(matches!(r.stop, Stop::Trap(Trap::Halt)), "{:?}", r.stop);
    }

    #[test]
    fn ldmxcsr_stmxcsr_and_reserved_bits() {
        let data = 0x7fc0u32
            .to_le_bytes()
            .iter()
            .chain(&[0u8; 4])
            .copied()
            .collect::<Vec<_>>();
        let r = exec(&[], MXCSR, &[], &data, |x| {
            x.ldmxcsr(dword_ptr(rsi))?;
            x.stmxcsr(dword_ptr(rsi + 4))
        });
        assert_eq!(r.cpu.mxcsr, 0x7fc0);
        assert_eq!(r.mem.read_u32(DATA + 4).unwrap(), 0x7fc0);
        let data = 0x1_1f80u32.to_le_bytes().to_vec();
        let t = trap_of(&exec(&[], MXCSR, &[], &data, |x| x.ldmxcsr(dword_ptr(rsi))));
        assert!(matches!(t, Trap::GeneralProtection { .. }), "{t:?}");
    }

    #[test]
    fn unmasked_exceptions_trap_and_leave_the_destination() {
        // ZM cleared: division by zero traps.
        let r = exec(
            &[(0, d(1.0) as u128), (1, 0)],
            MXCSR & !(ZE << 7),
            &[],
            &[],
            |x| x.divsd(xmm0, xmm1),
        );
        assert_eq!(trap_of(&r), Trap::SimdFloatException { flags: ZE });
        assert_eq!(r.cpu.xmm[0], d(1.0) as u128);
        assert_eq!(r.cpu.mxcsr & 0x3f, ZE);
        // A masked exception does not.
        let r = exec(
            &[(0, d(1.0) as u128), (1, 0)],
            MXCSR & !(PE << 7),
            &[],
            &[],
            |x| x.divsd(xmm0, xmm1),
        );
        assert!(matches!(r.stop, Stop::Trap(Trap::Halt)), "{:?}", r.stop);
    }
}

mod identity {
    use super::*;

    #[test]
    fn cpuid_reports_exactly_the_sse_levels_implemented() {
        let c = ok(&[], MXCSR, |x| {
            x.mov(eax, 1)?;
            x.cpuid()
        });
        let c1 = c.gpr[1] as u32;
        let d1 = c.gpr[2] as u32;
        // SSE3, SSSE3, CX16, SSE4.1, SSE4.2, POPCNT; no OSXSAVE/AVX/FMA/MOVBE.
        assert_eq!(c1, 1 | 1 << 9 | 1 << 13 | 1 << 19 | 1 << 20 | 1 << 23);
        assert_eq!(d1 & (1 << 25 | 1 << 26), 1 << 25 | 1 << 26, "SSE, SSE2");
        assert_eq!(d1 & (1 << 23 | 1 << 24), 0, "no MMX, no FXSR");
    }

    #[test]
    fn mmx_forms_trap_as_unsupported() {
        let r = exec(&[], MXCSR, &[], &[], |x| x.paddb(mm0, mm1));
        assert!(matches!(trap_of(&r), Trap::UnsupportedInstruction { .. }));
        let r = exec(&[], MXCSR, &[], &[], |x| x.pshufb(mm0, mm1));
        assert!(matches!(trap_of(&r), Trap::UnsupportedInstruction { .. }));
    }
}
