/* The seed's benchmark contract with the SDK: fib(u64 n) -> u64 (view).
 *
 * The same ABI as examples/fib/cpp and examples/fib/rust. The recursion is the
 * benchmark's point; the sum wraps on overflow like the plain examples/fib/fib.c.
 *
 *   x64vm run examples/fib/c/fib.elf --entry fib --arg 25     (75025, no chain needed)
 *   call line `fib(25)` through the contract runtime (selector + Borsh)
 */
#include <x64vm.h>

static uint64_t fib_rec(uint64_t n) {
    if (n <= 1)
        return n;
    return fib_rec(n - 1) + fib_rec(n - 2);
}

X64VM_VIEW(u64, fib, (u64, n)) { return fib_rec(n); }

X64VM_MAIN(fib, X64VM_FUNC(fib))
