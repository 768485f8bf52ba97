"""Where the journal export comes from and how it is read.

A file or an HTTP(S) source (:mod:`.http`), the format-v1 reader (:mod:`.export_v1`) and
its validation report (:mod:`.report`).
"""
