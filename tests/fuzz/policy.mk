# policy/xff.c on arbitrary peer addresses and X-Forwarded-For headers:
# the one parser of internet bytes the supervisor runs itself.
noinst_PROGRAMS += tests/fuzz/fuzz_xff
tests_fuzz_fuzz_xff_SOURCES = tests/fuzz/fuzz_xff.c policy/xff.c
tests_fuzz_fuzz_xff_LDFLAGS = $(FUZZ_LDFLAGS)

# policy/cron*.c on arbitrary expressions and intervals: the operator's
# text, and a search that must end whatever it is given.
noinst_PROGRAMS += tests/fuzz/fuzz_cron
tests_fuzz_fuzz_cron_SOURCES = tests/fuzz/fuzz_cron.c $(CRON_SOURCES)
tests_fuzz_fuzz_cron_LDFLAGS = $(FUZZ_LDFLAGS)

# policy/invite.c on arbitrary tokens: a binding link's path and a
# bind.start's id, checked against a decoding model.
noinst_PROGRAMS += tests/fuzz/fuzz_invite
tests_fuzz_fuzz_invite_SOURCES = tests/fuzz/fuzz_invite.c policy/invite.c \
	common/log.c common/xmalloc.c common/sha.c
tests_fuzz_fuzz_invite_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_invite_LDADD = $(DEPS_LIBS)
