//! libFuzzer entry for the `echo_load` target; the body is `x64vm_fuzz::echo_load`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::echo_load(data));
