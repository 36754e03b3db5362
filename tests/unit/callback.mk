# The callback channel's pure core: workers/callback/wxcrypt.c (with the
# C.10 vectors of shared/protocols/wecom.md), query.c, and the XML in
# xmlmsg.c and xmlmsg_write.c, with no loop, no socket and no worker.c.
check_PROGRAMS += tests/unit/workers/callback/test_wxcrypt
TESTS += tests/unit/workers/callback/test_wxcrypt
tests_unit_workers_callback_test_wxcrypt_SOURCES = \
	tests/unit/workers/callback/test_wxcrypt.c \
	workers/callback/wxcrypt.c workers/callback/wxcrypt.h \
	workers/callback/query.c workers/callback/query.h $(UNIT_COMMON)
tests_unit_workers_callback_test_wxcrypt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_callback_test_wxcrypt_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/workers/callback/test_query
TESTS += tests/unit/workers/callback/test_query
tests_unit_workers_callback_test_query_SOURCES = \
	tests/unit/workers/callback/test_query.c \
	workers/callback/query.c workers/callback/query.h $(UNIT_COMMON)
tests_unit_workers_callback_test_query_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_callback_test_query_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/workers/callback/test_xmlmsg
TESTS += tests/unit/workers/callback/test_xmlmsg
tests_unit_workers_callback_test_xmlmsg_SOURCES = \
	tests/unit/workers/callback/test_xmlmsg.c \
	workers/callback/xmlmsg.c workers/callback/xmlmsg_write.c \
	workers/callback/xmlmsg.h $(UNIT_COMMON)
tests_unit_workers_callback_test_xmlmsg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_callback_test_xmlmsg_LDADD = $(UNIT_LDADD)
# workers/callback/seen.c: nonces against replays (C.9).
check_PROGRAMS += tests/unit/workers/callback/test_seen
TESTS += tests/unit/workers/callback/test_seen
tests_unit_workers_callback_test_seen_SOURCES = \
	tests/unit/workers/callback/test_seen.c \
	workers/callback/seen.c $(UNIT_COMMON)
tests_unit_workers_callback_test_seen_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_callback_test_seen_LDADD = $(UNIT_LDADD)
# workers/callback/videourl.c: an Official Account's video_url (D.5).
check_PROGRAMS += tests/unit/workers/callback/test_videourl
TESTS += tests/unit/workers/callback/test_videourl
tests_unit_workers_callback_test_videourl_SOURCES = \
	tests/unit/workers/callback/test_videourl.c \
	workers/callback/videourl.c workers/callback/videourl.h $(UNIT_COMMON)
tests_unit_workers_callback_test_videourl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_callback_test_videourl_LDADD = $(UNIT_LDADD)
