/*
 * The C-side cost of the hot calls, to split PHP benchmark figures into library and FFI call
 * (docs/benchmarks.md, "PHP / FFI"). CPU time of this process per call; not a test.
 *
 *   cargo build -p cohort-ffi --release
 *   gcc -O2 -I ffi/include tests/c/bench.c -L target/release -lcohort \
 *       -Wl,-rpath,$PWD/target/release -o /tmp/cohort-bench
 *   /tmp/cohort-bench FRESH_CONFIG_PATH      (a config whose database does not exist yet)
 */
#define _POSIX_C_SOURCE 199309L
#include "cohort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(x) (x), strlen(x)

static double cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void fail(const char *what) {
    char *m = NULL;
    cohort_error_message(&m);
    fprintf(stderr, "%s: %s\n", what, m ? m : "?");
    cohort_string_free(m);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CONFIG_PATH\n", argv[0]);
        return 2;
    }
    CohortEngine *e = NULL;
    char *json = NULL;
    if (cohort_engine_create(S(argv[1]), &e) != COHORT_STATUS_OK) fail("create");
    if (cohort_account_upsert(e, S("1042"), S("Acme Ltd"), S("owner@acme.example"), &json))
        fail("account");
    cohort_string_free(json);
    if (cohort_invite_create(e, S("owner@acme.example"), S("1042"), S("dev@acme.example"),
                             S("[\"invoices\"]"), 0, &json))
        fail("invite");
    char *start = strstr(json, "\"token\":\"");
    if (start == NULL) fail("token");
    start += 9;
    size_t len = (size_t)(strchr(start, '"') - start);
    char *token = malloc(len + 1);
    memcpy(token, start, len);
    token[len] = '\0';
    cohort_string_free(json);

    const int n = 200000;
    double t0 = cpu_ns();
    for (int i = 0; i < n; i++) {
        bool allowed;
        if (cohort_permission_check(e, S("1042"), S("owner@acme.example"), S("invoices"),
                                    &allowed))
            fail("check");
    }
    double t1 = cpu_ns();
    for (int i = 0; i < n; i++) {
        int64_t id, expires;
        if (cohort_token_verify(e, token, len, &id, &expires)) fail("verify");
    }
    double t2 = cpu_ns();
    for (int i = 0; i < n / 10; i++) {
        if (cohort_invite_inspect(e, token, len, &json)) fail("inspect");
        cohort_string_free(json);
    }
    double t3 = cpu_ns();
    printf("cohort_permission_check %8.2f us\n", (t1 - t0) / n / 1000);
    printf("cohort_token_verify     %8.2f us\n", (t2 - t1) / n / 1000);
    printf("cohort_invite_inspect   %8.2f us\n", (t3 - t2) / (n / 10) / 1000);
    free(token);
    cohort_engine_close(e);
    return 0;
}
