/* SPDX-License-Identifier: MIT */
/* What the collector binding shares with the aggregator binding. */
#ifndef GH_LAGGREGATOR_H
#define GH_LAGGREGATOR_H

#include <lua.h>

#include "core/aggregator.h"

#define GH_AGG_MT "glasshouse.Aggregator"

/* The aggregator at idx; raises when it is not one, or is closed. */
struct gh_agg *gh_l_check_agg(lua_State *L, int idx);
/* Where the aggregator at idx keeps its aggregate (NULL once closed), for the pipeline. */
struct gh_agg **gh_l_agg_slot(lua_State *L, int idx);
void gh_l_push_istr(lua_State *L, const struct gh_istr *s);
/* t[k] = s (nil when s is NULL) for the table on the stack top. */
void gh_l_setistr(lua_State *L, const char *k, const struct gh_istr *s);
void gh_l_push_argv(lua_State *L, const char *argv, size_t len);
void gh_l_set_status(lua_State *L, int status);

#endif
