"""The body of every service's `migrations/env.py`: online migrations only."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

from services.common.db import make_engine


def run_migrations(target_metadata: MetaData) -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, target_metadata)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run(conn, target_metadata)
            conn.commit()
    finally:
        engine.dispose()


def unmanaged(metadata: MetaData):
    """An `include_object` hook that leaves alone the tables a service creates outside its models.

    A service lists their name prefixes in `metadata.info["unmanaged_table_prefixes"]`, e.g. review's
    SQLite FTS5 table `comment_search`, whose shadow tables (`comment_search_data`, ...) SQLite makes itself.
    """
    prefixes = tuple(metadata.info.get("unmanaged_table_prefixes", ()))

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        return not (type_ == "table" and reflected and compare_to is None and prefixes
                    and str(name).startswith(prefixes))

    return include_object


def _run(connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=unmanaged(target_metadata),
    )
    with context.begin_transaction():
        context.run_migrations()
