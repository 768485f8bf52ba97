"""The demo school: a generated journal export (curriculum, names, calendar) and demo keys.

Everything here is for trying archiver out (``archiver demo``) and for the tests;
nothing in the library below it imports the demo.
"""
