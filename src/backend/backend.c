// SPDX-License-Identifier: MIT
/* The backend registry and the state checks every backend shares. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

static const struct gh_backend_ops *const backends[] = {
	&gh_backend_process_ops,
	&gh_backend_firecracker_ops,
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int gh_backend_new(const char *name, const struct gh_backend_config *cfg, struct gh_backend **out)
{
	struct gh_backend *b;
	size_t i;

	*out = NULL;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			break;
	if (i == sizeof(backends) / sizeof(backends[0]))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ops = backends[i];
	if (cfg) {
		b->cfg.guest = cfg->guest;
		b->cfg.fc_kernel = dup_or_null(cfg->fc_kernel);
		b->cfg.fc_rootfs = dup_or_null(cfg->fc_rootfs);
		b->cfg.fc_binary = dup_or_null(cfg->fc_binary);
		b->cfg.fc_socket = dup_or_null(cfg->fc_socket);
		b->cfg.network = cfg->network;
		b->cfg.wait_all = cfg->wait_all;
		b->cfg.wait_all_ms = cfg->wait_all_ms;
		if (cfg->user) {
			struct gh_user *u = malloc(sizeof(*u));

			if (!u) {
				gh_backend_free(b);
				return -ENOMEM;
			}
			*u = *cfg->user;
			b->cfg.user = u;
		}
	}
	b->result.exit_code = -1;
	*out = b;
	return 0;
}

static int misuse(struct gh_backend *b, const char *step, const char *why)
{
	snprintf(b->errmsg, sizeof(b->errmsg), "%s: %s", step, why);
	return -EBADFD;
}

int gh_backend_prepare(struct gh_backend *b)
{
	if (b->state != GH_BACKEND_NEW)
		return misuse(b, "prepare", "backend was already prepared");
	b->errmsg[0] = '\0';
	b->state = GH_BACKEND_PREPARED;
	return b->ops->prepare(b);
}

int gh_backend_start(struct gh_backend *b, char *const argv[])
{
	int err;

	if (b->state > GH_BACKEND_PREPARED)
		return misuse(b, "start", "backend was already started");
	if (b->state == GH_BACKEND_NEW && (err = gh_backend_prepare(b)))
		return err;
	if (!argv || !argv[0])
		return misuse(b, "start", "no command given");
	b->errmsg[0] = '\0';
	err = b->ops->start(b, argv);
	if (!err)
		b->state = GH_BACKEND_STARTED;
	return err;
}

int gh_backend_release(struct gh_backend *b)
{
	if (b->state != GH_BACKEND_STARTED)
		return misuse(b, "release", "backend has no started command to release");
	b->state = GH_BACKEND_RUNNING;
	return b->ops->release(b);
}

int gh_backend_wait(struct gh_backend *b, const struct gh_pollable *p)
{
	int err;

	if (b->state != GH_BACKEND_RUNNING)
		return misuse(b, "wait", "backend has no running command");
	err = b->ops->wait(b, p);
	b->state = GH_BACKEND_DONE;
	return err;
}

void gh_backend_cleanup(struct gh_backend *b)
{
	if (!b || b->state == GH_BACKEND_CLEANED)
		return;
	b->ops->cleanup(b);
	b->state = GH_BACKEND_CLEANED;
	/* A stream that never opened is an empty one, and has the empty stream's digest. */
	if (!b->result.stdout_hash[0])
		gh_sha256_hex("", 0, b->result.stdout_hash);
	if (!b->result.stderr_hash[0])
		gh_sha256_hex("", 0, b->result.stderr_hash);
}

void gh_backend_free(struct gh_backend *b)
{
	if (!b)
		return;
	gh_backend_cleanup(b);
	free(b->cfg.fc_kernel);
	free(b->cfg.fc_rootfs);
	free(b->cfg.fc_binary);
	free(b->cfg.fc_socket);
	free((void *)b->cfg.user);
	free(b);
}
