enum CohortStatus
 {
    COHORT_STATUS_OK = 0,
    COHORT_STATUS_INVALID_ARGUMENT = 1,
    COHORT_STATUS_INVALID_EMAIL = 2,
    COHORT_STATUS_UNKNOWN_PERMISSION = 3,
    COHORT_STATUS_EMPTY_PERMISSIONS = 4,
    COHORT_STATUS_NOT_FOUND = 5,
    COHORT_STATUS_NOT_OWNER = 6,
    COHORT_STATUS_ALREADY_MEMBER = 7,
    COHORT_STATUS_PENDING_INVITE_EXISTS = 8,
    COHORT_STATUS_PENDING_CAP_REACHED = 9,
    COHORT_STATUS_OWNER_PROTECTED = 10,
    COHORT_STATUS_EMAIL_MISMATCH = 11,
    COHORT_STATUS_INVITE_NOT_OPEN = 12,
    COHORT_STATUS_USER_EXISTS = 13,
    COHORT_STATUS_FORBIDDEN = 14,
    COHORT_STATUS_RATE_LIMITED = 15,
    COHORT_STATUS_TOKEN_EMPTY = 20,
    COHORT_STATUS_TOKEN_TOO_LONG = 21,
    COHORT_STATUS_TOKEN_NON_ASCII = 22,
    COHORT_STATUS_TOKEN_MALFORMED = 23,
    COHORT_STATUS_TOKEN_WRONG_VERSION = 24,
    COHORT_STATUS_TOKEN_NON_CANONICAL = 25,
    COHORT_STATUS_TOKEN_UNKNOWN_KEY = 26,
    COHORT_STATUS_TOKEN_BAD_SIGNATURE = 27,
    COHORT_STATUS_TOKEN_EXPIRED = 28,
    COHORT_STATUS_TOKEN_NOT_YET_VALID = 29,
    COHORT_STATUS_TOKEN_UNKNOWN_INVITE = 30,
    COHORT_STATUS_TOKEN_SUPERSEDED = 31,
    COHORT_STATUS_TOKEN_ALREADY_USED = 32,
    COHORT_STATUS_TOKEN_CANCELLED = 33,
    COHORT_STATUS_TOKEN_DECLINED = 34,
    COHORT_STATUS_TOKEN_WRONG_ACCOUNT = 35,
    COHORT_STATUS_HOOK_DENIED = 40,
    COHORT_STATUS_HOOK_FAILED = 41,
    COHORT_STATUS_STORAGE = 60,
    COHORT_STATUS_BUSY = 61,
    COHORT_STATUS_SCHEMA_TOO_NEW = 62,
    COHORT_STATUS_CONFIG = 63,
    COHORT_STATUS_KEY = 64,
    COHORT_STATUS_IO = 65,
    COHORT_STATUS_UNAVAILABLE = 66,
    COHORT_STATUS_COMMIT_UNKNOWN = 67,
    COHORT_STATUS_INTERNAL = 99,
    COHORT_STATUS_NULL_ARGUMENT = 100,
    COHORT_STATUS_INVALID_UTF8 = 101,
    COHORT_STATUS_INTERIOR_NUL = 102,
    COHORT_STATUS_INPUT_TOO_LARGE = 103,
    COHORT_STATUS_CLOSED_HANDLE = 104,
    COHORT_STATUS_PANIC = 105,
    COHORT_STATUS_INVALID_JSON = 106,
};

typedef int32_t CohortStatus;

enum CohortLogLevel
 {
    COHORT_LOG_LEVEL_ERROR = 1,
    COHORT_LOG_LEVEL_WARN = 2,
    COHORT_LOG_LEVEL_INFO = 3,
    COHORT_LOG_LEVEL_DEBUG = 4,
};

typedef int32_t CohortLogLevel;

typedef struct CohortEngine CohortEngine;

typedef struct CohortLogRecord {
    int32_t level;
    int64_t time_ms;
    const char *script;
    size_t script_len;
    uint32_t line;
    const char *event;
    size_t event_len;
    const char *message;
    size_t message_len;
} CohortLogRecord;

