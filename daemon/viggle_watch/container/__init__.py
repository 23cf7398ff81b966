"""The image's own start-up (issue 20; docs/container.md): the conventions NAS users know
(``PUID``, ``PGID``, ``UMASK``, ``TZ``), a starter config on first start, and the health probe.
``plan`` decides, purely; ``entry`` does what it decided; ``health`` asks ``/healthz``."""
