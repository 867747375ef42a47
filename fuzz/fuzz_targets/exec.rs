//! libFuzzer entry for the `exec` target; the body is `x64vm_fuzz::exec`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::exec(data));
