# supervisor/pgload.c's rows, as PostgreSQL's answers bring them into a
# node's store (store_absorb).
noinst_PROGRAMS += tests/fuzz/fuzz_pgload
tests_fuzz_fuzz_pgload_SOURCES = tests/fuzz/fuzz_pgload.c \
	supervisor/pgload.c supervisor/pgpool.c
tests_fuzz_fuzz_pgload_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
tests_fuzz_fuzz_pgload_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_pgload_LDADD = libwxsup.a libwxutil.a libwxcommon.a \
	$(DEPS_LIBS) $(PQ_LIBS)
