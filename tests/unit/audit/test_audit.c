/* Unit tests for the audit chain: writer, canonical hash, head anchor and a
 * verifier fed every kind of tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/record.h"

#define MAX_LINES 16

struct fixture {
	char dir[64];
	char path[96];
	char head_path[112];
};

/* A log's lines, each with its "\n", so a test can drop, swap or edit them
 * and write the file back. */
struct lines {
	char *line[MAX_LINES];
	size_t count;
};

static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-audit-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/audit.log", fx->dir);
	snprintf(fx->head_path, sizeof(fx->head_path), "%s/audit.log.head", fx->dir);
	*state = fx;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;
	char tmp_path[128];

	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", fx->head_path);
	unlink(fx->path);
	unlink(fx->head_path);
	unlink(tmp_path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void lines_free(struct lines *lines)
{
	for (size_t i = 0; i < lines->count; i++)
		free(lines->line[i]);
	lines->count = 0;
}

static char *file_read(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *data = malloc(AUDIT_LINE_MAX * 4);
	size_t len;

	assert_non_null(f);
	assert_non_null(data);
	len = fread(data, 1, AUDIT_LINE_MAX * 4 - 1, f);
	fclose(f);
	data[len] = '\0';
	*ret_len = len;
	return data;
}

static void file_write(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void lines_read(const char *path, struct lines *lines)
{
	size_t len;
	char *data = file_read(path, &len);
	char *start = data;
	char *newline;

	lines->count = 0;
	while ((newline = memchr(start, '\n', len - (size_t)(start - data))) != NULL) {
		assert_true(lines->count < MAX_LINES);
		lines->line[lines->count] = strndup(start, (size_t)(newline - start) + 1);
		assert_non_null(lines->line[lines->count]);
		lines->count++;
		start = newline + 1;
	}
	assert_int_equal(start - data, (ptrdiff_t)len);
	free(data);
}

/* Writes the lines named by the 0-based indexes in order[]. */
static void lines_write(const char *path, const struct lines *lines, const size_t *order,
	size_t count)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < count; i++)
		assert_int_not_equal(fputs(lines->line[order[i]], f), EOF);
	assert_int_equal(fclose(f), 0);
}

/* Replaces the first occurrence of from with to in *line. */
static void line_replace(char **line, const char *from, const char *to)
{
	char *at = strstr(*line, from);
	size_t prefix, from_len = strlen(from), to_len = strlen(to);
	char *result;

	assert_non_null(at);
	prefix = (size_t)(at - *line);
	result = malloc(strlen(*line) - from_len + to_len + 1);
	assert_non_null(result);
	memcpy(result, *line, prefix);
	memcpy(result + prefix, to, to_len);
	memcpy(result + prefix + to_len, at + from_len, strlen(at + from_len) + 1);
	free(*line);
	*line = result;
}

static void append_event(struct audit_log *log, int n)
{
	char object[64];
	char detail[32];
	struct audit_event event = {
		.actor = "uid:0",
		.action = "entry.create",
		.object = object,
		.outcome = "success",
		.detail = NULL,
	};
	struct wd_error err;

	snprintf(object, sizeof(object), "spiffe://example.org/w%d", n);
	snprintf(detail, sizeof(detail), "n=%d", n);
	/* Odd records carry a detail, even ones omit it. */
	if (n % 2)
		event.detail = detail;
	assert_int_equal(audit_append(log, &event, &err), 0);
}

/* Writes records first..last to the log at path, reopening it. */
static void chain_write(const char *path, int first, int last)
{
	struct audit_log *log = NULL;
	struct wd_error err;

	assert_int_equal(audit_open(path, &log, &err), 0);
	for (int n = first; n <= last; n++)
		append_event(log, n);
	audit_close(log);
}

static void expect_intact(const char *path, uint64_t records)
{
	struct audit_verify_result result;
	struct wd_error err;

	assert_int_equal(audit_verify_file(path, &result, &err), 0);
	assert_int_equal(result.records, records);
	assert_int_equal(result.first_bad, 0);
	assert_int_equal(result.line, 0);
}

