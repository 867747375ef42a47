//! The specialised handlers (`isa::fast`) against the generic path (`isa::exec`),
//! instruction by instruction.
//!
//! Each shape below runs from many random states twice: through the handler the
//! translator picks and through the generic `exec`. The two must leave the same
//! CPU (compared through `Debug`, so including the lazy-flag record itself, not
//! only the flags derived from it), the same memory and the same result (traps
//! included). The same states also run through the threaded loop (`interp::run`),
//! whose outcome must match the generic path in registers, every flag and
//! condition code, memory and trap. Memory operands point at readable and
//! writable data, across page ends, at read-only and inaccessible pages and
//! outside the arena; flags start both materialised and lazy (left by add, sub,
//! adc, sbb, logic ops, inc, dec and shifts of every width).
//!
//! Shapes marked `fast` must get a specialised handler: the test also checks that
//! the translator picks one, so that it really compares two implementations.

use iced_x86::code_asm::*;
use iced_x86::{Decoder, DecoderOptions};
use x64vm::cpu::Cpu;
use x64vm::interp::{CodeCache, NoTrace, Stop, run};
use x64vm::ir::Inst;
use x64vm::isa::{Exit, exec, exec_threaded, handlers_for};
use x64vm::mem::{Memory, perm};
use x64vm::translate::translate;

const CODE: u64 = 0x10000;
/// Read/write data: DATA..DATA + DATA_LEN.
const DATA: u64 = 0x20000;
const DATA_LEN: u64 = 0x4000;
/// A read-only page right after the data.
const RO: u64 = DATA + DATA_LEN;
/// An inaccessible page after that.
const NONE: u64 = RO + 0x1000;
/// Arena size from CODE (ends after NONE).
const ARENA: u64 = NONE + 0x1000 - CODE;
/// Where the flag-producing instruction sits.
const PRODUCER: u64 = CODE + 0x800;

/// Memory operand displacement used by every template.
const DISP: u64 = 0x10;

struct Rng(u64);

impl Rng {
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
    /// Edge values at every width, and random ones.
    fn value(&mut self) -> u64 {
        let edges = [
            0,
            1,
            2,
            0x7f,
            0x80,
            0xff,
            0x7fff,
            0x8000,
            0xffff,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            i64::MAX as u64,
            i64::MIN as u64,
            u64::MAX,
            u64::MAX - 1,
        ];
        match self.below(4) {
            0 => edges[self.below(edges.len() as u64) as usize],
            1 => self.next() & 0xff,
            _ => self.next(),
        }
    }
}

type Body = fn(&mut CodeAssembler) -> Result<(), IcedError>;

/// One instruction shape.
struct Shape {
    name: &'static str,
    body: Body,
    /// Must get a specialised handler.
    fast: bool,
    /// The memory operand is `[rbx + rcx*2 + DISP]` (else `[rbx + DISP]`, if any).
    index: bool,
}

fn assemble(at: u64, body: Body) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    body(&mut a).unwrap();
    a.assemble(at).unwrap()
}

fn decode(at: u64, bytes: &[u8]) -> Inst {
    let mut d = Decoder::with_ip(64, bytes, at, DecoderOptions::NONE);
    let ins = d.decode();
    assert_eq!(ins.len(), bytes.len(), "one instruction");
    translate(&ins)
}

/// Instructions that leave the flags in each lazy form (and a materialised one).
const PRODUCERS: &[Body] = &[
    |a| a.add(r10, r11),
    |a| a.add(r10d, r11d),
    |a| a.add(r10w, r11w),
    |a| a.add(r10b, r11b),
    |a| a.sub(r10, r11),
    |a| a.sub(r10d, r11d),
    |a| a.sub(r10b, r11b),
    |a| a.adc(r10, r11),
    |a| a.adc(r10w, r11w),
    |a| a.sbb(r10d, r11d),
    |a| a.sbb(r10b, r11b),
    |a| a.and(r10, r11),
    |a| a.xor(r10d, r11d),
    |a| a.or(r10b, r11b),
    |a| a.inc(r10),
    |a| a.dec(r10d),
    |a| a.inc(r10w),
    |a| a.neg(r10b),
    |a| a.shl(r10, 3),
    |a| a.ror(r10d, 1),
    |a| a.imul_2(r10, r11),
];

