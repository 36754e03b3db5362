# The wechat worker's pure protocol: workers/wechat/ilink.c (requests)
# and ilink_parse.c (responses), with no loop, no curl transfers and no
# worker.c.
check_PROGRAMS += tests/unit/workers/wechat/test_ilink
TESTS += tests/unit/workers/wechat/test_ilink
tests_unit_workers_wechat_test_ilink_SOURCES = \
	tests/unit/workers/wechat/test_ilink.c workers/wechat/ilink.c \
	workers/wechat/ilink_parse.c workers/wechat/ilink.h \
	workers/wechat/ilink_media.c workers/wechat/ilink_cdn.c $(UNIT_COMMON)
tests_unit_workers_wechat_test_ilink_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wechat_test_ilink_LDADD = $(UNIT_LDADD)
# Inbound media: workers/wechat/ilink_media.c (items, keys, quotes) and
# ilink_cdn.c (the decryption), pure.
check_PROGRAMS += tests/unit/workers/wechat/test_ilink_media
TESTS += tests/unit/workers/wechat/test_ilink_media
tests_unit_workers_wechat_test_ilink_media_SOURCES = \
	tests/unit/workers/wechat/test_ilink_media.c \
	workers/wechat/ilink_media.c workers/wechat/ilink_cdn.c \
	workers/wechat/ilink.c workers/wechat/ilink_parse.c \
	workers/wechat/ilink.h workers/wechat/ilink_media.h $(UNIT_COMMON)
tests_unit_workers_wechat_test_ilink_media_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wechat_test_ilink_media_LDADD = $(UNIT_LDADD)
# sup.resync in poll.c and send.c, with call.c, wechat.c, worker.c and
# net/fetch.c stubbed by the test.
check_PROGRAMS += tests/unit/workers/wechat/test_wechat_resync
TESTS += tests/unit/workers/wechat/test_wechat_resync
tests_unit_workers_wechat_test_wechat_resync_SOURCES = \
	tests/unit/workers/wechat/test_wechat_resync.c \
	workers/wechat/poll.c workers/wechat/send.c workers/outq.c \
	workers/outq.h workers/wechat/ilink.c \
	workers/wechat/ilink_parse.c workers/wechat/ilink.h \
	workers/wechat/inmedia.c workers/wechat/ilink_media.c \
	workers/wechat/ilink_cdn.c workers/wechat/upload.c \
	workers/wechat/budget.c workers/media.c \
	workers/wechat/wechat.h $(IPC_CODEC) $(UNIT_COMMON)
tests_unit_workers_wechat_test_wechat_resync_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wechat_test_wechat_resync_LDADD = $(UNIT_LDADD)
# budget.c: a context token's count, the worker's and the hub's.
check_PROGRAMS += tests/unit/workers/wechat/test_budget
TESTS += tests/unit/workers/wechat/test_budget
tests_unit_workers_wechat_test_budget_SOURCES = \
	tests/unit/workers/wechat/test_budget.c workers/wechat/budget.c \
	workers/wechat/wechat.h
tests_unit_workers_wechat_test_budget_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wechat_test_budget_LDADD = $(UNIT_LDADD)
