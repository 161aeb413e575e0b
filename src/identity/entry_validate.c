/* Validation of the mutable fields of a registration entry: SPIFFE IDs in
 * the server's trust domain, selectors, SVID TTLs and DNS names. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

int registry_spiffe_id_canonical(const struct registry *registry, const char *field,
	const char *text, bool need_path, char **ret_id, struct wd_error *err)
{
	struct spiffe_id id;
	char canonical[SPIFFE_ID_MAX_LEN + 1];
	struct wd_error detail = { 0 };
	size_t len;

	*ret_id = NULL;
	if (!text)
		return wd_error_set(err, WD_EINVAL, "missing \"%s\"", field);

	len = strnlen(text, SPIFFE_ID_MAX_LEN + 1);
	if (spiffe_id_parse(text, len, &id, &detail) < 0 || text[len] != '\0')
		return wd_error_set(err, WD_EINVAL, "invalid \"%s\": %s", field,
			detail.detail[0] ? detail.detail : "longer than 2048 bytes");

	if (!spiffe_id_member_of(&id, registry->trust_domain))
		return wd_error_set(err, WD_EINVAL,
			"invalid \"%s\" \"%.300s\": not in trust domain \"%s\"", field, text,
			registry->trust_domain);
	if (need_path && id.path[0] == '\0')
		return wd_error_set(err, WD_EINVAL,
			"invalid \"%s\" \"%.300s\": a path is required", field, text);

	if (spiffe_id_format(&id, canonical, sizeof(canonical)) < 0)
		return wd_error_set(err, WD_EINVAL, "invalid \"%s\" \"%.300s\": too long", field,
			text);
	*ret_id = wd_strdup(canonical);
	if (!*ret_id)
		return wd_error_set(err, WD_ENOMEM, "registry: out of memory");
	return 0;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-';
}

/* Returns why name is not a host name as RFC 1035 section 2.3.1 defines it
 * (relaxed by RFC 1123 section 2.1 so labels may start with a digit), with
 * an optional leading "*." wildcard label; NULL when it is valid. */
static const char *dns_name_problem(const char *name)
{
	size_t len = strnlen(name, REGISTRY_DNS_NAME_MAX_LEN + 1);
	const char *label = name;

	if (len == 0)
		return "empty";
	if (len > REGISTRY_DNS_NAME_MAX_LEN)
		return "longer than 253 bytes";
	if (strncmp(name, "*.", 2) == 0)
		label = name + 2;

	for (;;) {
		size_t label_len = strcspn(label, ".");

		if (label_len == 0)
			return "empty label";
		if (label_len > 63)
			return "label longer than 63 bytes";
		for (size_t i = 0; i < label_len; i++) {
			if (label[i] == '*')
				return "a wildcard is allowed only as the whole first label";
			if (!is_label_char(label[i]))
				return "labels may hold only letters, digits and '-'";
		}
		if (label[0] == '-' || label[label_len - 1] == '-')
			return "a label must not start or end with '-'";
		if (label[label_len] == '\0')
			return NULL;
		label += label_len + 1;
	}
}

_Static_assert(REGISTRY_DNS_NAME_MAX_LEN == 253, "update the limit quoted in dns_name_problem");

int registry_dns_name_validate(const char *name, struct wd_error *err)
{
	const char *problem;

	if (!name)
		return wd_error_set(err, WD_EINVAL, "missing DNS name");
	problem = dns_name_problem(name);
	if (problem)
		return wd_error_set(err, WD_EINVAL, "invalid DNS name \"%.253s\" in \"dns_names\": %s",
			name, problem);
	return 0;
}

int registry_dns_names_normalize(const char *const *names, size_t count,
	struct registry_strings *ret_names, struct wd_error *err)
{
	struct registry_strings lower = { 0 };
	int rc = 0;

	*ret_names = (struct registry_strings){ 0 };
	if (count > REGISTRY_MAX_DNS_NAMES)
		return wd_error_set(err, WD_EINVAL,
			"invalid \"dns_names\": %zu names, more than the maximum %d", count,
			REGISTRY_MAX_DNS_NAMES);
	for (size_t i = 0; i < count; i++)
		WD_TRY(registry_dns_name_validate(names[i], err));
	if (count == 0)
		return 0;

