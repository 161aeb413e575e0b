/* Placeholder until KV lands. */
#include "secrets/secrets_internal.h"
const struct vault_backend vault_backend_kv = { .type = "kv" };
