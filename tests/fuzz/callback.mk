# The callback channel's parsers of what WeChat and WeCom POST:
# workers/callback/wxcrypt.c with query.c (signature inputs, the
# envelope) and the callback XML, xmlmsg.c with its writer.
noinst_PROGRAMS += tests/fuzz/fuzz_wxcrypt
tests_fuzz_fuzz_wxcrypt_SOURCES = tests/fuzz/fuzz_wxcrypt.c \
	workers/callback/wxcrypt.c workers/callback/query.c \
	common/log.c common/xmalloc.c common/b64.c common/hex.c
tests_fuzz_fuzz_wxcrypt_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_wxcrypt_LDADD = $(DEPS_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz_xmlmsg
tests_fuzz_fuzz_xmlmsg_SOURCES = tests/fuzz/fuzz_xmlmsg.c \
	workers/callback/xmlmsg.c workers/callback/xmlmsg_write.c \
	common/log.c common/xmalloc.c
tests_fuzz_fuzz_xmlmsg_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_xmlmsg_LDADD = $(DEPS_LIBS)
# An Official Account's media/get answer for a video: its video_url.
noinst_PROGRAMS += tests/fuzz/fuzz_videourl
tests_fuzz_fuzz_videourl_SOURCES = tests/fuzz/fuzz_videourl.c \
	workers/callback/videourl.c common/log.c common/xmalloc.c
tests_fuzz_fuzz_videourl_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_videourl_LDADD = $(DEPS_LIBS)
