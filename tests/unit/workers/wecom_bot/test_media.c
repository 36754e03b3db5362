/*
 * Unit tests for workers/wecom_bot/media.c: the test vector of
 * protocols/wecom.md A.7 byte for byte, a pad above 16 (the case a
 * 16-byte PKCS#7 decryptor gets wrong), the lenient key padding of
 * A.11, and every refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wecom_bot/media.h"

#define KEY_B64	"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

/* A.7: "hello, wecom media", 18 bytes padded with 14 x 0x0e. */
static const uint8_t vec_ct[32] = {
	0xfb, 0x15, 0xe4, 0x96, 0x6a, 0x05, 0xbc, 0x01, 0x35, 0x0c, 0x58,
	0x8a, 0xcd, 0xa5, 0x7a, 0x60, 0x4b, 0x0e, 0x01, 0xe1, 0xe6, 0x3b,
	0x3a, 0xda, 0xbc, 0x8a, 0x6d, 0x98, 0x38, 0xe0, 0x75, 0x99
};

/*
 * "0123456789" padded with 22 x 0x16 to 32 bytes, encrypted with the
 * same key and IV by `openssl enc -aes-256-cbc -nopad`.
 */
static const uint8_t pad22_ct[32] = {
	0x17, 0x0d, 0xea, 0xe4, 0xa6, 0xc9, 0x14, 0x8f, 0x27, 0x55, 0x7c,
	0x45, 0x26, 0xc4, 0x68, 0xd1, 0xd4, 0x2b, 0x71, 0xf9, 0x77, 0xc8,
	0x87, 0x0f, 0x6b, 0x97, 0xf1, 0xcc, 0x0b, 0xfa, 0x42, 0xbf
};

static void
test_key(void **state)
{
	uint8_t key[WCM_KEY_LEN];
	int i;

	(void)state;
	assert_int_equal(wcm_key_decode(KEY_B64, strlen(KEY_B64), key), 0);
	for (i = 0; i < WCM_KEY_LEN; i++)
		assert_int_equal(key[i], 0x20 + i);
	/* Without its '=' (A.7 #2). */
	memset(key, 0, sizeof(key));
	assert_int_equal(wcm_key_decode(KEY_B64, strlen(KEY_B64) - 1, key),
	    0);
	assert_int_equal(key[31], 0x3f);
	assert_int_equal(wcm_key_decode(KEY_B64, 40, key), -1);
	assert_int_equal(wcm_key_decode("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6"
	    "Ozw9Pj==", 44, key), -1);
	assert_int_equal(wcm_key_decode("!!EiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6"
	    "Ozw9Pj8=", 44, key), -1);
}

static void
test_decrypt_vectors(void **state)
{
	uint8_t key[WCM_KEY_LEN], out[32];
	size_t n;

	(void)state;
	assert_int_equal(wcm_key_decode(KEY_B64, strlen(KEY_B64), key), 0);
	assert_int_equal(wcm_decrypt(key, vec_ct, sizeof(vec_ct), out, &n), 0);
	assert_int_equal(n, 18);
	assert_memory_equal(out, "hello, wecom media", 18);
	assert_int_equal(wcm_decrypt(key, pad22_ct, sizeof(pad22_ct), out,
	    &n), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "0123456789", 10);
}

static void
test_decrypt_refusals(void **state)
{
	uint8_t key[WCM_KEY_LEN], out[48], ct[32];
	size_t n;

	(void)state;
	assert_int_equal(wcm_key_decode(KEY_B64, strlen(KEY_B64), key), 0);
	/* Not a multiple of 32 (16 is enough for AES, not for the pad). */
	assert_int_equal(wcm_decrypt(key, vec_ct, 16, out, &n), -1);
	assert_int_equal(wcm_decrypt(key, vec_ct, 0, out, &n), -1);
	/* A flipped byte in the last block breaks the pad. */
	memcpy(ct, vec_ct, sizeof(ct));
	ct[31] ^= 0x01;
	assert_int_equal(wcm_decrypt(key, ct, sizeof(ct), out, &n), -1);
	/* The wrong key. */
	key[0] ^= 0x01;
	assert_int_equal(wcm_decrypt(key, vec_ct, sizeof(vec_ct), out, &n),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_decrypt_vectors),
		cmocka_unit_test(test_decrypt_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
