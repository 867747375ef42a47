/* Shared by the benchmark kernels: freestanding helpers, identical in the native
 * and the VM build. */
#include <stddef.h>
#include <stdint.h>

#define BENCH_BUF (4u << 20)
/* A static work area: the kernels need no allocator. */
extern uint8_t bench_area[BENCH_BUF];

static inline uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}
