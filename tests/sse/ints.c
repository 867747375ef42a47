/* Integer loops the compilers auto-vectorise: sums, saturating arithmetic,
 * min/max, multiplies, dot products of 16-bit values, compare-and-select,
 * shifts, byte searches, widening and narrowing conversions, absolute values,
 * and a CRC32 that -msse4.2 builds turn into the crc32 instruction. */
#define TESTS 12
#include "start.h"

#define N 1000
static uint8_t b8[N + 64], c8[N + 64];
static int16_t s16[N], t16[N];
static int32_t i32[N], j32[N];
static uint32_t u32[N];
static int64_t i64[N];

static void fill(uint64_t k) {
    uint64_t s = k * 7919 + 3;
    for (int i = 0; i < N + 64; i++) { b8[i] = next(&s); c8[i] = next(&s); }
    for (int i = 0; i < N; i++) {
        s16[i] = next(&s);
        t16[i] = next(&s);
        i32[i] = next(&s);
        j32[i] = (int32_t)next(&s) >> (next(&s) % 20);
        u32[i] = next(&s);
        i64[i] = (int64_t)(next(&s) << 30) ^ next(&s);
    }
}

static uint64_t sums(uint64_t h) {
    uint32_t bs = 0;
    int64_t s = 0;
    int32_t t = 0;
    uint64_t q = 0;
    for (int i = 0; i < N; i++) bs += b8[i];
    for (int i = 0; i < N; i++) s += i32[i];
    for (int i = 0; i < N; i++) t += s16[i];
    for (int i = 0; i < N; i++) q += (uint64_t)i64[i];
    return MIX(MIX(MIX(MIX(h, bs), s), t), q);
}

