/* rego.parse_module(filename, source): parses a module and returns it as
 * OPA's JSON AST, or fails with the parse errors as OPA words them. */
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/ast.h"
#include "policy/builtin.h"
#include "policy/compile.h"

/* Parse errors kept for the message; later ones are dropped. */
#define PARSE_ERRORS_MAX 10

/* Bytes of a source line shown under an error. */
#define SOURCE_LINE_MAX 1024u

/* Errors OPA raises while forming the module from its statements carry no
 * source line below the message; syntax errors do. */
static bool has_source_line(const char *msg)
{
	static const char *const module_level[] = {
		"empty module", "package expected", "unexpected package",
		"multiple expressions cannot be used for rule head", "annotation ",
		"invalid annotation scope", "`if` keyword is required",
		"`contains` keyword is required",
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(module_level); i++) {
		if (strncmp(msg, module_level[i], strlen(module_level[i])) == 0)
			return false;
	}
	return true;
}

/* Appends OPA's error detail: the source line of the error (leading tabs
 * removed) and a caret under the last non-blank byte at or before it. */
static int append_source_line(struct wd_buf *out, const char *src, size_t len,
			      const struct rego_error *e)
{
	size_t off = 0;
	size_t begin, end, tabs = 0;

	if (len == 0 || e->row == 0)
		return 0;

	/* The error's byte offset from its row and column (in characters). */
	for (uint32_t row = 1; row < e->row && off < len; off++) {
		if (src[off] == '\n')
			row++;
	}
	for (uint32_t col = 1; col < e->col && off < len && src[off] != '\n'; col++) {
		off++;
		while (off < len && ((unsigned char)src[off] & 0xc0) == 0x80)
			off++;
	}

	if (off >= len)
		off = len - 1;
	while (off > 0 && (src[off] == ' ' || src[off] == '\t' || src[off] == '\n' ||
			   src[off] == '\r' || src[off] == '\v' || src[off] == '\f'))
		off--;
	begin = off;
	while (begin > 0 && src[begin] != '\n' && src[begin] != '\r')
		begin--;
	if (src[begin] == '\n' || src[begin] == '\r')
		begin++;
	end = off;
	while (end < len && src[end] != '\n' && src[end] != '\r')
		end++;
	if (begin > end)
		begin = end;
	while (begin + tabs < end && src[begin + tabs] == '\t')
		tabs++;

	/* The builtin's message is cut at 1 KiB (rego_bctx.err_msg), so a
	 * longer line is cut here already and a huge line costs nothing. */
	if (end - begin - tabs > SOURCE_LINE_MAX)
		end = begin + tabs + SOURCE_LINE_MAX;

	WD_TRY(wd_buf_append_str(out, "\n\t"));
	WD_TRY(wd_buf_append(out, src + begin + tabs, end - begin - tabs));
	WD_TRY(wd_buf_append_str(out, "\n\t"));
	for (size_t i = begin + tabs; i < off && i < end; i++)
		WD_TRY(wd_buf_append_byte(out, ' '));
	return wd_buf_append_byte(out, '^');
}

/* OPA's ast.Errors text: "1 error occurred: FILE:ROW: CODE: MESSAGE" or
 * "N errors occurred:" with one error a line. */
static int format_errors(struct wd_buf *out, const char *src, size_t len,
			 const struct rego_error *errs, size_t n)
{
	if (n == 1)
		WD_TRY(wd_buf_append_str(out, "1 error occurred: "));
	else
		WD_TRY(wd_buf_appendf(out, "%zu errors occurred:\n", n));
	for (size_t i = 0; i < n; i++) {
		const struct rego_error *e = &errs[i];

		if (i > 0)
			WD_TRY(wd_buf_append_byte(out, '\n'));
		/* As OPA's Error.Error: a module-level error without a row
		 * still names the file, as FILE:0. */
		if (e->file[0])
			WD_TRY(wd_buf_appendf(out, "%s:%u: ", e->file, e->row));
		else if (e->row)
			WD_TRY(wd_buf_appendf(out, "%u:%u: ", e->row, e->col));
		WD_TRY(wd_buf_appendf(out, "%s: %s", e->code, e->message));
		if (has_source_line(e->message))
			WD_TRY(append_source_line(out, src, len, e));
	}
	return 0;
}

int rego_bi_parse_module(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	struct rego_error errs[PARSE_ERRORS_MAX];
	size_t nerrs = 0;
	const char *file, *src;
	size_t file_len, src_len;
	struct rego_module *m;
	struct rv *ast;
	struct rv *copy;
	struct wd_buf msg;
	int rc;

	(void)nargs;
	*ret = NULL;
	/* OPA checks both arguments as "operand 1". */
	WD_TRY(rego_bi_string(ctx, args, 1, &file, &file_len));
	if (!rv_is(args[1], RV_STRING))
		return rego_bi_type_error(ctx, 1, "string", args[1]);
	src = rv_str(args[1]);
	src_len = rv_str_len(args[1]);

	m = rego_parse_module_without_metadata(file, src, src_len, errs, PARSE_ERRORS_MAX,
						&nerrs);
	if (!m) {
		if (nerrs == 0)
			return WD_ENOMEM;
		wd_buf_init(&msg, 256, 64 * 1024);
		rc = format_errors(&msg, src, src_len, errs, nerrs);
		if (rc == 0)
			rc = rego_bi_error(ctx, "%s", wd_buf_str(&msg));
		wd_buf_free(&msg);
		return rc;
	}

	/* The AST shares values with the module's arena; the result must
	 * outlive it. */
	ast = rego_module_to_value(m);
	copy = ast ? value_deep_copy(ast) : NULL;
	rv_unref(ast);
	rego_module_free(m);
	if (!copy)
		return WD_ENOMEM;
	*ret = copy;
	return 0;
}
