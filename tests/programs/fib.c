/* Recursion: naive Fibonacci, mutual recursion, and Ackermann (deep stack). */
#include "common.h"

uint64_t fib(uint64_t n) {
    if (n <= 1)
        return n;
    return fib(n - 1) + fib(n - 2);
}

static int is_even(unsigned n);
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }

static uint64_t ackermann(uint64_t m, uint64_t n) {
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

/* Fibonacci modulo 2^64 far beyond where it overflows, iteratively. */
static uint64_t fib_iter(uint64_t n) {
    uint64_t a = 0, b = 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

uint64_t run(uint64_t n) {
    uint64_t h = CHECKSUM_INIT;
    for (uint64_t i = 0; i <= n; i++)
        h = mix(h, fib(i));
    h = mix(h, (uint64_t)is_even(1001) << 1 | (uint64_t)is_odd(777));
    h = mix(h, ackermann(2, 300));
    h = mix(h, ackermann(3, 5));
    h = mix(h, fib_iter(1000));
    return h ^ fib(n);
}
