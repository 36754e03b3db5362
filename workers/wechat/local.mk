# The wechat channel worker: one process per personal-WeChat iLink
# account.  ilink*.c are the pure protocol (unit tests
# in tests/unit/wechat.mk, fuzzing in tests/fuzz/wechat.mk); the rest
# runs it on the worker's loop.
libwxworkers_a_SOURCES += \
	workers/wechat/wechat.c workers/wechat/wechat.h \
	workers/wechat/call.c workers/wechat/poll.c \
	workers/wechat/send.c workers/wechat/login.c workers/wechat/typing.c \
	workers/wechat/inmedia.c workers/wechat/upload.c \
	workers/wechat/budget.c \
	workers/wechat/ilink.c workers/wechat/ilink_parse.c \
	workers/wechat/ilink_media.c workers/wechat/ilink_cdn.c \
	workers/wechat/ilink.h workers/wechat/ilink_media.h
