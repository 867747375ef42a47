//! libFuzzer entry for the `host_calls` target; the body is `x64vm_fuzz::host_calls`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| x64vm_fuzz::host_calls(data));
