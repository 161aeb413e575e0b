/* The SQL checks of the PostgreSQL backend. The $1..$N check: PostgreSQL itself accepts
 * "$01" as $1, and a parameter the SQL never uses when its type is given,
 * so this scan gives both backends one contract: only $1..$N without
 * leading zeros, each within param_count, each parameter used. It skips
 * what PostgreSQL's lexer skips: string constants ('...', E'...' with
 * backslash escapes, $tag$...$tag$), quoted identifiers and comments. The
 * script check rejects transaction statements and parameters anywhere in a
 * migration script, as the SQLite backend's authorizer does. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "store/store_backend.h"

static bool is_identifier_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* Returns the end of the quoted run starting at sql[0] == quote, or NULL
 * when it is not closed. A doubled quote stands for itself; backslash
 * escapes one character when backslashes is true. */
static const char *skip_quoted(const char *sql, char quote, bool backslashes)
{
	for (const char *p = sql + 1; *p; p++) {
		if (backslashes && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != quote)
			continue;
		if (p[1] == quote) {
			p++;
			continue;
		}
		return p + 1;
	}
	return NULL;
}

/* Returns the end of a block comment starting at "/" "*"; they nest. */
static const char *skip_block_comment(const char *sql)
{
	unsigned depth = 0;

	for (const char *p = sql; *p; p++) {
		if (p[0] == '/' && p[1] == '*') {
			depth++;
			p++;
		} else if (p[0] == '*' && p[1] == '/') {
			depth--;
			p++;
			if (depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

/* Returns the length of a dollar-quote tag ("$$" or "$name$") at sql, or 0. */
static size_t dollar_tag_length(const char *sql)
{
	size_t i = 1;

	if (sql[0] != '$')
		return 0;
	if (sql[1] == '$')
		return 2;
	if (!isalpha((unsigned char)sql[1]) && sql[1] != '_')
		return 0;
	while (isalnum((unsigned char)sql[i]) || sql[i] == '_')
		i++;
	return sql[i] == '$' ? i + 1 : 0;
}

/* Calls on_param for each $N reference and on_statement for the start of
 * each statement; a negative return of either stops the walk. */
struct sql_walk {
	int (*on_param)(struct sql_walk *walk, const char *at, size_t digits);
	int (*on_statement)(struct sql_walk *walk, const char *at);
};

static int walk_sql(const char *sql, struct sql_walk *walk)
{
	const char *p = sql;
	bool statement_start = true;

	while (*p) {
		const char *end = NULL;
		bool after_identifier = p > sql && is_identifier_char(p[-1]);

		if (statement_start && !isspace((unsigned char)*p) && *p != ';' &&
			!(p[0] == '-' && p[1] == '-') && !(p[0] == '/' && p[1] == '*')) {
			statement_start = false;
			if (walk->on_statement && walk->on_statement(walk, p) < 0)
				return -1;
		}
		if (*p == '\'') {
			bool escape = p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
				!(p - 1 > sql && is_identifier_char(p[-2]));

			end = skip_quoted(p, '\'', escape);
		} else if (*p == '"') {
			end = skip_quoted(p, '"', false);
		} else if (p[0] == '-' && p[1] == '-') {
			end = p + strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			end = skip_block_comment(p);
		} else if (*p == '$' && !after_identifier && isdigit((unsigned char)p[1])) {
			size_t digits = strspn(p + 1, "0123456789");

			if (walk->on_param && walk->on_param(walk, p, digits) < 0)
				return -1;
			end = p + 1 + digits;
		} else if (*p == '$' && !after_identifier && dollar_tag_length(p) > 0) {
			size_t tag = dollar_tag_length(p);
			const char *close = p + tag;

			for (;;) {
				close = strchr(close, '$');
				if (!close || strncmp(close, p, tag) == 0)
					break;
				close++;
			}
			end = close ? close + tag : NULL;
		} else if (*p == '?' && walk->on_param) {
			if (walk->on_param(walk, p, 0) < 0)
				return -1;
			end = p + 1;
		} else {
			if (*p == ';')
				statement_start = true;
			end = p + 1;
		}
		/* An unclosed literal or comment is PostgreSQL's syntax error to
		 * report. */
		if (!end)
			break;
		p = end;
	}
	return 0;
}

struct param_check {
	struct sql_walk walk;
	const char *summary;
	size_t param_count;
	bool *used;
	struct wd_error *err;
	int rc;
};

static int check_param(struct sql_walk *walk, const char *at, size_t digits)
{
	struct param_check *check = (struct param_check *)walk;
	size_t number = 0;

	if (digits == 0) {
		check->rc = wd_error_set(check->err, WD_EINVAL,
			"statement '%s' uses parameter '?': only $1..$N are supported",
			check->summary);
		return -1;
	}
	for (size_t i = 0; i < digits && number <= INT32_MAX; i++)
		number = number * 10 + (size_t)(at[1 + i] - '0');
	if (at[1] == '0' || number > INT32_MAX) {
		check->rc = wd_error_set(check->err, WD_EINVAL,
			"statement '%s' uses parameter '$%.*s': only $1..$N are supported",
			check->summary, (int)(digits > 12 ? 12 : digits), at + 1);
		return -1;
	}
	if (number > check->param_count) {
		check->rc = wd_error_set(check->err, WD_EINVAL,
			"statement '%s' uses $%zu but param_count is %zu", check->summary, number,
			check->param_count);
		return -1;
	}
	check->used[number - 1] = true;
	return 0;
}

int store_sql_check_params(const char *sql, size_t param_count, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) bool *used = NULL;
	char summary[STORE_SQL_SUMMARY_MAX];
	struct param_check check;

	store_sql_summary(sql, summary);
	if (param_count > 0) {
		used = wd_calloc(param_count, sizeof(*used));
		if (!used)
			return wd_error_set(err, WD_ENOMEM, "out of memory checking parameters");
	}
	check = (struct param_check){
		.walk = { .on_param = check_param },
		.summary = summary,
		.param_count = param_count,
		.used = used,
		.err = err,
	};
	if (walk_sql(sql, &check.walk) < 0)
		return check.rc;

	for (size_t i = 0; i < param_count; i++) {
		if (!used[i])
			return wd_error_set(err, WD_EINVAL,
				"statement '%s' does not use parameter $%zu of the %zu given",
				summary, i + 1, param_count);
	}
	return 0;
}

bool store_sql_is_transaction_control(const char *sql)
{
	static const char *const keywords[] = {
		"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
		"PREPARE",
	};
	size_t length = 0;

	while (isspace((unsigned char)*sql))
		sql++;
	while (isalpha((unsigned char)sql[length]))
		length++;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strlen(keywords[i]) == length && strncasecmp(sql, keywords[i], length) == 0)
			return true;
	}
	return false;
}

struct script_check {
	struct sql_walk walk;
	struct wd_error *err;
	int rc;
};

static int script_param(struct sql_walk *walk, const char *at, size_t digits)
{
	struct script_check *check = (struct script_check *)walk;

	(void)at;
	(void)digits;
	check->rc = wd_error_set(check->err, WD_EINVAL,
		"a script statement has parameters, which scripts cannot bind: write the "
		"values into the SQL");
	return -1;
}

static int script_statement(struct sql_walk *walk, const char *at)
{
	struct script_check *check = (struct script_check *)walk;
	char summary[STORE_SQL_SUMMARY_MAX];

	if (!store_sql_is_transaction_control(at))
		return 0;
	store_sql_summary(at, summary);
	check->rc = wd_error_set(check->err, WD_EINVAL,
		"'%s' is rejected: use store_begin, store_commit and store_rollback for "
		"transactions", summary);
	return -1;
}

int store_sql_check_script(const char *sql, struct wd_error *err)
{
	struct script_check check = {
		.walk = { .on_param = script_param, .on_statement = script_statement },
		.err = err,
	};

	if (walk_sql(sql, &check.walk) < 0)
		return check.rc;
	return 0;
}
