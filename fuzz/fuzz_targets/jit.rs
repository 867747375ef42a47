//! libFuzzer entry for the `jit` target; the body is `x64vm_fuzz::jit`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::jit(data));