typedef void (*CohortLogCallback)(void *user_data,
                                  const struct CohortLogRecord *record);

const char *cohort_version(void);

const char *cohort_status_name(int32_t status);

CohortStatus cohort_error_message(char **out_message);

void cohort_string_free(char *s);

CohortStatus cohort_library_set_input_limit(size_t max_bytes);

size_t cohort_library_input_limit(void);

CohortStatus cohort_account_upsert(const struct CohortEngine *engine,
                                   const char *account_id,
                                   size_t account_id_len,
                                   const char *name,
                                   size_t name_len,
                                   const char *owner_email,
                                   size_t owner_email_len,
                                   char **out_json);

CohortStatus cohort_account_get(const struct CohortEngine *engine,
                                const char *account_id,
                                size_t account_id_len,
                                char **out_json);

CohortStatus cohort_account_transfer(const struct CohortEngine *engine,
                                     const char *actor,
                                     size_t actor_len,
                                     const char *account_id,
                                     size_t account_id_len,
                                     const char *new_owner_email,
                                     size_t new_owner_email_len,
                                     char **out_json);

CohortStatus cohort_user_upsert(const struct CohortEngine *engine,
                                const char *email,
                                size_t email_len,
                                const char *name,
                                size_t name_len,
                                int32_t two_factor,
                                char **out_json);

CohortStatus cohort_user_get(const struct CohortEngine *engine,
                             const char *email,
                             size_t email_len,
                             char **out_json);

CohortStatus cohort_user_login(const struct CohortEngine *engine,
                               const char *email,
                               size_t email_len,
                               char **out_json);

CohortStatus cohort_user_accounts(const struct CohortEngine *engine,
                                  const char *email,
                                  size_t email_len,
                                  char **out_json);

CohortStatus cohort_engine_open(const char *config_path,
                                size_t config_path_len,
                                struct CohortEngine **out_engine);

CohortStatus cohort_engine_create(const char *config_path,
                                  size_t config_path_len,
                                  struct CohortEngine **out_engine);

CohortStatus cohort_engine_open_shared(const char *config_path,
                                       size_t config_path_len,
                                       struct CohortEngine **out_engine);

CohortStatus cohort_engine_close(struct CohortEngine *engine);

CohortStatus cohort_invite_create(const struct CohortEngine *engine,
                                  const char *actor,
                                  size_t actor_len,
                                  const char *account_id,
                                  size_t account_id_len,
                                  const char *email,
                                  size_t email_len,
                                  const char *permissions_json,
                                  size_t permissions_json_len,
                                  int64_t ttl_seconds,
                                  char **out_json);

CohortStatus cohort_invite_pending(const struct CohortEngine *engine,
                                   const char *account_id,
                                   size_t account_id_len,
                                   char **out_json);

CohortStatus cohort_invite_get(const struct CohortEngine *engine,
                               int64_t invite_id,
                               char **out_json);

CohortStatus cohort_invite_resend(const struct CohortEngine *engine,
                                  const char *actor,
                                  size_t actor_len,
                                  int64_t invite_id,
                                  int64_t ttl_seconds,
                                  char **out_json);

CohortStatus cohort_invite_cancel(const struct CohortEngine *engine,
                                  const char *actor,
                                  size_t actor_len,
                                  int64_t invite_id,
                                  char **out_json);

CohortStatus cohort_invite_inspect(const struct CohortEngine *engine,
                                   const char *token_or_link,
                                   size_t token_or_link_len,
                                   char **out_json);

CohortStatus cohort_token_verify(const struct CohortEngine *engine,
                                 const char *token_or_link,
                                 size_t token_or_link_len,
                                 int64_t *out_invite_id,
                                 int64_t *out_expires_at);

CohortStatus cohort_invite_accept(const struct CohortEngine *engine,
                                  const char *token_or_link,
                                  size_t token_or_link_len,
                                  const char *email,
                                  size_t email_len,
                                  char **out_json);

