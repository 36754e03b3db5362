# What runs against a real PostgreSQL: tests/pgserver.sh starts one for
# each wrapper script and removes it after.
PG_UNIT_CFLAGS = $(UNIT_CFLAGS) $(PQ_CFLAGS)
# Where the test's PostgreSQL is (tests/pgserver.sh's environment).
PG_FX = tests/unit/supervisor/pg_fx.c tests/unit/supervisor/pg_fx.h
PG_UNIT_LDADD = $(UNIT_LDADD) $(PQ_LIBS)
check_PROGRAMS += tests/unit/supervisor/test_pgpool
TESTS += tests/unit/supervisor/test_pgpool.sh
tests_unit_supervisor_test_pgpool_SOURCES = \
	tests/unit/supervisor/test_pgpool.c $(PG_FX) supervisor/pgpool.c \
	supervisor/pgpool.h $(UNIT_COMMON)
tests_unit_supervisor_test_pgpool_CFLAGS = $(PG_UNIT_CFLAGS)
tests_unit_supervisor_test_pgpool_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/pgserver.sh tests/unit/supervisor/test_pgpool.sh
check_PROGRAMS += tests/unit/supervisor/test_lease
TESTS += tests/unit/supervisor/test_lease.sh
tests_unit_supervisor_test_lease_SOURCES = \
	tests/unit/supervisor/test_lease.c $(PG_FX) supervisor/lease.c \
	supervisor/lease.h supervisor/pgpool.c supervisor/pgpool.h \
	$(UNIT_COMMON)
tests_unit_supervisor_test_lease_CFLAGS = $(PG_UNIT_CFLAGS)
tests_unit_supervisor_test_lease_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/unit/supervisor/test_lease.sh
check_PROGRAMS += tests/unit/supervisor/test_schema_pg
TESTS += tests/unit/supervisor/test_schema_pg.sh
tests_unit_supervisor_test_schema_pg_SOURCES = \
	tests/unit/supervisor/test_schema_pg.c $(PG_FX) supervisor/schema.c \
	supervisor/pgsetup.c \
	supervisor/schema.h supervisor/pgpool.c supervisor/pgpool.h \
	$(UNIT_COMMON)
tests_unit_supervisor_test_schema_pg_CFLAGS = $(PG_UNIT_CFLAGS)
tests_unit_supervisor_test_schema_pg_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/unit/supervisor/test_schema_pg.sh
check_PROGRAMS += tests/unit/supervisor/test_store_ship_pg
TESTS += tests/unit/supervisor/test_store_ship_pg.sh
tests_unit_supervisor_test_store_ship_pg_SOURCES = \
	tests/unit/supervisor/test_store_ship_pg.c $(PG_FX) \
	tests/unit/supervisor/lite_rows.c tests/unit/supervisor/lite_rows.h \
	supervisor/pgapply.c \
	supervisor/pgapply.h supervisor/pgload.c supervisor/pgload.h \
	supervisor/pgids.c supervisor/pgids.h supervisor/pgsetup.c \
	supervisor/pgpool.c supervisor/pgpool.h policy/session.c $(STORE_SRC)
tests_unit_supervisor_test_store_ship_pg_CFLAGS = $(PG_UNIT_CFLAGS)
tests_unit_supervisor_test_store_ship_pg_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/unit/supervisor/test_store_ship_pg.sh
check_PROGRAMS += tests/unit/supervisor/test_takeover_pg
TESTS += tests/unit/supervisor/test_takeover_pg.sh
tests_unit_supervisor_test_takeover_pg_SOURCES = \
	tests/unit/supervisor/test_takeover_pg.c $(PG_FX) \
	supervisor/lease.c supervisor/lease.h \
	supervisor/pgapply.c supervisor/pgapply.h \
	supervisor/pgload.c supervisor/pgload.h \
	supervisor/pgids.c supervisor/pgids.h supervisor/pgsetup.c \
	supervisor/pgpool.c supervisor/pgpool.h $(STORE_SRC)
tests_unit_supervisor_test_takeover_pg_CFLAGS = $(PG_UNIT_CFLAGS)
tests_unit_supervisor_test_takeover_pg_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/unit/supervisor/test_takeover_pg.sh
# The store suite (test_store.c) again, every store's commits shipped to
# PostgreSQL and each table compared (store_pg_fx.c, issue #18).
check_PROGRAMS += tests/unit/supervisor/test_store_pg
TESTS += tests/unit/supervisor/test_store_pg.sh
tests_unit_supervisor_test_store_pg_SOURCES = \
	tests/unit/supervisor/test_store.c $(STORE_FX) \
	tests/unit/supervisor/store_pg_fx.c \
	tests/unit/supervisor/store_pg_fx.h supervisor/pgsetup.c $(PG_FX) \
	tests/unit/supervisor/lite_rows.c tests/unit/supervisor/lite_rows.h \
	supervisor/pgapply.c supervisor/pgapply.h \
	supervisor/pgpool.c supervisor/pgpool.h $(STORE_SRC)
tests_unit_supervisor_test_store_pg_CFLAGS = $(PG_UNIT_CFLAGS) -DSTORE_FX_PG
tests_unit_supervisor_test_store_pg_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/unit/supervisor/test_store_pg.sh
# The channel part of the store suite (test_store_channel.c) likewise.
check_PROGRAMS += tests/unit/supervisor/test_store_channel_pg
TESTS += tests/unit/supervisor/test_store_channel_pg.sh
tests_unit_supervisor_test_store_channel_pg_SOURCES = \
	tests/unit/supervisor/test_store_channel.c $(STORE_FX) \
	tests/unit/supervisor/store_pg_fx.c \
	tests/unit/supervisor/store_pg_fx.h supervisor/pgsetup.c $(PG_FX) \
	tests/unit/supervisor/lite_rows.c tests/unit/supervisor/lite_rows.h \
	supervisor/pgapply.c supervisor/pgapply.h \
	supervisor/pgpool.c supervisor/pgpool.h $(STORE_SRC)
tests_unit_supervisor_test_store_channel_pg_CFLAGS = \
	$(PG_UNIT_CFLAGS) -DSTORE_FX_PG
tests_unit_supervisor_test_store_channel_pg_LDADD = $(PG_UNIT_LDADD)
EXTRA_DIST += tests/unit/supervisor/test_store_channel_pg.sh