/// The initial state of one case: registers, flags, XMM registers and data.
fn setup(rng: &mut Rng, shape: &Shape) -> (Cpu, Memory) {
    let mut mem = Memory::new(CODE, ARENA).unwrap();
    mem.protect(DATA, DATA_LEN, perm::RW).unwrap();
    let data: Vec<u8> = (0..DATA_LEN + 0x1000).map(|_| rng.value() as u8).collect();
    mem.load(DATA, &data).unwrap();
    mem.protect(RO, 0x1000, perm::R).unwrap();
    let mut cpu = Cpu::default();
    for g in cpu.gpr.iter_mut() {
        *g = rng.value();
    }
    for x in cpu.xmm.iter_mut() {
        *x = (rng.value() as u128) << 64 | rng.value() as u128;
    }
    cpu.gpr[4] = DATA + DATA_LEN / 2;
    // The memory operand's target.
    let target = match rng.below(12) {
        0 => DATA + 0x1000 - 1 - rng.below(8), // across a page end
        1 => RO + rng.below(0x1000),           // read-only
        2 => NONE + rng.below(0x1000),         // inaccessible
        3 => CODE + ARENA + rng.below(0x100),  // outside the arena
        4 => rng.next(),
        5..=7 => DATA + (rng.below(DATA_LEN) & !15), // 16-byte aligned
        _ => DATA + rng.below(DATA_LEN - 16),
    };
    let mut base = target.wrapping_sub(DISP);
    if shape.index {
        let x = rng.below(8);
        cpu.gpr[1] = x;
        base = base.wrapping_sub(x * 2);
    }
    cpu.gpr[3] = base;
    // Flags: materialised, or left lazily by a producer.
    if rng.below(4) == 0 {
        cpu.set_rflags(rng.next());
    } else {
        let body = PRODUCERS[rng.below(PRODUCERS.len() as u64) as usize];
        let p = decode(PRODUCER, &assemble(PRODUCER, body));
        let (mut c, mut m) = (cpu.clone(), mem.clone());
        c.set_rflags(rng.next());
        exec(&mut c, &mut m, &p).unwrap();
        // Keep the producer's flags, not its register write.
        let g = cpu.gpr;
        cpu = c;
        cpu.gpr = g;
    }
    (cpu, mem)
}

fn exit_text(r: &Result<(), Box<Exit>>) -> String {
    format!("{r:?}")
}

/// Everything later instructions can observe of the flags.
fn flag_view(c: &Cpu) -> Vec<bool> {
    let mut v = vec![c.cf(), c.pf(), c.af(), c.zf(), c.sf(), c.of()];
    v.extend((0..16).map(|cc| c.cond(cc)));
    v
}

fn data(m: &Memory) -> Vec<u8> {
    m.read_bytes(DATA, DATA_LEN + 0x1000).unwrap()
}

