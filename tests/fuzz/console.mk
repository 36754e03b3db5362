# The operator console worker's parser of a browser's bytes that the web
# chat's http.c does not cover: the Cookie header (workers/console/
# cookie.c).  Query strings go through workers/callback/query.c, fuzzed
# with fuzz_wxcrypt.
noinst_PROGRAMS += tests/fuzz/fuzz_console_cookie
tests_fuzz_fuzz_console_cookie_SOURCES = tests/fuzz/fuzz_console_cookie.c \
	workers/console/cookie.c
tests_fuzz_fuzz_console_cookie_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_console_cookie_LDADD = $(DEPS_LIBS)
