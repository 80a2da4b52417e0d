/*
 * A long-lived engine for the multi-process stress test (tests/multiproc/stress.py, run by
 * scripts/test.d/25-multiproc.sh): one process, one engine open for its whole life, that checks
 * a member's permissions in a loop and writes logins now and then, while other processes (the
 * `cohort` CLI, other engines) open the same database and commit to it.
 *
 * Usage:
 *   stress_engine CONFIG ROUND_FILE GO_FILE STOP_FILE KEYS [WRITE_EVERY [PAUSE_US [MAX_SECONDS]]]
 *
 *   CONFIG       the cohort.toml of a database made with `cohort init` (and set up by stress.py)
 *   ROUND_FILE   the side file "STARTED DONE" of the permission writer (replaced by rename)
 *   GO_FILE      the loop starts once this file exists (the start barrier)
 *   STOP_FILE    the loop ends once this file exists
 *   KEYS         comma-separated permission keys; round k grants exactly KEYS[k % n]
 *   WRITE_EVERY  upsert a new login every this many iterations (default 64; 0: never)
 *   PAUSE_US     sleep this many microseconds between iterations (default 100)
 *   MAX_SECONDS  give up (exit 3) after this long, so that it never outlives a broken run
 *
 * Stale-answer protocol (sound: never reports a correct answer as stale). The writer sets
 * STARTED=k+1 before it runs `cohort perms ... --perm KEYS[k+1]` and DONE=k+1 after that command
 * exited 0. Each iteration reads (s1, d1), checks KEYS[d1+1], KEYS[d1], KEYS[d1-1], then reads
 * (s2, d2). The commit of round d1 was acknowledged before the first read; if s2 == d1, no later
 * round began before the last check returned, so during all three checks the member held exactly
 * KEYS[d1]: the answers must be false, true, false. Anything else is a stale answer. Checking the
 * next round's key first fills the memo while the old permissions hold, so that the commit of the
 * next round must invalidate it.
 *
 * Output on stdout, line buffered (so that a process killed by a signal still leaves what it had
 * acknowledged): "ready" once the engine is open, "ack EMAIL" for every upsert that returned
 * COHORT_STATUS_OK, "stale ..." for the first 20 stale answers, "progress ..." now and then, and one final
 * line "result checks=N verified=N stale=N writes=N write_errors=N check_errors=N iterations=N".
 * Exit status: 0 done, 1 the engine did not open, 2 usage, 3 MAX_SECONDS elapsed.
 */
#define _POSIX_C_SOURCE 200809L
#include "cohort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S(x) (x), strlen(x)
#define MAX_KEYS 64

static char *keys[MAX_KEYS];
static long nkeys;

static const char *key_of(long round) {
    long i = round % nkeys;
    if (i < 0) {
        i += nkeys;
    }
    return keys[i];
}

/* Reads "STARTED DONE" from the side file; 0 on success. */
static int read_round(const char *path, long *started, long *done) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    int n = fscanf(f, "%ld %ld", started, done);
    fclose(f);
    return n == 2 ? 0 : -1;
}

