"""Template filters of the service's pages."""
