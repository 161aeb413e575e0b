/* Falco rule files: loading lists, macros and rules (with append, override
 * and exceptions) from several files in order, compiling their conditions,
 * and finding the rules an event matches. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/macros.h"
#include "sensor/rules/cond.h"

/* Ceilings on what rule files can make the loader allocate. */
#define RULES_MAX_FILES 64
#define RULES_MAX_ITEMS 100000        /* lists, macros and rules together */
#define RULES_MAX_LIST_ITEMS 100000   /* values in one list after expansion */
#define RULES_MAX_FILE_BYTES (64u * 1024u * 1024u)

/* Falco's priorities, most severe first. */
enum rules_priority {
	RULES_EMERGENCY, RULES_ALERT, RULES_CRITICAL, RULES_ERROR,
	RULES_WARNING, RULES_NOTICE, RULES_INFORMATIONAL, RULES_DEBUG,
};

/* Parses a priority name, case-insensitive ("INFO" is INFORMATIONAL).
 * WD_EINVAL for another name. */
WD_MUST_CHECK int rules_priority_parse(const char *name, enum rules_priority *ret);

/* Returns the canonical name ("Warning"). */
const char *rules_priority_name(enum rules_priority priority);

enum rules_status {
	RULES_PENDING,      /* loaded, not compiled yet */
	RULES_LOADED,
	RULES_SKIPPED,      /* reason gives the cause */
	RULES_DISABLED,     /* enabled: false */
};

/* One exception value: a tuple (or a scalar for scalar fields), read with
 * the document of the file that added it. */
struct rules_xvalue {
	const yaml_node_t *node;
	const yaml_document_t *doc;
};

struct rules_exception {
	char *name;
	const yaml_node_t *fields;     /* scalar or sequence, in doc */
	const yaml_node_t *comps;      /* NULL: the defaults */
	const yaml_document_t *doc;
	struct rules_xvalue *values;
	size_t nvalues;
};

/* A `warden:` section of a rule item: warden's own settings for the rule
 * (its responses), which Falco ignores. Read with the document of the file
 * that added it; file names that file in messages. */
struct rules_extension {
	const yaml_node_t *node;
	const yaml_document_t *doc;
	const char *file;
};

struct rules_rule {
	char *name;
	char *desc;
	char *condition;
	char *output;
	char *source;                  /* "syscall" unless the rule sets another */
	enum rules_priority priority;
	char **tags;
	size_t ntags;
	bool enabled;
	struct rules_exception *exceptions;
	size_t nexceptions;
	const char *file;              /* where it was defined, for messages */
	size_t line;
	struct rules_extension *warden; /* `warden:` sections, in load order */
	size_t nwarden;

	/* Set by rules_compile. */
	enum rules_status status;
	char *reason;                  /* skip reason, or NULL */
	char *absent;                  /* absent-source fields it reads, or NULL */
	char *full_condition;          /* condition with its exceptions */
	struct cond_node *ast;
	char **evttypes;               /* event types it can match, sorted */
	size_t nevttypes;
	bool any_evttype;              /* no evt.type restriction */
};

struct rules_set;

/* Creates an empty set in *ret_set. WD_ENOMEM. */
WD_MUST_CHECK int rules_set_new(struct rules_set **ret_set);

/* Frees a set and everything it loaded; accepts NULL. */
void rules_set_free(struct rules_set *set);

/* Loads one rule file's text; name is used in messages. On an error the set
 * keeps what earlier files defined and err reads "name:line: reason".
 * WD_EINVAL for bad YAML or a bad item, WD_ETOOBIG past a ceiling. */
WD_MUST_CHECK int rules_load_buffer(struct rules_set *set, const char *name,
	const char *data, size_t len, struct wd_error *err);

/* Reads and loads a rule file. WD_EIO when it cannot be read. */
WD_MUST_CHECK int rules_load_file(struct rules_set *set, const char *path, struct wd_error *err);

/* Compiles every enabled rule: exceptions become part of the condition,
 * lists and macros are expanded, unsupported fields and operators skip the
 * rule with a reason. WD_EINVAL (err: "file:line: rule 'x': reason") when a
 * condition has a syntax error or names an undefined macro. */
WD_MUST_CHECK int rules_compile(struct rules_set *set, struct wd_error *err);

/* The rules in definition order. */
size_t rules_count(const struct rules_set *set);
const struct rules_rule *rules_get(const struct rules_set *set, size_t index);

/* Writes one line per rule: "loaded NAME", "loaded NAME (absent source:
 * FIELDS evaluate unset)", "skipped NAME: REASON" or "disabled NAME". */
WD_MUST_CHECK int rules_report(const struct rules_set *set, struct wd_buf *out);

/* The bound on the paths of the opens that the loaded rules can match, for
 * the kernel's path filter (sensor_filter_open_paths). */
struct rules_open_paths {
	bool matches_opens;            /* some loaded rule matches open events */
	const struct rules_rule *any_rule; /* one that can match an open of any
	                                * path: no filter is possible */
	char **prefixes;               /* sorted; none is a prefix of another */
	size_t count;
	char **suffixes;               /* sorted, unique */
	size_t suffix_count;
};

/* Fills *ret. Unless any_rule is set, every open a loaded rule can match
 * has an fd.name that starts with one of the prefixes or ends with one of
 * the suffixes. Otherwise its path is one the kernel's filter always lets
 * through (relative, too long, or with "..", "/." or "//"). The bound
 * comes from fd.name, fd.nameraw and fd.directory comparisons by =, in, startswith,
 * pmatch and glob, fd.filename by = and in, endswith on fd.name,
 * fd.nameraw and fd.filename, and from evt.type.
 * WD_ENOMEM. Free with rules_open_paths_free. */
WD_MUST_CHECK int rules_open_paths(const struct rules_set *set, struct rules_open_paths *ret,
	struct wd_error *err);

void rules_open_paths_free(struct rules_open_paths *paths);

/* Called for each matching rule; return false to stop. */
typedef bool (*rules_match_fn)(const struct rules_rule *rule, void *ctx);

/* Evaluates the loaded rules that can match an event of type evttype, in
 * definition order, and calls on_match for each that matches. Returns the
 * number of rules evaluated. */
size_t rules_match(const struct rules_set *set, const char *evttype, cond_getter get,
	void *get_ctx, rules_match_fn on_match, void *match_ctx);
