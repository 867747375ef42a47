/* String routines written here (not libc's): strlen, strcmp, strncmp, strcpy,
 * strchr, strrchr, strstr, memcpy/memset/memmove-alikes, reverse, integer
 * formatting and parsing, and a word count. The result string is the output. */
#include "common.h"

static size_t my_strlen(const char *s) {
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

static int my_strcmp(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

static int my_strncmp(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || a[i] == 0)
            return (int)(unsigned char)a[i] - (int)(unsigned char)b[i];
    }
    return 0;
}

static char *my_strcpy(char *d, const char *s) {
    char *r = d;
    while ((*d++ = *s++) != 0) {
    }
    return r;
}

static const char *my_strchr(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c)
            return s;
        if (*s == 0)
            return 0;
    }
}

static const char *my_strrchr(const char *s, int c) {
    const char *last = 0;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (*s == 0)
            return last;
    }
}

static const char *my_strstr(const char *h, const char *n) {
    size_t nl = my_strlen(n);
    if (nl == 0)
        return h;
    for (; *h; h++) {
        if (*h == *n && my_strncmp(h, n, nl) == 0)
            return h;
    }
    return 0;
}

/* Plain loops: at -O2 and up gcc turns these into calls to memcpy/memset. */
static void *my_memcpy(void *d, const void *s, size_t n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    for (size_t i = 0; i < n; i++)
        dp[i] = sp[i];
    return d;
}

static void *my_memset(void *d, int c, size_t n) {
    unsigned char *dp = d;
    for (size_t i = 0; i < n; i++)
        dp[i] = (unsigned char)c;
    return d;
}

static void reverse(char *s, size_t n) {
    if (n < 2)
        return;
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        char t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
}

static size_t fmt_i64(char *buf, int64_t v) {
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        buf[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[n++] = '-';
    buf[n] = 0;
    reverse(buf, n);
    return n;
}

static size_t fmt_hex(char *buf, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    do {
        buf[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    buf[n] = 0;
    reverse(buf, n);
    return n;
}

static int64_t parse_i64(const char *s) {
    while (*s == ' ')
        s++;
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return (int64_t)(neg ? 0 - v : v);
}

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\t'; }

static uint64_t words(const char *s) {
    uint64_t n = 0;
    int in = 0;
    for (; *s; s++) {
        if (is_space(*s))
            in = 0;
        else if (!in) {
            in = 1;
            n++;
        }
    }
    return n;
}

static void to_upper(char *s) {
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

static const char text[] =
    "the quick brown fox jumps over the lazy dog\n"
    "pack my box with five dozen liquor jugs\n"
    "sphinx of black quartz, judge my vow";

static char out[2048];

uint64_t run(uint64_t arg) {
    uint64_t h = CHECKSUM_INIT;
    char buf[512];
    char tmp[64];

    size_t tl = my_strlen(text);
    h = mix(h, tl);
    h = mix(h, words(text));
    h = mix(h, (uint64_t)(my_strchr(text, 'z') - text));
    h = mix(h, (uint64_t)(my_strrchr(text, 'o') - text));
    h = mix(h, (uint64_t)(my_strstr(text, "liquor") - text));
    h = mix(h, my_strstr(text, "sphinx of black quartz!") == 0);
    h = mix(h, my_strchr(text, '#') == 0);

    my_strcpy(buf, text);
    h = mix(h, (uint64_t)(int64_t)my_strcmp(buf, text));
    buf[10] = 'X';
    h = mix(h, (uint64_t)(int64_t)my_strcmp(buf, text));
    h = mix(h, (uint64_t)(int64_t)my_strcmp(text, buf));
    h = mix(h, (uint64_t)(int64_t)my_strncmp(buf, text, 10));
    h = mix(h, (uint64_t)(int64_t)my_strcmp("abc", "abcd"));

    to_upper(buf);
    reverse(buf, my_strlen(buf));
    for (size_t i = 0; buf[i]; i++)
        h = mix(h, (uint64_t)(unsigned char)buf[i] * (i + 1));

    /* Copies and fills of every small length and alignment. */
    static unsigned char src[300], dst[300];
    for (int i = 0; i < 300; i++)
        src[i] = (unsigned char)(i * 7 + arg);
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n < 70; n += 3) {
            my_memset(dst, 0xa5, sizeof(dst));
            my_memcpy(dst + off, src + 2 * off, n);
            uint64_t s = 0;
            for (int i = 0; i < 100; i++)
                s = s * 31 + dst[i];
            h = mix(h, s);
        }
    }
    /* Overlapping moves in both directions (memmove uses std; rep movsb). */
    memmove(src + 10, src, 100);
    memmove(src + 150, src + 160, 100);
    for (int i = 0; i < 300; i++)
        h = mix(h, src[i]);

    /* Formatting and parsing round trips. */
    int64_t vals[] = {0, 1, -1, 42, -9876543210LL, (int64_t)arg, 9223372036854775807LL,
                      -9223372036854775807LL - 1};
    size_t ol = 0;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        size_t n = fmt_i64(tmp, vals[i]);
        h = mix(h, (uint64_t)parse_i64(tmp) ^ n);
        my_memcpy(out + ol, tmp, n);
        ol += n;
        out[ol++] = ',';
        n = fmt_hex(tmp, (uint64_t)vals[i]);
        my_memcpy(out + ol, tmp, n);
        ol += n;
        out[ol++] = ' ';
    }
    h = mix(h, (uint64_t)parse_i64("   -12345xyz"));
    h = mix(h, (uint64_t)parse_i64("+777"));
    host_debug(out, ol);
    host_output(out, ol);
    return h;
}
