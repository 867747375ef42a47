/* Scalar and vectorisable floating point: series, polynomials, dot products,
 * matrix products, conversions, comparisons with NaN, min/max, special values,
 * all four rounding modes, DAZ/FTZ, and the MXCSR flags that result. */
#define TESTS 12
#include "start.h"

#define N 256
static double da[N], db[N], dc[N];
static float fa[N], fb[N], fc[N];
static int ia[N];

static void fill(uint64_t k) {
    uint64_t s = k * 977 + 1;
    for (int i = 0; i < N; i++) {
        da[i] = (double)(int64_t)(next(&s) % 2000001 - 1000000) / 1024.0;
        db[i] = (double)(next(&s) % 100000) / 7.0 + 0.5;
        fa[i] = (float)da[i] / 3.0f;
        fb[i] = (float)db[i] * 1.5f;
        ia[i] = (int)(next(&s) % 4000001) - 2000000;
    }
}

static uint64_t series(uint64_t h) {
    double pi = 0, e = 1, term = 1;
    for (int i = 0; i < 2000; i++) pi += (i & 1 ? -4.0 : 4.0) / (2 * i + 1);
    for (int i = 1; i < 30; i++) { term /= i; e += term; }
    float fpi = 0;
    for (int i = 0; i < 2000; i++) fpi += (i & 1 ? -4.0f : 4.0f) / (2 * i + 1);
    return mixf(mixd(mixd(h, pi), e), fpi);
}

static uint64_t dots(uint64_t h) {
    double s = 0;
    float t = 0;
    for (int i = 0; i < N; i++) s += da[i] * db[i];
    for (int i = 0; i < N; i++) t += fa[i] * fb[i];
    for (int i = 0; i < N; i++) dc[i] = da[i] * 3.25 - db[i] / 7.0;
    for (int i = 0; i < N; i++) fc[i] = fa[i] * fb[i] + fa[i] / (fb[i] + 1.0f);
    for (int i = 0; i < N; i++) h = mixd(mixf(h, fc[i]), dc[i]);
    return mixf(mixd(h, s), t);
}

static uint64_t matrix(uint64_t h) {
    enum { M = 12 };
    float a[M][M], b[M][M], c[M][M];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) { a[i][j] = fa[i * M + j]; b[i][j] = fb[j * M + i]; }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            float s = 0;
            for (int k = 0; k < M; k++) s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) h = mixf(h, c[i][j]);
    return h;
}

static uint64_t conversions(uint64_t h) {
    for (int i = 0; i < N; i++) {
        double d = da[i] * 4096.0 * 1024.0;
        h = MIX(h, (int64_t)d);
        h = MIX(h, (int32_t)(fa[i] * 1000.0f));
        h = mixd(h, (double)ia[i] / 3);
        h = mixf(h, (float)ia[i]);
        h = mixf(h, (float)(int64_t)(ia[i] * 1234567ll));
        h = mixd(h, (double)fa[i]);
        h = mixf(h, (float)da[i]);
        h = MIX(h, (uint32_t)db[i]);
        h = MIX(h, (uint64_t)(db[i] * 1e12));
    }
    return h;
}

static uint64_t compares(uint64_t h) {
    volatile double zero = 0.0;
    double nan = zero / zero, inf = 1.0 / zero;
    double vals[] = {nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 5e-324, 1e308, -nan};
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++) {
            double x = vals[i], y = vals[j];
            h = MIX(h, (x < y) | (x <= y) << 1 | (x == y) << 2 | (x != y) << 3 | (x > y) << 4 |
                           (x >= y) << 5 | __builtin_isunordered(x, y) << 6);
            h = mixd(h, x < y ? x : y);
            h = mixd(h, x > y ? x : y);
            h = mixd(h, x + y);
            h = mixd(h, x * y);
            h = mixd(h, x / y);
            h = mixf(h, (float)x - (float)y);
        }
    return h;
}

static uint64_t minmax(uint64_t h) {
    double mn = da[0], mx = da[0];
    float fmn = fa[0], fmx = fa[0];
    for (int i = 0; i < N; i++) {
        mn = da[i] < mn ? da[i] : mn;
        mx = da[i] > mx ? da[i] : mx;
        fmn = fa[i] < fmn ? fa[i] : fmn;
        fmx = fa[i] > fmx ? fa[i] : fmx;
    }
    for (int i = 0; i < N; i++) fc[i] = fa[i] > 0 ? fa[i] : -fa[i];
    for (int i = 0; i < N; i++) h = mixf(h, fc[i]);
    return mixf(mixf(mixd(mixd(h, mn), mx), fmn), fmx);
}

