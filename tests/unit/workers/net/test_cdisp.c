/*
 * Unit tests for workers/net/cdisp.c: the names a media host may send
 * (filename* before filename, tokens, quoted-strings, percent escapes,
 * case), and what a hostile one gets instead: a name without its
 * directory, or none and why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/cdisp.h"

static enum cdisp_err
cd(const char *v, char out[CDISP_NAME_MAX + 1])
{
	return cdisp_filename(v, strlen(v), out);
}

static void
expect_name(const char *v, const char *name)
{
	char out[CDISP_NAME_MAX + 1];

	assert_int_equal(cd(v, out), CDISP_OK);
	assert_string_equal(out, name);
}

static void
expect_err(const char *v, enum cdisp_err e)
{
	char out[CDISP_NAME_MAX + 1];

	memset(out, 'x', sizeof(out));
	assert_int_equal(cd(v, out), e);
	assert_string_equal(out, "");
	assert_string_not_equal(cdisp_strerror(e), "unknown error");
}

static void
test_good(void **state)
{
	(void)state;
	expect_name("attachment; filename=\"report.pdf\"", "report.pdf");
	expect_name("attachment; filename=report.pdf", "report.pdf");
	expect_name("inline;filename=a.txt", "a.txt");
	/* Case-insensitive names; blanks around "=" and ";". */
	expect_name("attachment ;  FileName = \"a b.txt\" ", "a b.txt");
	/* 报告.pdf, UTF-8, percent-encoded. */
	expect_name("attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf",
	    "\xe6\x8a\xa5\xe5\x91\x8a.pdf");
	expect_name("attachment; FILENAME*=utf-8'zh-CN'%E6%8A%A5.txt",
	    "\xe6\x8a\xa5.txt");
	/* filename* wins, whichever comes first. */
	expect_name("attachment; filename=\"fallback.pdf\"; "
	    "filename*=UTF-8''real%20name.pdf", "real name.pdf");
	expect_name("attachment; filename*=UTF-8''real.pdf; "
	    "filename=\"fallback.pdf\"", "real.pdf");
	/* Another charset is passed over for filename=. */
	expect_name("attachment; filename*=ISO-8859-1''caf%E9.txt; "
	    "filename=\"cafe.txt\"", "cafe.txt");
	/* Quoted-pairs, and a quoted name percent-decoded (the SDK's). */
	expect_name("attachment; filename=\"say \\\"hi\\\".txt\"",
	    "say \"hi\".txt");
	expect_name("attachment; filename=\"%E6%8A%A5.txt\"", "\xe6\x8a\xa5.txt");
	/* Raw UTF-8 in a quoted-string. */
	expect_name("attachment; filename=\"\xe6\x8a\xa5.txt\"",
	    "\xe6\x8a\xa5.txt");
	/* Other parameters, and empty ones, let by. */
	expect_name("attachment; size=12; creation-date=\"Wed, 12 Feb 1997 "
	    "16:29:51 -0500\"; filename=x.bin;", "x.bin");
	expect_name("attachment;; filename=x.bin", "x.bin");
}

static void
test_paths(void **state)
{
	(void)state;
	expect_name("attachment; filename=\"../../etc/passwd\"", "passwd");
	expect_name("attachment; filename=\"C:\\\\Windows\\\\evil.exe\"",
	    "evil.exe");
	expect_name("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fshadow",
	    "shadow");
	expect_name("attachment; filename*=UTF-8''a%5Cb.txt", "b.txt");
	expect_err("attachment; filename=\"dir/\"", CDISP_E_EMPTY);
	expect_err("attachment; filename*=UTF-8''..", CDISP_E_EMPTY);
	expect_err("attachment; filename=\"a/..\"", CDISP_E_EMPTY);
	expect_err("attachment; filename=\"/.\"", CDISP_E_EMPTY);
	expect_err("attachment; filename=\"\"", CDISP_E_EMPTY);
}

