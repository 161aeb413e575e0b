/* Placeholder until cert auth lands. */
#include "secrets/secrets_internal.h"
const struct vault_backend vault_backend_cert = { .type = "cert", .is_auth = true };
