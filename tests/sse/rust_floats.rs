//! The Rust counterpart of floats.c/ints.c for crates/x64vm/tests/sse_programs.rs:
//! `run(k)` returns a hash of sub-test k; natively `_start` runs them all and
//! writes the results to stdout.
#![no_std]
#![no_main]

const TESTS: u64 = 6;
const N: usize = 512;

fn mix(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x100000001b3).wrapping_add(0x9e3779b97f4a7c15)
}

fn next(s: &mut u64) -> u64 {
    *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *s >> 17
}

struct Data {
    d: [f64; N],
    e: [f64; N],
    f: [f32; N],
    i: [i32; N],
    b: [u8; N],
}

fn fill(k: u64, x: &mut Data) {
    let mut s = k * 31 + 5;
    for j in 0..N {
        x.d[j] = (next(&mut s) % 2_000_001) as f64 / 1024.0 - 976.5;
        x.e[j] = (next(&mut s) % 100_000) as f64 / 7.0 + 0.25;
        x.f[j] = x.d[j] as f32 * 0.3;
        x.i[j] = (next(&mut s) % 4_000_001) as i32 - 2_000_000;
        x.b[j] = next(&mut s) as u8;
    }
}

fn floats(x: &Data, mut h: u64) -> u64 {
    let dot: f64 = x.d.iter().zip(&x.e).map(|(a, b)| a * b).sum();
    let fdot: f32 = x.f.iter().map(|a| a * a).sum();
    let mn = x.d.iter().copied().fold(f64::INFINITY, f64::min);
    let mx = x.f.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    h = mix(h, dot.to_bits());
    h = mix(h, fdot.to_bits() as u64);
    h = mix(h, mn.to_bits());
    h = mix(h, mx.to_bits() as u64);
    for j in 0..N {
        let q = x.d[j] / x.e[j];
        h = mix(h, q.to_bits());
        h = mix(h, (q as i64) as u64);
        h = mix(h, (x.f[j] as i32) as u64);
        h = mix(h, (x.i[j] as f32).to_bits() as u64);
        h = mix(h, ((x.e[j] * 1e9) as u64).wrapping_add(x.d[j].abs().to_bits()));
        h = mix(h, (x.d[j] as f32).to_bits() as u64);
        h = mix(h, x.d[j].copysign(x.e[j] - 500.0).to_bits());
    }
    h
}

fn specials(mut h: u64) -> u64 {
    let z = core::hint::black_box(0.0f64);
    let v = [z / z, 1.0 / z, -1.0 / z, 5e-324, -0.0, 1e308, 2.5, -2.5, 9.3e18, -9.3e18];
    for a in v {
        for b in v {
            h = mix(h, (a + b).to_bits());
            h = mix(h, (a * b).to_bits());
            h = mix(h, a.min(b).to_bits());
            h = mix(h, a.max(b).to_bits());
            h = mix(h, (a < b) as u64 | ((a == b) as u64) << 1 | ((a > b) as u64) << 2);
        }
        h = mix(h, a as i64 as u64);
        h = mix(h, a as u32 as u64);
        h = mix(h, a as i8 as u64);
        h = mix(h, (a as f32).to_bits() as u64);
    }
    h
}

fn ints(x: &mut Data, mut h: u64) -> u64 {
    let sb: u32 = x.b.iter().map(|&v| v as u32).sum();
    let mx = x.i.iter().copied().max().unwrap_or(0);
    let mn = x.b.iter().copied().min().unwrap_or(0);
    for j in 0..N {
        x.b[j] = x.b[j].saturating_add(x.b[(j * 7) % N]);
    }
    for j in 0..N {
        x.i[j] = x.i[j].wrapping_mul(x.i[N - 1 - j]).wrapping_add(x.i[j] >> 3);
    }
    let cnt = x.b.iter().filter(|&&v| v > 128).count();
    let dot: i32 = x.i.iter().zip(x.b.iter()).map(|(&a, &b)| a.wrapping_mul(b as i32)).fold(0, i32::wrapping_add);
    for j in 0..N {
        h = mix(h, x.b[j] as u64 ^ (x.i[j] as u64) << 8);
    }
    mix(mix(mix(mix(mix(h, sb as u64), mx as u64), mn as u64), cnt as u64), dot as u64)
}

#[unsafe(no_mangle)]
pub extern "C" fn run(k: u64) -> u64 {
    let mut x = Data { d: [0.0; N], e: [0.0; N], f: [0.0; N], i: [0; N], b: [0; N] };
    fill(k, &mut x);
    let h = k;
    match k {
        0 => floats(&x, h),
        1 => specials(h),
        2 => ints(&mut x, h),
        3 => floats(&x, specials(h)),
        4 => {
            let h = ints(&mut x, h);
            floats(&x, h)
        }
        _ => {
            let h = floats(&x, h);
            specials(ints(&mut x, h))
        }
    }
}

static mut RESULTS: [u64; TESTS as usize] = [0; TESTS as usize];

#[unsafe(no_mangle)]
pub extern "C" fn start_rust() -> ! {
    // SAFETY: single-threaded; RESULTS is only touched here.
    unsafe {
        let r = &raw mut RESULTS;
        for k in 0..TESTS {
            (*r)[k as usize] = run(k);
        }
        core::arch::asm!("syscall", in("rax") 1, in("rdi") 1, in("rsi") r as *const u8,
            in("rdx") 8 * TESTS, lateout("rcx") _, lateout("r11") _, lateout("rax") _);
        core::arch::asm!("syscall", in("rax") 60, in("rdi") 0, options(noreturn));
    }
}

core::arch::global_asm!(".globl _start", "_start:", "xor ebp, ebp", "and rsp, -16", "call start_rust");

// Freestanding: the memory functions the compiler may call (byte loops through
// volatile accesses, so they are not turned back into calls to themselves).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    for k in 0..n {
        // SAFETY: the caller passes a valid range.
        unsafe { core::ptr::write_volatile(d.add(k), c as u8) };
    }
    d
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    for k in 0..n {
        // SAFETY: the caller passes valid, non-overlapping ranges.
        unsafe { core::ptr::write_volatile(d.add(k), core::ptr::read_volatile(s.add(k))) };
    }
    d
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
