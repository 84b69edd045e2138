/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>

#include "engine/arbiter.h"

void arb_init(struct arbiter *a, int nslots, int tool_max)
{
	*a = (struct arbiter){ 0 };
	a->nslots = nslots < 0 ? 0 : nslots > ARB_SLOTS_MAX ? ARB_SLOTS_MAX : nslots;
	a->tool_max = tool_max < 0 ? 0 : tool_max;
}

int arb_held(const struct arbiter *a, enum arb_class cls)
{
	int n = 0;
	for (int i = 0; i < a->nslots; i++)
		n += a->holder[i] && a->holder[i]->cls == cls;
	return n;
}

int arb_waiting(const struct arbiter *a)
{
	int n = 0;
	for (const struct arb_req *w = a->waiting; w; w = w->next)
		n++;
	return n;
}

static void wait_insert(struct arbiter *a, struct arb_req *r)
{
	struct arb_req **pp = &a->waiting;

	while (*pp && ((*pp)->cls > r->cls || ((*pp)->cls == r->cls && (*pp)->order < r->order)))
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	r->slot = -1;
}

static bool wait_remove(struct arbiter *a, struct arb_req *r)
{
	for (struct arb_req **pp = &a->waiting; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			r->next = NULL;
			return true;
		}
	return false;
}

static int free_slot(const struct arbiter *a)
{
	for (int i = 0; i < a->nslots; i++)
		if (!a->holder[i])
			return i;
	return -1;
}

static void grant(struct arbiter *a, struct arb_req *r, int slot)
{
	a->holder[slot] = r;
	r->slot = slot;
	if (r->gained)
		r->gained(r, slot);
}

/* The holder to evict for a request of class cls: the lowest class below
 * cls, newest first.  -1 if none. */
static int victim_for(const struct arbiter *a, enum arb_class cls)
{
	int best = -1;

	for (int i = 0; i < a->nslots; i++) {
		const struct arb_req *h = a->holder[i];
		if (!h || h->cls >= cls)
			continue;
		if (best < 0 || h->cls < a->holder[best]->cls ||
		    (h->cls == a->holder[best]->cls && h->order > a->holder[best]->order))
			best = i;
	}
	return best;
}

/* Take slot away from its holder, which goes back to waiting. */
static void evict(struct arbiter *a, int slot)
{
	struct arb_req *h = a->holder[slot];

	a->holder[slot] = NULL;
	if (h->lost)
		h->lost(h, slot);
	wait_insert(a, h);
}

static bool may_hold(const struct arbiter *a, const struct arb_req *r)
{
	return r->cls != ARB_TOOL || arb_held(a, ARB_TOOL) < a->tool_max;
}

/* Give free slots to the best waiting requests that may hold one. */
static void promote(struct arbiter *a)
{
	int slot;

	while ((slot = free_slot(a)) >= 0) {
		struct arb_req *w = a->waiting;
		while (w && !may_hold(a, w))
			w = w->next;
		if (!w)
			return;
		wait_remove(a, w);
		grant(a, w, slot);
	}
}

int arb_request(struct arbiter *a, struct arb_req *r)
{
	int slot;

	if (!r || r->cls < ARB_TOOL || r->cls > ARB_INVASIVE)
		return -EINVAL;
	if (r->active)
		return -EALREADY;
	r->active = true;
	r->order = a->next_order++;
	r->slot = -1;
	r->next = NULL;
	if (may_hold(a, r)) {
		slot = free_slot(a);
		if (slot < 0) {
			slot = victim_for(a, r->cls);
			if (slot >= 0)
				evict(a, slot);
		}
		if (slot >= 0) {
			grant(a, r, slot);
			return slot;
		}
	}
	wait_insert(a, r);
	return -EAGAIN;
}

void arb_release(struct arbiter *a, struct arb_req *r)
{
	if (!r || !r->active)
		return;
	r->active = false;
	if (r->slot >= 0 && r->slot < a->nslots && a->holder[r->slot] == r) {
		a->holder[r->slot] = NULL;
		r->slot = -1;
		promote(a);
		return;
	}
	wait_remove(a, r);
	r->slot = -1;
}

int arb_release_owner(struct arbiter *a, uint32_t owner)
{
	int count = 0;

	for (struct arb_req **pp = &a->waiting; *pp;) {
		struct arb_req *w = *pp;
		if (w->owner != owner) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = NULL;
		w->active = false;
		count++;
	}
	for (int i = 0; i < a->nslots; i++)
		if (a->holder[i] && a->holder[i]->owner == owner) {
			a->holder[i]->active = false;
			a->holder[i]->slot = -1;
			a->holder[i] = NULL;
			count++;
		}
	promote(a);
	return count;
}

void arb_set_tool_max(struct arbiter *a, int tool_max)
{
	a->tool_max = tool_max < 0 ? 0 : tool_max;
	while (arb_held(a, ARB_TOOL) > a->tool_max) {
		int newest = -1;
		for (int i = 0; i < a->nslots; i++)
			if (a->holder[i] && a->holder[i]->cls == ARB_TOOL &&
			    (newest < 0 || a->holder[i]->order > a->holder[newest]->order))
				newest = i;
		evict(a, newest);
	}
	promote(a);
}
