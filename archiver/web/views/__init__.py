"""The service's pages, one module per page (the views only call the library and render)."""
