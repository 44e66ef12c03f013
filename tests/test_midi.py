"""Melodies from MIDI: sampling on the tempo map, the highest of simultaneous notes, write-then-read
round trips, unreadable files skipped and counted by the corpus, and the Nottingham tunes."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from seqgan.config import DataConfig, load_config
from seqgan.corpus import EOS, PAD, corpus_stats, load_corpus
from seqgan.midi import REST, MidiError, read_melody, write_midi

REPO = Path(__file__).resolve().parent.parent


def midi_file(path: Path, tracks: list[list], ticks_per_beat: int = 480, type: int = 1) -> Path:
    mid = mido.MidiFile(type=type, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        mid.tracks.append(mido.MidiTrack(messages))
    mid.save(path)
    return path


def on(note, time, channel=0):
    return mido.Message("note_on", note=note, velocity=80, time=time, channel=channel)


def off(note, time, channel=0):
    return mido.Message("note_off", note=note, velocity=0, time=time, channel=channel)


@pytest.mark.parametrize(
    "pitches, step",
    [
        ([60, 60, 62, 0, 64, 64, 64, 67, 0, 0, 72], 0.4),
        ([88, 55, 55, 0, 57, 59, 61, 61, 61, 61, 62], 0.25),
        ([71], 0.4),
        ([60, 62, 64, 65, 67, 69, 71, 72] * 8, 0.123457),  # a step that is no round number of ticks at 120 bpm
    ],
)
def test_write_then_read_gives_the_same_pitches(tmp_path, pitches, step):
    path = tmp_path / "tune.mid"
    write_midi(pitches, path, step=step)
    assert read_melody(path, step=step) == pitches
    assert [p.name for p in tmp_path.iterdir()] == ["tune.mid"]  # no temporary file left


def test_leading_and_trailing_rests_are_not_part_of_the_melody(tmp_path):
    path = tmp_path / "rests.mid"
    write_midi([0, 0, 0, 60, 0, 62, 0, 0], path)
    assert read_melody(path) == [60, 0, 62]
    assert mido.MidiFile(path).length == pytest.approx(8 * 0.4)  # the file itself keeps the silence


def test_equal_pitches_become_one_note(tmp_path):
    path = tmp_path / "held.mid"
    write_midi([60, 60, 60, 0, 60, 62, 62], path)
    notes = [m for m in mido.MidiFile(path) if m.type == "note_on" and m.velocity > 0]
    assert [m.note for m in notes] == [60, 60, 62]


def test_write_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no pitches"):
        write_midi([], tmp_path / "x.mid")
    with pytest.raises(ValueError, match=r"\[0, 127\], got 128"):
        write_midi([60, 128], tmp_path / "x.mid")
    with pytest.raises(ValueError, match="step"):
        write_midi([60], tmp_path / "x.mid", step=0)
    assert list(tmp_path.iterdir()) == []


def test_seconds_follow_the_tempo_map(tmp_path):
    # a conductor track with a tempo change after one beat, the notes in a second track: one beat
    # of C at 120 bpm (0.5 s), then one beat each of D and E at 240 bpm (0.25 s each)
    conductor = [
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.MetaMessage("set_tempo", tempo=250_000, time=480),
    ]
    melody = [on(60, 0), off(60, 480), on(62, 0), off(62, 480), on(64, 0), off(64, 480)]
    path = midi_file(tmp_path / "tempo.mid", [conductor, melody])
    assert read_melody(path, step=0.25) == [60, 60, 62, 64]  # ignoring the change would give 6 samples


def test_the_highest_of_simultaneous_notes_and_no_percussion(tmp_path):
    track = [
        on(60, 0),
        on(67, 0),
        on(36, 0, channel=9),  # a double stop, and a drum on channel 10
        off(60, 480),
        off(67, 0),
        off(36, 0, channel=9),
        on(64, 0),
        off(64, 480),
        on(99, 0, channel=9),
        off(99, 480, channel=9),  # only a drum sounds: silence
        on(62, 0),
        off(62, 480),
    ]
    path = midi_file(tmp_path / "chord.mid", [track], type=0)
    assert read_melody(path, step=0.5) == [67, 64, REST, 62]


def test_lead_in_silence_is_skipped_and_unreleased_notes_last_to_the_end(tmp_path):
    track = [on(70, 960), off(70, 480), on(72, 0), mido.MetaMessage("end_of_track", time=480)]
    path = midi_file(tmp_path / "lead.mid", [track], type=0)
    assert read_melody(path, step=0.5) == [70, 72]


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "not a readable MIDI file"),
        (b"this is not a MIDI file at all", "not a readable MIDI file"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x40\x00\x90",
            "not a readable MIDI file",
        ),  # cut short
    ],
)
def test_unreadable_files_raise_midi_error(tmp_path, content, reason):
    path = tmp_path / "broken.mid"
    path.write_bytes(content)
    with pytest.raises(MidiError, match=rf"broken\.mid: {reason}"):
        read_melody(path)


def test_notes_too_short_to_sample_leave_no_rest_at_either_end(tmp_path):
    # at 120 bpm and step 0.5 s: a 10 ms grace note, E and F for one step each, a 10 ms flourish
    track = [on(59, 0), off(59, 10), on(64, 470), off(64, 480), on(65, 0), off(65, 480), on(67, 470), off(67, 10)]
    path = midi_file(tmp_path / "grace.mid", [track], type=0)
    assert read_melody(path, step=0.5) == [64, 65]


def test_files_without_notes_raise_midi_error(tmp_path):
    path = midi_file(tmp_path / "silent.mid", [[mido.MetaMessage("set_tempo", tempo=500_000, time=0)]], type=0)
    with pytest.raises(MidiError, match=r"silent\.mid: no notes"):
        read_melody(path)
    path = midi_file(tmp_path / "grace.mid", [[on(60, 0), off(60, 10)]], type=0)  # 10 ms, between two samples
    with pytest.raises(MidiError, match="no note lasts long enough"):
        read_melody(path)


def test_midi_corpus_skips_and_records_unreadable_files(tmp_path, capsys):
    folder = tmp_path / "tunes"
    folder.mkdir()
    tunes = {f"t{i}.mid": [60 + i, 62, 0, 64 + i] * (3 + i) + [65] for i in range(5)}  # 13 to 29 pitches
    for name, pitches in tunes.items():
        write_midi(pitches, folder / name)
    (folder / "zz_broken.MID").write_bytes(b"garbage")
    (folder / "readme.txt").write_text("not a tune", encoding="utf-8")
    (folder / "sub").mkdir()
    write_midi([70], folder / "sub" / "nested.mid")
    cfg = DataConfig(source="midi", train=str(folder), test_fraction=0.2, split_seed=1, max_len=8, overflow="split")
    corpus = load_corpus(cfg, None)
    assert capsys.readouterr() == ("", "")  # the corpus prints nothing; the caller reports
    stats = corpus_stats(corpus)
    assert stats["midi"]["files_read"] == 5 and stats["midi"]["files_skipped"] == 1
    (skip,) = stats["midi"]["skipped"]
    assert skip["file"].endswith("zz_broken.MID") and "not a readable MIDI file" in skip["reason"]
    read = sorted(corpus.train_tokens + corpus.test_tokens)
    assert read == sorted([str(p) for p in pitches] for pitches in tunes.values())
    assert len(corpus.test_tokens) == 1
    assert stats["vocab"]["size"] == 3 + len(
        {"0", "62", "65"} | {str(60 + i) for i in range(4)} | {str(64 + i) for i in range(4)}
    )
    # split windows of 8 pitches: full windows carry no EOS, each tune's last piece ends with one
    rows = corpus.train.tolist()
    assert all(len(r) == 8 for r in rows)
    assert sum(EOS in r for r in rows) == len(corpus.train_tokens)  # one end per tune (no length is a multiple of 8)
    assert sum(len(t) for t in corpus.train_tokens) == sum(sum(1 for x in r if x not in (EOS, PAD)) for r in rows)


def test_midi_corpus_errors(tmp_path):
    def cfg(train):
        return DataConfig(source="midi", train=str(train))

    with pytest.raises(ValueError, match="no such file or folder"):
        load_corpus(cfg(tmp_path / "absent"), None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty: no sequences \(no \.mid or \.midi files"):
        load_corpus(cfg(tmp_path / "empty"), None)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.mid").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"bad: no sequences \(none of its 1 MIDI files could be read"):
        load_corpus(cfg(tmp_path / "bad"), None)
    write_midi([60], tmp_path / "one.mid")
    with pytest.raises(ValueError, match="expected a folder of MIDI files"):
        load_corpus(cfg(tmp_path / "one.mid"), None)


def test_nottingham(shared_data_dir, tmp_path):
    cfg = load_config(REPO / "configs" / "nottingham.yaml")
    folder = shared_data_dir / cfg.data.train
    if not folder.is_dir():
        pytest.skip(f"{folder} does not exist")
    corpus = load_corpus(cfg.data, str(shared_data_dir))
    stats = corpus_stats(corpus)
    midi = stats["midi"]
    assert midi["files_read"] + midi["files_skipped"] == 1_034
    assert len(midi["skipped"]) == midi["files_skipped"] and all(s["reason"] for s in midi["skipped"])
    assert stats["train"]["sequences_in"] + stats["test"]["sequences_in"] == midi["files_read"]
    pitches = {int(t) for tokens in corpus.train_tokens + corpus.test_tokens for t in tokens}
    assert pitches - {REST} <= set(range(55, 89)) and len(pitches) > 25  # the data set's range: 55 to 88
    assert corpus.train.shape[1] == 32
    full = [r for r in corpus.train.tolist() if EOS not in r]
    assert len(full) > len(corpus.train_tokens)  # mostly windows of 32 pitches, the paper's length
    # a real tune survives writing and reading back at the same step
    first = min(folder.glob("*.mid"))
    melody = read_melody(first, cfg.data.midi_step)
    write_midi(melody, tmp_path / "again.mid", cfg.data.midi_step)
    assert read_melody(tmp_path / "again.mid", cfg.data.midi_step) == melody
