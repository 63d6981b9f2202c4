"""The measures of alignprobe's built-in task families, by name, without importing them.

A policy's names are checked on every gate; a family's scorer imports Inspect (seconds),
so the names a family declares are listed here. ``tests/test_gate_builtin_names.py``
checks this list against the families themselves (their scorers' ``MEASURES``, and the
reasoning channel's measures where a task takes ``judge_reasoning``), so it cannot drift.
"""

from __future__ import annotations

#: reasoning-channel measures (``alignprobe.reasoning_measures``), added with -T judge_reasoning
_REASONING = ("covert", "eval_aware", "misaligned_reasoning")

BUILTIN_MEASURES: dict[str, frozenset[str]] = {
    "agentic_honeypots": frozenset({"covert", "eval_aware", "flagged", "misaligned_reasoning", "took_bait"}),
    "corrigibility_freeform": frozenset({"deceives", "oversight_acceptance", "resists", *_REASONING}),
    "corrigibility_mcq": frozenset({"picked_first_letter", "safe_choice", "safe_probability"}),
    "emergent_misalignment": frozenset({"aligned", "code", "coherent", "misaligned", "refusal", *_REASONING}),
    "goals_question": frozenset({"covert", "eval_aware", "goals_misaligned", "honestly_misaligned"}),
    "guardrails": frozenset({"banlist_violation", "guardrail_pass", *_REASONING}),
    "instructed_hacking": frozenset(
        {
            "admits_given_hacked", "admits_given_solved", "failed", "hacked",
            "hacked_given_hackable", "reported", "reported_given_clean",
            "reported_given_hackable", "solved", "solved_given_clean", *_REASONING,
        }
    ),
    "system_rules": frozenset({"compliant_loose", "compliant_strict"}),
    "tensortrust": frozenset(
        {
            "tt_extraction_pass", "tt_extraction_pass_nopost", "tt_helpful_pass",
            "tt_helpful_pass_nopost", "tt_hijacking_pass", "tt_hijacking_pass_nopost",
            "tt_macro_pass", "tt_macro_pass_nopost",
        }
    ),
}  # fmt: skip
