/* gcc nested functions: taking the address of a nested function that uses its
 * parent's variables makes gcc build a trampoline on the stack at run time
 * (PT_GNU_STACK becomes executable). The VM must run that freshly written code,
 * including after the same stack slot is rewritten with a different trampoline. */
#include <stdio.h>

static int apply(int (*f)(int), int x) { return f(x); }

static int make_and_call(int base, int x) {
    int add_base(int v) { return v + base; }
    return apply(add_base, x);
}

int main(void) {
    int total = 0;
    for (int i = 0; i < 5; i++) {
        /* Same stack location, different captured value each time. */
        int r = make_and_call(i * 100, i);
        printf("call %d -> %d\n", i, r);
        total += r;
    }
    printf("total %d\n", total);
    return 0;
}
