/*
 * libFuzzer harness for workers/wechat/ilink_media.c: arbitrary bytes
 * as one inbound message's JSON.  Whatever comes in, the list is within
 * its bounds, no more parts are offered than one inbound.media carries,
 * a usable item has somewhere to be fetched from, a name fits a part,
 * and a quote is valid UTF-8 no longer than its levels allow.  The
 * first item's URL, against a loopback CDN, is either refused or holds
 * no byte a URL may not.  The same bytes also go through the aes_key
 * decoder: a key it accepts is 16 bytes from 24 or 44 characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "wechat/ilink.h"
#include "wechat/ilink_media.h"
#include "xmalloc.h"

/* A message with a few items; more only slows jansson down. */
#define FUZZER_MAXLEN	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_list(const struct ilink_mlist *m)
{
	const struct ilink_media *md;
	const char *why;
	size_t i, ok = 0;
	char *u;

	if (m->n > ILINK_ITEMS_MAX)
		abort();
	for (i = 0; i < m->n; i++) {
		md = &m->v[i];
		if (md->err != ILINK_M_OK) {
			if (md->url != NULL || md->query != NULL ||
			    md->name != NULL)
				abort();
			continue;
		}
		ok++;
		if (md->kind == ILINK_MK_OTHER ||
		    (md->url == NULL && md->query == NULL))
			abort();
		if (md->name != NULL && (strlen(md->name) > IPC_FILENAME_MAX ||
		    !ipc_utf8_valid(md->name, strlen(md->name))))
			abort();
		if (md->kind != ILINK_MK_IMAGE && md->keyenc == ILINK_KEY_NONE)
			abort();
		if ((u = ilink_media_url("http://127.0.0.1:9/c2c", md,
		    &why)) != NULL) {
			if (strpbrk(u, " \r\n\t") != NULL &&
			    md->url == NULL)
				abort();
			xfree_secret(u);
		}
	}
	if (ok != m->ok || ok > IPC_PARTS_MAX)
		abort();
	if (m->quote != NULL && (strlen(m->quote) > ILINK_REF_DEPTH *
	    (ILINK_QUOTE_MAX + 1) * (2 * ILINK_REF_DEPTH + 2) ||
	    !ipc_utf8_valid(m->quote, strlen(m->quote))))
		abort();
	if (m->quote != NULL && m->quote_err != ILINK_M_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ilink_mlist m;
	enum ilink_keyenc enc;
	uint8_t key[ILINK_KEY_LEN];

	if (size > FUZZER_MAXLEN)
		return 0;
	if (ilink_media_parse((const char *)data, size, &m) == 0)
		check_list(&m);
	ilink_mlist_clear(&m);
	if (ilink_aes_key((const char *)data, size, key, &enc) == 0 &&
	    ((enc == ILINK_KEY_B64RAW && size != 24) ||
	    (enc == ILINK_KEY_B64HEX && size != 44)))
		abort();
	return 0;
}
