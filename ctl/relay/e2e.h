/*
 * End-to-end encryption between the operator's browser and wxgate-relay
 * (issue #19; the format is docs/e2e.md's): AES-256-GCM under a random
 * data key, the data key wrapped under a key scrypt derives from the
 * passphrase.  What a message belongs to (its kind, scope, sender and
 * sequence number) is the associated data, so the server in between can
 * neither read, alter, reorder, replay nor move a message unnoticed.
 */
#ifndef WX_RELAY_E2E_H
#define WX_RELAY_E2E_H

#include <stddef.h>
#include <stdint.h>

#define E2E_KEY_LEN		32
#define E2E_NONCE_LEN		12
#define E2E_TAG_LEN		16
#define E2E_SALT_LEN		16
#define E2E_AAD_MAX		512
/* The most plaintext one envelope carries (an agent's whole reply). */
#define E2E_TEXT_MAX		(128 * 1024)
/* An envelope's JSON: base64 of the text and tag, and room. */
#define E2E_ENVELOPE_MAX	(E2E_TEXT_MAX / 3 * 4 + 256)

/* scrypt's cost, stored with the wrapped key so it can grow later. */
struct e2e_kdf {
	uint64_t	 n;		/* a power of two, 2^10..2^20 */
	uint32_t	 r;
	uint32_t	 p;
	uint8_t		 salt[E2E_SALT_LEN];
};

/*
 * The cost of a new record (docs/e2e.md "Keys", measured by
 * tests/bench/bench_e2e.c and tests/browser/e2e_crypto.test.mjs): the
 * browser pays it once per page load, the relay once per start.
 */
#define E2E_COST_DEFAULT_N	65536
#define E2E_COST_DEFAULT_R	8
#define E2E_COST_DEFAULT_P	1

/* A record is a few hundred bytes; anything longer is refused unread. */
#define E2E_RECORD_MAX		1024

/* The data key wrapped under the passphrase's key (e2e_key.c). */
struct e2e_record {
	struct e2e_kdf	 kdf;
	uint8_t		 nonce[E2E_NONCE_LEN];
	uint8_t		 wrapped[E2E_KEY_LEN + E2E_TAG_LEN];
};

int	 e2e_kdf_valid(const struct e2e_kdf *);
int	 e2e_scrypt(const char *pass, size_t len, const uint8_t *salt,
	    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint8_t *out,
	    size_t outlen);
int	 e2e_derive(const char *pass, size_t len, const struct e2e_kdf *,
	    uint8_t kek[E2E_KEY_LEN]);
int	 e2e_aad(char *buf, size_t len, const char *kind, const char *scope,
	    const char *sender, uint64_t seq);
int	 e2e_seal_nonce(const uint8_t key[E2E_KEY_LEN], const char *aad,
	    const uint8_t nonce[E2E_NONCE_LEN], const uint8_t *pt, size_t len,
	    uint8_t *ct);
int	 e2e_seal(const uint8_t key[E2E_KEY_LEN], const char *aad,
	    const uint8_t *pt, size_t len, uint8_t nonce[E2E_NONCE_LEN],
	    uint8_t *ct);
int	 e2e_open(const uint8_t key[E2E_KEY_LEN], const char *aad,
	    const uint8_t nonce[E2E_NONCE_LEN], const uint8_t *ct, size_t len,
	    uint8_t *pt);
int	 e2e_wrap(const uint8_t kek[E2E_KEY_LEN], const char *owner,
	    const uint8_t dk[E2E_KEY_LEN], uint8_t nonce[E2E_NONCE_LEN],
	    uint8_t out[E2E_KEY_LEN + E2E_TAG_LEN]);
int	 e2e_unwrap(const uint8_t kek[E2E_KEY_LEN], const char *owner,
	    const uint8_t nonce[E2E_NONCE_LEN],
	    const uint8_t in[E2E_KEY_LEN + E2E_TAG_LEN],
	    uint8_t dk[E2E_KEY_LEN]);
char	*e2e_envelope_seal(const uint8_t key[E2E_KEY_LEN], const char *aad,
	    const char *text, size_t len);
int	 e2e_envelope_open(const uint8_t key[E2E_KEY_LEN], const char *aad,
	    const char *env, size_t envlen, char **text, size_t *len,
	    const char **why);

int	 e2e_record_parse(const char *json, size_t len, struct e2e_record *);
char	*e2e_record_format(const struct e2e_record *);
int	 e2e_record_new(const char *pass, size_t len, const char *owner,
	    const struct e2e_kdf *cost, const uint8_t dk[E2E_KEY_LEN],
	    struct e2e_record *);
int	 e2e_record_unwrap(const struct e2e_record *, const char *pass,
	    size_t len, const char *owner, uint8_t dk[E2E_KEY_LEN]);

#endif
