/*
 * The hub's part in end-to-end encrypted console threads (issue #19,
 * docs/e2e.md).  The hub holds no key and opens nothing: it keeps each
 * operator's wrapped key for their browser, refuses anything but sealed
 * messages in a sealed thread, numbers them (the number is bound into
 * each message, so the hub cannot reorder them unnoticed either), and
 * tells the relay agent whose key, which thread and which numbers a
 * request's turns carry.  These checks are of shape only, so that
 * plaintext never lands in the store by mistake; what the bytes say is
 * for the two ends to verify.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "console.h"
#include "hub.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* Base64 of RFC 4648 with padding, nothing else (the ends are strict too). */
static int
ce_b64(const char *s, size_t want)
{
	size_t i, len = strlen(s);

	if (len != 4 * ((want + 2) / 3))
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		    s[i] == '/' || (s[i] == '=' && i >= len - 2)))
			return 0;
	return 1;
}

/* The record docs/e2e.md defines: exactly its keys, sane sizes. */
static int
ce_record_ok(const char *s, size_t len)
{
	json_t *o;
	json_int_t v, n, r, p;
	const char *kdf, *salt, *nonce, *wrapped;
	int ok;

	if (len == 0 || len > STORE_E2E_RECORD_MAX ||
	    (o = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;
	ok = json_unpack(o, "{s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:s !}",
	    "v", &v, "kdf", &kdf, "n", &n, "r", &r, "p", &p, "salt", &salt,
	    "nonce", &nonce, "wrapped", &wrapped) == 0 && v == 1 &&
	    strcmp(kdf, "scrypt") == 0 && n >= 1024 && n <= (1 << 20) &&
	    (n & (n - 1)) == 0 && r >= 1 && r <= 32 && p >= 1 && p <= 4 &&
	    ce_b64(salt, 16) && ce_b64(nonce, 12) && ce_b64(wrapped, 48);
	json_decref(o);
	return ok;
}

/* {"v":1,"n":nonce,"c":ciphertext and tag}: a sealed message's shape. */
int
console_e2e_sealed(const char *s, size_t len)
{
	json_t *o;
	json_int_t v;
	const char *n, *c;
	int ok;

	if ((o = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;
	ok = json_unpack(o, "{s:I, s:s, s:s !}", "v", &v, "n", &n, "c",
	    &c) == 0 && v == 1 && ce_b64(n, 12) && strlen(c) >= 24 &&
	    strlen(c) % 4 == 0 && ce_b64(c, strlen(c) / 4 * 3 -
	    (c[strlen(c) - 1] == '=') - (c[strlen(c) - 2] == '='));
	json_decref(o);
	return ok;
}

/*
 * A platform conversation's text as the Conversations pages show it:
 * a sealed schedule's run (its prompt and answer) says so, instead of
 * a screenful of base64 no one there can open.
 */
json_t *
console_text(const char *s, size_t cut)
{
	static const char head[] = "{\"v\":1,";

	if (s != NULL && strncmp(s, head, sizeof(head) - 1) == 0 &&
	    console_e2e_sealed(s, strlen(s)))
		return json_string("(sealed end to end)");
	return console_cut(s, cut);
}

/* GET /api/e2e: the operator's own wrapped key, or null: none yet. */
json_t *
console_page_e2e(const struct console_who *who)
{
	char *rec = NULL;
	json_t *o;

	if (store_e2e_key_get(sup->store, who->operator, &rec) == -1)
		return NULL;
	o = json_pack("{s:s, s:s?}", "owner", who->operator, "record", rec);
	free(rec);
	return o;
}

/*
 * e2e.key: the body is the operator's record, new or wrapped again
 * under a new passphrase.  Only its owner's browser can tell which: a
 * record under another key would orphan the threads sealed before, so
 * the page sets one only after opening the old (chat.js).
 */
void
console_e2e_key(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char *rec;
	int rv;

	if (!ce_record_ok(p->text.p, p->text.len)) {
		console_answer(w, m, p->conn, 400, NULL, NULL,
		    console_error("not a wrapped key record (docs/e2e.md)"));
		return;
	}
	rec = ipc_strdup(p->text);
	rv = store_e2e_key_set(sup->store, who->operator, rec, sup_now());
	free(rec);
	if (rv == -1) {
		console_answer(w, m, p->conn, 503, NULL, NULL,
		    console_error("store error"));
		return;
	}
	log_info("console: operator %s sets their end-to-end key",
	    who->operator);
	store_audit(sup->store, sup_now(), "console", w->name, 0, "e2e.key",
	    who->operator);
	console_answer(w, m, p->conn, 200, NULL, NULL,
	    json_pack("{s:b}", "ok", 1));
}

/*
 * router_agent.c: what a relay needs to open a sealed thread's request,
 * as JSON (jsonalloc's, the caller frees): the owner whose key sealed
 * it, the key as stored (null if gone: the relay says so), the thread,
 * and each turn's number (0: not sealed, as the system prompt).
 */
char *
console_e2e_context(const struct store_cchat *t, const int64_t *seq,
    size_t n)
{
	json_t *o, *a;
	char *rec = NULL, id[24];
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(seq[i]));
	(void)store_e2e_key_get(sup->store, t->operator, &rec);
	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	o = json_pack("{s:s, s:s, s:s?, s:o}", "owner", t->operator,
	    "thread", id, "key", rec, "seq", a);
	free(rec);
	return o != NULL ? jsonalloc_take(o) : NULL;
}

/*
 * The same for a sealed schedule's run: no thread but the schedule and
 * the run's slot, which the prompt's and the answer's associated data
 * bind ("sched|<id>|operator|0", "run|<id>@<slot>|agent|0"), and a
 * number per turn, all 0: a run stands alone, without history.
 */
char *
console_e2e_run(const struct store_run_seal *rs, size_t n)
{
	json_t *o, *a;
	char *rec = NULL, id[24], slot[24];
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(0));
	(void)store_e2e_key_get(sup->store, rs->owner, &rec);
	snprintf(id, sizeof(id), "%lld", (long long)rs->schedule);
	snprintf(slot, sizeof(slot), "%lld", (long long)rs->slot);
	o = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:o}", "owner", rs->owner,
	    "key", rec, "kind", "sched", "schedule", id, "slot", slot,
	    "seq", a);
	free(rec);
	return o != NULL ? jsonalloc_take(o) : NULL;
}
