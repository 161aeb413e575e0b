/* Helpers shared by the crypto, JWT and X.509 builtins: base64 and PEM
 * decoding that fail the way Go's encoding/base64 and encoding/pem do, since
 * OPA's error messages come from them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/macros.h"

/* Ceiling on decoded base64 and PEM data, in bytes (16 MiB). */
#define BI_DECODE_MAX (16u * 1024u * 1024u)

/* Decodes padded base64 (standard alphabet, or URL-safe when url is true)
 * as Go's base64.StdEncoding / URLEncoding.DecodeString: CR and LF are
 * skipped, trailing bits are not checked. On a bad character stores "illegal
 * base64 data at input byte N" in err and returns WD_EINVAL, and out then contains
 * the bytes decoded before the error. Output past BI_DECODE_MAX (or out's
 * smaller ceiling, or memory running out) is reported the same way. */
WD_MUST_CHECK int bi_b64_decode_go(const char *text, size_t len, bool url, struct wd_buf *out,
				   char *err, size_t err_cap);

/* Decodes base64url with or without padding as OPA's base64url.decode does:
 * a missing "=" or "==" is added first (RFC 7515 appendix C), and a length
 * of 1 modulo 4 fails with "illegal base64url string: TEXT". */
WD_MUST_CHECK int bi_b64url_decode_opa(const char *text, size_t len, struct wd_buf *out,
				       char *err, size_t err_cap);

/* One PEM block as Go's pem.Decode returns it. */
struct bi_pem_block {
	char type[64];          /* "CERTIFICATE", "PUBLIC KEY", ... */
	struct wd_buf der;      /* decoded body */
};

/* Finds the first well-formed PEM block in data as Go's pem.Decode does and
 * decodes it into block (whose der buffer the caller set up). Returns 1 and
 * stores the offset just past the block (and its line end) in *ret_end, 0
 * when there is no block, or a negative WD_E* code. */
WD_MUST_CHECK int bi_pem_decode(const char *data, size_t len, struct bi_pem_block *block,
				size_t *ret_end);

/* Appends the lowercase hex of len bytes to out. */
WD_MUST_CHECK int bi_hex_append(struct wd_buf *out, const uint8_t *data, size_t len);

/* True when text starts with prefix. */
bool bi_has_prefix(const char *text, size_t len, const char *prefix);
