# supervisor/config*.c: schema, defaults, ranges and error messages.
check_PROGRAMS += tests/unit/supervisor/test_config
TESTS += tests/unit/supervisor/test_config
tests_unit_supervisor_test_config_SOURCES = \
	tests/unit/supervisor/test_config.c $(CONFIG_SOURCES) \
	supervisor/config_rt.c common/tls_pem.c common/sniff.c \
	policy/ratelimit.c policy/role.c $(IPC_CODEC) $(UNIT_COMMON)
tests_unit_supervisor_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_config_LDADD = $(UNIT_LDADD)
# supervisor/kinds.c: its rows against workers/worker.c's, their
# instances and the channel types the configuration takes from them.
check_PROGRAMS += tests/unit/supervisor/test_kinds
TESTS += tests/unit/supervisor/test_kinds
tests_unit_supervisor_test_kinds_SOURCES = \
	tests/unit/supervisor/test_kinds.c $(CONFIG_SOURCES) workers/kinds_all.c \
	policy/ratelimit.c policy/xff.c
tests_unit_supervisor_test_kinds_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_kinds_LDADD = libwxworkers.a libwxsandbox.a \
	libwxutil.a libwxcommon.a $(UNIT_LDADD)
