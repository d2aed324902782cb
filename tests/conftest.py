"""The root of the tests, laid out like the package (``tests/analysis`` for
``echoscope.analysis``, ...); the cross-cutting tests (imports, the README, reproductions, the
result protocol) sit here.

Its one job: pytest puts the folder of a conftest on sys.path, so every test, in any
subfolder, imports the shared known answers by name (``from known_answers import ...``: the
decoupled bistable units and the closed forms of their roots). The switching example of Ashwin
& Ceni is the library's own ``es.ashwin_ceni()``.
"""
