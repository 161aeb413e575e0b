/* JSON Schema (drafts 4, 6 and 7) for json.match_schema and
 * json.verify_schema: compiled schemas, validation and the error records
 * OPA builds from gojsonschema's results. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "common/buf.h"
#include "common/macros.h"
#include "policy/builtin.h"
#include "policy/gql.h"
#include "policy/value.h"

/* Schema nesting and $ref chains past this depth are rejected, and a
 * validation that recurses deeper stops with an error. */
#define JS_MAX_DEPTH 200
/* Keyword checks one validation may run before it stops. */
#define JS_MAX_STEPS 2000000

/* gojsonschema's draft numbers; "hybrid" (no $schema) accepts the keywords
 * of every draft. */
enum js_draft {
	JS_DRAFT4 = 4,
	JS_DRAFT6 = 6,
	JS_DRAFT7 = 7,
	JS_HYBRID = 1000,
};

enum js_type {
	JS_T_ARRAY = 1u << 0,
	JS_T_BOOLEAN = 1u << 1,
	JS_T_INTEGER = 1u << 2,
	JS_T_NUMBER = 1u << 3,
	JS_T_NULL = 1u << 4,
	JS_T_OBJECT = 1u << 5,
	JS_T_STRING = 1u << 6,
};

struct js_schema;

struct js_named {
	const char *name;               /* property name or pattern */
	struct js_schema *schema;
};

/* A dependency: required property names, or a schema. */
struct js_dependency {
	const char *key;
	struct gql_list names;          /* const char * */
	struct js_schema *schema;
};

/* A number bound: an exact rational and its text for messages. */
struct js_bound {
	bool set;
	mpq_t value;
};

struct js_count {
	bool set;
	int64_t value;
};

/* additionalProperties and additionalItems: absent, a boolean or a schema. */
struct js_extra {
	bool set;
	bool allowed;                   /* the boolean form */
	struct js_schema *schema;       /* the schema form */
};

struct js_schema {
	enum js_draft draft;
	int pass;                       /* -1, or the boolean schema's value */
	struct js_schema *ref;          /* a $ref replaces every other keyword */
	unsigned types;                 /* enum js_type bits */
	const char *type_names[8];      /* in schema order, for messages */
	size_t ntypes;

	struct gql_list properties;     /* struct js_named, sorted by name */
	struct js_extra additional_properties;
	struct gql_list pattern_properties;     /* struct js_named, sorted */
	struct js_schema *property_names;
	struct gql_list dependencies;   /* struct js_dependency, sorted */
	struct gql_list items;          /* struct js_schema */
	bool items_single;
	struct js_extra additional_items;

	struct js_bound multiple_of;
	struct js_bound minimum;
	struct js_bound maximum;
	struct js_bound exclusive_minimum;
	struct js_bound exclusive_maximum;

	struct js_count min_length;
	struct js_count max_length;
	const char *pattern;
	const char *format;

	struct js_count min_properties;
	struct js_count max_properties;
	struct gql_list required;       /* const char * */

	struct js_count min_items;
	struct js_count max_items;
	bool unique_items;
	struct js_schema *contains;

	const char *const_json;         /* the const value as JSON text */
	bool enum_set;
	struct gql_list enum_json;      /* const char *, JSON text */

	struct gql_list one_of;         /* struct js_schema */
	struct gql_list any_of;
	struct gql_list all_of;
	struct js_schema *not_schema;
	struct js_schema *if_schema;
	struct js_schema *then_schema;
	struct js_schema *else_schema;
};

/* A compiled schema and everything it allocated. */
struct js_compiled {
	struct gql_arena arena;
	struct js_schema *root;
	const struct rv *document;      /* the schema document, borrowed */
	struct gql_list bounds;         /* struct js_bound to clear */
	struct gql_map refs;            /* $ref text -> struct js_schema */
	int depth;
};

/* Compiles a schema value (object or boolean) as gojsonschema's
 * SchemaLoader does with draft detection. On an invalid schema returns
 * WD_EINVAL with gojsonschema's message in err. */
WD_MUST_CHECK int js_compile(struct js_compiled *out, const struct rv *schema, struct wd_buf *err);

void js_compiled_free(struct js_compiled *c);

/* Validates doc and appends one object {error, type, field, desc} per
 * problem to errors, in gojsonschema's order. ctx records regex failures. */
WD_MUST_CHECK int js_validate(struct rego_bctx *ctx, const struct js_compiled *c,
			      const struct rv *doc, struct rv *errors);

/* ---- helpers (jsonschema_util.c) ---- */

/* Appends v as Go's json.Marshal writes it after a round trip through
 * float64 (gojsonschema's marshalWithoutNumber): sorted keys, HTML-safe
 * escapes, numbers in Go's float formatting. WD_ETOOBIG past
 * 4 * JS_MAX_DEPTH levels of nesting. */
WD_MUST_CHECK int js_marshal(const struct rv *v, struct wd_buf *out, int depth);

/* Sets q to the exact value of a number; false for a value that is not a
 * finite number. */
bool js_number_rat(const struct rv *n, mpq_t q);

/* Appends q as Go's big.Float String() prints it (%.10g). */
WD_MUST_CHECK int js_format_rat(const mpq_t q, struct wd_buf *out);

/* The checks of gojsonschema's format checkers; unknown formats pass. */
bool js_format_ok(const char *format, const struct rv *value);
