/* Entry point of the warden binary: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/macros.h"
#include "net/net_json.h"

int cmd_version(int argc, char **argv)
{
	/* A hidden subcommand, for debugging version order. */
	if (argc >= 2 && !strcmp(argv[1], "compare"))
		return cmd_version_compare(argc - 1, argv + 1);

	printf("warden %s\n", WARDEN_VERSION);
	return 0;
}

static const struct cli_command commands[] = {
	{ "server", "run the trust-domain authority and its APIs", cmd_server },
	{ "version", "print the version", cmd_version },
	{ "audit", "verify the audit chain", cmd_audit },
	{ "entry", "manage registration entries", cmd_entry },
	{ "token", "create join tokens for node agents", cmd_token },
	{ "agent", "run the node agent; list, evict and ban agents", cmd_agent },
	{ "svid", "mint, revoke, fetch and watch SVIDs", cmd_svid },
	{ "jwt", "mint JWT-SVIDs", cmd_jwt },
	{ "bundle", "print the trust bundle", cmd_bundle },
	{ "crl", "print the certificate revocation lists", cmd_crl },
	{ "ca", "print the CA's key slots", cmd_ca },
	{ "policy", "evaluate, test and check Rego policies", cmd_policy },
	{ "proxy", "run the mTLS sidecar proxy", cmd_proxy },
	{ "operator", "initialize, unseal and seal the secrets service", cmd_operator },
	{ "lease", "look up, renew and revoke leases of the secrets API", cmd_lease },
	{ "db", "manage dynamic PostgreSQL credentials of the secrets API", cmd_db },
	{ "kv", "read and write secrets of the KV engine", cmd_kv },
	{ "sbom", "list the packages of a directory or root filesystem", cmd_sbom },
	{ "scan", "match packages or an SBOM against OSV vulnerability records", cmd_scan },
	{ "keygen", "generate a cosign-compatible signing key pair", cmd_keygen },
	{ "sign-blob", "sign a file with a cosign key or an X.509-SVID", cmd_sign_blob },
	{ "verify-blob", "verify a signature or Sigstore bundle over a file", cmd_verify_blob },
	{ "attest", "sign an in-toto attestation about a file", cmd_attest },
	{ "verify-attestation", "verify an in-toto attestation about a file",
		cmd_verify_attestation },
	{ "signature", "register signatures that admit binaries to SVIDs", cmd_signature },
	{ "sensor", "watch kernel events through eBPF", cmd_sensor },
};

static void print_usage(FILE *out)
{
	fprintf(out, "usage: warden COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < WD_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'warden COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
	/* Before any command parses JSON, which may hold secrets. */
	net_json_wipe_on_free();

	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return 0;
	}

	for (size_t i = 0; i < WD_ARRAY_LEN(commands); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}

	fprintf(stderr, "warden: unknown command '%s'\n", argv[1]);
	print_usage(stderr);
	return 2;
}
