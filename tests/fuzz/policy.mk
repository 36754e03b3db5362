# policy/xff.c on arbitrary peer addresses and X-Forwarded-For headers:
# the one parser of internet bytes the supervisor runs itself.
noinst_PROGRAMS += tests/fuzz/fuzz_xff
tests_fuzz_fuzz_xff_SOURCES = tests/fuzz/fuzz_xff.c policy/xff.c
tests_fuzz_fuzz_xff_LDFLAGS = $(FUZZ_LDFLAGS)
