/*
 * wxgate-import: a lone node's SQLite store into a new cluster's
 * PostgreSQL (pgimport.c; wxgate-import(8)).  Run by hand as the
 * store's owner, with wxgated stopped.  Only parses its arguments and
 * reads the password file; the import is pgimport_run's.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "log.h"
#include "pgimport.h"
#include "sup.h"
#include "xmalloc.h"

/* A database password; longer is not a password file. */
#define IMPORT_PASSWORD_MAX	1024

/* store.c's files share the supervisor's struct (sup.h); unused here. */
struct sup	*sup;

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: wxgate-import [-nv] -p password_file "
	    "old.db postgresql://user@host:port/db\n"
	    "(stop wxgated first; old.db is only read)\n");
	exit(2);
}

/*
 * The password file's first line.  A file others may read is refused,
 * as wxgated refuses cluster.password_file (conf_file.c).
 */
static char *
read_password(const char *path)
{
	char buf[IMPORT_PASSWORD_MAX + 2];
	struct stat sb;
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		fatal("%s", path);
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 0077) != 0)
		fatalx("%s: must be a regular file that only its owner may "
		    "read (chmod 0600)", path);
	if ((n = read(fd, buf, sizeof(buf) - 1)) == -1)
		fatal("%s", path);
	close(fd);
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0 || len > IMPORT_PASSWORD_MAX || strlen(buf) != len)
		fatalx("%s: does not hold one password on its first line",
		    path);
	return xstrdup(buf);
}

/*
 * A password never rides in the URI (ps shows it, and wxgated refuses
 * it there too: config_store.c); it comes from -p.
 */
static void
check_uri(const char *uri)
{
	const char *auth, *end, *at;

	if (!cfg_store_is_uri(uri))
		fatalx("%s: not a postgresql:// URI", uri);
	auth = strstr(uri, "://") + 3;
	end = auth + strcspn(auth, "/?");
	if (((at = memchr(auth, '@', end - auth)) != NULL &&
	    memchr(auth, ':', at - auth) != NULL) ||
	    strstr(uri, "password=") != NULL || strstr(uri, "passfile=") !=
	    NULL)
		fatalx("a password in the URI would be shown by ps: "
		    "give it with -p password_file");
}

int
main(int argc, char *argv[])
{
	struct pgimport im;
	const char *pwfile = NULL;
	char *password;
	int ch, verbose = LOG_LVL_INFO, rc;

	memset(&im, 0, sizeof(im));
	while ((ch = getopt(argc, argv, "np:v")) != -1) {
		switch (ch) {
		case 'n':
			im.dry_run = 1;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'v':
			verbose = LOG_LVL_DEBUG;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || pwfile == NULL)
		usage();
	log_init(verbose, 0);
	log_procinit("wxgate-import");
	im.old = argv[0];
	im.uri = argv[1];
	check_uri(im.uri);
	im.password = password = read_password(pwfile);
	rc = pgimport_run(&im);
	xfree_secret(password);
	return rc == 0 ? 0 : 1;
}
