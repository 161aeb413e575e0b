/* The admission state shared by the admission files. */
#pragma once

#include "server/admission.h"

struct admission {
	struct store *store;
	EVP_PKEY **keys;              /* trusted ECDSA P-256 public keys */
	char **key_hints;             /* cosign's hint of each key */
	size_t key_count;
	char **spiffe_ids;            /* trusted signers, canonical */
	size_t spiffe_id_count;
	char **predicate_types;       /* accepted predicate types; none: any */
	size_t predicate_type_count;
};

/* The schema of the "admission" migration component. */
extern const struct store_migration admission_migrations[];
extern const size_t admission_migration_count;
