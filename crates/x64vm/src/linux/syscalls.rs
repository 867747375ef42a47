//! The `syscall` dispatcher: number in RAX, arguments in RDI, RSI, RDX, R10,
//! R8, R9, result (or negative errno) in RAX; RCX and R11 are clobbered with
//! the return address and RFLAGS, as the instruction does.

use std::collections::BTreeMap;

use super::fs::{MemFs, Node};
use super::mm::Mm;
use crate::cpu::reg;
use crate::host::{Env, Flow, Host};
use crate::trap::Trap;

pub(crate) const ENOENT: i64 = 2;
pub(crate) const EBADF: i64 = 9;
pub(crate) const EAGAIN: i64 = 11;
pub(crate) const ENOMEM: i64 = 12;
pub(crate) const EFAULT: i64 = 14;
pub(crate) const EISDIR: i64 = 21;
pub(crate) const EINVAL: i64 = 22;
pub(crate) const EMFILE: i64 = 24;
pub(crate) const ENOTTY: i64 = 25;
pub(crate) const EFBIG: i64 = 27;
pub(crate) const ESPIPE: i64 = 29;
pub(crate) const ERANGE: i64 = 34;
pub(crate) const ENOSYS: i64 = 38;

/// The fixed wall clock: 2024-01-01T00:00:00Z, advancing one nanosecond per
/// retired instruction so that time moves, deterministically.
pub const CLOCK_EPOCH_SECS: u64 = 1_704_067_200;

/// Gas charged for every system call, on top of the instruction.
pub const GAS_SYSCALL: u64 = 50;

/// Deterministic PRNG step (splitmix64).
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The Linux side of a process: memory management, files, standard streams.
#[derive(Debug)]
pub struct LinuxHost {
    mm: Mm,
    /// The private file system.
    pub fs: MemFs,
    stdin: Vec<u8>,
    stdin_pos: usize,
    rng: u64,
    /// Everything written to file descriptor 1.
    pub stdout: Vec<u8>,
    /// Everything written to file descriptor 2.
    pub stderr: Vec<u8>,
    /// The exit status once the program called `exit`/`exit_group`.
    pub exit_code: Option<i32>,
    /// System calls answered with -ENOSYS: number -> count.
    pub unsupported: BTreeMap<u64, u64>,
    /// Every system call made, in order (number, result), when `record` is set.
    pub log: Vec<(u64, i64)>,
    /// Whether to fill `log`.
    pub record: bool,
    /// Largest output kept for stdout + stderr together.
    pub max_output: usize,
}

impl LinuxHost {
    pub(crate) fn new(mm: Mm, fs: MemFs, stdin: Vec<u8>, seed: u64) -> Self {
        LinuxHost {
            mm,
            fs,
            stdin,
            stdin_pos: 0,
            rng: seed,
            stdout: Vec::new(),
            stderr: Vec::new(),
            exit_code: None,
            unsupported: BTreeMap::new(),
            log: Vec::new(),
            record: false,
            max_output: 64 << 20,
        }
    }

    fn c_string(env: &Env<'_>, ptr: u64) -> Result<String, i64> {
        let mut out = Vec::new();
        for k in 0..4096u64 {
            let b = env.mem.read_u8(ptr.wrapping_add(k)).map_err(|_| -EFAULT)?;
            if b == 0 {
                return String::from_utf8(out).map_err(|_| -ENOENT);
            }
            out.push(b);
        }
        Err(-super::syscalls::ERANGE)
    }

    fn write_fd(&mut self, fd: u64, bytes: &[u8]) -> i64 {
        let sink = match self.fs.node(fd) {
            Some(Node::Stdout) => &mut self.stdout,
            Some(Node::Stderr) => &mut self.stderr,
            Some(Node::Stdin) => return -EBADF,
            Some(Node::File(_)) => return self.fs.write_file(fd, bytes),
            None => return -EBADF,
        };
        if sink.len() + bytes.len() > self.max_output {
            return -EFBIG;
        }
        sink.extend_from_slice(bytes);
        bytes.len() as i64
    }

    fn read_fd(&mut self, fd: u64, n: u64) -> Result<Vec<u8>, i64> {
        let n = n.min(1 << 24);
        match self.fs.node(fd) {
            Some(Node::Stdin) => {
                let end = (self.stdin_pos + n as usize).min(self.stdin.len());
                let out = self.stdin[self.stdin_pos..end].to_vec();
                self.stdin_pos = end;
                Ok(out)
            }
            Some(Node::File(_)) => self.fs.read_file(fd, n),
            Some(_) => Err(-EBADF),
            None => Err(-EBADF),
        }
    }

