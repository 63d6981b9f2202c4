"""``alignprobe watch``: evaluate a training run's checkpoints as they appear.

:mod:`.folder` finds finished ``checkpoint-<step>`` folders, :mod:`.decide` confirms an
onset with error control over the looks, :mod:`.cost` counts what each evaluation costs
and :mod:`.loop` ties them to ``run_suite`` and the trajectory report.
"""
