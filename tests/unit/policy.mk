# Central policy: token buckets on an injected clock (policy/ratelimit.c)
# the client address each is keyed on (policy/addrkey.c), who the client
# behind trusted proxies is (policy/xff.c), and who may talk to a channel
# account (policy/dm.c), and when a schedule fires (policy/cron*.c).
check_PROGRAMS += tests/unit/policy/test_ratelimit
TESTS += tests/unit/policy/test_ratelimit
tests_unit_policy_test_ratelimit_SOURCES = \
	tests/unit/policy/test_ratelimit.c policy/ratelimit.c $(UNIT_COMMON)
tests_unit_policy_test_ratelimit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_ratelimit_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/policy/test_ratelimit_grow
TESTS += tests/unit/policy/test_ratelimit_grow
tests_unit_policy_test_ratelimit_grow_SOURCES = \
	tests/unit/policy/test_ratelimit_grow.c policy/ratelimit.c \
	$(UNIT_COMMON)
tests_unit_policy_test_ratelimit_grow_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_ratelimit_grow_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/policy/test_addrkey
TESTS += tests/unit/policy/test_addrkey
tests_unit_policy_test_addrkey_SOURCES = \
	tests/unit/policy/test_addrkey.c policy/addrkey.c $(UNIT_COMMON)
tests_unit_policy_test_addrkey_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_addrkey_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/policy/test_dm
TESTS += tests/unit/policy/test_dm
tests_unit_policy_test_dm_SOURCES = \
	tests/unit/policy/test_dm.c policy/dm.c $(UNIT_COMMON)
tests_unit_policy_test_dm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_dm_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/policy/test_xff
TESTS += tests/unit/policy/test_xff
tests_unit_policy_test_xff_SOURCES = \
	tests/unit/policy/test_xff.c policy/xff.c $(UNIT_COMMON)
tests_unit_policy_test_xff_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_xff_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/policy/test_cron
TESTS += tests/unit/policy/test_cron
tests_unit_policy_test_cron_SOURCES = tests/unit/policy/test_cron.c \
	$(CRON_SOURCES) $(UNIT_COMMON)
tests_unit_policy_test_cron_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_cron_LDADD = $(UNIT_LDADD)
