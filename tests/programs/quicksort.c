/* Quicksort (recursive, Lomuto and Hoare partitions) over pseudo-random arrays of
 * several element types, an insertion sort for small slices, and a sort of structs
 * by key. */
#include "common.h"

#define N 3000

static uint64_t a64[N];
static int32_t a32[N];
static int16_t a16[N];

struct rec {
    uint32_t key;
    uint16_t tag;
    uint8_t flags;
    int64_t payload;
};
static struct rec recs[N / 4];

static void qsort_u64(uint64_t *a, long lo, long hi) {
    while (lo < hi) {
        uint64_t pivot = a[lo + (hi - lo) / 2];
        long i = lo - 1, j = hi + 1;
        for (;;) {
            do
                i++;
            while (a[i] < pivot);
            do
                j--;
            while (a[j] > pivot);
            if (i >= j)
                break;
            uint64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        /* Recurse on the smaller half, loop on the larger. */
        if (j - lo < hi - j) {
            qsort_u64(a, lo, j);
            lo = j + 1;
        } else {
            qsort_u64(a, j + 1, hi);
            hi = j;
        }
    }
}

static void insertion_i32(int32_t *a, int n) {
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void qsort_i32(int32_t *a, int n) {
    if (n <= 12) {
        insertion_i32(a, n);
        return;
    }
    /* Lomuto partition with a median-of-three pivot moved to the end. */
    int mid = n / 2;
    if (a[mid] < a[0]) {
        int32_t t = a[mid]; a[mid] = a[0]; a[0] = t;
    }
    if (a[n - 1] < a[0]) {
        int32_t t = a[n - 1]; a[n - 1] = a[0]; a[0] = t;
    }
    if (a[n - 1] < a[mid]) {
        int32_t t = a[n - 1]; a[n - 1] = a[mid]; a[mid] = t;
    }
    int32_t t = a[mid]; a[mid] = a[n - 1]; a[n - 1] = t;
    int32_t pivot = a[n - 1];
    int store = 0;
    for (int i = 0; i < n - 1; i++) {
        if (a[i] < pivot) {
            int32_t x = a[i]; a[i] = a[store]; a[store] = x;
            store++;
        }
    }
    t = a[store]; a[store] = a[n - 1]; a[n - 1] = t;
    qsort_i32(a, store);
    qsort_i32(a + store + 1, n - store - 1);
}

static void qsort_i16(int16_t *a, int lo, int hi) {
    if (lo >= hi)
        return;
    int16_t pivot = a[hi];
    int i = lo;
    for (int j = lo; j < hi; j++) {
        if (a[j] <= pivot) {
            int16_t t = a[i]; a[i] = a[j]; a[j] = t;
            i++;
        }
    }
    int16_t t = a[i]; a[i] = a[hi]; a[hi] = t;
    qsort_i16(a, lo, i - 1);
    qsort_i16(a, i + 1, hi);
}

static int rec_less(const struct rec *x, const struct rec *y) {
    if (x->key != y->key)
        return x->key < y->key;
    return x->tag < y->tag;
}

static void qsort_rec(struct rec *a, int lo, int hi) {
    if (lo >= hi)
        return;
    struct rec pivot = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
        while (rec_less(&a[i], &pivot))
            i++;
        while (rec_less(&pivot, &a[j]))
            j--;
        if (i <= j) {
            struct rec t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
    }
    qsort_rec(a, lo, j);
    qsort_rec(a, i, hi);
}

uint64_t run(uint64_t seed) {
    uint64_t s = seed;
    for (int i = 0; i < N; i++) {
        a64[i] = lcg_next(&s) * 0x9e3779b97f4a7c15ULL;
        a32[i] = (int32_t)(lcg_next(&s) & 0xffffffff);
        a16[i] = (int16_t)(lcg_next(&s) % 2001) - 1000;
    }
    for (int i = 0; i < N / 4; i++) {
        recs[i].key = (uint32_t)(lcg_next(&s) % 97);
        recs[i].tag = (uint16_t)i;
        recs[i].flags = (uint8_t)lcg_next(&s);
        recs[i].payload = -(int64_t)(lcg_next(&s) & 0xffffff);
    }
    qsort_u64(a64, 0, N - 1);
    qsort_i32(a32, N);
    qsort_i16(a16, 0, N - 1);
    qsort_rec(recs, 0, N / 4 - 1);

    uint64_t sorted = 1;
    uint64_t h = CHECKSUM_INIT;
    for (int i = 0; i < N; i++) {
        if (i > 0) {
            sorted &= a64[i - 1] <= a64[i];
            sorted &= a32[i - 1] <= a32[i];
            sorted &= a16[i - 1] <= a16[i];
        }
        h = mix(h, a64[i] ^ (uint64_t)(int64_t)a32[i] ^ ((uint64_t)(int64_t)a16[i] << 40));
    }
    for (int i = 0; i < N / 4; i++) {
        if (i > 0)
            sorted &= !rec_less(&recs[i], &recs[i - 1]);
        h = mix(h, recs[i].key | (uint64_t)recs[i].tag << 8 | (uint64_t)recs[i].flags << 24);
        h = mix(h, (uint64_t)recs[i].payload);
    }
    return h * 2 + sorted;
}
