/*
 * libFuzzer harness for supervisor/config*.c: arbitrary bytes as the
 * configuration file.  config_load() reads a path, so each input is
 * written to one temporary file first.  Logs are silenced so that the
 * fuzzer's output stays readable; the code under test must not crash,
 * leak or overread whatever the file holds.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "supervisor/config.h"

/* Far above any real config, small enough to keep runs fast. */
#define FUZZER_MAXLEN	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	quiet(int, const char *);
static void	cleanup(void);

static char	fuzz_path[64];

static void
quiet(int level, const char *line)
{
	(void)level;
	(void)line;
}

/* libFuzzer ends with exit(), so the one temporary file goes too. */
static void
cleanup(void)
{
	unlink(fuzz_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[CFG_ERR_MAX];
	struct config *conf;
	const struct cfg_agent *a;
	char *s;
	FILE *f;
	int fd;

	if (len > FUZZER_MAXLEN)
		return 0;
	if (fuzz_path[0] == '\0') {
		log_sethook(quiet);
		snprintf(fuzz_path, sizeof(fuzz_path),
		    "/tmp/fuzz_config.XXXXXX");
		if ((fd = mkstemp(fuzz_path)) == -1)
			abort();
		close(fd);
		atexit(cleanup);
	}
	if ((f = fopen(fuzz_path, "w")) == NULL)
		abort();
	if (len > 0 && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);

	conf = config_load(fuzz_path, err, sizeof(err));
	if (conf == NULL) {
		/* Every refusal names the file. */
		if (strncmp(err, fuzz_path, strlen(fuzz_path)) != 0)
			abort();
		return 0;
	}
	/* An accepted config must be usable as the supervisor uses it. */
	if ((a = config_agent(conf, conf->webchat.agent)) == NULL)
		abort();
	s = config_slice_agent(conf, a);
	free(s);
	s = config_slice_webchat(conf);
	free(s);
	config_free(conf);
	return 0;
}
