"""Disposal at the end of the retention period: draft act, approval, execution with the acts it needs.

See ``docs/disposal.md``. :mod:`.act` (the act's data and PDF), :mod:`.draft` (steps 1
and 2), :mod:`.execute` (step 3), :mod:`.pd_act` (the personal-data destruction act),
:mod:`.records` (reading the series, the acts' manifests).
"""
