/* Bit tricks and integer corner cases: clz/ctz/popcount/parity/bswap, rotates,
 * variable shifts, signed and unsigned division by constants (multiply-high
 * sequences), overflow builtins (jo/setc), 8/16/32-bit arithmetic with sign and
 * zero extension, min/max/abs (cmov), adc/sbb chains, atomics, VLAs and alloca. */
#include "common.h"

#define NOINLINE __attribute__((noinline))

static NOINLINE uint64_t bit_counts(uint64_t x) {
    uint64_t r = 0;
    if (x) {
        r += (uint64_t)__builtin_clzll(x);
        r += (uint64_t)__builtin_ctzll(x) << 8;
    }
    uint32_t lo = (uint32_t)x;
    if (lo) {
        r += (uint64_t)__builtin_clz(lo) << 16;
        r += (uint64_t)__builtin_ctz(lo) << 24;
    }
    r += (uint64_t)__builtin_popcountll(x) << 32;
    r += (uint64_t)__builtin_popcount(lo) << 40;
    r += (uint64_t)__builtin_parityll(x) << 48;
    r += (uint64_t)__builtin_parity(lo) << 49;
    r += (uint64_t)__builtin_ffsll((long long)x) << 50;
    r += (uint64_t)__builtin_clrsbll((long long)x) << 57;
    return r;
}

static NOINLINE uint64_t swaps(uint64_t x) {
    uint64_t a = __builtin_bswap64(x);
    uint32_t b = __builtin_bswap32((uint32_t)(x >> 16));
    uint16_t c = __builtin_bswap16((uint16_t)(x >> 7));
    return a ^ ((uint64_t)b << 13) ^ ((uint64_t)c << 45);
}

static NOINLINE uint64_t rotl64(uint64_t x, unsigned n) { return (x << (n & 63)) | (x >> (-n & 63)); }
static NOINLINE uint32_t rotr32(uint32_t x, unsigned n) { return (x >> (n & 31)) | (x << (-n & 31)); }
static NOINLINE uint16_t rotl16(uint16_t x, unsigned n) {
    n &= 15;
    return (uint16_t)((x << n) | (x >> ((16 - n) & 15)));
}
static NOINLINE uint8_t rotr8(uint8_t x, unsigned n) {
    n &= 7;
    return (uint8_t)((x >> n) | (x << ((8 - n) & 7)));
}

static NOINLINE uint64_t shifts(uint64_t x, unsigned n) {
    int64_t s = (int64_t)x;
    int32_t s32 = (int32_t)x;
    int16_t s16 = (int16_t)x;
    int8_t s8 = (int8_t)x;
    uint64_t r = (x << (n & 63)) ^ (x >> ((n + 5) & 63));
    r ^= (uint64_t)(s >> (n & 63));
    r += (uint64_t)(int64_t)(s32 >> (n & 31));
    r += (uint64_t)(int64_t)(s16 >> (n & 15));
    r += (uint64_t)(int64_t)(s8 >> (n & 7));
    r ^= (uint64_t)((uint32_t)x << (n & 31));
    r ^= (uint64_t)((uint16_t)x >> (n & 15));
    return r;
}

/* Division by constants: gcc replaces these with multiply-high and shifts. */
static NOINLINE uint64_t udiv_consts(uint64_t x) {
    uint32_t y = (uint32_t)x;
    uint16_t z = (uint16_t)x;
    return x / 3 + x / 7 * 3 + x / 10 * 5 + x % 13 + x / 1000000007 + x % 641
           + (uint64_t)(y / 3) + (uint64_t)(y / 7) + (uint64_t)(y % 10) + (uint64_t)(y / 25)
           + (uint64_t)(z / 9) + (uint64_t)(z % 6) + x / 0x8000000000000001ULL + x / 16;
}

