/*
 * The console's log page: the hub's latest lines (logring.c), those
 * after the seq the page last saw, at least as severe as its level and
 * from one worker ("hub" for the hub's own) when it names one.  The
 * worker sends the query as "since level worker" after the page's
 * name, "-" where a value is not given (workers/console/console.c):
 * console.get has no other field for it.
 *
 * The lines are what the log file got, so they carry no secret; text
 * from a worker or a peer is JSON-escaped here and set as textContent
 * by the page.  The answer is bounded by lines and by its bytes, escapes
 * included, keeping the newest: a tail wants the latest, and "more"
 * tells the page that older ones it never saw were left out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "ipc_msg.h"
#include "log.h"
#include "logring.h"

/* Lines one answer holds: what the page keeps on screen. */
#define CONSOLE_LOG_MAX		500
/* The lines' JSON, leaving room for the page around it. */
#define CONSOLE_LOG_BYTES	(IPC_CONSOLE_BODY_MAX - 1024)

struct log_page {
	int		 level;
	const char	*worker;	/* NULL: every one */
	json_t		*lines;		/* oldest first */
	size_t		 bytes;
	int		 more;
};

static const char *const log_level_names[] = { "warn", "info", "debug" };

static int
log_page_line(const struct logring_line *l, void *arg)
{
	struct log_page *pg = arg;
	json_t *o;

	if (l->level > pg->level ||
	    (pg->worker != NULL && strcmp(pg->worker, l->worker) != 0))
		return 0;
	o = json_pack("{s:I, s:I, s:s, s:s, s:s}", "seq", (json_int_t)l->seq,
	    "time", (json_int_t)l->time_ms, "level",
	    log_level_names[l->level], "worker", l->worker, "text", l->text);
	/* Not UTF-8 (a hub line quoting a platform's bytes): no JSON. */
	if (o == NULL)
		return 0;
	if (json_array_size(pg->lines) == CONSOLE_LOG_MAX ||
	    !console_fits(&pg->bytes, CONSOLE_LOG_BYTES, o)) {
		json_decref(o);
		pg->more = 1;
		return 1;
	}
	json_array_insert_new(pg->lines, 0, o);
	return 0;
}

/*
 * "since level worker": a decimal seq, a level name (log_level_parse)
 * and a worker's name, each "-" when not given.  -1 on anything else.
 */
static int
log_page_query(char *q, uint64_t *since, struct log_page *pg)
{
	char *f[3], *end;
	int i;

	for (i = 0; i < 3; i++)
		if ((f[i] = strsep(&q, " ")) == NULL || f[i][0] == '\0')
			return -1;
	if (q != NULL)
		return -1;
	*since = 0;
	if (strcmp(f[0], "-") != 0) {
		if (strspn(f[0], "0123456789") != strlen(f[0]) ||
		    strlen(f[0]) > 19)
			return -1;
		*since = strtoull(f[0], &end, 10);
	}
	pg->level = strcmp(f[1], "-") == 0 ? LOG_LVL_DEBUG :
	    log_level_parse(f[1]);
	pg->worker = strcmp(f[2], "-") == 0 ? NULL : f[2];
	return pg->level < 0 ? -1 : 0;
}

/* The status, and the answer's body (an error's when not 200). */
int
console_page_log(const char *query, const char *text, json_t **body)
{
	struct log_page pg = { LOG_LVL_DEBUG, NULL, NULL, 0, 0 };
	char q[IPC_NAME_MAX + 1];
	uint64_t since = 0;

	snprintf(q, sizeof(q), "%s", query != NULL ? query : "- - -");
	if (text[0] != '\0' || log_page_query(q, &since, &pg) == -1) {
		*body = console_error("since, level or worker is not valid");
		return 400;
	}
	/* Beyond the newest: a new hub, counting again from 1. */
	if (since > logring_last())
		since = 0;
	pg.lines = json_array();
	logring_walk(since, log_page_line, &pg);
	/* first: the lines before it are gone from the ring. */
	*body = json_pack("{s:o, s:b, s:I, s:I}", "lines", pg.lines,
	    "more", pg.more, "seq", (json_int_t)logring_last(),
	    "first", (json_int_t)logring_first());
	return 200;
}
