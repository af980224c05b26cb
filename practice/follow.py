"""The score follower: aligns each played note, as it comes, to the note the score expects.

Each hand is followed on its own (the hands of a scale move apart in time, and the camera knows
which hand played). A played note is matched to the earliest still-expected note of its pitch a
few notes ahead of the hand's place, the notes skipped on the way becoming missed; a pitch the
score does not expect there is a wrong note (in place of the expected one) when close to it,
else an extra; the same pitch again is an extra (a repeated key); three played notes that match
three consecutive score notes elsewhere are a restart there. Chord notes may come in any order.
This is a greedy online edit-distance alignment with a bounded look-ahead: enough for practice
material, where the score is known and the student mostly plays it; parangonar's online matchers
and pymatchmaker follow audio/MIDI to a score too, but bring torch or librosa, and neither sees
fingers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pianocam.practice.score import ExpectedNote, Score

VERDICTS = ("right", "wrong_note", "wrong_finger", "extra", "missed")
LOOKAHEAD = 6        # pending notes of a hand looked at for a match
MAX_SKIP = 3         # notes that may be skipped (and reported missed) to reach a match
WRONG_NOTE_SPAN = 4  # semitones: a wrong pitch this close to the expected one replaces it
RESTART_CONTEXT = 3  # played notes that must match consecutive score notes to jump there
OTHER_HAND_PENALTY = 0.5


@dataclass
class Played:
    """A played note as the follower needs it."""

    pitch: int
    onset: float
    hand: str | None = None
    finger: int | None = None
    velocity: int = 64


@dataclass
class Judgement:
    """One verdict: a played note (or, for missed, a score note nobody played)."""

    verdict: str
    expected: ExpectedNote | None
    played: Played | None
    corrected: bool = False     # a right note right after a wrong one in its place
    finger_checked: bool = True  # both the written and the played finger are known
    restart: bool = False        # the follower jumped to this place

    def fields(self) -> dict:
        """What a note message gains."""
        out = {"verdict": self.verdict, "expected": self.expected.to_message() if self.expected else None}
        if self.corrected:
            out["corrected"] = True
        if not self.finger_checked:
            out["finger_checked"] = False
        if self.restart:
            out["restart"] = True
        return out


@dataclass
class _Hand:
    order: list[int]                 # score indices of this hand's notes, in order
    cursor: int = 0                  # position in order of the first pending note
    last: ExpectedNote | None = None  # last note matched or replaced
    last_verdict: str | None = None
    recent: list[int] = field(default_factory=list)  # pitches played lately by this hand


class Follower:
    """Feed played notes in onset order with `play`; `finish` reports what was never reached."""

    def __init__(self, score: Score):
        self.score = score
        self.notes = score.notes
        self.status: list[str | None] = [None] * len(self.notes)
        self.hands = {h: _Hand([n.index for n in self.notes if n.hand == h]) for h in ("left", "right")}
        self.log: list[Judgement] = []
        self.restarts = 0

    # -- matching -------------------------------------------------------------------------------
    def _pending(self, hand: _Hand, limit: int) -> list[ExpectedNote]:
        out = []
        for i in hand.order[hand.cursor:]:
            if self.status[i] is None:
                out.append(self.notes[i])
                if len(out) >= limit:
                    break
        return out

    def _candidate(self, side: str, played: Played):
        """(cost, note, skipped) of the best match of `played` in this hand, or None."""
        pending = self._pending(self.hands[side], LOOKAHEAD + 4)
        for note in pending:
            skipped = [p for p in pending if p.beat < note.beat - 1e-9]
            if len(skipped) > MAX_SKIP:
                break
            if note.pitch == played.pitch:
                penalty = OTHER_HAND_PENALTY if played.hand not in (None, side) else 0.0
                return len(skipped) + penalty, note, skipped
        return None

    def play(self, played: Played) -> list[Judgement]:
        """The verdicts this note brings: any notes it passes (missed), then its own."""
        sides = [s for s in ("left", "right") if self.hands[s].order]
        if played.hand in sides:  # its own hand first: ties go to it
            sides.sort(key=lambda s: s != played.hand)
        for s in sides:
            if played.hand in (None, s):
                self.hands[s].recent = (self.hands[s].recent + [played.pitch])[-RESTART_CONTEXT:]
        found = [c + (s,) for s in sides if (c := self._candidate(s, played)) is not None]
        if found:
            cost, note, skipped, side = min(found, key=lambda c: c[0])
            return self._match(side, note, skipped, played)
        if not sides:
            return self._record(Judgement("extra", None, played))
        if played.hand in sides:
            side = played.hand
        else:  # the camera did not see which hand: the one whose next note is nearest in pitch
            side = min(sides, key=lambda s: min([abs(p.pitch - played.pitch) for p in self._pending(self.hands[s], 1)]
                                                 or [999]))
        hand = self.hands[side]
        if hand.last is not None and hand.last_verdict == "wrong_note" and hand.last.pitch == played.pitch:
            # The student corrects the wrong note just played.
            return self._record(Judgement("right", hand.last, played, corrected=True,
                                          finger_checked=self._finger_known(hand.last, played)))
        if len(hand.recent) >= 2 and hand.recent[-2] == played.pitch:  # the same key again
            return self._record(Judgement("extra", None, played))
        jump = self._restart_at(side)
        if jump is not None:
            return self._restart(side, jump, played)
        pending = self._pending(hand, 1)
        if pending and abs(pending[0].pitch - played.pitch) <= WRONG_NOTE_SPAN:
            note = pending[0]
            self.status[note.index] = "wrong_note"
            hand.last, hand.last_verdict = note, "wrong_note"
            return self._record(Judgement("wrong_note", note, played))
        return self._record(Judgement("extra", None, played))

    @staticmethod
    def _finger_known(note: ExpectedNote, played: Played) -> bool:
        return note.finger is not None and played.finger is not None

    def _match(self, side: str, note: ExpectedNote, skipped: list[ExpectedNote], played: Played,
               restart: bool = False) -> list[Judgement]:
        out = []
        for s in skipped:
            self.status[s.index] = "missed"
            out += self._record(Judgement("missed", s, None))
        known = self._finger_known(note, played)
        wrong_hand = played.hand is not None and played.hand != note.hand
        verdict = "right"
        if wrong_hand or (known and played.finger != note.finger):
            verdict = "wrong_finger"
        self.status[note.index] = verdict
        hand = self.hands[side]
        hand.last, hand.last_verdict = note, verdict
        while hand.cursor < len(hand.order) and self.status[hand.order[hand.cursor]] is not None:
            hand.cursor += 1
        return out + self._record(Judgement(verdict, note, played, finger_checked=known or wrong_hand,
                                            restart=restart))

    # -- restarts -------------------------------------------------------------------------------
    def _restart_at(self, side: str) -> int | None:
        """Position in the hand's order where the last few played pitches run consecutively, if any."""
        hand = self.hands[side]
        recent = hand.recent
        if len(recent) < RESTART_CONTEXT:
            return None
        pitches = [self.notes[i].pitch for i in hand.order]
        n = RESTART_CONTEXT
        for start in range(len(pitches) - n + 1):
            if pitches[start:start + n] == recent and abs(start + n - 1 - hand.cursor) > LOOKAHEAD:
                return start + n - 1
        return None

    def _restart(self, side: str, position: int, played: Played) -> list[Judgement]:
        """Start a new pass of this hand at `position`: later notes are expected again."""
        hand = self.hands[side]
        self.restarts += 1
        for i in hand.order[position:]:
            self.status[i] = None
        hand.cursor = position
        note = self.notes[hand.order[position]]
        return self._match(side, note, [], played, restart=True)

    def _record(self, judgement: Judgement) -> list[Judgement]:
        self.log.append(judgement)
        return [judgement]

    # -- the end --------------------------------------------------------------------------------
    def finish(self) -> list[Judgement]:
        """Pending notes before each hand's last played one are missed; those after were not reached."""
        out = []
        for side, hand in self.hands.items():
            if hand.last is None:
                continue
            for i in hand.order[:hand.order.index(hand.last.index)]:
                if self.status[i] is None:
                    self.status[i] = "missed"
                    out += self._record(Judgement("missed", self.notes[i], None))
        return out

    def not_reached(self) -> int:
        return sum(s is None for s in self.status)
