"""Melodies as pitch sequences: MIDI file -> one pitch every ``step`` seconds -> MIDI file.

This is the music task of the SeqGAN paper (Yu et al. 2017, "Music Generation"), which says:
the Nottingham folk-tune data set (695 tunes in the paper's copy), "the solo track of each music",
"88 numbers to represent 88 pitches, which correspond to the 88 keys on the piano", "pitch
sampling for every 0.4s", "sequences of numbers from 1 to 88 with the length 32". The paper says
nothing about silence, chords, the start of a tune or how tunes are cut to length 32; the choices
below are ours:

- a pitch is its MIDI note number (middle C = 60; the paper's piano key k is MIDI note k + 20),
  and silence is ``REST`` = 0, a number no piano key has;
- the sample of frame k is the pitch sounding at the frame's centre, t0 + (k + 1/2) * step, so a
  note that starts or ends on the frame grid is never caught on its boundary;
- where several notes sound at once (the double stops of a few Nottingham tunes) the highest is
  taken, the usual "skyline" reduction of a solo line to one voice; all tracks are merged and
  channel 10 (General MIDI percussion) is ignored;
- the melody runs from the first note's onset to the last note's release: the lead-in silence that
  the Nottingham files put before a tune's pick-up (0.5 to 2 s) would otherwise start most tunes
  with a few rests;
- cutting tunes into windows of 32 is the corpus's job (``corpus.encode_sequences``, overflow
  'split'), not this file's.

Tick times become seconds through the file's tempo map (mido merges the tracks and applies every
``set_tempo``). ``write_midi`` turns a pitch sequence back into a playable one-track file.
"""

from __future__ import annotations

import math
from pathlib import Path

import mido
import numpy as np

REST = 0
"""The pitch number of silence."""

PERCUSSION_CHANNEL = 9  # "channel 10" in General MIDI's 1-based numbering


class MidiError(ValueError):
    """A file that cannot be read as a melody; the message names the file and why."""


def _notes(mid: mido.MidiFile) -> list[tuple[float, float, int]]:
    """(onset, release, pitch) in seconds of every note of a parsed file."""
    notes, sounding, t = [], {}, 0.0
    for msg in mid:  # all tracks merged; msg.time: seconds since the previous message (tempo map applied)
        t += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel == PERCUSSION_CHANNEL:
            continue
        key = (msg.channel, msg.note)
        if key in sounding:  # a release, or a re-strike of a note that is still sounding
            notes.append((sounding.pop(key), t, msg.note))
        if msg.type == "note_on" and msg.velocity > 0:
            sounding[key] = t
    notes += [(onset, t, note) for (_, note), onset in sounding.items()]  # never released: until the end
    return [n for n in notes if n[1] > n[0]]


def read_melody(path: str | Path, step: float = 0.4) -> list[int]:
    """The pitch sounding every ``step`` seconds of a melody MIDI file (see the module docstring).

    Args:
        path: a MIDI file (type 0 or 1).
        step: seconds between two samples (the paper: 0.4).
    Returns:
        MIDI note numbers, ``REST`` (0) for silence; the first and last are pitches.
    Raises:
        MidiError: the file cannot be parsed, or no note is long enough to be sampled.
    """
    assert step > 0, f"step must be positive, got {step}"
    path = Path(path)
    try:
        notes = _notes(mido.MidiFile(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:  # mido's parse errors
        detail = str(e).splitlines()[0][:120] if str(e) else ""
        raise MidiError(
            f"{path}: not a readable MIDI file ({type(e).__name__}{': ' + detail if detail else ''})"
        ) from None
    if not notes:
        raise MidiError(f"{path}: no notes")
    t0 = min(onset for onset, _, _ in notes)
    t_end = max(release for _, release, _ in notes)
    # frame k covers [t0 + k*step, t0 + (k+1)*step) and is sampled at its centre; the frames are
    # those whose centre falls before the last release
    num_frames = max(0, math.ceil((t_end - t0) / step - 0.5))
    pitches = np.full(num_frames, REST, dtype=np.int64)
    for onset, release, pitch in notes:
        first = max(0, math.ceil((onset - t0) / step - 0.5))  # first frame whose centre is >= onset
        stop = min(num_frames, math.ceil((release - t0) / step - 0.5))  # first frame whose centre is >= release
        if first < stop:
            pitches[first:stop] = np.maximum(pitches[first:stop], pitch)  # highest note wins
    sounding = np.flatnonzero(pitches != REST)
    if len(sounding) == 0:
        raise MidiError(f"{path}: no note lasts long enough to be sampled every {step} s")
    return pitches[sounding[0] : sounding[-1] + 1].tolist()


def write_midi(pitches: list[int], path: str | Path, step: float = 0.4) -> None:
    """Write a pitch sequence as a one-track MIDI file, atomically.

    Each pitch lasts ``step`` seconds; a run of equal pitches becomes one note (a sampled melody
    cannot tell a held note from repeated ones), ``REST`` is silence. The tempo is set so that one
    beat is one step, which keeps every time an exact number of ticks. ``read_melody`` at the same
    step gives back ``pitches`` without its leading and trailing rests.

    Args:
        pitches: MIDI note numbers in [0, 127], 0 being ``REST``.
        path: the file to write.
        step: seconds per pitch, at most 16 (the largest MIDI tempo is 16.7 s a beat).
    """
    pitches = [int(p) for p in pitches]
    if not pitches:
        raise ValueError("write_midi: no pitches to write")
    bad = [p for p in pitches if not 0 <= p <= 127]
    if bad:
        raise ValueError(f"write_midi: pitches must be MIDI note numbers in [0, 127], got {bad[0]}")
    if not 0 < step <= 16:
        raise ValueError(f"write_midi: step must be in (0, 16] seconds, got {step}")
    ticks_per_step = 480
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=round(step * 1_000_000), time=0))  # microseconds a beat
    wait = 0  # ticks since the last message
    i = 0
    while i < len(pitches):
        j = i
        while j < len(pitches) and pitches[j] == pitches[i]:
            j += 1
        length = (j - i) * ticks_per_step
        if pitches[i] == REST:
            wait += length
        else:
            track.append(mido.Message("note_on", note=pitches[i], velocity=90, time=wait))
            track.append(mido.Message("note_off", note=pitches[i], velocity=0, time=length))
            wait = 0
        i = j
    track.append(mido.MetaMessage("end_of_track", time=wait))  # trailing rests keep their length
    mid = mido.MidiFile(type=0, ticks_per_beat=ticks_per_step)
    mid.tracks.append(track)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        mid.save(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
