"""A region: many schools' year-end on a distributed engine (Dask), with the same stage code as on one machine.

:mod:`.model` reads ``region.toml``; :mod:`.engine` connects to a scheduler or starts a
local cluster; :mod:`.jobs` are the stages as engine jobs; :mod:`.run` coordinates a
region run (the lock per school and year, failures, progress); :mod:`.status` is where
each school's year stands. See docs/region.md.
"""
