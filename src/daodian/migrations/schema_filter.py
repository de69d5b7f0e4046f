"""What autogenerate compares: everything but the columns that exist only in the database."""

# Columns that exist only on PostgreSQL (PostGIS twins of ORM columns), managed by hand in migrations.
DATABASE_ONLY_COLUMNS = {("stores", "geog")}
# Tables that belong to extensions (PostGIS), not to daodian.
EXTENSION_TABLES = {"spatial_ref_sys"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table":
        return name not in EXTENSION_TABLES
    if type_ == "index" and reflected:
        return not any((obj.table.name, column.name) in DATABASE_ONLY_COLUMNS for column in obj.columns)
    return not (type_ == "column" and (obj.table.name, name) in DATABASE_ONLY_COLUMNS)
