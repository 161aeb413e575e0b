/* Policy engine benchmark: builds each workload's policy and data in
 * memory, then times single decisions through the public engine API and
 * prints one JSON line per workload for bench/policy.sh.
 *
 *   rbac    1,000 roles and 10,000 user bindings (the shape of OPA's RBAC
 *           example)
 *   jwt     HTTP API authorization: verify an ES256 JWT, match method and
 *           path
 *   rules   10,000 rules that each compare input.id with a constant
 *   bigdata load a JSON data document of --mb megabytes, report load time
 *           and resident memory, then evaluate one lookup */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bench_util.h"
#include "common/buf.h"
#include "common/encoding.h"
#include "policy/policy.h"

struct workload {
	struct rego_engine *engine;
	struct rv **inputs;       /* cycled through, one per decision */
	size_t input_count;
	const char *query;        /* a ref such as data.rbac.allow */
	const char *expect;       /* expected JSON result for inputs[0] */
};

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

static void die(const char *what, const struct rego_errors *errs)
{
	fprintf(stderr, "bench_policy: %s", what);
	if (errs && errs->len)
		fprintf(stderr, ": %s:%u:%u: %s: %s", errs->items[0].file, errs->items[0].row,
			errs->items[0].col, errs->items[0].code, errs->items[0].message);
	fprintf(stderr, "\n");
	exit(1);
}

static struct rv *json_value(const char *text)
{
	struct rv *v = rv_parse_json(text, strlen(text), 64, NULL);

	if (!v)
		die("bad JSON in the benchmark itself", NULL);
	return v;
}

static struct rego_engine *compile(const char *source, struct rv *data)
{
	struct rego_builder *b = rego_builder_new(NULL);
	struct rego_errors errs = { 0 };
	struct rego_engine *engine;

	if (!b)
		die("out of memory", NULL);
	if (rego_builder_add_module(b, "bench.rego", source, strlen(source), &errs) < 0)
		die("policy does not parse", &errs);
	if (data && rego_builder_set_data(b, data) < 0)
		die("data not accepted", NULL);
	engine = rego_builder_compile(b, &errs);
	if (!engine)
		die("policy does not compile", &errs);
	rego_builder_free(b);
	return engine;
}

/* ---- (a) RBAC ---- */

static const char rbac_policy[] =
	"package rbac\n"
	"\n"
	"default allow := false\n"
	"\n"
	"allow if {\n"
	"\tsome role in data.bindings[input.user]\n"
	"\tsome grant in data.roles[role]\n"
	"\tinput.action == grant.action\n"
	"\tinput.type == grant.type\n"
	"}\n";

static void rbac_build(struct workload *w)
{
	struct wd_buf json;

	wd_buf_init(&json, 1 << 20, (size_t)1 << 30);
	/* Role i grants read on type t(i % 50) and write on type t(i % 7). */
	if (wd_buf_append_str(&json, "{\"roles\":{") < 0)
		die("out of memory", NULL);
	for (int i = 0; i < 1000; i++)
		if (wd_buf_appendf(&json, "%s\"role-%d\":[{\"action\":\"read\",\"type\":\"t%d\"},"
			"{\"action\":\"write\",\"type\":\"t%d\"}]", i ? "," : "", i, i % 50,
			i % 7) < 0)
			die("out of memory", NULL);
	/* User j has roles j % 1000 and (j * 7) % 1000. */
	if (wd_buf_append_str(&json, "},\"bindings\":{") < 0)
		die("out of memory", NULL);
	for (int j = 0; j < 10000; j++)
		if (wd_buf_appendf(&json, "%s\"user-%d\":[\"role-%d\",\"role-%d\"]", j ? "," : "", j,
			j % 1000, (j * 7) % 1000) < 0)
			die("out of memory", NULL);
	if (wd_buf_append_str(&json, "}}") < 0)
		die("out of memory", NULL);

	w->engine = compile(rbac_policy, json_value(wd_buf_str(&json)));
	wd_buf_free(&json);

	w->input_count = 1000;
	w->inputs = calloc(w->input_count, sizeof(*w->inputs));
	for (size_t k = 0; k < w->input_count; k++) {
		char text[160];
		int user = (int)((k * 7919) % 10000);

		snprintf(text, sizeof(text), "{\"user\":\"user-%d\",\"action\":\"%s\",\"type\":\"t%d\"}",
			user, k % 2 ? "write" : "read", (int)(k % 50));
		w->inputs[k] = json_value(text);
	}
	w->query = "data.rbac.allow";
	w->expect = "true";   /* user-0 has role-0, which reads t0 */
}