static NOINLINE uint64_t sdiv_consts(int64_t x) {
    int32_t y = (int32_t)x;
    int16_t z = (int16_t)x;
    int8_t w = (int8_t)x;
#define U(v) ((uint64_t)(int64_t)(v))
    return U(x / 3) + U(x / -5) * 3 + U(x % 7) + U(x / 10) + U(x % -9) + U(x / 16) + U(x % 32)
           + U(y / 3) + U(y / -7) + U(y % 10) + U(y / 64) + U(z / 5) + U(z % 3) + U(w / 3)
           + U(w % 5);
#undef U
}

/* Runtime divisors of every width, signed and unsigned. */
static NOINLINE uint64_t divs(uint64_t a, uint64_t b) {
    uint64_t r = a / b + a % b;
    r += (uint32_t)a / (uint32_t)(b | 1) + (uint32_t)a % (uint32_t)(b | 1);
    r += (uint64_t)((uint16_t)a / (uint16_t)(b | 1));
    r += (uint64_t)((uint8_t)a % (uint8_t)(b | 1));
    int64_t sa = (int64_t)a, sb = (int64_t)(b | 1);
    if (sb != -1) {
        r += (uint64_t)(sa / sb) + (uint64_t)(sa % sb);
    }
    int32_t ia = (int32_t)a, ib = (int32_t)(b | 1);
    if (ib != -1)
        r += (uint64_t)(int64_t)(ia / ib) ^ (uint64_t)(int64_t)(ia % ib);
    int16_t ha = (int16_t)a, hb = (int16_t)(b | 1);
    if (hb != -1)
        r += (uint64_t)(int64_t)(ha / hb);
    int8_t ba = (int8_t)a, bb = (int8_t)(b | 1);
    if (bb != -1)
        r += (uint64_t)(int64_t)(ba % bb);
    return r;
}

static NOINLINE uint64_t overflow_checks(uint64_t a, uint64_t b) {
    uint64_t r = 0, u;
    int64_t s;
    int32_t s32;
    uint32_t u32;
    r = r << 1 | __builtin_add_overflow(a, b, &u);
    r ^= u;
    r = r << 1 | __builtin_sub_overflow(a, b, &u);
    r ^= u;
    r = r << 1 | __builtin_mul_overflow(a, b, &u);
    r ^= u;
    r = r << 1 | __builtin_add_overflow((int64_t)a, (int64_t)b, &s);
    r ^= (uint64_t)s;
    r = r << 1 | __builtin_sub_overflow((int64_t)a, (int64_t)b, &s);
    r ^= (uint64_t)s;
    r = r << 1 | __builtin_mul_overflow((int64_t)a, (int64_t)b, &s);
    r ^= (uint64_t)s;
    r = r << 1 | __builtin_mul_overflow((int32_t)a, (int32_t)b, &s32);
    r ^= (uint64_t)(uint32_t)s32;
    r = r << 1 | __builtin_add_overflow((uint32_t)a, (uint32_t)b, &u32);
    r ^= u32;
    r = r << 1 | __builtin_mul_overflow((uint32_t)a, (uint32_t)b, &u32);
    r ^= (uint64_t)u32 << 7;
    return r;
}

/* Multi-word addition and subtraction (adc/sbb chains at -O2). */
static NOINLINE void add256(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
    unsigned char c = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t t = a[i] + c;
        c = t < c;
        r[i] = t + b[i];
        c += r[i] < t;
    }
}

