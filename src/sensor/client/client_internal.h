/* Declarations the sensor client's files share. Not part of its interface. */
#pragma once

#include <sys/types.h>

#include <jansson.h>

#include "agent/attest_unix.h"
#include "common/error.h"
#include "common/macros.h"

/* sensor_selectors_of_pid with a cache of executable hashes (may be NULL). */
WD_MUST_CHECK int client_selectors_of_pid(pid_t pid, const char *proc_root,
	struct attest_cache *cache, json_t **ret_selectors, struct wd_error *err);
