/*
 * The console's accounts page: every channel account as `wxgatectl
 * channels` shows it (channel_list.c), the QR code of each WeChat
 * account waiting for a scan as `wxgatectl login` shows it, and the
 * binding invitations as `wxgatectl bind list` shows them.  Revoking an
 * invitation is console_write.c's, through account.c.
 *
 * The QR code is drawn here (common/qr.c), as the SVG document the
 * page puts in an <img> by a data: URL: the page needs no script of
 * anyone else's, its CSP stays 'self', and an SVG shown as an image
 * runs nothing.  The code's URL came from the platform; it is only
 * ever text or the drawing's content.
 *
 * One answer is bounded by its bytes, escapes included, and the
 * accounts come first: a drawing is about 20 KB, so at most
 * CONSOLE_QR_MAX are drawn (the others say to run wxgatectl login),
 * and rows stop, with "more" set, when the next would pass the budget.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "console.h"
#include "hub.h"
#include "qr.h"
#include "store.h"

/* Accounts one page lists, and invitations, the newest. */
#define CONSOLE_ACCT_MAX	500
#define CONSOLE_INVITES_MAX	200
/* Drawings per answer: a few phones scan at once, not hundreds. */
#define CONSOLE_QR_MAX		4
/* Both lists' JSON, leaving room for the page around them. */
#define CONSOLE_ACCT_BYTES	(IPC_CONSOLE_BODY_MAX - 1024)

struct acct_page {
	json_t		*accounts;
	json_t		*invites;	/* oldest first, as the store walks */
	size_t		 bytes;
	int		 qrs;
	int		 accounts_more;
	int		 invites_more;
};

/*
 * o into a, first or last, if it fits the budget: 0, or -1 (o is
 * dropped).
 */
static int
acct_page_add(struct acct_page *pg, json_t *a, json_t *o, int first)
{
	if (o == NULL)
		return -1;
	if (!console_fits(&pg->bytes, CONSOLE_ACCT_BYTES, o)) {
		json_decref(o);
		return -1;
	}
	if (first)
		json_array_insert_new(a, 0, o);
	else
		json_array_append_new(a, o);
	return 0;
}

/*
 * login: "scan" with the code's url (and its drawing, while there are
 * drawings left), "done" for a WeChat account whose worker runs, else
 * "" (another kind, or a state that says it all).
 */
static void
acct_page_row(const struct channel_row *r, void *arg)
{
	struct acct_page *pg = arg;
	const char *url = NULL, *login = "";
	char *svg = NULL;
	json_t *o;

	if (pg->accounts_more)
		return;
	if (json_array_size(pg->accounts) == CONSOLE_ACCT_MAX) {
		pg->accounts_more = 1;
		return;
	}
	if ((url = channel_login_url(r->name)) != NULL) {
		login = "scan";
		if (pg->qrs < CONSOLE_QR_MAX && (svg = qr_svg(url)) != NULL)
			pg->qrs++;
	} else if (strcmp(r->kind, "wechat") == 0 &&
	    strcmp(r->state, "running") == 0)
		login = "done";
	/* pause.c's: paused by an operator. */
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:b}",
	    "name", r->name, "kind", r->kind, "source", r->source,
	    "template", r->tmpl, "state", r->state, "owner", r->owner,
	    "login", login, "login_url", url, "qr", svg, "paused",
	    account_paused(r->name));
	free(svg);
	if (acct_page_add(pg, pg->accounts, o, 0) == -1)
		pg->accounts_more = 1;
}

static int
acct_page_invite(const struct store_invite_row *r, void *arg)
{
	json_t *a = arg;
	int64_t now = sup_now();

	json_array_append_new(a, json_pack("{s:I, s:s?, s:s, s:I, s:I, s:I, "
	    "s:I, s:I}", "id", (json_int_t)r->id, "template", r->tmpl,
	    "state", r->revoked > 0 ? "revoked" :
	    r->expires <= now ? "expired" :
	    r->uses_left <= 0 ? "used up" : "live",
	    "created", (json_int_t)r->created,
	    "expires", (json_int_t)r->expires,
	    "uses_left", (json_int_t)r->uses_left,
	    "used", (json_int_t)r->used,
	    "revoked", (json_int_t)r->revoked));
	/* The store walks oldest first: keep the newest. */
	if (json_array_size(a) > CONSOLE_INVITES_MAX + 1)
		json_array_remove(a, 0);
	return 0;
}

/* The newest invitations that fit what the accounts left. */
static int
acct_page_invites(struct acct_page *pg)
{
	json_t *all = json_array(), *o;
	size_t i;

	if (store_invite_list(sup->store, acct_page_invite, all) == -1) {
		json_decref(all);
		return -1;
	}
	if ((pg->invites_more = json_array_size(all) > CONSOLE_INVITES_MAX))
		json_array_remove(all, 0);
	/* Newest first into the budget, each before the one after it. */
	for (i = json_array_size(all); i-- > 0; ) {
		o = json_incref(json_array_get(all, i));
		if (acct_page_add(pg, pg->invites, o, 1) == -1) {
			pg->invites_more = 1;
			break;
		}
	}
	json_decref(all);
	return 0;
}

json_t *
console_page_accounts(void)
{
	struct acct_page pg = { json_array(), json_array(), 0, 0, 0, 0 };

	channel_list(acct_page_row, &pg);
	if (acct_page_invites(&pg) == -1) {
		json_decref(pg.accounts);
		json_decref(pg.invites);
		return NULL;
	}
	return json_pack("{s:o, s:b, s:o, s:b, s:I}", "accounts", pg.accounts,
	    "more", pg.accounts_more, "invites", pg.invites,
	    "invites_more", pg.invites_more, "now", (json_int_t)sup_now());
}