static void expect_bad(const char *path, uint64_t first_bad, uint64_t line, const char *reason)
{
	struct audit_verify_result result;
	struct wd_error err;

	assert_int_equal(audit_verify_file(path, &result, &err), WD_ECORRUPT);
	assert_int_equal(result.first_bad, first_bad);
	assert_int_equal(result.line, line);
	if (!strstr(result.reason, reason))
		fail_msg("reason \"%s\" lacks \"%s\"", result.reason, reason);
	assert_int_equal(err.code, WD_ECORRUPT);
}

/* Returns the "hash" value of a line. The caller frees it. */
static char *line_hash(const char *line)
{
	json_t *root = json_loads(line, 0, NULL);
	char *hash;

	assert_non_null(root);
	hash = strdup(json_string_value(json_object_get(root, "hash")));
	json_decref(root);
	assert_non_null(hash);
	return hash;
}

/* Hash values computed independently with Python's hashlib from the
 * definition in audit.h, so any change to the canonical form fails here. */
static void hash_known_answers(void **state)
{
	struct audit_record rec = {
		.seq = 1,
		.time = "2025-01-02T03:04:05.678Z",
		.actor = "uid:0",
		.action = "entry.create",
		.object = "spiffe://example.org/web",
		.outcome = "success",
		.detail = NULL,
	};
	char hash[AUDIT_HASH_HEX_LEN + 1];

	(void)state;
	memcpy(rec.prev, audit_zero_hash, sizeof(rec.prev));
	assert_int_equal(audit_record_hash(&rec, hash), 0);
	assert_string_equal(hash, "fc804103c37189bccc2c3658da95bbbec808033d635611e150dc7961868bedfd");

	rec.detail = "";
	assert_int_equal(audit_record_hash(&rec, hash), 0);
	assert_string_equal(hash, "69e443482198e1d7a5a3f0d249de7176ceafe9470da2597f8f830022187ec4b9");

	rec.seq = 2;
	rec.time = "2025-01-02T03:04:05.679Z";
	rec.action = "svid.issue";
	rec.outcome = "denied";
	rec.detail = "no entry";
	memcpy(rec.prev, "fc804103c37189bccc2c3658da95bbbec808033d635611e150dc7961868bedfd",
		sizeof(rec.prev));
	assert_int_equal(audit_record_hash(&rec, hash), 0);
	assert_string_equal(hash, "8f490e588447c89dd1c2f70221e375d2888b64d8c8d103b811b839bf47816580");
}

/* Moving bytes from one field to the next must change the hash. */
static void hash_field_boundaries(void **state)
{
	struct audit_record a = {
		.seq = 1, .time = "2025-01-02T03:04:05.678Z", .actor = "ab", .action = "c",
		.object = "o", .outcome = "success",
	};
	struct audit_record b = a;
	char hash_a[AUDIT_HASH_HEX_LEN + 1];
	char hash_b[AUDIT_HASH_HEX_LEN + 1];

	(void)state;
	memcpy(a.prev, audit_zero_hash, sizeof(a.prev));
	memcpy(b.prev, audit_zero_hash, sizeof(b.prev));
	b.actor = "a";
	b.action = "bc";
	assert_int_equal(audit_record_hash(&a, hash_a), 0);
	assert_int_equal(audit_record_hash(&b, hash_b), 0);
	assert_string_not_equal(hash_a, hash_b);

	memcpy(b.prev, "ABCD", 5);
	assert_int_equal(audit_record_hash(&b, hash_b), WD_EINVAL);
}

