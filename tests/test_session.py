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
from sand_gui.files import write_atomic
from sand_gui.session import (
    SESSION_FILE,
    Session,
    unfinished_sessions,
    validate_age,
    validate_patient_id,
    validate_sex,
)


@pytest.mark.parametrize("pid", ["ID042", "p7", "ALS-2026_003", "A" * 32, "  ID042  "])
def test_valid_patient_ids(pid):
    assert validate_patient_id(pid) == pid.strip()


@pytest.mark.parametrize(
    "pid", ["", "x", "John Smith", "-ID042", "_a", "A" * 33, "ID042/../x", "Émile", "ID.042", None]
)
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
    copy = s.set_loaded("phonationU", loaded)  # copied into the session folder
    assert copy == s.folder / "ID042_phonationU_take01.wav" and copy.read_bytes() == b"3"
    again = Session.load(s.folder)
    assert again.current("rhythmKA") == p2
    assert again.current("phonationU") == copy
    assert again.takes["rhythmKA"] == [p1.name, p2.name]
    assert list(again.recordings()) == ["phonationU", "rhythmKA"]  # task order
    assert again.files() == [copy, p1, p2]
    assert again.origin(copy) == "loaded" and again.origin(p2) == "recorded"


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


# --- self-contained sessions ------------------------------------------------------------------
def test_a_loaded_file_is_copied_in_with_its_checksum_and_survives_the_original(tmp_path):
    import hashlib
    import shutil

    s = Session.create(tmp_path / "data", "ID042")
    src = tmp_path / "usb" / "old recording_phonationA.FLAC"
    src.parent.mkdir()
    src.write_bytes(b"fLaC pretend audio")
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    copy = s.set_loaded("phonationA", src)
    assert copy == s.folder / "ID042_phonationA_take01.flac" and copy.read_bytes() == src.read_bytes()
    saved = json.loads((s.folder / SESSION_FILE).read_text())
    assert saved["schema_version"] == 2 and saved["takes"] == {"phonationA": [copy.name]}
    assert saved["files"][copy.name]["sha256"] == digest and saved["files"][copy.name]["origin"] == "loaded"
    assert saved["files"][copy.name]["source"] == str(src.resolve())
    shutil.move(str(src.parent), str(tmp_path / "moved"))  # the original moves away
    again = Session.load(s.folder)
    assert again.current("phonationA") == copy and again.verify() == {copy: "ok"}
    assert again.origin(copy) == "loaded" and again.recorded_sha256(copy) == digest
    second = again.set_loaded("phonationA", tmp_path / "moved" / src.name)  # loaded again: a new take
    assert second.name == "ID042_phonationA_take02.flac" and again.current("phonationA") == second
    assert (
        again.set_loaded("phonationA", copy) == copy and again.current("phonationA") == copy
    )  # already inside: no copy
    assert sorted(p.name for p in s.folder.iterdir()) == sorted([SESSION_FILE, copy.name, second.name])
    copy.write_bytes(b"edited")
    assert again.verify()[copy] == "changed"
    with pytest.raises(UsageError, match="not a file"):
        again.set_loaded("phonationE", tmp_path / "nowhere.wav")


def test_a_recorded_take_gets_its_checksum(tmp_path):
    s = Session.create(tmp_path, "ID042")
    p = s.next_take_path("rhythmPA")
    p.write_bytes(b"RIFF")
    assert s.add_take("rhythmPA", p) == p
    assert s.origin(p) == "recorded" and s.recorded_sha256(p) == __import__("hashlib").sha256(b"RIFF").hexdigest()
    (s.folder / "ID042_rhythmPA_take02.flac").write_bytes(b"x")  # another suffix holds take 2
    assert s.next_take_path("rhythmPA").name == "ID042_rhythmPA_take03.wav"


def _valid_session_dict(tmp_path) -> tuple[Path, dict]:
    s = Session.create(tmp_path, "ID042", age=63, sex="F", date="2026-11-26")
    p = s.next_take_path("phonationA")
    p.write_bytes(b"RIFF")
    s.add_take("phonationA", p)
    return s.folder, json.loads((s.folder / SESSION_FILE).read_text())


