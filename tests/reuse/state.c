/* A contract that leaves traces everywhere it can: globals (.data and .bss), the
 * heap, deep stack, and its output. Reusing an instance must make none of that
 * visible to the next call. */
#include <stdint.h>

static uint64_t counter = 7;          /* .data */
static uint8_t scratch[3 * 4096 + 5]; /* .bss, several pages */

static inline uint64_t input_len(void) {
    uint64_t r;
    __asm__ volatile("int $0x20" : "=a"(r) : : "memory");
    return r;
}
static inline void *alloc(uint64_t size) {
    void *r;
    __asm__ volatile("int $0x25" : "=a"(r) : "D"(size), "S"(0) : "memory");
    return r;
}
static inline void output(const void *p, uint64_t n) {
    uint64_t r;
    __asm__ volatile("int $0x22" : "=a"(r) : "D"(p), "S"(n) : "memory");
    (void)r;
}

static uint64_t deep(uint64_t n, volatile uint8_t *trail) {
    volatile uint8_t frame[512];
    frame[n % 512] = (uint8_t)n;
    trail[n % 64] ^= frame[n % 512];
    return n == 0 ? frame[0] : deep(n - 1, trail) + frame[n % 512];
}

uint64_t _start(const uint8_t *input, uint64_t len) {
    uint64_t h = counter;
    for (uint64_t i = 0; i < sizeof scratch; i++) h = h * 31 + scratch[i];
    for (uint64_t i = 0; i < len; i++) {
        scratch[(i * 4099) % sizeof scratch] += input[i];
        h = h * 131 + input[i];
    }
    counter += len + 1;
    uint8_t *heap = alloc(10000);
    for (int i = 0; i < 10000; i++) h += heap[i]; /* fresh heap is zero */
    for (int i = 0; i < 10000; i++) heap[i] = (uint8_t)(h + i);
    uint8_t trail[64] = {0};
    h += deep(40 + len, trail);
    for (int i = 0; i < 64; i++) h = h * 3 + trail[i];
    h += input_len();
    output(&h, 8);
    return h;
}
