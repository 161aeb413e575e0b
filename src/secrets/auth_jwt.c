/* Placeholder until JWT auth lands. */
#include "secrets/secrets_internal.h"
const struct vault_backend vault_backend_jwt = { .type = "jwt", .is_auth = true };