fn check(shape: &Shape, cases: usize, seed: u64) {
    let bytes = assemble(CODE, shape.body);
    let inst = decode(CODE, &bytes);
    let h = handlers_for(&inst);
    let specialised = h.threaded as usize != (exec_threaded as x64vm::isa::Threaded) as usize;
    assert_eq!(
        specialised, shape.fast,
        "{}: specialised handler expected: {}",
        shape.name, shape.fast
    );
    let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
    for case in 0..cases {
        let (cpu, mut mem) = setup(&mut rng, shape);
        let mut code = bytes.clone();
        code.push(0xf4); // hlt
        mem.load(CODE, &code).unwrap();
        mem.protect(CODE, 0x1000, perm::RX).unwrap();

        // The generic path.
        let (mut gc, mut gm) = (cpu.clone(), mem.clone());
        let gr = exec(&mut gc, &mut gm, &inst);
        // The selected handler, alone.
        let (mut fc, mut fm) = (cpu.clone(), mem.clone());
        let fr = (h.step)(&mut fc, &mut fm, &inst);
        let what = || format!("{} case {case}\ninitial {cpu:?}", shape.name);
        assert_eq!(exit_text(&fr), exit_text(&gr), "result: {}", what());
        assert_eq!(format!("{fc:?}"), format!("{gc:?}"), "cpu: {}", what());
        assert!(data(&fm) == data(&gm), "memory: {}", what());

        // The threaded loop: the instruction, then `hlt`.
        let (mut tc, mut tm) = (cpu.clone(), mem.clone());
        tc.rip = CODE;
        tc.gas = 1 << 20;
        let stop = run(&mut tc, &mut tm, &mut CodeCache::default(), &mut NoTrace);
        match (&stop, &gr) {
            (Stop::Trap(x64vm::trap::Trap::Halt), Ok(())) => {
                assert_eq!(tc.rip, inst.next(), "rip: {}", what());
            }
            (Stop::Trap(t), Err(e)) => {
                assert_eq!(format!("Trap({t:?})"), format!("{e:?}"), "trap: {}", what());
                assert_eq!(tc.rip, CODE, "trap address: {}", what());
            }
            _ => panic!("threaded {stop:?}, generic {gr:?}: {}", what()),
        }
        assert_eq!(tc.gpr, gc.gpr, "threaded registers: {}", what());
        assert_eq!(tc.xmm, gc.xmm, "threaded xmm: {}", what());
        assert_eq!(tc.rflags(), gc.rflags(), "threaded rflags: {}", what());
        assert_eq!(flag_view(&tc), flag_view(&gc), "threaded flags: {}", what());
        assert!(data(&tm) == data(&gm), "threaded memory: {}", what());
    }
}

macro_rules! shapes {
    ($($fast:ident $index:ident $name:literal => |$a:ident| $e:expr;)*) => {
        vec![$(Shape {
            name: $name,
            body: |$a| $e,
            fast: shapes!(@b $fast),
            index: shapes!(@b $index),
        },)*]
    };
    (@b fast) => { true };
    (@b slow) => { false };
    (@b idx) => { true };
    (@b base) => { false };
}

fn run_all(shapes: Vec<Shape>) {
    let cases = std::env::var("X64VM_FAST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for (k, s) in shapes.iter().enumerate() {
        check(s, cases, k as u64 + 1);
    }
}