static void append_then_verify_intact(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct audit_verify_result result;
	struct wd_error err;
	struct lines lines;
	char head[AUDIT_HASH_HEX_LEN + 1];
	uint64_t seq;
	char *hash;

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	audit_head(log, &seq, head);
	assert_int_equal(seq, 0);
	assert_string_equal(head, audit_zero_hash);
	for (int n = 1; n <= 5; n++)
		append_event(log, n);
	audit_head(log, &seq, head);
	assert_int_equal(seq, 5);
	audit_close(log);

	assert_int_equal(audit_verify_file(fx->path, &result, &err), 0);
	assert_int_equal(result.records, 5);
	assert_int_equal(result.first_bad, 0);
	assert_string_equal(result.head, head);

	lines_read(fx->path, &lines);
	assert_int_equal(lines.count, 5);
	assert_non_null(strstr(lines.line[0], "{\"seq\":1,\"time\":\""));
	assert_non_null(strstr(lines.line[0], "\"detail\":\"n=1\""));
	assert_null(strstr(lines.line[1], "\"detail\""));
	assert_non_null(strstr(lines.line[0], "\"prev\":\"" "0000000000000000000000000000000000000000000000000000000000000000\""));
	hash = line_hash(lines.line[4]);
	assert_string_equal(hash, head);
	free(hash);
	lines_free(&lines);
}

static void empty_log_is_intact(void **state)
{
	struct fixture *fx = *state;
	struct audit_verify_result result;
	struct wd_error err;

	file_write(fx->path, "", 0);
	assert_int_equal(audit_verify_file(fx->path, &result, &err), 0);
	assert_int_equal(result.records, 0);
	assert_string_equal(result.head, audit_zero_hash);
}

static void missing_log_not_found(void **state)
{
	struct fixture *fx = *state;
	struct audit_verify_result result;
	struct wd_error err;

	assert_int_equal(audit_verify_file(fx->path, &result, &err), WD_ENOTFOUND);
	assert_non_null(strstr(err.detail, fx->path));
}

static void reopen_continues_chain(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	struct lines lines;
	char head[AUDIT_HASH_HEX_LEN + 1];
	uint64_t seq;
	char *hash3;
	char expected_prev[100];

	chain_write(fx->path, 1, 3);

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	audit_head(log, &seq, head);
	assert_int_equal(seq, 3);
	append_event(log, 4);
	append_event(log, 5);
	audit_close(log);

	expect_intact(fx->path, 5);
	lines_read(fx->path, &lines);
	hash3 = line_hash(lines.line[2]);
	assert_string_equal(hash3, head);
	snprintf(expected_prev, sizeof(expected_prev), "\"prev\":\"%s\"", hash3);
	assert_non_null(strstr(lines.line[3], "{\"seq\":4,"));
	assert_non_null(strstr(lines.line[3], expected_prev));
	free(hash3);
	lines_free(&lines);
}

/* Reads the seq the head anchor names, 0 when there is no anchor. */
static uint64_t anchor_seq(const char *head_path)
{
	size_t len = 0;
	char *text = file_read(head_path, &len);
	const char *seq;
	uint64_t value;

	if (!text)
		return 0;
	seq = strstr(text, "\"seq\":");
	assert_non_null(seq);
	value = strtoull(seq + 6, NULL, 10);
	free(text);
	return value;
}

static void deferred_records_flush_later(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct audit_event event = { .actor = "uid:0", .action = "kv.read",
		.object = "secret/data/a", .outcome = "success" };
	struct wd_error err;

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	append_event(log, 1);
	assert_int_equal(anchor_seq(fx->head_path), 1);

	/* Deferred records are in the file at once, chained, but the anchor
	 * waits for the flush; the verifier accepts the lagging anchor. */
	assert_int_equal(audit_append_deferred(log, &event, &err), 0);
	assert_int_equal(audit_append_deferred(log, &event, &err), 0);
	assert_int_equal(anchor_seq(fx->head_path), 1);
	expect_intact(fx->path, 3);

	assert_int_equal(audit_flush(log, &err), 0);
	assert_int_equal(anchor_seq(fx->head_path), 3);
	/* Nothing pending: a second flush changes nothing. */
	assert_int_equal(audit_flush(log, &err), 0);

	/* Close flushes what is still deferred. */
	assert_int_equal(audit_append_deferred(log, &event, &err), 0);
	audit_close(log);
	assert_int_equal(anchor_seq(fx->head_path), 4);
	expect_intact(fx->path, 4);
	assert_int_equal(audit_flush(NULL, &err), 0);
}

