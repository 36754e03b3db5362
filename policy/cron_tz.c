/*
 * The time zone of a schedule: whether a name is one, and making it the
 * zone localtime_r() answers in for the length of a search.  Called by
 * cron_next() and cron_due() only; nothing else here reads the clock.
 *
 * Why the C library and TZ, not a TZif reader of our own: glibc already
 * reads TZif (v1-v3, and the POSIX rule at the end of a slim file for
 * times past its last transition), and is tested against tzdata; a
 * second reader would be several hundred lines that matter only on the
 * day a zone changes.  The price is global state: TZ is set, tzset()
 * reads the file, the search runs, and the old TZ is put back with
 * another tzset().  That is safe because the hub runs schedules in its
 * single event-loop thread, and its only other thread (the store's
 * checkpointer, supervisor/store_ckpt.c) reads neither the environment
 * nor local time.  XXX a second thread that calls getenv() or
 * localtime() would race with setenv(); a TZif reader (or glibc gaining
 * localtime_rz()) would close that.
 *
 * glibc silently falls back to UTC for a TZ naming no file, so the
 * name is checked here first: an IANA name is relative, made of
 * letters, digits and "/_+-.", without "." or ".." components, and
 * names a regular file under CRON_ZONEINFO that starts "TZif".  TZ is
 * then set to that absolute path (":" prefixed), so TZDIR cannot send
 * glibc elsewhere.  The hub's sandbox binds CRON_ZONEINFO read-only
 * (supervisor/specs.c: hub_spec); the configuration reader, which only
 * checks names, asks the root parent for a file's first bytes instead
 * (cron_tz_peek), and keeps no directory.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cron.h"
#include "cron_int.h"

#define CRON_TZ_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz0123456789/_+-."

static int	tz_name_ok(const char *, char *, size_t);

/* The shape of a name, before the file system is asked. */
static int
tz_name_ok(const char *tz, char *err, size_t errlen)
{
	const char *p, *e;
	size_t len = strnlen(tz, CRON_TZ_MAX + 1);

	if (len == 0)
		return cron_err(err, errlen, "tz: empty");
	if (len > CRON_TZ_MAX)
		return cron_err(err, errlen, "tz: longer than %d bytes",
		    CRON_TZ_MAX);
	if (strspn(tz, CRON_TZ_CHARS) != len)
		return cron_err(err, errlen, "tz: \"%.32s\" is not a zone name "
		    "(like Europe/Berlin)", tz);
	if (tz[0] == '/')
		return cron_err(err, errlen, "tz: \"%.32s\" is a path, not a "
		    "zone name", tz);
	for (p = tz; ; p = e + 1) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p || (e - p == 1 && p[0] == '.') ||
		    (e - p == 2 && p[0] == '.' && p[1] == '.'))
			return cron_err(err, errlen, "tz: \"%.32s\" is not a "
			    "zone name (empty, \".\" or \"..\" part)", tz);
		if (*e == '\0')
			break;
	}
	return 0;
}

/* The file's first four bytes, if it is a regular file: 0, 1, -1. */
static int
tz_peek_file(const char *path, char magic[4])
{
	struct stat st;
	int fd, rv = 0;

	/* Links are followed: tzdata makes its aliases with them. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    read(fd, magic, 4) != 4)
		rv = 1;
	(void)close(fd);
	return rv;
}

static int	(*tz_peek)(const char *, char[4]) = tz_peek_file;

void
cron_tz_peek(int (*fn)(const char *path, char magic[4]))
{
	tz_peek = fn != NULL ? fn : tz_peek_file;
}

int
cron_tz_check(const char *tz, char *err, size_t errlen)
{
	char path[sizeof(CRON_ZONEINFO) + CRON_TZ_MAX + 1], magic[4];
	int rv;

	if (tz_name_ok(tz, err, errlen) == -1)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/%s", CRON_ZONEINFO, tz);
	if ((rv = tz_peek(path, magic)) == -1)
		return cron_err(err, errlen, "tz: unknown time zone \"%s\" "
		    "(not in %s)", tz, CRON_ZONEINFO);
	if (rv != 0 || memcmp(magic, "TZif", sizeof(magic)) != 0)
		return cron_err(err, errlen, "tz: \"%s\" is not a time zone "
		    "file", tz);
	return 0;
}

int
cron_tz_enter(const char *tz, struct cron_tz *sv)
{
	char path[1 + sizeof(CRON_ZONEINFO) + CRON_TZ_MAX + 1];
	const char *old;

	if (cron_tz_check(tz, NULL, 0) == -1)
		return -1;
	old = getenv("TZ");
	sv->had = old != NULL;
	if (old != NULL && (size_t)snprintf(sv->old, sizeof(sv->old), "%s",
	    old) >= sizeof(sv->old))
		return -1;
	(void)snprintf(path, sizeof(path), ":%s/%s", CRON_ZONEINFO, tz);
	if (setenv("TZ", path, 1) == -1)
		return -1;
	tzset();
	return 0;
}

void
cron_tz_leave(const struct cron_tz *sv)
{
	if (sv->had)
		(void)setenv("TZ", sv->old, 1);
	else
		(void)unsetenv("TZ");
	tzset();
}

int
cron_tz_offset(time_t t, long *off)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	*off = tm.tm_gmtoff;
	return 0;
}
