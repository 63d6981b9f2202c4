"""Trusting the judge: re-judging a run, agreement between judgings, gold labels.

* :mod:`alignprobe.judging.rejudge` - a finished run re-scored by another judge or prompt.
"""
