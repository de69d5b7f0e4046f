"""Authorization-matrix entries (see tests/support/matrix.py) for follows, merchant posts and the feed.

Follow routes are `authenticated` (anyone signed in may follow an active merchant, its own staff too);
posts are the merchant's (catalog.manage to publish and delete, console.view to list): another
merchant's owner, clerks and consumers are refused.
"""

from daodian.follows.models import MerchantPost

PARAMS = {
    "post_id": lambda s, w: _post(s, w).id,
}


def _post(scene, world) -> MerchantPost:
    post = MerchantPost(merchant_id=world.objects["merchant"].id, author_id=world.owner.id, title="新品",
                        body="本周新品上架", members_only=False)
    scene.db.add(post)
    scene.db.flush()
    return post


BODIES = {
    "POST /api/v1/merchants/{merchant_id}/posts": {"title": "周末特惠", "body": "到店洗车八折"},
}
