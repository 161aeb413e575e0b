/* Unit tests for the Rego tokenizer: token kinds, OPA's rows and columns,
 * blanks before tokens, template parts and scan errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/lexer.h"

struct want {
	enum rego_tok kind;
	uint32_t row;
	uint32_t col;
	const char *text;
};

static void expect_tokens(const char *src, const struct want *want, size_t n)
{
	struct rego_tokens toks;

	assert_int_equal(rego_lex(src, strlen(src), &toks), 0);
	assert_int_equal(toks.len, n);
	for (size_t i = 0; i < n; i++) {
		const struct rego_token *t = &toks.items[i];

		if (t->kind != want[i].kind || t->row != want[i].row || t->col != want[i].col)
			fail_msg("token %zu: kind %s at %u:%u, want %s at %u:%u", i,
				 rego_tok_name(t->kind), t->row, t->col, rego_tok_name(want[i].kind),
				 want[i].row, want[i].col);
		assert_int_equal(t->end - t->offset, strlen(want[i].text));
		assert_memory_equal(src + t->offset, want[i].text, strlen(want[i].text));
	}
	rego_tokens_free(&toks);
}

static void scans_rules(void **state)
{
	static const struct want want[] = {
		{ TK_PACKAGE, 1, 1, "package" }, { TK_IDENT, 1, 9, "p" },
		{ TK_IDENT, 2, 1, "x" },         { TK_ASSIGN, 2, 3, ":=" },
		{ TK_NUMBER, 2, 6, "1.5e-3" },   { TK_IF, 2, 13, "if" },
		{ TK_LBRACE, 2, 16, "{" },       { TK_IDENT, 2, 18, "a" },
		{ TK_NEQ, 2, 20, "!=" },         { TK_STRING, 2, 23, "\"\\u00e9\"" },
		{ TK_SEMICOLON, 2, 31, ";" },    { TK_NOT, 2, 33, "not" },
		{ TK_IDENT, 2, 37, "b" },        { TK_RBRACE, 2, 39, "}" },
		{ TK_EOF, 2, 46, "" },
	};

	(void)state;
	expect_tokens("package p\nx := 1.5e-3 if { a != \"\\u00e9\"; not b } # done", want,
		      WD_ARRAY_LEN(want));
}

static void counts_characters_not_bytes(void **state)
{
	static const struct want want[] = {
		{ TK_STRING, 1, 1, "\"\xc3\xa9\xc3\xa9\"" },
		{ TK_IDENT, 1, 6, "x" },
		{ TK_EOF, 2, 0, "" },
	};

	(void)state;
	expect_tokens("\"\xc3\xa9\xc3\xa9\" x\n", want, WD_ARRAY_LEN(want));
}

static void marks_blanks_and_newlines(void **state)
{
	struct rego_tokens toks;
	const char *src = "a.b [c]\n\td";

	(void)state;
	assert_int_equal(rego_lex(src, strlen(src), &toks), 0);
	assert_int_equal(toks.len, 8);
	assert_int_equal(toks.items[1].flags, 0);            /* . */
	assert_int_equal(toks.items[3].flags, TOKF_WS);      /* [ */
	assert_int_equal(toks.items[6].flags, TOKF_WS | TOKF_NL);
	assert_int_equal(toks.items[6].kind, TK_IDENT);
	rego_tokens_free(&toks);
}

static void splits_templates(void **state)
{
	static const struct want want[] = {
		{ TK_IDENT, 1, 1, "s" },
		{ TK_TPL_PART, 1, 3, "$\"a\\{{" },
		{ TK_LBRACE, 1, 9, "{" },
		{ TK_IDENT, 1, 10, "x" },
		{ TK_RBRACE, 1, 11, "}" },
		{ TK_RBRACE, 1, 12, "}" },
		{ TK_TPL_PART, 1, 13, "b{" },
		{ TK_RAW_TPL_END, 1, 15, "$`c`" },
		{ TK_RBRACE, 1, 19, "}" },
		{ TK_TPL_END, 1, 20, "\"" },
		{ TK_EOF, 1, 20, "" },
	};
	struct rego_tokens toks;
	const char *src = "s $\"a\\{{{x}}b{$`c`}\"";

	(void)state;
	expect_tokens(src, want, WD_ARRAY_LEN(want));
	assert_int_equal(rego_lex(src, strlen(src), &toks), 0);
	/* the literal text keeps its escapes; the parser resolves them */
	assert_int_equal(toks.items[1].lit_len, 3);
	assert_memory_equal(src + toks.items[1].lit_off, "a\\{", 3);
	assert_int_equal(toks.items[6].lit_len, 1);
	rego_tokens_free(&toks);
}