static uint64_t saturate(uint64_t h) {
    for (int i = 0; i < N; i++) {
        unsigned v = b8[i] + c8[i];
        c8[i] = v > 255 ? 255 : v;
    }
    for (int i = 0; i < N; i++) {
        int v = b8[i] - c8[i];
        b8[i] = v < 0 ? 0 : v;
    }
    for (int i = 0; i < N; i++) {
        int v = s16[i] + t16[i];
        s16[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    for (int i = 0; i < N; i++) h = MIX(MIX(MIX(h, b8[i]), c8[i]), s16[i]);
    return h;
}

static uint64_t minmax(uint64_t h) {
    uint8_t mb = 255;
    int32_t mx = INT32_MIN;
    uint32_t mu = 0;
    int16_t ms = 32767;
    for (int i = 0; i < N; i++) mb = b8[i] < mb ? b8[i] : mb;
    for (int i = 0; i < N; i++) mx = i32[i] > mx ? i32[i] : mx;
    for (int i = 0; i < N; i++) mu = u32[i] > mu ? u32[i] : mu;
    for (int i = 0; i < N; i++) ms = s16[i] < ms ? s16[i] : ms;
    for (int i = 0; i < N; i++) i32[i] = i32[i] < j32[i] ? i32[i] : j32[i];
    for (int i = 0; i < N; i++) h = MIX(h, i32[i]);
    return MIX(MIX(MIX(MIX(h, mb), mx), mu), ms);
}

static uint64_t multiplies(uint64_t h) {
    for (int i = 0; i < N; i++) i32[i] = i32[i] * j32[i] + 7;
    for (int i = 0; i < N; i++) s16[i] = s16[i] * t16[i];
    for (int i = 0; i < N; i++) i64[i] = i64[i] * (int64_t)u32[i];
    for (int i = 0; i < N; i++) u32[i] = (uint32_t)(((uint64_t)u32[i] * 2654435761u) >> 32);
    int32_t dot = 0;
    for (int i = 0; i < N; i++) dot += s16[i] * t16[i];
    for (int i = 0; i < N; i++) h = MIX(MIX(MIX(MIX(h, i32[i]), s16[i]), i64[i]), u32[i]);
    return MIX(h, dot);
}

static uint64_t selects(uint64_t h) {
    for (int i = 0; i < N; i++) i32[i] = i32[i] > j32[i] ? i32[i] - j32[i] : j32[i] * 3;
    for (int i = 0; i < N; i++) b8[i] = b8[i] == c8[i] ? 0 : b8[i] > c8[i] ? 1 : 2;
    for (int i = 0; i < N; i++) i64[i] = i64[i] > 0 ? i64[i] : -i64[i];
    for (int i = 0; i < N; i++) j32[i] = j32[i] < 0 ? -j32[i] : j32[i];
    for (int i = 0; i < N; i++) h = MIX(MIX(MIX(MIX(h, i32[i]), b8[i]), i64[i]), j32[i]);
    return h;
}

static uint64_t shifts(uint64_t h) {
    for (int i = 0; i < N; i++) i32[i] = (i32[i] >> 3) ^ (i32[i] << 5);
    for (int i = 0; i < N; i++) u32[i] = (u32[i] >> 7) | (u32[i] << 25);
    for (int i = 0; i < N; i++) s16[i] = s16[i] >> (i & 7);
    for (int i = 0; i < N; i++) i64[i] = i64[i] >> 13;
    for (int i = 0; i < N; i++) h = MIX(MIX(MIX(MIX(h, i32[i]), u32[i]), s16[i]), i64[i]);
    return h;
}

static uint64_t bytes(uint64_t h) {
    int count = 0, first = -1;
    for (int i = 0; i < N; i++) count += b8[i] == 0x41;
    for (int i = 0; i < N; i++)
        if (b8[i] == c8[0]) { first = i; break; }
    uint64_t len = 0;
    b8[N / 2 + (h & 63)] = 0;
    while (b8[len]) len++;
    for (int i = 0; i < N; i++) c8[i] = (b8[i] >= 'a' && b8[i] <= 'z') ? b8[i] - 32 : b8[i];
    for (int i = 0; i < N; i++) h = MIX(h, c8[i]);
    return MIX(MIX(MIX(h, count), first), len);
}

static uint64_t widen_narrow(uint64_t h) {
    for (int i = 0; i < N; i++) i32[i] = b8[i] + s16[i];
    for (int i = 0; i < N; i++) i64[i] = i32[i] + (int64_t)j32[i];
    for (int i = 0; i < N; i++) c8[i] = (uint8_t)(i32[i] >> 4);
    for (int i = 0; i < N; i++) s16[i] = (int16_t)(u32[i] >> 8);
    for (int i = 0; i < N; i++) h = MIX(MIX(MIX(MIX(h, i32[i]), i64[i]), c8[i]), s16[i]);
    return h;
}

static uint32_t crc32c(const uint8_t *p, int n) {
    uint32_t c = ~0u;
    for (int i = 0; i < n; i++) {
#ifdef __SSE4_2__
        c = __builtin_ia32_crc32qi(c, p[i]);
#else
        c ^= p[i];
        for (int b = 0; b < 8; b++) c = (c >> 1) ^ (0x82f63b78u & -(c & 1));
#endif
    }
    return ~c;
}

static uint64_t misc(uint64_t h) {
    int pop = 0;
    for (int i = 0; i < N; i++) pop += __builtin_popcount(u32[i]);
    uint64_t x = 0;
    for (int i = 0; i < N; i++) x ^= (uint64_t)i64[i] * (i | 1);
    return MIX(MIX(MIX(h, pop), x), crc32c(b8, N));
}

static uint64_t sad(uint64_t h) {
    unsigned s = 0;
    for (int i = 0; i < N; i++) s += b8[i] > c8[i] ? b8[i] - c8[i] : c8[i] - b8[i];
    unsigned avg = 0;
    for (int i = 0; i < N; i++) { c8[i] = (b8[i] + c8[i] + 1) >> 1; avg += c8[i]; }
    return MIX(MIX(h, s), avg);
}

uint64_t run(uint64_t k) {
    fill(k);
    uint64_t h = k;
    switch (k) {
    case 0: h = sums(h); break;
    case 1: h = saturate(h); break;
    case 2: h = minmax(h); break;
    case 3: h = multiplies(h); break;
    case 4: h = selects(h); break;
    case 5: h = shifts(h); break;
    case 6: h = bytes(h); break;
    case 7: h = widen_narrow(h); break;
    case 8: h = misc(h); break;
    case 9: h = sad(h); break;
    default: h = misc(selects(multiplies(saturate(sums(h))))); break;
    }
    return h;
}
