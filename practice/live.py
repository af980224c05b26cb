"""The practice session on the unit: verdicts added to note messages as they go out, a report and skill at the end."""
from __future__ import annotations

import threading

from pianocam.practice.exercises import ExerciseError, resolve
from pianocam.practice.follow import Follower, Judgement, Played
from pianocam.practice.metrics import summarize
from pianocam.practice.score import HANDS


class PracticeSession:
    """Follows one exercise or score; `judge` turns an outgoing note message into the messages to send."""

    def __init__(self, score, tempo: float | None = None):
        self.score = score
        self.tempo = tempo
        self.follower = Follower(score)
        # Notes are judged on the frame loop; the session is read and ended from MQTT commands.
        self._lock = threading.Lock()

    @classmethod
    def from_request(cls, request: dict) -> "PracticeSession | None":
        """From cmd/start_session's body: {"exercise": NAME} or {"score": PATH}, optional tempo, hands, passage.
        None when the request names neither (a free session, as before)."""
        exercise, score = request.get("exercise"), request.get("score")
        if exercise is None and score is None:
            return None
        for key, kind in (("exercise", str), ("score", str), ("hands", str)):
            if request.get(key) is not None and not isinstance(request[key], kind):
                raise ExerciseError(f"'{key}' must be a string")
        hands = request.get("hands", "together")
        if hands == "both":
            hands = "together"
        if hands not in HANDS:
            raise ExerciseError(f"'hands' must be one of {', '.join(HANDS)}, not {hands!r}")
        tempo = request.get("tempo")
        if tempo is not None and (not isinstance(tempo, (int, float)) or isinstance(tempo, bool) or tempo <= 0):
            raise ExerciseError("'tempo' must be a positive number (quarter notes per minute)")
        passage = request.get("passage")
        if passage is not None and (not isinstance(passage, int) or isinstance(passage, bool)):
            raise ExerciseError("'passage' must be a whole number")
        return cls(resolve(exercise, score, hands, passage), tempo)

    def describe(self) -> dict:
        return {"exercise": self.score.name, "title": self.score.title, "notes": len(self.score.notes),
                "hands": sorted({n.hand for n in self.score.notes}), "tempo": self.tempo or self.score.tempo}

    def judge(self, message: dict) -> list[dict]:
        """The note message with `expected` and `verdict`, after a message for each note it passed (missed)."""
        played = Played(message["pitch"], message["onset"], message.get("hand"), message.get("finger"),
                        message.get("velocity") or 64)
        with self._lock:
            return [self._message(j, message) for j in self.follower.play(played)]

    @staticmethod
    def _message(judgement: Judgement, message: dict | None) -> dict:
        if judgement.played is None:
            e = judgement.expected
            from pianocam.calibration.keymap import note_name
            return {"pitch": e.pitch, "name": note_name(e.pitch), "onset": None, "offset": None, "velocity": None,
                    "hand": e.hand, "finger": None, "confidence": None, "source": "score", "played": False,
                    **judgement.fields()}
        return {**message, "played": True, **judgement.fields()}

    def running(self) -> dict:
        """The running score, for the retained `session` state (the classroom tile)."""
        with self._lock:
            log = list(self.follower.log)
            status = list(self.follower.status)
        matched = [j for j in log if j.verdict in ("right", "wrong_finger") and j.played is not None]
        checked = [j for j in matched if j.finger_checked]
        done = sum(s is not None for s in status)
        return {**self.describe(), "played": done,
                "right_notes": sum(s in ("right", "wrong_finger") for s in status) / done if done else None,
                "fingering_as_written": sum(j.verdict == "right" for j in checked) / len(checked) if checked else None,
                "wrong_notes": sum(j.verdict == "wrong_note" for j in log),
                "missed": sum(j.verdict == "missed" for j in log), "extra": sum(j.verdict == "extra" for j in log)}

    def finish(self) -> tuple[list[dict], dict]:
        """The missed notes still to report, and the report (the summary with the rubric skill inside)."""
        with self._lock:
            missed = [self._message(j, None) for j in self.follower.finish()]
            f = self.follower
            return missed, summarize(self.score, f.log, f.not_reached(), f.restarts, target_tempo=self.tempo)


def skill_message(report: dict) -> dict:
    """The `skill` payload: the rubric score, saying that it is one."""
    s = report["skill"]
    return {"method": "rubric", "rubric": s["rubric"], "score": s["score"], "parts": s["parts"],
            "exercise": report["exercise"],
            "note": "a rubric over this session's metrics (docs: README, Practice against the book), not a learned model"}
