# Central policy (policy/ratelimit.c): token buckets on an injected clock.
check_PROGRAMS += tests/unit/policy/test_ratelimit
TESTS += tests/unit/policy/test_ratelimit
tests_unit_policy_test_ratelimit_SOURCES = \
	tests/unit/policy/test_ratelimit.c policy/ratelimit.c $(UNIT_COMMON)
tests_unit_policy_test_ratelimit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_ratelimit_LDADD = $(UNIT_LDADD)
