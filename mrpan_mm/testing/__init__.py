from .nyu_fixture import make_nyu_fixture  # noqa: F401
