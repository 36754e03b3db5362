/*
 * The media area as the console reads it (console_page_conv.c,
 * console_media.c): a message's parts with only their first bytes,
 * enough to tell an image by its magic numbers (read through the blob
 * handle, so a 20 MB part costs a page, not 20 MB), and one part's
 * bytes for /api/media.  A part's length is read from its record
 * before its blob, so a part over the caller's bound is never loaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sniff.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

enum {
	SC_PARTS = STORE_LAZY_CONVMEDIA,
	SC_PART,
};

static const char *const sc_sql[] = {
	[SC_PARTS - STORE_LAZY_CONVMEDIA] =
	    "SELECT seq, kind, name, length(data), id"
	    " FROM media WHERE msg_id = ?1 ORDER BY seq LIMIT ?2",
	/* length() of a blob reads its header, not its pages. */
	[SC_PART - STORE_LAZY_CONVMEDIA] =
	    "SELECT name, length(data), CASE WHEN length(data) <= ?3"
	    " THEN data END FROM media WHERE msg_id = ?1 AND seq = ?2",
};

_Static_assert(SNIFF_HEAD <= sizeof(((struct store_conv_part *)0)->head),
    "a part's head holds what sniff_image() reads");
_Static_assert(sizeof(sc_sql) / sizeof(sc_sql[0]) <= 4,
    "store_conv_media.c outgrew its lazy slots (172..175)");

static sqlite3_stmt *
sc_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sc_sql[which - STORE_LAZY_CONVMEDIA]);
}

/* The first bytes of media row id, as many as there are up to want. */
static size_t
sc_head(struct store *s, int64_t id, uint64_t size, uint8_t *buf,
    size_t want)
{
	sqlite3_blob *b;
	size_t n = size < want ? (size_t)size : want;

	if (sqlite3_blob_open(s->db, "main", "media", "data", id, 0,
	    &b) != SQLITE_OK) {
		sqlite3_blob_close(b);
		return 0;
	}
	if (sqlite3_blob_bytes(b) < (int)n ||
	    sqlite3_blob_read(b, buf, (int)n, 0) != SQLITE_OK)
		n = 0;
	sqlite3_blob_close(b);
	return n;
}

int
store_conv_parts(struct store *s, int64_t msg_id, unsigned max,
    store_conv_part_fn fn, void *arg)
{
	struct store_conv_part p;
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_PARTS);
	if ((rc = store_bindv(st, "ii", msg_id, (int64_t)max)) !=
	    SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&p, 0, sizeof(p));
		p.seq = (unsigned)sqlite3_column_int(st, 0);
		p.kind = (const char *)sqlite3_column_text(st, 1);
		p.name = (const char *)sqlite3_column_text(st, 2);
		p.size = (uint64_t)sqlite3_column_int64(st, 3);
		if (p.kind == NULL || p.name == NULL || p.size == 0)
			continue;
		p.headlen = sc_head(s, sqlite3_column_int64(st, 4), p.size,
		    p.head, sizeof(p.head));
		if (fn(&p, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_conv_part_take(struct store *s, int64_t msg_id, unsigned seq,
    uint64_t max, uint8_t **data, uint64_t *size, char *name,
    size_t namesize)
{
	sqlite3_stmt *st;
	const void *p;
	int64_t len;
	int rc;

	*data = NULL;
	*size = 0;
	st = sc_stmt(s, SC_PART);
	rc = store_bindv(st, "iii", msg_id, (int64_t)seq,
	    max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((rc = store_row(s, st, rc, __func__)) != 0)
		return rc;
	len = sqlite3_column_int64(st, 1);
	if (len <= 0 || (uint64_t)len > max) {
		store_done(st);
		return len <= 0 ? 1 : 2;
	}
	p = sqlite3_column_blob(st, 2);
	/* A blob that changed length under us is no part of ours. */
	if (p == NULL || sqlite3_column_bytes(st, 2) != len) {
		store_done(st);
		return 1;
	}
	store_column_copy(st, 0, name, namesize);
	*data = xmalloc((size_t)len);
	memcpy(*data, p, (size_t)len);
	*size = (uint64_t)len;
	store_done(st);
	return 0;
}
