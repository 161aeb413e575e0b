/* libFuzzer harness: scans arbitrary bytes as SQL with the PostgreSQL
 * backend's checks (the $1..$N references of a statement, and the
 * transaction statements and parameters of a migration script), and checks
 * that every rejection has a detail. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = malloc(size + 1);

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';

	for (size_t count = 0; count <= 3; count++) {
		struct wd_error err = { 0 };
		int rc = store_sql_check_params(sql, count, &err);

		if (rc != 0 && (rc != WD_EINVAL || err.detail[0] == '\0'))
			__builtin_trap();
	}
	{
		struct wd_error err = { 0 };
		int rc = store_sql_check_script(sql, &err);

		if (rc != 0 && (rc != WD_EINVAL || err.detail[0] == '\0'))
			__builtin_trap();
		/* A script that starts with a transaction statement is rejected. */
		if (store_sql_is_transaction_control(sql) && rc == 0)
			__builtin_trap();
	}
	free(sql);
	return 0;
}
