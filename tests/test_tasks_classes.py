import pytest

from sand_gui.classes import CLASSES, class_to_index, get_class, index_to_class
from sand_gui.tasks import PHONATION, RHYTHM, TASK_IDS, TASKS, get_task, patient_id_from_filename, task_from_filename


def test_eight_tasks_with_sand_names_and_bands():
    assert TASK_IDS == (
        "phonationA",
        "phonationE",
        "phonationI",
        "phonationO",
        "phonationU",
        "rhythmPA",
        "rhythmTA",
        "rhythmKA",
    )
    assert [t.family for t in TASKS] == [PHONATION] * 5 + [RHYTHM] * 3
    assert all(t.instruction and t.recommended_seconds > 0 for t in TASKS)


@pytest.mark.parametrize(
    "name, task, pid",
    [
        ("ID000_phonationA.wav", "phonationA", "ID000"),
        ("ID123_rhythmKA.flac", "rhythmKA", "ID123"),
        ("id7_PHONATIONu.WAV", "phonationU", "id7"),
        ("ID001_diadochokinesisPA.wav", "rhythmPA", "ID001"),
        ("rhythmTA.wav", "rhythmTA", None),
        ("P-12 phonationE.ogg", "phonationE", "P-12"),
        ("ID042_rhythmTA_take03.wav", "rhythmTA", "ID042"),
    ],
)
def test_task_from_filename(name, task, pid):
    assert task_from_filename(name).id == task
    assert patient_id_from_filename(name) == pid


@pytest.mark.parametrize(
    "name", ["ID000_phonationAA.wav", "notes.wav", "ID000_phonation.wav", "xphonationA.wav", "ID1_phonationA_take.wav"]
)
def test_unknown_names_give_none(name):
    assert task_from_filename(name) is None


def test_get_task_rejects_unknown():
    with pytest.raises(KeyError, match="unknown task"):
        get_task("phonationX")


def test_classes_official_meaning_and_indices():
    assert [c.number for c in CLASSES] == [1, 2, 3, 4, 5]
    assert get_class(1).label == "Severe dysarthria" and get_class(5).label == "Healthy control"
    assert get_class(4).seed_label == "Mild-moderate"
    assert [index_to_class(class_to_index(n)) for n in range(1, 6)] == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError):
        get_class(6)


def test_class_meanings_follow_the_alsfrs_r_speech_item():
    """Class N (1-4) is ALSFRS-R speech score N; each meaning quotes that score's wording."""
    from sand_gui.classes import ALSFRS_R_SPEECH

    for c in CLASSES[:4]:
        assert c.alsfrs_speech[0] == c.number
        assert f"speech {c.number}: {ALSFRS_R_SPEECH[c.number]}" in c.meaning
    assert get_class(1).alsfrs_speech == (1, 0) and "loss of useful speech" in get_class(1).meaning
    assert get_class(5).alsfrs_speech == () and "healthy" in get_class(5).meaning.lower()
    # the contradiction this replaces: "mild" must never be paired with "intelligible with repeating"
    assert "repeating" not in get_class(3).meaning and "repeating" in get_class(2).meaning
