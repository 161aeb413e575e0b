/* `warden sensor run`: loads Falco rule files, attaches the sensor for the
 * event types the rules read, and writes one Falco JSON alert per match. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_args.h"
#include "cli/cmd_sensor_output.h"
#include "cli/cmd_sensor_uplink.h"
#include "cli/commands.h"
#include "common/buf.h"
#include "sensor/rules/event_source.h"
#include "sensor/rules/rules.h"
#include "sensor/sensor.h"

/* The process table always follows these, whatever the rules read. */
#define TABLE_TYPES                                                            \
	(SENSOR_TYPE_BIT(SENSOR_EVENT_EXEC) | SENSOR_TYPE_BIT(SENSOR_EVENT_FORK) | \
	 SENSOR_TYPE_BIT(SENSOR_EVENT_EXIT))

enum run_option {
	OPT_RULES = 1,
	OPT_OUTPUT,
	OPT_TYPES,
	OPT_RESPONSES,
	OPT_DRY_RUN,
	OPT_AUDIT,
	OPT_SYSLOG,
	OPT_SYSLOG_SOCKET,
	OPT_SERVER,
	OPT_SOCKET,
	OPT_SPIFFE_ID,
	OPT_CERT,
	OPT_KEY,
	OPT_BUNDLE,
	OPT_DENY_EXEC,
};

struct run_args {
	struct cli_strings rules;
	struct cli_strings deny_exec;
	const char *output;
	unsigned types;
	struct sensor_output_args outputs;
	struct sensor_uplink_args uplink;
};

struct run_state {
	struct rules_set *set;
	struct proc_table procs;
	unsigned match_mask;
	int64_t realtime_offset_ns;
	uint32_t self_pid;
	char hostname[256];
	FILE *out;
	struct event_fields *fields;
	unsigned long long events;
	unsigned long long alerts;
	struct sensor_output outputs;
	struct sensor_uplink uplink;
	bool failed;
};

static volatile sig_atomic_t stop_requested;

