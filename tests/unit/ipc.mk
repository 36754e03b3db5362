check_PROGRAMS += tests/unit/ipc/test_codec tests/unit/ipc/test_chan
TESTS += tests/unit/ipc/test_codec tests/unit/ipc/test_chan
tests_unit_ipc_test_codec_SOURCES = tests/unit/ipc/test_codec.c
tests_unit_ipc_test_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_ipc_test_codec_LDADD = $(UNIT_LDADD)
tests_unit_ipc_test_chan_SOURCES = tests/unit/ipc/test_chan.c
tests_unit_ipc_test_chan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_ipc_test_chan_LDADD = $(UNIT_LDADD)
