/*
 * The C API as a C program sees it: the seed flow and every misuse, run under valgrind by
 * scripts/test.d/30-ffi-php.sh (zero errors, zero leaks). Built with -DCOHORT_TEST_PANIC against a
 * library built with the `test-panic` feature.
 *
 * Usage: abi_test CONFIG_PATH   (a fresh config whose database does not exist yet)
 */
#include "cohort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            passed++;                                                                 \
        } else {                                                                      \
            failed++;                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

/* (pointer, length) of a C string literal or buffer. */
#define S(x) (x), strlen(x)

/* The message of the last failure on this thread (caller frees). */
static char *last_error(void) {
    char *m = NULL;
    if (cohort_error_message(&m) != COHORT_STATUS_OK) {
        return NULL;
    }
    return m;
}

static int error_contains(const char *needle) {
    char *m = last_error();
    int found = m != NULL && strstr(m, needle) != NULL;
    if (!found) {
        fprintf(stderr, "  last error %s lacks %s\n", m ? m : "(none)", needle);
    }
    cohort_string_free(m);
    return found;
}

/* Copies the JSON string value of the first "key":"..." in json (no escapes in tokens). */
static char *json_string(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr(json, pattern);
    if (start == NULL) {
        return NULL;
    }
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (end == NULL) {
        return NULL;
    }
    char *out = malloc((size_t)(end - start) + 1);
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return out;
}

static long long json_int(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *start = strstr(json, pattern);
    return start ? atoll(start + strlen(pattern)) : -1;
}

/* Both ways of asking must agree: the out-parameter call and the one that returns its answer. */
static int check_allowed(const CohortEngine *e, const char *email, const char *key) {
    bool allowed = false;
    CohortStatus st = cohort_permission_check(e, S("1042"), S(email), S(key), &allowed);
    int direct = cohort_permission_allows(e, S("1042"), S(email), S(key));
    int answer = st == COHORT_STATUS_OK ? (allowed ? 1 : 0) : -1;
    CHECK(direct == (st == COHORT_STATUS_OK ? answer : -(int)st));
    return answer;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CONFIG_PATH\n", argv[0]);
        return 2;
    }
    const char *owner = "owner@acme.example";
    char *json = NULL;
    CohortEngine *e = NULL;

    CHECK(strcmp(cohort_version(), "0.0.0") != 0);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", COHORT_VERSION_MAJOR, COHORT_VERSION_MINOR,
             COHORT_VERSION_PATCH);
    CHECK(strcmp(cohort_version(), expected) == 0);
    CHECK(strcmp(cohort_status_name(COHORT_STATUS_TOKEN_EXPIRED), "token_expired") == 0);
    CHECK(cohort_library_input_limit() == COHORT_DEFAULT_INPUT_LIMIT);

    CHECK(cohort_engine_create(S(argv[1]), &e) == COHORT_STATUS_OK);
    if (e == NULL) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }

    /* Account, an existing login, two invites. */
    CHECK(cohort_account_upsert(e, S("1042"), S("Acme Ltd"), S(owner), &json) == COHORT_STATUS_OK);
    CHECK(json && strstr(json, "\"owner\":\"owner@acme.example\""));
    cohort_string_free(json);
    CHECK(cohort_user_upsert(e, S("dana@acme.example"), S("Dana"), 1, &json) == COHORT_STATUS_OK);
    cohort_string_free(json);

    char *all = NULL, *chosen = NULL;
    CHECK(cohort_invite_create(e, S(owner), S("1042"), S("dana@acme.example"), S("\"all\""), 0,
                               &all) == COHORT_STATUS_OK);
    CHECK(cohort_invite_create(e, S(owner), S("1042"), S("bo@acme.example"),
                               S("[\"invoices\",\"tickets\"]"), 3600, &chosen) == COHORT_STATUS_OK);
    char *token_all = json_string(all, "token");
    char *token_chosen = json_string(chosen, "token");
    char *link_chosen = json_string(chosen, "link");
    CHECK(token_all && token_chosen && link_chosen);

    CHECK(cohort_invite_pending(e, S("1042"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "dana@acme.example") && strstr(json, "bo@acme.example"));
    cohort_string_free(json);

    CHECK(cohort_invite_inspect(e, S(token_all), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "\"valid\":true") && strstr(json, "\"has_login\":true"));
    cohort_string_free(json);
    int64_t verified_id = 0, verified_expiry = 0;
    CHECK(cohort_token_verify(e, S(token_chosen), &verified_id, &verified_expiry) ==
          COHORT_STATUS_OK);
    CHECK(verified_id == json_int(chosen, "id") &&
          verified_expiry == json_int(chosen, "expires_at"));

    /* Accept with a login, register through the whole link. */
    CHECK(cohort_invite_accept(e, S(token_all), S("dana@acme.example"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "\"permissions\":\"all\""));
    cohort_string_free(json);
    CHECK(cohort_invite_accept_register(e, S(link_chosen), S("bo@acme.example"), S("Bo Books"),
                                        &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    json = (char *)0x1;
    CHECK(cohort_invite_accept(e, S(token_all), S("dana@acme.example"), &json) ==
          COHORT_STATUS_TOKEN_ALREADY_USED);
    CHECK(json == (char *)0x1); /* untouched on failure */
    CHECK(error_contains("already been accepted"));

    CHECK(cohort_member_list(e, S("1042"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "\"role\":\"owner\"") && strstr(json, "Bo Books"));
    cohort_string_free(json);
    CHECK(cohort_user_login(e, S("bo@acme.example"), &json) == COHORT_STATUS_OK);
    CHECK(json_int(json, "last_login") > 0);
    cohort_string_free(json);

    /* Check, change permissions, revoke. */
    CHECK(check_allowed(e, "bo@acme.example", "invoices") == 1);
    CHECK(check_allowed(e, "bo@acme.example", "domains") == 0);
    CHECK(check_allowed(e, owner, "orders") == 1);
    CHECK(check_allowed(e, "bo@acme.example", "billing") == -1);
    CHECK(error_contains("unknown permission \"billing\""));
    CHECK(cohort_member_set_permissions(e, S(owner), S("1042"), S("bo@acme.example"),
                                        S("[\"domains\"]"), &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(check_allowed(e, "bo@acme.example", "domains") == 1);
    CHECK(check_allowed(e, "bo@acme.example", "invoices") == 0);
    /* The permission generation: still while nothing commits, moving with a commit. */
    int64_t generation = cohort_permission_generation(e);
    CHECK(generation >= 1);
    CHECK(check_allowed(e, "bo@acme.example", "domains") == 1);
    CHECK(cohort_permission_generation(e) == generation);
    CHECK(cohort_permission_generation(NULL) == -(int64_t)COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_user_accounts(e, S("bo@acme.example"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "Acme Ltd") != NULL);
    cohort_string_free(json);
    CHECK(cohort_member_revoke(e, S(owner), S("1042"), S("bo@acme.example")) == COHORT_STATUS_OK);
    CHECK(cohort_permission_generation(e) > generation);
    CHECK(check_allowed(e, "bo@acme.example", "domains") == 0);
    CHECK(cohort_user_get(e, S("bo@acme.example"), &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(cohort_member_revoke(e, S(owner), S("1042"), S(owner)) == COHORT_STATUS_OWNER_PROTECTED);

    /* Resend, cancel, decline, expire. */
    char *third = NULL;
    CHECK(cohort_invite_create(e, S(owner), S("1042"), S("cy@acme.example"), S("[\"emails\"]"), 0,
                               &third) == COHORT_STATUS_OK);
    long long id = json_int(third, "id");
    CHECK(cohort_invite_resend(e, S(owner), id, 0, &json) == COHORT_STATUS_OK);
    CHECK(json_int(json, "times_sent") == 2);
    cohort_string_free(json);
    char *old_token = json_string(third, "token");
    CHECK(cohort_invite_accept(e, S(old_token), S("cy@acme.example"), &json) ==
          COHORT_STATUS_TOKEN_SUPERSEDED);
    CHECK(cohort_invite_cancel(e, S(owner), id, &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "\"status\":\"cancelled\""));
    cohort_string_free(json);
    CHECK(cohort_invite_get(e, id, &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(cohort_invite_cancel(e, S(owner), id, &json) == COHORT_STATUS_INVITE_NOT_OPEN);
    char *fourth = NULL;
    CHECK(cohort_invite_create(e, S(owner), S("1042"), S("di@acme.example"), S("\"all\""), 0,
                               &fourth) == COHORT_STATUS_OK);
    char *token_fourth = json_string(fourth, "token");
    CHECK(cohort_invite_decline(e, S(token_fourth), &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    size_t expired = 99;
    CHECK(cohort_invite_expire_due(e, &expired) == COHORT_STATUS_OK && expired == 0);
    CHECK(cohort_account_transfer(e, S(owner), S("1042"), S("dana@acme.example"), &json) ==
          COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(cohort_account_get(e, S("1042"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "\"owner\":\"dana@acme.example\""));
    cohort_string_free(json);
    CHECK(cohort_audit_list(e, S("1042"), 0, 100, &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "invite.accept") && strstr(json, "member.revoke") &&
          strstr(json, "account.transfer"));
    cohort_string_free(json);
    CHECK(cohort_permission_list(e, &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "View & Pay Invoices") != NULL);
    cohort_string_free(json);

    /* Contacts, notification routing, leaving, audit views. */
    char *contact = NULL;
    CHECK(cohort_contact_add(e, S("dana@acme.example"), S("1042"),
                             S("{\"first_name\":\"Ann\",\"email\":\"ann@books.example\","
                               "\"notify\":[\"invoice\"]}"),
                             &contact) == COHORT_STATUS_OK);
    long long contact_id = json_int(contact, "id");
    CHECK(cohort_contact_update(e, S("dana@acme.example"), contact_id, S("{\"phone\":\"555\"}"),
                                &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(cohort_contact_get(e, contact_id, &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "ann@books.example") != NULL);
    cohort_string_free(json);
    CHECK(cohort_contact_list(e, S("1042"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "\"phone\":\"555\"") != NULL);
    cohort_string_free(json);
    CHECK(cohort_member_set_notifications(e, S(owner), S("1042"), S(owner), S("[\"invoice\"]"),
                                          &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(cohort_notification_recipients(e, S("1042"), S("invoice"), &json) == COHORT_STATUS_OK);
    CHECK(strstr(json, "ann@books.example") && strstr(json, owner));
    cohort_string_free(json);
    CHECK(cohort_contact_delete(e, S("dana@acme.example"), contact_id, &json) == COHORT_STATUS_OK);
    cohort_string_free(json);
    CHECK(cohort_member_leave(e, S("1042"), S(owner)) == COHORT_STATUS_OK);
    CHECK(cohort_member_leave(e, S("1042"), S("dana@acme.example")) ==
          COHORT_STATUS_OWNER_PROTECTED);
    CHECK(cohort_audit_query(e, S("{\"user\":\"owner@acme.example\",\"limit\":500}"), &json) ==
          COHORT_STATUS_OK);
    CHECK(strstr(json, "member.leave") != NULL);
    cohort_string_free(json);
    cohort_string_free(contact);

    /* Misuse: NULLs, invalid UTF-8, interior NUL, too large, bad JSON, panic. */
    CHECK(cohort_member_list(NULL, S("1042"), &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_member_list(e, NULL, 4, &json) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(error_contains("`account_id` is NULL"));
    CHECK(cohort_member_list(e, S("1042"), NULL) == COHORT_STATUS_NULL_ARGUMENT);
    CHECK(cohort_error_message(NULL) == COHORT_STATUS_NULL_ARGUMENT);
    const char bad_utf8[] = "dana@acme.ex\xff";
    CHECK(cohort_user_get(e, bad_utf8, sizeof bad_utf8 - 1, &json) == COHORT_STATUS_INVALID_UTF8);
    const char with_nul[] = "dana@acme.example\0evil";
    CHECK(cohort_user_get(e, with_nul, sizeof with_nul - 1, &json) == COHORT_STATUS_INTERIOR_NUL);
    CHECK(error_contains("NUL byte at offset 17"));
    CHECK(cohort_library_set_input_limit(4) == COHORT_STATUS_OK);
    CHECK(cohort_user_get(e, S("dana@acme.example"), &json) == COHORT_STATUS_INPUT_TOO_LARGE);
    CHECK(cohort_library_set_input_limit(COHORT_DEFAULT_INPUT_LIMIT) == COHORT_STATUS_OK);
    CHECK(cohort_invite_create(e, S("dana@acme.example"), S("1042"), S("ed@acme.example"),
                               S("[\"tickets\""), 0, &json) == COHORT_STATUS_INVALID_JSON);
    CHECK(cohort_test_panic() == COHORT_STATUS_PANIC);
    CHECK(error_contains("cohort_test_panic"));
    CHECK(check_allowed(e, "dana@acme.example", "orders") == 1); /* still usable */

    /* Double close and use after close are statuses. */
    CHECK(cohort_engine_close(e) == COHORT_STATUS_OK);
    CHECK(cohort_engine_close(e) == COHORT_STATUS_CLOSED_HANDLE);
    CHECK(cohort_member_list(e, S("1042"), &json) == COHORT_STATUS_CLOSED_HANDLE);
    CHECK(error_contains("is closed"));
    CHECK(cohort_engine_close(NULL) == COHORT_STATUS_OK);
    cohort_string_free(NULL);

    free(token_all);
    free(token_chosen);
    free(link_chosen);
    free(old_token);
    free(token_fourth);
    cohort_string_free(all);
    cohort_string_free(chosen);
    cohort_string_free(third);
    cohort_string_free(fourth);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
