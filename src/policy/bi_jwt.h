/* Pieces shared by the io.jwt.* builtin files: splitting a compact JWS and
 * decoding its parts with OPA's error messages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "policy/builtin.h"

/* The three base64url sections of a compact JWS, pointing into the token. */
struct jwt_parts {
	const char *header, *payload, *signature;
	size_t header_len, payload_len, signature_len;
};

/* Nesting limit for JSON decoded from tokens. */
#define JWT_JSON_MAX_DEPTH 512

/* Splits token into its sections, or records "encoded JWT had no period
 * separators" / "encoded JWT must have 3 sections, found N". */
WD_MUST_CHECK int jwt_split(struct rego_bctx *ctx, const char *token, size_t len,
			    struct jwt_parts *ret_parts);

/* Decodes a base64url section; on failure records "JWT WHAT had invalid
 * encoding: ..." (or the bare decoder message when what is NULL). */
WD_MUST_CHECK int jwt_b64_part(struct rego_bctx *ctx, const char *what, const char *text,
			       size_t len, struct wd_buf *out);

/* Parses JSON text that must be an object, as OPA's extractJSONObject:
 * records "PREFIXinvalid JSON: ..." or "PREFIXdecoded JSON type was not an
 * Object". */
WD_MUST_CHECK int jwt_json_object(struct rego_bctx *ctx, const char *prefix, const char *text,
				  size_t len, struct rv **ret_obj);

/* Decodes and checks the header section: a JSON object without "enc". */
WD_MUST_CHECK int jwt_decode_header(struct rego_bctx *ctx, const struct jwt_parts *parts,
				    struct rv **ret_header);

/* The header members OPA's parseTokenHeader reads. */
struct jwt_header_info {
	const char *alg, *kid, *typ, *cty;  /* "" when absent; borrowed */
	const struct rv *crit;              /* array of strings, or NULL */
	bool unknown_critical;              /* a "crit" name that is not understood */
};

/* Reads alg, kid, typ, cty and crit from header, recording OPA's errors
 * ("alg: must be a string", "crit: must be a nonempty list", ...). */
WD_MUST_CHECK int jwt_header_parse(struct rego_bctx *ctx, const struct rv *header,
				   struct jwt_header_info *ret_info);

/* io.jwt.encode_sign and io.jwt.encode_sign_raw (bi_jwt_sign.c). */
int bi_jwt_encode_sign(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret);
int bi_jwt_encode_sign_raw(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			   struct rv **ret);

/* io.jwt.decode_verify (bi_jwt_verify.c). */
int bi_jwt_decode_verify(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret);
