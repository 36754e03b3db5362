# The wechat worker's parsers of iLink responses: workers/wechat/
# ilink_parse.c (ilink.c for the token check it shares).
noinst_PROGRAMS += tests/fuzz/fuzz_ilink
tests_fuzz_fuzz_ilink_SOURCES = tests/fuzz/fuzz_ilink.c \
	workers/wechat/ilink_parse.c workers/wechat/ilink.c ipc/codec.c \
	common/log.c common/xmalloc.c common/jsonalloc.c
tests_fuzz_fuzz_ilink_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ilink_LDADD = $(DEPS_LIBS)
