/* Benchmark kernels. Each takes a size parameter and returns a checksum, so the VM
 * and native results can be compared. Compiled with the same gcc -O2 for both, and
 * with clang -O2 to wasm32 for the wasmi peer (see bench/build.rs). */
#include "common.h"

uint8_t bench_area[BENCH_BUF];

/* A trivial function: the cost of entering the code and returning. */
uint64_t bench_nop(uint64_t x) { return x; }

uint64_t bench_fib(uint64_t n) {
    return n <= 1 ? n : bench_fib(n - 1) + bench_fib(n - 2);
}

/* Count primes below n (n <= BENCH_BUF). */
uint64_t bench_sieve(uint64_t n) {
    uint8_t *composite = bench_area;
    for (uint64_t i = 0; i < n; i++) composite[i] = 0;
    uint64_t count = 0;
    for (uint64_t i = 2; i < n; i++) {
        if (composite[i]) continue;
        count++;
        for (uint64_t j = i * i; j < n; j += i) composite[j] = 1;
    }
    return count;
}

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* SHA-256 over n bytes of generated data (n a multiple of 64); returns 8 digest bytes. */
uint64_t bench_sha256(uint64_t n) {
    uint64_t s = 1;
    for (uint64_t i = 0; i < n; i++) bench_area[i] = (uint8_t)lcg(&s);
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (uint64_t off = 0; off + 64 <= n; off += 64) sha256_block(h, bench_area + off);
    return (uint64_t)h[0] << 32 | h[1];
}

static void quicksort(int32_t *v, int64_t lo, int64_t hi) {
    while (lo < hi) {
        int32_t pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                int32_t t = v[i]; v[i] = v[j]; v[j] = t;
                i++; j--;
            }
        }
        if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; }
        else { quicksort(v, i, hi); hi = j; }
    }
}

/* Sort n pseudo-random integers; returns a position-weighted checksum. */
uint64_t bench_qsort(uint64_t n) {
    int32_t *v = (int32_t *)bench_area;
    uint64_t s = 7;
    for (uint64_t i = 0; i < n; i++) v[i] = (int32_t)lcg(&s);
    quicksort(v, 0, (int64_t)n - 1);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) sum += (uint64_t)(uint32_t)v[i] * (i + 1);
    return sum;
}

#if defined(__wasm__)
/* The wasm32 build (for the wasmi peer, clang -mbulk-memory): the block
 * instructions memory.fill and memory.copy, wasm's counterpart of rep stosb/movsb.
 * The empty asm keeps clang from seeing through the fill (it would otherwise turn
 * the copy of a just-filled block into a second fill). */
#if !defined(__wasm_bulk_memory__)
#error "build the wasm kernels with -mbulk-memory"
#endif
static void fill(uint8_t *d, int c, size_t n) {
    __builtin_memset(d, c, n);
    __asm__ volatile("" : : "r"(d) : "memory");
}

static void copy(uint8_t *d, const uint8_t *s, size_t n) {
    __builtin_memcpy(d, s, n);
    __asm__ volatile("" : : "r"(d) : "memory");
}
#else
/* Block fill and copy as libc's x86-64 string functions do them for large sizes. */
static void fill(uint8_t *d, int c, size_t n) {
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
}

static void copy(uint8_t *d, const uint8_t *s, size_t n) {
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
#endif

/* memcpy/memset-heavy: copy and fill blocks of varying sizes, n rounds. */
uint64_t bench_memops(uint64_t n) {
    uint8_t *a = bench_area, *b = bench_area + (1u << 20);
    uint64_t s = 3, sum = 0;
    for (uint64_t r = 0; r < n; r++) {
        uint64_t len = 1 + lcg(&s) % 65536;
        fill(a, (int)(r & 0xff), len);
        copy(b, a, len);
        sum += b[len / 2] + len;
    }
    return sum;
}

