"""Where items come from: one module per source kind, the polite fetcher, and the registry."""