static int exists(const char *path) {
    return access(path, F_OK) == 0;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pause_us(long us) {
    if (us <= 0) {
        return;
    }
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

static void print_last_error(const char *what, CohortStatus st) {
    char *m = NULL;
    cohort_error_message(&m);
    printf("error %s: %s (%d): %s\n", what, cohort_status_name(st), (int)st, m ? m : "?");
    cohort_string_free(m);
}

/* 1 allowed, 0 not allowed, -1 error. */
static int check(const CohortEngine *e, const char *key, long *check_errors) {
    bool allowed = false;
    CohortStatus st =
        cohort_permission_check(e, S("1042"), S("member@acme.example"), S(key), &allowed);
    if (st != COHORT_STATUS_OK) {
        if (*check_errors < 5) {
            print_last_error("check", st);
        }
        (*check_errors)++;
        return -1;
    }
    return allowed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 6 || argc > 9) {
        fprintf(stderr,
                "usage: %s CONFIG ROUND_FILE GO_FILE STOP_FILE KEYS [WRITE_EVERY [PAUSE_US "
                "[MAX_SECONDS]]]\n",
                argv[0]);
        return 2;
    }
    const char *config = argv[1], *round_file = argv[2], *go_file = argv[3],
               *stop_file = argv[4];
    long write_every = argc > 6 ? atol(argv[6]) : 64;
    long pause = argc > 7 ? atol(argv[7]) : 100;
    double max_seconds = argc > 8 ? atof(argv[8]) : 300.0;

    char *key_list = strdup(argv[5]);
    for (char *k = strtok(key_list, ","); k != NULL && nkeys < MAX_KEYS; k = strtok(NULL, ",")) {
        keys[nkeys++] = k;
    }
    if (nkeys < 3) {
        fprintf(stderr, "need at least 3 keys\n");
        free(key_list);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    double start = now_s();
    pid_t parent = getppid();
    CohortEngine *e = NULL;
    CohortStatus st = cohort_engine_open(S(config), &e);
    if (st != COHORT_STATUS_OK) {
        print_last_error("open", st);
        free(key_list);
        return 1;
    }
    printf("ready %ld\n", (long)getpid());
    while (!exists(go_file)) {
        if (now_s() - start > max_seconds || getppid() != parent) {
            cohort_engine_close(e);
            free(key_list);
            return 3;
        }
        pause_us(1000);
    }

    long checks = 0, verified = 0, stale = 0, writes = 0, write_errors = 0, check_errors = 0;
    long iterations = 0;
    int status = 0;
    while (!exists(stop_file)) {
        if ((iterations & 255) == 0 &&
            (now_s() - start > max_seconds || getppid() != parent)) {
            status = 3;
            break;
        }
        iterations++;

        long s1, d1, s2, d2;
        if (read_round(round_file, &s1, &d1) != 0) {
            continue;
        }
        /* Rotate the order so that every key is sometimes the first one after a commit. */
        long probe[3] = {d1 + 1, d1, d1 - 1};
        int answer[3];
        int first = (int)(iterations % 3);
        for (int j = 0; j < 3; j++) {
            int p = (first + j) % 3;
            answer[p] = check(e, key_of(probe[p]), &check_errors);
            checks++;
        }
        if (read_round(round_file, &s2, &d2) == 0 && s2 == d1 && answer[0] >= 0 &&
            answer[1] >= 0 && answer[2] >= 0) {
            verified++;
            if (answer[0] != 0 || answer[1] != 1 || answer[2] != 0) {
                if (stale++ < 20) {
                    printf("stale round=%ld expected %s=1 %s=0 %s=0, got %d %d %d\n", d1,
                           key_of(d1), key_of(d1 + 1), key_of(d1 - 1), answer[1], answer[0],
                           answer[2]);
                }
            }
        }

        if (write_every > 0 && iterations % write_every == 0) {
            char email[96];
            snprintf(email, sizeof email, "eng%ld-%ld@stress.example", (long)getpid(),
                     iterations / write_every);
            char *json = NULL;
            CohortStatus w = cohort_user_upsert(e, S(email), NULL, 0, -1, &json);
            if (w == COHORT_STATUS_OK) {
                writes++;
                printf("ack %s\n", email);
                cohort_string_free(json);
            } else {
                if (write_errors < 5) {
                    print_last_error("upsert", w);
                }
                write_errors++;
            }
        }
        if ((iterations & 1023) == 0) {
            printf("progress checks=%ld verified=%ld stale=%ld writes=%ld write_errors=%ld "
                   "check_errors=%ld iterations=%ld\n",
                   checks, verified, stale, writes, write_errors, check_errors, iterations);
        }
        pause_us(pause);
    }
    st = cohort_engine_close(e);
    if (st != COHORT_STATUS_OK) {
        print_last_error("close", st);
        status = status ? status : 1;
    }
    printf("result checks=%ld verified=%ld stale=%ld writes=%ld write_errors=%ld "
           "check_errors=%ld iterations=%ld\n",
           checks, verified, stale, writes, write_errors, check_errors, iterations);
    free(key_list);
    return status;
}
