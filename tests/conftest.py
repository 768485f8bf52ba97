"""The suite's fixtures live in ``tests/fixtures/``, each module registered here as a plugin."""

pytest_plugins = [
    "tests.fixtures.spec_export",
    "tests.fixtures.pki",
    "tests.fixtures.storage",
    "tests.fixtures.archive",
    "tests.fixtures.sites",
    "tests.fixtures.journal_systems",
    "tests.fixtures.school",
    "tests.fixtures.region",
]
