/*
 * Logging for every wxgate process.
 *
 * The supervisor writes to stderr or syslog.  A worker, once sandboxed,
 * may no longer own a useful stderr, so it installs a hook that turns each
 * line into an IPC "log" frame; the supervisor then prefixes kind, name and
 * pid from its own records rather than trusting the worker's words.
 */
#ifndef WX_LOG_H
#define WX_LOG_H

#include <stdarg.h>
#include <stdlib.h>	/* exit(), for fatal() */

#define LOG_LVL_WARN	0
#define LOG_LVL_INFO	1
#define LOG_LVL_DEBUG	2

#define LOG_LINE_MAX	1024

typedef void (*log_hook_fn)(int level, const char *line);

void	log_init(int verbose, int use_syslog);
void	log_procinit(const char *name);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_sethook(log_hook_fn fn);
int	log_level_parse(const char *s);

void	log_fmt(int level, int with_errno, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_emit(int level, const char *line);

/* The OpenBSD names; the "x" forms say nothing of errno. */
#define log_warn(...)	log_fmt(LOG_LVL_WARN, 1, __VA_ARGS__)
#define log_warnx(...)	log_fmt(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...)	log_fmt(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...)	log_fmt(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define fatal(...)	(log_fmt(LOG_LVL_WARN, 1, __VA_ARGS__), exit(1))
#define fatalx(...)	(log_fmt(LOG_LVL_WARN, 0, __VA_ARGS__), exit(1))

#endif
