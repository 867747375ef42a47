// The seed's benchmark contract with the SDK, in C++: fib(u64 n) -> u64 (view).
//
// The same ABI as examples/fib/c and examples/fib/rust. The function is a
// constexpr template, so the compiler checks a few values before the contract
// ever runs; at run time it is the plain recursion the benchmark measures.
#include <x64vm.h>

namespace {

template <class T> constexpr T fibonacci(T n) {
    return n <= 1 ? n : static_cast<T>(fibonacci<T>(n - 1) + fibonacci<T>(n - 2));
}

static_assert(fibonacci<uint64_t>(10) == 55, "fib(10)");
static_assert(fibonacci<uint64_t>(25) == 75025, "fib(25)");

} // namespace

X64VM_VIEW(u64, fib, (u64, n)) { return fibonacci<uint64_t>(n); }

X64VM_MAIN(fib, X64VM_FUNC(fib))