/* ---- (b) JWT + method and path ---- */

static const char jwt_policy_template[] =
	"package httpapi\n"
	"\n"
	"default allow := false\n"
	"\n"
	"claims := payload if {\n"
	"\t[valid, _, payload] := io.jwt.decode_verify(input.token, {\"cert\": data.jwt_key, "
	"\"aud\": \"bench\"})\n"
	"\tvalid\n"
	"}\n"
	"\n"
	"allow if {\n"
	"\tinput.method == \"GET\"\n"
	"\tglob.match(\"/v1/reports/*\", [\"/\"], input.path)\n"
	"\t\"reports:read\" in claims.scope\n"
	"}\n"
	"\n"
	"allow if {\n"
	"\tinput.method == \"POST\"\n"
	"\tinput.path == \"/v1/reports\"\n"
	"\t\"reports:write\" in claims.scope\n"
	"}\n";

static char *b64url(const void *data, size_t len)
{
	char *text = NULL;

	if (wd_base64url_encode(data, len, &text) < 0)
		die("out of memory", NULL);
	return text;
}

/* Signs header.payload with ES256 (raw r||s as JWS wants, RFC 7518 3.4). */
static char *jwt_sign(EVP_PKEY *key, const char *payload_json)
{
	static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
	char *h = b64url(header, strlen(header));
	char *p = b64url(payload_json, strlen(payload_json));
	unsigned char digest[32], der[128], raw[64] = { 0 };
	const unsigned char *der_ptr = der;
	size_t der_len = sizeof(der);
	char signing_input[4096];
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;
	EVP_PKEY_CTX *ctx;
	char *signature;
	char *token;
	size_t token_len;

	snprintf(signing_input, sizeof(signing_input), "%s.%s", h, p);
	EVP_Digest(signing_input, strlen(signing_input), digest, NULL, EVP_sha256(), NULL);
	ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_sign(ctx, der, &der_len, digest, sizeof(digest)) <= 0)
		die("ES256 signing failed", NULL);
	EVP_PKEY_CTX_free(ctx);
	sig = d2i_ECDSA_SIG(NULL, &der_ptr, (long)der_len);
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, raw, 32);
	BN_bn2binpad(s, raw + 32, 32);
	ECDSA_SIG_free(sig);

	signature = b64url(raw, sizeof(raw));
	token_len = strlen(signing_input) + strlen(signature) + 2;
	token = malloc(token_len);
	if (!token)
		die("out of memory", NULL);
	snprintf(token, token_len, "%s.%s", signing_input, signature);
	free(h);
	free(p);
	free(signature);
	return token;
}

static void jwt_build(struct workload *w)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long pem_len;
	struct rv *data;
	struct rv *pem_value;

	if (!key || !bio || !PEM_write_bio_PUBKEY(bio, key))
		die("key generation failed", NULL);
	pem_len = BIO_get_mem_data(bio, &pem);
	data = rv_object_new(1);
	pem_value = rv_string(pem, (size_t)pem_len);
	if (!data || rv_object_put(data, rv_cstring("jwt_key"), pem_value) < 0)
		die("out of memory", NULL);
	BIO_free(bio);
	w->engine = compile(jwt_policy_template, data);

	w->input_count = 64;
	w->inputs = calloc(w->input_count, sizeof(*w->inputs));
	for (size_t k = 0; k < w->input_count; k++) {
		char payload[256];
		char input[2048];
		char *token;

		snprintf(payload, sizeof(payload), "{\"sub\":\"user-%zu\",\"aud\":\"bench\","
			"\"exp\":4102444800,\"scope\":[\"reports:read\"%s]}", k,
			k % 3 ? "" : ",\"reports:write\"");
		token = jwt_sign(key, payload);
		snprintf(input, sizeof(input), "{\"token\":\"%s\",\"method\":\"%s\",\"path\":\"%s\"}",
			token, k % 2 ? "POST" : "GET", k % 2 ? "/v1/reports" : "/v1/reports/42");
		w->inputs[k] = json_value(input);
		free(token);
	}
	EVP_PKEY_free(key);
	w->query = "data.httpapi.allow";
	w->expect = "true";
}

