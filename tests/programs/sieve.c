/* Sieve of Eratosthenes: a bit array in .bss, a byte array on the heap (alloc/free),
 * plus a segmented count using 32-bit arithmetic. */
#include "common.h"

#define LIMIT 200000

static uint64_t bits[LIMIT / 64 + 1];

static void set_bit(uint64_t i) { bits[i >> 6] |= 1ULL << (i & 63); }
static int get_bit(uint64_t i) { return (bits[i >> 6] >> (i & 63)) & 1; }

/* Bit sieve: bit set = composite. */
static uint64_t sieve_bits(uint64_t limit, uint64_t *sum) {
    for (uint64_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        bits[i] = 0;
    set_bit(0);
    set_bit(1);
    for (uint64_t p = 2; p * p < limit; p++) {
        if (get_bit(p))
            continue;
        for (uint64_t m = p * p; m < limit; m += p)
            set_bit(m);
    }
    uint64_t count = 0, s = 0;
    for (uint64_t i = 0; i < limit; i++) {
        if (!get_bit(i)) {
            count++;
            s += i;
        }
    }
    *sum = s;
    return count;
}

/* Byte sieve on the heap; returns a checksum of the primes and their gaps. */
static uint64_t sieve_bytes(uint32_t limit) {
    uint8_t *composite = host_alloc(limit, 16);
    if (!composite)
        return 0;
    for (uint32_t i = 0; i < limit; i++)
        composite[i] = 0;
    for (uint32_t p = 2; p * p < limit; p++) {
        if (composite[p])
            continue;
        for (uint32_t m = p * p; m < limit; m += p)
            composite[m] = 1;
    }
    uint64_t h = CHECKSUM_INIT;
    uint32_t last = 2, max_gap = 0;
    for (uint32_t i = 3; i < limit; i++) {
        if (composite[i])
            continue;
        uint32_t gap = i - last;
        if (gap > max_gap)
            max_gap = gap;
        last = i;
        if ((i & 1023) < 16)
            h = mix(h, i);
    }
    host_free(composite);
    return mix(h, max_gap);
}

/* Twin primes below limit, with the bit sieve already computed. */
static uint64_t twins(uint64_t limit) {
    uint64_t n = 0;
    for (uint64_t i = 3; i + 2 < limit; i += 2)
        n += !get_bit(i) && !get_bit(i + 2);
    return n;
}

uint64_t run(uint64_t limit) {
    if (limit > LIMIT)
        limit = LIMIT;
    uint64_t sum;
    uint64_t count = sieve_bits(limit, &sum);
    uint64_t h = mix(CHECKSUM_INIT, count);
    h = mix(h, sum);
    h = mix(h, twins(limit));
    h = mix(h, sieve_bytes((uint32_t)limit));
    char msg[64];
    size_t len = put_str(msg, 0, "primes below ");
    len = put_u64(msg, len, limit);
    len = put_str(msg, len, ": ");
    len = put_u64(msg, len, count);
    host_debug(msg, len);
    return h;
}