static void tamper_edit_field(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	line_replace(&lines.line[2], "example.org/w3", "example.org/w9");
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 3, 3, "stored hash does not match");
}

static void tamper_edit_seq(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	line_replace(&lines.line[3], "\"seq\":4", "\"seq\":7");
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 7, 4, "stored hash does not match");
}

static void tamper_edit_hash(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };
	char *hash;
	char forged[AUDIT_HASH_HEX_LEN + 1];

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	hash = line_hash(lines.line[2]);
	memcpy(forged, hash, sizeof(forged));
	forged[10] = forged[10] == '0' ? '1' : '0';
	line_replace(&lines.line[2], hash, forged);
	lines_write(fx->path, &lines, order, 5);
	free(hash);
	lines_free(&lines);

	expect_bad(fx->path, 3, 3, "stored hash does not match");
}

static void tamper_drop_middle(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	lines_write(fx->path, &lines, order, 4);
	lines_free(&lines);

	expect_bad(fx->path, 4, 3, "expected seq 3 after seq 2, found seq 4");
}

static void tamper_drop_first(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	lines_write(fx->path, &lines, order, 4);
	lines_free(&lines);

	expect_bad(fx->path, 2, 1, "starts at seq 2 instead of 1");
}

/* A forged record with a correctly computed hash and prev passes on its
 * own line, but the genuine record after it then repeats seq 3. */
static void tamper_insert_forged_valid_hash(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	struct audit_record forged = {
		.seq = 3, .time = "2025-01-02T03:04:05.678Z", .actor = "uid:1000",
		.action = "secret.read", .object = "kv/prod", .outcome = "success",
	};
	struct wd_error err;
	char *prev;
	char *line;
	size_t len;
	const size_t order[] = { 0, 1, 5, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	prev = line_hash(lines.line[1]);
	memcpy(forged.prev, prev, sizeof(forged.prev));
	free(prev);
	assert_int_equal(audit_record_hash(&forged, forged.hash), 0);
	assert_int_equal(audit_record_format(&forged, &line, &len, &err), 0);
	lines.line[lines.count++] = line;
	lines_write(fx->path, &lines, order, 6);
	lines_free(&lines);

	expect_bad(fx->path, 3, 4, "expected seq 4 after seq 3, found seq 3");
}

static void tamper_insert_forged_fake_hash(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	struct audit_record forged = {
		.seq = 3, .time = "2025-01-02T03:04:05.678Z", .actor = "uid:1000",
		.action = "secret.read", .object = "kv/prod", .outcome = "success",
	};
	struct wd_error err;
	char *prev;
	char *line;
	size_t len;
	const size_t order[] = { 0, 1, 5, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	prev = line_hash(lines.line[1]);
	memcpy(forged.prev, prev, sizeof(forged.prev));
	free(prev);
	memcpy(forged.hash, "abababababababababababababababababababababababababababababababab",
		sizeof(forged.hash));
	assert_int_equal(audit_record_format(&forged, &line, &len, &err), 0);
	lines.line[lines.count++] = line;
	lines_write(fx->path, &lines, order, 6);
	lines_free(&lines);

	expect_bad(fx->path, 3, 3, "stored hash does not match");
}

static void tamper_swap_records(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 3, 2, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 4, 3, "expected seq 3 after seq 2, found seq 4");
}

static void tamper_truncate_last_line(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	size_t len;
	char *data;

	chain_write(fx->path, 1, 5);
	data = file_read(fx->path, &len);
	/* Cut the last line in its middle: 40 bytes before the end. */
	file_write(fx->path, data, len - 40);
	free(data);

	expect_bad(fx->path, 5, 5, "last line is truncated");
	assert_int_equal(audit_open(fx->path, &log, &err), WD_ECORRUPT);
	assert_null(log);
	assert_non_null(strstr(err.detail, "last line is truncated"));
}

static void tamper_truncate_newline_only(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *data;

	chain_write(fx->path, 1, 5);
	data = file_read(fx->path, &len);
	file_write(fx->path, data, len - 1);
	free(data);

	expect_bad(fx->path, 5, 5, "last line is truncated");
}

static void tamper_cut_tail_vs_anchor(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct lines lines;
	struct wd_error err;
	const size_t order[] = { 0, 1, 2, 3 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	lines_write(fx->path, &lines, order, 4);
	lines_free(&lines);

	expect_bad(fx->path, 5, 5, "ends at seq 4 but the head anchor records seq 5");
	assert_int_equal(audit_open(fx->path, &log, &err), WD_ECORRUPT);
	assert_null(log);
	assert_non_null(strstr(err.detail, "records 5 to 5 were cut off"));
}

static void tamper_cut_everything(void **state)
{
	struct fixture *fx = *state;

	chain_write(fx->path, 1, 3);
	file_write(fx->path, "", 0);

	expect_bad(fx->path, 1, 1, "records 1 to 3 were cut off");
}

static void tamper_garbage_line(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	free(lines.line[2]);
	lines.line[2] = strdup("\x1b[2Jnot json at all\n");
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 3, 3, "invalid JSON");
}

static void tamper_blank_line(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 5, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	lines.line[lines.count++] = strdup("\n");
	lines_write(fx->path, &lines, order, 6);
	lines_free(&lines);

	expect_bad(fx->path, 3, 3, "invalid JSON");
}

static void tamper_missing_field(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	line_replace(&lines.line[2], ",\"outcome\":\"success\"", "");
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 3, 3, "missing field \"outcome\"");
}

