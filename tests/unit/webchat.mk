# The webchat worker's parsers: workers/webchat/{http,ws,rpc}.c.  Each
# links only what it covers; none needs worker.c or an event loop.
WEBCHAT_HTTP_SRC = workers/webchat/http.c workers/webchat/http.h
check_PROGRAMS += tests/unit/workers/webchat/test_http \
	tests/unit/workers/webchat/test_ws \
	tests/unit/workers/webchat/test_rpc
TESTS += tests/unit/workers/webchat/test_http \
	tests/unit/workers/webchat/test_ws \
	tests/unit/workers/webchat/test_rpc
tests_unit_workers_webchat_test_http_SOURCES = \
	tests/unit/workers/webchat/test_http.c $(WEBCHAT_HTTP_SRC) \
	$(UNIT_COMMON)
tests_unit_workers_webchat_test_http_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_webchat_test_http_LDADD = $(UNIT_LDADD)
tests_unit_workers_webchat_test_ws_SOURCES = \
	tests/unit/workers/webchat/test_ws.c workers/webchat/ws.c \
	workers/webchat/ws.h $(WEBCHAT_HTTP_SRC) $(IPC_CODEC) $(UNIT_COMMON)
tests_unit_workers_webchat_test_ws_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_webchat_test_ws_LDADD = $(UNIT_LDADD)
tests_unit_workers_webchat_test_rpc_SOURCES = \
	tests/unit/workers/webchat/test_rpc.c workers/webchat/rpc.c \
	workers/webchat/rpc.h $(UNIT_COMMON)
tests_unit_workers_webchat_test_rpc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_webchat_test_rpc_LDADD = $(UNIT_LDADD)
# sup.resync in webchat.c on loopback sockets, with worker.c, the page
# and the QR code stubbed by the test.
check_PROGRAMS += tests/unit/workers/webchat/test_webchat_resync
TESTS += tests/unit/workers/webchat/test_webchat_resync
tests_unit_workers_webchat_test_webchat_resync_SOURCES = \
	tests/unit/workers/webchat/test_webchat_resync.c \
	workers/webchat/webchat.c workers/webchat/ws.c workers/webchat/ws.h \
	workers/webchat/rpc.c workers/webchat/rpc.h $(WEBCHAT_HTTP_SRC) \
	workers/conf.c $(IPC_CODEC) $(UNIT_COMMON)
tests_unit_workers_webchat_test_webchat_resync_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_webchat_test_webchat_resync_LDADD = $(UNIT_LDADD)
# The console worker's Cookie header parser (workers/console/cookie.c).
check_PROGRAMS += tests/unit/workers/console/test_cookie
TESTS += tests/unit/workers/console/test_cookie
tests_unit_workers_console_test_cookie_SOURCES = \
	tests/unit/workers/console/test_cookie.c workers/console/cookie.c \
	workers/console/cookie.h
tests_unit_workers_console_test_cookie_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_console_test_cookie_LDADD = $(UNIT_LDADD)
