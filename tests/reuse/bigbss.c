/* A contract with a 4 MiB .bss next to initialised .data (the shape of the
 * bench kernels' work area). Dirty tracking must not copy the zero .bss, and
 * reusing an instance must still bring back both the .data bytes and the zeros. */
#include <stdint.h>

static uint64_t counter = 11;                       /* .data */
static uint8_t table[300] = {1, 2, 3, 4, 5, 6, 7};  /* .data */
static uint8_t big[4 << 20] __attribute__((aligned(8))); /* .bss, 1024 pages */

static inline void output(const void *p, uint64_t n) {
    uint64_t r;
    __asm__ volatile("int $0x22" : "=a"(r) : "D"(p), "S"(n) : "memory");
    (void)r;
}

uint64_t _start(const uint8_t *input, uint64_t len) {
    uint64_t h = counter;
    for (int i = 0; i < 300; i++) h = h * 31 + table[i];
    /* Every byte of the .bss (a word at a time): all zero in a fresh instance. */
    const uint64_t *w = (const uint64_t *)big;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < sizeof big / 8; i++) sum += w[i] * (i | 1);
    h = h * 131 + sum;
    /* Scatter writes over the .bss and change the .data. */
    for (uint64_t i = 0; i < len; i++) {
        uint64_t at = ((uint64_t)input[i] * 16411 + i * 40961) % sizeof big;
        big[at] += input[i] | 1;
        big[(at * 2654435761u) % sizeof big] ^= 0x5a;
        table[i % 300] ^= input[i];
    }
    counter += len + 1;
    h = h * 1000003 + len;
    big[sizeof big - 1] = (uint8_t)h;
    output(&h, 8);
    return h;
}
