/* Placeholder until the database engine lands. */
#include "secrets/secrets_internal.h"
const struct vault_backend vault_backend_database = { .type = "database" };
