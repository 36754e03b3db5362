# Unit tests (cmocka): tests/unit/<dir>/test_<file>.c covers <dir>/<file>.c.
if HAVE_CMOCKA
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = $(WX_LIBS) $(CMOCKA_LIBS) $(DEPS_LIBS)
include tests/unit/ipc.mk
include tests/unit/store.mk
include tests/unit/config.mk
endif