static void
test_refused(void **state)
{
	char out[CDISP_NAME_MAX + 1];
	char v[CDISP_VALUE_MAX + 64];
	int n;

	(void)state;
	expect_err("attachment", CDISP_E_NONE);
	expect_err("attachment; size=3", CDISP_E_NONE);
	expect_err("attachment; filename*=ISO-8859-1''x", CDISP_E_NONE);
	expect_err("", CDISP_E_SYNTAX);
	expect_err("; filename=a", CDISP_E_SYNTAX);
	expect_err("attachment filename=a", CDISP_E_SYNTAX);
	expect_err("attachment; filename", CDISP_E_SYNTAX);
	expect_err("attachment; filename=", CDISP_E_SYNTAX);
	expect_err("attachment; filename=\"open", CDISP_E_SYNTAX);
	expect_err("attachment; filename=\"a\\", CDISP_E_SYNTAX);
	expect_err("attachment; filename=a b", CDISP_E_SYNTAX);
	expect_err("attachment; filename=\"a\"b", CDISP_E_SYNTAX);
	expect_err("attachment; filename*=\"UTF-8''a\"", CDISP_E_SYNTAX);
	expect_err("attachment; filename*=UTF-8'a", CDISP_E_SYNTAX);
	expect_err("attachment; filename*=UTF-8''a*b", CDISP_E_SYNTAX);
	expect_err("attachment; filename=\"a\tb\x01\"", CDISP_E_SYNTAX);
	expect_err("attachment; filename=a; FILENAME=b", CDISP_E_DUP);
	expect_err("attachment; filename*=UTF-8''a; filename*=UTF-8''b",
	    CDISP_E_DUP);
	/* Bad escapes, in either parameter. */
	expect_err("attachment; filename*=UTF-8''%E6%8", CDISP_E_ESCAPE);
	expect_err("attachment; filename*=UTF-8''%zz.txt", CDISP_E_ESCAPE);
	expect_err("attachment; filename=\"100%.txt\"", CDISP_E_ESCAPE);
	/* A bad filename* is refused, not traded for filename=. */
	expect_err("attachment; filename=ok.txt; filename*=UTF-8''%G0",
	    CDISP_E_ESCAPE);
	/* Control bytes, escaped or quoted. */
	expect_err("attachment; filename*=UTF-8''a%00b", CDISP_E_BYTE);
	expect_err("attachment; filename*=UTF-8''a%0D%0Ab", CDISP_E_BYTE);
	expect_err("attachment; filename=\"a%7Fb\"", CDISP_E_BYTE);
	expect_err("attachment; filename=\"a\tb\"", CDISP_E_BYTE);
	/* Not UTF-8: Latin-1, overlong "/", a surrogate, a lone lead. */
	expect_err("attachment; filename*=UTF-8''caf%E9", CDISP_E_UTF8);
	expect_err("attachment; filename*=UTF-8''a%C0%AFb", CDISP_E_UTF8);
	expect_err("attachment; filename*=UTF-8''%ED%A0%80", CDISP_E_UTF8);
	expect_err("attachment; filename*=UTF-8''%F4%90%80%80", CDISP_E_UTF8);
	expect_err("attachment; filename=\"\xe6\x8a\"", CDISP_E_UTF8);
	/* A NUL inside the value's length. */
	assert_int_equal(cdisp_filename("attachment; filename=a\0b", 24, out),
	    CDISP_E_SYNTAX);
	assert_string_equal(out, "");
	/* Over the bounds: the value, and the name. */
	n = snprintf(v, sizeof(v), "attachment; filename=\"%0*d\"",
	    CDISP_VALUE_MAX, 0);
	assert_int_equal(cdisp_filename(v, (size_t)n, out), CDISP_E_LONG);
	n = snprintf(v, sizeof(v), "attachment; filename=%0*d",
	    CDISP_NAME_MAX + 1, 0);
	assert_int_equal(cdisp_filename(v, (size_t)n, out), CDISP_E_LONG);
	n = snprintf(v, sizeof(v), "attachment; filename=%0*d",
	    CDISP_NAME_MAX, 0);
	assert_int_equal(cdisp_filename(v, (size_t)n, out), CDISP_OK);
	assert_int_equal(strlen(out), CDISP_NAME_MAX);
	/* A long directory is cut before the name's bound applies. */
	n = snprintf(v, sizeof(v), "attachment; filename=\"%0*d/a.txt\"",
	    CDISP_NAME_MAX * 2, 0);
	assert_int_equal(cdisp_filename(v, (size_t)n, out), CDISP_OK);
	assert_string_equal(out, "a.txt");
	assert_string_equal(cdisp_strerror(CDISP_E_MAX), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
