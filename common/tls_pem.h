/*
 * A TLS server's context from a certificate chain and its key in PEM,
 * held in memory (tls_pem.c).  The configuration reader builds one to
 * check the pair, so that a wrong key is a configuration error; the
 * worker that serves TLS (the console's) builds its own before its
 * sandbox, from the bytes in its slice, since it can open no file.
 */
#ifndef WX_TLS_PEM_H
#define WX_TLS_PEM_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Certificates one chain may hold: the leaf and its intermediates. */
#define TLS_PEM_CHAIN_MAX	8

/*
 * TLS 1.2 and later, no renegotiation.  NULL with err saying why (never
 * the key's bytes): no certificate, one too many, an unreadable or
 * encrypted key, or a key that is not the certificate's.
 */
SSL_CTX	*tls_pem_server(const char *cert, size_t certlen, const char *key,
	    size_t keylen, char *err, size_t errlen);
/* Seconds the leaf certificate has left; negative once expired. */
long	 tls_pem_left(SSL_CTX *);

#endif
