# The operator console's worker (issue #16): its HTTP listener, with the
# web chat's request parser (workers/webchat/http.c), and its static
# page.  assets.c is generated from assets/ as the web chat's is, with
# od and awk, each file an array console_asset_<file with . as _>.
CONSOLE_ASSETS = \
	workers/console/assets/console.html \
	workers/console/assets/dom.js \
	workers/console/assets/e2e.js \
	workers/console/assets/console.js \
	workers/console/assets/console.css \
	workers/console/assets/chat.js \
	workers/console/assets/chat.css \
	workers/console/assets/seal.js \
	workers/console/assets/sched_seal.js \
	workers/console/assets/thread.js \
	workers/console/assets/thread.css \
	workers/console/assets/login.html \
	workers/console/assets/favicon.svg

libwxworkers_a_SOURCES += workers/console/console.c \
	workers/console/cookie.c workers/console/cookie.h
nodist_libwxworkers_a_SOURCES += workers/console/assets.c
BUILT_SOURCES += workers/console/assets.c
CLEANFILES += workers/console/assets.c
EXTRA_DIST += $(CONSOLE_ASSETS)

workers/console/assets.c: $(CONSOLE_ASSETS) $(srcdir)/workers/console/local.mk
	$(AM_V_GEN)$(MKDIR_P) workers/console && { \
	  echo '/* Generated from workers/console/assets/ by local.mk. */'; \
	  echo '#include <stddef.h>'; \
	  for f in $(CONSOLE_ASSETS); do \
	    n=`echo "$$f" | sed 's|.*/||; s|[^A-Za-z0-9]|_|g'`; \
	    test -f "$$f" || f="$(srcdir)/$$f"; \
	    echo "extern const unsigned char console_asset_$$n[];"; \
	    echo "extern const size_t console_asset_$${n}_len;"; \
	    echo "const unsigned char console_asset_$$n[] = {"; \
	    od -An -v -tu1 "$$f" | \
	      awk '{ l = ""; for (i = 1; i <= NF; i++) l = l $$i ","; \
	        if (l != "") print "\t" l }'; \
	    echo "};"; \
	    echo "const size_t console_asset_$${n}_len = sizeof(console_asset_$$n);"; \
	  done; } > $@-t && mv $@-t $@
