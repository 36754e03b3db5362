/*
 * Unit tests for common/log.c: a line relayed from a less trusted
 * process (a worker's through the hub, the hub's to root) stays one line
 * with no terminal control in it, on stderr and to a hook alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char	hooked[LOG_LINE_MAX];

static void
hook(int level, const char *line)
{
	(void)level;
	snprintf(hooked, sizeof(hooked), "%s", line);
}

static void
test_hook_gets_one_line(void **state)
{
	(void)state;
	log_init(LOG_LVL_DEBUG, 0);
	log_sethook(hook);
	log_emit(LOG_LVL_INFO, "a\nb\rc\x1b[2J\x7f\td");
	log_sethook(NULL);
	assert_string_equal(hooked, "a?b?c?[2J??d");
}

static void
test_stderr_gets_one_line(void **state)
{
	char buf[LOG_LINE_MAX * 2], *nl;
	ssize_t n;
	int p[2], saved;

	(void)state;
	log_init(LOG_LVL_DEBUG, 0);
	assert_int_equal(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	log_emit(LOG_LVL_WARN,
	    "x\n2030-01-01T00:00:00.000Z wxgated[1] info: forged");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_ptr_equal(nl, buf + n - 1);
	assert_non_null(strstr(buf, "x?2030-01-01"));
}

/* UTF-8 passes as it is: names and messages are not only ASCII. */
static void
test_utf8_kept(void **state)
{
	(void)state;
	log_init(LOG_LVL_DEBUG, 0);
	log_sethook(hook);
	log_emit(LOG_LVL_INFO, "\xe4\xbd\xa0\xe5\xa5\xbd");
	log_sethook(NULL);
	assert_string_equal(hooked, "\xe4\xbd\xa0\xe5\xa5\xbd");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_gets_one_line),
		cmocka_unit_test(test_stderr_gets_one_line),
		cmocka_unit_test(test_utf8_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
