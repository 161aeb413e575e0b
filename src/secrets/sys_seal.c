/* Placeholder until the seal endpoints land. */
#include <string.h>
#include "secrets/secrets_internal.h"
#include "common/error.h"
#define NOT_BUILT(err) wd_error_set((err), WD_EUNSUPPORTED, "not built yet")
int sys_seal_handle(struct secrets *s, struct vault_request *q, struct vault_response *r, struct wd_error *err) { (void)s; (void)q; (void)r; return NOT_BUILT(err); }
bool sys_seal_unauthenticated(const char *rel) { return strcmp(rel, "seal-status") == 0 || strcmp(rel, "init") == 0 || strcmp(rel, "unseal") == 0 || strcmp(rel, "health") == 0; }