TAMPERED = {
    "not json": "{ not json",
    "binary": b"\xff\xfe\x00garbage",
    "a list": "[1, 2, 3]",
    "NaN age": lambda d: json.dumps(d).replace('"age": 63', '"age": NaN'),
    "escaping entry": lambda d: {**d, "takes": {"phonationA": ["../../../etc/passwd"]}},
    "entry in a subfolder": lambda d: {**d, "takes": {"phonationA": ["sub/ID042_phonationA_take01.wav"]}},
    "entry dot-dot": lambda d: {**d, "takes": {"phonationA": [".."]}},
    "entry not text": lambda d: {**d, "takes": {"phonationA": [42]}},
    "takes as text": lambda d: {**d, "takes": {"phonationA": "ID042_phonationA_take01.wav"}},
    "takes as list": lambda d: {**d, "takes": ["phonationA"]},
    "unknown task": lambda d: {**d, "takes": {"phonationX": ["a.wav"]}},
    "bad sha": lambda d: {**d, "files": {"a.wav": {"sha256": "xyz", "origin": "loaded"}}},
    "bad origin": lambda d: {**d, "files": {"a.wav": {"sha256": None, "origin": "stolen"}}},
    "finished as text": lambda d: {**d, "finished": "yes"},
    "date a path": lambda d: {**d, "date": "../../x"},
    "newline in id": lambda d: {**d, "patient_id": "ID042\nrm -rf"},
    "id a number": lambda d: {**d, "patient_id": 42},
    "newer schema": lambda d: {**d, "schema_version": 99},
    "deep nesting": lambda d: "[" * 100_000 + "]" * 100_000,
    "huge": lambda d: " " * 5_000_000 + "{}",
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_corrupt_or_tampered_session_json_is_one_sentence(tmp_path, case):
    folder, d = _valid_session_dict(tmp_path)
    change = TAMPERED[case]
    data = change(d) if callable(change) else change
    if isinstance(data, dict):
        data = json.dumps(data)
    (folder / SESSION_FILE).write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(DatasetError) as err:
        Session.load(folder)
    text = str(err.value)
    assert "\n" not in text and len(text) < 600 and text.startswith(str(folder / SESSION_FILE))
    assert "not a readable session file" in text and text.endswith(").")


def test_a_version_1_session_with_absolute_loaded_files_still_opens(tmp_path):
    old = tmp_path / "elsewhere_phonationU.wav"
    old.write_bytes(b"RIFF")
    folder = tmp_path / "ID042" / "2026-01-01_1"
    folder.mkdir(parents=True)
    (folder / SESSION_FILE).write_text(
        json.dumps(
            {
                "schema_version": 1,
                "patient_id": "ID042",
                "date": "2026-01-01",
                "takes": {"phonationU": [str(old)]},
                "rejected": {},
                "finished": False,
            }
        )
    )
    s = Session.load(folder)
    assert s.current("phonationU") == old and s.origin(old) == "loaded" and s.external() == [old]
    s.save()  # saved by this version, it still opens
    assert Session.load(folder).current("phonationU") == old
    (copy,) = s.adopt_external()  # and its files can be brought in
    old.unlink()
    again = Session.load(folder)
    assert again.current("phonationU") == copy == folder / "ID042_phonationU_take01.wav"
    assert again.external() == [] and again.verify() == {copy: "ok"} and copy.read_bytes() == b"RIFF"


def test_a_full_disk_keeps_the_previous_session_json(tmp_path):
    import contextlib
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "none", str(mnt)], capture_output=True, check=False
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        s = Session.create(mnt, "ID042", age=63)
        before = (s.folder / SESSION_FILE).read_bytes()
        with open(mnt / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        from sand_gui.errors import StorageError

        with pytest.raises(StorageError) as err:
            s.reject("phonationA", "x" * 200_000)  # a save that cannot fit
        assert str(err.value) == f"{s.folder / SESSION_FILE}: no space left on the device."
        assert (s.folder / SESSION_FILE).read_bytes() == before  # the old state, whole
        assert os.listdir(s.folder) == [SESSION_FILE]  # no temporary file left behind
        assert Session.load(s.folder).age == 63
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_session_loader_fuzz(tmp_path):
    """Any JSON value in session.json: a Session or one-sentence DatasetError, nothing else."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    folder, base = _valid_session_dict(tmp_path)
    leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    values = st.recursive(
        leaves, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=3), max_leaves=10
    )
    keys = st.sampled_from(sorted(base) + ["extra"])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(keys, values, max_size=4), st.booleans())
    def check(changes, whole):
        d = changes if whole else {**base, **changes}
        (folder / SESSION_FILE).write_text(json.dumps(d))
        try:
            Session.load(folder)
        except DatasetError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(folder))

    check()
