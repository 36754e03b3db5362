/*
 * TLS server contexts from PEM in memory (tls_pem.h).  Used by the
 * configuration's console check and by the console's worker.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_pem.h"

static int	tls_pem_nopass(char *, int, int, void *);
static int	tls_pem_chain(SSL_CTX *, const char *, size_t, char *,
		    size_t);

/* An encrypted key would need a passphrase nobody is there to type. */
static int
tls_pem_nopass(char *buf, int size, int rw, void *arg)
{
	(void)buf; (void)size; (void)rw; (void)arg;
	return -1;
}

/* The leaf first, then the intermediates, as certbot's fullchain. */
static int
tls_pem_chain(SSL_CTX *ctx, const char *cert, size_t certlen, char *err,
    size_t errlen)
{
	unsigned long e;
	BIO *b;
	X509 *x;
	int n = 0, ok = 1;

	if (certlen > INT_MAX ||
	    (b = BIO_new_mem_buf(cert, (int)certlen)) == NULL) {
		snprintf(err, errlen, "certificate: out of memory");
		return -1;
	}
	while ((x = PEM_read_bio_X509(b, NULL, tls_pem_nopass, NULL)) != NULL) {
		if (++n > TLS_PEM_CHAIN_MAX) {
			snprintf(err, errlen, "certificate: more than %d in "
			    "the chain", TLS_PEM_CHAIN_MAX);
			X509_free(x);
			ok = 0;
			break;
		}
		if (n == 1) {
			ok = SSL_CTX_use_certificate(ctx, x) == 1;
			X509_free(x);
		} else if (SSL_CTX_add_extra_chain_cert(ctx, x) != 1) {
			X509_free(x);
			ok = 0;
		}
		if (!ok) {
			snprintf(err, errlen, "certificate %d: refused by "
			    "OpenSSL", n);
			break;
		}
	}
	BIO_free(b);
	/*
	 * The loop ends on "no start line" at the end of the chain; any
	 * other reason is a damaged certificate after good ones, which
	 * would otherwise be served as a chain cut short.
	 */
	e = ERR_peek_last_error();
	if (ok && n > 0 && (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)) {
		snprintf(err, errlen, "certificate %d: not a valid PEM "
		    "certificate", n + 1);
		ok = 0;
	}
	ERR_clear_error();
	if (ok && n == 0)
		snprintf(err, errlen, "certificate: no PEM certificate in it");
	return ok && n > 0 ? 0 : -1;
}

SSL_CTX *
tls_pem_server(const char *cert, size_t certlen, const char *key,
    size_t keylen, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	EVP_PKEY *pk = NULL;
	BIO *b;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (tls_pem_chain(ctx, cert, certlen, err, errlen) == -1)
		goto fail;
	if (keylen <= INT_MAX &&
	    (b = BIO_new_mem_buf(key, (int)keylen)) != NULL) {
		pk = PEM_read_bio_PrivateKey(b, NULL, tls_pem_nopass, NULL);
		BIO_free(b);
	}
	if (pk == NULL) {
		snprintf(err, errlen, "key: no unencrypted PEM private key "
		    "in it");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key: not the certificate's key");
		goto fail;
	}
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ctx;
fail:
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

long
tls_pem_left(SSL_CTX *ctx)
{
	X509 *x;
	int days, secs;

	if ((x = SSL_CTX_get0_certificate(ctx)) == NULL ||
	    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
		return -1;
	return (long)days * 86400 + secs;
}