static void tamper_unexpected_field(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	line_replace(&lines.line[1], "{\"seq\":2,", "{\"seq\":2,\"admin\":true,");
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 2, 2, "unexpected field \"admin\"");
}

static void tamper_duplicate_key(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3, 4 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	line_replace(&lines.line[1], "{\"seq\":2,", "{\"seq\":2,\"actor\":\"uid:5\",");
	lines_write(fx->path, &lines, order, 5);
	lines_free(&lines);

	expect_bad(fx->path, 2, 2, "duplicate object key");
}

/* Each hostile value of one field, with the reason it must produce. */
static void tamper_bad_field_values(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *from;
		const char *to;
		uint64_t first_bad;
		const char *reason;
	} cases[] = {
		{ "\"seq\":2", "\"seq\":\"2\"", 2, "\"seq\" is not a positive integer" },
		{ "\"seq\":2", "\"seq\":0", 2, "\"seq\" is not a positive integer" },
		{ "\"seq\":2", "\"seq\":-2", 2, "\"seq\" is not a positive integer" },
		{ "\"seq\":2", "\"seq\":2.0", 2, "\"seq\" is not a positive integer" },
		{ "\"seq\":2", "\"seq\":99999999999999999999", 2, "invalid JSON" },
		{ "\"time\":\"", "\"time\":\"x", 2, "\"time\" is not RFC 3339" },
		{ "\"actor\":\"uid:0\"", "\"actor\":\"\"", 2, "field \"actor\" is empty" },
		{ "\"actor\":\"uid:0\"", "\"actor\":7", 2, "field \"actor\" is not a string" },
		{ "\"actor\":\"uid:0\"", "\"actor\":\"uid\\u0000\"", 2, "invalid JSON" },
		{ "\"prev\":\"", "\"prev\":\"X", 2, "\"prev\" is not 64 lowercase hex" },
		{ "\"hash\":\"", "\"hash\":\"A", 2, "\"hash\" is not 64 lowercase hex" },
		{ "{", "[{", 2, "invalid JSON" },
	};
	const size_t order[] = { 0, 1, 2 };

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		struct lines lines;

		unlink(fx->path);
		unlink(fx->head_path);
		chain_write(fx->path, 1, 3);
		lines_read(fx->path, &lines);
		line_replace(&lines.line[1], cases[i].from, cases[i].to);
		lines_write(fx->path, &lines, order, 3);
		lines_free(&lines);

		expect_bad(fx->path, cases[i].first_bad, 2, cases[i].reason);
	}
}