static NOINLINE uint64_t narrow(uint64_t x, uint64_t y) {
    uint8_t a8 = (uint8_t)x, b8 = (uint8_t)y;
    int8_t c8 = (int8_t)x, d8 = (int8_t)y;
    uint16_t a16 = (uint16_t)x, b16 = (uint16_t)y;
    int16_t c16 = (int16_t)x, d16 = (int16_t)y;
    uint32_t a32 = (uint32_t)x, b32 = (uint32_t)y;
    int32_t c32 = (int32_t)x, d32 = (int32_t)y;
    uint64_t r = 0;
    r += (uint8_t)(a8 + b8) + (uint8_t)(a8 * b8) + (uint8_t)(a8 - b8);
    r += (uint64_t)(int64_t)(int8_t)(c8 + d8) * 3;
    r += (uint64_t)(uint16_t)((uint32_t)a16 * b16) + (uint16_t)(a16 - b16);
    r += (uint64_t)(int64_t)(int16_t)(c16 ^ d16);
    r += (uint64_t)(a32 * b32) + (uint64_t)(a32 - b32);
    r += (uint64_t)(int64_t)((int64_t)c32 * d32);
    r += (uint64_t)(c8 < d8) + ((uint64_t)(c16 > d16) << 1) + ((uint64_t)(c32 <= d32) << 2);
    r += ((uint64_t)(a8 < b8) << 3) + ((uint64_t)(a16 >= b16) << 4) + ((uint64_t)(a32 > b32) << 5);
    return r;
}

static NOINLINE uint64_t minmax(int64_t a, int64_t b) {
    int64_t mn = a < b ? a : b;
    int64_t mx = a > b ? a : b;
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    uint64_t umn = ua < ub ? ua : ub;
    int64_t ab = a < 0 ? -(a / 2) : a / 2;
    int32_t a32 = (int32_t)a;
    int32_t ab32 = a32 < 0 ? -(a32 / 2) : a32 / 2;
    int64_t sign = (a > 0) - (a < 0);
    return (uint64_t)mn * 3 + (uint64_t)mx * 5 + umn + (uint64_t)ab + (uint64_t)(int64_t)ab32
           + (uint64_t)sign;
}

