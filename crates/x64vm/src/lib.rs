//! x64vm: a deterministic, gas-metered, isolated virtual machine for x86-64 ELF
//! programs (smart contracts built with gcc, clang or rustc).
//!
//! ```no_run
//! use x64vm::{Config, Instance, NoHost, load_elf};
//! let elf = std::fs::read("fib.elf").unwrap();
//! let image = load_elf(&elf, true).unwrap();
//! let mut inst = Instance::new(&image, &Config::default(), &[]).unwrap();
//! inst.prepare_call(image.symbol("fib").unwrap(), &[25]).unwrap();
//! let out = inst.run(&mut NoHost);
//! assert_eq!(out.rax, 75025);
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod arena;
pub mod config;
pub mod cpu;
pub mod cpu_x87;
pub mod disasm;
pub mod heap;
pub mod host;
pub mod interp;
pub mod ir;
pub mod isa;
#[cfg(all(target_arch = "x86_64", unix))]
pub(crate) mod jit;
pub mod linux;
pub mod loader;
pub mod mem;
pub mod trace;
pub mod translate;
pub mod trap;
pub mod vm;

pub use config::Config;
pub use cpu::Cpu;
pub use host::{Env, Flow, Host, NoHost};
pub use loader::{Format, Image, LoadError, load_any, load_elf, load_packed, pack};
pub use mem::Memory;
pub use trap::{Access, Trap, TrapReport};
pub use vm::{Instance, Layout, Outcome, Status};
