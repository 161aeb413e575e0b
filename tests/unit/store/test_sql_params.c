/* Unit tests for the PostgreSQL backend's SQL checks (sql_params.c), which
 * need no database: $1..$N references outside literals and comments, and
 * the statements a migration script may not contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_backend.h"

static int check(const char *sql, size_t count, struct wd_error *err)
{
	return store_sql_check_params(sql, count, err);
}

static void params_outside_literals(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(check("SELECT a FROM t WHERE b = $1 AND c = $2", 2, &err), 0);
	assert_int_equal(check("SELECT $2 * 100 + $1", 2, &err), 0);
	assert_int_equal(check("SELECT $1, $1", 1, &err), 0);
	assert_int_equal(check("SELECT 1", 0, &err), 0);

	/* References inside literals, identifiers and comments do not count. */
	assert_int_equal(check("SELECT '$2', \"col$2\", a$2 -- $2\n FROM t WHERE x = $1", 1, &err),
		0);
	assert_int_equal(check("SELECT /* $2 /* nested $3 */ $4 */ $1", 1, &err), 0);
	assert_int_equal(check("SELECT $$ $2 $$, $tag$ it's $2 $tag$, $1", 1, &err), 0);
	assert_int_equal(check("SELECT E'it\\'s $2', 'it''s $2', $1", 1, &err), 0);
	/* Without E a backslash is an ordinary character. */
	assert_int_equal(check("SELECT 'a\\', $1", 1, &err), 0);
}

static void params_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(check("SELECT $2", 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "uses $2 but param_count is 1"));
	assert_int_equal(check("SELECT $1", 2, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "does not use parameter $2 of the 2 given"));
	assert_int_equal(check("SELECT '$1'", 1, &err), WD_EINVAL);
	assert_int_equal(check("SELECT ?", 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "'?'"));
	assert_int_equal(check("SELECT $01", 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "'$01'"));
	assert_int_equal(check("SELECT $0", 1, &err), WD_EINVAL);
	assert_int_equal(check("SELECT $99999999999999999999", 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "'$999999999999'"));
	/* An unclosed literal stops the scan, leaving the error to PostgreSQL. */
	assert_int_equal(check("SELECT $1, 'open $2", 1, &err), 0);
}

static void script_statements_checked(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(store_sql_check_script("CREATE TABLE a (x INTEGER);\n"
		"INSERT INTO a VALUES (1); -- COMMIT\n/* BEGIN */ INSERT INTO a VALUES (2);", &err), 0);
	assert_int_equal(store_sql_check_script("CREATE TABLE a (x TEXT DEFAULT 'x; COMMIT')", &err),
		0);

	assert_int_equal(store_sql_check_script("CREATE TABLE a (x INTEGER); COMMIT; BEGIN;", &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "'COMMIT'"));
	assert_int_equal(store_sql_check_script("  savepoint s", &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "'savepoint s'"));
	assert_int_equal(store_sql_check_script("INSERT INTO a VALUES ($1)", &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "parameters"));

	assert_true(store_sql_is_transaction_control(" begin"));
	assert_true(store_sql_is_transaction_control("END"));
	assert_false(store_sql_is_transaction_control("BEGINNING"));
	assert_false(store_sql_is_transaction_control("SELECT 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(params_outside_literals),
		cmocka_unit_test(params_rejected),
		cmocka_unit_test(script_statements_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
