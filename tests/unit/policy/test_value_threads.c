/* Unit tests for frozen values shared between threads: concurrent readers
 * see the same document, and the last holder frees it on its own thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "policy/value.h"

#define WORKERS 4

struct shared {
	struct rv *doc;
	const char *json;       /* the document's JSON text */
	int failures;
};

struct worker {
	struct shared *sh;
	struct rv *kept;        /* records this worker holds on to */
};

static char *write_json(const struct rv *v)
{
	struct wd_buf buf;
	char *text;

	wd_buf_init(&buf, 4096, 1 << 26);
	if (rv_write_json(v, &buf) < 0) {
		wd_buf_free(&buf);
		return NULL;
	}
	text = wd_buf_take(&buf, NULL);
	wd_buf_free(&buf);
	return text;
}

/* Reads the whole document many ways, then keeps a few records. */
static void *reader(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct rv *records, *kept = w->kept;

	records = rv_object_get_str(sh->doc, "records");
	for (int round = 0; round < 20; round++) {
		char *text = write_json(sh->doc);

		if (!text || strcmp(text, sh->json) != 0)
			__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
		free(text);
		for (size_t i = 0; i < rv_array_len(records); i += 5) {
			struct rv *r = rv_array_at(records, i), *key = rv_cstring("id"), *k, *v;

			if (!rv_object_get(r, key) || !rv_object_get_str(r, "name"))
				__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
			rv_map_sorted_at(r, 0, &k, &v);
			if (strcmp(rv_str(k), "id") != 0 || rv_compare(r, r) != 0)
				__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
			rv_unref(key);
			if (round == 0 && rv_array_push(kept, rv_ref(r)) < 0)
				__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void threads_read_frozen_document(void **state)
{
	struct shared sh = { 0 };
	struct worker workers[WORKERS];
	struct wd_buf text;
	pthread_t threads[WORKERS];
	char *json;

	(void)state;
	/* Large enough for the arena, shared shapes and caches. */
	wd_buf_init(&text, 1 << 16, 1 << 24);
	assert_int_equal(wd_buf_append_str(&text, "{\"records\":["), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(wd_buf_appendf(&text,
			"%s{\"id\":%d,\"name\":\"n%d\",\"score\":%d.5,\"tags\":[\"x\",\"y\"]}",
			i ? "," : "", i, i % 7, i % 13), 0);
	assert_int_equal(wd_buf_append_str(&text, "]}"), 0);
	sh.doc = rv_parse_json(wd_buf_str(&text), wd_buf_len(&text), 0, NULL);
	wd_buf_free(&text);
	assert_non_null(sh.doc);
	rv_freeze(sh.doc);
	json = write_json(sh.doc);
	assert_non_null(json);
	sh.json = json;

	for (int i = 0; i < WORKERS; i++) {
		workers[i].sh = &sh;
		workers[i].kept = rv_array_new(0);
		assert_non_null(workers[i].kept);
		assert_int_equal(pthread_create(&threads[i], NULL, reader, &workers[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	assert_int_equal(sh.failures, 0);

	/* The document goes first; the records kept by the readers stay
	 * valid and are freed with the last array holding them. */
	rv_unref(sh.doc);
	for (int i = 0; i < WORKERS; i++) {
		struct rv *kept = workers[i].kept;

		assert_int_equal(rv_array_len(kept), 400);
		assert_string_equal(rv_str(rv_object_get_str(rv_array_at(kept, 399), "name")),
				    "n0");
		rv_unref(kept);
	}
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_read_frozen_document),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
