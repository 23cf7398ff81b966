"""Moving jobs forward: submit, poll, download. Each stage is a ``tick(now)``."""
