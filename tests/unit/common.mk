# Shared helpers (common/): secrets are wiped before free() hands their
# memory back.  free() is wrapped so the tests see the bytes it gets.
check_PROGRAMS += tests/unit/common/test_xmalloc
TESTS += tests/unit/common/test_xmalloc
tests_unit_common_test_xmalloc_SOURCES = \
	tests/unit/common/test_xmalloc.c $(UNIT_COMMON)
tests_unit_common_test_xmalloc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_xmalloc_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=free
tests_unit_common_test_xmalloc_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/common/test_jsonalloc
TESTS += tests/unit/common/test_jsonalloc
tests_unit_common_test_jsonalloc_SOURCES = \
	tests/unit/common/test_jsonalloc.c $(UNIT_COMMON)
tests_unit_common_test_jsonalloc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_jsonalloc_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=free
tests_unit_common_test_jsonalloc_LDADD = $(UNIT_LDADD)

# The console's media type, by magic numbers only (common/sniff.c).
check_PROGRAMS += tests/unit/common/test_sniff
TESTS += tests/unit/common/test_sniff
tests_unit_common_test_sniff_SOURCES = \
	tests/unit/common/test_sniff.c common/sniff.c
tests_unit_common_test_sniff_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_sniff_LDADD = $(UNIT_LDADD)

# The light workers' SHA-1, SHA-256 and base64 out (common/sha.c, b64.c).
check_PROGRAMS += tests/unit/common/test_sha
TESTS += tests/unit/common/test_sha
tests_unit_common_test_sha_SOURCES = \
	tests/unit/common/test_sha.c common/sha.c common/b64.c
tests_unit_common_test_sha_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_sha_LDADD = $(UNIT_LDADD)

# A relayed line is one line on every sink (common/log.c).
check_PROGRAMS += tests/unit/common/test_log
TESTS += tests/unit/common/test_log
tests_unit_common_test_log_SOURCES = \
	tests/unit/common/test_log.c $(UNIT_COMMON)
tests_unit_common_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_log_LDADD = $(UNIT_LDADD)
