/* The syntax of policy text: the subset of HCL 1 that Vault policies use,
 * and JSON, read into one tree of values with their line numbers so the
 * policy reader can report where a bad value sits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

enum acl_value_kind {
	ACL_VALUE_STRING,
	ACL_VALUE_NUMBER,
	ACL_VALUE_BOOL,
	ACL_VALUE_LIST,
	ACL_VALUE_OBJECT,
};

/* One value. Object members keep their order and may repeat a key, as
 * repeated `path` blocks do. A block with labels, `path "a" { ... }`,
 * reads as the member path = { "a" = { ... } }. */
struct acl_value {
	enum acl_value_kind kind;
	unsigned line;
	const char *text;          /* STRING decoded, NUMBER as written; NUL-terminated */
	size_t len;
	bool boolean;
	struct acl_value *first;   /* items of a LIST, members of an OBJECT */
	struct acl_value *next;    /* the next item or member */
	const char *key;           /* the member's name inside an OBJECT, else NULL */
	size_t key_len;
};

/* A parsed text: its values live in one arena freed with the document. */
struct acl_document;

/* Parses HCL or JSON text (a document whose first token is '{' reads as
 * JSON). WD_EINVAL with "<reason> at line N"; WD_ETOOBIG past the
 * nesting or value ceilings of acl_internal.h. Never reads past len. */
WD_MUST_CHECK int acl_syntax_parse(const char *text, size_t len, struct acl_document **ret_doc,
	struct wd_error *err);

/* The top-level object of the document. */
const struct acl_value *acl_document_root(const struct acl_document *doc);

void acl_document_free(struct acl_document *doc);
