"""Keys held while a connection lives (`services.common.liveness`), on SQLite: held by this process."""

from __future__ import annotations

from services.common import liveness
from services.common.db import Database


def test_a_key_is_held_once_until_its_block_ends_and_is_listed_while_held(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'keys.db'}")
    building = liveness.holders(db, 7)
    with liveness.held(db, 7, 42) as first:
        assert first is not None
        with liveness.held(db, 7, 42) as second, liveness.held(db, 8, 42) as other_namespace:
            assert second is None and other_namespace is not None
        with db.engine.connect() as conn:
            assert building(conn) == {42}
    with liveness.held(db, 7, 42) as again, db.engine.connect() as conn:
        assert again is not None and building(conn) == {42}
    with db.engine.connect() as conn:
        assert building(conn) == set()
    db.dispose()


def test_keys_of_ids_are_stable_non_negative_int4():
    keys = {liveness.key_of(f"build-{n}") for n in range(1000)}
    assert len(keys) == 1000 and all(0 <= key < 2**31 for key in keys)
    assert liveness.key_of("3f2c") == liveness.key_of("3f2c")