static void reports_scan_errors(void **state)
{
	static const struct {
		const char *src;
		size_t len;
		uint32_t index;
		const char *error;
	} cases[] = {
		{ "\"abc", 4, 0, "non-terminated string" },
		{ "\"a\\qb\"", 6, 0, "illegal escape sequence" },
		{ "x 1.", 4, 1, "expected fraction" },
		{ "1e+", 3, 0, "expected exponent" },
		{ "0x1f", 4, 0, "illegal number format" },
		{ "a ! b", 5, 1, "illegal ! character" },
		{ "$x", 2, 0, "illegal $ character" },
		{ "a\0", 2, 0, "illegal null character" },
		{ "# \xc3", 3, 0, "illegal utf-8 character" },
		{ "x \xef\xbb\xbf", 5, 1, "illegal byte-order mark" },
		{ "`abc", 4, 0, "non-terminated string" },
		{ "$\"a{", 4, 1, NULL },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		struct rego_tokens toks;
		const struct rego_token *t;

		assert_int_equal(rego_lex(cases[i].src, cases[i].len, &toks), 0);
		assert_true(cases[i].index < toks.len);
		t = &toks.items[cases[i].index];
		if (cases[i].error) {
			assert_int_equal(t->kind, TK_ILLEGAL);
			assert_non_null(t->error);
			assert_string_equal(t->error, cases[i].error);
		} else {
			assert_int_equal(t->kind, TK_EOF);
		}
		rego_tokens_free(&toks);
	}
}

static void skips_leading_bom_and_keeps_comments(void **state)
{
	struct rego_tokens toks;
	const char *src = "\xef\xbb\xbfp # METADATA\n# title: x\n";

	(void)state;
	assert_int_equal(rego_lex(src, strlen(src), &toks), 0);
	assert_int_equal(toks.items[0].kind, TK_IDENT);
	/* OPA counts the mark as a column */
	assert_int_equal(toks.items[0].col, 2);
	assert_int_equal(toks.comments_len, 2);
	assert_int_equal(toks.comments[0].len, 9);
	assert_memory_equal(src + toks.comments[0].offset, " METADATA", 9);
	assert_int_equal(toks.comments[1].row, 2);
	assert_int_equal(toks.comments[1].col, 1);
	rego_tokens_free(&toks);
}

static void names_tokens_as_opa(void **state)
{
	(void)state;
	assert_string_equal(rego_tok_name(TK_IDENT), "ident");
	assert_string_equal(rego_tok_name(TK_ASSIGN), "assign");
	assert_string_equal(rego_tok_name(TK_UNIFY), "eq");
	assert_string_equal(rego_tok_name(TK_EOF), "eof");
	assert_string_equal(rego_tok_name(TK_COUNT_), "unknown");
	assert_true(rego_tok_is_keyword(TK_CONTAINS));
	assert_false(rego_tok_is_keyword(TK_IDENT));
	assert_int_equal(rego_tok_keyword("every", 5), TK_EVERY);
	assert_int_equal(rego_tok_keyword("everyone", 8), TK_IDENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scans_rules),
		cmocka_unit_test(counts_characters_not_bytes),
		cmocka_unit_test(marks_blanks_and_newlines),
		cmocka_unit_test(splits_templates),
		cmocka_unit_test(reports_scan_errors),
		cmocka_unit_test(skips_leading_bom_and_keeps_comments),
		cmocka_unit_test(names_tokens_as_opa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
