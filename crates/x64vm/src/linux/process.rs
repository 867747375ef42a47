//! Building a process: the Linux address-space layout inside one arena and the
//! initial stack (argc, argv, envp, auxv) as the kernel lays it out.

use super::fs::MemFs;
use super::mm::Mm;
use super::syscalls::LinuxHost;
use crate::config::Config;
use crate::cpu::reg;
use crate::loader::{Image, LoadError};
use crate::mem::{Memory, PAGE_SIZE, page_up, perm};
use crate::vm::{Instance, Layout};

/// What the process sees of its world.
#[derive(Clone, Debug)]
pub struct LinuxConfig {
    /// argv, including argv[0].
    pub args: Vec<String>,
    /// Environment strings (`KEY=value`).
    pub env: Vec<String>,
    /// Bytes read from file descriptor 0.
    pub stdin: Vec<u8>,
    /// Seed of `getrandom` and of the AT_RANDOM bytes.
    pub seed: u64,
    /// Size of the `brk` area.
    pub brk_size: u64,
    /// Size of the area `mmap` allocates from.
    pub mmap_size: u64,
    /// Files present in the private file system at start.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Default for LinuxConfig {
    fn default() -> Self {
        LinuxConfig {
            args: vec!["program".into()],
            env: Vec::new(),
            stdin: Vec::new(),
            seed: 0x5eed,
            brk_size: 64 << 20,
            mmap_size: 256 << 20,
            files: Vec::new(),
        }
    }
}

/// Fixed values of the process identity.
pub(crate) const PID: u64 = 1000;

/// Creates a process: memory laid out, initial stack written, registers set.
///
/// # Errors
/// [`LoadError`] when the layout does not fit the memory limit or the
/// arguments do not fit on the stack.
pub fn spawn(
    image: &Image,
    config: &Config,
    linux: &LinuxConfig,
) -> Result<(Instance, LinuxHost), LoadError> {
    let low = image.low();
    let brk_start = page_up(image.high());
    let brk_end = brk_start + page_up(linux.brk_size);
    let mmap_start = brk_end + PAGE_SIZE;
    let mmap_end = mmap_start + page_up(linux.mmap_size);
    let stack_low = mmap_end + 2 * PAGE_SIZE;
    let stack_top = stack_low + page_up(config.stack_size.max(64 * 1024));
    let total = stack_top - low;
    if total > config.memory_limit {
        return Err(LoadError::TooLarge(format!(
            "process needs {total} bytes of address space, limit is {}",
            config.memory_limit
        )));
    }
    let bad = |e: String| LoadError::Malformed(e);
    let mut mem = Memory::new(low, total).map_err(LoadError::TooLarge)?;
    for s in &image.segments {
        mem.load(s.vaddr, &s.data).map_err(bad)?;
    }
    for s in &image.segments {
        let mut a = crate::mem::page_down(s.vaddr);
        while a < s.vaddr + s.mem_size {
            let p = s.perms | (mem.perms_at(a) & !perm::GUARD);
            mem.protect(a, PAGE_SIZE, p).map_err(bad)?;
            a += PAGE_SIZE;
        }
    }
    mem.protect(stack_low - PAGE_SIZE, PAGE_SIZE, perm::GUARD)
        .map_err(bad)?;
    let stack_perms = if image.exec_stack {
        perm::RW | perm::X
    } else {
        perm::RW
    };
    mem.protect(stack_low, stack_top - stack_low, stack_perms)
        .map_err(bad)?;

    let layout = Layout {
        input: 0,
        heap_start: brk_start,
        heap_end: brk_end,
        stack_low,
        stack_top,
    };
    let mut inst = Instance::from_memory(mem, layout, config);
    let sp = initial_stack(&mut inst.mem, image, linux, stack_top).map_err(LoadError::TooLarge)?;
    inst.cpu.gpr[reg::RSP] = sp;
    inst.cpu.rip = image.entry;
    inst.cpu.gas = config.gas_limit;
    let mm = Mm::new(brk_start, brk_end, mmap_start, mmap_end);
    let mut fs = MemFs::default();
    for (path, data) in &linux.files {
        fs.insert(path, data.clone());
    }
    let host = LinuxHost::new(mm, fs, linux.stdin.clone(), linux.seed);
    Ok((inst, host))
}

/// Auxiliary vector keys.
mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const EXECFN: u64 = 31;
}

/// Writes strings, auxv, envp, argv and argc below `top`; returns the new RSP
/// (pointing at argc, 16-byte aligned as the ABI requires).
fn initial_stack(
    mem: &mut Memory,
    image: &Image,
    linux: &LinuxConfig,
    top: u64,
) -> Result<u64, String> {
    let mut sp = top;
    let mut push_bytes = |mem: &mut Memory, bytes: &[u8]| -> Result<u64, String> {
        sp = sp
            .checked_sub(bytes.len() as u64)
            .ok_or("stack underflow")?;
        mem.load(sp, bytes)
            .map_err(|_| "arguments do not fit on the stack".to_string())?;
        Ok(sp)
    };
    let cstr = |s: &str| {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    };
    let platform = push_bytes(mem, &cstr("x86_64"))?;
    let mut random = [0u8; 16];
    let mut x = linux.seed ^ 0x9e37_79b9_7f4a_7c15;
    for chunk in random.chunks_mut(8) {
        x = super::syscalls::splitmix(&mut x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    let random_addr = push_bytes(mem, &random)?;
    let mut argv = Vec::new();
    for a in &linux.args {
        argv.push(push_bytes(mem, &cstr(a))?);
    }
    let mut envp = Vec::new();
    for e in &linux.env {
        envp.push(push_bytes(mem, &cstr(e))?);
    }
    let execfn = argv.first().copied().unwrap_or(0);
    let auxv: Vec<(u64, u64)> = vec![
        (at::PHDR, image.phdr),
        (at::PHENT, 56),
        (at::PHNUM, image.phnum),
        (at::PAGESZ, PAGE_SIZE),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, image.entry),
        (at::UID, 1000),
        (at::EUID, 1000),
        (at::GID, 1000),
        (at::EGID, 1000),
        (at::PLATFORM, platform),
        (
            at::HWCAP,
            0x0789_fbff & ((1 << 4) | (1 << 8) | (1 << 15) | (1 << 25) | (1 << 26)),
        ),
        (at::CLKTCK, 100),
        (at::SECURE, 0),
        (at::RANDOM, random_addr),
        (at::EXECFN, execfn),
        (at::NULL, 0),
    ];
    let words = 1 + argv.len() + 1 + envp.len() + 1 + auxv.len() * 2;
    let mut sp = (sp - words as u64 * 8) & !15;
    let start = sp;
    let mut put = |mem: &mut Memory, v: u64| -> Result<(), String> {
        mem.load(sp, &v.to_le_bytes())
            .map_err(|_| "stack overflow while writing argv".to_string())?;
        sp += 8;
        Ok(())
    };
    put(mem, argv.len() as u64)?;
    for a in argv {
        put(mem, a)?;
    }
    put(mem, 0)?;
    for e in envp {
        put(mem, e)?;
    }
    put(mem, 0)?;
    for (k, v) in auxv {
        put(mem, k)?;
        put(mem, v)?;
    }
    Ok(start)
}
