/* Messages, names and HTTP statuses of the error codes in error.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

struct error_info {
	const char *name;
	const char *message;
	int http_status;
};

/* Indexed by -code. */
static const struct error_info error_table[] = {
	[0] = { "OK", "success", 200 },
	[-WD_EINTERNAL] = { "EINTERNAL", "internal error", 500 },
	[-WD_ENOMEM] = { "ENOMEM", "out of memory", 503 },
	[-WD_EINVAL] = { "EINVAL", "invalid input", 400 },
	[-WD_ENOTFOUND] = { "ENOTFOUND", "not found", 404 },
	[-WD_EEXIST] = { "EEXIST", "already exists", 409 },
	[-WD_EAUTH] = { "EAUTH", "authentication required", 401 },
	[-WD_EPERM] = { "EPERM", "permission denied", 403 },
	[-WD_ETOOBIG] = { "ETOOBIG", "limit exceeded", 413 },
	[-WD_ETRUNCATED] = { "ETRUNCATED", "input truncated", 400 },
	[-WD_EIO] = { "EIO", "input/output error", 500 },
	[-WD_ECRYPTO] = { "ECRYPTO", "cryptographic check failed", 400 },
	[-WD_ESTORE] = { "ESTORE", "datastore error", 500 },
	[-WD_EEXPIRED] = { "EEXPIRED", "expired", 401 },
	[-WD_ECONFLICT] = { "ECONFLICT", "conflict", 409 },
	[-WD_ETIMEOUT] = { "ETIMEOUT", "timed out", 504 },
	[-WD_EUNSUPPORTED] = { "EUNSUPPORTED", "not supported", 400 },
	[-WD_EREVOKED] = { "EREVOKED", "revoked", 403 },
	[-WD_EBANNED] = { "EBANNED", "node is banned", 403 },
	[-WD_ECONFIG] = { "ECONFIG", "invalid configuration", 400 },
	[-WD_EUNAVAILABLE] = { "EUNAVAILABLE", "service unavailable", 503 },
	[-WD_ECORRUPT] = { "ECORRUPT", "integrity check failed", 500 },
	[-WD_ERATELIMIT] = { "ERATELIMIT", "too many requests", 429 },
};

static const struct error_info *error_lookup(int code)
{
	if (code > 0 || code < WD_ERROR_MIN)
		return &error_table[-WD_EINTERNAL];
	return &error_table[-code];
}

const char *wd_strerror(int code)
{
	return error_lookup(code)->message;
}

const char *wd_error_name(int code)
{
	return error_lookup(code)->name;
}

int wd_error_http_status(int code)
{
	return error_lookup(code)->http_status;
}

int wd_error_set(struct wd_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;

	err->code = code;
	err->public_detail = NULL;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return code;
}

void wd_error_clear(struct wd_error *err)
{
	if (!err)
		return;
	err->code = WD_OK;
	err->detail[0] = '\0';
	err->public_detail = NULL;
}

void wd_error_set_public(struct wd_error *err, const char *public_detail)
{
	if (err)
		err->public_detail = public_detail;
}

const char *wd_error_public_text(const struct wd_error *err)
{
	if (err && err->public_detail)
		return err->public_detail;
	return wd_error_text(err);
}

const char *wd_error_text(const struct wd_error *err)
{
	if (!err)
		return wd_strerror(WD_EINTERNAL);
	if (err->detail[0])
		return err->detail;
	return wd_strerror(err->code);
}
