/* Structs by value: small ones in RAX:RDX, large ones through a hidden pointer and
 * block copies, nested structs and arrays, unions, bitfields and packed
 * (unaligned) members. */
#include "common.h"

#define NOINLINE __attribute__((noinline))

struct pair {
    uint64_t a, b;
};
struct small {
    uint32_t x;
    uint16_t y;
    uint8_t z;
};
struct big {
    uint64_t v[12];
    struct pair p;
    struct small s;
    char name[21];
};
struct bits {
    unsigned a : 3;
    unsigned b : 9;
    signed c : 7;
    unsigned d : 13;
    uint64_t e : 40;
    int64_t f : 24;
};
struct __attribute__((packed)) packed {
    uint8_t tag;
    uint64_t value;
    uint16_t half;
    uint32_t word;
};
union view {
    uint64_t u64;
    uint32_t u32[2];
    uint16_t u16[4];
    uint8_t u8[8];
    int64_t i64;
};

static NOINLINE struct pair make_pair(uint64_t a, uint64_t b) {
    struct pair p = {a * 3, b ^ a};
    return p;
}

static NOINLINE struct pair swap_pair(struct pair p) {
    struct pair r = {p.b, p.a};
    return r;
}

static NOINLINE struct small make_small(uint64_t v) {
    struct small s = {(uint32_t)v, (uint16_t)(v >> 32), (uint8_t)(v >> 48)};
    return s;
}

static NOINLINE uint64_t sum_small(struct small s) { return s.x + (uint64_t)s.y * 7 + s.z; }

static NOINLINE struct big make_big(uint64_t seed) {
    struct big b;
    for (int i = 0; i < 12; i++)
        b.v[i] = seed * (uint64_t)(i + 1) + (uint64_t)i;
    b.p = make_pair(seed, seed + 1);
    b.s = make_small(seed * 0x10001);
    for (int i = 0; i < 20; i++)
        b.name[i] = (char)('a' + (seed + (uint64_t)i) % 26);
    b.name[20] = 0;
    return b;
}

/* Takes a large struct by value (copied to the stack) and returns a modified copy. */
static NOINLINE struct big transform(struct big b, int k) {
    for (int i = 0; i < 12; i++)
        b.v[i] = (b.v[i] << (k & 7)) ^ b.v[(i + k) % 12];
    b.p = swap_pair(b.p);
    b.s.z = (uint8_t)(b.s.z + k);
    b.name[k % 20] = '!';
    return b;
}

static NOINLINE uint64_t hash_big(const struct big *b) {
    uint64_t h = CHECKSUM_INIT;
    for (int i = 0; i < 12; i++)
        h = mix(h, b->v[i]);
    h = mix(h, b->p.a);
    h = mix(h, b->p.b);
    h = mix(h, sum_small(b->s));
    for (int i = 0; b->name[i]; i++)
        h = mix(h, (uint64_t)b->name[i]);
    return h;
}

static NOINLINE uint64_t many_args(struct pair a, struct small b, uint64_t c, struct pair d,
                                   uint64_t e, uint64_t f, struct small g, uint64_t h) {
    return a.a * 3 + a.b * 5 + sum_small(b) * 7 + c * 11 + d.a * 13 + d.b * 17 + e * 19
           + f * 23 + sum_small(g) * 29 + h * 31;
}

static NOINLINE uint64_t bitfields(uint64_t seed) {
    struct bits arr[16];
    uint64_t s = seed;
    for (int i = 0; i < 16; i++) {
        arr[i].a = (unsigned)lcg_next(&s);
        arr[i].b = (unsigned)lcg_next(&s);
        arr[i].c = (signed)(lcg_next(&s) % 128) - 64;
        arr[i].d = (unsigned)lcg_next(&s);
        arr[i].e = lcg_next(&s);
        arr[i].f = (int64_t)(lcg_next(&s) % 16000000) - 8000000;
    }
    uint64_t h = CHECKSUM_INIT;
    for (int i = 0; i < 16; i++) {
        arr[i].b += arr[i].a;
        arr[i].c = (signed)(arr[i].c / 2);
        arr[i].e ^= arr[i].d;
        h = mix(h, arr[i].a | (uint64_t)arr[i].b << 3 | (uint64_t)arr[i].d << 12);
        h = mix(h, (uint64_t)(int64_t)arr[i].c);
        h = mix(h, arr[i].e);
        h = mix(h, (uint64_t)(int64_t)arr[i].f);
    }
    return h;
}

static struct packed packed_arr[10];

static NOINLINE uint64_t packed_ops(uint64_t seed) {
    for (int i = 0; i < 10; i++) {
        packed_arr[i].tag = (uint8_t)i;
        packed_arr[i].value = seed * (uint64_t)(i + 3);
        packed_arr[i].half = (uint16_t)(seed >> i);
        packed_arr[i].word = (uint32_t)(seed >> (2 * i));
    }
    uint64_t h = CHECKSUM_INIT;
    for (int i = 0; i < 10; i++) {
        packed_arr[i].value += packed_arr[(i + 1) % 10].word;
        h = mix(h, packed_arr[i].value ^ packed_arr[i].half ^ ((uint64_t)packed_arr[i].tag << 56));
    }
    return mix(h, sizeof(struct packed));
}

static NOINLINE uint64_t unions(uint64_t x) {
    union view v;
    v.u64 = x;
    uint64_t h = v.u32[0] ^ ((uint64_t)v.u32[1] << 7);
    h += v.u16[1] + (uint64_t)v.u16[3] * 3;
    for (int i = 0; i < 8; i++)
        h = h * 131 + v.u8[i];
    v.u8[3] = 0xff;
    v.u16[0] = 0x1234;
    return h ^ v.u64 ^ (uint64_t)(v.i64 >> 3);
}

struct node {
    struct pair kv;
    struct small meta;
    struct {
        uint8_t depth;
        uint8_t flags[3];
    } inner;
};

uint64_t run(uint64_t seed) {
    uint64_t h = CHECKSUM_INIT;
    struct big b = make_big(seed);
    h = mix(h, hash_big(&b));
    for (int k = 0; k < 8; k++) {
        b = transform(b, k);
        h = mix(h, hash_big(&b));
    }
    struct big copy = b;
    copy.v[0] = 0;
    h = mix(h, hash_big(&copy) ^ hash_big(&b));

    struct pair p = make_pair(seed, 99);
    for (int i = 0; i < 5; i++) {
        p = swap_pair(p);
        p.a += (uint64_t)i;
    }
    h = mix(h, p.a);
    h = mix(h, p.b);
    h = mix(h, many_args(p, make_small(seed), 3, make_pair(4, 5), 6, 7, make_small(~seed), 8));

    struct node nodes[8];
    for (int i = 0; i < 8; i++) {
        struct node n = {make_pair(seed + (uint64_t)i, (uint64_t)i), make_small((uint64_t)i * 1000),
                         {(uint8_t)i, {1, 2, (uint8_t)i}}};
        nodes[i] = n;
    }
    for (int i = 0; i < 8; i++) {
        struct node n = nodes[7 - i];
        h = mix(h, n.kv.a ^ n.kv.b ^ sum_small(n.meta) ^ n.inner.depth ^ n.inner.flags[2]);
    }
    h = mix(h, bitfields(seed));
    h = mix(h, packed_ops(seed));
    h = mix(h, unions(seed * 0x0101010101010101ULL));
    return h;
}
