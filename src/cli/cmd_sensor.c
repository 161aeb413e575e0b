/* `warden sensor events`: prints the events of the eBPF sensor, a debugging
 * aid for the kernel side; `warden sensor run` (cmd_sensor_run.c) matches
 * them against rules. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sensor/sensor.h"


enum sensor_option {
	OPT_TYPES = 1,
	OPT_COUNT,
	OPT_JSON,
};

struct events_args {
	unsigned types;
	unsigned long long count;  /* 0: until a signal */
	bool json;
};

struct events_state {
	const struct events_args *args;
	unsigned long long printed;
	bool failed;
};

static volatile sig_atomic_t stop_requested;

static void request_stop(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static const struct cli_option events_options[] = {
	{ "types", "LIST", OPT_TYPES,
		"comma-separated event types to report: exec, fork, exit, open,\n"
		"connect, accept, listen, ptrace, setid, unlink, rename, mount, module,\n"
		"bpf, memfd, link, socket, or all (default: all); the rest is dropped\n"
		"in the kernel" },
	{ "count", "N", OPT_COUNT, "exit after N events (default: run until SIGINT or SIGTERM)" },
	{ "json", NULL, OPT_JSON, "print one JSON object a line instead of key=value text" },
};

static const struct cli_spec events_spec = {
	.name = "sensor events",
	.synopsis = "[--types LIST] [--count N] [--json]",
	.description = "Loads the sensor's eBPF programs and prints the events they report.\n"
		"Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN). On exit, prints the\n"
		"kernel's drop counters on stderr.\n",
	.options = events_options,
	.option_count = WD_ARRAY_LEN(events_options),
	.common = 0,
	.min_operands = 0,
	.max_operands = 0,
};

static int events_option(void *ctx, int id, const char *value)
{
	struct events_args *args = ctx;
	struct wd_error err = { 0 };
	char *end = NULL;

	switch ((enum sensor_option)id) {
	case OPT_TYPES:
		if (sensor_types_parse(value, &args->types, &err) < 0)
			return cli_usage_error(&events_spec, "invalid --types '%s': %s", value,
				wd_error_text(&err));
		return CLI_CONTINUE;
	case OPT_COUNT:
		errno = 0;
		args->count = strtoull(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || args->count == 0)
			return cli_usage_error(&events_spec,
				"invalid --count '%s': expected a positive integer", value);
		return CLI_CONTINUE;
	case OPT_JSON:
		args->json = true;
		return CLI_CONTINUE;
	}
	return CLI_CONTINUE;
}

/* The header's fields, then the payload's as the JSON form names them, so
 * every event type prints without a case of its own here. */
static int print_text(const struct sensor_event *event)
{
	const struct sensor_event_header *h = &event->header;
	json_t *object = sensor_event_to_json(event);
	bool payload = false;
	const char *key;
	json_t *value;

	if (!object)
		return -1;
	printf("%s pid=%" PRIu32 " tid=%" PRIu32 " ppid=%" PRIu32 " uid=%" PRIu32
		" gid=%" PRIu32 " cgroup=%" PRIu64 " comm=%s", sensor_event_type_name(h->type),
		h->pid, h->tid, h->ppid, h->uid, h->gid, (uint64_t)h->cgroup_id, h->comm);
	json_object_foreach(object, key, value) {
		char *text;

		/* The payload's keys follow the header's, which end with comm. */
		if (!payload) {
			payload = !strcmp(key, "comm");
			continue;
		}
		if (json_is_string(value)) {
			printf(" %s=%s", key, json_string_value(value));
			continue;
		}
		text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
		printf(" %s=%s", key, text ? text : "?");
		free(text);
	}
	putchar('\n');
	json_decref(object);
	return 0;
}

static int print_json(const struct sensor_event *event)
{
	json_t *object = sensor_event_to_json(event);
	char *text;

	if (!object)
		return -1;
	text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(object);
	if (!text)
		return -1;
	puts(text);
	free(text);
	return 0;
}

static int print_event(const struct sensor_event *event, void *ctx)
{
	struct events_state *state = ctx;
	int rc = state->args->json ? print_json(event) : print_text(event);

	if (rc < 0) {
		state->failed = true;
		return 1;
	}
	state->printed++;
	return state->args->count && state->printed >= state->args->count;
}

static void print_drops(struct sensor *sensor)
{
	uint64_t drops[SENSOR_DROP_REASON_COUNT];
	struct wd_error err = { 0 };

	if (sensor_drops(sensor, drops, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return;
	}
	fprintf(stderr, "warden sensor: dropped ringbuf_full=%" PRIu64 " filtered=%" PRIu64
		" malformed=%" PRIu64 "\n", drops[SENSOR_DROP_RINGBUF_FULL],
		drops[SENSOR_DROP_FILTERED], sensor_malformed(sensor));
}

static int sensor_events(int argc, char **argv)
{
	struct events_args args = { .types = SENSOR_TYPES_ALL };
	struct events_state state = { .args = &args };
	struct sigaction action = { .sa_handler = request_stop };
	struct cli_common common;
	struct sensor *sensor = NULL;
	struct wd_error err = { 0 };
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&events_spec, argc, argv, events_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	if (sensor_open(args.types, &sensor, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	/* Line buffering, so a reader of a pipe gets each event as it happens. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "warden sensor: attached\n");

	rc = CLI_EXIT_OK;
	while (!stop_requested) {
		int polled = sensor_poll(sensor, SENSOR_POLL_MS, print_event, &state, &err);

		if (polled < 0) {
			fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (state.failed) {
			fprintf(stderr, "warden sensor: out of memory formatting an event\n");
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (polled == 1)
			break;
	}
	print_drops(sensor);
	sensor_close(sensor);
	return rc;
}

static const struct cli_command sensor_commands[] = {
	{ "events", "print the kernel events the sensor sees", sensor_events },
	{ "run", "match the events against Falco rules and print alerts", cmd_sensor_run },
	{ "revoke", "ask the server to revoke the identities of a process", cmd_sensor_revoke },
	{ "alert", "send alert and response lines to the server's audit chain",
	  cmd_sensor_alert },
};

int cmd_sensor(int argc, char **argv)
{
	return cli_dispatch("sensor", sensor_commands, WD_ARRAY_LEN(sensor_commands), argc, argv);
}
