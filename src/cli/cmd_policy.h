/* Shared parts of `warden policy`: loading Rego modules and data documents
 * from files and directories into an engine builder, as `opa` loads them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy/policy.h"

/* Largest Rego module read, in bytes. */
#define POLICY_MODULE_MAX (4u * 1024u * 1024u)
/* Largest data or input document read, in bytes. */
#define POLICY_DOCUMENT_MAX (64u * 1024u * 1024u)

/* Modules and data loaded from the paths of a command line: modules go
 * straight into the builder, data documents are merged into one object. */
struct policy_load {
	struct rego_builder *builder;
	struct rv *data;          /* merged data document (an object) */
	size_t module_count;
};

/* Loads each path. A .rego file is a module named by its path, and a .json,
 * .yaml or .yml file is data at the root. A directory is walked for .rego
 * modules and data.json/data.yaml files, whose data goes at the directory's
 * path below the one given. Parse errors go to errs and return WD_EINVAL;
 * other failures print their reason on stderr. */
WD_MUST_CHECK int policy_load_paths(struct policy_load *load, char *const *paths, size_t count,
				    struct rego_errors *errs);

/* Frees what policy_load_paths built; accepts a zeroed load. */
void policy_load_clear(struct policy_load *load);

/* Reads a JSON or (by a .yaml/.yml extension) YAML document; NULL after
 * printing why on stderr. */
struct rv *policy_read_document(const char *path);

/* Prints errors as `opa` does: "1 error occurred: file:row: code: message"
 * or "N errors occurred:" followed by one line each. */
void policy_print_errors(FILE *out, const struct rego_errors *errs);
