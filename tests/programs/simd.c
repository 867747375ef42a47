/* SSE2 integer intrinsics: lane-wise add/sub/compare, shifts by immediates and by
 * register counts, whole-register byte shifts, shuffles, unpacks, word insert and
 * extract, movemask. Built with SSE enabled (-msse2 -fno-tree-vectorize instead of
 * -mgeneral-regs-only) so that only these intrinsics produce vector code. */
#include <emmintrin.h>

#include "common.h"

static uint64_t fold(uint64_t h, __m128i v) {
    uint64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, v);
    return mix(mix(h, lanes[0]), lanes[1]);
}

static __m128i random_vec(uint64_t *s) {
    uint64_t lo = lcg_next(s) ^ (lcg_next(s) << 40);
    uint64_t hi = lcg_next(s) ^ (lcg_next(s) << 40);
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

static uint64_t arith(__m128i a, __m128i b, uint64_t h) {
    h = fold(h, _mm_add_epi8(a, b));
    h = fold(h, _mm_add_epi16(a, b));
    h = fold(h, _mm_add_epi32(a, b));
    h = fold(h, _mm_add_epi64(a, b));
    h = fold(h, _mm_sub_epi8(a, b));
    h = fold(h, _mm_sub_epi16(a, b));
    h = fold(h, _mm_sub_epi32(a, b));
    h = fold(h, _mm_sub_epi64(a, b));
    h = fold(h, _mm_cmpeq_epi8(a, b));
    h = fold(h, _mm_cmpeq_epi16(a, _mm_and_si128(a, b)));
    h = fold(h, _mm_cmpeq_epi32(a, _mm_or_si128(a, b)));
    h = fold(h, _mm_cmpgt_epi8(a, b));
    h = fold(h, _mm_cmpgt_epi16(a, b));
    h = fold(h, _mm_cmpgt_epi32(a, b));
    h = fold(h, _mm_andnot_si128(a, b));
    h = fold(h, _mm_xor_si128(a, b));
    return h;
}

static uint64_t shifts(__m128i a, int n, uint64_t h) {
    __m128i c = _mm_cvtsi32_si128(n);
    h = fold(h, _mm_sll_epi16(a, c));
    h = fold(h, _mm_sll_epi32(a, c));
    h = fold(h, _mm_sll_epi64(a, c));
    h = fold(h, _mm_srl_epi16(a, c));
    h = fold(h, _mm_srl_epi32(a, c));
    h = fold(h, _mm_srl_epi64(a, c));
    h = fold(h, _mm_sra_epi16(a, c));
    h = fold(h, _mm_sra_epi32(a, c));
    return h;
}

#define IMM_SHIFTS(N)                                                                          \
    do {                                                                                       \
        h = fold(h, _mm_slli_epi16(a, N));                                                     \
        h = fold(h, _mm_slli_epi32(a, N));                                                     \
        h = fold(h, _mm_slli_epi64(a, N));                                                     \
        h = fold(h, _mm_srli_epi16(a, N));                                                     \
        h = fold(h, _mm_srli_epi32(a, N));                                                     \
        h = fold(h, _mm_srli_epi64(a, N));                                                     \
        h = fold(h, _mm_srai_epi16(a, N));                                                     \
        h = fold(h, _mm_srai_epi32(a, N));                                                     \
    } while (0)

#define BYTE_SHIFTS(N)                                                                         \
    do {                                                                                       \
        h = fold(h, _mm_slli_si128(a, N));                                                     \
        h = fold(h, _mm_srli_si128(a, N));                                                     \
    } while (0)

static uint64_t imm_shifts(__m128i a, uint64_t h) {
    IMM_SHIFTS(0);
    IMM_SHIFTS(1);
    IMM_SHIFTS(7);
    IMM_SHIFTS(15);
    IMM_SHIFTS(16);
    IMM_SHIFTS(31);
    IMM_SHIFTS(33);
    IMM_SHIFTS(63);
    IMM_SHIFTS(64);
    BYTE_SHIFTS(0);
    BYTE_SHIFTS(1);
    BYTE_SHIFTS(5);
    BYTE_SHIFTS(8);
    BYTE_SHIFTS(15);
    BYTE_SHIFTS(16);
    return h;
}

static uint64_t shuffles(__m128i a, __m128i b, uint64_t h) {
    h = fold(h, _mm_shuffle_epi32(a, 0x1b));
    h = fold(h, _mm_shuffle_epi32(a, 0x00));
    h = fold(h, _mm_shuffle_epi32(b, 0xe4));
    h = fold(h, _mm_shuffle_epi32(b, 0x4e));
    h = fold(h, _mm_shufflelo_epi16(a, 0x1b));
    h = fold(h, _mm_shufflelo_epi16(b, 0x55));
    h = fold(h, _mm_shufflehi_epi16(a, 0x1b));
    h = fold(h, _mm_shufflehi_epi16(b, 0xaa));
    h = fold(h, _mm_unpacklo_epi8(a, b));
    h = fold(h, _mm_unpacklo_epi16(a, b));
    h = fold(h, _mm_unpacklo_epi32(a, b));
    h = fold(h, _mm_unpacklo_epi64(a, b));
    h = fold(h, _mm_unpackhi_epi8(a, b));
    h = fold(h, _mm_unpackhi_epi16(a, b));
    h = fold(h, _mm_unpackhi_epi32(a, b));
    h = fold(h, _mm_unpackhi_epi64(a, b));
    h = mix(h, (uint64_t)_mm_movemask_epi8(a));
    h = mix(h, (uint64_t)_mm_extract_epi16(a, 0) | (uint64_t)_mm_extract_epi16(b, 7) << 16
                   | (uint64_t)_mm_extract_epi16(a, 3) << 32);
    __m128i c = _mm_insert_epi16(a, (int)h, 0);
    c = _mm_insert_epi16(c, (int)(h >> 16), 5);
    c = _mm_insert_epi16(c, 0xffff, 7);
    h = fold(h, c);
    h = mix(h, (uint64_t)_mm_cvtsi128_si32(b));
    h = mix(h, (uint64_t)_mm_cvtsi128_si64(a));
    return h;
}

/* A memchr / byte-count in 16-byte steps, as string libraries write them. */
static const uint8_t *find_byte(const uint8_t *p, size_t n, uint8_t c) {
    __m128i needle = _mm_set1_epi8((char)c);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        int m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, needle));
        if (m)
            return p + i + __builtin_ctz((unsigned)m);
    }
    for (; i < n; i++)
        if (p[i] == c)
            return p + i;
    return 0;
}

