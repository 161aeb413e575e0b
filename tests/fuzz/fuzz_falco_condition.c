/* libFuzzer harness: parses arbitrary bytes as a Falco condition, with a
 * macro and a list to expand, and evaluates the AST against an event whose
 * every field has a value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/rules/cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *macro(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "m"))
		return "proc.name in (l) or m2";
	if (!strcmp(name, "m2"))
		return "fd.name pmatch (/etc, /t*/x)";
	if (!strcmp(name, "cyc"))
		return "not cyc";
	return NULL;
}

static const char *const items[] = { "a", "/b", "0" };

static const char *const *list(void *ctx, const char *name, size_t *ret_count)
{
	(void)ctx;
	if (strcmp(name, "l"))
		return NULL;
	*ret_count = 3;
	return items;
}

static const char *const ancestors[] = { "a", "b" };

static void get(void *ctx, const char *field, const char *arg, struct cond_fvalue *ret)
{
	(void)ctx;
	if (!strcmp(field, "proc.aname") && !arg) {
		ret->kind = COND_V_LIST;
		ret->items = ancestors;
		ret->count = 2;
	} else if (!strcmp(field, "proc.pid")) {
		ret->kind = COND_V_NUMBER;
		ret->num = 7;
	} else if (strcmp(field, "proc.env")) {
		ret->kind = COND_V_STRING;
		ret->str = "/etc/aGVsbG8=";
		ret->len = strlen(ret->str);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cond_env env = { macro, list, NULL };
	struct cond_node *node = NULL;
	struct wd_error err = { 0 };
	char *absent = NULL;
	char *text = malloc(size + 1);
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = cond_parse(text, &env, &node, &absent, &err);
	if (rc < 0 && (node || err.detail[0] == '\0'))
		__builtin_trap();
	if (rc == 0) {
		if (!node)
			__builtin_trap();
		(void)cond_eval(node, get, NULL);
	}
	cond_free(node);
	free(absent);
	free(text);
	return 0;
}