static void tamper_overlong_line(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *data;
	char *big;

	chain_write(fx->path, 1, 2);
	data = file_read(fx->path, &len);
	big = malloc(len + AUDIT_LINE_MAX + 2);
	assert_non_null(big);
	memcpy(big, data, len);
	memset(big + len, 'x', AUDIT_LINE_MAX);
	big[len + AUDIT_LINE_MAX] = '\n';
	file_write(fx->path, big, len + AUDIT_LINE_MAX + 1);
	free(big);
	free(data);

	expect_bad(fx->path, 3, 3, "line exceeds 131072 bytes");
}

/* Re-serializing a record (other key order, spaces) keeps it valid,
 * because the hash covers values, not JSON text. */
static void reformatted_record_still_valid(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	json_t *root;
	char *text;
	const size_t order[] = { 0, 1, 2 };

	chain_write(fx->path, 1, 3);
	lines_read(fx->path, &lines);
	root = json_loads(lines.line[1], 0, NULL);
	assert_non_null(root);
	text = json_dumps(root, JSON_SORT_KEYS);
	json_decref(root);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	free(lines.line[1]);
	assert_true(asprintf(&lines.line[1], "  %s  \n", text) > 0);
	free(text);
	lines_write(fx->path, &lines, order, 3);
	lines_free(&lines);

	expect_intact(fx->path, 3);
}

static void anchor_lagging_is_accepted(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	char anchor[128];
	char *hash;

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	hash = line_hash(lines.line[2]);
	snprintf(anchor, sizeof(anchor), "{\"seq\":3,\"hash\":\"%s\"}\n", hash);
	file_write(fx->head_path, anchor, strlen(anchor));
	free(hash);
	lines_free(&lines);

	expect_intact(fx->path, 5);
}

static void anchor_hash_mismatch(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	const char *anchor =
		"{\"seq\":3,\"hash\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"}\n";
	const char *anchor5 =
		"{\"seq\":5,\"hash\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"}\n";

	chain_write(fx->path, 1, 5);
	file_write(fx->head_path, anchor, strlen(anchor));
	expect_bad(fx->path, 3, 3, "differs from the head anchor");

	file_write(fx->head_path, anchor5, strlen(anchor5));
	expect_bad(fx->path, 5, 5, "differs from the head anchor");
	assert_int_equal(audit_open(fx->path, &log, &err), WD_ECORRUPT);
	assert_null(log);
}

static void anchor_invalid(void **state)
{
	struct fixture *fx = *state;
	struct audit_verify_result result;
	struct wd_error err;

	chain_write(fx->path, 1, 2);
	file_write(fx->head_path, "{\"seq\":2}\n", 10);
	assert_int_equal(audit_verify_file(fx->path, &result, &err), WD_ECORRUPT);
	assert_int_equal(result.first_bad, 0);
	assert_int_equal(result.records, 2);
	assert_non_null(strstr(result.reason, "head anchor"));
	assert_non_null(strstr(result.reason, "is invalid"));
}

/* Without its anchor only the chain itself is checked, as audit.h documents. */
static void anchor_removed_is_not_checked(void **state)
{
	struct fixture *fx = *state;
	struct lines lines;
	const size_t order[] = { 0, 1, 2, 3 };

	chain_write(fx->path, 1, 5);
	lines_read(fx->path, &lines);
	lines_write(fx->path, &lines, order, 4);
	lines_free(&lines);
	assert_int_equal(unlink(fx->head_path), 0);

	expect_intact(fx->path, 4);
}

