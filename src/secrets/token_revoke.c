/* Revoking tokens: the whole tree below a token, depth first, each token
 * after its leases; or one token whose children become orphans. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/barrier.h"
#include "secrets/expire.h"
#include "secrets/token_internal.h"

/* Marks an item without a parent on the list. */
#define NO_PARENT SIZE_MAX

struct hash_item {
	char hash[TOKEN_HASH_HEX_LEN + 1];
	size_t parent;     /* position of the parent's item, or NO_PARENT */
};

/* A stack (or list) of token hashes. */
struct hash_list {
	struct hash_item *items;
	size_t count;
	size_t capacity;
	size_t pushed;     /* pushes so far; a corrupt index cannot loop forever */
	size_t parent;     /* parent position given to the items pushed next */
};

static void hash_list_free(struct hash_list *list)
{
	free(list->items);
	*list = (struct hash_list){ 0 };
}

static int hash_list_push(struct hash_list *list, const char *hash)
{
	if (list->pushed >= TOKEN_REVOKE_MAX_TREE)
		return WD_ETOOBIG;
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 16;
		void *items = wd_reallocarray(list->items, capacity, sizeof(*list->items));

		if (!items)
			return WD_ENOMEM;
		list->items = items;
		list->capacity = capacity;
	}
	memcpy(list->items[list->count].hash, hash, TOKEN_HASH_HEX_LEN + 1);
	list->items[list->count].parent = list->parent;
	list->count++;
	list->pushed++;
	return 0;
}

/* barrier_list callback: rest is a child's hash below its parent's folder. */
static int collect_child(void *context, const char *rest)
{
	/* Anything else in the folder was not written by the token store. */
	if (!token_hash_valid(rest))
		return 0;
	return hash_list_push(context, rest);
}

static int list_children(struct secrets *secrets, const char *hash, struct hash_list *list,
	struct wd_error *err)
{
	char prefix[sizeof(TOKEN_PARENT_PREFIX) + TOKEN_HASH_HEX_LEN + 1];
	int rc;

	snprintf(prefix, sizeof(prefix), TOKEN_PARENT_PREFIX "%s/", hash);
	rc = barrier_list(secrets->barrier, prefix, true, collect_child, list, err);
	if (rc == WD_ETOOBIG)
		return wd_error_set(err, rc, "token tree has more than %d tokens; revoke again to "
			"continue", TOKEN_REVOKE_MAX_TREE);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "out of memory listing child tokens");
	return rc;
}

/* Deletes the record and the index entries of the token stored under hash.
 * A missing record still gets its parent index entry removed, so a half
 * revoked tree can be revoked again. */
static int delete_records(struct secrets *secrets, const char *hash,
	const struct vault_token *token, struct wd_error *err)
{
	char path[sizeof(TOKEN_PARENT_PREFIX) + 2 * TOKEN_HASH_HEX_LEN + 1];
	int rc;

	WD_TRY(barrier_begin(secrets->barrier, err));
	snprintf(path, sizeof(path), TOKEN_ID_PREFIX "%s", hash);
	rc = barrier_delete(secrets->barrier, path, err);
	if (rc == 0 && token) {
		snprintf(path, sizeof(path), TOKEN_ACCESSOR_PREFIX "%s", token->accessor);
		rc = barrier_delete(secrets->barrier, path, err);
	}
	if (rc == 0 && token && token->parent_hash[0]) {
		snprintf(path, sizeof(path), TOKEN_PARENT_PREFIX "%s/%s", token->parent_hash, hash);
		rc = barrier_delete(secrets->barrier, path, err);
	}
	if (rc == 0)
		rc = barrier_commit(secrets->barrier, err);
	if (rc < 0)
		barrier_rollback(secrets->barrier);
	return rc;
}

/* Revokes one token that has no children left: its leases first, so a
 * failure there leaves the token in place for a retry. */