/* ---- (c) 10,000 indexed rules ---- */

static void rules_build(struct workload *w)
{
	struct wd_buf source;

	wd_buf_init(&source, 1 << 20, (size_t)1 << 30);
	if (wd_buf_append_str(&source, "package rules\n\ndefault allow := false\n\n") < 0)
		die("out of memory", NULL);
	for (int i = 0; i < 10000; i++)
		if (wd_buf_appendf(&source, "allow if {\n\tinput.id == \"id-%d\"\n\tinput.level >= %d\n}\n\n",
			i, i % 5) < 0)
			die("out of memory", NULL);
	w->engine = compile(wd_buf_str(&source), NULL);
	wd_buf_free(&source);

	w->input_count = 1000;
	w->inputs = calloc(w->input_count, sizeof(*w->inputs));
	for (size_t k = 0; k < w->input_count; k++) {
		char text[96];

		snprintf(text, sizeof(text), "{\"id\":\"id-%zu\",\"level\":%zu}", (k * 7919) % 10000,
			k % 10);
		w->inputs[k] = json_value(text);
	}
	w->query = "data.rules.allow";
	w->expect = "true";
}

/* Runs decisions for `seconds` and prints the JSON result line. */
static void run_decisions(const char *name, struct workload *w, double seconds)
{
	size_t cap = 1 << 22, count = 0;
	uint64_t *samples = malloc(cap * sizeof(*samples));
	uint64_t start = bench_now_ns(), deadline = start + (uint64_t)(seconds * 1e9);
	uint64_t elapsed;
	struct rego_errors errs = { 0 };
	struct wd_buf first;

	/* The first result is checked, so a broken engine cannot post a
	 * fast number. */
	wd_buf_init(&first, 64, 1 << 20);
	{
		struct rego_query_opts opts = { .input = w->inputs[0] };
		struct rv *value = NULL;

		if (rego_engine_eval_ref(w->engine, w->query, &opts, &value, &errs) < 0)
			die("decision failed", &errs);
		if (!value || rv_write_json(value, &first) < 0 ||
		    strcmp(wd_buf_str(&first), w->expect) != 0) {
			fprintf(stderr, "bench_policy: %s: expected %s, got %s\n", name, w->expect,
				value ? wd_buf_str(&first) : "undefined");
			exit(1);
		}
		rv_unref(value);
	}

	while (bench_now_ns() < deadline && count < cap) {
		for (int batch = 0; batch < 64 && count < cap; batch++) {
			struct rego_query_opts opts = { .input = w->inputs[count % w->input_count] };
			struct rv *value = NULL;
			uint64_t t0 = bench_now_ns();

			if (rego_engine_eval_ref(w->engine, w->query, &opts, &value, &errs) < 0)
				die("decision failed", &errs);
			samples[count++] = bench_now_ns() - t0;
			rv_unref(value);
		}
	}
	elapsed = bench_now_ns() - start;

	printf("{\"workload\":\"%s\",\"decisions\":%zu,\"seconds\":%.3f,\"per_second\":%.0f,"
		"\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f,\"rss_kib\":%ld}\n", name, count,
		(double)elapsed / 1e9, (double)count / ((double)elapsed / 1e9),
		(double)bench_percentile(samples, count, 0.50) / 1e3,
		(double)bench_percentile(samples, count, 0.99) / 1e3,
		(double)elapsed / (double)count / 1e3, rss_kib());
	fflush(stdout);
	wd_buf_free(&first);
	free(samples);
}

