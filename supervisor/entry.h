/*
 * The entry points of the processes the root parent re-executes
 * besides the workers (whose are workers/worker.h's): the hub and the
 * configuration reader, and their sandboxes (specs.c).  wxgate-hub's
 * and wxgate-child's main() call these; the parent itself only runs
 * those programs, so it includes none of this.
 */
#ifndef WX_ENTRY_H
#define WX_ENTRY_H

struct sandbox_conf;
struct sandbox_report;
struct sandbox_spec;

/* conf_reader.c: the configuration reader's life */
int		 reader_main(const char *spec, const char *creds, int verbose);
void		 reader_spec(struct sandbox_spec *);

/* hub.c: the hub's entry point; specs.c: its sandbox */
int		 hub_main(const char *spec, const char *creds,
		    const char *store, int verbose);
void		 hub_spec(struct sandbox_spec *, const char *dir);

/* child_check.c: --check-sandbox's worker kinds and reader, dropped */
int		 check_kinds(const struct sandbox_conf *,
		    const struct sandbox_report *);

#endif