CohortStatus cohort_invite_accept_register(const struct CohortEngine *engine,
                                           const char *token_or_link,
                                           size_t token_or_link_len,
                                           const char *email,
                                           size_t email_len,
                                           const char *name,
                                           size_t name_len,
                                           char **out_json);

CohortStatus cohort_invite_decline(const struct CohortEngine *engine,
                                   const char *token_or_link,
                                   size_t token_or_link_len,
                                   char **out_json);

CohortStatus cohort_invite_expire_due(const struct CohortEngine *engine,
                                      size_t *out_count);

CohortStatus cohort_engine_set_logger(const struct CohortEngine *engine,
                                      int32_t level,
                                      CohortLogCallback callback,
                                      void *user_data);

CohortStatus cohort_member_list(const struct CohortEngine *engine,
                                const char *account_id,
                                size_t account_id_len,
                                char **out_json);

CohortStatus cohort_member_set_permissions(const struct CohortEngine *engine,
                                           const char *actor,
                                           size_t actor_len,
                                           const char *account_id,
                                           size_t account_id_len,
                                           const char *email,
                                           size_t email_len,
                                           const char *permissions_json,
                                           size_t permissions_json_len,
                                           char **out_json);

CohortStatus cohort_member_revoke(const struct CohortEngine *engine,
                                  const char *actor,
                                  size_t actor_len,
                                  const char *account_id,
                                  size_t account_id_len,
                                  const char *email,
                                  size_t email_len);

CohortStatus cohort_permission_check(const struct CohortEngine *engine,
                                     const char *account_id,
                                     size_t account_id_len,
                                     const char *email,
                                     size_t email_len,
                                     const char *key,
                                     size_t key_len,
                                     bool *out_allowed);

int32_t cohort_permission_allows(const struct CohortEngine *engine,
                                 const char *account_id,
                                 size_t account_id_len,
                                 const char *email,
                                 size_t email_len,
                                 const char *key,
                                 size_t key_len);

int64_t cohort_permission_generation(const struct CohortEngine *engine);

CohortStatus cohort_permission_list(const struct CohortEngine *engine,
                                    char **out_json);

CohortStatus cohort_audit_list(const struct CohortEngine *engine,
                               const char *account_id,
                               size_t account_id_len,
                               int64_t since,
                               uint32_t limit,
                               char **out_json);

CohortStatus cohort_member_leave(const struct CohortEngine *engine,
                                 const char *account_id,
                                 size_t account_id_len,
                                 const char *email,
                                 size_t email_len);

CohortStatus cohort_contact_list(const struct CohortEngine *engine,
                                 const char *account_id,
                                 size_t account_id_len,
                                 char **out_json);

CohortStatus cohort_contact_get(const struct CohortEngine *engine,
                                int64_t contact_id,
                                char **out_json);

CohortStatus cohort_contact_add(const struct CohortEngine *engine,
                                const char *actor,
                                size_t actor_len,
                                const char *account_id,
                                size_t account_id_len,
                                const char *contact_json,
                                size_t contact_json_len,
                                char **out_json);

CohortStatus cohort_contact_update(const struct CohortEngine *engine,
                                   const char *actor,
                                   size_t actor_len,
                                   int64_t contact_id,
                                   const char *contact_json,
                                   size_t contact_json_len,
                                   char **out_json);

CohortStatus cohort_contact_delete(const struct CohortEngine *engine,
                                   const char *actor,
                                   size_t actor_len,
                                   int64_t contact_id,
                                   char **out_json);

CohortStatus cohort_member_set_notifications(const struct CohortEngine *engine,
                                             const char *actor,
                                             size_t actor_len,
                                             const char *account_id,
                                             size_t account_id_len,
                                             const char *email,
                                             size_t email_len,
                                             const char *kinds_json,
                                             size_t kinds_json_len,
                                             char **out_json);

CohortStatus cohort_notification_recipients(const struct CohortEngine *engine,
                                            const char *account_id,
                                            size_t account_id_len,
                                            const char *kind,
                                            size_t kind_len,
                                            char **out_json);

CohortStatus cohort_audit_query(const struct CohortEngine *engine,
                                const char *query_json,
                                size_t query_json_len,
                                char **out_json);