static int revoke_one(struct secrets *secrets, const char *hash, const char *parent_hint,
	struct wd_error *err)
{
	char path[sizeof(TOKEN_PARENT_PREFIX) + 2 * TOKEN_HASH_HEX_LEN + 1];
	struct vault_token *token = NULL;
	int rc;

	rc = token_record_load(secrets, hash, &token, err);
	if (rc < 0 && rc != WD_ENOTFOUND)
		return rc;

	rc = expire_revoke_by_token(secrets, hash, err);
	if (rc == 0)
		rc = delete_records(secrets, hash, token, err);

	/* Without a record the parent is known only from the walk. */
	if (rc == 0 && !token && parent_hint) {
		snprintf(path, sizeof(path), TOKEN_PARENT_PREFIX "%s/%s", parent_hint, hash);
		rc = barrier_delete(secrets->barrier, path, err);
	}
	token_free(token);
	return rc;
}

int token_revoke(struct secrets *secrets, const struct vault_token *token, struct wd_error *err)
{
	struct hash_list stack = { .parent = NO_PARENT };
	int rc;

	WD_GUARD(token_salt_ensure(secrets, err));
	rc = hash_list_push(&stack, token->hash);
	WD_ENSURE(rc == 0, wd_error_set(err, rc, "out of memory revoking a token"));

	/* Vault's revokeTreeInternal: look at the top of the stack; push its
	 * children if it has any, else revoke it and pop. A token is revoked
	 * only after all of its descendants. */
	while (stack.count > 0) {
		size_t top = stack.count - 1;
		char hash[TOKEN_HASH_HEX_LEN + 1];
		size_t parent;

		/* Copied: pushing may move the items. */
		memcpy(hash, stack.items[top].hash, sizeof(hash));
		stack.parent = top;
		WD_GUARD(list_children(secrets, hash, &stack, err));
		if (stack.count > top + 1)
			continue;

		parent = stack.items[top].parent;
		WD_GUARD(revoke_one(secrets, hash,
			parent == NO_PARENT ? NULL : stack.items[parent].hash, err));
		stack.count--;
	}
	rc = 0;
out:
	hash_list_free(&stack);
	return rc;
}

/* Detaches a child from its revoked parent: no parent in its record, and no
 * entry in the parent's folder. */
static int orphan_child(struct secrets *secrets, const char *parent_hash,
	const char *child_hash, struct wd_error *err)
{
	char path[sizeof(TOKEN_PARENT_PREFIX) + 2 * TOKEN_HASH_HEX_LEN + 1];
	struct vault_token *child = NULL;
	int rc;

	rc = token_record_load(secrets, child_hash, &child, err);
	if (rc < 0 && rc != WD_ENOTFOUND)
		return rc;

	WD_TRY(barrier_begin(secrets->barrier, err));
	rc = 0;
	if (child) {
		child->parent_hash[0] = '\0';
		child->orphan = true;
		rc = token_record_save(secrets, child, err);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), TOKEN_PARENT_PREFIX "%s/%s", parent_hash, child_hash);
		rc = barrier_delete(secrets->barrier, path, err);
	}
	if (rc == 0)
		rc = barrier_commit(secrets->barrier, err);
	if (rc < 0)
		barrier_rollback(secrets->barrier);
	token_free(child);
	return rc;
}

int token_revoke_orphan(struct secrets *secrets, const struct vault_token *token,
	struct wd_error *err)
{
	struct hash_list children = { .parent = NO_PARENT };
	int rc;

	WD_GUARD(token_salt_ensure(secrets, err));

	/* Collected first: the folder is not changed while it is listed. */
	WD_GUARD(list_children(secrets, token->hash, &children, err));
	for (size_t i = 0; i < children.count; i++)
		WD_GUARD(orphan_child(secrets, token->hash, children.items[i].hash, err));

	WD_GUARD(revoke_one(secrets, token->hash, NULL, err));
	rc = 0;
out:
	hash_list_free(&children);
	return rc;
}
