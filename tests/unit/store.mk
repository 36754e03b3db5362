# The store (supervisor/store*.c), session tokens (policy/session.c) and
# binding invitation tokens (policy/invite.c).
STORE_SRC = supervisor/store.c supervisor/store_migrate.c common/strpool.c \
	supervisor/schema.c supervisor/schema.h \
	supervisor/store_channel.c supervisor/store_backlog.c \
	supervisor/store_cold.c \
	supervisor/store_sched.c supervisor/store_attach.c supervisor/store_media.c \
	supervisor/store_wal.c supervisor/store_ckpt.c \
	supervisor/store_audit.c supervisor/store_bind.c \
	supervisor/store_capture.c supervisor/store_sched_e2e.c \
	supervisor/store_int.h $(UNIT_COMMON)
# The fixture of the tests that want a fresh store and nothing else.
STORE_FX = tests/unit/supervisor/store_fx.c tests/unit/supervisor/store_fx.h
check_PROGRAMS += tests/unit/supervisor/test_store \
	tests/unit/supervisor/test_store_channel tests/unit/policy/test_session \
	tests/unit/supervisor/test_store_bind tests/unit/policy/test_invite
TESTS += tests/unit/supervisor/test_store \
	tests/unit/supervisor/test_store_channel tests/unit/policy/test_session \
	tests/unit/supervisor/test_store_bind tests/unit/policy/test_invite
tests_unit_supervisor_test_store_SOURCES = \
	tests/unit/supervisor/test_store.c $(STORE_FX) $(STORE_SRC)
tests_unit_supervisor_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_store_LDADD = $(UNIT_LDADD)
tests_unit_supervisor_test_store_channel_SOURCES = \
	tests/unit/supervisor/test_store_channel.c $(STORE_FX) $(STORE_SRC)
tests_unit_supervisor_test_store_channel_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_store_channel_LDADD = $(UNIT_LDADD)
tests_unit_policy_test_session_SOURCES = \
	tests/unit/policy/test_session.c policy/session.c $(UNIT_COMMON)
tests_unit_policy_test_session_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_session_LDADD = $(UNIT_LDADD)
tests_unit_supervisor_test_store_bind_SOURCES = \
	tests/unit/supervisor/test_store_bind.c $(STORE_FX) $(STORE_SRC)
tests_unit_supervisor_test_store_bind_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_store_bind_LDADD = $(UNIT_LDADD)
tests_unit_policy_test_invite_SOURCES = \
	tests/unit/policy/test_invite.c policy/invite.c $(UNIT_COMMON)
tests_unit_policy_test_invite_CFLAGS = $(UNIT_CFLAGS)
tests_unit_policy_test_invite_LDADD = $(UNIT_LDADD)
# The console's chat threads (supervisor/store_cchat.c).
check_PROGRAMS += tests/unit/supervisor/test_store_cchat
TESTS += tests/unit/supervisor/test_store_cchat
tests_unit_supervisor_test_store_cchat_SOURCES = \
	tests/unit/supervisor/test_store_cchat.c supervisor/store_cchat.c \
	supervisor/store_e2e.c \
	$(STORE_FX) $(STORE_SRC)
tests_unit_supervisor_test_store_cchat_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_store_cchat_LDADD = $(UNIT_LDADD)
# The console's conversations and their media (supervisor/store_conv.c,
# store_conv_media.c); sniff.c tells the parts' heads apart.
check_PROGRAMS += tests/unit/supervisor/test_store_conv
TESTS += tests/unit/supervisor/test_store_conv
tests_unit_supervisor_test_store_conv_SOURCES = \
	tests/unit/supervisor/test_store_conv.c supervisor/store_conv.c \
	supervisor/store_conv_media.c common/sniff.c \
	$(STORE_FX) $(STORE_SRC)
tests_unit_supervisor_test_store_conv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_store_conv_LDADD = $(UNIT_LDADD)
# A store of every older schema version, with rows, upgraded.
check_PROGRAMS += tests/unit/supervisor/test_store_upgrade
TESTS += tests/unit/supervisor/test_store_upgrade
tests_unit_supervisor_test_store_upgrade_SOURCES = \
	tests/unit/supervisor/test_store_upgrade.c $(STORE_SRC)
tests_unit_supervisor_test_store_upgrade_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_store_upgrade_LDADD = $(UNIT_LDADD)
# The schema's one description (supervisor/schema.c) against the SQLite
# migrations' result.
check_PROGRAMS += tests/unit/supervisor/test_schema
TESTS += tests/unit/supervisor/test_schema
tests_unit_supervisor_test_schema_SOURCES = \
	tests/unit/supervisor/test_schema.c $(STORE_SRC)
tests_unit_supervisor_test_schema_CFLAGS = $(UNIT_CFLAGS)
tests_unit_supervisor_test_schema_LDADD = $(UNIT_LDADD)
