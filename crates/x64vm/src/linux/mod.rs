//! The Linux profile: run standard statically linked programs (musl, glibc
//! `-static`, Rust std) by answering the `syscall` instruction with a small,
//! deterministic subset of Linux.
//!
//! Nothing reaches the host: files live in a private in-memory file system,
//! the clock is fixed, `getrandom` is seeded, and every unknown call returns
//! `-ENOSYS` (and is recorded, for `--trace`).

mod fs;
mod mm;
mod process;
mod syscalls;

pub use fs::{MAX_FILES, MAX_FS_BYTES, MemFs};
pub use process::{LinuxConfig, spawn};
pub use syscalls::LinuxHost;
