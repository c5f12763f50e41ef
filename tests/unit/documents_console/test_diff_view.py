from services.documents.diff_view import diff_counts, inline_diff, unit_depths


def test_a_changed_text_is_shown_word_by_word():
    old = "wspieranie wykonywania zadań publicznych;"
    new = "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji;"
    assert inline_diff(old, new) == [("equal", "wspieranie wykonywania zadań publicznych"),
                                     ("insert", " wraz z udzieleniem dotacji"), ("equal", ";")]
    assert inline_diff("raz w roku", "dwa razy w roku") == [("delete", "raz"), ("insert", "dwa razy"),
                                                            ("equal", " w roku")]
    # a space between two changed words belongs to the change
    assert inline_diff("dotacji na ich dofinansowanie;", "dotacji na wkład własny;") == [
        ("equal", "dotacji na "), ("delete", "ich dofinansowanie"), ("insert", "wkład własny"), ("equal", ";")]


def test_pieces_put_together_give_both_texts():
    old, new = "Konkursy ogłasza się raz w roku, do 31 marca.", "Konkursy ogłasza się dwa razy w roku."
    pieces = inline_diff(old, new)
    assert "".join(text for op, text in pieces if op != "insert") == old
    assert "".join(text for op, text in pieces if op != "delete") == new
    assert inline_diff("", "nowy") == [("insert", "nowy")] and inline_diff("stary", "") == [("delete", "stary")]


def test_counts_name_every_status():
    entries = [{"status": "changed"}, {"status": "inserted"}, {"status": "changed"}]
    assert diff_counts(entries) == {"inserted": 1, "deleted": 0, "changed": 2, "renumbered": 0}


def test_depth_follows_the_parent_chain_and_survives_a_cycle():
    units = [{"id": "c", "parent": None}, {"id": "p", "parent": "c"}, {"id": "s", "parent": "p"},
             {"id": "x", "parent": "y"}, {"id": "y", "parent": "x"}, {"id": "o", "parent": "missing"}]
    depths = unit_depths(units)
    assert (depths["c"], depths["p"], depths["s"], depths["o"]) == (0, 1, 2, 0)
    assert depths["x"] == 1 and depths["y"] == 1
