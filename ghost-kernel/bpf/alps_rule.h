/* GENERATED from src/core/alps-rule.ts by scripts/gen-alps-rule-h.mjs: do not edit.
 * The ALPS rule's constants, shared by every enforcer (docs/scx.md, "The ALPS rule"). */
#ifndef GHOST_ALPS_RULE_H
#define GHOST_ALPS_RULE_H

#define ALPS_ESCAPE_SLOWDOWN 2ULL
#define ALPS_ESCAPE_DEFAULT_EXPECTED_CPU_NS 1000000000ULL
#define ALPS_MAX_RANK 16383ULL
#define ALPS_UNKNOWN_FUNCTION_RANK 16383ULL
#define ALPS_MAX_OVERDUE_DEGREE 255ULL
#define ALPS_LEVEL_OVERDUE 1ULL
#define ALPS_LEVEL_ORDINARY 0ULL
#define ALPS_RANK_KEY_SHIFT 50ULL
#define ALPS_ARRIVAL_KEY_UNIT_NS 1000ULL
#define ALPS_STARVE_NS 1000000000ULL
#define ALPS_WATCHDOG_MIN_MS 5000ULL

#endif
