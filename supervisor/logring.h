/*
 * The hub's memory of its latest log lines, for the console's log page
 * (console_page_log.c).  Filled from the hub's log hook (hub.c), so it
 * holds exactly what reached the log file: nothing the configured level
 * drops, and no secret, which no line carries (STYLE.md 8).
 */
#ifndef WX_LOGRING_H
#define WX_LOGRING_H

#include <stddef.h>
#include <stdint.h>

struct logring_line {
	uint64_t	 seq;		/* 1, 2, ... for this hub's life */
	int64_t		 time_ms;	/* wall clock */
	int		 level;		/* LOG_LVL_* */
	char		*worker;	/* a worker's name, or "hub" */
	char		*text;
};

/* The next line log_emit() hands the hook is this worker's text. */
void		logring_worker(const char *name, const char *text, size_t);
/* One line as the hook gets it (hub.c). */
void		logring_add(int level, const char *line);
/* The newest line's seq, and the oldest's; 0 when none. */
uint64_t	logring_last(void);
uint64_t	logring_first(void);
/* Newest first while fn returns 0, down to the line after since. */
void		logring_walk(uint64_t since,
		    int (*fn)(const struct logring_line *, void *), void *);
void		logring_free(void);

#endif
