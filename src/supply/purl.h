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

/* A parsed purl. Every string is malloc'd and percent-decoded; optional
 * components are NULL when absent. */
struct purl {
	char *type;       /* lowercase */
	char *namespace;  /* segments joined by '/', without empty ones */
	char *name;
	char *version;
	struct purl_owned_qualifier {
		char *key;    /* lowercase, as the parser requires */
		char *value;  /* never empty: empty values are dropped */
	} *qualifiers;    /* sorted by key */
	size_t qualifier_count;
	char *subpath;    /* without empty, "." and ".." segments */
};

/* Parses text as the purl specification's parsing steps describe, with the
 * case and name normalizations its type definitions require (for example
 * lowercase deb and apk names, and '_' as '-' in pypi names). WD_EINVAL
 * names the bad component (a missing "pkg:" scheme, type or name, an
 * invalid or not lowercase qualifier key, a duplicate key, a bad percent-encoding, or text
 * that decodes to a NUL or invalid UTF-8). ret is cleared first and set
 * only on success. */
WD_MUST_CHECK int purl_parse(const char *text, struct purl *ret, struct wd_error *err);

/* Frees the strings of purl and clears it; accepts NULL. */
void purl_free(struct purl *purl);

/* Returns the value of qualifier key (lowercase), or NULL. */
const char *purl_qualifier(const struct purl *purl, const char *key);
