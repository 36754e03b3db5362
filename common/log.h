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

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_emit(int level, const char *line);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
