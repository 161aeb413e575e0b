/* Audit records: the canonical hash, the JSON line and the strict parser
 * (format in audit.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "audit/record.h"

const char audit_zero_hash[AUDIT_HASH_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* Domain separation tag, the first item of the hashed string. */
static const char hash_tag[] = "warden.audit.v1";

/* The JSON field names in the order the writer emits them. */
static const char *const field_names[] = {
	"seq", "time", "actor", "action", "object", "outcome", "detail", "prev", "hash",
};

static const char hex_digits[] = "0123456789abcdef";

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool audit_hash_hex_valid(const char *text)
{
	if (!text || strlen(text) != AUDIT_HASH_HEX_LEN)
		return false;
	for (size_t i = 0; i < AUDIT_HASH_HEX_LEN; i++) {
		if (hex_value(text[i]) < 0)
			return false;
	}
	return true;
}

static void put_be(uint8_t *out, uint64_t value, size_t width)
{
	for (size_t i = 0; i < width; i++)
		out[i] = (uint8_t)(value >> (8 * (width - 1 - i)));
}

/* Feeds str(s): a 4-byte big-endian length, then the bytes. */
static int digest_string(EVP_MD_CTX *ctx, const char *s)
{
	size_t len = strlen(s);
	uint8_t prefix[4];

	if (len > UINT32_MAX)
		return WD_ETOOBIG;
	put_be(prefix, len, sizeof(prefix));
	if (EVP_DigestUpdate(ctx, prefix, sizeof(prefix)) != 1 ||
	    EVP_DigestUpdate(ctx, s, len) != 1)
		return WD_ECRYPTO;
	return 0;
}

static int digest_record(EVP_MD_CTX *ctx, const struct audit_record *rec,
	const uint8_t prev[static 32])
{
	uint8_t seq[8];
	const char *strings[] = { rec->time, rec->actor, rec->action, rec->object, rec->outcome };
	uint8_t detail_present = rec->detail ? 1 : 0;

	WD_TRY(digest_string(ctx, hash_tag));

	put_be(seq, rec->seq, sizeof(seq));
	if (EVP_DigestUpdate(ctx, seq, sizeof(seq)) != 1)
		return WD_ECRYPTO;

	for (size_t i = 0; i < WD_ARRAY_LEN(strings); i++)
		WD_TRY(digest_string(ctx, strings[i]));

	if (EVP_DigestUpdate(ctx, &detail_present, 1) != 1)
		return WD_ECRYPTO;
	if (rec->detail)
		WD_TRY(digest_string(ctx, rec->detail));

	if (EVP_DigestUpdate(ctx, prev, 32) != 1)
		return WD_ECRYPTO;
	return 0;
}

int audit_record_hash(const struct audit_record *rec, char ret_hash[static AUDIT_HASH_HEX_LEN + 1])
{
	uint8_t prev[32];
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx = NULL;
	int rc;

	ret_hash[0] = '\0';
	WD_ENSURE(audit_hash_hex_valid(rec->prev), WD_EINVAL);
	for (size_t i = 0; i < sizeof(prev); i++)
		prev[i] = (uint8_t)(hex_value(rec->prev[2 * i]) << 4 | hex_value(rec->prev[2 * i + 1]));

	ctx = EVP_MD_CTX_new();
	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1, WD_ECRYPTO);
	WD_GUARD(digest_record(ctx, rec, prev));
	WD_ENSURE(EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1, WD_ECRYPTO);
	WD_ENSURE(digest_len == 32, WD_ECRYPTO);

	for (size_t i = 0; i < 32; i++) {
		ret_hash[2 * i] = hex_digits[digest[i] >> 4];
		ret_hash[2 * i + 1] = hex_digits[digest[i] & 0xf];
	}
	ret_hash[AUDIT_HASH_HEX_LEN] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Adds a string member. json_string() rejects invalid UTF-8. */
static int set_string(json_t *root, const char *name, const char *value, struct wd_error *err)
{
	json_t *string = json_string(value);

	if (!string)
		return wd_error_set(err, WD_EINVAL, "audit field \"%s\" is not valid UTF-8", name);
	if (json_object_set_new(root, name, string) < 0)
		return wd_error_set(err, WD_ENOMEM, "building audit record failed");
	return 0;
}

