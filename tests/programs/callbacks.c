/* Function pointers: tables in initialised data (absolute addresses, relocated
 * in static-PIE builds), a generic sort with a comparator, "vtables", callbacks
 * that capture state through a context pointer, functions returning function
 * pointers, and variadic functions. */
#include <stdarg.h>

#include "common.h"

typedef uint64_t (*unary_fn)(uint64_t);
typedef int (*cmp_fn)(const void *, const void *, void *ctx);

static uint64_t f_double(uint64_t x) { return x * 2; }
static uint64_t f_square(uint64_t x) { return x * x; }
static uint64_t f_inc(uint64_t x) { return x + 1; }
static uint64_t f_rev(uint64_t x) { return __builtin_bswap64(x); }
static uint64_t f_collatz(uint64_t x) { return x & 1 ? 3 * x + 1 : x / 2; }

/* A table of pointers in .data: R_X86_64_RELATIVE relocations under static PIE. */
static unary_fn table[] = {f_double, f_square, f_inc, f_rev, f_collatz};
static const struct {
    const char *name;
    unary_fn fn;
} named[] = {{"double", f_double}, {"square", f_square}, {"inc", f_inc}};

static uint64_t apply_n(unary_fn f, uint64_t x, int n) {
    while (n--)
        x = f(x);
    return x;
}

static uint64_t compose_all(uint64_t x) {
    for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        x = table[i](x);
    return x;
}

static unary_fn pick(uint64_t k) {
    return table[k % (sizeof(table) / sizeof(table[0]))];
}

