/* Exercises the libc paths a contract or tool would use, under the Linux profile. */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf env;

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void jump_back(int depth) {
    if (depth == 0)
        longjmp(env, 42);
    jump_back(depth - 1);
}

int main(int argc, char **argv) {
    printf("argc=%d argv0=%s\n", argc, argc > 0 ? "set" : "none");
    for (int i = 1; i < argc; i++)
        printf("arg[%d]=%s\n", i, argv[i]);

    /* integers */
    printf("%d %u %ld %lld %x %o %5d|%-5d|\n", -42, 42u, -1234567890123L, 9223372036854775807LL, 0xbeef, 8, 7, 7);

    /* malloc/free and qsort */
    int n = 1000;
    int *v = malloc(n * sizeof *v);
    uint32_t s = 12345;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        v[i] = (int)(s >> 8) % 10000 - 5000;
    }
    qsort(v, n, sizeof *v, cmp_int);
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += (long)v[i] * (i + 1);
    printf("sorted min=%d max=%d weighted=%ld\n", v[0], v[n - 1], sum);
    free(v);
    char *big = malloc(1 << 20);
    memset(big, 'x', 1 << 20);
    big[(1 << 20) - 1] = 0;
    printf("strlen big=%zu\n", strlen(big));
    free(big);

    /* string.h */
    char buf[64];
    strcpy(buf, "hello");
    strcat(buf, ", world");
    printf("%s len=%zu cmp=%d chr=%s str=%s\n", buf, strlen(buf), strcmp(buf, "hello"),
           strchr(buf, 'w'), strstr(buf, "lo,"));
    char *tok = strtok(buf, ", ");
    while (tok) {
        printf("tok=%s\n", tok);
        tok = strtok(NULL, ", ");
    }

    /* setjmp/longjmp */
    int r = setjmp(env);
    if (r == 0)
        jump_back(10);
    printf("longjmp returned %d\n", r);

    /* floats and math.h */
    double x = 2.0;
    printf("%.6f %.3e %g %g\n", sqrt(x), exp(10.0), sin(1.0), log(10.0));
    printf("%.10f %.2f %f\n", pow(1.5, 3.7), floor(-2.5), fabs(-3.25));
    float f = 1.0f / 3.0f;
    printf("%.9g %a\n", f, 0.1);
    long double ld = 1.0L / 3.0L;
    printf("%.18Lf\n", ld);
    return 7;
}
