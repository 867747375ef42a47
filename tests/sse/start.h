/* Shared by the SSE whole-program tests (crates/x64vm/tests/sse_programs.rs).
 *
 * Each program defines `uint64_t run(uint64_t k)`, which runs sub-test k and
 * returns a hash of everything it computed (including MXCSR). The VM calls `run`
 * directly; natively the same ELF starts at `_start`, which calls run(0..TESTS-1)
 * and writes the results to stdout, so both sides execute identical machine code. */
#include <stdint.h>
#include <xmmintrin.h>

uint64_t run(uint64_t k);

#define MIX(h, v) (((h) ^ (uint64_t)(v)) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull)

static inline uint64_t mixd(uint64_t h, double d) {
    uint64_t u;
    __builtin_memcpy(&u, &d, 8);
    return MIX(h, u);
}

static inline uint64_t mixf(uint64_t h, float f) {
    uint32_t u;
    __builtin_memcpy(&u, &f, 4);
    return MIX(h, u);
}

/* A deterministic generator seeded from the sub-test number, so that nothing
 * is computed at compile time. */
static inline uint64_t next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 17;
}

static uint64_t results[TESTS];

void start_c(void) {
    for (uint64_t k = 0; k < TESTS; k++) results[k] = run(k);
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(1), "D"(1), "S"(results), "d"(sizeof results)
                     : "rcx", "r11", "memory");
    __asm__ volatile("syscall" : : "a"(60), "D"(0) : "rcx", "r11");
    __builtin_unreachable();
}

/* The kernel starts us with RSP 16-byte aligned; calls expect RSP = 8 mod 16. */
__asm__(".globl _start\n_start:\n xor %ebp, %ebp\n and $-16, %rsp\n call start_c\n hlt\n");
