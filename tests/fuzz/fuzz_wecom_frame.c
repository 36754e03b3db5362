/*
 * libFuzzer harness for workers/wecom_bot/frame.c: arbitrary bytes as
 * a text frame from the WeCom server (protocols/wecom.md A.3-A.5),
 * then, when it parsed, what the worker does with one: the mention
 * cut, the reply context round trip, the notes of fetched attachments
 * cut (which ones by the input's last byte) and a stream frame that
 * echoes the text; an upload step's answer (A.5.8) gives ids the next
 * steps are built with (a chunk, finish, the media message).  What
 * comes out must be fit to send on: ids printable and
 * within WCF_ID_MAX, text within WCF_TEXT_MAX, valid UTF-8 without
 * NUL (it becomes an IPC string), and the same bytes through the
 * handshake checks (handshake.c) never read past the head.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "wecom_bot/frame.h"
#include "wecom_bot/handshake.h"

/* Bigger inputs only make jansson slower, not the parser deeper. */
#define FUZZER_MAXLEN	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_id(const char *s, int nonempty)
{
	size_t len = strlen(s);

	if ((nonempty && len == 0) || (len > 0 && !wcf_id_ok(s, len)))
		abort();
}

/* Listed attachments: fetchable URLs, notes inside the text. */
static void
check_att(struct wcf_in *in, unsigned int pick)
{
	const struct wcf_att *a;
	size_t i;

	if (in->natt > WCF_ATT_MAX)
		abort();
	for (i = 0; i < in->natt; i++) {
		a = &in->att[i];
		if (a->url != NULL && (strlen(a->url) > WCF_URL_MAX ||
		    (strncmp(a->url, "https://", 8) != 0 &&
		    strncmp(a->url, "http://", 7) != 0)))
			abort();
		if (strlen(a->aeskey) > WCF_KEY_MAX || (a->name != NULL &&
		    (strlen(a->name) > WCF_NAME_MAX ||
		    !ipc_utf8_valid(a->name, strlen(a->name)))))
			abort();
		if (a->note_off > in->textlen ||
		    a->note_len > in->textlen - a->note_off ||
		    (i > 0 && a->note_off < in->att[i - 1].note_off +
		    in->att[i - 1].note_len))
			abort();
		in->att[i].ok = (pick >> i) & 1;
	}
	wcf_notes_drop(in->text, &in->textlen, in->att, in->natt);
	if (strlen(in->text) != in->textlen ||
	    !ipc_utf8_valid(in->text, in->textlen))
		abort();
}

/* An upload answer's ids go into the next frames as they are. */
static void
check_ack(const struct wcf_in *in)
{
	static const uint8_t raw[] = "chunk";
	size_t n;
	char *f;

	n = strlen(in->upload_id);
	if (n > WCF_MEDIA_ID_MAX || (n > 0 && !ipc_utf8_valid(in->upload_id,
	    n)))
		abort();
	if (n > 0) {
		if ((f = wcf_upload_chunk("r", in->upload_id, 0, raw,
		    sizeof(raw) - 1)) == NULL)
			abort();
		free(f);
		if ((f = wcf_upload_finish("r", in->upload_id)) == NULL)
			abort();
		free(f);
	}
	n = strlen(in->media_id);
	if (n > WCF_MEDIA_ID_MAX || (n > 0 && !ipc_utf8_valid(in->media_id,
	    n)))
		abort();
	if (n > 0) {
		if ((f = wcf_media(in->req_id, NULL, 0, "image",
		    in->media_id)) == NULL)
			abort();
		free(f);
	}
}

static void
check_in(struct wcf_in *in, unsigned int pick)
{
	char ctx[WCF_CTX_MAX], req[WCF_ID_MAX + 1], chat[WCF_ID_MAX + 1];
	size_t len;
	char *f;
	int group;

	check_id(in->req_id, 1);
	if (in->kind == WCF_ACK)
		check_ack(in);
	if (in->kind != WCF_MSG && in->kind != WCF_EVENT)
		return;
	check_id(in->msgid, 1);
	check_id(in->userid, 1);
	check_id(in->chatid, in->group);
	if (in->kind == WCF_EVENT)
		return;
	if (in->text == NULL || in->textlen > WCF_TEXT_MAX ||
	    strlen(in->text) != in->textlen ||
	    !ipc_utf8_valid(in->text, in->textlen))
		abort();
	check_att(in, pick);
	len = in->textlen;
	(void)wcf_mention(in->text, &len, "Helper");
	if (len > in->textlen || strlen(in->text) != len ||
	    !ipc_utf8_valid(in->text, len))
		abort();
	if (wcf_ctx_encode(ctx, sizeof(ctx), in->req_id, in->group ?
	    in->chatid : in->userid, in->group) == -1)
		abort();
	if (wcf_ctx_decode(ctx, strlen(ctx), req, chat, &group) == -1 ||
	    strcmp(req, in->req_id) != 0 || group != in->group)
		abort();
	len = wcf_utf8_cut(in->text, len, WCF_CONTENT_MAX);
	if (len > WCF_CONTENT_MAX || !ipc_utf8_valid(in->text, len))
		abort();
	if ((f = wcf_stream(in->req_id, "stream_1_00000000", in->text, len,
	    1)) == NULL)
		abort();
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	struct wcf_in in;
	struct wsh_url url;
	const char *why;
	char *s;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (wcf_parse((const char *)data, size, &in) == WCF_OK) {
		check_in(&in, size > 0 ? data[size - 1] : 0);
		wcf_in_free(&in);
	}
	(void)wsh_check((const char *)data, size, key, &why);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (wsh_url_parse(s, &url) == 0 && (strlen(url.host) == 0 ||
	    strlen(url.port) == 0 || url.path[0] != '/'))
		abort();
	free(s);
	return 0;
}
