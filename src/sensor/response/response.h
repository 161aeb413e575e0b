/* The sensor's responses to alerts: the action names, the response file
 * (`--responses FILE`), and the plan that gives each loaded rule its
 * actions from its `warden:` section, its name and its tags. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/rules/rules.h"

/* The actions, in the order a response runs them: freezing first keeps the
 * process and its cgroup for inspection, revoking reads the selectors of
 * the process while it still exists, and killing still works on a frozen
 * process. */
enum response_action {
	RESPONSE_QUARANTINE,
	RESPONSE_REVOKE,
	RESPONSE_KILL,
	RESPONSE_NOTIFY,
	RESPONSE_ACTION_COUNT,
};

/* Bit of action in a mask of actions. */
#define RESPONSE_BIT(action) (1u << (action))

/* Ceilings on what a response file can make the parser allocate. */
#define RESPONSE_MAX_FILE_BYTES (1u << 20)
#define RESPONSE_MAX_ENTRIES 10000
#define RESPONSE_MAX_URL 2048

/* Parses an action name ("kill", "quarantine", "revoke", "notify").
 * WD_EINVAL for another name. */
WD_MUST_CHECK int response_action_parse(const char *name, enum response_action *ret);

/* Returns the action's name. */
const char *response_action_name(enum response_action action);

/* One item of `responses:`: exactly one of rule and tag is set. */
struct response_entry {
	char *rule;
	char *tag;
	unsigned actions;        /* RESPONSE_BIT()s */
	size_t line;
};

/* One path of `deny_exec:`: an executable the kernel kills at exec. */
struct response_deny_exec {
	char *path;              /* absolute */
	size_t line;
};

/* `notify:` of a response file. */
struct response_notify_config {
	char *url;               /* http:// or https://, or NULL */
	char *ca_file;           /* PEM trust anchors for https; NULL: the system's */
	unsigned timeout_ms;     /* per connect, send and receive */
	size_t queue_max;        /* alerts waiting to be sent at most */
	size_t line;
};

#define RESPONSE_NOTIFY_DEFAULT_TIMEOUT_MS 5000u
#define RESPONSE_NOTIFY_DEFAULT_QUEUE 256u
#define RESPONSE_NOTIFY_MAX_QUEUE 65536u
#define RESPONSE_NOTIFY_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* A parsed response file. A zeroed struct is an empty configuration. */
struct response_config {
	char *file;              /* the name used in messages */
	struct response_entry *entries;
	size_t count;
	struct response_notify_config notify;
	struct response_deny_exec *deny_exec;
	size_t deny_exec_count;
};

/* Parses a response file's text into *ret (which the caller clears with
 * response_config_clear, also after a failure). name is used in messages.
 * WD_EINVAL with err "name:line: reason" naming the bad value, WD_ETOOBIG
 * past a ceiling, WD_ENOMEM. */
WD_MUST_CHECK int response_config_parse(const char *name, const char *data, size_t len,
	struct response_config *ret, struct wd_error *err);

/* Reads and parses a response file. WD_EIO or WD_ENOTFOUND when it cannot
 * be read, else the errors of response_config_parse. */
WD_MUST_CHECK int response_config_load(const char *path, struct response_config *ret,
	struct wd_error *err);

/* Frees what the configuration owns and zeroes it; accepts a zeroed one. */
void response_config_clear(struct response_config *config);

/* The actions of each loaded rule. */
struct response_plan;

/* Builds the plan of set (loaded, not necessarily compiled) and config
 * (NULL: no response file). A rule's actions are the union of its
 * `warden: {actions: [...]}` sections, the response file's items naming
 * the rule, and the items naming one of its tags. WD_EINVAL with err
 * "file:line: reason" for a malformed `warden:` section, an item naming a
 * rule no loaded file defines, or notify without notify.url. */
WD_MUST_CHECK int response_plan_build(const struct rules_set *set,
	const struct response_config *config, struct response_plan **ret_plan,
	struct wd_error *err);

/* Returns the RESPONSE_BIT()s of rule, 0 when it has none. */
unsigned response_plan_actions(const struct response_plan *plan, const struct rules_rule *rule);

/* Returns the union of every rule's actions. */
unsigned response_plan_all(const struct response_plan *plan);

/* Frees a plan; accepts NULL. */
void response_plan_free(struct response_plan *plan);
