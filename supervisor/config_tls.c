/*
 * The console's certificate and key, tried as its worker will load them
 * (tls_pem.c), so that a wrong key fails the start or reload with its
 * reason.  A file of its own: the configuration reader calls it, the
 * hub (CFG_F_HUB) never does, and wxgate-hub, which links no OpenSSL,
 * defines its own in hubmain.c so that the linker leaves this out.
 */
#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"
#include "config_int.h"
#include "tls_pem.h"

int
cfg_tls_pair(const char *cert, size_t certlen, const char *key,
    size_t keylen, char *err, size_t errlen)
{
	SSL_CTX *tls;

	/* Here, not at start: the reader may open no file. */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if ((tls = tls_pem_server(cert, certlen, key, keylen, err,
	    errlen)) == NULL)
		return -1;
	SSL_CTX_free(tls);
	return 0;
}