static uint64_t rounding_modes(uint64_t h) {
    static const unsigned modes[] = {0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0x1fc0, 0x9f80};
    for (int m = 0; m < 7; m++) {
        _mm_setcsr(modes[m]);
        volatile double x = 1.0, y = 3.0, tiny = 1e-310, big = 1e308;
        volatile float fx = 1.0f, fy = 3.0f, ftiny = 1e-40f;
        h = mixd(h, x / y);
        h = mixd(h, -x / y);
        h = mixd(h, tiny * 0.5);
        h = mixd(h, tiny + tiny);
        h = mixd(h, big * 10.0);
        h = mixd(h, -big * 10.0);
        h = mixf(h, fx / fy);
        h = mixf(h, ftiny * 3.0f);
        h = mixf(h, (float)(x / y));
        h = MIX(h, _mm_cvtss_si32(_mm_set_ss(2.5f)));
        h = MIX(h, _mm_cvtss_si32(_mm_set_ss(-2.5f)));
        h = MIX(h, (int)(x / y * 7.0));
        double acc = 0;
        for (int i = 0; i < N; i++) acc += da[i] / db[i];
        h = mixd(h, acc);
        h = MIX(h, _mm_getcsr());
    }
    _mm_setcsr(0x1f80);
    return h;
}

static uint64_t newton(uint64_t h) {
    for (int i = 1; i < 200; i++) {
        double x = db[i], r = x;
        for (int k = 0; k < 30; k++) r = 0.5 * (r + x / r);
        h = mixd(h, r);
        float fx = fb[i], fr = fx;
        for (int k = 0; k < 30; k++) fr = 0.5f * (fr + fx / fr);
        h = mixf(h, fr);
    }
    return h;
}

static uint64_t horner(uint64_t h) {
    static const double c[] = {1.0, -0.5, 1.0 / 6, -1.0 / 24, 1.0 / 120, -1.0 / 720, 1.0 / 5040};
    for (int i = 0; i < N; i++) {
        double x = da[i] / 1000.0, p = 0;
        for (int k = 6; k >= 0; k--) p = p * x + c[k];
        h = mixd(h, p);
    }
    return h;
}

static uint64_t specials(uint64_t h) {
    volatile double z = 0.0;
    volatile float fz = 0.0f;
    double v[] = {z / z, 1 / z, -1 / z, 4.9e-324, 2.2250738585072014e-308, -0.0, 1e-300, 3.0};
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 8; j++) {
            h = mixd(h, v[i] - v[j]);
            h = mixd(h, v[i] * v[j] * 1e-20);
            h = mixf(h, (float)v[i] / (float)(v[j] + fz));
        }
        h = MIX(h, (int64_t)v[i]);
        h = MIX(h, (int32_t)v[i]);
        h = mixf(h, (float)v[i]);
    }
    return MIX(h, _mm_getcsr());
}

static uint64_t int_float_loops(uint64_t h) {
    for (int i = 0; i < N; i++) fc[i] = (float)ia[i] * 0.25f;
    for (int i = 0; i < N; i++) ia[i] = (int)(fc[i] * 3.0f);
    for (int i = 0; i < N; i++) dc[i] = (double)ia[i];
    for (int i = 0; i < N; i++) h = mixd(MIX(h, ia[i]), dc[i]);
    return h;
}

uint64_t run(uint64_t k) {
    _mm_setcsr(0x1f80);
    fill(k);
    uint64_t h = k;
    switch (k) {
    case 0: h = series(h); break;
    case 1: h = dots(h); break;
    case 2: h = matrix(h); break;
    case 3: h = conversions(h); break;
    case 4: h = compares(h); break;
    case 5: h = minmax(h); break;
    case 6: h = rounding_modes(h); break;
    case 7: h = newton(h); break;
    case 8: h = horner(h); break;
    case 9: h = specials(h); break;
    case 10: h = int_float_loops(h); break;
    default: h = dots(matrix(series(h))); break;
    }
    return MIX(h, _mm_getcsr());
}
