"""One settings object for the whole process, read from `DAODIAN_*` environment variables."""

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"
PROJECT_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAODIAN_", extra="ignore")

    env: Literal["dev", "test", "prod"] = Field("dev", description="Deployment kind; prod refuses dev defaults.")
    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'daodian.sqlite3'}",
        description="SQLAlchemy URL: an SQLite file (default) or postgresql+psycopg://…",
    )
    host: str = Field("127.0.0.1", description="Address `daodian serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `daodian serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Server processes for `daodian serve`.")
    secret_key: str = Field(DEV_SECRET, description="Signs CSRF tokens; must be set outside dev.")
    session_days: int = Field(30, ge=1, le=365, description="Lifetime of login sessions and API tokens.")
    default_locale: Literal["zh_CN", "en"] = Field("zh_CN", description="Language of pages before a user picks one.")
    page_size_max: int = Field(100, ge=1, le=1000, description="Upper bound on `limit` for list endpoints.")
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, description="How long SQLite waits for a lock.")
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (set behind HTTPS).")

    # --- orders, vouchers, payments (daodian.orders, daodian.payments) ---
    order_payment_minutes: int = Field(30, ge=1, le=7 * 24 * 60,
                                       description="Unpaid orders expire this many minutes after creation.")
    voucher_valid_days: int = Field(90, ge=1, le=3650, description="Vouchers expire this many days after payment.")
    verification_reversal_minutes: int = Field(
        30, ge=0, le=7 * 24 * 60, description="How long a manager may reverse a counter verification.")
    verification_max_failures: int = Field(
        5, ge=1, le=1000, description="Wrong voucher codes one terminal may try within the throttle window.")
    verification_throttle_minutes: int = Field(
        10, ge=1, le=24 * 60, description="Window over which wrong voucher codes are counted per terminal.")
    idempotency_retention_hours: int = Field(
        24, ge=24, le=24 * 90, description="Idempotency keys and their stored responses are kept this long.")
    idempotency_lease_seconds: int = Field(
        120, ge=5, le=3600, description="A claimed idempotency key whose request died is free again after this.")
    booking_free_cancel_hours: float = Field(
        2.0, ge=0, le=24 * 30, description="Consumers cancel a booking free until this long before the slot "
                                           "starts; later only the store's staff can.")
    booking_max_no_shows: int = Field(
        3, ge=0, description="No-shows within the window after which pay-at-store bookings are refused; 0 = off.")
    booking_no_show_window_days: int = Field(90, ge=1, le=3650, description="Window over which no-shows count.")
    public_base_url: str | None = Field(
        None, description="Absolute base URL the payment providers call back (e.g. https://daodian.example.com); "
                          "defaults to the URL of the request that started the payment.")
    sandbox_payments: bool | None = Field(
        None, description="Offer the simulated `sandbox` payment provider; default: on except when env=prod.")
    sandbox_secret: str | None = Field(
        None, description="HMAC key signing sandbox notifications; default: derived from DAODIAN_SECRET_KEY.")
    sandbox_notify_base_url: str | None = Field(
        None, description="Where the sandbox delivers its notifications; default: the base URL of the pay page.")
    alipay_app_id: str | None = Field(None, description="Alipay app id; Alipay is offered when this and both keys are set.")
    alipay_app_private_key_path: Path | None = Field(None, description="PEM file: our app's RSA private key (RSA2).")
    alipay_public_key_path: Path | None = Field(None, description="PEM file: Alipay's RSA public key (verifies notifications).")
    alipay_gateway: str = Field("https://openapi.alipay.com/gateway.do", description="Alipay OpenAPI gateway URL.")
    wechatpay_mchid: str | None = Field(None, description="WeChat Pay merchant id; WeChat Pay is offered when the "
                                                          "WECHATPAY_* settings below are all set.")
    wechatpay_appid: str | None = Field(None, description="WeChat app id bound to the merchant id.")
    wechatpay_apiv3_key: str | None = Field(None, description="APIv3 key (32 bytes) decrypting notifications.")
    wechatpay_cert_serial_no: str | None = Field(None, description="Serial number of our merchant API certificate.")
    wechatpay_private_key_path: Path | None = Field(None, description="PEM file: our merchant API private key.")
    wechatpay_public_key_path: Path | None = Field(None, description="PEM file: the WeChat Pay platform public key.")
    wechatpay_public_key_id: str | None = Field(None, description="Id of the platform public key (PUB_KEY_ID_...).")
    wechatpay_gateway: str = Field("https://api.mch.weixin.qq.com", description="WeChat Pay API v3 base URL.")

    # --- analytics and privacy (daodian.analytics) ---
    facts_dir: Path | None = Field(None, description="Where `daodian facts export` writes the facts as Parquet; the "
                                                     "analytics read it (with Spark on a cluster: a path every "
                                                     "worker sees). Default: var/facts/<a key of the database "
                                                     "URL>, so two databases never share their facts.")
    analytics_engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="Engine the dashboards and `daodian facts job` use by default.")
    spark_master: str = Field("local[2]", description="Spark master URL: local[N] in process, or a cluster "
                                                      "(spark://host:7077, yarn, k8s://...).")
    privacy_min_group: int = Field(10, ge=2, le=1000,
                                   description="k: a figure a merchant sees must come from at least this many "
                                               "distinct identified consumers (anonymous receipts count as "
                                               "none); smaller cells are suppressed.")

    # --- maps and photos (daodian.web map, daodian.media) ---
    map_tile_url: str = Field(
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        description="Leaflet tile URL template ({s} {x} {y} {z}); e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png.")
    map_tile_subdomains: str = Field("1234", description="Values of {s} in the tile URL template.")
    map_tile_datum: Literal["wgs84", "gcj02", "bd09"] = Field(
        "gcj02", description="Datum the tiles are drawn in (AMap/Tencent: gcj02, OpenStreetMap: wgs84); markers "
                             "are converted into it.")
    map_attribution: str = Field("© AutoNavi (高德地图)", description="Attribution shown on the map for the tiles.")
    media_backend: Literal["local", "s3"] = Field("local", description="Where photos are kept: a folder or S3.")
    media_root: Path = Field(PROJECT_ROOT / "var" / "media", description="Folder of the photos (media_backend=local).")
    media_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest photo upload accepted, in bytes.")
    media_max_pixels: int = Field(40_000_000, ge=10_000, description="Largest photo accepted, in pixels "
                                                                     "(width × height; guards decompression bombs).")
    media_max_side: int = Field(2048, ge=64, le=8192, description="Photos are scaled down to at most this many "
                                                                  "pixels on their longer side.")
    media_thumb_side: int = Field(400, ge=32, le=1024, description="Longer side of thumbnails, in pixels.")
    s3_bucket: str | None = Field(None, description="S3 bucket of the photos (media_backend=s3).")
    s3_prefix: str = Field("media/", description="Key prefix of the photos in the bucket.")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, OSS, COS); default AWS.")
    s3_region: str | None = Field(None, description="S3 region.")
    s3_access_key_id: str | None = Field(None, description="S3 access key id; default: boto3's credential chain.")
    s3_secret_access_key: str | None = Field(None, description="S3 secret access key.")

    # --- periodic jobs (daodian.jobs) ---
    periodic_jobs: bool | None = Field(
        None, description="Run the periodic jobs (order expiry, refund retries, deal settlement, the facts export "
                          "and job, ...) inside the server, each once per period across processes; default: on "
                          "except when env=test. Off: schedule `daodian jobs ...` with cron instead.")

    # --- the server's threads (kit.one_core) ---
    one_core_requests: bool | None = Field(
        None, description="Keep each server process's request threads (event loop, worker threads) on one CPU "
                          "core, so handing the GIL between them wakes nothing on another core; the periodic jobs "
                          "and the webhook worker keep every core. Default: on except when env=test.")

    # --- webhooks (daodian.webhooks) ---
    webhook_worker: bool | None = Field(
        None, description="Send webhook deliveries from a background worker inside the server (safe in several "
                          "processes); default: on except when env=test. Off: run `daodian webhooks deliver`.")
    webhook_poll_seconds: float = Field(0.5, gt=0, le=60, description="How often an idle webhook worker looks for "
                                                                      "new facts and due deliveries.")
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60, description="Timeout of one webhook request.")
    webhook_lease_seconds: int = Field(60, ge=5, le=3600, description="How long a claimed delivery is reserved for "
                                                                     "the process sending it (a crashed one's "
                                                                     "deliveries go out again after this).")

    # --- apps (daodian.apps) ---
    app_rate_per_second: float = Field(10.0, gt=0, le=10_000, description="Requests per second an app installation "
                                                                          "(or a consumer's grant) may make, on "
                                                                          "average, per server process.")
    app_rate_burst: int = Field(60, ge=1, le=100_000, description="Requests an app may make at once after a quiet "
                                                                  "spell (its token bucket's size).")

    @model_validator(mode="after")
    def _facts_of_this_database(self) -> "Settings":
        # One directory per database: the facts job of a server on a fresh database once read the Parquet another
        # database had exported into the shared var/facts (segments of merchants it does not have: a foreign key
        # error), and an export would have taken the other's watermark for its own.
        if self.facts_dir is None:
            key = hashlib.sha256(self.database_url.encode()).hexdigest()[:12]
            self.facts_dir = PROJECT_ROOT / "var" / "facts" / key
        return self

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_dev(self) -> "Settings":
        if self.env == "prod" and self.secret_key == DEV_SECRET:
            raise ValueError("DAODIAN_SECRET_KEY must be set when DAODIAN_ENV=prod")
        return self

    @property
    def sandbox_enabled(self) -> bool:
        return self.sandbox_payments if self.sandbox_payments is not None else self.env != "prod"

    @property
    def runs_periodic_jobs(self) -> bool:
        return self.periodic_jobs if self.periodic_jobs is not None else self.env != "test"

    @property
    def keeps_requests_on_one_core(self) -> bool:
        return self.one_core_requests if self.one_core_requests is not None else self.env != "test"

    @property
    def runs_webhook_worker(self) -> bool:
        return self.webhook_worker if self.webhook_worker is not None else self.env != "test"

    @property
    def sandbox_key(self) -> bytes:
        if self.sandbox_secret:
            return self.sandbox_secret.encode()
        return hashlib.sha256(f"sandbox-notify:{self.secret_key}".encode()).digest()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