#[test]
fn byte_and_word_alu_and_moves() {
    run_all(shapes![
        fast base "mov al, bl" => |a| a.mov(al, bl);
        fast base "mov sil, r9b" => |a| a.mov(sil, r9b);
        fast base "mov al, imm" => |a| a.mov(al, -1);
        fast base "mov al, [rbx+d]" => |a| a.mov(al, byte_ptr(rbx + DISP));
        fast base "mov [rbx+d], dl" => |a| a.mov(byte_ptr(rbx + DISP), dl);
        fast base "mov byte [rbx+d], imm" => |a| a.mov(byte_ptr(rbx + DISP), 1);
        fast idx "mov byte [rbx+rcx*2+d], imm" => |a| a.mov(byte_ptr(rbx + rcx * 2 + DISP), 0x7f);
        fast idx "mov dl, [rbx+rcx*2+d]" => |a| a.mov(dl, byte_ptr(rbx + rcx * 2 + DISP));
        fast base "mov ax, bx" => |a| a.mov(ax, bx);
        fast base "mov r9w, imm" => |a| a.mov(r9w, 0x1234);
        fast base "mov [rbx+d], r8w" => |a| a.mov(word_ptr(rbx + DISP), r8w);
        fast base "mov si, [rbx+d]" => |a| a.mov(si, word_ptr(rbx + DISP));
        fast idx "mov word [rbx+rcx*2+d], imm" => |a| a.mov(word_ptr(rbx + rcx * 2 + DISP), -2);
        slow base "mov ah, bl" => |a| a.mov(ah, bl);
        slow base "mov al, bh" => |a| a.mov(al, bh);
        slow base "mov [rbx+d], ch" => |a| a.mov(byte_ptr(rbx + DISP), ch);
        fast base "add al, bl" => |a| a.add(al, bl);
        fast base "add dil, imm" => |a| a.add(dil, 0x7f);
        fast base "add [rbx+d], dl" => |a| a.add(byte_ptr(rbx + DISP), dl);
        fast base "add dl, [rbx+d]" => |a| a.add(dl, byte_ptr(rbx + DISP));
        fast base "add word [rbx+d], imm" => |a| a.add(word_ptr(rbx + DISP), -0x80);
        fast idx "add [rbx+rcx*2+d], ax" => |a| a.add(word_ptr(rbx + rcx * 2 + DISP), ax);
        fast base "sub al, bl" => |a| a.sub(al, bl);
        fast base "sub ax, imm" => |a| a.sub(ax, 0x7fff);
        fast base "sub byte [rbx+d], imm" => |a| a.sub(byte_ptr(rbx + DISP), 1);
        fast base "sub r10w, [rbx+d]" => |a| a.sub(r10w, word_ptr(rbx + DISP));
        fast base "and al, imm" => |a| a.and(al, -0x10);
        fast base "and [rbx+d], cl" => |a| a.and(byte_ptr(rbx + DISP), cl);
        fast base "and dx, [rbx+d]" => |a| a.and(dx, word_ptr(rbx + DISP));
        fast base "or bl, dl" => |a| a.or(bl, dl);
        fast base "or word [rbx+d], imm" => |a| a.or(word_ptr(rbx + DISP), 0x100);
        fast idx "or al, [rbx+rcx*2+d]" => |a| a.or(al, byte_ptr(rbx + rcx * 2 + DISP));
        fast base "xor al, al" => |a| a.xor(al, al);
        fast base "xor si, di" => |a| a.xor(si, di);
        fast base "xor byte [rbx+d], imm" => |a| a.xor(byte_ptr(rbx + DISP), -1);
        fast base "cmp al, bl" => |a| a.cmp(al, bl);
        fast base "cmp byte [rbx+d], 0" => |a| a.cmp(byte_ptr(rbx + DISP), 0);
        fast idx "cmp byte [rbx+rcx*2+d], 0" => |a| a.cmp(byte_ptr(rbx + rcx * 2 + DISP), 0);
        fast base "cmp dl, [rbx+d]" => |a| a.cmp(dl, byte_ptr(rbx + DISP));
        fast base "cmp [rbx+d], ax" => |a| a.cmp(word_ptr(rbx + DISP), ax);
        fast base "cmp r8w, imm" => |a| a.cmp(r8w, -1);
        fast base "test al, bl" => |a| a.test(al, bl);
        fast base "test al, imm" => |a| a.test(al, 0x40);
        fast base "test [rbx+d], dl" => |a| a.test(byte_ptr(rbx + DISP), dl);
        fast base "test word [rbx+d], imm" => |a| a.test(word_ptr(rbx + DISP), 0x8001);
        slow base "cmp ah, 1" => |a| a.cmp(ah, 1);
        slow base "adc al, bl" => |a| a.adc(al, bl);
    ]);
}

