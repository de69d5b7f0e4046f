"""The memoised answers about dependencies (kit.api.dependency_memo) are FastAPI's own, for every route."""

from fastapi import Depends, FastAPI
from fastapi.dependencies import models, utils
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from daodian.app import create_app
from daodian.kit.api import dependency_memo
from daodian.kit.settings import Settings


def _dependants(dependant):
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _parameters(dependant):
    return [*dependant.path_params, *dependant.query_params, *dependant.header_params, *dependant.cookie_params]


def test_every_dependency_of_every_route_gets_the_answers_fastapi_computes():
    app = create_app(Settings(env="test", database_url="sqlite://"))  # installs the memo
    assert utils._get_cache_key is not models._get_cache_key
    original = dependency_memo._ORIGINALS
    checked = parameters = 0
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for dependant in _dependants(route.dependant):
            for _ in range(2):  # computed, then remembered
                assert utils._get_cache_key(dependant=dependant) == models._get_cache_key(dependant=dependant)
                for name in ("_is_gen_callable", "_is_async_gen_callable", "_is_coroutine_callable"):
                    assert getattr(utils, name)(dependant.call) == getattr(models, name)(dependant.call)
                for field in _parameters(dependant):
                    parameters += 1
                    for name in ("_get_param_model", "_is_json_field"):
                        assert getattr(utils, name)(field) == original[name](field)
                    annotation = field.field_info.annotation
                    assert utils.field_annotation_is_sequence(annotation) == original["field_annotation_is_sequence"](annotation)
                    for convert in (False, True):
                        assert list(utils._get_param_aliases(field, convert_underscores=convert)) == \
                            original["_get_param_aliases"](field, convert_underscores=convert)
            checked += 1
    assert checked > 500 and parameters > 500


def test_installing_twice_keeps_one_memo():
    dependency_memo.install()
    memo = utils._get_cache_key
    dependency_memo.install()
    assert utils._get_cache_key is memo


def test_generator_dependencies_and_overrides_still_work():
    dependency_memo.install()
    closed: list[str] = []

    def resource():
        yield "real"
        closed.append("real")

    def fake():
        yield "fake"
        closed.append("fake")

    app = FastAPI()

    @app.get("/")
    async def read(value: str = Depends(resource)) -> dict:
        return {"value": value}

    with TestClient(app) as client:
        assert client.get("/").json() == {"value": "real"}
        app.dependency_overrides[resource] = fake  # a fresh Dependant per request
        for _ in range(3):
            assert client.get("/").json() == {"value": "fake"}
    assert closed == ["real", "fake", "fake", "fake"]
