/* METADATA annotation blocks, private to the parser: reading the YAML of
 * `# METADATA` comment blocks and attaching each to the statement after it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/parser.h"

/* One parsed block. The fields object contains every annotation but the scope,
 * frozen and kept by the parser's arena. */
struct meta_block {
	struct rego_loc loc;          /* the `# METADATA` comment */
	struct rv *fields;
	const char *scope;            /* as written; "" when absent */
	bool entrypoint;
};

struct meta_blocks {
	struct meta_block *items;     /* in the parser's arena, in source order */
	size_t len;
};

/* Parses the METADATA blocks among the parser's comments. Bad YAML and bad
 * fields become rego_parse_error entries on the parser, as OPA reports them
 * after the statement errors. */
void rp_metadata_parse(struct parser *p, struct meta_blocks *ret);

/* Attaches each block to the first package, import or rule that starts on a
 * later row, filling rego_module.annotations and rego_rule.annotations, and
 * records OPA's scope errors ("annotation scope 'rule' must be applied to
 * rule (have package)", ...) on the parser. */
void rp_metadata_attach(struct parser *p, struct rego_module *m,
			const struct meta_blocks *blocks);
