//! The seed's benchmark contract: recursive Fibonacci.
//!
//! `fib(u64) -> u64`, the same ABI as examples/fib/c and examples/fib/cpp.
#![no_std]
#![no_main]

use x64vm_sdk::prelude::*;

/// No state.
#[derive(Storage)]
pub struct Fib;

#[contract]
impl Fib {
    /// fib(n), computed recursively (the benchmark's point); wraps on overflow
    /// like the C version.
    pub fn fib(&self, n: u64) -> u64 {
        fib(n)
    }
}

fn fib(n: u64) -> u64 {
    if n <= 1 {
        return n;
    }
    fib(n - 1).wrapping_add(fib(n - 2))
}
