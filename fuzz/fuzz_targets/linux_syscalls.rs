//! libFuzzer entry for the `linux_syscalls` target; the body is `x64vm_fuzz::linux_syscalls`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::linux_syscalls(data));
