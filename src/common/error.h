/* The one error vocabulary of warden: negative codes, their messages, and an
 * optional detail record that names the offending value. */
#pragma once

#include <stddef.h>

#include "common/macros.h"

enum {
	WD_OK = 0,
	WD_EINTERNAL = -1,    /* a bug or an unexpected library failure */
	WD_ENOMEM = -2,       /* an allocation failed */
	WD_EINVAL = -3,       /* invalid input: syntax or value */
	WD_ENOTFOUND = -4,    /* the named object does not exist */
	WD_EEXIST = -5,       /* the object already exists */
	WD_EAUTH = -6,        /* the caller is not authenticated */
	WD_EPERM = -7,        /* the caller is authenticated but not allowed */
	WD_ETOOBIG = -8,      /* a size or count ceiling was reached */
	WD_ETRUNCATED = -9,   /* the input ended early */
	WD_EIO = -10,         /* a file or socket operation failed */
	WD_ECRYPTO = -11,     /* a cryptographic operation or check failed */
	WD_ESTORE = -12,      /* the datastore failed */
	WD_EEXPIRED = -13,    /* a token, certificate or lease has expired */
	WD_ECONFLICT = -14,   /* the request conflicts with the current state */
	WD_ETIMEOUT = -15,    /* an operation timed out */
	WD_EUNSUPPORTED = -16,/* valid but not supported by this build */
	WD_EREVOKED = -17,    /* the credential has been revoked */
	WD_EBANNED = -18,     /* the node is banned */
	WD_ECONFIG = -19,     /* invalid configuration */
	WD_EUNAVAILABLE = -20,/* the service is not ready, try again */
	WD_ECORRUPT = -21,    /* stored data failed an integrity check */
	WD_ERATELIMIT = -22,  /* the caller sent too many requests; retry later */
	WD_ERROR_MIN = -22,
};

/* Detail of one failure. The detail text names the bad value and never
 * contains a secret. It is shown to the caller unless public_detail is set. */
struct wd_error {
	int code;
	char detail[512];
	/* A static text that replies to remote clients carry in place of a
	 * detail that names infrastructure (a datastore's host, port or
	 * database), which only the log shows. NULL when detail is public. */
	const char *public_detail;
};

/* Returns the fixed message for code ("invalid input", ...); never NULL. */
const char *wd_strerror(int code);

/* Returns the short symbolic name of code ("EINVAL"); never NULL. */
const char *wd_error_name(int code);

/* Returns the HTTP status an API replies with for code (400, 404, ...). */
int wd_error_http_status(int code);

/* Records code and a printf-style detail in err (which may be NULL) and
 * returns code, so a caller can write `return wd_error_set(err, ...)`. */
int wd_error_set(struct wd_error *err, int code, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* Sets the static text that replies to remote clients carry in place of
 * err's detail (err may be NULL). wd_error_set and wd_error_clear unset it. */
void wd_error_set_public(struct wd_error *err, const char *public_detail);

/* Returns the text a reply to a remote client carries: the public text set
 * by wd_error_set_public, or else what wd_error_text returns. */
const char *wd_error_public_text(const struct wd_error *err);

/* Clears err (which may be NULL) to WD_OK with an empty detail. */
void wd_error_clear(struct wd_error *err);

/* Returns the detail of err, or the message of its code when no detail was
 * recorded. */
const char *wd_error_text(const struct wd_error *err);
