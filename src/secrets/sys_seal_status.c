/* The seal-status shape of sys/seal-status and sys/unseal, and the
 * cluster identity and build facts it shares with sys/health. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/random.h"
#include "secrets/barrier.h"
#include "secrets/sys_seal_private.h"

const char *sys_seal_version(void)
{
	return "warden-" WARDEN_VERSION;
}

/* Writes the compile time in the RFC 3339 form of Vault's build_date.
 * NOTE: __DATE__ and __TIME__ are the build machine's local time unless
 * SOURCE_DATE_EPOCH is set (then UTC), yet the text always ends in 'Z'. */
static void build_date(char out[static 32])
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *date = __DATE__; /* "Dec  5 2026": the day is padded with a space */
	char month_name[4] = { date[0], date[1], date[2], '\0' };
	const char *found = strstr(months, month_name);
	int month = found ? (int)(found - months) / 3 + 1 : 1;
	int day = (date[4] == ' ' ? 0 : date[4] - '0') * 10 + (date[5] - '0');

	snprintf(out, 32, "%.4s-%02d-%02dT%.8sZ", date + 7, month, day, __TIME__);
}

static int cluster_create(struct secrets *secrets, struct sys_cluster *cluster,
	struct wd_error *err)
{
	uint8_t suffix[4];
	json_t *value;
	int rc;

	WD_TRY(wd_random_bytes(suffix, sizeof(suffix)));
	WD_TRY(wd_random_uuid(cluster->id));
	snprintf(cluster->name, sizeof(cluster->name), "vault-cluster-%02x%02x%02x%02x", suffix[0],
		suffix[1], suffix[2], suffix[3]);
	value = json_pack("{s:s, s:s}", "name", cluster->name, "id", cluster->id);
	if (!value)
		return wd_error_set(err, WD_ENOMEM, "encoding the cluster identity failed");
	rc = barrier_put_json(secrets->barrier, SYS_CLUSTER_PATH, value, err);
	json_decref(value);
	return rc;
}

int sys_cluster_identity(struct secrets *secrets, struct sys_cluster *ret_cluster,
	struct wd_error *err)
{
	json_t *value = NULL;
	const char *name;
	const char *id;
	int rc;

	memset(ret_cluster, 0, sizeof(*ret_cluster));
	rc = barrier_get_json(secrets->barrier, SYS_CLUSTER_PATH, &value, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return cluster_create(secrets, ret_cluster, err);
	}
	WD_TRY(rc);

	name = json_string_value(json_object_get(value, "name"));
	id = json_string_value(json_object_get(value, "id"));
	if (!name || !id || strlen(name) >= sizeof(ret_cluster->name) ||
		strlen(id) >= sizeof(ret_cluster->id)) {
		json_decref(value);
		return wd_error_set(err, WD_ECORRUPT, "%s is not a valid cluster identity",
			SYS_CLUSTER_PATH);
	}
	memcpy(ret_cluster->name, name, strlen(name) + 1);
	memcpy(ret_cluster->id, id, strlen(id) + 1);
	json_decref(value);
	return 0;
}

int sys_seal_status_json(struct secrets *secrets, json_t **ret_status, struct wd_error *err)
{
	struct barrier_status status;
	struct sys_cluster cluster;
	char date[32];
	json_t *object;

	*ret_status = NULL;
	barrier_status(secrets->barrier, &status);
	build_date(date);
	object = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:s, s:s, s:b, s:b, s:s}",
		"type", "shamir",
		"initialized", status.initialized,
		"sealed", status.sealed,
		"t", (json_int_t)status.threshold,
		"n", (json_int_t)status.shares,
		"progress", (json_int_t)status.progress,
		"nonce", status.nonce,
		"version", sys_seal_version(),
		"build_date", date,
		"migration", 0,
		"recovery_seal", 0,
		"storage_type", store_backend(secrets->store));
	if (!object)
		return wd_error_set(err, WD_ENOMEM, "encoding the seal status failed");

	/* Vault names the cluster only once unsealed. A failure to read it
	 * leaves the fields out rather than failing the status call. */
	if (!status.sealed) {
		struct wd_error cluster_err;

		if (sys_cluster_identity(secrets, &cluster, &cluster_err) == 0) {
			json_object_set_new(object, "cluster_name", json_string(cluster.name));
			json_object_set_new(object, "cluster_id", json_string(cluster.id));
		} else {
			log_warn("secrets", "cluster identity unavailable", "error",
				wd_error_text(&cluster_err));
		}
	}
	*ret_status = object;
	return 0;
}