/* Classic bit hacks. */
static NOINLINE uint64_t hacks(uint64_t x) {
    uint64_t r = 0;
    r ^= x & (0 - x);                   /* lowest set bit */
    r ^= (x & (x - 1)) << 1;            /* clear lowest */
    uint64_t v = x - 1;                 /* next power of two */
    v |= v >> 1;
    v |= v >> 2;
    v |= v >> 4;
    v |= v >> 8;
    v |= v >> 16;
    v |= v >> 32;
    r += v + 1;
    uint64_t t = x;                     /* reverse bits */
    t = ((t >> 1) & 0x5555555555555555ULL) | ((t & 0x5555555555555555ULL) << 1);
    t = ((t >> 2) & 0x3333333333333333ULL) | ((t & 0x3333333333333333ULL) << 2);
    t = ((t >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((t & 0x0f0f0f0f0f0f0f0fULL) << 4);
    t = __builtin_bswap64(t);
    r ^= t;
    uint64_t c = x & (0 - x);           /* next permutation of bits */
    if (c) {
        uint64_t rr = x + c;
        r += (((rr ^ x) >> 2) / c) | rr;
    }
    r ^= (x ^ (x >> 1));                /* gray code */
    return r;
}

/* Bit-array operations gcc may compile to bt/bts/btr. */
static NOINLINE uint64_t bitset_ops(uint64_t seed) {
    uint64_t set[4] = {0, 0, 0, 0};
    uint64_t s = seed;
    for (int i = 0; i < 100; i++) {
        unsigned k = (unsigned)(lcg_next(&s) & 255);
        set[k >> 6] ^= 1ULL << (k & 63);
    }
    uint64_t r = 0;
    for (unsigned k = 0; k < 256; k++)
        r += ((set[k >> 6] >> (k & 63)) & 1) * k;
    return r ^ set[0] ^ set[3];
}

/* Atomic read-modify-write on every width: lock xadd, lock cmpxchg, xchg, lock and/or/xor
 * (single-threaded, so the results are exact). */
static uint8_t at8;
static uint16_t at16;
static uint32_t at32;
static uint64_t at64;

static NOINLINE uint64_t atomics(uint64_t x) {
    uint64_t r = 0;
    r += __atomic_fetch_add(&at8, (uint8_t)x, __ATOMIC_SEQ_CST);
    r += __atomic_fetch_sub(&at16, (uint16_t)x, __ATOMIC_SEQ_CST);
    r += __atomic_add_fetch(&at32, (uint32_t)x, __ATOMIC_RELAXED);
    r += __atomic_fetch_add(&at64, x, __ATOMIC_ACQ_REL);
    r ^= __atomic_fetch_or(&at64, x << 3, __ATOMIC_SEQ_CST);
    r ^= __atomic_fetch_and(&at32, (uint32_t)~x, __ATOMIC_SEQ_CST);
    r ^= __atomic_fetch_xor(&at16, (uint16_t)(x >> 5), __ATOMIC_SEQ_CST);
    __atomic_or_fetch(&at8, (uint8_t)(x >> 9), __ATOMIC_SEQ_CST);
    r += __atomic_exchange_n(&at64, r ^ x, __ATOMIC_SEQ_CST);
    r += __atomic_exchange_n(&at8, (uint8_t)r, __ATOMIC_SEQ_CST);
    uint32_t expected = at32;
    r += __atomic_compare_exchange_n(&at32, &expected, expected * 3 + 1, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST);
    uint64_t wrong = at64 + 1;
    r += __atomic_compare_exchange_n(&at64, &wrong, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    r += wrong;
    r += __sync_val_compare_and_swap(&at16, at16, (uint16_t)(at16 + 7));
    r += __sync_bool_compare_and_swap(&at8, (uint8_t)(at8 + 1), 0);
    return r + at8 + at16 + at32 + at64;
}

/* Variable-length arrays and alloca: run-time stack adjustments. */
static NOINLINE uint64_t vla(unsigned n) {
    uint64_t a[n + 1];
    uint8_t *b = __builtin_alloca(n * 3 + 5);
    for (unsigned i = 0; i <= n; i++)
        a[i] = (uint64_t)i * i;
    for (unsigned i = 0; i < n * 3 + 5; i++)
        b[i] = (uint8_t)(i ^ n);
    uint64_t s = 0;
    for (unsigned i = 0; i <= n; i++)
        s = s * 3 + a[i] + b[(i * 7) % (n * 3 + 5)];
    return s;
}

uint64_t run(uint64_t seed) {
    uint64_t h = CHECKSUM_INIT;
    uint64_t s = seed;
    static const uint64_t edge[] = {0, 1, 2, 3, 7, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
                                    0x7fffffffffffffffULL, 0x8000000000000000ULL,
                                    0xffffffffffffffffULL, 0xfffffffffffffffeULL,
                                    0x123456789abcdef0ULL};
    const int ne = sizeof(edge) / sizeof(edge[0]);
    for (int i = 0; i < ne + 300; i++) {
        uint64_t x = i < ne ? edge[i] : lcg_next(&s) ^ (lcg_next(&s) << 40);
        uint64_t y = i < ne ? edge[(i * 7 + 3) % ne] : lcg_next(&s) >> (i % 50);
        unsigned n = (unsigned)(y % 70);
        h = mix(h, bit_counts(x));
        h = mix(h, swaps(x));
        h = mix(h, rotl64(x, n) ^ rotr32((uint32_t)x, n) ^ rotl16((uint16_t)y, n)
                       ^ rotr8((uint8_t)x, n));
        h = mix(h, shifts(x, n));
        h = mix(h, udiv_consts(x));
        h = mix(h, sdiv_consts((int64_t)x));
        if (y != 0)
            h = mix(h, divs(x, y));
        h = mix(h, overflow_checks(x, y));
        h = mix(h, narrow(x, y));
        h = mix(h, minmax((int64_t)x, (int64_t)y));
        h = mix(h, hacks(x));
        uint64_t a[4] = {x, y, ~x, y ^ x}, b[4] = {y, x, x, ~y}, r[4];
        add256(r, a, b);
        h = mix(h, r[0] ^ r[1] ^ r[2] ^ r[3]);
    }
    h = mix(h, bitset_ops(seed));
    for (unsigned i = 0; i < 40; i++) {
        h = mix(h, atomics(lcg_next(&s)));
        h = mix(h, vla(i * 5 + (unsigned)(seed & 3)));
    }
    return h;
}