    /// Writes a `struct stat` for a regular file of `size` or a character device.
    fn stat(env: &mut Env<'_>, buf: u64, size: Option<u64>) -> i64 {
        let mut st = [0u8; 144];
        let put = |st: &mut [u8; 144], off: usize, v: u64, n: usize| {
            st[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
        };
        put(&mut st, 0, 1, 8); // st_dev
        put(&mut st, 8, size.map_or(1, |s| 2 + s % 1000), 8); // st_ino
        put(&mut st, 16, 1, 8); // st_nlink
        put(
            &mut st,
            24,
            if size.is_some() { 0o100644 } else { 0o20620 },
            4,
        ); // st_mode
        put(&mut st, 28, 1000, 4); // st_uid
        put(&mut st, 32, 1000, 4); // st_gid
        put(&mut st, 48, size.unwrap_or(0), 8); // st_size
        put(&mut st, 56, 4096, 8); // st_blksize
        put(&mut st, 64, size.unwrap_or(0).div_ceil(512), 8); // st_blocks
        for t in [72, 88, 104] {
            put(&mut st, t, CLOCK_EPOCH_SECS, 8);
        }
        match env.mem.write_bytes(buf, &st) {
            Ok(()) => 0,
            Err(_) => -EFAULT,
        }
    }

    fn iovecs(env: &Env<'_>, ptr: u64, count: u64) -> Result<Vec<(u64, u64)>, i64> {
        if count > 1024 {
            return Err(-EINVAL);
        }
        (0..count)
            .map(|i| {
                let base = env
                    .mem
                    .read_u64(ptr.wrapping_add(i * 16))
                    .map_err(|_| -EFAULT)?;
                let len = env
                    .mem
                    .read_u64(ptr.wrapping_add(i * 16 + 8))
                    .map_err(|_| -EFAULT)?;
                Ok((base, len))
            })
            .collect()
    }

    /// `poll`: the standard streams and open files are always ready; closed
    /// descriptors report POLLNVAL. Nothing ever blocks.
    fn poll(&mut self, env: &mut Env<'_>, fds: u64, n: u64) -> i64 {
        const POLLIN: u16 = 1;
        const POLLOUT: u16 = 4;
        const POLLNVAL: u16 = 0x20;
        if n > 1024 {
            return -EINVAL;
        }
        let mut ready = 0;
        for k in 0..n {
            let at = fds.wrapping_add(k * 8);
            let Ok(fd) = env.mem.read_u32(at) else {
                return -EFAULT;
            };
            let Ok(events) = env.mem.read_u16(at + 4) else {
                return -EFAULT;
            };
            let revents = if (fd as i32) < 0 {
                0
            } else if self.fs.node(u64::from(fd)).is_none() {
                POLLNVAL
            } else {
                events & (POLLIN | POLLOUT)
            };
            if env.mem.write_u16(at + 6, revents).is_err() {
                return -EFAULT;
            }
            if revents != 0 {
                ready += 1;
            }
        }
        ready
    }

    /// Serves one call; `Ok(None)` means the process exited.
    fn dispatch(&mut self, nr: u64, env: &mut Env<'_>) -> Result<Option<i64>, Trap> {
        let a = [
            env.arg(0),
            env.arg(1),
            env.arg(2),
            env.cpu.gpr[10],
            env.cpu.gpr[8],
            env.cpu.gpr[9],
        ];
        let r: i64 = match nr {
            // read
            0 => match self.read_fd(a[0], a[2]) {
                Ok(bytes) => {
                    env.charge_bytes(bytes.len() as u64)?;
                    match env.mem.write_bytes(a[1], &bytes) {
                        Ok(()) => bytes.len() as i64,
                        Err(_) => -EFAULT,
                    }
                }
                Err(e) => e,
            },
            // write
            1 => {
                if a[2] > 1 << 24 {
                    -EINVAL
                } else {
                    match env.read(a[1], a[2]) {
                        Ok(bytes) => self.write_fd(a[0], &bytes),
                        Err(Trap::OutOfGas) => return Err(Trap::OutOfGas),
                        Err(_) => -EFAULT,
                    }
                }
            }
            // open / openat (dirfd ignored: one flat namespace)
            2 | 257 => {
                let (path, flags) = if nr == 2 { (a[0], a[1]) } else { (a[1], a[2]) };
                match Self::c_string(env, path) {
                    Ok(p) => self.fs.open(&p, flags),
                    Err(e) => e,
                }
            }
            3 => self.fs.close(a[0]),
            // stat / lstat
            4 | 6 => match Self::c_string(env, a[0]) {
                Ok(p) => match self.fs.size_of(&p) {
                    Some(s) => Self::stat(env, a[1], Some(s)),
                    None => -ENOENT,
                },
                Err(e) => e,
            },
            5 => match self.fs.size(a[0]) {
                Ok(size) => Self::stat(env, a[1], size),
                Err(e) => e,
            },
            8 => self.fs.lseek(a[0], a[1] as i64, a[2]),
            9 => {
                const MAP_FIXED: u64 = 0x10;
                const MAP_ANONYMOUS: u64 = 0x20;
                if a[3] & MAP_ANONYMOUS == 0 {
                    -ENOSYS
                } else {
                    self.mm
                        .mmap(env.mem, a[0], a[1], a[2], a[3] & MAP_FIXED != 0)
                }
            }
            10 => self.mm.mprotect(env.mem, a[0], a[1], a[2]),
            11 => self.mm.munmap(env.mem, a[0], a[1]),
            12 => self.mm.brk(env.mem, a[0]) as i64,
            // rt_sigaction, rt_sigprocmask: signals never arrive; report empty old state
            13 | 14 => {
                let old = a[2];
                if old != 0 {
                    let n = if nr == 13 { 32 } else { 8 };
                    if env.mem.write_bytes(old, &vec![0u8; n]).is_err() {
                        return Ok(Some(-EFAULT));
                    }
                }
                0
            }
            16 => -ENOTTY,
            // readv / writev
            19 | 20 => match Self::iovecs(env, a[1], a[2]) {
                Ok(iov) => {
                    let mut total = 0i64;
                    for (base, len) in iov {
                        if nr == 20 {
                            let bytes = match env.read(base, len.min(1 << 24)) {
                                Ok(b) => b,
                                Err(Trap::OutOfGas) => return Err(Trap::OutOfGas),
                                Err(_) => return Ok(Some(-EFAULT)),
                            };
                            let w = self.write_fd(a[0], &bytes);
                            if w < 0 {
                                return Ok(Some(if total > 0 { total } else { w }));
                            }
                            total += w;
                        } else {
                            let bytes = match self.read_fd(a[0], len) {
                                Ok(b) => b,
                                Err(e) => return Ok(Some(if total > 0 { total } else { e })),
                            };
                            if env.write(base, &bytes).is_err() {
                                return Ok(Some(-EFAULT));
                            }
                            total += bytes.len() as i64;
                            if (bytes.len() as u64) < len {
                                break;
                            }
                        }
                    }
                    total
                }
                Err(e) => e,
            },
            // access: files of the private fs only
            21 => match Self::c_string(env, a[0]) {
                Ok(p) if self.fs.size_of(&p).is_some() => 0,
                Ok(_) => -ENOENT,
                Err(e) => e,
            },
            7 => self.poll(env, a[0], a[1]),
            24 => 0, // sched_yield
            // kill / tgkill / tkill of itself (abort()): the process dies of the signal,
            // reported like a shell does, as 128 + signal.
            62 | 200 | 234 => {
                let sig = if nr == 234 { a[2] } else { a[1] };
                if sig == 0 {
                    0
                } else {
                    self.exit_code = Some(128 + (sig as i32 & 0x7f));
                    return Ok(None);
                }
            }
            25 => self.mm.mremap(env.mem, a[0], a[1], a[2], a[3] & 1 != 0),
            28 => 0, // madvise
            32 => self.fs.dup(a[0]),
            33 => self.fs.dup2(a[0], a[1]),
            292 => self.fs.dup2(a[0], a[1]),
            39 | 186 => super::process::PID as i64, // getpid, gettid
            110 => 1,                               // getppid
            60 | 231 => {
                self.exit_code = Some(a[0] as i32);
                return Ok(None);
            }
            63 => {
                let mut u = [0u8; 65 * 6];
                for (i, s) in ["Linux", "x64vm", "6.1.0-x64vm", "#1 SMP", "x86_64", ""]
                    .iter()
                    .enumerate()
                {
                    u[i * 65..i * 65 + s.len()].copy_from_slice(s.as_bytes());
                }
                if env.mem.write_bytes(a[0], &u).is_ok() {
                    0
                } else {
                    -EFAULT
                }
            }
            72 => 0, // fcntl: no flags to report
            79 => {
                // getcwd
                if a[1] < 2 {
                    -ERANGE
                } else if env.mem.write_bytes(a[0], b"/\0").is_ok() {
                    2
                } else {
                    -EFAULT
                }
            }
            87 => match Self::c_string(env, a[0]) {
                Ok(p) => self.fs.unlink(&p),
                Err(e) => e,
            },
            89 | 267 => -ENOENT, // readlink(at): no /proc
            96 => {
                // gettimeofday
                let ns = env.cpu.retired;
                let mut tv = [0u8; 16];
                tv[..8].copy_from_slice(&(CLOCK_EPOCH_SECS + ns / 1_000_000_000).to_le_bytes());
                tv[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
                if a[0] != 0 && env.mem.write_bytes(a[0], &tv).is_err() {
                    -EFAULT
                } else {
                    0
                }
            }
            102 | 104 | 107 | 108 => 1000, // get[e]uid, get[e]gid
            131 => 0,                      // sigaltstack
            158 => {
                // arch_prctl
                const ARCH_SET_FS: u64 = 0x1002;
                const ARCH_GET_FS: u64 = 0x1003;
                match a[0] {
                    ARCH_SET_FS => {
                        env.cpu.fs_base = a[1];
                        0
                    }
                    ARCH_GET_FS => {
                        let fs = env.cpu.fs_base;
                        if env.mem.write_u64(a[1], fs).is_ok() {
                            0
                        } else {
                            -EFAULT
                        }
                    }
                    _ => -EINVAL,
                }
            }
            201 => {
                let t = CLOCK_EPOCH_SECS + env.cpu.retired / 1_000_000_000;
                if a[0] != 0 && env.mem.write_u64(a[0], t).is_err() {
                    -EFAULT
                } else {
                    t as i64
                }
            }
            202 => {
                // futex: one thread, so waits never block and wakes wake nobody.
                const FUTEX_WAIT: u64 = 0;
                if a[1] & 0x7f == FUTEX_WAIT {
                    -EAGAIN
                } else {
                    0
                }
            }
            218 => super::process::PID as i64, // set_tid_address
            228 => {
                // clock_gettime(clk, ts)
                let ns = env.cpu.retired;
                let base = if a[0] == 0 || a[0] == 5 || a[0] == 8 {
                    CLOCK_EPOCH_SECS
                } else {
                    0
                };
                let mut ts = [0u8; 16];
                ts[..8].copy_from_slice(&(base + ns / 1_000_000_000).to_le_bytes());
                ts[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
                if env.mem.write_bytes(a[1], &ts).is_ok() {
                    0
                } else {
                    -EFAULT
                }
            }
            262 => {
                // newfstatat(dirfd, path, buf, flags)
                const AT_EMPTY_PATH: u64 = 0x1000;
                if a[3] & AT_EMPTY_PATH != 0 {
                    match self.fs.size(a[0]) {
                        Ok(size) => Self::stat(env, a[2], size),
                        Err(e) => e,
                    }
                } else {
                    match Self::c_string(env, a[1]) {
                        Ok(p) => match self.fs.size_of(&p) {
                            Some(s) => Self::stat(env, a[2], Some(s)),
                            None => -ENOENT,
                        },
                        Err(e) => e,
                    }
                }
            }
            273 => 0, // set_robust_list
            302 => {
                // prlimit64(pid, resource, new, old): report "unlimited" for everything but the stack
                if a[3] != 0 {
                    let cur = if a[1] == 3 { 8u64 << 20 } else { u64::MAX };
                    let mut rl = [0u8; 16];
                    rl[..8].copy_from_slice(&cur.to_le_bytes());
                    rl[8..].copy_from_slice(&u64::MAX.to_le_bytes());
                    if env.mem.write_bytes(a[3], &rl).is_err() {
                        return Ok(Some(-EFAULT));
                    }
                }
                0
            }
            318 => {
                // getrandom: seeded, so every run gets the same bytes
                let n = a[1].min(1 << 20);
                let mut out = Vec::with_capacity(n as usize);
                while (out.len() as u64) < n {
                    out.extend_from_slice(&splitmix(&mut self.rng).to_le_bytes());
                }
                out.truncate(n as usize);
                match env.write(a[0], &out) {
                    Ok(()) => n as i64,
                    Err(Trap::OutOfGas) => return Err(Trap::OutOfGas),
                    Err(_) => -EFAULT,
                }
            }
            _ => {
                *self.unsupported.entry(nr).or_insert(0) += 1;
                -ENOSYS
            }
        };
        Ok(Some(r))
    }
}

impl Host for LinuxHost {
    fn syscall(&mut self, env: &mut Env<'_>) -> Result<Flow, Trap> {
        env.charge(GAS_SYSCALL)?;
        let nr = env.cpu.gpr[reg::RAX];
        let rip = env.cpu.rip;
        let flags = env.cpu.rflags();
        let result = self.dispatch(nr, env)?;
        // Memory the call zeroed, copied or re-protected, and file growth (host
        // memory), in proportion to guest-chosen lengths: metered like heap growth.
        let grown = self.fs.take_growth().div_ceil(crate::mem::PAGE_SIZE);
        let work = self
            .mm
            .take_gas()
            .saturating_add(grown.saturating_mul(crate::host::GAS_PER_HEAP_PAGE));
        env.charge(work)?;
        env.cpu.gpr[reg::RCX] = rip;
        env.cpu.gpr[11] = flags;
        match result {
            Some(r) => {
                if self.record {
                    self.log.push((nr, r));
                }
                env.cpu.gpr[reg::RAX] = r as u64;
                Ok(Flow::Continue)
            }
            None => {
                if self.record {
                    self.log.push((nr, 0));
                }
                Ok(Flow::Finish)
            }
        }
    }
}
