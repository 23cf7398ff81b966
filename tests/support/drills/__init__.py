"""The drill kit: the code of the drills in ``bench/drills`` and of their fast variants in
``tests/e2e``, so that the scripts and the tests run the very same code at different sizes.

- ``workspace``: workspaces with real media, config files, the scripts' settings;
- ``service``: the service as a subprocess (for kill -9) or in-process, its logs tapped;
- ``jobs``: read-only views of a job store;
- ``checks``: the figures every drill prints (jobs lost, inputs rendered twice, outputs
  verified against their sidecar and the emulator's bytes, ``.part`` files left, why each
  job ended where it did);
- ``soak``, ``diskfull``, ``twohost`` (with ``twohost_result``), ``corpus`` (with
  ``corpus_cases`` and ``corpus_files``): the drills themselves (``run_soak``, ``run_diskfull``,
  ``run_twohost``, ``run_corpus``);
- ``tmpfs``: a small filesystem, for a real ENOSPC; ``multihost``: PostgreSQL, the emulator as
  a process of its own and one service per host on the shared store, for the drills with more
  than one host.

The waits are ``tests.support.waits.wait_until``; the logs, ``tests.support.logs``.
"""
