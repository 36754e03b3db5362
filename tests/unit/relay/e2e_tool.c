/*
 * ctl/relay/e2e.c from the command line, so the browser tests
 * (tests/browser/e2e_crypto.test.mjs) can hold e2e.js and the C side to
 * each other: what one seals or wraps, the other opens.  Built by
 * "make check", never run by it.
 *
 *   e2e_tool seal KEYHEX KIND SCOPE SENDER SEQ	  text in, envelope out
 *   e2e_tool open KEYHEX KIND SCOPE SENDER SEQ	  envelope in, text out
 *   e2e_tool record-new PASS OWNER N R P KEYHEX	  record out
 *   e2e_tool record-unwrap PASS OWNER		  record in, KEYHEX out
 *
 * 0 on success; 1 and the reason on stderr on failure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "hex.h"
#include "xmalloc.h"

static void __attribute__((noreturn))
die(const char *why)
{
	fprintf(stderr, "e2e_tool: %s\n", why);
	exit(1);
}

static void
key_of(const char *h, uint8_t k[E2E_KEY_LEN])
{
	size_t i;

	if (strlen(h) != 2 * E2E_KEY_LEN)
		die("a key is 64 hex digits");
	for (i = 0; i < E2E_KEY_LEN; i++) {
		if (hex_digit(h[2 * i]) < 0 || hex_digit(h[2 * i + 1]) < 0)
			die("a key is 64 hex digits");
		k[i] = (uint8_t)(hex_digit(h[2 * i]) << 4 |
		    hex_digit(h[2 * i + 1]));
	}
}

static uint64_t
number(const char *s, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		die("not a number");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		die("not a number in range");
	return v;
}

/*
 * stdin, at most max + 1 bytes: one past a bound is enough for the
 * function it is given to refuse it, as it must.
 */
static char *
slurp(size_t max, size_t *len)
{
	char *buf = xmalloc(max + 2);
	size_t n = 0, got;

	while (n <= max && (got = fread(buf + n, 1, max + 1 - n, stdin)) > 0)
		n += got;
	if (ferror(stdin))
		die("cannot read stdin");
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
aad_of(char **av, char aad[E2E_AAD_MAX])
{
	if (e2e_aad(aad, E2E_AAD_MAX, av[0], av[1], av[2],
	    number(av[3], UINT64_MAX)) == -1)
		die("bad associated data");
}

static void
seal(char **av)
{
	uint8_t k[E2E_KEY_LEN];
	char aad[E2E_AAD_MAX], *text, *env;
	size_t len;

	key_of(av[0], k);
	aad_of(av + 1, aad);
	text = slurp(E2E_TEXT_MAX, &len);
	if (len > E2E_TEXT_MAX)
		die("a message too long to encrypt");
	if ((env = e2e_envelope_seal(k, aad, text, len)) == NULL)
		die("cannot seal");
	printf("%s\n", env);
	free(env);
	free(text);
}

static void
open_env(char **av)
{
	uint8_t k[E2E_KEY_LEN];
	char aad[E2E_AAD_MAX], *env, *text;
	const char *why;
	size_t envlen, len;

	key_of(av[0], k);
	aad_of(av + 1, aad);
	env = slurp(E2E_ENVELOPE_MAX, &envlen);
	if (e2e_envelope_open(k, aad, env, envlen, &text, &len, &why) == -1)
		die(why);
	fwrite(text, 1, len, stdout);
	free(text);
	free(env);
}

static void
record_new(char **av)
{
	struct e2e_kdf cost;
	struct e2e_record rec;
	uint8_t k[E2E_KEY_LEN];
	char *s;

	memset(&cost, 0, sizeof(cost));
	cost.n = number(av[2], UINT64_MAX);
	cost.r = (uint32_t)number(av[3], UINT32_MAX);
	cost.p = (uint32_t)number(av[4], UINT32_MAX);
	key_of(av[5], k);
	if (e2e_record_new(av[0], strlen(av[0]), av[1], &cost, k, &rec) == -1)
		die("cannot make the record (its cost?)");
	if ((s = e2e_record_format(&rec)) == NULL)
		die("cannot format the record");
	printf("%s\n", s);
	free(s);
}

static void
record_unwrap(char **av)
{
	struct e2e_record rec;
	uint8_t k[E2E_KEY_LEN];
	char *s;
	size_t len, i;

	s = slurp(E2E_RECORD_MAX + 1, &len);
	/* A record from a file or a pipe may end in one newline. */
	if (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	if (e2e_record_parse(s, len, &rec) == -1)
		die("not a key record");
	if (e2e_record_unwrap(&rec, av[0], strlen(av[0]), av[1], k) == -1)
		die("wrong passphrase");
	for (i = 0; i < sizeof(k); i++)
		printf("%02x", k[i]);
	printf("\n");
	free(s);
}

static const struct {
	const char	*name;
	int		 argc;
	void		(*run)(char **);
} cmds[] = {
	{ "seal",		5,	seal },
	{ "open",		5,	open_env },
	{ "record-new",		6,	record_new },
	{ "record-unwrap",	2,	record_unwrap },
};

int
main(int argc, char **argv)
{
	size_t i;

	jsonalloc_init();
	for (i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0) {
			if (argc - 2 != cmds[i].argc)
				die("wrong number of arguments");
			cmds[i].run(argv + 2);
			if (fflush(stdout) == EOF || ferror(stdout))
				die("cannot write stdout");
			return 0;
		}
	die("usage: e2e_tool seal|open KEYHEX KIND SCOPE SENDER SEQ | "
	    "record-new PASS OWNER N R P KEYHEX | record-unwrap PASS OWNER");
}
