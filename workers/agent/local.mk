libwxworkers_a_SOURCES += workers/agent/agent.c workers/agent/agent.h \
	workers/agent/echo.c
