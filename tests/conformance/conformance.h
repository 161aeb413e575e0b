/* The Rego conformance runner: loads OPA's YAML case files, runs each case
 * against the policy engine and reports pass, fail or skip with the detail
 * a failure needs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "policy/value.h"

enum case_status {
	CASE_PASS = 0,
	CASE_FAIL,
	CASE_SKIP,
};

/* Largest case file read, in bytes. */
#define CASE_FILE_MAX (16u * 1024u * 1024u)

/* Loads a case file and returns its "cases" array (a new reference), or
 * NULL with the reason in err. */
struct rv *conformance_load_cases(const char *path, struct wd_buf *err);

/* Runs one case (an object of the case file). Returns its status; for a
 * failure or skip, detail receives the reason, and with verbose the note,
 * query, expected and actual results. */
enum case_status conformance_run_case(const struct rv *tc, bool verbose, struct wd_buf *detail);
