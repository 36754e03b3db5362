/*
 * Unit tests for common/sha.c and b64_encode (the light workers' hashes
 * and base64): FIPS 180-4's and RFC 6455's known answers, then every
 * length across the padding's block boundaries against OpenSSL's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "b64.h"
#include "sha.h"

static void
hexof(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void
test_known_answers(void **state)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijki"
	    "jkljklmklmnlmnomnopnopq";
	uint8_t md[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], *million;

	(void)state;
	sha1("abc", 3, md);
	hexof(md, SHA1_LEN, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1("", 0, md);
	hexof(md, SHA1_LEN, hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1(two_blocks, strlen(two_blocks), md);
	hexof(md, SHA1_LEN, hex);
	assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

	sha256("abc", 3, md);
	hexof(md, SHA256_LEN, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sha256("", 0, md);
	hexof(md, SHA256_LEN, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	sha256(two_blocks, strlen(two_blocks), md);
	hexof(md, SHA256_LEN, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");

	million = malloc(1000000);
	assert_non_null(million);
	memset(million, 'a', 1000000);
	sha1(million, 1000000, md);
	hexof(md, SHA1_LEN, hex);
	assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	sha256(million, 1000000, md);
	hexof(md, SHA256_LEN, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* Every length from 0 to 300: 55, 56, 63, 64 and 119, 120 included. */
static void
test_lengths_match_openssl(void **state)
{
	uint8_t buf[300], md[SHA256_LEN], ref[EVP_MAX_MD_SIZE];
	unsigned int n;
	size_t len;

	(void)state;
	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)(len * 131 + 7);
	for (len = 0; len <= sizeof(buf); len++) {
		sha1(buf, len, md);
		assert_int_equal(EVP_Digest(buf, len, ref, &n, EVP_sha1(),
		    NULL), 1);
		assert_memory_equal(md, ref, SHA1_LEN);
		sha256(buf, len, md);
		assert_int_equal(EVP_Digest(buf, len, ref, &n, EVP_sha256(),
		    NULL), 1);
		assert_memory_equal(md, ref, SHA256_LEN);
	}
}

static void
test_b64_encode(void **state)
{
	uint8_t buf[64], back[64];
	char out[B64_LEN(sizeof(buf)) + 1], ref[B64_LEN(sizeof(buf)) + 1];
	size_t len;

	(void)state;
	/* RFC 4648 section 10. */
	assert_int_equal(b64_encode((const uint8_t *)"", 0, out), 0);
	assert_string_equal(out, "");
	b64_encode((const uint8_t *)"f", 1, out);
	assert_string_equal(out, "Zg==");
	b64_encode((const uint8_t *)"fo", 2, out);
	assert_string_equal(out, "Zm8=");
	b64_encode((const uint8_t *)"foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)(0xff - len * 37);
	for (len = 1; len <= sizeof(buf); len++) {
		assert_int_equal(b64_encode(buf, len, out), B64_LEN(len));
		EVP_EncodeBlock((unsigned char *)ref, buf, (int)len);
		assert_string_equal(out, ref);
		assert_int_equal(b64_decode(out, strlen(out), 0, back,
		    sizeof(back)), (int)len);
		assert_memory_equal(back, buf, len);
	}
}

/* RFC 6455 section 1.3's handshake, as ws.c computes it. */
static void
test_websocket_accept(void **state)
{
	static const char in[] = "dGhlIHNhbXBsZSBub25jZQ=="
	    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	uint8_t md[SHA1_LEN];
	char out[B64_LEN(SHA1_LEN) + 1];

	(void)state;
	sha1(in, sizeof(in) - 1, md);
	b64_encode(md, sizeof(md), out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_lengths_match_openssl),
		cmocka_unit_test(test_b64_encode),
		cmocka_unit_test(test_websocket_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