#[test]
fn extensions() {
    run_all(shapes![
        fast base "movzx eax, bl" => |a| a.movzx(eax, bl);
        fast base "movzx rax, sil" => |a| a.movzx(rax, sil);
        fast base "movzx eax, bx" => |a| a.movzx(eax, bx);
        fast base "movzx r9, r10w" => |a| a.movzx(r9, r10w);
        fast base "movzx eax, byte [rbx+d]" => |a| a.movzx(eax, byte_ptr(rbx + DISP));
        fast base "movzx rdx, word [rbx+d]" => |a| a.movzx(rdx, word_ptr(rbx + DISP));
        fast idx "movzx eax, byte [rbx+rcx*2+d]" => |a| a.movzx(eax, byte_ptr(rbx + rcx * 2 + DISP));
        fast base "movsx eax, bl" => |a| a.movsx(eax, bl);
        fast base "movsx rax, dil" => |a| a.movsx(rax, dil);
        fast base "movsx ecx, dx" => |a| a.movsx(ecx, dx);
        fast base "movsx rax, word [rbx+d]" => |a| a.movsx(rax, word_ptr(rbx + DISP));
        fast idx "movsx edx, byte [rbx+rcx*2+d]" => |a| a.movsx(edx, byte_ptr(rbx + rcx * 2 + DISP));
        fast base "movsxd rax, ebx" => |a| a.movsxd(rax, ebx);
        fast base "movsxd rdx, [rbx+d]" => |a| a.movsxd(rdx, dword_ptr(rbx + DISP));
        slow base "movzx eax, ah" => |a| a.movzx(eax, ah);
        slow base "movzx ax, bl" => |a| a.movzx(ax, bl);
        slow base "movsx si, byte [rbx+d]" => |a| a.movsx(si, byte_ptr(rbx + DISP));
    ]);
}

#[test]
fn shifts_and_rotates() {
    run_all(shapes![
        fast base "shl eax, 0" => |a| a.shl(eax, 0);
        fast base "shl eax, 1" => |a| a.shl(eax, 1);
        fast base "shl eax, 7" => |a| a.shl(eax, 7);
        fast base "shl eax, 31" => |a| a.shl(eax, 31);
        fast base "shl eax, 32" => |a| a.shl(eax, 32);
        fast base "shl rax, 1" => |a| a.shl(rax, 1);
        fast base "shl rax, 33" => |a| a.shl(rax, 33);
        fast base "shl rax, 63" => |a| a.shl(rax, 63);
        fast base "shl rax, 64" => |a| a.shl(rax, 64);
        fast base "shl r9d, cl" => |a| a.shl(r9d, cl);
        fast base "shl rdx, cl" => |a| a.shl(rdx, cl);
        fast base "shr eax, 1" => |a| a.shr(eax, 1);
        fast base "shr eax, 31" => |a| a.shr(eax, 31);
        fast base "shr eax, 255" => |a| a.shr(eax, 255);
        fast base "shr rax, 0x21" => |a| a.shr(rax, 0x21);
        fast base "shr rax, 63" => |a| a.shr(rax, 63);
        fast base "shr esi, cl" => |a| a.shr(esi, cl);
        fast base "shr r11, cl" => |a| a.shr(r11, cl);
        fast base "sar eax, 1" => |a| a.sar(eax, 1);
        fast base "sar eax, 31" => |a| a.sar(eax, 31);
        fast base "sar rax, 5" => |a| a.sar(rax, 5);
        fast base "sar rax, 63" => |a| a.sar(rax, 63);
        fast base "sar edi, cl" => |a| a.sar(edi, cl);
        fast base "sar rax, cl" => |a| a.sar(rax, cl);
        fast base "rol eax, 1" => |a| a.rol(eax, 1);
        fast base "rol r12d, 7" => |a| a.rol(r12d, 7);
        fast base "rol eax, 32" => |a| a.rol(eax, 32);
        fast base "rol rax, 1" => |a| a.rol(rax, 1);
        fast base "rol rax, 63" => |a| a.rol(rax, 63);
        fast base "rol ebx, cl" => |a| a.rol(ebx, cl);
        fast base "ror eax, 1" => |a| a.ror(eax, 1);
        fast base "ror r12d, 11" => |a| a.ror(r12d, 11);
        fast base "ror edx, 31" => |a| a.ror(edx, 31);
        fast base "ror rax, 1" => |a| a.ror(rax, 1);
        fast base "ror rax, 0x30" => |a| a.ror(rax, 0x30);
        fast base "ror r8, cl" => |a| a.ror(r8, cl);
        slow base "shl al, 3" => |a| a.shl(al, 3);
        slow base "rol ax, 1" => |a| a.rol(ax, 1);
        slow base "shl dword [rbx+d], 3" => |a| a.shl(dword_ptr(rbx + DISP), 3);
        slow base "rcl eax, 1" => |a| a.rcl(eax, 1);
    ]);
}

