/* 128-bit integer arithmetic: multiply (mul/imul), divide and remainder through
 * libgcc's __udivti3/__umodti3/__divti3/__modti3, shifts across the halves,
 * comparisons, modular exponentiation and decimal conversion. */
#include "common.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

static uint64_t lo(u128 v) { return (uint64_t)v; }
static uint64_t hi(u128 v) { return (uint64_t)(v >> 64); }

/* Opaque to the optimiser, so divisions by "constants" stay real divisions. */
static u128 opaque(u128 v) {
    __asm__ volatile("" : "+r"(v));
    return v;
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return (uint64_t)((u128)a * b % m); }

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m) {
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1)
            r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}

/* Deterministic Miller-Rabin for 64-bit n. */
static int is_prime(uint64_t n) {
    if (n < 2)
        return 0;
    static const uint64_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    for (int i = 0; i < 12; i++) {
        if (n % small[i] == 0)
            return n == small[i];
    }
    uint64_t d = n - 1;
    int s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    for (int i = 0; i < 12; i++) {
        uint64_t x = powmod(small[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        int comp = 1;
        for (int r = 1; r < s; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1) {
                comp = 0;
                break;
            }
        }
        if (comp)
            return 0;
    }
    return 1;
}

static size_t u128_to_dec(u128 v, char *buf) {
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static u128 u128_gcd(u128 a, u128 b) {
    while (b) {
        u128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static u128 isqrt(u128 n) {
    u128 x = n, y = (x + 1) / 2;
    while (y < x) {
        x = y;
        y = (x + n / x) / 2;
    }
    return x;
}

uint64_t run(uint64_t seed) {
    uint64_t h = CHECKSUM_INIT;
    uint64_t s = seed;

    /* Products, quotients and remainders of random operands of mixed widths. */
    for (int i = 0; i < 200; i++) {
        u128 a = ((u128)lcg_next(&s) << 64 | lcg_next(&s) << 20) ^ lcg_next(&s);
        u128 b = (u128)(lcg_next(&s) >> (i % 40));
        if (i % 3 == 0)
            b = b << 64 | lcg_next(&s);
        if (b == 0)
            b = 7;
        u128 q = a / b, r = a % b;
        h = mix(h, lo(q) ^ hi(q));
        h = mix(h, lo(r) + hi(r));
        h = mix(h, q * b + r == a);
        u128 p = (u128)lo(a) * hi(a);
        h = mix(h, lo(p));
        h = mix(h, hi(p));
        i128 sa = (i128)a, sb = (i128)b;
        if (i & 1)
            sb = -sb;
        i128 sq = sa / sb, sr = sa % sb;
        h = mix(h, lo((u128)sq) ^ hi((u128)sr));
        int64_t x = (int64_t)lcg_next(&s) - (int64_t)(1ULL << 45);
        int64_t y = (int64_t)(lcg_next(&s) >> 3) - (int64_t)(1ULL << 43);
        i128 sp = (i128)x * y;
        h = mix(h, lo((u128)sp));
        h = mix(h, hi((u128)sp));
        h = mix(h, (a >> (i % 128)) > (b << (i % 60)));
    }

    /* Division by constants, through an opaque value so both paths run. */
    u128 big = opaque(((u128)0x0123456789abcdefULL << 64) | 0xfedcba9876543210ULL);
    h = mix(h, lo(big / 10) ^ hi(big / 10));
    h = mix(h, lo(big % 1000000007));
    h = mix(h, lo(big / opaque(10)) ^ hi(big / opaque(10)));
    h = mix(h, lo((u128)((i128)big / -3)));

    /* Decimal conversion of 2^127 - 1 and a product. */
    char dec[96];
    size_t n = u128_to_dec(((u128)1 << 127) - 1, dec);
    dec[n++] = ' ';
    n += u128_to_dec((u128)0xffffffffffffffffULL * 0xfffffffffffffffeULL, dec + n);
    host_output(dec, n);
    for (size_t i = 0; i < n; i++)
        h = mix(h, (uint64_t)dec[i]);

    /* Number theory with 128-bit intermediates. */
    uint64_t primes = 0;
    for (uint64_t c = 0xffffffffffffff00ULL + (seed & 7); c != 0; c++)
        primes += is_prime(c);
    for (uint64_t c = 1000000000000000000ULL; c < 1000000000000000000ULL + 300; c++)
        primes += is_prime(c);
    h = mix(h, primes);
    h = mix(h, powmod(3, 0xffffffffffffffc4ULL, 0xffffffffffffffc5ULL));
    u128 g = u128_gcd((u128)0x12345678ULL * 0x9abcdef0ULL * 1000003, (u128)0x12345678ULL * 999983);
    h = mix(h, lo(g));
    u128 sq = isqrt(((u128)1 << 126) + 12345);
    h = mix(h, lo(sq) ^ hi(sq));
    return h;
}
