"""Rendering: the domain model laid out as PDF/A-3b documents (journal bundle, summary statement).

:mod:`.bundle` makes a class's documents from :mod:`.context` with the layout
:mod:`.engines` (Typst, WeasyPrint), :mod:`.pdf` joins and stamps the parts, and
:mod:`.batch` renders classes in parallel. Imports the sources and the model, never
storage or the archive.
"""
