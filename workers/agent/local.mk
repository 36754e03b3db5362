libwxworkers_a_SOURCES += workers/agent/agent.c workers/agent/agent.h \
	workers/agent/echo.c workers/agent/openai.c workers/agent/sse.c \
	workers/agent/sse.h workers/agent/command.c workers/agent/vision.c \
	workers/agent/relay.c workers/agent/relay.h \
	workers/agent/relay_conn.c workers/agent/relay_frame.c \
	workers/agent/relay_frame.h
