//! Per-family instruction tests with edge values, checked against values worked
//! out from the Intel SDM (the native differential test checks the same families
//! against the host CPU with random values).

use iced_x86::code_asm::*;
use x64vm::cpu::{Cpu, flag};
use x64vm::interp::{CodeCache, NoTrace, Stop, run};
use x64vm::mem::{Memory, perm};
use x64vm::trap::Trap;

const CODE: u64 = 0x10000;
const DATA: u64 = 0x20000;
const STACK_TOP: u64 = 0x30000;

struct Run {
    cpu: Cpu,
    mem: Memory,
    stop: Stop,
}

/// Assembles `body` + `hlt` at CODE, runs it from the given registers and returns
/// the final state. DATA..DATA+0x8000 is read/write (the stack sits at its top).
fn exec(
    regs: &[(usize, u64)],
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
    let mut cpu = Cpu::default();
    cpu.gpr[4] = STACK_TOP - 0x100;
    for &(r, v) in regs {
        cpu.gpr[r] = v;
    }
    cpu.rip = CODE;
    cpu.gas = 1 << 40;
    let stop = run(&mut cpu, &mut mem, &mut CodeCache::default(), &mut NoTrace);
    Run { cpu, mem, stop }
}

/// Runs and requires the snippet to reach its final `hlt`.
fn ok(
    regs: &[(usize, u64)],
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Cpu {
    let r = exec(regs, body);
    assert!(
        matches!(r.stop, Stop::Trap(Trap::Halt)),
        "stopped with {:?}",
        r.stop
    );
    r.cpu
}

fn trap(
    regs: &[(usize, u64)],
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Trap {
    match exec(regs, body).stop {
        Stop::Trap(t) => t,
        s => panic!("expected a trap, got {s:?}"),
    }
}

const RAX: usize = 0;
const RCX: usize = 1;
const RDX: usize = 2;
const RBX: usize = 3;
const RSI: usize = 6;
const RDI: usize = 7;

fn flags(c: &Cpu) -> u64 {
    c.rflags() & flag::STATUS
}

mod arith {
    use super::*;

    #[test]
    fn add_sign_and_carry_boundaries() {
        let c = ok(&[(RAX, 0x7f), (RBX, 1)], |a| a.add(al, bl));
        assert_eq!(c.gpr[RAX], 0x80);
        assert_eq!(flags(&c), flag::OF | flag::SF | flag::AF);
        let c = ok(&[(RAX, 0xff), (RBX, 1)], |a| a.add(al, bl));
        assert_eq!(c.gpr[RAX], 0);
        assert_eq!(flags(&c), flag::CF | flag::ZF | flag::PF | flag::AF);
        let c = ok(&[(RAX, u64::MAX), (RBX, u64::MAX)], |a| a.add(rax, rbx));
        assert_eq!(c.gpr[RAX], u64::MAX - 1);
        assert!(c.cf() && !c.of() && c.sf());
        let c = ok(&[(RAX, i64::MIN as u64), (RBX, i64::MIN as u64)], |a| {
            a.add(rax, rbx)
        });
        assert_eq!(c.gpr[RAX], 0);
        assert!(c.cf() && c.of() && c.zf());
    }

    #[test]
    fn sub_cmp_and_borrows() {
        let c = ok(&[(RAX, 0)], |a| a.sub(eax, 1));
        assert_eq!(c.gpr[RAX], 0xffff_ffff, "32-bit result zero-extends");
        assert!(c.cf() && c.sf() && !c.of());
        let c = ok(&[(RAX, i32::MIN as u32 as u64)], |a| a.cmp(eax, 1));
        assert!(c.of() && !c.cf());
        let c = ok(&[(RAX, 5), (RBX, 3)], |a| {
            a.stc()?;
            a.sbb(rax, rbx)
        });
        assert_eq!(c.gpr[RAX], 1);
        let c = ok(&[(RAX, 3), (RBX, 3)], |a| {
            a.stc()?;
            a.sbb(rax, rbx)
        });
        assert_eq!(c.gpr[RAX], u64::MAX);
        assert!(c.cf(), "borrow when a == b with carry in");
        let c = ok(&[(RAX, u64::MAX), (RBX, 0)], |a| {
            a.stc()?;
            a.adc(rax, rbx)
        });
        assert_eq!(c.gpr[RAX], 0);
        assert!(c.cf() && c.zf());
    }

    #[test]
    fn inc_dec_keep_carry_neg_edges() {
        let c = ok(&[(RAX, 0x7fff)], |a| {
            a.stc()?;
            a.inc(ax)
        });
        assert_eq!(c.gpr[RAX], 0x8000);
        assert!(c.cf() && c.of());
        let c = ok(&[(RAX, 0)], |a| {
            a.clc()?;
            a.dec(rax)
        });
        assert_eq!(c.gpr[RAX], u64::MAX);
        assert!(!c.cf() && c.sf());
        let c = ok(&[(RAX, 0)], |a| a.neg(rax));
        assert!(!c.cf() && c.zf());
        let c = ok(&[(RAX, 0x80)], |a| a.neg(al));
        assert_eq!(c.gpr[RAX], 0x80);
        assert!(c.cf() && c.of());
    }

    #[test]
    fn logic_clears_cf_of() {
        let c = ok(&[(RAX, u64::MAX), (RBX, 1)], |a| {
            a.stc()?;
            a.and(rax, rbx)
        });
        assert_eq!(c.gpr[RAX], 1);
        assert_eq!(flags(&c), 0);
        let c = ok(&[(RAX, 0xf0f0)], |a| a.xor(eax, eax));
        assert_eq!(c.gpr[RAX], 0);
        assert_eq!(flags(&c), flag::ZF | flag::PF);
        let c = ok(&[(RAX, 0x1234_5678_9abc_def0)], |a| a.not(eax));
        assert_eq!(c.gpr[RAX], 0x6543_210f);
        let c = ok(&[(RAX, 0x80)], |a| a.test(al, 0x80));
        assert!(c.sf() && !c.zf());
    }

    #[test]
    fn register_views_merge_and_zero_extend() {
        let c = ok(&[(RAX, 0x1111_2222_3333_4444), (RBX, 0xaa)], |a| {
            a.mov(ah, bl)?;
            a.mov(bh, 0x55)?;
            a.add(ax, 1)
        });
        assert_eq!(c.gpr[RAX], 0x1111_2222_3333_aa45);
        assert_eq!(c.gpr[RBX], 0x55aa);
        let c = ok(&[(RAX, u64::MAX), (RCX, u64::MAX)], |a| {
            a.mov(eax, 1)?;
            a.movzx(ecx, cl)
        });
        assert_eq!((c.gpr[RAX], c.gpr[RCX]), (1, 0xff));
        let c = ok(&[(RAX, 0x80), (RBX, 0x8000_0000)], |a| {
            a.movsx(rcx, al)?;
            a.movsxd(rdx, ebx)
        });
        assert_eq!(c.gpr[RCX], 0xffff_ffff_ffff_ff80);
        assert_eq!(c.gpr[RDX], 0xffff_ffff_8000_0000);
    }
}

mod muldiv {
    use super::*;

    #[test]
    fn mul_full_width_and_flags() {
        let c = ok(&[(RAX, u64::MAX), (RBX, u64::MAX)], |a| a.mul(rbx));
        assert_eq!((c.gpr[RAX], c.gpr[RDX]), (1, u64::MAX - 1));
        assert!(c.cf() && c.of());
        let c = ok(&[(RAX, 0x10), (RBX, 0x10)], |a| a.mul(bl));
        assert_eq!(c.gpr[RAX], 0x100);
        assert!(c.cf());
        let c = ok(&[(RAX, 2), (RBX, 3)], |a| a.mul(ebx));
        assert_eq!((c.gpr[RAX], c.gpr[RDX]), (6, 0));
        assert!(!c.cf() && !c.of());
    }

    #[test]
    fn imul_forms() {
        let c = ok(&[(RAX, -3i64 as u64), (RBX, 4)], |a| a.imul(rbx));
        assert_eq!((c.gpr[RAX], c.gpr[RDX]), (-12i64 as u64, u64::MAX));
        assert!(!c.cf());
        let c = ok(&[(RAX, 0x4000_0000), (RBX, 2)], |a| a.imul_2(eax, ebx));
        assert_eq!(c.gpr[RAX], 0x8000_0000);
        assert!(c.cf() && c.of());
        let c = ok(&[(RBX, i64::MIN as u64)], |a| a.imul_3(rax, rbx, -1));
        assert_eq!(c.gpr[RAX], i64::MIN as u64);
        assert!(c.of());
        let c = ok(&[(RBX, 7)], |a| a.imul_3(cx, bx, -2));
        assert_eq!(c.gpr[RCX] & 0xffff, (-14i16) as u16 as u64);
    }

    #[test]
    fn div_idiv_quotient_remainder_and_faults() {
        let c = ok(&[(RAX, 7), (RDX, 1), (RBX, 2)], |a| a.div(rbx));
        assert_eq!(c.gpr[RAX], (((1u128 << 64) + 7) / 2) as u64);
        assert_eq!(c.gpr[RDX], 1);
        let c = ok(&[(RAX, -7i64 as u64), (RDX, u64::MAX), (RBX, 2)], |a| {
            a.idiv(rbx)
        });
        assert_eq!((c.gpr[RAX] as i64, c.gpr[RDX] as i64), (-3, -1));
        let c = ok(&[(RAX, 0x0107), (RBX, 0x10)], |a| a.div(bl));
        assert_eq!(c.gpr[RAX] & 0xffff, 0x0710, "AL = quotient, AH = remainder");
        assert_eq!(trap(&[(RAX, 1)], |a| a.div(rbx)), Trap::DivisionByZero);
        assert_eq!(
            trap(
                &[(RAX, i64::MIN as u64), (RDX, u64::MAX), (RBX, u64::MAX)],
                |a| a.idiv(rbx)
            ),
            Trap::DivisionOverflow
        );
        assert_eq!(
            trap(&[(RDX, 1), (RBX, 1)], |a| a.div(rbx)),
            Trap::DivisionOverflow
        );
        assert_eq!(
            trap(&[(RAX, 0x8000), (RBX, 0xff)], |a| a.idiv(bl)),
            Trap::DivisionOverflow
        );
    }

    #[test]
    fn sign_extensions() {
        let c = ok(&[(RAX, 0x80)], |a| a.cbw());
        assert_eq!(c.gpr[RAX], 0xff80);
        let c = ok(&[(RAX, 0xffff_ffff_0000_8000)], |a| a.cwde());
        assert_eq!(c.gpr[RAX], 0xffff_8000);
        let c = ok(&[(RAX, 0x8000_0000)], |a| a.cdqe());
        assert_eq!(c.gpr[RAX], 0xffff_ffff_8000_0000);
        let c = ok(&[(RAX, i64::MIN as u64)], |a| a.cqo());
        assert_eq!(c.gpr[RDX], u64::MAX);
        let c = ok(&[(RAX, 0x7fff_ffff), (RDX, u64::MAX)], |a| a.cdq());
        assert_eq!(c.gpr[RDX], 0, "cdq writes EDX, zero-extending");
    }
}

mod shift {
    use super::*;

    #[test]
    fn count_zero_changes_nothing() {
        let c = ok(&[(RAX, 5), (RCX, 64)], |a| {
            a.stc()?;
            a.shl(rax, cl)
        });
        assert_eq!(c.gpr[RAX], 5);
        assert!(c.cf(), "count 64 masks to 0: flags unchanged");
    }

    #[test]
    fn shifts_at_widths() {
        let c = ok(&[(RAX, 0x81)], |a| a.shl(al, 1));
        assert_eq!(c.gpr[RAX], 0x02);
        assert!(c.cf() && c.of());
        let c = ok(&[(RAX, 1)], |a| a.shl(rax, 63));
        assert_eq!(c.gpr[RAX], 1 << 63);
        let c = ok(&[(RAX, 0xff)], |a| a.shl(al, 8));
        assert_eq!(c.gpr[RAX], 0);
        assert!(c.cf() && c.zf());
        let c = ok(&[(RAX, 0x8000_0000)], |a| a.sar(eax, 31));
        assert_eq!(c.gpr[RAX], 0xffff_ffff);
        let c = ok(&[(RAX, 0x80)], |a| a.shr(al, 7));
        assert_eq!(c.gpr[RAX], 1);
        let c = ok(&[(RAX, 3)], |a| a.shr(rax, 1));
        assert!(c.cf() && !c.of());
    }

    #[test]
    fn rotates() {
        let c = ok(&[(RAX, 0x8000_0000_0000_0001)], |a| a.rol(rax, 1));
        assert_eq!(c.gpr[RAX], 3);
        assert!(c.cf());
        let c = ok(&[(RAX, 1)], |a| a.ror(eax, 1));
        assert_eq!(c.gpr[RAX], 0x8000_0000);
        assert!(c.cf() && c.of());
        let c = ok(&[(RAX, 0x80)], |a| {
            a.clc()?;
            a.rcl(al, 1)
        });
        assert_eq!(c.gpr[RAX], 0);
        assert!(c.cf());
        let c = ok(&[(RAX, 0)], |a| {
            a.stc()?;
            a.rcr(al, 1)
        });
        assert_eq!(c.gpr[RAX], 0x80);
        assert!(!c.cf());
        let c = ok(&[(RAX, 0x01)], |a| {
            a.clc()?;
            a.rcl(al, 9)
        });
        assert_eq!(
            c.gpr[RAX], 0x01,
            "9-bit rotation through CF is the identity"
        );
    }

    #[test]
    fn double_shifts() {
        let c = ok(&[(RAX, 0x1234), (RBX, 0xabcd_0000_0000_0000)], |a| {
            a.shld(rax, rbx, 16)
        });
        assert_eq!(c.gpr[RAX], 0x1234_abcd);
        let c = ok(&[(RAX, 0x1234_0000), (RBX, 0xbeef), (RCX, 16)], |a| {
            a.shrd(eax, ebx, cl)
        });
        assert_eq!(c.gpr[RAX], 0xbeef_1234);
    }
}

mod bits {
    use super::*;

    #[test]
    fn scans_and_counts() {
        let c = ok(&[(RBX, 0x10), (RCX, 0xdead)], |a| {
            a.bsf(rax, rbx)?;
            a.bsr(rdx, rbx)?;
            a.popcnt(rsi, rcx)
        });
        assert_eq!((c.gpr[RAX], c.gpr[RDX], c.gpr[RSI]), (4, 4, 11));
        let c = ok(&[(RAX, 77), (RBX, 0)], |a| a.bsf(rax, rbx));
        assert_eq!(c.gpr[RAX], 77, "destination unchanged for a zero source");
        assert!(c.zf());
        let c = ok(&[(RBX, 0)], |a| a.lzcnt(eax, ebx));
        assert_eq!(c.gpr[RAX], 32);
        assert!(c.cf());
        let c = ok(&[(RBX, 1 << 63)], |a| a.tzcnt(rax, rbx));
        assert_eq!(c.gpr[RAX], 63);
        let c = ok(&[(RBX, 1)], |a| a.lzcnt(ax, bx));
        assert_eq!(c.gpr[RAX], 15);
    }

    #[test]
    fn bit_tests_including_bit_string_addressing() {
        let c = ok(&[(RAX, 0b1010), (RBX, 65)], |a| {
            a.bt(rax, rbx)?;
            a.setc(cl)?;
            a.bts(rax, 0)
        });
        assert_eq!(
            c.gpr[RCX] & 0xff,
            1,
            "register offsets wrap modulo the width"
        );
        assert_eq!(c.gpr[RAX], 0b1011);
        let r = exec(&[(RAX, DATA + 0x100), (RBX, -1i64 as u64)], |a| {
            a.bts(qword_ptr(rax), rbx)
        });
        assert_eq!(
            r.mem.read_u64(DATA + 0xf8).unwrap(),
            1 << 63,
            "bit -1 is in the previous qword"
        );
        let c = ok(&[(RAX, 0x1122_3344_5566_7788)], |a| a.bswap(rax));
        assert_eq!(c.gpr[RAX], 0x8877_6655_4433_2211);
        let c = ok(&[(RAX, 0xffff_ffff_1122_3344)], |a| a.bswap(eax));
        assert_eq!(c.gpr[RAX], 0x4433_2211);
    }
}

mod data_movement {
    use super::*;

    #[test]
    fn cmov_zero_extends_even_when_false() {
        let c = ok(&[(RAX, u64::MAX), (RBX, 1)], |a| {
            a.cmp(rbx, 1)?;
            a.cmovne(eax, ebx)
        });
        assert_eq!(c.gpr[RAX], 0xffff_ffff);
    }

    #[test]
    fn xchg_xadd_cmpxchg() {
        let c = ok(&[(RAX, 1), (RBX, 2)], |a| {
            a.xchg(rax, rbx)?;
            a.xadd(rax, rbx)
        });
        assert_eq!((c.gpr[RAX], c.gpr[RBX]), (3, 2));
        let c = ok(&[(RAX, 5), (RBX, 5), (RCX, 9)], |a| a.cmpxchg(rbx, rcx));
        assert_eq!(c.gpr[RBX], 9);
        assert!(c.zf());
        let c = ok(&[(RAX, 4), (RBX, 5), (RCX, 9)], |a| a.cmpxchg(rbx, rcx));
        assert_eq!((c.gpr[RAX], c.gpr[RBX]), (5, 5));
        assert!(!c.zf());
    }

    #[test]
    fn cmpxchg16b_and_alignment() {
        let regs = [
            (RDI, DATA + 0x10),
            (RAX, 0),
            (RDX, 0),
            (RBX, 0xb),
            (RCX, 0xc),
        ];
        let r = exec(&regs, |a| a.cmpxchg16b(xmmword_ptr(rdi)));
        assert_eq!(r.mem.read_u128(DATA + 0x10).unwrap(), (0xc << 64) | 0xb);
        assert!(r.cpu.zf());
        let regs = [(RDI, DATA + 0x18)];
        assert!(matches!(
            trap(&regs, |a| a.cmpxchg16b(xmmword_ptr(rdi))),
            Trap::MisalignedAccess { .. }
        ));
    }

    #[test]
    fn push_pop_enter_leave() {
        let c = ok(&[(RAX, 7)], |a| {
            a.push(rsp)?;
            a.pop(rbx)?;
            a.push(rax)?;
            a.pop(rcx)?;
            a.push(-1)?;
            a.pop(rdx)
        });
        assert_eq!(
            c.gpr[RBX],
            STACK_TOP - 0x100,
            "push rsp pushes the old value"
        );
        assert_eq!(c.gpr[RCX], 7);
        assert_eq!(c.gpr[RDX], u64::MAX);
        let c = ok(&[(5, 0x1234)], |a| {
            a.enter(0x20, 0)?;
            a.mov(rax, rbp)?;
            a.leave()
        });
        assert_eq!(c.gpr[RAX], STACK_TOP - 0x108);
        assert_eq!(c.gpr[5], 0x1234);
        assert_eq!(c.gpr[4], STACK_TOP - 0x100);
    }

    #[test]
    fn lea_forms() {
        let c = ok(&[(RBX, 0x1000), (RCX, 3)], |a| {
            a.lea(rax, qword_ptr(rbx + rcx * 8 - 8))?;
            a.lea(edx, dword_ptr(rbx + rcx * 4 + 0x7fff_fff0))
        });
        assert_eq!(c.gpr[RAX], 0x1010);
        assert_eq!(c.gpr[RDX], (0x1000u64 + 12 + 0x7fff_fff0) & 0xffff_ffff);
    }
}

mod control {
    use super::*;

    #[test]
    fn jump_table_call_ret_and_all_conditions() {
        let c = ok(&[(RAX, 2)], |a| {
            let mut targets = [a.create_label(), a.create_label(), a.create_label()];
            let mut done = a.create_label();
            let mut func = a.create_label();
            let mut start = a.create_label();
            a.jmp(start)?;
            for (k, t) in targets.iter_mut().enumerate() {
                a.set_label(t)?;
                a.mov(rcx, k as u64 * 10)?;
                a.jmp(done)?;
            }
            a.set_label(&mut func)?;
            a.mov(rdx, 99u64)?;
            a.ret()?;
            a.set_label(&mut start)?;
            // Build the table in data memory, then dispatch through it.
            a.mov(rbx, DATA + 0x200)?;
            for (k, t) in targets.iter().enumerate() {
                a.lea(rsi, qword_ptr(*t))?;
                a.mov(qword_ptr(rbx + (k as i32) * 8), rsi)?;
            }
            a.jmp(qword_ptr(rbx + rax * 8))?;
            a.set_label(&mut done)?;
            a.call(func)
        });
        assert_eq!((c.gpr[RCX], c.gpr[RDX]), (20, 99));
    }

    #[test]
    fn conditions_after_signed_and_unsigned_compare() {
        // cmp -1, 1: below is false (unsigned 0xff.. > 1), less is true.
        let c = ok(&[(RAX, u64::MAX), (RBX, 1)], |a| {
            a.cmp(rax, rbx)?;
            a.setb(cl)?;
            a.setl(dl)?;
            a.seta(sil)?;
            a.setg(dil)
        });
        assert_eq!(
            [c.gpr[RCX], c.gpr[RDX], c.gpr[RSI], c.gpr[RDI]].map(|v| v & 0xff),
            [0, 1, 1, 0]
        );
    }

    #[test]
    fn loop_counts_down() {
        let c = ok(&[(RCX, 5)], |a| {
            let mut top = a.create_label();
            a.set_label(&mut top)?;
            a.inc(rax)?;
            a.loop_(top)
        });
        assert_eq!((c.gpr[RAX], c.gpr[RCX]), (5, 0));
    }
}

mod string {
    use super::*;

    #[test]
    fn rep_movs_stos_scas_cmps() {
        let r = exec(&[(RDI, DATA), (RAX, 0x41), (RCX, 10)], |a| {
            a.rep().stosb()?;
            a.mov(rsi, DATA)?;
            a.mov(rdi, DATA + 0x100)?;
            a.mov(rcx, 10u64)?;
            a.rep().movsb()?;
            a.mov(rdi, DATA)?;
            a.mov(rcx, 0x20u64)?;
            a.xor(eax, eax)?;
            a.repne().scasb()
        });
        assert_eq!(r.mem.read_bytes(DATA + 0x100, 10).unwrap(), vec![0x41; 10]);
        assert_eq!(
            r.cpu.gpr[RDI],
            DATA + 11,
            "scasb stops after the first zero"
        );
        let c = ok(&[(RSI, DATA), (RDI, DATA + 0x100), (RCX, 4)], |a| {
            a.mov(byte_ptr(DATA + 0x102), 0x42)?;
            a.repe().cmpsb()
        });
        assert_eq!(c.gpr[RCX], 1, "stops after the mismatch at index 2");
        assert!(!c.zf());
    }

    #[test]
    fn backwards_and_overlapping_copies() {
        let r = exec(&[(RSI, DATA + 7), (RDI, DATA + 15), (RCX, 8)], |a| {
            for k in 0..8u32 {
                a.mov(byte_ptr(DATA + k as u64), k + 1)?;
            }
            a.std()?;
            a.rep().movsb()?;
            a.cld()?;
            // Overlapping forward copy replicates the first byte.
            a.mov(rsi, DATA)?;
            a.mov(rdi, DATA + 1)?;
            a.mov(rcx, 4u64)?;
            a.rep().movsb()
        });
        assert_eq!(
            r.mem.read_bytes(DATA + 8, 8).unwrap(),
            vec![1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(r.mem.read_bytes(DATA, 5).unwrap(), vec![1, 1, 1, 1, 1]);
    }

    #[test]
    fn huge_rep_count_runs_out_of_gas() {
        let r = exec(&[(RDI, DATA), (RCX, u64::MAX)], |a| a.rep().stosb());
        assert!(matches!(r.stop, Stop::Trap(Trap::OutOfGas)));
    }
}

mod system {
    use super::*;

    #[test]
    fn cpuid_is_fixed() {
        let c = ok(&[], |a| a.cpuid());
        let vendor: Vec<u8> = [c.gpr[RBX], c.gpr[RDX], c.gpr[RCX]]
            .iter()
            .flat_map(|r| (*r as u32).to_le_bytes())
            .collect();
        assert_eq!(&vendor, x64vm::isa::CPUID_VENDOR);
    }

    #[test]
    fn rdtsc_counts_instructions() {
        let c = ok(&[], |a| {
            a.rdtsc()?;
            a.mov(rbx, rax)?;
            let mut next = a.create_label();
            a.jmp(next)?;
            a.set_label(&mut next)?;
            a.rdtsc()
        });
        assert!(
            c.gpr[RAX] > c.gpr[RBX],
            "advances with retired instructions"
        );
        let a1 = ok(&[], |a| a.rdtsc());
        let a2 = ok(&[], |a| a.rdtsc());
        assert_eq!(a1.gpr[RAX], a2.gpr[RAX], "deterministic");
    }

    #[test]
    fn flag_instructions() {
        let c = ok(&[], |a| {
            a.stc()?;
            a.cmc()?;
            a.setc(al)?;
            a.std()?;
            a.pushfq()?;
            a.pop(rbx)?;
            a.cld()?;
            a.mov(ah, 0xd5)?;
            a.sahf()?;
            a.lahf()
        });
        assert_eq!(c.gpr[RAX] & 0xff, 0);
        assert_ne!(c.gpr[RBX] & flag::DF, 0);
        assert_eq!(
            (c.gpr[RAX] >> 8) & 0xff,
            0xd7,
            "lahf reads back SF ZF AF PF CF and bit 1"
        );
    }

    #[test]
    fn traps_for_ud2_hlt_int3() {
        assert_eq!(trap(&[], |a| a.ud2()), Trap::InvalidOpcode);
        assert_eq!(trap(&[], |a| a.int3()), Trap::Breakpoint);
    }
}
