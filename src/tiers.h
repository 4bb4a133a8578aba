/*
 * src/tiers.h
 *
 * The default tier policy (tiers.c), for the C code that needs it.
 */
#ifndef LEADMGMT_TIERS_H
#define LEADMGMT_TIERS_H

#define LM_NTIERS 4

/* one tier's default policy, as text where SQL reads it as numeric or interval */
typedef struct LmTierDefault
{
	const char *tier;			/* A to D */
	const char *handler_role;	/* the rep role that handles it */
	const char *cost_per_contact;	/* numeric(14,2) */
	const char *follow_up_sla;	/* interval */
	double		min_score;		/* least conversion probability that earns it */
} LmTierDefault;

extern const LmTierDefault lm_tier_defaults[LM_NTIERS];

#endif							/* LEADMGMT_TIERS_H */
