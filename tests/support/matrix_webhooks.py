"""Authorization-matrix entries (see tests/support/matrix.py) for webhooks: each consumer world's user is the
developer of an app (installed at the shop it buys at) with one endpoint and one delivery; routes declare
`self` (the developer, or an operator), and no app token may use them."""

from daodian.apps.models import App, AppInstallation
from daodian.kit.clock import utcnow
from daodian.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from daodian.webhooks.signing import new_secret
from tests.support.matrix import API_PREFIX, shop

BASE = f"{API_PREFIX}/apps/{{app_id}}/webhooks"
PATHS = (BASE, f"{BASE}/{{endpoint_id}}", f"{BASE}/{{endpoint_id}}/rotate-secret", f"{BASE}/{{endpoint_id}}/deliveries",
         f"{BASE}/{{endpoint_id}}/attempts", f"{BASE}/{{endpoint_id}}/deliveries/{{delivery_id}}/redeliver")


def _app(scene, world) -> App:
    def make() -> App:
        app = App(developer_id=world.owner.id, name=f"应用{world.name}", description="",
                  client_id=f"matrix-webhooks-{world.name}", secret_hash="0" * 64, redirect_uris=[], web_origins=[],
                  scopes="order:read", created_at=utcnow())
        scene.db.add(app)
        scene.db.flush()
        merchant = shop(scene, world).objects["merchant"]
        scene.db.add(AppInstallation(app_id=app.id, merchant_id=merchant.id, scopes="order:read",
                                     installed_by=shop(scene, world).owner.id, installed_at=utcnow()))
        return app
    return scene.once(world, "webhooks:app", make)


def _endpoint(scene, world) -> WebhookEndpoint:
    def make() -> WebhookEndpoint:
        endpoint = WebhookEndpoint(app_id=_app(scene, world).id, url="https://hooks.example.com/in",
                                   events=["order.paid"], description="", secret=new_secret(),
                                   status=EndpointStatus.ACTIVE, consecutive_failures=0, created_by=world.owner.id,
                                   created_at=utcnow())
        scene.db.add(endpoint)
        scene.db.flush()
        return endpoint
    return scene.once(world, "webhooks:endpoint", make)


def _delivery(scene, world) -> int:
    endpoint = _endpoint(scene, world)
    installation = scene.db.query(AppInstallation).filter_by(app_id=endpoint.app_id).one()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, installation_id=installation.id, fact_id=0,
                               event_id=f"evt_0_{installation.id}", event_type="order.paid", object_key="order:0",
                               body={"id": f"evt_0_{installation.id}"}, status=DeliveryStatus.SUCCEEDED, attempts=1,
                               next_attempt_at=utcnow())
    scene.db.add(delivery)
    scene.db.flush()
    return delivery.id


PARAMS = {
    **{f"{path}#app_id": (lambda s, w: _app(s, w).id) for path in PATHS},
    **{f"{path}#endpoint_id": (lambda s, w: _endpoint(s, w).id) for path in PATHS[1:]},
    f"{PATHS[-1]}#delivery_id": _delivery,
}

BODIES = {
    f"POST {BASE}": {"url": "https://hooks.example.com/new", "events": ["order.paid", "order.refunded"]},
    f"PATCH {BASE}/{{endpoint_id}}": {"description": "改个说明"},
}
