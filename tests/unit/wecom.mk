# The wecom_bot worker's pure protocol: workers/wecom_bot/frame.c
# (frames), media.c (attachment decryption) and handshake.c (the
# WebSocket upgrade), with no loop, no socket and no worker.c.
check_PROGRAMS += tests/unit/workers/wecom_bot/test_frame
TESTS += tests/unit/workers/wecom_bot/test_frame
tests_unit_workers_wecom_bot_test_frame_SOURCES = \
	tests/unit/workers/wecom_bot/test_frame.c workers/wecom_bot/frame.c \
	workers/wecom_bot/frame.h $(UNIT_COMMON)
tests_unit_workers_wecom_bot_test_frame_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wecom_bot_test_frame_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/workers/wecom_bot/test_media
TESTS += tests/unit/workers/wecom_bot/test_media
tests_unit_workers_wecom_bot_test_media_SOURCES = \
	tests/unit/workers/wecom_bot/test_media.c workers/wecom_bot/media.c \
	workers/wecom_bot/media.h $(UNIT_COMMON)
tests_unit_workers_wecom_bot_test_media_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wecom_bot_test_media_LDADD = $(UNIT_LDADD)
check_PROGRAMS += tests/unit/workers/wecom_bot/test_handshake
TESTS += tests/unit/workers/wecom_bot/test_handshake
tests_unit_workers_wecom_bot_test_handshake_SOURCES = \
	tests/unit/workers/wecom_bot/test_handshake.c \
	workers/wecom_bot/handshake.c workers/wecom_bot/handshake.h \
	$(UNIT_COMMON)
tests_unit_workers_wecom_bot_test_handshake_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_wecom_bot_test_handshake_LDADD = $(UNIT_LDADD)
