/* The seed's benchmark contract: recursive Fibonacci.
 * Build: gcc -O2 -static -nostdlib -fno-pie -no-pie -o fib.elf fib.c
 * Run:   x64vm run fib.elf --entry fib --arg 25   (output 75025) */
#include <stdint.h>

uint64_t fib(uint64_t n) {
    if (n <= 1)
        return n;
    return fib(n - 1) + fib(n - 2);
}

/* Entry without --entry: fib of the first input byte (or 25). */
uint64_t _start(const uint8_t *input, uint64_t len) {
    return fib(len > 0 ? input[0] : 25);
}
