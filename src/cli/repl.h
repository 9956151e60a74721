/* SPDX-License-Identifier: MIT */
#ifndef GH_REPL_H
#define GH_REPL_H

#include <lua.h>

/* `glasshouse repl`: the interactive prompt on L (glasshouse modules preloaded); returns the
 * exit status. */
int gh_repl(lua_State *L, int argc, char **argv);

#endif
