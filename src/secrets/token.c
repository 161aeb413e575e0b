/* Placeholder until the token store lands. */
#include "secrets/token.h"
#include "common/error.h"
#define NOT_BUILT(err) wd_error_set((err), WD_EUNSUPPORTED, "not built yet")
int token_store_open(struct secrets *s, struct token_store **r, struct wd_error *err) { (void)s; (void)err; *r = NULL; return 0; }
void token_store_free(struct token_store *s) { (void)s; }
int token_create(struct secrets *s, const struct token_params *p, char id[static TOKEN_ID_MAX], struct vault_token **r, struct wd_error *err) { (void)s; (void)p; id[0] = 0; if (r) *r = NULL; return NOT_BUILT(err); }
int token_lookup(struct secrets *s, const char *id, struct vault_token **r, struct wd_error *err) { (void)s; (void)id; *r = NULL; return NOT_BUILT(err); }
int token_lookup_accessor(struct secrets *s, const char *a, struct vault_token **r, struct wd_error *err) { (void)s; (void)a; *r = NULL; return NOT_BUILT(err); }
void token_free(struct vault_token *t) { (void)t; }
int token_revoke(struct secrets *s, const struct vault_token *t, struct wd_error *err) { (void)s; (void)t; return NOT_BUILT(err); }
bool token_has_policy(const struct vault_token *t, const char *n) { (void)t; (void)n; return false; }
int token_auth_block(const struct vault_token *t, const char *id, json_t **r) { (void)t; (void)id; *r = NULL; return WD_EUNSUPPORTED; }
const struct vault_backend vault_backend_token = { .type = "token", .is_auth = true };