#[test]
fn unary_ops_and_imul() {
    run_all(shapes![
        fast base "inc eax" => |a| a.inc(eax);
        fast base "inc rax" => |a| a.inc(rax);
        fast base "inc dword [rbx+d]" => |a| a.inc(dword_ptr(rbx + DISP));
        fast base "dec r9d" => |a| a.dec(r9d);
        fast base "dec rcx" => |a| a.dec(rcx);
        fast base "dec qword [rbx+d]" => |a| a.dec(qword_ptr(rbx + DISP));
        fast base "neg eax" => |a| a.neg(eax);
        fast base "neg rax" => |a| a.neg(rax);
        fast base "neg qword [rbx+d]" => |a| a.neg(qword_ptr(rbx + DISP));
        fast base "not r12d" => |a| a.not(r12d);
        fast base "not rax" => |a| a.not(rax);
        fast base "not dword [rbx+d]" => |a| a.not(dword_ptr(rbx + DISP));
        slow base "inc al" => |a| a.inc(al);
        slow idx "neg dword [rbx+rcx*2+d]" => |a| a.neg(dword_ptr(rbx + rcx * 2 + DISP));
        fast base "imul eax, ebx" => |a| a.imul_2(eax, ebx);
        fast base "imul rax, rcx" => |a| a.imul_2(rax, rcx);
        fast base "imul rax, [rbx+d]" => |a| a.imul_2(rax, qword_ptr(rbx + DISP));
        fast idx "imul edx, [rbx+rcx*2+d]" => |a| a.imul_2(edx, dword_ptr(rbx + rcx * 2 + DISP));
        fast base "imul eax, ebx, imm" => |a| a.imul_3(eax, ebx, -3);
        fast base "imul rax, rdx, imm" => |a| a.imul_3(rax, rdx, 0x7fff_ffff);
        fast base "imul r9, [rbx+d], imm" => |a| a.imul_3(r9, qword_ptr(rbx + DISP), 100);
        slow base "imul ax, bx" => |a| a.imul_2(ax, bx);
    ]);
}

