# The wechat worker's parsers of iLink responses: workers/wechat/
# ilink_parse.c (ilink.c for the token check it shares).
noinst_PROGRAMS += tests/fuzz/fuzz_ilink
tests_fuzz_fuzz_ilink_SOURCES = tests/fuzz/fuzz_ilink.c \
	workers/wechat/ilink_parse.c workers/wechat/ilink.c $(IPC_CODEC) \
	workers/wechat/ilink_media.c \
	common/log.c common/xmalloc.c common/xreallocarray.c \
	common/jsonalloc.c common/b64.c common/hex.c
tests_fuzz_fuzz_ilink_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ilink_LDADD = $(DEPS_LIBS)
# The media items, aes_keys and quotes of one inbound message:
# workers/wechat/ilink_media.c, from arbitrary JSON.
noinst_PROGRAMS += tests/fuzz/fuzz_ilink_media
tests_fuzz_fuzz_ilink_media_SOURCES = tests/fuzz/fuzz_ilink_media.c \
	workers/wechat/ilink_media.c workers/wechat/ilink_parse.c \
	workers/wechat/ilink.c $(IPC_CODEC) \
	common/log.c common/xmalloc.c common/xreallocarray.c \
	common/jsonalloc.c common/b64.c common/hex.c
tests_fuzz_fuzz_ilink_media_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ilink_media_LDADD = $(DEPS_LIBS)
# The CDN decryption: workers/wechat/ilink_cdn.c.
noinst_PROGRAMS += tests/fuzz/fuzz_ilink_cdn
tests_fuzz_fuzz_ilink_cdn_SOURCES = tests/fuzz/fuzz_ilink_cdn.c \
	workers/wechat/ilink_cdn.c
tests_fuzz_fuzz_ilink_cdn_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ilink_cdn_LDADD = $(DEPS_LIBS)
