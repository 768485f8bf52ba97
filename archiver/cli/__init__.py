"""The command line: ``archiver`` and its commands (click), one module per command.

The only part of archiver that prints or imports click: each command parses its
options, calls the library and prints the result in Russian; :mod:`.main` turns
library errors into messages and exit codes in one place.
"""
