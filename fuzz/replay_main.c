/* SPDX-License-Identifier: MIT */
/*
 * Replay driver for the libFuzzer harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once per input so any compiler (and the normal
 * test suite) can replay the checked-in corpus and past crashes.
 *
 * usage: <harness>_replay PATH...
 *   A file is one input; a directory contributes its regular files in name
 *   order; a path that does not exist contributes nothing (an empty corpus).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}

	size_t cap = 4096, size = 0;
	uint8_t *data = malloc(cap);
	if (data == NULL) {
		fclose(f);
		fprintf(stderr, "replay: out of memory\n");
		return -1;
	}
	for (;;) {
		if (size == cap) {
			uint8_t *bigger = realloc(data, cap * 2);
			if (bigger == NULL) {
				free(data);
				fclose(f);
				fprintf(stderr, "replay: out of memory\n");
				return -1;
			}
			data = bigger;
			cap *= 2;
		}
		size_t n = fread(data + size, 1, cap - size, f);
		size += n;
		if (n == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(data);
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}

	/* Exact-size copy so ASan flags reads past the end of the input. */
	uint8_t *input = malloc(size != 0 ? size : 1);
	if (input == NULL) {
		free(data);
		fprintf(stderr, "replay: out of memory\n");
		return -1;
	}
	if (size != 0)
		memcpy(input, data, size);
	free(data);

	LLVMFuzzerTestOneInput(input, size);
	free(input);
	replayed++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: cannot open directory %s: %s\n", dir, strerror(errno));
		return -1;
	}

	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 64;
			char **bigger = realloc(names, ncap * sizeof(*names));
			if (bigger == NULL) {
				rc = -1;
				break;
			}
			names = bigger;
			cap = ncap;
		}
		size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
		names[n] = malloc(len);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		snprintf(names[n], len, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (rc != 0)
		fprintf(stderr, "replay: out of memory\n");

	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = replay_file(names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			if (errno == ENOENT)
				continue; /* no corpus yet: nothing to replay */
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		int rc = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
		if (rc != 0)
			return 1;
	}
	printf("replayed %lu inputs\n", replayed);
	return 0;
}
