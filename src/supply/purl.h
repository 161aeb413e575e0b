/* Package URLs as the purl specification builds them:
 * pkg:type/namespace/name@version?qualifiers#subpath. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

struct purl_qualifier {
	const char *key;
	const char *value;  /* a qualifier with a NULL or empty value is left out */
};

struct purl_parts {
	const char *type;       /* required: a letter, then letters, digits, '.', '+', '-' */
	const char *namespace;  /* optional; '/' separates its segments */
	const char *name;       /* required */
	const char *version;    /* optional */
	const struct purl_qualifier *qualifiers;
	size_t qualifier_count;
	const char *subpath;    /* optional; '/' separates its segments */
};

/* Builds the canonical purl of parts into a malloc'd string in ret_purl:
 * the type and qualifier keys lowercased, qualifiers sorted by key, each
 * component percent-encoded. WD_EINVAL (err names the component) for a
 * missing type or name, an invalid type or qualifier key, or a duplicate key. */
WD_MUST_CHECK int purl_build(const struct purl_parts *parts, char **ret_purl,
	struct wd_error *err);
