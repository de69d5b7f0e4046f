"""One migration history for both databases: after `upgrade heads` the schema is what the models say."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from daodian.migrations.schema_filter import include_object
from daodian.models import Base


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_object": include_object})
        drift = compare_metadata(context, Base.metadata)
    assert drift == [], "a model and the migrations disagree; write or fix a migration"
