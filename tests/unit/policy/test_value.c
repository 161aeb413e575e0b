/* Unit tests for Rego values: construction, reference counting, objects and
 * sets, OPA's order, hashing, freezing and the memory budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/value.h"

static struct rv *js(const char *text)
{
	struct rv *v = rv_parse_json(text, strlen(text), 0, NULL);

	assert_non_null(v);
	return v;
}

static void assert_json(const struct rv *v, const char *want)
{
	struct wd_buf buf;

	wd_buf_init(&buf, 64, 1 << 24);
	assert_int_equal(rv_write_json(v, &buf), 0);
	assert_string_equal(wd_buf_str(&buf), want);
	wd_buf_free(&buf);
}

static void value_scalars(void **state)
{
	struct rv *s;

	(void)state;
	assert_true(rv_null() == rv_null());
	assert_true(rv_bool(true) == rv_bool(true));
	assert_true(rv_is_true(rv_bool(true)));
	assert_false(rv_is_true(rv_bool(false)));
	assert_false(rv_is_true(rv_null()));
	assert_false(rv_is_true(NULL));
	/* Shared constants ignore reference counting. */
	rv_unref(rv_ref(rv_null()));
	rv_unref(rv_bool(false));
	assert_int_equal(rv_kind_of(rv_null()), RV_NULL);

	s = rv_string("a\0b", 3);
	assert_int_equal(rv_str_len(s), 3);
	assert_memory_equal(rv_str(s), "a\0b", 4);
	rv_unref(s);

	s = rv_cstring("a longer string than seven bytes");
	assert_string_equal(rv_str(s), "a longer string than seven bytes");
	assert_int_equal(rv_count(s), 32);
	rv_unref(s);

	s = rv_string_take(strdup("héllo wörld, taken"), strlen("héllo wörld, taken"));
	assert_string_equal(rv_str(s), "héllo wörld, taken");
	assert_int_equal(rv_count(s), 18);
	rv_unref(s);

	s = rv_string_take(strdup("tiny"), 4);
	assert_string_equal(rv_str(s), "tiny");
	rv_unref(s);

	assert_null(rv_cstring(NULL));
	assert_null(rv_string_take(NULL, 3));

	/* count as OPA: code points, each invalid byte one. */
	s = rv_string("\xe2\x82\xac\xff" "a", 5);
	assert_int_equal(rv_count(s), 3);
	rv_unref(s);

	assert_string_equal(rv_type_name(rv_null()), "null");
	assert_string_equal(rv_type_name(rv_bool(true)), "boolean");
}

static void value_arrays(void **state)
{
	struct rv *a = rv_array_new(0);

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 100; i++)
		assert_int_equal(rv_array_push(a, rv_int(i * 1000)), 0);
	assert_int_equal(rv_array_len(a), 100);
	assert_int_equal(rv_count(a), 100);
	{
		struct rv *last = rv_int(99000);

		assert_int_equal(rv_compare(rv_array_at(a, 99), last), 0);
		rv_unref(last);
	}

	/* The item is consumed even when the push fails. */
	assert_int_equal(rv_array_push(a, NULL), WD_ENOMEM);
	assert_int_equal(rv_array_push(NULL, rv_cstring("leaked unless freed")), WD_ENOMEM);
	rv_unref(a);

	/* Parsed arrays keep items inline and still grow. */
	a = js("[1,2,3]");
	assert_int_equal(rv_array_push(a, rv_int(4)), 0);
	assert_int_equal(rv_array_push(a, rv_cstring("five")), 0);
	assert_json(a, "[1,2,3,4,\"five\"]");
	rv_unref(a);
}

