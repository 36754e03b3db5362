libwxworkers_a_SOURCES += workers/agent/agent.c workers/agent/agent.h \
	workers/agent/echo.c workers/agent/openai.c workers/agent/sse.c \
	workers/agent/sse.h workers/agent/command.c workers/agent/vision.c
