/*
 * Logging: one formatting path, three sinks (stderr, syslog, hook).
 * Called from every process; never allocates, so it is safe after OOM
 * and inside the seccomp sandbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_verbose = LOG_LVL_INFO;
static int		 log_syslog;
static const char	*log_procname = "wxgated";
static log_hook_fn	 log_hook;


void
log_init(int verbose, int use_syslog)
{
	log_verbose = verbose;
	log_syslog = use_syslog;
	if (log_syslog)
		openlog("wxgated", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		log_procname = name;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_sethook(log_hook_fn fn)
{
	log_hook = fn;
}

int
log_level_parse(const char *s)
{
	if (s == NULL || strcmp(s, "info") == 0)
		return LOG_LVL_INFO;
	if (strcmp(s, "warn") == 0)
		return LOG_LVL_WARN;
	if (strcmp(s, "debug") == 0)
		return LOG_LVL_DEBUG;
	return -1;
}

/*
 * A line that is already formatted, e.g. relayed from a worker.  Its
 * text may be a less trusted process's: a control character (a newline
 * that would start a forged line, an escape for the reader's terminal)
 * is written as '?', as OpenSSH's do_log() writes it through strnvis().
 */
void
log_emit(int level, const char *line)
{
	static const int prio[] = { LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "warn", "info", "debug" };
	char ts[32], safe[LOG_LINE_MAX];
	struct timespec now;
	struct tm tm;
	size_t i;

	if (level < LOG_LVL_WARN || level > LOG_LVL_DEBUG)
		level = LOG_LVL_WARN;
	if (level > log_verbose)
		return;
	for (i = 0; line[i] != '\0' && i < sizeof(safe) - 1; i++)
		safe[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ?
		    '?' : line[i];
	safe[i] = '\0';
	line = safe;
	if (log_hook != NULL) {
		log_hook(level, line);
		return;
	}
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	dprintf(STDERR_FILENO, "%s.%03ldZ %s[%d] %s: %s\n", ts,
	    now.tv_nsec / 1000000, log_procname, (int)getpid(), tag[level],
	    line);
}

/* log_warn() and the rest (log.h): with_errno adds strerror(errno). */
void
log_fmt(int level, int with_errno, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved = errno, n;
	va_list ap;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (with_errno && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, ": %s", strerror(saved));
	log_emit(level, line);
	errno = saved;
}
