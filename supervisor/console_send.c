/*
 * The console's take-over (issue #16): an admin writes into a channel
 * conversation as the bot.  The text is queued by channel_send, the
 * path `wxgatectl send` takes (control.c), so it is one durable outbox
 * row, paced, retried and delivered once like any reply, and the
 * Conversations page shows it with its state.  Unlike wxgatectl's, the
 * console's text is not cut: one that does not fit one platform message
 * is refused, so what the operator sees is what the person gets.
 * Called from console_write.c's table, which refused viewers already.
 * The audit row names the operator, account and peer, never the text.
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

/* Code points in s (valid UTF-8: the codec checked it). */
static size_t
cs_cps(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* 0, or the status with why in err. */
static int
cs_check(const char *account, const char *peer, const char *text,
    char *err, size_t errlen)
{
	uint32_t cps, bytes;
	size_t n, len = strlen(text);
	int rv;

	if (peer[0] == '\0') {
		snprintf(err, errlen, "no conversation named");
		return 400;
	}
	if ((rv = channel_send_limit(account, peer, &cps, &bytes, err,
	    errlen)) != 0)
		return rv == 1 ? 404 : 409;
	if (text[strspn(text, " \t\r\n")] == '\0') {
		snprintf(err, errlen, "nothing to send");
		return 400;
	}
	if ((n = cs_cps(text, len)) > cps || (bytes > 0 && len > bytes)) {
		n = (size_t)snprintf(err, errlen, "%zu characters, %zu bytes: "
		    "a message on %s holds at most %u characters", n, len,
		    account, cps);
		if (bytes > 0 && n < errlen)
			snprintf(err + n, errlen - n, " and %u bytes", bytes);
		return 400;
	}
	return 0;
}

void
console_conv_send(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char account[IPC_NAME_MAX + 1], peer[IPC_PEER_MAX + 1];
	char err[256], detail[IPC_NAME_MAX * 2 + IPC_PEER_MAX + 64];
	char *text;
	int64_t id;
	int status, n;

	snprintf(account, sizeof(account), "%.*s", (int)p->arg.len, p->arg.p);
	snprintf(peer, sizeof(peer), "%.*s", (int)p->peer.len, p->peer.p);
	text = ipc_strdup(p->text);
	if ((status = cs_check(account, peer, text, err,
	    sizeof(err))) != 0) {
		freezero(text, p->text.len + 1);
		log_warnx("console: operator %s cannot send on %s: %s",
		    who->operator, account, err);
		console_answer(w, m, p->conn, status, NULL, NULL,
		    console_error(err));
		return;
	}
	n = channel_send(account, peer, text, &id, 1, err, sizeof(err));
	freezero(text, p->text.len + 1);
	if (n < 1) {
		console_answer(w, m, p->conn, 503, NULL, NULL,
		    console_error(n == -1 ? err : "nothing queued"));
		return;
	}
	/* Checked above: more rows would be a limit out of step. */
	if (n > 1)
		log_warnx("%s: %d rows for one message", __func__, n);
	snprintf(detail, sizeof(detail), "operator %s sends to %s on %s "
	    "(outbox row %lld)", who->operator, peer, account, (long long)id);
	log_info("console: %s", detail);
	store_audit(sup->store, sup_now(), "console", w->name, 0,
	    "conv.send", detail);
	console_answer(w, m, p->conn, 200, NULL, NULL,
	    json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id));
}