static void anchor_written_after_append(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	char head[AUDIT_HASH_HEX_LEN + 1];
	char expected[128];
	uint64_t seq;
	size_t len;
	char *data;
	struct stat st;

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	append_event(log, 1);
	append_event(log, 2);
	audit_head(log, &seq, head);
	audit_close(log);

	snprintf(expected, sizeof(expected), "{\"seq\":2,\"hash\":\"%s\"}\n", head);
	data = file_read(fx->head_path, &len);
	assert_string_equal(data, expected);
	free(data);
	assert_int_equal(stat(fx->head_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void open_rejects_damaged_tail(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct lines lines;
	struct wd_error err;
	const size_t order[] = { 0, 1, 2 };

	chain_write(fx->path, 1, 3);
	lines_read(fx->path, &lines);
	line_replace(&lines.line[2], "example.org/w3", "example.org/w8");
	lines_write(fx->path, &lines, order, 3);
	lines_free(&lines);

	assert_int_equal(audit_open(fx->path, &log, &err), WD_ECORRUPT);
	assert_null(log);
	assert_non_null(strstr(err.detail, "stored hash does not match"));
}

static void second_writer_rejected(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *first = NULL;
	struct audit_log *second = NULL;
	struct wd_error err;

	assert_int_equal(audit_open(fx->path, &first, &err), 0);
	append_event(first, 1);

	assert_int_equal(audit_open(fx->path, &second, &err), WD_ECONFLICT);
	assert_null(second);
	assert_non_null(strstr(err.detail, "already open for writing"));

	audit_close(first);
	assert_int_equal(audit_open(fx->path, &second, &err), 0);
	append_event(second, 2);
	audit_close(second);
	expect_intact(fx->path, 2);
}

static void overlong_field_rejected(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	char *before;
	char *after;
	size_t before_len;
	size_t after_len;
	char *big = malloc(AUDIT_FIELD_MAX + 2);
	struct audit_event event = {
		.actor = "uid:0", .action = "kv.write", .object = "kv/a", .outcome = "success",
	};

	assert_non_null(big);
	memset(big, 'a', AUDIT_FIELD_MAX + 1);
	big[AUDIT_FIELD_MAX + 1] = '\0';

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	append_event(log, 1);
	append_event(log, 2);
	before = file_read(fx->path, &before_len);

	event.actor = big;
	assert_int_equal(audit_append(log, &event, &err), WD_ETOOBIG);
	assert_non_null(strstr(err.detail, "\"actor\" exceeds 4096 bytes"));
	event.actor = "uid:0";
	event.detail = big;
	assert_int_equal(audit_append(log, &event, &err), WD_ETOOBIG);
	assert_non_null(strstr(err.detail, "\"detail\" exceeds 4096 bytes"));
	event.detail = NULL;
	event.outcome = "";
	assert_int_equal(audit_append(log, &event, &err), WD_EINVAL);
	event.outcome = NULL;
	assert_int_equal(audit_append(log, &event, &err), WD_EINVAL);
	event.outcome = "success";
	event.object = "kv/\xff\xfe";
	assert_int_equal(audit_append(log, &event, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "\"object\" is not valid UTF-8"));

	after = file_read(fx->path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);

	/* Exactly AUDIT_FIELD_MAX bytes of control characters, each escaped
	 * to 6 bytes, in every field still fit in one line. */
	memset(big, '\x01', AUDIT_FIELD_MAX);
	big[AUDIT_FIELD_MAX] = '\0';
	event.actor = event.action = event.object = event.outcome = event.detail = big;
	assert_int_equal(audit_append(log, &event, &err), 0);
	audit_close(log);
	free(big);
	free(before);

	expect_intact(fx->path, 3);
}

static void hostile_value_keeps_lines(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	struct lines lines;
	const char *hostile = "x\"}\n{\"seq\":2,\"hash\":\"00\"}\r\n\\\"";
	struct audit_event event = {
		.actor = "uid:0\n", .action = "policy.update", .object = "\"quoted\"",
		.outcome = "denied", .detail = hostile,
	};
	json_t *root;

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	assert_int_equal(audit_append(log, &event, &err), 0);
	append_event(log, 2);
	audit_close(log);

	lines_read(fx->path, &lines);
	assert_int_equal(lines.count, 2);
	root = json_loads(lines.line[0], 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "detail")), hostile);
	assert_string_equal(json_string_value(json_object_get(root, "actor")), "uid:0\n");
	assert_string_equal(json_string_value(json_object_get(root, "object")), "\"quoted\"");
	json_decref(root);
	lines_free(&lines);

	expect_intact(fx->path, 2);
}

static void *append_worker(void *arg)
{
	struct audit_log *log = arg;

	for (int n = 0; n < 50; n++)
		append_event(log, n);
	return NULL;
}

static void concurrent_appends_stay_chained(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = NULL;
	struct wd_error err;
	pthread_t threads[4];

	assert_int_equal(audit_open(fx->path, &log, &err), 0);
	for (size_t i = 0; i < WD_ARRAY_LEN(threads); i++)
		assert_int_equal(pthread_create(&threads[i], NULL, append_worker, log), 0);
	for (size_t i = 0; i < WD_ARRAY_LEN(threads); i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	audit_close(log);

	expect_intact(fx->path, 200);
}

static void open_rejects_bad_arguments(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log = (struct audit_log *)fx;
	struct wd_error err;
	char dir_path[80];

	assert_int_equal(audit_open("", &log, &err), WD_EINVAL);
	assert_null(log);
	snprintf(dir_path, sizeof(dir_path), "%s/", fx->dir);
	assert_int_equal(audit_open(dir_path, &log, &err), WD_EIO);
	assert_null(log);
	audit_close(NULL);
}

#define FIXTURE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_known_answers),
		cmocka_unit_test(hash_field_boundaries),
		FIXTURE_TEST(append_then_verify_intact),
		FIXTURE_TEST(empty_log_is_intact),
		FIXTURE_TEST(missing_log_not_found),
		FIXTURE_TEST(reopen_continues_chain),
		FIXTURE_TEST(tamper_edit_field),
		FIXTURE_TEST(tamper_edit_seq),
		FIXTURE_TEST(tamper_edit_hash),
		FIXTURE_TEST(tamper_drop_middle),
		FIXTURE_TEST(tamper_drop_first),
		FIXTURE_TEST(tamper_insert_forged_valid_hash),
		FIXTURE_TEST(tamper_insert_forged_fake_hash),
		FIXTURE_TEST(tamper_swap_records),
		FIXTURE_TEST(tamper_truncate_last_line),
		FIXTURE_TEST(tamper_truncate_newline_only),
		FIXTURE_TEST(tamper_cut_tail_vs_anchor),
		FIXTURE_TEST(tamper_cut_everything),
		FIXTURE_TEST(tamper_garbage_line),
		FIXTURE_TEST(tamper_blank_line),
		FIXTURE_TEST(tamper_missing_field),
		FIXTURE_TEST(tamper_unexpected_field),
		FIXTURE_TEST(tamper_duplicate_key),
		FIXTURE_TEST(tamper_bad_field_values),
		FIXTURE_TEST(tamper_overlong_line),
		FIXTURE_TEST(reformatted_record_still_valid),
		FIXTURE_TEST(deferred_records_flush_later),
		FIXTURE_TEST(anchor_lagging_is_accepted),
		FIXTURE_TEST(anchor_hash_mismatch),
		FIXTURE_TEST(anchor_invalid),
		FIXTURE_TEST(anchor_removed_is_not_checked),
		FIXTURE_TEST(anchor_written_after_append),
		FIXTURE_TEST(open_rejects_damaged_tail),
		FIXTURE_TEST(second_writer_rejected),
		FIXTURE_TEST(overlong_field_rejected),
		FIXTURE_TEST(hostile_value_keeps_lines),
		FIXTURE_TEST(concurrent_appends_stay_chained),
		FIXTURE_TEST(open_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
