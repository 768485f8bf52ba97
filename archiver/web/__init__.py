"""The web service (``archiver serve``): pages for the administrator, director, archivist and auditor.

A Django application configured in code from archiver's :class:`~archiver.settings.Settings`
(:mod:`.config`), served by waitress (:mod:`.server`). Accounts, sessions, password
hashing (Argon2), CSRF protection and permission checks are Django's; lock-out after
repeated failed logins is django-axes'. The pages call the same library functions
as the CLI (:mod:`archiver.archive.handout`, :mod:`archiver.archive.lookup`,
:mod:`archiver.status`, :mod:`archiver.signing.review` …) and every read of personal data
goes to the archive's access log with the account and its role (:mod:`.context`).
"""
