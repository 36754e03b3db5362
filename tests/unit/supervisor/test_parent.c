/*
 * Unit tests of root's own library (libwxparent.a): an exit cause in
 * plain words (reap.c), and the files the configuration names, opened
 * with root's checks (conf_file.c).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_file.h"
#include "sup.h"

struct sup	*sup;		/* main.c's, which the test does not link */

static void
test_exit_causes(void **state)
{
	char buf[128];

	(void)state;
	reap_cause(W_EXITCODE(3, 0), -1, "", buf, sizeof(buf));
	assert_string_equal(buf, "exit 3");
	reap_cause(W_EXITCODE(0, SIGKILL), -1, "", buf, sizeof(buf));
	assert_string_equal(buf, "SIGKILL");
	reap_cause(W_EXITCODE(0, SIGKILL), -1, "heartbeat timeout", buf,
	    sizeof(buf));
	assert_string_equal(buf, "SIGKILL (heartbeat timeout)");
	reap_cause(W_EXITCODE(0, SIGSEGV), -1, "", buf, sizeof(buf));
	assert_string_equal(buf, "SIGSEGV");
	/* No name of its own: a real-time signal. */
	reap_cause(W_EXITCODE(0, SIGRTMIN + 2), -1, "", buf, sizeof(buf));
	assert_string_equal(buf, "SIGRT");
	reap_cause(W_EXITCODE(0, SIGSYS), -1, "", buf, sizeof(buf));
	assert_string_equal(buf, "killed by seccomp (SIGSYS)");
	reap_cause(W_EXITCODE(0, SIGSYS), 101, "", buf, sizeof(buf));
	assert_string_equal(buf, "killed by seccomp (SIGSYS): ptrace");
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* One rule opens the configuration and every file it names. */
static void
test_conf_files(void **state)
{
	char dir[] = "/tmp/test_parent.XXXXXX", path[256], link[256];
	char buf[16], why[512], *text;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	snprintf(link, sizeof(link), "%s/link", dir);

	put(path, "s3cret", 0600);
	assert_int_equal(conf_file_read(CONF_FILE_SECRET, path, buf,
	    sizeof(buf), &len, why, sizeof(why)), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "s3cret");
	assert_int_equal(conf_file_text(path, &text, &len, why, sizeof(why)),
	    0);
	assert_string_equal(text, "s3cret");
	free(text);

	/* A secret others may read, or behind a link, is refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(conf_file_read(CONF_FILE_SECRET, path, buf,
	    sizeof(buf), &len, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "group or others may access it"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(conf_file_read(CONF_FILE_SECRET, link, buf,
	    sizeof(buf), &len, why, sizeof(why)), -1);
	/* A public file may be a link, but not larger than the buffer. */
	assert_int_equal(conf_file_read(CONF_FILE_PUBLIC, link, buf,
	    sizeof(buf), &len, why, sizeof(why)), 0);
	put(path, "more than fifteen bytes", 0644);
	assert_int_equal(conf_file_read(CONF_FILE_PUBLIC, path, buf,
	    sizeof(buf), &len, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "larger than 15 bytes"));

	/* A directory: the configuration's own words, and a named file's. */
	assert_int_equal(conf_file_text(dir, &text, &len, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, ": cannot open: Is a directory"));
	assert_int_equal(conf_file_read(CONF_FILE_PUBLIC, dir, buf,
	    sizeof(buf), &len, why, sizeof(why)), -1);
	assert_non_null(strstr(why, ": not a regular file"));

	unlink(link);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_causes),
		cmocka_unit_test(test_conf_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
