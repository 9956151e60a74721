// SPDX-License-Identifier: MIT
/* Usage, help and usage errors, all printed from the subcommand table (commands.c). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

/* -h and --help after any subcommand: main looks for them before the subcommand runs. */
static const struct gh_cli_option help_option[] = {
	{ 'h', "help", NULL, NULL, "print this help" },
	{ 0 },
};

static const char usage_tail[] =
	"\n"
	"One subcommand: glasshouse help CMD (or glasshouse CMD --help); all: man glasshouse.\n"
	"\n"
	"exit status: CMD's own; 128+N when CMD died of signal N; 1 when CMD could not start;\n"
	"2 on a usage error (no receipt); 125 when glasshouse itself failed.\n";

static void synopsis(FILE *f, const char *lead, const struct gh_cli_command *c)
{
	fprintf(f, "%-6s glasshouse %s%s%s\n", lead, c->name, *c->usage ? " " : "", c->usage);
}

/* The options' flags ("-o, --output FILE") in a column, then their help. */
static void print_options(FILE *f, const struct gh_cli_option *o)
{
	char flags[64];
	int n;

	for (; o && o->long_name; o++) {
		n = o->short_name ? snprintf(flags, sizeof(flags), "-%c, ", o->short_name) : 0;
		/* an optional value is written as it is typed: --wait-all[=SECONDS] */
		snprintf(flags + n, sizeof(flags) - (size_t)n, "--%s%s%s", o->long_name,
			 o->value && o->value[0] != '[' ? " " : "", o->value ? o->value : "");
		fprintf(f, "  %-23s  %s\n", flags, o->help);
	}
}

void gh_cli_usage(FILE *f)
{
	const struct gh_cli_command *c;
	const struct gh_cli_option *o;

	for (c = gh_cli_commands; c->name; c++)
		synopsis(f, c == gh_cli_commands ? "usage:" : "", c);
	fputs("       glasshouse", f);
	for (o = gh_cli_global_options; o->long_name; o++)
		fprintf(f, "%s--%s", o == gh_cli_global_options ? " " : " | ", o->long_name);
	fputs("\n\n", f);
	for (c = gh_cli_commands; c->name; c++)
		fprintf(f, "%-8s %s\n", c->name, c->summary);
	for (c = gh_cli_commands; c->name; c++) {
		if (!c->options || !c->options->long_name)
			continue;
		fprintf(f, "\noptions of %s:\n", c->name);
		print_options(f, c->options);
	}
	fputs(usage_tail, f);
}

void gh_cli_help(FILE *f, const struct gh_cli_command *cmd)
{
	synopsis(f, "usage:", cmd);
	fprintf(f, "\n%s\n\noptions:\n", cmd->summary);
	print_options(f, cmd->options);
	print_options(f, help_option);
}

int gh_cli_is_help(const char *word)
{
	return !strcmp(word, "-h") || !strcmp(word, "--help");
}

int gh_cli_usage_error(const char *msg)
{
	fprintf(stderr, "glasshouse: %s\n", msg);
	gh_cli_usage(stderr);
	return GH_EXIT_USAGE;
}

int gh_cli_unknown(const char *word)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "unknown %s '%.200s'", word[0] == '-' ? "option" : "subcommand",
		 word);
	return gh_cli_usage_error(msg);
}

/* One line a flag: "<kind> -o FILE", "<kind> --backend NAME process firecracker", "<kind>
 * --guest -" (a switch), "<kind> --wait-all [=SECONDS]" (an optional value). */
static void list_options(FILE *f, const char *kind, const struct gh_cli_option *o)
{
	char rest[256];

	for (; o && o->long_name; o++) {
		snprintf(rest, sizeof(rest), "%s%s%s", o->value ? o->value : "-",
			 o->values ? " " : "", o->values ? o->values : "");
		if (o->short_name)
			fprintf(f, "%s -%c %s\n", kind, o->short_name, rest);
		fprintf(f, "%s --%s %s\n", kind, o->long_name, rest);
	}
}

/*
 * `help --list`, for the man page and completion checks (tests/cli/help_test.sh): "command
 * NAME", then "option NAME FLAG..." for each of its options; "global FLAG..." for the options
 * before a subcommand. -h and --help also follow every subcommand.
 */
static void list(FILE *f)
{
	const struct gh_cli_command *c;
	char kind[64];

	for (c = gh_cli_commands; c->name; c++) {
		fprintf(f, "command %s\n", c->name);
		snprintf(kind, sizeof(kind), "option %s", c->name);
		list_options(f, kind, c->options);
	}
	list_options(f, "global", gh_cli_global_options);
}

int gh_cli_help_cmd(lua_State *L, int argc, char **argv)
{
	const struct gh_cli_command *cmd;

	if (argc > 2)
		return gh_cli_usage_error("help takes one subcommand at most");
	if (argc == 1) {
		gh_cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--list")) {
		list(stdout);
		return 0;
	}
	cmd = gh_cli_find(argv[1]);
	if (!cmd)
		return gh_cli_unknown(argv[1]);
	gh_cli_help(stdout, cmd);
	return 0;
}