#[test]
fn cmov_setcc_nop() {
    run_all(shapes![
        fast base "cmovo eax, ebx" => |a| a.cmovo(eax, ebx);
        fast base "cmovno rax, rbx" => |a| a.cmovno(rax, rbx);
        fast base "cmovb eax, ecx" => |a| a.cmovb(eax, ecx);
        fast base "cmovae rax, rdx" => |a| a.cmovae(rax, rdx);
        fast base "cmove eax, ebx" => |a| a.cmove(eax, ebx);
        fast base "cmovne r8, r9" => |a| a.cmovne(r8, r9);
        fast base "cmovbe eax, ebx" => |a| a.cmovbe(eax, ebx);
        fast base "cmova rax, rbx" => |a| a.cmova(rax, rbx);
        fast base "cmovs eax, ebx" => |a| a.cmovs(eax, ebx);
        fast base "cmovns rax, rbx" => |a| a.cmovns(rax, rbx);
        fast base "cmovp eax, ebx" => |a| a.cmovp(eax, ebx);
        fast base "cmovnp rax, rbx" => |a| a.cmovnp(rax, rbx);
        fast base "cmovl eax, ebx" => |a| a.cmovl(eax, ebx);
        fast base "cmovge rax, rbx" => |a| a.cmovge(rax, rbx);
        fast base "cmovle eax, ebx" => |a| a.cmovle(eax, ebx);
        fast base "cmovg rax, rbx" => |a| a.cmovg(rax, rbx);
        fast base "cmovl rax, [rbx+d]" => |a| a.cmovl(rax, qword_ptr(rbx + DISP));
        fast idx "cmove edx, [rbx+rcx*2+d]" => |a| a.cmove(edx, dword_ptr(rbx + rcx * 2 + DISP));
        slow base "cmove ax, bx" => |a| a.cmove(ax, bx);
        fast base "seto al" => |a| a.seto(al);
        fast base "setno bl" => |a| a.setno(bl);
        fast base "setb cl" => |a| a.setb(cl);
        fast base "setae dl" => |a| a.setae(dl);
        fast base "sete sil" => |a| a.sete(sil);
        fast base "setne dil" => |a| a.setne(dil);
        fast base "setbe r8b" => |a| a.setbe(r8b);
        fast base "seta r9b" => |a| a.seta(r9b);
        fast base "sets al" => |a| a.sets(al);
        fast base "setns al" => |a| a.setns(al);
        fast base "setp al" => |a| a.setp(al);
        fast base "setnp al" => |a| a.setnp(al);
        fast base "setl al" => |a| a.setl(al);
        fast base "setge al" => |a| a.setge(al);
        fast base "setle al" => |a| a.setle(al);
        fast base "setg r15b" => |a| a.setg(r15b);
        fast base "setne [rbx+d]" => |a| a.setne(byte_ptr(rbx + DISP));
        fast idx "setl [rbx+rcx*2+d]" => |a| a.setl(byte_ptr(rbx + rcx * 2 + DISP));
        slow base "sete ah" => |a| a.sete(ah);
        fast base "nop" => |a| a.nop();
        fast base "nop word [rax+rax]" => |a| a.nop_1(word_ptr(rax + rax));
    ]);
}

