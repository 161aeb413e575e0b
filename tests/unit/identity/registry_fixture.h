/* Shared fixture of the registry tests: a fresh temporary SQLite store with
 * a registry for trust domain example.org, plus helpers that build entries
 * and count rows. Include after cmocka.h. */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "identity/registry.h"
#include "store/store.h"
#include "../store/test_datastore.h"

#define TD "example.org"
#define AGENT_A "spiffe://example.org/warden/agent/join_token/aaaa"
#define AGENT_B "spiffe://example.org/warden/agent/join_token/bbbb"

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
	struct registry *registry;
	struct registry_options options;
};

/* Opens the store and registry of f with f->options. */
static inline int fixture_open(struct fixture *f)
{
	struct wd_error err = { 0 };

	if (store_open(f->path, NULL, &f->store, &err) < 0 ||
	    registry_open(f->store, &f->options, &f->registry, &err) < 0) {
		fprintf(stderr, "fixture_open: %s\n", wd_error_text(&err));
		return -1;
	}
	return 0;
}

static inline int fixture_setup_with(void **state, const struct registry_options *options)
{
	struct fixture *f = wd_calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-registry-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	test_datastore_setup(f->path, sizeof(f->path), f->dir, "registry.db");
	f->options = *options;
	if (fixture_open(f) < 0)
		return -1;
	*state = f;
	return 0;
}

static inline int fixture_setup(void **state)
{
	return fixture_setup_with(state, &(struct registry_options){ .trust_domain = TD });
}

static inline void fixture_close(struct fixture *f)
{
	registry_close(f->registry);
	f->registry = NULL;
	store_close(f->store);
	f->store = NULL;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d;
	struct dirent *dirent;
	char path[512];

	fixture_close(f);
	d = opendir(f->dir);
	while (d && (dirent = readdir(d))) {
		if (strcmp(dirent->d_name, ".") == 0 || strcmp(dirent->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, dirent->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static inline int count_row(void *context, const struct store_row *row)
{
	*(int64_t *)context = store_row_int(row, 0);
	return 0;
}

/* Counts the rows of table; fails the test if the query fails. */
static inline int64_t count_rows(struct fixture *f, const char *table)
{
	char sql[128];
	int64_t count = -1;
	struct wd_error err = { 0 };

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	if (store_query(f->store, sql, NULL, 0, count_row, &count, &err) < 0)
		fprintf(stderr, "count_rows: %s\n", wd_error_text(&err));
	assert_true(count >= 0);
	return count;
}

/* Creates an entry with spiffe_id, parent_id and one selector and returns
 * it; fails the test on error. */
static inline struct registry_entry *make_entry(struct fixture *f, const char *spiffe_id,
	const char *parent_id, const char *selector, bool admin)
{
	const char *selectors[] = { selector };
	struct registry_entry_input input = {
		.fields = REGISTRY_FIELD_SPIFFE_ID | REGISTRY_FIELD_PARENT_ID |
			REGISTRY_FIELD_SELECTORS | REGISTRY_FIELD_ADMIN,
		.spiffe_id = spiffe_id,
		.parent_id = parent_id,
		.selectors = selectors,
		.selector_count = 1,
		.admin = admin,
	};
	struct registry_entry *entry = NULL;
	struct wd_error err = { 0 };
	int rc = registry_entry_create(f->registry, &input, 1000, &entry, &err);

	if (rc < 0)
		fprintf(stderr, "make_entry: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	return entry;
}
