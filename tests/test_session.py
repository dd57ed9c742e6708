"""Sessions: pseudonymous IDs, never-overwrite take names, atomic session.json, reopening."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sand_gui.errors import DatasetError, UsageError
from sand_gui.session import (
    SESSION_FILE, Session, unfinished_sessions, validate_age, validate_patient_id, validate_sex, write_atomic,
)


@pytest.mark.parametrize("pid", ["ID042", "p7", "ALS-2026_003", "A" * 32, "  ID042  "])
def test_valid_patient_ids(pid):
    assert validate_patient_id(pid) == pid.strip()


@pytest.mark.parametrize("pid", ["", "x", "John Smith", "-ID042", "_a", "A" * 33, "ID042/../x", "Émile", "ID.042", None])
def test_invalid_patient_ids_name_the_value(pid):
    with pytest.raises(UsageError, match="Patient ID .* is not valid"):
        validate_patient_id(pid)


def test_age_and_sex_are_validated():
    assert validate_age(None) is None and validate_age("") is None and validate_age("63") == 63
    assert validate_sex("f") == "F" and validate_sex("M") == "M" and validate_sex(None) is None
    for bad in ("sixty", -1, 121, "4.5"):
        with pytest.raises(UsageError, match="Age"):
            validate_age(bad)
    with pytest.raises(UsageError, match="Sex 'Q'"):
        validate_sex("Q")
    with pytest.raises(UsageError):
        Session.create(Path("/nonexistent-never-created"), "John Smith")


def test_create_makes_a_new_folder_per_session(tmp_path):
    a = Session.create(tmp_path, "ID042", age=63, sex="F", date="2026-11-26")
    b = Session.create(tmp_path, "ID042", date="2026-11-26")
    assert a.folder == tmp_path / "ID042" / "2026-11-26_1"
    assert b.folder == tmp_path / "ID042" / "2026-11-26_2"
    saved = json.loads((a.folder / SESSION_FILE).read_text())
    assert saved["patient_id"] == "ID042" and saved["age"] == 63 and saved["sex"] == "F"
    assert saved["finished"] is False and saved["takes"] == {}


def test_take_names_never_reuse_an_existing_file(tmp_path):
    s = Session.create(tmp_path, "ID042")
    first = s.next_take_path("phonationA")
    assert first.name == "ID042_phonationA_take01.wav"
    assert s.next_take_path("phonationA") == first  # nothing recorded yet: same proposal
    first.write_bytes(b"take 1")
    s.add_take("phonationA", first)
    second = s.next_take_path("phonationA")
    assert second.name == "ID042_phonationA_take02.wav"
    # a file placed by hand and a half-written take from a crash are skipped as well
    (s.folder / "ID042_phonationA_take02.wav").write_bytes(b"by hand")
    (s.folder / "ID042_phonationA_take03.wav.part").write_bytes(b"crashed")
    assert s.next_take_path("phonationA").name == "ID042_phonationA_take04.wav"
    assert s.next_take_path("diadochokinesisPA").name == "ID042_rhythmPA_take01.wav"  # alias -> canonical
    with pytest.raises(UsageError, match="unknown task"):
        s.next_take_path("phonationX")
    assert first.read_bytes() == b"take 1"


def test_current_is_the_latest_take_and_a_retake_clears_a_rejection(tmp_path):
    s = Session.create(tmp_path, "ID042")
    assert s.current("rhythmKA") is None
    p1 = s.next_take_path("rhythmKA")
    p1.write_bytes(b"1")
    s.add_take("rhythmKA", p1)
    s.reject("rhythmKA", "0.2 s of voice after trimming")
    assert Session.load(s.folder).rejected == {"rhythmKA": "0.2 s of voice after trimming"}
    p2 = s.next_take_path("rhythmKA")
    p2.write_bytes(b"2")
    s.add_take("rhythmKA", p2)
    assert s.current("rhythmKA") == p2 and s.rejected == {}
    loaded = tmp_path / "elsewhere" / "old_phonationU.wav"
    loaded.parent.mkdir()
    loaded.write_bytes(b"3")
    s.set_loaded("phonationU", loaded)
    again = Session.load(s.folder)
    assert again.current("rhythmKA") == p2
    assert again.current("phonationU") == loaded.resolve()
    assert again.takes["rhythmKA"] == [p1.name, p2.name]
    assert list(again.recordings()) == ["phonationU", "rhythmKA"]  # task order
    assert again.files() == [loaded.resolve(), p1, p2]


def test_session_json_is_replaced_atomically(tmp_path):
    s = Session.create(tmp_path, "ID042")
    target = s.folder / SESSION_FILE
    inode = target.stat().st_ino
    # a save interrupted while writing leaves only a stale .part; the real file stays whole
    (s.folder / (SESSION_FILE + ".part")).write_text('{"patient_id": "ID0')
    assert Session.load(s.folder).patient_id == "ID042"
    p = s.next_take_path("phonationI")
    p.write_bytes(b"x")
    s.add_take("phonationI", p)
    assert target.stat().st_ino != inode  # a new file renamed over the old one, not rewritten in place
    assert not (s.folder / (SESSION_FILE + ".part")).exists()
    assert json.loads(target.read_text())["takes"] == {"phonationI": [p.name]}
    out = write_atomic(tmp_path / "x.txt", "hello")
    assert out.read_text() == "hello" and not (tmp_path / "x.txt.part").exists()


def test_killed_application_leaves_an_unfinished_session(tmp_path):
    # The application is killed (SIGKILL: no clean-up at all) right after a take was saved.
    code = f"""
        import os, signal
        from pathlib import Path
        from sand_gui.session import Session
        s = Session.create(Path({str(tmp_path)!r}), "ID077", age=70)
        p = s.next_take_path("phonationO")
        p.write_bytes(b"RIFF take")
        s.add_take("phonationO", p)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, timeout=120)
    assert proc.returncode == -9
    done = Session.create(tmp_path, "ID078")
    done.finish()
    (tmp_path / "ID079" / "2026-01-01_1").mkdir(parents=True)
    (tmp_path / "ID079" / "2026-01-01_1" / SESSION_FILE).write_text("{ not json")
    found = unfinished_sessions(tmp_path)
    assert len(found) == 1 and found[0].parent.name == "ID077"
    reopened = Session.load(found[0])
    assert reopened.age == 70 and not reopened.finished
    assert reopened.current("phonationO").read_bytes() == b"RIFF take"
    reopened.finish()
    assert unfinished_sessions(tmp_path) == []
    with pytest.raises(DatasetError, match="not a readable session file"):
        Session.load(tmp_path / "ID079" / "2026-01-01_1")


def test_load_refuses_a_folder_without_session(tmp_path):
    with pytest.raises(DatasetError, match="not a session folder"):
        Session.load(tmp_path)
    bad = tmp_path / "s"
    bad.mkdir()
    (bad / SESSION_FILE).write_text(json.dumps({"patient_id": "John Smith", "date": "2026-11-26"}))
    with pytest.raises(DatasetError, match="Patient ID"):
        Session.load(bad)
    assert os.listdir(tmp_path) == ["s"]
