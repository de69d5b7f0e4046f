from tests.factories import PASSWORD, auth, make_merchant, make_store, make_user


def test_health_reports_database(client, backend):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": backend}


def test_register_login_and_me(client):
    created = client.post("/api/v1/auth/register", json={"phone": "+86 138-0013-8000", "password": PASSWORD,
                                                         "display_name": "小王"})
    assert created.status_code == 201, created.text
    login = client.post("/api/v1/auth/login", json={"phone": "13800138000", "password": PASSWORD})
    assert login.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["phone"] == "13800138000"


def test_store_detail_round_trip(client, db):
    owner = make_user(db)
    store = make_store(db, make_merchant(db, owner))
    body = client.get(f"/api/v1/stores/{store.id}").json()
    assert body["input_location"] == {"lat": 30.259, "lng": 120.149, "datum": "gcj02"}
    assert body["location"]["datum"] == "wgs84"
    assert abs(body["location_gcj02"]["lat"] - 30.259) < 1e-6
    patched = client.patch(f"/api/v1/stores/{store.id}", json={"name": "新名字"}, headers=auth(db, owner))
    assert patched.status_code == 200 and patched.json()["name"] == "新名字"