	/* DNS names compare without regard to case (RFC 4343), so they are stored
	 * in lowercase and a repeat in another case is a duplicate. */
	lower.items = wd_calloc(count, sizeof(*lower.items));
	WD_ENSURE(lower.items, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		char *copy = wd_strdup(names[i]);

		WD_ENSURE(copy, WD_ENOMEM);
		for (char *p = copy; *p; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
		lower.items[lower.count++] = copy;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(lower.items[j], copy) == 0) {
				rc = wd_error_set(err, WD_EINVAL,
					"duplicate DNS name \"%.253s\" in \"dns_names\"", names[i]);
				goto out;
			}
		}
	}

	*ret_names = lower;
	lower = (struct registry_strings){ 0 };
out:
	registry_strings_clear(&lower);
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	return rc;
}

static int ttl_check(const char *field, int64_t ttl, int64_t max, struct wd_error *err)
{
	if (ttl < 0 || ttl > max)
		return wd_error_set(err, WD_EINVAL,
			"invalid \"%s\" %lld: must be 0 (server default) to %lld seconds", field,
			(long long)ttl, (long long)max);
	return 0;
}

static bool is_sha256_hex(const char *text)
{
	if (strlen(text) != REGISTRY_SHA256_HEX_LEN)
		return false;
	for (size_t i = 0; i < REGISTRY_SHA256_HEX_LEN; i++) {
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	}
	return true;
}

/* An entry that requires signed binaries names them by digest, so it needs
 * at least one unix:sha256 selector, and each must be a digest the agent
 * can emit and the server can look signatures up by. entry_id is "" before
 * create assigns one, so errors name the entry by its SPIFFE ID as well. */
static int check_require_signed(const char *entry_id, const char *spiffe_id,
	const struct registry_strings *selectors, struct wd_error *err)
{
	char name[REGISTRY_ENTRY_ID_LEN + 310];
	size_t digests = 0;

	if (entry_id[0])
		snprintf(name, sizeof(name), "%s (%.300s)", entry_id, spiffe_id);
	else
		snprintf(name, sizeof(name), "%.300s", spiffe_id);

	for (size_t i = 0; i < selectors->count; i++) {
		const char *hex = registry_selector_sha256(selectors->items[i]);

		if (!hex)
			continue;
		if (!is_sha256_hex(hex))
			return wd_error_set(err, WD_EINVAL,
				"entry %s requires signed binaries, but its selector \"%.200s\" is "
				"not unix:sha256: and 64 lowercase hex digits", name,
				selectors->items[i]);
		digests++;
	}
	if (digests == 0)
		return wd_error_set(err, WD_EINVAL,
			"entry %s requires signed binaries, but has no unix:sha256 selector that "
			"names one", name);
	return 0;
}

/* Replaces entry's strings with the list's, taking its items. */
static void take_strings(char ***items, size_t *count, struct registry_strings *strings)
{
	for (size_t i = 0; i < *count; i++)
		free((*items)[i]);
	free(*items);
	*items = strings->items;
	*count = strings->count;
	*strings = (struct registry_strings){ 0 };
}

int registry_entry_apply(const struct registry *registry,
	const struct registry_entry_input *input, struct registry_entry *entry,
	struct wd_error *err)
{
	char *spiffe_id = NULL;
	char *parent_id = NULL;
	struct registry_strings selectors = { 0 };
	struct registry_strings dns_names = { 0 };
	int rc = 0;

	if (input->fields & ~(unsigned)REGISTRY_FIELD_ALL)
		return wd_error_set(err, WD_EINVAL, "unknown entry field bits 0x%x",
			input->fields & ~(unsigned)REGISTRY_FIELD_ALL);