static void value_objects(void **state)
{
	struct rv *o = rv_object_new(0), *k, *v;
	char key[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		assert_int_equal(rv_object_put(o, rv_cstring(key), rv_int(i)), 0);
	}
	assert_int_equal(rv_len(o), 1000);
	assert_int_equal(rv_count(o), 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		v = rv_object_get_str(o, key);
		assert_non_null(v);
		assert_int_equal(rv_compare(v, rv_int(i)), 0);
	}
	assert_null(rv_object_get_str(o, "key1000"));

	/* Replacing keeps the size and the insertion position. */
	assert_int_equal(rv_object_put(o, rv_cstring("key5"), rv_cstring("five")), 0);
	assert_int_equal(rv_len(o), 1000);
	rv_map_at(o, 5, &k, &v);
	assert_string_equal(rv_str(k), "key5");
	assert_string_equal(rv_str(v), "five");

	/* Sorted order is by key bytes: key0, key1, key10, key100, ... */
	rv_map_sorted_at(o, 0, &k, &v);
	assert_string_equal(rv_str(k), "key0");
	rv_map_sorted_at(o, 2, &k, &v);
	assert_string_equal(rv_str(k), "key10");
	rv_map_sorted_at(o, 999, &k, &v);
	assert_string_equal(rv_str(k), "key999");

	assert_int_equal(rv_object_put(o, NULL, rv_int(1)), WD_ENOMEM);
	assert_int_equal(rv_object_put(o, rv_int(1), NULL), WD_ENOMEM);
	rv_unref(o);

	/* Keys of any kind; 1 and 1.0 are the same key. */
	o = rv_object_new(4);
	assert_int_equal(rv_object_put(o, rv_int(1), rv_cstring("int")), 0);
	assert_int_equal(rv_object_put(o, rv_number_parse("1.0", 3), rv_cstring("float")), 0);
	assert_int_equal(rv_object_put(o, js("[1,{\"a\":null}]"), rv_null()), 0);
	assert_int_equal(rv_len(o), 2);
	k = rv_int(1);
	assert_string_equal(rv_str(rv_object_get(o, k)), "float");
	k = js("[1,{\"a\":null}]");
	assert_true(rv_object_get(o, k) == rv_null());
	rv_unref(k);
	assert_null(rv_object_get(rv_null(), rv_null()));
	rv_unref(o);
}

static void value_sets(void **state)
{
	struct rv *s = rv_set_new(0), *m;

	(void)state;
	for (int i = 0; i < 50; i++)
		assert_int_equal(rv_set_add(s, rv_int(i % 20)), 0);
	assert_int_equal(rv_len(s), 20);
	assert_true(rv_set_has(s, rv_int(19)));
	assert_false(rv_set_has(s, rv_int(20)));
	m = rv_number_parse("3.0", 3);
	assert_true(rv_set_has(s, m));
	rv_unref(m);
	rv_map_at(s, 3, &m, NULL);
	assert_int_equal(rv_compare(m, rv_int(3)), 0);
	assert_int_equal(rv_set_add(s, NULL), WD_ENOMEM);
	assert_false(rv_set_has(rv_null(), rv_int(1)));
	rv_unref(s);
}

/* Values in ascending OPA order, one of each kind and some of each. */
static const char *const ordered[] = {
	"null", "false", "true", "-1", "0", "0.5", "1", "\"\"", "\"A\"", "\"a\"", "\"ab\"",
	"\"b\"", "[]", "[1]", "[1,2]", "[1,3]", "[2]", "[\"a\"]", "{}", "{\"a\":1}",
	"{\"a\":1,\"b\":0}", "{\"a\":2}", "{\"b\":0}",
};

static void value_order(void **state)
{
	size_t n = sizeof(ordered) / sizeof(ordered[0]);
	struct rv *empty_set = rv_set_new(0), *set1 = rv_set_new(0), *set12 = rv_set_new(0);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct rv *a = js(ordered[i]), *b = js(ordered[j]);
			int c = rv_compare(a, b);

			assert_int_equal(c < 0 ? -1 : c > 0, i < j ? -1 : i > j);
			assert_int_equal(rv_equal(a, b), i == j);
			if (i == j)
				assert_true(rv_hash(a) == rv_hash(b));
			rv_unref(a);
			rv_unref(b);
		}
	}

	/* Sets sort last, then member by member. */
	assert_int_equal(rv_set_add(set1, rv_int(1)), 0);
	assert_int_equal(rv_set_add(set12, rv_int(2)), 0);
	assert_int_equal(rv_set_add(set12, rv_int(1)), 0);
	{
		struct rv *obj = js("{\"z\":1}");

		assert_true(rv_compare(obj, empty_set) < 0);
		assert_true(rv_compare(empty_set, set1) < 0);
		assert_true(rv_compare(set1, set12) < 0);
		rv_unref(obj);
	}
	rv_unref(empty_set);
	rv_unref(set1);
	rv_unref(set12);
}

