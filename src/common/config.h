/* YAML configuration files read into a caller's struct, driven by a schema
 * table. Every unknown or invalid setting is reported with the file, line and
 * full dotted key. Nothing in the struct changes unless the whole file is
 * valid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

/* Ceilings on what one file can make the loader do. */
#define CONFIG_MAX_BYTES (1024u * 1024u) /* input size, in bytes */
#define CONFIG_MAX_DEPTH 16              /* nested mappings and sequences */
#define CONFIG_MAX_LIST 1024             /* items in one string list */
#define CONFIG_MAX_ISSUES 100            /* issues stored in a report */

enum config_type {
	CONFIG_STRING,      /* char *, malloc'd */
	CONFIG_INT,         /* int64_t, decimal, within [min, max] when min < max */
	CONFIG_BOOL,        /* bool: true or false (YAML 1.2 core schema) */
	CONFIG_DURATION,    /* int64_t seconds: "90s", "1h30m", "7d" or plain seconds */
	CONFIG_SIZE,        /* uint64_t bytes: "64KiB", "1MiB", "10MB" or plain bytes */
	CONFIG_ENUM,        /* int: the index of the value in choices */
	CONFIG_STRING_LIST, /* struct config_strings */
	CONFIG_SECTION,     /* a nested struct described by fields */
};

enum config_flag {
	CONFIG_SECRET = 1u << 0,   /* never quote the value in a report; wipe it on free */
	CONFIG_REQUIRED = 1u << 1, /* report the key when the file leaves it out */
};

/* A list of malloc'd strings. */
struct config_strings {
	char **items;
	size_t count;
};

/* One setting of a schema. A schema is an array of these ended by an entry
 * whose key is NULL. */
struct config_field {
	const char *key;                   /* YAML key within its section */
	enum config_type type;
	size_t offset;                     /* offsetof the member in the section's struct */
	const char *help;                  /* one line: what it sets, and in what unit */
	unsigned flags;                    /* enum config_flag bits */
	int64_t min, max;                  /* bounds for CONFIG_INT, DURATION, SIZE if min < max */
	const char *const *choices;        /* CONFIG_ENUM: NULL-terminated allowed values */
	const struct config_field *fields; /* CONFIG_SECTION: the section's schema */
};

/* One problem found in a file. */
struct config_issue {
	unsigned line; /* 1-based; 0 when the issue concerns the whole file */
	char *key;     /* full dotted key ("limits.max_body_bytes"), or NULL */
	char *text;    /* "server.yaml:12: unknown key 'identity.ca_tll'" */
};

/* The issues of one load, in file order, then any missing required keys. */
struct config_report {
	struct config_issue *issues;
	size_t count;
	size_t dropped; /* issues found past CONFIG_MAX_ISSUES and not stored */
};

/* Loads the YAML file at path into target; see config_load_buffer. Reading
 * failures return WD_ENOTFOUND, WD_EPERM, WD_EIO or WD_ETOOBIG (over
 * CONFIG_MAX_BYTES), each with one issue naming the path. */
WD_MUST_CHECK int config_load_file(const char *path, const struct config_field *schema,
	void *target, struct config_report *report);

/* Loads len bytes of YAML named `name` in messages into target, a struct
 * described by schema. The members already in target are defaults, kept for
 * absent keys. String and list defaults are borrowed (usually literals) and
 * are copied on entry. Afterwards target owns all of its strings, and
 * config_free can release them on every return except WD_EINTERNAL. Returns
 * 0, or WD_ECONFIG with every issue in report (which is overwritten and may
 * be NULL) and target holding only its defaults. Also WD_ETOOBIG over
 * CONFIG_MAX_BYTES, WD_ENOMEM (a default that could not be copied is left
 * NULL), and WD_EINTERNAL for a malformed schema, which leaves target as it
 * was. NOTE: reload into a fresh struct of defaults, not into one filled by
 * an earlier load, whose owned strings would be copied again and leak. */
WD_MUST_CHECK int config_load_buffer(const char *text, size_t len, const char *name,
	const struct config_field *schema, void *target, struct config_report *report);

/* Frees the strings and lists in target that schema describes, wiping the
 * secret ones, and sets them to NULL; other members are left as they are. */
void config_free(const struct config_field *schema, void *target);

/* Frees the issues in report and empties it; accepts NULL. */
void config_report_free(struct config_report *report);

/* Parses a size: plain bytes ("1048576") or a whole number with one of the
 * units B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
 * 1024). WD_EINVAL for other text, WD_ETOOBIG when it overflows. */
WD_MUST_CHECK int config_size_parse(const char *text, uint64_t *ret_bytes);
