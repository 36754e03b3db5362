/*
 * Unit tests for common/sniff.c: each image format by its magic
 * numbers, and what is not one (HTML named .png, a short or truncated
 * head, RIFF that is not WebP); names made safe for a header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sniff.h"

static void
test_images(void **state)
{
	(void)state;
	assert_string_equal(sniff_image("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16),
	    "image/png");
	assert_string_equal(sniff_image("\xff\xd8\xff\xe0", 4), "image/jpeg");
	assert_string_equal(sniff_image("GIF89a..", 8), "image/gif");
	assert_string_equal(sniff_image("GIF87a", 6), "image/gif");
	assert_string_equal(sniff_image("RIFF\x10\0\0\0WEBPVP8 ", 16),
	    "image/webp");
}

static void
test_not_images(void **state)
{
	(void)state;
	assert_null(sniff_image("<html><img src=x>", 17));
	assert_null(sniff_image("\x89PNG\r\n\x1a", 7));
	assert_null(sniff_image("\xff\xd8", 2));
	assert_null(sniff_image("RIFF\x10\0\0\0WAVEfmt ", 16));
	assert_null(sniff_image("XXXX\x10\0\0\0WEBPVP8 ", 16));
	assert_null(sniff_image("", 0));
	/* SVG can carry script: a download, never an image. */
	assert_null(sniff_image("<svg xmlns=", 11));
}

static void
test_names(void **state)
{
	char out[64];

	(void)state;
	sniff_ascii_name("<img src=x onerror=alert(1)>.png", out,
	    sizeof(out));
	assert_string_equal(out, "_img src_x onerror_alert_1__.png");
	sniff_ascii_name("a\"b\r\nc;d", out, sizeof(out));
	assert_string_equal(out, "a_b__c_d");
	sniff_ascii_name("", out, sizeof(out));
	assert_string_equal(out, "file");
	sniff_ascii_name(".hidden", out, sizeof(out));
	assert_string_equal(out, "_hidden");
	sniff_ascii_name("0123456789", out, 5);
	assert_string_equal(out, "0123");

	assert_int_equal(sniff_pct_name("报告 v1.pdf", out, sizeof(out)), 0);
	assert_string_equal(out, "%E6%8A%A5%E5%91%8A%20v1.pdf");
	assert_int_equal(sniff_pct_name("a\"'b", out, sizeof(out)), 0);
	assert_string_equal(out, "a%22%27b");
	assert_int_equal(sniff_pct_name("报告", out, 12), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_not_images),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
