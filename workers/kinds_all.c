/*
 * wxgate-child's kinds: every one, so that it can run any worker and
 * check every kind's sandbox (--check-sandbox); the parent starts the
 * light kinds from wxgate-light instead (supervisor/kinds.c, K_F_LIGHT).
 */
#include <stddef.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "worker.h"

static const struct wk_kind *const kinds[] = {
	&wk_webchat,
	&wk_agent,
	&wk_wechat,
	&wk_wecom_webhook,
	&wk_wecom_bot,
	&wk_wechat_mp,
	&wk_wecom_app,
	&wk_metrics,
	&wk_console,
#ifdef WX_TEST_HOOKS
	&wk_loopback,
#endif
};

const struct wk_kind *const *
worker_kinds(size_t *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

/*
 * OpenSSL reads its config file and resolves digests lazily; do it now,
 * while files exist, rather than in the sandbox on the first handshake.
 */
void
worker_crypto_init(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (EVP_Digest("", 0, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    EVP_Digest("", 0, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("%s: OpenSSL digests unavailable", __func__);
}
