/* Entry path rules of image layers: normalized names, whiteout names, and
 * symlink targets that cannot lead out of the work directory. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "supply/image_internal.h"

const char *image_path_reason(enum image_path_status status)
{
	switch (status) {
	case IMAGE_PATH_OK:
		return "valid path";
	case IMAGE_PATH_ROOT:
		return "names the image root";
	case IMAGE_PATH_EMPTY:
		return "empty name";
	case IMAGE_PATH_ABSOLUTE:
		return "absolute path";
	case IMAGE_PATH_ESCAPES:
		return "path escapes the image root through \"..\"";
	case IMAGE_PATH_TOO_LONG:
		return "path too long";
	case IMAGE_PATH_COMPONENT_TOO_LONG:
		return "path component longer than 255 bytes";
	}
	return "invalid path";
}

static enum image_path_status path_fail(char *ret, enum image_path_status status)
{
	ret[0] = '\0';
	return status;
}

enum image_path_status image_path_normalize(const char *name, bool clamp, size_t max_len,
	char *ret, size_t size)
{
	const char *p = name;
	size_t len = 0;

	if (size == 0)
		return IMAGE_PATH_TOO_LONG;
	ret[0] = '\0';
	if (!name || !name[0])
		return IMAGE_PATH_EMPTY;
	if (name[0] == '/' && !clamp)
		return IMAGE_PATH_ABSOLUTE;
	if (max_len >= size)
		max_len = size - 1;

	while (*p) {
		const char *start;
		size_t n;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - start);
		if (n == 0 || (n == 1 && start[0] == '.'))
			continue;

		if (n == 2 && start[0] == '.' && start[1] == '.') {
			if (len == 0) {
				if (!clamp)
					return path_fail(ret, IMAGE_PATH_ESCAPES);
				continue;
			}
			while (len > 0 && ret[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			ret[len] = '\0';
			continue;
		}

		if (n > IMAGE_MAX_COMPONENT)
			return path_fail(ret, IMAGE_PATH_COMPONENT_TOO_LONG);
		/* NOTE: an intermediate result counts, so a name that grows past
		 * max_len before a ".." shortens it is rejected too. */
		if (len + (len > 0) + n > max_len)
			return path_fail(ret, IMAGE_PATH_TOO_LONG);
		if (len > 0)
			ret[len++] = '/';
		memcpy(ret + len, start, n);
		len += n;
		ret[len] = '\0';
	}
	return len == 0 ? IMAGE_PATH_ROOT : IMAGE_PATH_OK;
}

enum image_whiteout image_whiteout_classify(const char *base, const char **ret_target)
{
	const char *target;

	*ret_target = NULL;
	if (strncmp(base, ".wh.", 4) != 0)
		return IMAGE_WHITEOUT_NONE;
	if (strcmp(base, ".wh..wh..opq") == 0)
		return IMAGE_WHITEOUT_OPAQUE;
	if (strncmp(base, ".wh..wh.", 8) == 0)
		return IMAGE_WHITEOUT_META;

	target = base + 4;
	if (!target[0] || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
		return IMAGE_WHITEOUT_INVALID;
	*ret_target = target;
	return IMAGE_WHITEOUT_FILE;
}

/* The length of the first component of path and, through ret_next, where
 * the rest starts (after the slash). */
static size_t component(const char *path, const char **ret_next)
{
	const char *slash = strchr(path, '/');

	if (!slash) {
		*ret_next = path + strlen(path);
		return strlen(path);
	}
	*ret_next = slash + 1;
	return (size_t)(slash - path);
}

enum image_path_status image_symlink_rewrite(const char *link_path, const char *target,
	char *ret, size_t size)
{
	char joined[2 * PATH_MAX + 2];
	char resolved[PATH_MAX];
	const char *slash = strrchr(link_path, '/');
	size_t dir_len = slash ? (size_t)(slash - link_path) : 0;
	size_t target_len = strlen(target);
	const char *dir = link_path, *rest = resolved;
	enum image_path_status status;
	size_t ups = 0, len = 0;

	if (size == 0)
		return IMAGE_PATH_TOO_LONG;
	ret[0] = '\0';
	if (target_len == 0)
		return IMAGE_PATH_EMPTY;
	if (target_len >= PATH_MAX || dir_len >= PATH_MAX)
		return IMAGE_PATH_TOO_LONG;

	/* The target as a path from the image root. */
	if (target[0] == '/')
		snprintf(joined, sizeof(joined), "%s", target);
	else
		snprintf(joined, sizeof(joined), "%.*s/%s", (int)dir_len, link_path, target);
	status = image_path_normalize(joined, true, PATH_MAX - 1, resolved, sizeof(resolved));
	if (status == IMAGE_PATH_ROOT)
		resolved[0] = '\0';
	else if (status != IMAGE_PATH_OK)
		return path_fail(ret, status);

	/* Skip the components the link's directory and the target share; the
	 * link's remaining directory components each become "../". */
	while (dir < link_path + dir_len) {
		const char *dir_next, *rest_next;
		size_t dir_n = component(dir, &dir_next);
		size_t rest_n = component(rest, &rest_next);

		if (dir_next > link_path + dir_len)
			dir_n = (size_t)(link_path + dir_len - dir);
		if (rest_n == 0 || dir_n != rest_n || memcmp(dir, rest, dir_n) != 0)
			break;
		dir = dir_next;
		rest = rest_next;
	}
	for (const char *p = dir; p < link_path + dir_len; p++) {
		if (p == dir || p[-1] == '/')
			ups++;
	}

	for (size_t i = 0; i < ups; i++) {
		int last = i + 1 == ups && !rest[0];

		if (len + 3 >= size)
			return path_fail(ret, IMAGE_PATH_TOO_LONG);
		memcpy(ret + len, last ? ".." : "../", last ? 2 : 3);
		len += last ? 2 : 3;
	}
	if (len + strlen(rest) >= size)
		return path_fail(ret, IMAGE_PATH_TOO_LONG);
	memcpy(ret + len, rest, strlen(rest));
	len += strlen(rest);
	if (len == 0)
		ret[len++] = '.';
	ret[len] = '\0';
	return IMAGE_PATH_OK;
}

void image_quote(const char *name, char *ret, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;

	if (size == 0)
		return;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* Room for one escape and a closing "...". */
		if (len + 4 + 4 > size) {
			memcpy(ret + len, "...", 3);
			len += 3;
			break;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"') {
			ret[len++] = (char)*p;
		} else {
			ret[len++] = '\\';
			ret[len++] = 'x';
			ret[len++] = hex[*p >> 4];
			ret[len++] = hex[*p & 0xf];
		}
	}
	ret[len] = '\0';
}