/* Generic insertion-merge sort on opaque elements with a comparator and context. */
static void swap_bytes(unsigned char *a, unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void generic_sort(void *base, size_t n, size_t size, cmp_fn cmp, void *ctx) {
    unsigned char *b = base;
    /* Shell sort with a simple gap sequence. */
    for (size_t gap = n / 2; gap > 0; gap /= 2) {
        for (size_t i = gap; i < n; i++) {
            for (size_t j = i; j >= gap && cmp(b + (j - gap) * size, b + j * size, ctx) > 0;
                 j -= gap)
                swap_bytes(b + (j - gap) * size, b + j * size, size);
        }
    }
}

struct cmp_stats {
    uint64_t calls;
    int descending;
};

static int cmp_u32(const void *a, const void *b, void *ctx) {
    struct cmp_stats *st = ctx;
    st->calls++;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int r = (x > y) - (x < y);
    return st->descending ? -r : r;
}

struct point {
    int32_t x, y;
    uint8_t tag;
};

static int cmp_point_dist(const void *a, const void *b, void *ctx) {
    (void)ctx;
    const struct point *p = a, *q = b;
    int64_t dp = (int64_t)p->x * p->x + (int64_t)p->y * p->y;
    int64_t dq = (int64_t)q->x * q->x + (int64_t)q->y * q->y;
    if (dp != dq)
        return dp < dq ? -1 : 1;
    return (int)p->tag - (int)q->tag;
}

/* A "class" with a vtable. */
struct shape;
struct shape_vt {
    uint64_t (*area2)(const struct shape *);
    uint64_t (*perimeter)(const struct shape *);
    const char *name;
};
struct shape {
    const struct shape_vt *vt;
    uint64_t a, b;
};

static uint64_t rect_area2(const struct shape *s) { return 2 * s->a * s->b; }
static uint64_t rect_perim(const struct shape *s) { return 2 * (s->a + s->b); }
static uint64_t tri_area2(const struct shape *s) { return s->a * s->b; }
static uint64_t tri_perim(const struct shape *s) { return s->a + s->b + (s->a > s->b ? s->a : s->b); }
static const struct shape_vt rect_vt = {rect_area2, rect_perim, "rect"};
static const struct shape_vt tri_vt = {tri_area2, tri_perim, "tri"};

/* Callbacks with state: a fold. */
typedef uint64_t (*fold_fn)(uint64_t acc, uint64_t x, void *ctx);
static uint64_t fold(const uint64_t *v, size_t n, uint64_t init, fold_fn f, void *ctx) {
    for (size_t i = 0; i < n; i++)
        init = f(init, v[i], ctx);
    return init;
}
static uint64_t fold_weighted(uint64_t acc, uint64_t x, void *ctx) {
    uint64_t *w = ctx;
    *w += 3;
    return acc + x * *w;
}
static uint64_t fold_max(uint64_t acc, uint64_t x, void *ctx) {
    (void)ctx;
    return x > acc ? x : acc;
}

/* Variadic functions (integer arguments only; some spill to the stack). */
static uint64_t sum_va(int count, ...) {
    va_list ap;
    va_start(ap, count);
    uint64_t s = 0;
    for (int i = 0; i < count; i++)
        s = s * 31 + va_arg(ap, uint64_t);
    va_end(ap);
    return s;
}

static uint64_t apply_va(unary_fn f, int count, ...) {
    va_list ap;
    va_start(ap, count);
    uint64_t s = 0;
    for (int i = 0; i < count; i++) {
        int v = va_arg(ap, int);
        s ^= f((uint64_t)(int64_t)v);
    }
    va_end(ap);
    return s;
}

/* Mutual recursion through pointers. */
static uint64_t ping(uint64_t n, uint64_t (*other)(uint64_t, void *), void *self);
static uint64_t pong(uint64_t n, void *self) {
    return n == 0 ? 1 : 2 * ping(n - 1, pong, self) + 1;
}
static uint64_t ping(uint64_t n, uint64_t (*other)(uint64_t, void *), void *self) {
    return n == 0 ? 0 : other(n - 1, self) + n;
}

uint64_t run(uint64_t seed) {
    uint64_t h = CHECKSUM_INIT;
    uint64_t s = seed;
    for (int i = 0; i < 5; i++)
        h = mix(h, apply_n(table[i], seed + (uint64_t)i, 10 + i));
    h = mix(h, compose_all(seed));
    for (uint64_t k = 0; k < 50; k++)
        h = mix(h, pick(k * 7 + seed)(k));
    for (unsigned i = 0; i < 3; i++)
        h = mix(h, named[i].fn(named[i].name[0]));

    uint32_t nums[200];
    for (int i = 0; i < 200; i++)
        nums[i] = (uint32_t)lcg_next(&s);
    struct cmp_stats st = {0, 0};
    generic_sort(nums, 200, sizeof(nums[0]), cmp_u32, &st);
    for (int i = 0; i < 200; i += 10)
        h = mix(h, nums[i]);
    st.descending = 1;
    generic_sort(nums, 200, sizeof(nums[0]), cmp_u32, &st);
    h = mix(h, nums[0]);
    h = mix(h, st.calls);

    struct point pts[60];
    for (int i = 0; i < 60; i++) {
        pts[i].x = (int32_t)(lcg_next(&s) % 2001) - 1000;
        pts[i].y = (int32_t)(lcg_next(&s) % 2001) - 1000;
        pts[i].tag = (uint8_t)i;
    }
    generic_sort(pts, 60, sizeof(pts[0]), cmp_point_dist, 0);
    for (int i = 0; i < 60; i++)
        h = mix(h, (uint64_t)(uint32_t)pts[i].x << 32 | (uint32_t)pts[i].y);

    struct shape shapes[6];
    for (int i = 0; i < 6; i++) {
        shapes[i].vt = i % 2 ? &rect_vt : &tri_vt;
        shapes[i].a = 3 + (uint64_t)i;
        shapes[i].b = 10 - (uint64_t)i;
    }
    for (int i = 0; i < 6; i++) {
        h = mix(h, shapes[i].vt->area2(&shapes[i]));
        h = mix(h, shapes[i].vt->perimeter(&shapes[i]));
        h = mix(h, (uint64_t)shapes[i].vt->name[0]);
    }

    uint64_t vals[32];
    for (int i = 0; i < 32; i++)
        vals[i] = lcg_next(&s) % 1000;
    uint64_t w = 0;
    h = mix(h, fold(vals, 32, 0, fold_weighted, &w));
    h = mix(h, fold(vals, 32, 0, fold_max, 0));
    h = mix(h, w);

    h = mix(h, sum_va(3, 1ULL, 2ULL, 3ULL));
    h = mix(h, sum_va(10, seed, 2ULL, 3ULL, 4ULL, 5ULL, 6ULL, 7ULL, 8ULL, 9ULL, 10ULL));
    h = mix(h, apply_va(f_square, 8, -1, 2, -3, 4, -5, 6, -7, 8));
    h = mix(h, ping(20, pong, 0));
    return h;
}