/* ---- (d) a large data document ---- */

static void bigdata_run(unsigned long megabytes, const char *path)
{
	FILE *f;
	size_t target = (size_t)megabytes << 20, written = 0, len;
	char *text;
	long rss_before, rss_after;
	uint64_t t0, t_parse, t_compile;
	struct rv *data;
	struct rego_engine *engine;
	struct rego_errors errs = { 0 };
	struct rego_query_opts opts = { 0 };
	struct rv *value = NULL;
	size_t users = 0;

	/* An inventory of users with groups and attributes, the kind of
	 * document users push into OPA. */
	f = fopen(path, "w");
	if (!f)
		die("cannot write the data file", NULL);
	written += (size_t)fprintf(f, "{\"users\":{");
	while (written < target) {
		written += (size_t)fprintf(f, "%s\"user-%zu\":{\"id\":%zu,\"name\":\"User number %zu\","
			"\"email\":\"user%zu@example.org\",\"groups\":[\"g%zu\",\"g%zu\"],"
			"\"active\":%s,\"quota\":%zu.5}", users ? "," : "", users, users, users, users,
			users % 100, users % 37, users % 3 ? "true" : "false", users % 1000);
		users++;
	}
	written += (size_t)fprintf(f, "}}");
	fclose(f);

	f = fopen(path, "r");
	if (!f)
		die("cannot read the data file", NULL);
	text = malloc(written + 1);
	len = fread(text, 1, written, f);
	fclose(f);
	text[len] = '\0';

	rss_before = rss_kib();
	t0 = bench_now_ns();
	data = rv_parse_json(text, len, 64, NULL);
	t_parse = bench_now_ns();
	if (!data)
		die("the generated document does not parse", NULL);
	free(text);
	engine = compile("package big\n\nactive(u) if data.users[u].active\n", data);
	t_compile = bench_now_ns();
	rss_after = rss_kib();

	if (rego_engine_eval_ref(engine, "data.users[\"user-4\"].groups", &opts, &value, &errs) < 0
	    || !value)
		die("lookup in the large document failed", &errs);

	printf("{\"workload\":\"bigdata\",\"json_bytes\":%zu,\"users\":%zu,\"parse_seconds\":%.3f,"
		"\"load_seconds\":%.3f,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
		"\"rss_ratio\":%.2f}\n", len, users, (double)(t_parse - t0) / 1e9,
		(double)(t_compile - t0) / 1e9, rss_before, rss_after,
		(double)(rss_after - rss_before) * 1024.0 / (double)len);
	rv_unref(value);
	rego_engine_unref(engine);
	unlink(path);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_policy [--seconds N] [--mb N] [--file PATH] "
		"rbac|jwt|rules|bigdata...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "mb", required_argument, NULL, 'm' },
		{ "file", required_argument, NULL, 'f' },
		{ 0 },
	};
	unsigned long seconds = 5, megabytes = 100;
	const char *file = "/tmp/warden-bench-policy.json";
	int option;

	while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (option == 's' && bench_parse_uint("--seconds", optarg, 1, 3600, &seconds) == 0)
			continue;
		if (option == 'm' && bench_parse_uint("--mb", optarg, 1, 4096, &megabytes) == 0)
			continue;
		if (option == 'f') {
			file = optarg;
			continue;
		}
		usage();
	}
	if (optind >= argc)
		usage();

	for (int i = optind; i < argc; i++) {
		struct workload w = { 0 };

		if (strcmp(argv[i], "rbac") == 0)
			rbac_build(&w);
		else if (strcmp(argv[i], "jwt") == 0)
			jwt_build(&w);
		else if (strcmp(argv[i], "rules") == 0)
			rules_build(&w);
		else if (strcmp(argv[i], "bigdata") == 0) {
			bigdata_run(megabytes, file);
			continue;
		} else
			usage();

		run_decisions(argv[i], &w, (double)seconds);
		for (size_t k = 0; k < w.input_count; k++)
			rv_unref(w.inputs[k]);
		free(w.inputs);
		rego_engine_unref(w.engine);
	}
	return 0;
}