#[test]
fn sse_integer_ops() {
    run_all(shapes![
        fast base "movdqa xmm0, xmm1" => |a| a.movdqa(xmm0, xmm1);
        fast base "movaps xmm5, xmm2" => |a| a.movaps(xmm5, xmm2);
        fast base "movdqa xmm0, [rbx+d]" => |a| a.movdqa(xmm0, xmmword_ptr(rbx + DISP));
        fast base "movdqu xmm3, [rbx+d]" => |a| a.movdqu(xmm3, xmmword_ptr(rbx + DISP));
        fast base "movdqa [rbx+d], xmm1" => |a| a.movdqa(xmmword_ptr(rbx + DISP), xmm1);
        fast base "movups [rbx+d], xmm1" => |a| a.movups(xmmword_ptr(rbx + DISP), xmm1);
        fast idx "movaps xmm2, [rbx+rcx*2+d]" => |a| a.movaps(xmm2, xmmword_ptr(rbx + rcx * 2 + DISP));
        fast idx "movdqu [rbx+rcx*2+d], xmm0" => |a| a.movdqu(xmmword_ptr(rbx + rcx * 2 + DISP), xmm0);
        fast base "pxor xmm0, xmm1" => |a| a.pxor(xmm0, xmm1);
        fast base "por xmm2, xmm3" => |a| a.por(xmm2, xmm3);
        fast base "pand xmm0, xmm0" => |a| a.pand(xmm0, xmm0);
        fast base "xorps xmm1, xmm2" => |a| a.xorps(xmm1, xmm2);
        slow base "pxor xmm0, [rbx+d]" => |a| a.pxor(xmm0, xmmword_ptr(rbx + DISP));
        fast base "paddb xmm0, xmm1" => |a| a.paddb(xmm0, xmm1);
        fast base "paddw xmm0, xmm1" => |a| a.paddw(xmm0, xmm1);
        fast base "paddd xmm0, xmm1" => |a| a.paddd(xmm0, xmm1);
        fast base "paddq xmm0, xmm1" => |a| a.paddq(xmm0, xmm1);
        fast base "psubb xmm2, xmm1" => |a| a.psubb(xmm2, xmm1);
        fast base "psubw xmm2, xmm1" => |a| a.psubw(xmm2, xmm1);
        fast base "psubd xmm2, xmm1" => |a| a.psubd(xmm2, xmm1);
        fast base "psubq xmm2, xmm1" => |a| a.psubq(xmm2, xmm1);
        fast base "psllw xmm0, 0" => |a| a.psllw(xmm0, 0);
        fast base "psllw xmm0, 8" => |a| a.psllw(xmm0, 8);
        fast base "psllw xmm0, 16" => |a| a.psllw(xmm0, 16);
        fast base "pslld xmm1, 13" => |a| a.pslld(xmm1, 13);
        fast base "pslld xmm1, 32" => |a| a.pslld(xmm1, 32);
        fast base "psllq xmm1, 63" => |a| a.psllq(xmm1, 63);
        fast base "psllq xmm1, 200" => |a| a.psllq(xmm1, 200);
        fast base "psrlw xmm2, 8" => |a| a.psrlw(xmm2, 8);
        fast base "psrld xmm2, 19" => |a| a.psrld(xmm2, 19);
        fast base "psrld xmm2, 31" => |a| a.psrld(xmm2, 31);
        fast base "psrlq xmm2, 64" => |a| a.psrlq(xmm2, 64);
        fast base "psraw xmm3, 15" => |a| a.psraw(xmm3, 15);
        fast base "psraw xmm3, 16" => |a| a.psraw(xmm3, 16);
        fast base "psrad xmm3, 1" => |a| a.psrad(xmm3, 1);
        fast base "psrad xmm3, 255" => |a| a.psrad(xmm3, 255);
        slow base "psrld xmm3, xmm4" => |a| a.psrld(xmm3, xmm4);
        fast base "movq xmm5, [rbx+d]" => |a| a.movq(xmm5, qword_ptr(rbx + DISP));
        fast base "movd xmm5, [rbx+d]" => |a| a.movd(xmm5, dword_ptr(rbx + DISP));
        fast base "movq [rbx+d], xmm0" => |a| a.movq(qword_ptr(rbx + DISP), xmm0);
        fast idx "movd [rbx+rcx*2+d], xmm1" => |a| a.movd(dword_ptr(rbx + rcx * 2 + DISP), xmm1);
        fast idx "movq xmm2, [rbx+rcx*2+d]" => |a| a.movq(xmm2, qword_ptr(rbx + rcx * 2 + DISP));
        slow base "movq rax, xmm0" => |a| a.movq(rax, xmm0);
        fast base "punpcklbw xmm0, xmm1" => |a| a.punpcklbw(xmm0, xmm1);
        fast base "punpcklwd xmm0, xmm1" => |a| a.punpcklwd(xmm0, xmm1);
        fast base "punpckldq xmm0, xmm1" => |a| a.punpckldq(xmm0, xmm1);
        fast base "punpckhbw xmm2, xmm3" => |a| a.punpckhbw(xmm2, xmm3);
        fast base "punpckhwd xmm2, xmm3" => |a| a.punpckhwd(xmm2, xmm3);
        fast base "punpckhdq xmm2, xmm3" => |a| a.punpckhdq(xmm2, xmm3);
        fast base "punpckhqdq xmm2, xmm3" => |a| a.punpckhqdq(xmm2, xmm3);
        fast base "unpcklps xmm4, xmm4" => |a| a.unpcklps(xmm4, xmm4);
        fast base "unpckhpd xmm4, xmm1" => |a| a.unpckhpd(xmm4, xmm1);
        fast base "packsswb xmm0, xmm1" => |a| a.packsswb(xmm0, xmm1);
        fast base "packssdw xmm0, xmm1" => |a| a.packssdw(xmm0, xmm1);
        fast base "packuswb xmm1, xmm0" => |a| a.packuswb(xmm1, xmm0);
        fast base "packusdw xmm1, xmm1" => |a| a.packusdw(xmm1, xmm1);
        slow base "packuswb xmm1, [rbx+d]" => |a| a.packuswb(xmm1, xmmword_ptr(rbx + DISP));
    ]);
}
