# supervisor/config*.c: schema, defaults, ranges and error messages.
check_PROGRAMS += tests/unit/supervisor/test_config
TESTS += tests/unit/supervisor/test_config
tests_unit_supervisor_test_config_SOURCES = \
	tests/unit/supervisor/test_config.c $(CONFIG_SOURCES) \
	policy/ratelimit.c policy/role.c ipc/codec.c $(UNIT_COMMON)
tests_unit_supervisor_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_config_LDADD = $(UNIT_LDADD)
