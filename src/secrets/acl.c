/* Placeholder until ACL policies land: only root tokens pass. */
#include <string.h>
#include "secrets/acl.h"
#include "secrets/token.h"
#include "common/error.h"
#define NOT_BUILT(err) wd_error_set((err), WD_EUNSUPPORTED, "not built yet")
int acl_policy_parse(const char *n, const char *t, size_t l, struct acl_policy **r, struct wd_error *err) { (void)n; (void)t; (void)l; *r = NULL; return NOT_BUILT(err); }
void acl_policy_free(struct acl_policy *p) { (void)p; }
unsigned acl_capabilities(struct acl_policy *const *p, size_t c, const char *path) { (void)p; (void)c; (void)path; return 0; }
int acl_store_open(struct secrets *s, struct acl_store **r, struct wd_error *err) { (void)s; (void)err; *r = NULL; return 0; }
void acl_store_free(struct acl_store *s) { (void)s; }
int acl_check(struct secrets *s, const struct vault_token *t, const char *p, enum vault_op op, bool rp, struct wd_error *err) { (void)s; (void)p; (void)op; (void)rp; if (t && token_has_policy(t, "root")) return 0; return wd_error_set(err, WD_EPERM, "permission denied"); }
int acl_handle_sys(struct secrets *s, struct vault_request *q, struct vault_response *r, struct wd_error *err) { (void)s; (void)q; (void)r; return NOT_BUILT(err); }
int acl_rego_open(const char *p, struct policy_hook **r, struct wd_error *err) { (void)p; *r = NULL; return NOT_BUILT(err); }
void acl_rego_free(struct policy_hook *h) { (void)h; }
int acl_rego_check(struct secrets *s, const struct vault_request *q, struct wd_error *err) { (void)s; (void)q; (void)err; return 0; }
