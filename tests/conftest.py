"""The shared fixtures live in ``tests/support``, loaded here as plugins (pytest reads
``pytest_plugins`` only in the root conftest). Helpers are imported from those modules by name.
"""

pytest_plugins = [
    "tests.support.threads",  # autouse: no test may leave a thread running
    "tests.support.workspace",  # workspace, make_config
    "tests.support.stepping",  # stepper_for
    "tests.support.emulator",  # emulator; the emulator tests' clock, start, emu, media
    "tests.support.client",  # session, client_media, client
    "tests.support.transport",  # rig (a client over a scripted transport), inputs
    "tests.support.postgres",  # pg_server_url, pg_url
    "tests.support.store",  # store (SQLite); pg_store_url, open_as, backend
    "tests.support.hooks",  # receiver, hook_rig
    "tests.support.security",  # only_key
    "tests.support.actions",  # world (a job store and a watch folder)
    "tests.support.web",  # api (the service with its web listener)
    "tests.support.browser",  # chromium, browser (pages and contexts), other_site; marker `browser`
    "tests.support.containers",  # podman, image (the viggle-watch image); marker `container`
]