	/* Everything is validated before entry changes, so a failure leaves
	 * entry as it was. */
	if (input->fields & REGISTRY_FIELD_SPIFFE_ID) {
		WD_GUARD(registry_spiffe_id_canonical(registry, "spiffe_id", input->spiffe_id,
			true, &spiffe_id, err));
		/* The canonical form is "spiffe://" + trust domain + path. */
		const char *path = spiffe_id + strlen("spiffe://") + strlen(registry->trust_domain);

		if (registry_path_reserved(path)) {
			rc = wd_error_set(err, WD_EINVAL,
				"invalid \"spiffe_id\" \"%.300s\": paths under %s are reserved for warden's own identities",
				spiffe_id, REGISTRY_RESERVED_PATH);
			goto out;
		}
	}
	if (input->fields & REGISTRY_FIELD_PARENT_ID)
		WD_GUARD(registry_spiffe_id_canonical(registry, "parent_id", input->parent_id,
			true, &parent_id, err));
	if (input->fields & REGISTRY_FIELD_SELECTORS) {
		WD_ENSURE(input->selectors || input->selector_count == 0, WD_EINTERNAL);
		WD_GUARD(registry_selectors_normalize(input->selectors, input->selector_count,
			&selectors, err));
	}
	if (input->fields & REGISTRY_FIELD_X509_SVID_TTL)
		WD_GUARD(ttl_check("x509_svid_ttl", input->x509_svid_ttl,
			registry->max_x509_svid_ttl, err));
	if (input->fields & REGISTRY_FIELD_JWT_SVID_TTL)
		WD_GUARD(ttl_check("jwt_svid_ttl", input->jwt_svid_ttl,
			registry->max_jwt_svid_ttl, err));
	if (input->fields & REGISTRY_FIELD_DNS_NAMES) {
		WD_ENSURE(input->dns_names || input->dns_name_count == 0, WD_EINTERNAL);
		WD_GUARD(registry_dns_names_normalize(input->dns_names, input->dns_name_count,
			&dns_names, err));
	}
	/* The flag and the selectors may change in one update or apart, so the
	 * check runs on the entry as it will be. */
	if (input->fields & REGISTRY_FIELD_REQUIRE_SIGNED ? input->require_signed :
	    entry->require_signed) {
		struct registry_strings current = {
			.items = entry->selectors,
			.count = entry->selector_count,
		};

		WD_GUARD(check_require_signed(entry->id,
			spiffe_id ? spiffe_id : (entry->spiffe_id ? entry->spiffe_id : ""),
			input->fields & REGISTRY_FIELD_SELECTORS ? &selectors : &current, err));
	}

	if (input->fields & REGISTRY_FIELD_SPIFFE_ID) {
		free(entry->spiffe_id);
		entry->spiffe_id = WD_TAKE_PTR(spiffe_id);
	}
	if (input->fields & REGISTRY_FIELD_PARENT_ID) {
		free(entry->parent_id);
		entry->parent_id = WD_TAKE_PTR(parent_id);
	}
	if (input->fields & REGISTRY_FIELD_SELECTORS)
		take_strings(&entry->selectors, &entry->selector_count, &selectors);
	if (input->fields & REGISTRY_FIELD_X509_SVID_TTL)
		entry->x509_svid_ttl = input->x509_svid_ttl;
	if (input->fields & REGISTRY_FIELD_JWT_SVID_TTL)
		entry->jwt_svid_ttl = input->jwt_svid_ttl;
	if (input->fields & REGISTRY_FIELD_DNS_NAMES)
		take_strings(&entry->dns_names, &entry->dns_name_count, &dns_names);
	if (input->fields & REGISTRY_FIELD_ADMIN)
		entry->admin = input->admin;
	if (input->fields & REGISTRY_FIELD_REQUIRE_SIGNED)
		entry->require_signed = input->require_signed;
out:
	if (rc == WD_EINTERNAL)
		wd_error_set(err, rc, "registry: a list field is set with a NULL array");
	free(spiffe_id);
	free(parent_id);
	registry_strings_clear(&selectors);
	registry_strings_clear(&dns_names);
	return rc;
}

bool registry_path_reserved(const char *path)
{
	size_t len = strlen(REGISTRY_RESERVED_PATH);

	return strncmp(path, REGISTRY_RESERVED_PATH, len) == 0 &&
		(path[len] == '\0' || path[len] == '/');
}
