/* providers.aws.sign_req: AWS Signature Version 4 computed locally, and the
 * part of Go's net/url parser the canonical request needs. */
#pragma once

#include <stddef.h>

#include "common/buf.h"
#include "policy/builtin.h"

/* The pieces of a URL that SigV4 signs, as Go's url.Parse splits them. Each
 * string is malloc'd and NUL-terminated. */
struct aws_url {
	char *host;         /* authority without userinfo, unescaped, port kept */
	char *escaped_path; /* url.URL.EscapedPath() */
	char *raw_query;    /* text between '?' and '#', as written */
	char *scheme;       /* lowercased, "" when none */
	char *path;         /* unescaped; "" for none and for opaque URLs */
	char *raw_path;     /* url.URL.RawPath: the written path when it differs
			     * from the default escaping, else "" */
	char *fragment;     /* unescaped text after '#', "" when none */
};

/* Parses text as Go's url.Parse. On failure appends Go's message
 * (`parse "TEXT": REASON`) to err and returns WD_EINVAL; WD_ENOMEM and
 * WD_ETOOBIG for resources. */
WD_MUST_CHECK int aws_url_parse(const char *text, size_t len, struct aws_url *ret_url,
				struct wd_buf *err);

/* Frees the strings of url; accepts a zeroed or half-filled struct. */
void aws_url_free(struct aws_url *url);

/* providers.aws.sign_req(request, aws_config, time_ns) (bi_aws.c). */
int bi_aws_sign_req(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret);
