IPC_SRC = $(IPC_CODEC) ipc/wire.c ipc/wire_blocking.c $(UNIT_COMMON)
check_PROGRAMS += tests/unit/ipc/test_codec tests/unit/ipc/test_wire
TESTS += tests/unit/ipc/test_codec tests/unit/ipc/test_wire
tests_unit_ipc_test_codec_SOURCES = tests/unit/ipc/test_codec.c $(IPC_SRC)
tests_unit_ipc_test_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_ipc_test_codec_LDADD = $(UNIT_LDADD)
tests_unit_ipc_test_wire_SOURCES = tests/unit/ipc/test_wire.c $(IPC_SRC)
tests_unit_ipc_test_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_ipc_test_wire_LDADD = $(UNIT_LDADD)
# The parent's catalogue alone: no tests/unit/ipc_all.c.
check_PROGRAMS += tests/unit/ipc/test_catalogue
TESTS += tests/unit/ipc/test_catalogue
tests_unit_ipc_test_catalogue_SOURCES = tests/unit/ipc/test_catalogue.c \
	ipc/codec.c ipc/codec_bin.c ipc/catalogue_parent.c ipc/catalogue.c \
	ipc/codec_mp.c ipc/codec_list.c \
	$(UNIT_COMMON)
tests_unit_ipc_test_catalogue_CFLAGS = $(UNIT_CFLAGS)
tests_unit_ipc_test_catalogue_LDADD = $(UNIT_LDADD)
