"""The SQLite journal: durable, ordered, bounded, seq survives restarts."""
import sqlite3

from pianocam.transport.journal import Entry, Journal


def test_seq_is_monotonic_across_restarts(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    seqs = [journal.next_seq() for _ in range(5)]
    journal.close()
    again = Journal(path)
    assert seqs == sorted(seqs) and again.next_seq() > seqs[-1]


def test_pending_in_order_until_acknowledged(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    for _ in range(4):
        seq = journal.next_seq()
        journal.append(Entry(seq, "pianocam/u/note", b'{"seq":%d}' % seq, 1, False))
    first = journal.pending()
    assert [e.seq for e in first] == sorted(e.seq for e in first) and len(first) == 4
    journal.acknowledge(first[1].seq)
    assert [e.seq for e in journal.pending()] == [first[0].seq, first[2].seq, first[3].seq]
    assert [e.seq for e in journal.pending(after=first[2].seq)] == [first[3].seq]


def test_unacknowledged_events_survive_a_crash(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    seq = journal.next_seq()
    journal.append(Entry(seq, "t", b"x", 1, False))
    del journal  # no close: as after SIGKILL
    reopened = Journal(path)
    assert [e.seq for e in reopened.pending()] == [seq]
    assert reopened.next_seq() > seq


def test_bounded_drops_oldest_and_counts(tmp_path):
    journal = Journal(tmp_path / "j.sqlite", max_events=3)
    seqs = []
    for _ in range(5):
        seqs.append(journal.next_seq())
        journal.append(Entry(seqs[-1], "t", b"x", 1, False))
    assert [e.seq for e in journal.pending()] == seqs[2:]
    assert journal.dropped == 2


def test_events_older_than_max_age_are_dropped_and_counted(tmp_path, caplog):
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    old = [journal.next_seq() for _ in range(3)]
    for seq in old:
        journal.append(Entry(seq, "t", b"x", 1, False))
    journal.close()
    # The file as a unit cut off from its broker for 40 days leaves it: three events that old.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET created = created - ?", (40 * 86400,))
    db.close()
    journal = Journal(path)
    fresh = journal.next_seq()
    journal.append(Entry(fresh, "t", b"y", 1, False))
    journal.close()
    with caplog.at_level("WARNING"):
        reopened = Journal(path, max_age=30 * 86400)
    assert [e.seq for e in reopened.pending()] == [fresh] and len(reopened) == 1
    assert reopened.dropped == 3 and "older than 30.0 days" in caplog.text
    assert Journal(tmp_path / "other.sqlite", max_age=0).dropped == 0  # 0: no age limit
