"""Authorization-matrix entries (see tests/support/matrix.py) for search."""

from tests.support.matrix import API_PREFIX

PARAMS = {
    f"{API_PREFIX}/search#q": lambda s, w: "机油",
}

BODIES: dict = {}
