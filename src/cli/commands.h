/* The subcommands of the warden binary: each returns the process exit code
 * (0 success, 1 failure, 2 usage error). */
#pragma once

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int cmd_version(int argc, char **argv);
/* `warden version compare`, a debugging command (cmd_version_compare.c). */
int cmd_version_compare(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_entry(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_agent_run(int argc, char **argv);
int cmd_svid(int argc, char **argv);
/* Workload API clients under `warden svid` (cmd_svid_fetch.c). */
int cmd_svid_fetch(int argc, char **argv);
int cmd_svid_fetch_jwt(int argc, char **argv);
int cmd_svid_validate_jwt(int argc, char **argv);
int cmd_svid_watch(int argc, char **argv);
int cmd_jwt(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_crl(int argc, char **argv);
int cmd_ca(int argc, char **argv);
/* Rego policy tools under `warden policy` (cmd_policy*.c). */
int cmd_policy(int argc, char **argv);
int cmd_policy_test(int argc, char **argv);
int cmd_policy_check(int argc, char **argv);

/* The KV secrets engine: get, put, list, delete, undelete, destroy and
 * metadata (cmd_kv*.c). */
int cmd_kv(int argc, char **argv);

/* The mTLS sidecar proxy (cmd_proxy.c). */
int cmd_proxy(int argc, char **argv);

/* The seal life cycle of the secrets service under `warden operator`
 * (cmd_operator*.c). */
int cmd_operator(int argc, char **argv);
int cmd_operator_unseal(int argc, char **argv);

/* Leases of the secrets API (cmd_lease.c). */
int cmd_lease(int argc, char **argv);

/* The database secrets engine client (cmd_db*.c). */
int cmd_db(int argc, char **argv);

/* The SBOM of a directory or root filesystem (cmd_sbom.c). */
int cmd_sbom(int argc, char **argv);
/* Vulnerability matching against OSV records (cmd_scan.c). */
int cmd_scan(int argc, char **argv);
/* cosign-compatible key-based blob signatures (cmd_sign*.c). */
int cmd_keygen(int argc, char **argv);
int cmd_sign_blob(int argc, char **argv);
int cmd_verify_blob(int argc, char **argv);
/* in-toto attestations in DSSE envelopes (cmd_attest.c). */
int cmd_attest(int argc, char **argv);
int cmd_verify_attestation(int argc, char **argv);
/* Signatures that admit binaries of entries with require_signed
 * (cmd_signature.c). */
int cmd_signature(int argc, char **argv);
/* The eBPF sensor's debugging reader (cmd_sensor.c). */
int cmd_sensor(int argc, char **argv);
/* The sensor's Falco rule engine, `warden sensor run` (cmd_sensor_run.c). */
int cmd_sensor_run(int argc, char **argv);
/* The server's revocation of a process's identities (cmd_sensor_revoke.c). */
int cmd_sensor_revoke(int argc, char **argv);
/* Alert forwarding to the server's audit chain (cmd_sensor_alert.c). */
int cmd_sensor_alert(int argc, char **argv);
