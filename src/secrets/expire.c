/* Placeholder until the expiration manager lands. */
#include "secrets/expire.h"
#include "common/error.h"
#define NOT_BUILT(err) wd_error_set((err), WD_EUNSUPPORTED, "not built yet")
int expiration_open(struct secrets *s, struct expiration **r, struct wd_error *err) { (void)s; (void)err; *r = NULL; return 0; }
void expiration_free(struct expiration *e) { (void)e; }
int expire_restore(struct secrets *s, struct wd_error *err) { (void)s; (void)err; return 0; }
void expire_unload(struct secrets *s) { (void)s; }
int expire_register(struct secrets *s, const struct vault_request *q, int64_t ttl, bool rn, const json_t *i, struct vault_response *r, struct wd_error *err) { (void)s; (void)q; (void)ttl; (void)rn; (void)i; (void)r; return NOT_BUILT(err); }
int expire_update_internal(struct secrets *s, const char *id, const json_t *i, struct wd_error *err) { (void)s; (void)id; (void)i; return NOT_BUILT(err); }
int expire_forget(struct secrets *s, const char *id, struct wd_error *err) { (void)s; (void)id; return NOT_BUILT(err); }
int expire_revoke(struct secrets *s, const char *id, bool f, struct wd_error *err) { (void)s; (void)id; (void)f; return NOT_BUILT(err); }
int expire_revoke_prefix(struct secrets *s, const char *p, bool f, struct wd_error *err) { (void)s; (void)p; (void)f; return NOT_BUILT(err); }
int expire_revoke_by_token(struct secrets *s, const char *h, struct wd_error *err) { (void)s; (void)h; (void)err; return 0; }
void expire_tick(struct secrets *s, int64_t now) { (void)s; (void)now; }
int expire_handle_sys(struct secrets *s, struct vault_request *q, struct vault_response *r, struct wd_error *err) { (void)s; (void)q; (void)r; return NOT_BUILT(err); }
