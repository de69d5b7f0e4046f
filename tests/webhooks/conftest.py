"""Webhook test scene: a developer's app installed at one merchant (not at another), and a real receiver."""

import sys
from dataclasses import dataclass

import pytest

from daodian.apps.models import App, AppInstallation
from daodian.kit.clock import utcnow
from tests.factories import make_shop, make_user
from tests.webhooks.receiver import Receiver

# The SDK is its own package (clients/python); its tests here import it from the source tree.
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "clients" / "python" / "src"))

ALL_READ = "order:read member:read marketing:read catalog:read"


def make_app(db, developer, *, name: str = "记账助手") -> App:
    app = App(developer_id=developer.id, name=name, description="", client_id=f"app_{developer.id}_{name}"[:48],
              secret_hash="0" * 64, redirect_uris=[], web_origins=[], scopes=ALL_READ, created_at=utcnow())
    db.add(app)
    db.flush()
    return app


def install(db, app: App, merchant, by, *, scopes: str = ALL_READ) -> AppInstallation:
    installation = AppInstallation(app_id=app.id, merchant_id=merchant.id, scopes=scopes, installed_by=by.id,
                                   installed_at=utcnow())
    db.add(installation)
    db.flush()
    return installation


@dataclass
class Scene:
    developer: object
    app: App
    shop: object  # installed the app
    other_shop: object  # did not
    installation: AppInstallation


@pytest.fixture
def scene(db) -> Scene:
    developer = make_user(db, name="开发者")
    app = make_app(db, developer)
    shop, other = make_shop(db, name="装了应用的车行"), make_shop(db, name="没装应用的车行")
    return Scene(developer, app, shop, other, install(db, app, shop.merchant, shop.owner))


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
