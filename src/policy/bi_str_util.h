/* Helpers shared by the string, regex, encoding and misc builtin groups:
 * UTF-8 decoding as Go does it, result construction and OPA's operand errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "common/buf.h"
#include "policy/builtin.h"

/* Ceiling on any string a builtin of these groups builds, in bytes. */
#define BI_STR_MAX ((size_t)64 << 20)

/* Go's utf8.RuneError, which replaces every invalid byte when decoding. */
#define BI_RUNE_ERROR 0xFFFDu

/* Decodes the rune at s[*pos] as Go's utf8.DecodeRuneInString: an invalid or
 * truncated sequence yields BI_RUNE_ERROR with a width of one byte. Advances
 * *pos past the bytes read. */
uint32_t bi_utf8_next(const char *s, size_t len, size_t *pos);

/* Number of runes in s, each invalid byte counting as one (Go's
 * utf8.RuneCountInString). */
size_t bi_utf8_count(const char *s, size_t len);

/* Writes r as UTF-8 into out (4 bytes of room); returns the byte count.
 * Surrogates and values past U+10FFFF are written as U+FFFD, as Go does. */
size_t bi_utf8_put(uint32_t r, char *out);

/* Appends r as UTF-8. */
WD_MUST_CHECK int bi_buf_rune(struct wd_buf *buf, uint32_t r);

/* True when every byte is below 0x80. */
bool bi_is_ascii(const char *s, size_t len);

/* Go's unicode.IsSpace. */
bool bi_rune_is_space(uint32_t r);

/* Hands the buffer's contents over as a new string value in *ret. */
WD_MUST_CHECK int bi_buf_to_string(struct rego_bctx *ctx, struct wd_buf *buf, struct rv **ret);

/* Records a resource failure (WD_ENOMEM, WD_ETOOBIG or any other negative
 * code) as a builtin error and returns rc; 0 when rc is not negative. */
int bi_fail(struct rego_bctx *ctx, int rc);

/* Stores a new value in *ret, or reports out-of-memory when v is NULL. */
int bi_ret(struct rego_bctx *ctx, struct rv *v, struct rv **ret);

/* Operand helpers with OPA's texts. bi_int_operand accepts only a number
 * written as an integer within int64 (builtins.IntOperand): others fail with
 * "operand N must be integer number but got floating-point number". */
int bi_int_operand(struct rego_bctx *ctx, struct rv *const *args, size_t argno, int64_t *ret);

/* Checks that every member of the array or set v is a string; on failure
 * records "operand N must be array of strings but got array containing
 * number" as OPA's NewOperandElementErr does. */
int bi_strings_of(struct rego_bctx *ctx, const struct rv *v, size_t argno);

/* Member i of an array or set (sets in sorted order). */
struct rv *bi_member_at(const struct rv *v, size_t i);

/* Number of members of an array or set. */
size_t bi_members(const struct rv *v);

/* ---- exact decimals ---- */

/* Parses the decimal text of Go's big.Rat/big.Float SetString for plain
 * numbers: [sign] digits [. digits] [e|E [sign] digits], at least one mantissa
 * digit, exponent magnitude at most 1e6. False for anything else. */
bool bi_decimal_to_mpq(const char *s, size_t len, mpq_t ret);

/* Rounds q to the nearest value with a 64-bit binary mantissa, ties to even,
 * as big.Float's default precision stores a parsed number. */
void bi_mpq_round64(mpq_t q);

/* Sets ret to the exact value of a number value. False on failure. */
bool bi_number_to_mpq(const struct rv *n, mpq_t ret);

/* A new integer value from an mpz (through its decimal text). */
struct rv *bi_mpz_to_number(const mpz_t z);

/* ---- entry points defined in helper files ---- */

/* The sprintf builtin (bi_str_sprintf.c). */
int bi_sprintf(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret);

/* units.parse and units.parse_bytes (bi_misc_units.c). */
int bi_units_parse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret);
int bi_units_parse_bytes(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret);