int audit_record_format(const struct audit_record *rec, char **ret_line, size_t *ret_len,
	struct wd_error *err)
{
	_wd_cleanup_(audit_json_decrefp) json_t *root = NULL;
	_wd_cleanup_(wd_freep) char *text = NULL;
	const char *values[] = { rec->time, rec->actor, rec->action, rec->object, rec->outcome };
	char *line;
	size_t len;

	*ret_line = NULL;
	*ret_len = 0;

	if (rec->seq == 0 || rec->seq > AUDIT_SEQ_MAX)
		return wd_error_set(err, WD_EINVAL, "audit seq %llu is out of range",
			(unsigned long long)rec->seq);

	root = json_object();
	if (!root || json_object_set_new(root, "seq", json_integer((json_int_t)rec->seq)) < 0)
		return wd_error_set(err, WD_ENOMEM, "building audit record failed");
	for (size_t i = 0; i < WD_ARRAY_LEN(values); i++)
		WD_TRY(set_string(root, field_names[i + 1], values[i], err));
	if (rec->detail)
		WD_TRY(set_string(root, "detail", rec->detail, err));
	WD_TRY(set_string(root, "prev", rec->prev, err));
	WD_TRY(set_string(root, "hash", rec->hash, err));

	/* Jansson escapes '"', '\\' and every control character, so a value
	 * cannot end the line or the string early. */
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return wd_error_set(err, WD_ENOMEM, "serializing audit record failed");
	len = strlen(text);
	if (len + 1 > AUDIT_LINE_MAX)
		return wd_error_set(err, WD_ETOOBIG, "audit record of %zu bytes exceeds %d bytes",
			len + 1, AUDIT_LINE_MAX);

	line = realloc(text, len + 2);
	if (!line)
		return wd_error_set(err, WD_ENOMEM, "serializing audit record failed");
	text = NULL;
	line[len] = '\n';
	line[len + 1] = '\0';

	*ret_line = line;
	*ret_len = len + 1;
	return 0;
}

/* Copies at most 40 bytes of s for a message, replacing bytes outside
 * printable ASCII with '?' so hostile input cannot inject terminal codes. */
static void excerpt(const char *s, char out[static 48])
{
	size_t i;

	for (i = 0; s[i] && i < 40; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && i == 40) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static bool field_known(const char *name)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(field_names); i++) {
		if (!strcmp(name, field_names[i]))
			return true;
	}
	return false;
}

/* Checks "YYYY-MM-DDTHH:MM:SS.sssZ" and the ranges of its parts. */
static bool time_valid(const char *s, size_t len)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	int month, day, hour, minute, second;

	if (len != AUDIT_TIME_LEN)
		return false;
	for (size_t i = 0; i < AUDIT_TIME_LEN; i++) {
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return false;
	}

	month = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	hour = (s[11] - '0') * 10 + (s[12] - '0');
	minute = (s[14] - '0') * 10 + (s[15] - '0');
	second = (s[17] - '0') * 10 + (s[18] - '0');
	/* RFC 3339 section 5.6 allows second 60 for a leap second. */
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 &&
	       minute <= 59 && second <= 60;
}

/* Reads the string member name of root into *ret_value, which stays NULL
 * when an optional member is absent. Fails with a reason for a missing,
 * non-string, empty (when required) or overlong value. */
static int get_string(json_t *root, const char *name, bool required, size_t max_len,
	const char **ret_value, char *reason, size_t reason_size)
{
	json_t *value = json_object_get(root, name);
	size_t len;

	*ret_value = NULL;
	if (!value) {
		if (!required)
			return 0;
		snprintf(reason, reason_size, "missing field \"%s\"", name);
		return WD_EINVAL;
	}
	if (!json_is_string(value)) {
		snprintf(reason, reason_size, "field \"%s\" is not a string", name);
		return WD_EINVAL;
	}

	len = json_string_length(value);
	if (required && len == 0) {
		snprintf(reason, reason_size, "field \"%s\" is empty", name);
		return WD_EINVAL;
	}
	if (len > max_len) {
		snprintf(reason, reason_size, "field \"%s\" exceeds %zu bytes", name, max_len);
		return WD_EINVAL;
	}
	*ret_value = json_string_value(value);
	return 0;
}