static void value_hash_ignores_insertion_order(void **state)
{
	struct rv *a = js("{\"x\":1,\"y\":[1,2],\"z\":{\"q\":null}}");
	struct rv *b = js("{\"z\":{\"q\":null},\"y\":[1,2],\"x\":1.0}");
	struct rv *s1 = rv_set_new(0), *s2 = rv_set_new(0);

	(void)state;
	assert_int_equal(rv_compare(a, b), 0);
	assert_true(rv_hash(a) == rv_hash(b));
	for (int i = 0; i < 30; i++) {
		assert_int_equal(rv_set_add(s1, rv_int(i)), 0);
		assert_int_equal(rv_set_add(s2, rv_int(29 - i)), 0);
	}
	assert_int_equal(rv_compare(s1, s2), 0);
	assert_true(rv_hash(s1) == rv_hash(s2));
	rv_unref(a);
	rv_unref(b);
	rv_unref(s1);
	rv_unref(s2);
}

static void value_freeze(void **state)
{
	struct rv *doc = js("{\"b\":[1,\"two\",{\"c\":3.5}],\"a\":\"shared\",\"s\":\"shared\"}");
	struct rv *inner;
	struct rv *k, *v;

	(void)state;
	/* A reference to an inner node taken before freezing keeps counting. */
	inner = rv_ref(rv_object_get_str(doc, "b"));
	rv_freeze(doc);
	assert_int_equal(doc->refs, 0x80000001u);
	assert_int_equal(inner->refs, 0x80000002u);
	assert_true(doc->hash != 0);
	rv_map_sorted_at(doc, 0, &k, &v);
	assert_string_equal(rv_str(k), "a");

	rv_ref(doc);
	assert_int_equal(doc->refs, 0x80000002u);
	rv_unref(doc);
	assert_string_equal(rv_str(rv_object_get_str(doc, "s")), "shared");

	/* Builders reject frozen containers and still consume the item. */
	assert_int_equal(rv_array_push(inner, rv_cstring("no")), WD_EINVAL);
	assert_int_equal(rv_object_put(doc, rv_cstring("x"), rv_null()), WD_EINVAL);
	assert_int_equal(rv_len(doc), 3);

	/* Freeing the tree leaves the node held elsewhere alive (ASan checks). */
	rv_free_frozen(doc);
	assert_int_equal(inner->refs, 0x80000001u);
	assert_string_equal(rv_str(rv_array_at(inner, 1)), "two");
	rv_unref(inner);
	rv_free_frozen(NULL);
	rv_freeze(NULL);
}

static void value_budget(void **state)
{
	struct rv *a;
	int rc = 0;

	(void)state;
	rv_budget_begin(4096);
	assert_false(rv_budget_hit());
	a = rv_array_new(0);
	assert_non_null(a);
	for (int i = 0; i < 1000 && rc == 0; i++)
		rc = rv_array_push(a, rv_cstring("a string of some length"));
	assert_int_equal(rc, WD_ENOMEM);
	assert_true(rv_budget_hit());
	assert_true(rv_budget_used() <= 4096);
	assert_null(rv_cstring("more"));
	assert_null(rv_int(1 << 20));
	/* Shared constants never fail. */
	assert_non_null(rv_null());
	assert_non_null(rv_int(1));
	rv_unref(a);
	rv_budget_end();
	assert_false(rv_budget_hit());
	assert_int_equal(rv_budget_used(), 0);

	rv_budget_begin(1 << 20);
	a = rv_cstring("counted while the budget runs");
	assert_true(rv_budget_used() > 0);
	rv_unref(a);
	assert_int_equal(rv_budget_used(), 0);
	rv_budget_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(value_scalars),
		cmocka_unit_test(value_arrays),
		cmocka_unit_test(value_objects),
		cmocka_unit_test(value_sets),
		cmocka_unit_test(value_order),
		cmocka_unit_test(value_hash_ignores_insertion_order),
		cmocka_unit_test(value_freeze),
		cmocka_unit_test(value_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