static void request_stop(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static const struct cli_option run_options[] = {
	{ "rules", "FILE", OPT_RULES, "a Falco rule file; repeat for several, loaded in order" },
	{ "output", "FILE", OPT_OUTPUT, "append the alerts to FILE (default: standard output)" },
	{ "types", "LIST", OPT_TYPES,
		"comma-separated event types the rules see, as for `warden sensor events`\n"
		"(default: all that the loaded rules read)" },
	{ "responses", "FILE", OPT_RESPONSES,
		"a response file: actions (kill, quarantine, revoke, notify) by rule name\n"
		"or tag, and the notify webhook" },
	{ "dry-run", NULL, OPT_DRY_RUN,
		"check each response's target but kill, freeze, revoke and send nothing;\n"
		"the audit records say \"dry-run\"" },
	{ "audit", "FILE", OPT_AUDIT,
		"append the responses' audit records to FILE (default: the alert stream)" },
	{ "syslog", NULL, OPT_SYSLOG,
		"also send each alert to syslog (ident warden-sensor, facility authpriv)" },
	{ "syslog-socket", "PATH", OPT_SYSLOG_SOCKET,
		"the syslog Unix datagram socket (default: /dev/log); implies --syslog" },
	{ "server", "URL", OPT_SERVER,
		"warden server's identity API (https://HOST:8081): alerts and response\n"
		"records go to its audit chain, and revoke actions ask it to revoke" },
	{ "socket", "PATH", OPT_SOCKET,
		"the agent's Workload API socket, which gives the sensor's own SVID" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID,
		"which SVID of --socket to use, when the agent gives the sensor several\n"
		"(default: the first)" },
	{ "cert", "FILE", OPT_CERT, "the sensor's SVID as PEM files instead of --socket" },
	{ "key", "FILE", OPT_KEY, "the private key of --cert" },
	{ "bundle", "FILE", OPT_BUNDLE, "the trust domain's CA certificates of --cert" },
	{ "deny-exec", "PATH", OPT_DENY_EXEC,
		"kill every exec of this executable in the kernel (SIGKILL before it\n"
		"runs) and write a \"Denied exec\" alert; repeat for several" },
};

static const struct cli_spec run_spec = {
	.name = "sensor run",
	.synopsis = "--rules FILE [--rules FILE...] [--output FILE] [--types LIST]\n"
		"    [--responses FILE] [--dry-run] [--audit FILE] [--syslog] [--syslog-socket PATH]\n"
		"    [--server URL (--socket PATH [--spiffe-id ID] | --cert FILE --key FILE\n"
		"    --bundle FILE)] [--deny-exec PATH...]",
	.description = "Loads Falco rule files, prints which rules loaded or were skipped and\n"
		"why on stderr, attaches the eBPF sensor for the event types the rules read,\n"
		"and writes one Falco JSON alert a line for each rule an event matches.\n"
		"After writing an alert it runs the rule's actions (from `warden:` in the\n"
		"rule or from --responses) and writes one audit record per action. With\n"
		"--server, alerts and records also go to the server's audit chain.\n"
		"--deny-exec files are matched by device and inode, so every path and hard\n"
		"link of one is denied, and a copy is not; --rules is optional with them.\n"
		"Runs until SIGINT or SIGTERM. Needs root (CAP_BPF and CAP_PERFMON, or\n"
		"CAP_SYS_ADMIN).\n",
	.options = run_options,
	.option_count = WD_ARRAY_LEN(run_options),
	.common = 0,
	.min_operands = 0,
	.max_operands = 0,
};

static int run_option(void *ctx, int id, const char *value)
{
	struct run_args *args = ctx;
	struct wd_error err = { 0 };

	switch ((enum run_option)id) {
	case OPT_RULES:
		return cli_strings_append(&args->rules, value);
	case OPT_DENY_EXEC:
		return cli_strings_append(&args->deny_exec, value);
	case OPT_OUTPUT:
		args->output = value;
		return CLI_CONTINUE;
	case OPT_TYPES:
		if (sensor_types_parse(value, &args->types, &err) < 0)
			return cli_usage_error(&run_spec, "invalid --types '%s': %s", value,
				wd_error_text(&err));
		return CLI_CONTINUE;
	case OPT_RESPONSES:
		args->outputs.responses = value;
		return CLI_CONTINUE;
	case OPT_DRY_RUN:
		args->outputs.dry_run = true;
		return CLI_CONTINUE;
	case OPT_AUDIT:
		args->outputs.audit = value;
		return CLI_CONTINUE;
	case OPT_SYSLOG:
		args->outputs.syslog = true;
		return CLI_CONTINUE;
	case OPT_SYSLOG_SOCKET:
		args->outputs.syslog_socket = value;
		return CLI_CONTINUE;
	case OPT_SERVER:
		args->uplink.url = value;
		return CLI_CONTINUE;
	case OPT_SOCKET:
		args->uplink.socket = value;
		return CLI_CONTINUE;
	case OPT_SPIFFE_ID:
		args->uplink.spiffe_id = value;
		return CLI_CONTINUE;
	case OPT_CERT:
		args->uplink.cert = value;
		return CLI_CONTINUE;
	case OPT_KEY:
		args->uplink.key = value;
		return CLI_CONTINUE;
	case OPT_BUNDLE:
		args->uplink.bundle = value;
		return CLI_CONTINUE;
	}
	return CLI_CONTINUE;
}

/* Loads and compiles the rule files and prints the per-rule report. */
static int load_rules(const struct run_args *args, struct rules_set **ret_set)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };
	struct wd_buf report;
	int rc = CLI_EXIT_FAILURE;

	wd_buf_init(&report, 1024, 16u * 1024u * 1024u);
	if (rules_set_new(&set) < 0) {
		fprintf(stderr, "warden sensor: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < args->rules.count; i++) {
		if (rules_load_file(set, args->rules.items[i], &err) < 0) {
			fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
			goto out;
		}
	}
	if (rules_compile(set, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		goto out;
	}
	if (rules_report(set, &report) < 0) {
		fprintf(stderr, "warden sensor: out of memory\n");
		goto out;
	}
	/* An empty report (no rule file, only --deny-exec) has no buffer. */
	if (report.len)
		fwrite(report.data, 1, report.len, stderr);
	*ret_set = set;
	set = NULL;
	rc = CLI_CONTINUE;
out:
	wd_buf_free(&report);
	rules_set_free(set);
	return rc;
}

static bool write_alert(const struct rules_rule *rule, void *ctx)
{
	struct run_state *st = ctx;
	json_t *alert = event_alert_json(rule, st->fields, st->hostname);
	char *text = alert ? json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(alert);
	if (!text) {
		st->failed = true;
		return false;
	}
	fprintf(st->out, "%s\n", text);
	fflush(st->out);
	/* Responses run after the alert is out, so its record precedes theirs. */
	sensor_output_alert(&st->outputs, rule, text, st->fields->event);
	free(text);
	st->alerts++;
	return true;
}

/* The alert of an exec the kernel killed for --deny-exec, in the same
 * format as a rule's. */
static const struct rules_rule deny_exec_rule = {
	.name = (char *)"Denied exec",
	.desc = (char *)"an executable on the --deny-exec list was run and killed",
	.output = (char *)"Exec of a denied executable killed (exe=%proc.exepath "
		"cmdline=%proc.cmdline pid=%proc.pid user=%user.name)",
	.source = (char *)"syscall",
	.priority = RULES_CRITICAL,
	.enabled = true,
	.status = RULES_LOADED,
};

static int on_event(const struct sensor_event *event, void *ctx)
{
	struct run_state *st = ctx;
	struct event_fields fields;
	const char *falco_type = event_falco_name(event);
	bool killed = event->header.type == SENSOR_EVENT_EXEC &&
		(event->exec.flags & SENSOR_EXEC_KILLED);

	st->events++;
	/* The sensor's own /proc reads would otherwise feed back into the rules. */
	if (event->header.pid == st->self_pid)
		return 0;
	if (proc_table_apply(&st->procs, event) < 0) {
		st->failed = true;
		return 1;
	}
	if (!falco_type || (!killed && !(st->match_mask & SENSOR_TYPE_BIT(event->header.type))))
		return 0;
	event_fields_init(&fields, event, &st->procs, st->realtime_offset_ns);
	st->fields = &fields;
	if (killed)
		write_alert(&deny_exec_rule, st);
	if (st->match_mask & SENSOR_TYPE_BIT(event->header.type))
		rules_match(st->set, falco_type, event_fields_get, &fields, write_alert, st);
	st->fields = NULL;
	event_fields_clear(&fields);
	return st->failed;
}

static int64_t realtime_offset(void)
{
	struct timespec real, mono;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
}

/* Prints the alert, event and drop counts, so that a run shows whether it lost
 * events. */
static void print_totals(const struct run_state *st, struct sensor *sensor)
{
	uint64_t drops[SENSOR_DROP_REASON_COUNT];
	struct wd_error err = { 0 };

	fprintf(stderr, "warden sensor: %llu alerts\n", st->alerts);
	if (sensor_drops(sensor, drops, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return;
	}
	fprintf(stderr, "warden sensor: %llu events, dropped ringbuf_full=%" PRIu64
		" filtered=%" PRIu64 " path_filtered=%" PRIu64 " malformed=%" PRIu64 "\n",
		st->events, drops[SENSOR_DROP_RINGBUF_FULL], drops[SENSOR_DROP_FILTERED],
		drops[SENSOR_DROP_PATH_FILTERED],
		sensor_malformed(sensor));
}

/* Sets the kernel filter that drops the opens no loaded rule can match,
 * and prints whether it is on. */
static int filter_open_paths(const struct rules_set *set, struct sensor *sensor)
{
	struct rules_open_paths paths;
	struct wd_error err = { 0 };
	int rc = 0;

	if (rules_open_paths(set, &paths, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return -1;
	}
	if (!paths.matches_opens)
		goto out;
	if (paths.any_rule) {
		fprintf(stderr, "warden sensor: open path filter off: rule '%s' can match an open "
			"of any path\n", paths.any_rule->name);
		goto out;
	}
	/* Without the filter every open reaches the rules, which costs time but
	 * misses nothing, so a filter that cannot be set is no reason to stop. */
	if (sensor_filter_open_paths(sensor, (const char *const *)paths.prefixes, paths.count,
		    (const char *const *)paths.suffixes, paths.suffix_count, &err) < 0)
		fprintf(stderr, "warden sensor: open path filter off: %s\n", wd_error_text(&err));
	else
		fprintf(stderr, "warden sensor: open path filter: %zu prefixes, %zu suffixes\n",
			paths.count, paths.suffix_count);
out:
	rules_open_paths_free(&paths);
	return rc;
}

static int run_loop(struct run_state *st, unsigned attach_mask,
	const struct cli_strings *deny_exec)
{
	struct sigaction action = { .sa_handler = request_stop };
	struct sensor *sensor = NULL;
	struct wd_error err = { 0 };
	int rc = CLI_EXIT_OK;

	if (proc_table_seed(&st->procs, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	if (sensor_open(attach_mask, &sensor, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < deny_exec->count; i++) {
		if (sensor_deny_exec_add(sensor, deny_exec->items[i], &err) < 0) {
			fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
			sensor_close(sensor);
			return CLI_EXIT_FAILURE;
		}
	}
	/* The response file's paths, named by file and line when one is bad. */
	for (size_t i = 0; i < st->outputs.config.deny_exec_count; i++) {
		const struct response_deny_exec *denied = &st->outputs.config.deny_exec[i];

		if (sensor_deny_exec_add(sensor, denied->path, &err) < 0) {
			fprintf(stderr, "warden sensor: %s:%zu: %s\n", st->outputs.config.file,
				denied->line, wd_error_text(&err));
			sensor_close(sensor);
			return CLI_EXIT_FAILURE;
		}
	}
	if (st->set && filter_open_paths(st->set, sensor) < 0) {
		sensor_close(sensor);
		return CLI_EXIT_FAILURE;
	}
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	fprintf(stderr, "warden sensor: attached\n");
	while (!stop_requested) {
		int polled = sensor_poll(sensor, SENSOR_POLL_MS, on_event, st, &err);

		if (polled < 0) {
			fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (st->failed) {
			fprintf(stderr, "warden sensor: out of memory handling an event\n");
			rc = CLI_EXIT_FAILURE;
			break;
		}
	}
	print_totals(st, sensor);
	sensor_close(sensor);
	return rc;
}

int cmd_sensor_run(int argc, char **argv)
{
	struct run_args args = { .types = SENSOR_TYPES_ALL };
	struct run_state st = { .out = stdout };
	struct cli_common common;
	char **operands;
	size_t count;
	unsigned needed;
	int rc;

	rc = cli_parse(&run_spec, argc, argv, run_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		goto out;
	rc = CLI_EXIT_USAGE;
	if (!args.rules.count && !args.deny_exec.count) {
		rc = cli_usage_error(&run_spec, "missing --rules FILE or --deny-exec PATH");
		goto out;
	}
	rc = load_rules(&args, &st.set);
	if (rc != CLI_CONTINUE)
		goto out;
	rc = CLI_EXIT_FAILURE;
	needed = event_rules_types(st.set);
	st.match_mask = needed & args.types;
	if (!st.match_mask && !args.deny_exec.count) {
		fprintf(stderr, "warden sensor: no loaded rule reads an event the sensor reports\n");
		goto out;
	}
	if (gethostname(st.hostname, sizeof(st.hostname) - 1) < 0)
		snprintf(st.hostname, sizeof(st.hostname), "localhost");
	if (args.output) {
		st.out = fopen(args.output, "ae");
		if (!st.out) {
			fprintf(stderr, "warden sensor: cannot open '%s': %s\n", args.output,
				strerror(errno));
			goto out;
		}
	}
	rc = sensor_uplink_open(&st.uplink, &args.uplink, &args.outputs);
	if (rc != CLI_CONTINUE)
		goto out;
	rc = sensor_output_open(&st.outputs, &args.outputs, st.set, st.out, st.hostname);
	if (rc != CLI_CONTINUE)
		goto out;
	rc = CLI_EXIT_FAILURE;
	if (proc_table_init(&st.procs, "/proc") < 0) {
		fprintf(stderr, "warden sensor: out of memory\n");
		goto out;
	}
	st.self_pid = (uint32_t)getpid();
	st.realtime_offset_ns = realtime_offset();
	rc = run_loop(&st, st.match_mask | TABLE_TYPES, &args.deny_exec);
out:
	/* First: the notify worker may still write audit records to st.out. */
	sensor_output_close(&st.outputs);
	/* After the outputs, whose notify worker may still forward records. */
	sensor_uplink_close(&st.uplink);
	if (st.out && st.out != stdout)
		fclose(st.out);
	proc_table_free(&st.procs);
	rules_set_free(st.set);
	cli_strings_free(&args.rules);
	cli_strings_free(&args.deny_exec);
	return rc;
}
