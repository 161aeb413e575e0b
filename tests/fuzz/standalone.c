/* Replays files or directories of inputs through a libFuzzer harness, so
 * the seed corpora run as regression tests in gcc and sanitizer builds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs above this size are not seeds but mistakes in the corpus. */
#define MAX_SEED_BYTES (4u * 1024u * 1024u)

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	size_t len;

	if (!f) {
		fprintf(stderr, "cannot open seed %s\n", path);
		return -1;
	}
	data = malloc(MAX_SEED_BYTES);
	if (!data) {
		fclose(f);
		return -1;
	}
	len = fread(data, 1, MAX_SEED_BYTES, f);
	fclose(f);

	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int replay_path(const char *path, int *count)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "cannot stat %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}

	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char child[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		if (replay_path(child, count) < 0)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	int count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (replay_path(argv[i], &count) < 0)
			rc = 1;
	}
	printf("replayed %d inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "no seed inputs found\n");
		return 1;
	}
	return rc;
}