static uint64_t count_above(const uint8_t *p, size_t n, int8_t t) {
    __m128i thr = _mm_set1_epi8(t);
    uint64_t count = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_load_si128((const __m128i *)(p + i));
        count += (uint64_t)__builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(v, thr)));
    }
    for (; i < n; i++)
        count += (int8_t)p[i] > t;
    return count;
}

static uint8_t buf[1024] __attribute__((aligned(16)));

uint64_t run(uint64_t seed) {
    uint64_t s = seed;
    uint64_t h = CHECKSUM_INIT;
    for (int i = 0; i < 40; i++) {
        __m128i a = random_vec(&s), b = random_vec(&s);
        if (i == 0)
            b = a;
        h = arith(a, b, h);
        h = shifts(a, i * 3 - 2, h);
        h = shuffles(a, b, h);
        if (i % 8 == 0)
            h = imm_shifts(b, h);
    }
    for (int i = 0; i < 1024; i++)
        buf[i] = (uint8_t)lcg_next(&s);
    for (int c = 0; c < 256; c += 17) {
        const uint8_t *f = find_byte(buf + (c & 7), 1000, (uint8_t)c);
        h = mix(h, f ? (uint64_t)(f - buf) : 0xffff);
        h = mix(h, count_above(buf, 1024 - (size_t)(c & 15), (int8_t)(c - 128)));
    }
    return h;
}
