/* The rule set's insides, shared by the loader and the compiler. */
#pragma once

#include "sensor/rules/rules.h"

struct rules_list {
	char *name;
	char **items;
	size_t count;
};

struct rules_macro {
	char *name;
	char *condition;
};

struct rules_index_entry {
	const char *evttype;
	size_t rule;
};

struct rules_set {
	char *files[RULES_MAX_FILES];
	yaml_document_t docs[RULES_MAX_FILES];  /* exceptions point into these */
	size_t nfiles;

	struct rules_list *lists;
	size_t nlists;
	struct rules_macro *macros;
	size_t nmacros;
	struct rules_rule *rules;
	size_t nrules;

	struct rules_index_entry *index;         /* sorted by type, then rule */
	size_t nindex;
	size_t *any;                             /* rules without a type restriction */
	size_t nany;
};

struct rules_list *rules_list_find(const struct rules_set *set, const char *name);
struct rules_macro *rules_macro_find(const struct rules_set *set, const char *name);
struct rules_rule *rules_rule_find(const struct rules_set *set, const char *name);

/* Frees what one rule owns (not the rule struct itself). */
void rules_rule_clear(struct rules_rule *rule);

/* Builds the condition with the rule's exceptions appended, as Falco's rule
 * compiler does: `(cond) and not ((f1 c1 v1 and ...) or ...)`. */
WD_MUST_CHECK int rules_exceptions_apply(const struct rules_rule *rule, char **ret_text,
	struct wd_error *err);
