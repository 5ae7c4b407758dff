"""No blob column is forgotten by the orphan sweep."""

from tests.factories import make_document, make_person, pdf_file
from vault.blobs import BLOB_COLUMNS, referenced_blob_names
from vault.models import Base, Document


def blob_columns_of_the_models() -> set[str]:
    return {f"{table.name}.{column.name}" for table in Base.metadata.tables.values() for column in table.columns
            if column.name.endswith("blob_name")}


def test_every_blob_column_of_the_models_is_listed():
    listed = {f"{column.table.name}.{column.name}" for column in BLOB_COLUMNS}
    assert blob_columns_of_the_models() == listed


def test_a_new_blob_column_would_be_caught():
    """The check above can fail: a table with an unlisted blob column is seen."""
    from sqlalchemy import Column, MetaData, String, Table

    extra = MetaData()
    Table("exports", extra, Column("id", String, primary_key=True), Column("archive_blob_name", String))
    tables = dict(Base.metadata.tables) | dict(extra.tables)
    found = {f"{table.name}.{column.name}" for table in tables.values() for column in table.columns
             if column.name.endswith("blob_name")}
    assert "exports.archive_blob_name" in found - {f"{c.table.name}.{c.name}" for c in BLOB_COLUMNS}


def test_referenced_names_come_from_every_listed_column(services):
    person = make_person(services)
    made = [make_document(services, person), make_document(services, person, files=[pdf_file()])]
    with services.session_factory() as session:
        names = referenced_blob_names(session)
        rows = [session.get(Document, view.id) for view in made]
    assert names == {name for row in rows for name in (row.blob_name, row.thumbnail_blob_name)}