static int parse_seq(json_t *root, uint64_t *ret_seq, char *reason, size_t reason_size)
{
	json_t *value = json_object_get(root, "seq");

	*ret_seq = 0;
	if (!value) {
		snprintf(reason, reason_size, "missing field \"seq\"");
		return WD_EINVAL;
	}
	if (!json_is_integer(value) || json_integer_value(value) < 1) {
		snprintf(reason, reason_size, "field \"seq\" is not a positive integer");
		return WD_EINVAL;
	}
	*ret_seq = (uint64_t)json_integer_value(value);
	return 0;
}

static int parse_fields(json_t *root, struct audit_record *rec, char *reason, size_t reason_size)
{
	const char **strings[] = { &rec->actor, &rec->action, &rec->object, &rec->outcome };
	const char *key;
	json_t *value;
	const char *prev;
	const char *hash;
	char name[48];

	json_object_foreach(root, key, value) {
		if (!field_known(key)) {
			excerpt(key, name);
			snprintf(reason, reason_size, "unexpected field \"%s\"", name);
			return WD_EINVAL;
		}
	}

	WD_TRY(get_string(root, "time", true, AUDIT_FIELD_MAX, &rec->time, reason, reason_size));
	for (size_t i = 0; i < WD_ARRAY_LEN(strings); i++)
		WD_TRY(get_string(root, field_names[i + 2], true, AUDIT_FIELD_MAX, strings[i],
			reason, reason_size));
	WD_TRY(get_string(root, "detail", false, AUDIT_FIELD_MAX, &rec->detail, reason,
		reason_size));
	WD_TRY(get_string(root, "prev", true, AUDIT_FIELD_MAX, &prev, reason, reason_size));
	WD_TRY(get_string(root, "hash", true, AUDIT_FIELD_MAX, &hash, reason, reason_size));

	if (!time_valid(rec->time, strlen(rec->time))) {
		snprintf(reason, reason_size,
			"field \"time\" is not RFC 3339 UTC with milliseconds");
		return WD_EINVAL;
	}
	if (!audit_hash_hex_valid(prev)) {
		snprintf(reason, reason_size, "field \"prev\" is not 64 lowercase hex digits");
		return WD_EINVAL;
	}
	if (!audit_hash_hex_valid(hash)) {
		snprintf(reason, reason_size, "field \"hash\" is not 64 lowercase hex digits");
		return WD_EINVAL;
	}
	memcpy(rec->prev, prev, AUDIT_HASH_HEX_LEN + 1);
	memcpy(rec->hash, hash, AUDIT_HASH_HEX_LEN + 1);
	return 0;
}

int audit_record_parse(const char *line, size_t len, json_t **ret_root,
	struct audit_record *ret_rec, char *reason, size_t reason_size)
{
	_wd_cleanup_(audit_json_decrefp) json_t *root = NULL;
	struct audit_record rec = { 0 };
	json_error_t jerr;
	char text[48];

	*ret_root = NULL;
	memset(ret_rec, 0, sizeof(*ret_rec));

	/* Duplicate keys are rejected because a reader that kept the other
	 * copy would see a record the hash does not cover. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		excerpt(jerr.text, text);
		snprintf(reason, reason_size, "invalid JSON at column %d: %s", jerr.column, text);
		return WD_EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(reason, reason_size, "line is not a JSON object");
		return WD_EINVAL;
	}

	WD_TRY(parse_seq(root, &rec.seq, reason, reason_size));
	ret_rec->seq = rec.seq;
	WD_TRY(parse_fields(root, &rec, reason, reason_size));

	*ret_rec = rec;
	*ret_root = WD_TAKE_PTR(root);
	return 0;
}

int audit_time_now(char ret_time[static AUDIT_TIME_LEN + 1])
{
	struct timespec now;
	struct tm tm;
	char text[64];
	int n;

	ret_time[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &now) < 0 || !gmtime_r(&now.tv_sec, &tm))
		return WD_EINTERNAL;

	n = snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		tm.tm_sec, now.tv_nsec / 1000000L);
	if (n != AUDIT_TIME_LEN)
		return WD_EINTERNAL;
	memcpy(ret_time, text, AUDIT_TIME_LEN + 1);
	return 0;
}
