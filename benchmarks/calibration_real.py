"""Calibration on real frames against truth measured by eye: mapped, numbering, key error, phantom keys.

Reads the labels in tests/calibration/real_keyboards.json (the real cover frames in
../shared/data/real/hands/, the keyboard photos in keyboards/ and frames of the clips),
calibrates every frame with no hint, and prints per frame and in total:

- mapped / refused (with the reason);
- numbering right: every labelled C centre lies on the mapped key of that name, and no
  mapped key is named below the labelled lowest or above the highest key in view;
- worst key-centre error: over the labelled C centres, the distance along the key row
  from the label to the centre line of the mapped key of that name, in white-key widths
  (where the numbering is unknown, to the nearest mapped C);
- phantom keys: mapped keys outside the real keyboard (named beyond the labelled lowest /
  highest, outside A0..C8, or with their centre past the labelled key bed's end).

A frame passes when it is mapped, numbered right, every labelled key is within 1/4 of a
white key and no key is a phantom.

A frame refused only because its numbering is unknown (neither end in view, fewer than 88
keys) is what `pianocam fingering` and the unit number from the notes played: the keys are
located and named in some octave (calibration/from_notes.py `provisional_keymap`). Such a
frame is reported as "located" (numbering left to the notes): the labelled C centres (named
C@1, C@2, ... as their octave is unknown) must each lie on a mapped C, within 1/4 of a white
key of the nearest mapped C's centre, with no phantom key (more keys mapped than the frame
shows, a centre outside the frame, or past a labelled key-bed end). It passes "located".

A second, independent measurement of the whole 88-key frames (tests/calibration/
real_keyboards_second.json: each C's two side edges found as the gap lines on one row, by
another labeller blind to pianocam and to the first labels) gives a second worst error
("worst2") and a second pass count; where the two label sets disagree, the table shows how far.

A third measurement by the same method (tests/calibration/real_keyboards_third.json, by a third
labeller blind to pianocam and to both earlier label sets) covers the usable frames the second
did not; its Cs are named C1..C8 where the frame shows the numbering, else C@1, C@2, ... from the
leftmost C in view. Each frame is scored against the sharpest measurement it has: the second or
third where present, else the first ("by" column: 1, 2 or 3); the worst error against each label
set is shown beside it, and the totals are given for each.

    .venv/bin/python benchmarks/calibration_real.py [--labels F] [--second F] [--third F] [--data ../shared/data]
        [--only TEXT]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.errors import CalibrationError, NumberingUnknown
from pianocam.calibration.from_notes import provisional_keymap
from pianocam.calibration.keymap import WHITE_KEY_WIDTH, KeyMap, parse_note

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 0.25     # white-key widths
HIGHEST_KEY, LOWEST_KEY = 108, 21


def read_frame(data: Path, label: dict):
    """The labelled image (or clip frame), or None when it is not there."""
    path = data / label["file"]
    if not path.is_file():
        return None
    if label.get("frame") is None:
        return cv2.imread(str(path), cv2.IMREAD_COLOR)
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, int(label["frame"]))
    ok, image = cap.read()
    cap.release()
    return image if ok else None


def c_errors(keymap: KeyMap, centres: dict, named: bool) -> tuple[float | None, bool]:
    """(worst sideways error in white-key widths, every C on its own key) over the labelled C centres.

    Where the numbering is unknown (`named` false), each C must lie on some mapped C.
    """
    worst, right = None, True
    cs = [k for k in keymap.keys if k.midi % 12 == 0]
    if not cs:
        return None, not named
    cs_x = np.array([keymap.to_plane([k.center])[0][0] for k in cs])
    span = keymap.to_plane([keymap.keys[0].center, keymap.keys[-1].center])[:, 0]
    for name, (x, y) in centres.items():
        px = keymap.to_plane([(x, y)])[0][0]
        if named:
            midi = parse_note(name)
            key = keymap.key(midi)
            under = keymap.key_at(x, y)
            if under is not None and under.midi != midi:
                right = False
            if key is None:
                continue
            kx = keymap.to_plane([key.center])[0][0]
        else:
            if not span.min() - WHITE_KEY_WIDTH / 2 <= px <= span.max() + WHITE_KEY_WIDTH / 2:
                continue  # a C the map does not reach: not mapped, as a named map's missing key
            under = keymap.key_at(x, y)
            if under is not None and under.midi % 12 != 0:
                right = False
            kx = cs_x[int(np.argmin(np.abs(cs_x - px)))]
        err = abs(px - kx) / WHITE_KEY_WIDTH
        worst = err if worst is None else max(worst, err)
    return worst, right


def phantoms(keymap: KeyMap, label: dict, named: bool = True) -> list[str]:
    """Mapped keys where the real keyboard has none.

    With `named` false (a located map named in some octave) the names say nothing: keys count
    as phantoms beyond the keys the frame shows, off the frame, or past a labelled bed end.
    """
    out = []
    lo = parse_note(label["lowest"]) if named and label.get("lowest") else None
    hi = parse_note(label["highest"]) if named and label.get("highest") else None
    if not named:
        width, height = label.get("width"), label.get("height")
        for key in keymap.keys:
            x, y = key.center
            if width and height and not (0 <= x < width and 0 <= y < height):
                out.append(key.name)
        extra = len(keymap.keys) - int(label.get("keys_in_view") or len(keymap.keys))
        if extra > 0:
            out += [f"+{extra} keys"]
    corners = label.get("corners") or {}
    edges = []
    if all(c in corners for c in ("back_left", "front_left", "back_right", "front_right")):
        clipped = set(label.get("clipped") or [])
        for side, sign in (("left", -1), ("right", 1)):
            if f"back_{side}" in clipped and f"front_{side}" in clipped:
                continue  # the bed runs off the frame there: no end to pass
            a, b = np.array(corners[f"back_{side}"], float), np.array(corners[f"front_{side}"], float)
            edges.append((a, b, sign))
    half = 0.5 * keymap.white_key_width_px
    for key in keymap.keys:
        if named and not LOWEST_KEY <= key.midi <= HIGHEST_KEY:
            out.append(key.name)
            continue
        if lo is not None and key.midi < lo or hi is not None and key.midi > hi:
            out.append(key.name)
            continue
        for a, b, sign in edges:
            # Signed distance of the key's centre past the bed's end, in pixels along the row.
            d = b - a
            n = np.array([d[1], -d[0]]) / max(np.hypot(*d), 1e-6)
            if n[0] * sign < 0:
                n = -n
            if (key.center - a) @ n > half:
                out.append(key.name)
                break
    return out


def measured_centres(measured: dict | None) -> dict:
    """A gap-line measurement's C centres (second or third labels) as {name: (x, y)}."""
    if not measured:
        return {}
    return {name: (c["centre_x"], measured["y"]) for name, c in measured["c_keys"].items()
            if c.get("centre_x") is not None}


def _score(keymap: KeyMap, centres: dict, named: bool, in_range: bool, ghost: list):
    """(worst error, numbering right, pass) of a map against one label set's C centres; Nones without centres.

    The numbering is right when the map stays within the labelled lowest..highest key and every
    C of this label set lies on the mapped key of its name.
    """
    if not centres:
        return None, None, None
    named = named and all(not n.startswith("C@") for n in centres)
    worst, on_key = c_errors(keymap, centres, named)
    right = named and in_range and on_key
    return worst, right, right and worst is not None and worst <= TOLERANCE and not ghost


def evaluate(label: dict, image, overlays: Path | None = None, second: dict | None = None,
             third: dict | None = None) -> dict:
    row = {"file": label["file"], "frame": label.get("frame"), "usable": bool(label.get("usable")),
           "known": bool(label.get("numbering_known")),
           "by": 2 if measured_centres(second) else 3 if measured_centres(third) else 1}
    if image is None:
        row.update(result="missing", reason="image not found")
        return row
    located = False
    try:
        keymap = detect_keymap(image)
    except NumberingUnknown as err:
        row.update(result="refused", reason=f"{type(err).__name__}: {err}")
        # What fingering and the unit do with such a view: locate the keys, let the notes number them.
        keymap = provisional_keymap(image)
        located = keymap is not None
    except CalibrationError as err:
        row.update(result="refused", reason=f"{type(err).__name__}: {err}")
        keymap = None
    if overlays is not None:
        _write_overlay(overlays, label, image, keymap)
    if keymap is None:
        return row
    centres = label.get("c_centres") or {}
    if located:
        worst, on_c = c_errors(keymap, centres, False) if centres else (None, True)
        ghost = phantoms(keymap, label, named=False)
        row.update(result="located", count=len(keymap.keys), numbered_by="notes (later)", numbering=None,
                   on_c=on_c, worst=worst, phantoms=ghost, labelled_cs=len(centres),
                   keys=f"{len(keymap.keys)} keys")
        row["located_pass"] = on_c and worst is not None and worst <= TOLERANCE and not ghost
        row["pass"] = False
        for n, measured in ((2, second), (3, third)):
            centres_n = measured_centres(measured)
            if centres_n:
                worst_n, on_c_n = c_errors(keymap, centres_n, False)
                row.update({f"worst{n}": worst_n, f"located_pass{n}": on_c_n and worst_n is not None
                            and worst_n <= TOLERANCE and not ghost})
        row["located_best"] = row.get(f"located_pass{row['by']}", row["located_pass"]) if row["by"] > 1 \
            else row["located_pass"]
        row["best"] = False
        return row
    named = row["known"] and all(not n.startswith("C@") for n in centres)
    worst, on_key = c_errors(keymap, centres, named) if centres else (None, True)
    ghost = phantoms(keymap, label)
    lo, hi = label.get("lowest"), label.get("highest")
    in_range = True
    if row["known"] and lo and hi:
        in_range = parse_note(lo) <= keymap.keys[0].midi and keymap.keys[-1].midi <= parse_note(hi)
    numbering = (on_key and in_range) if row["known"] else None
    row.update(result="mapped", keys=f"{keymap.keys[0].name}..{keymap.keys[-1].name}", count=len(keymap.keys),
               numbered_by=getattr(keymap, "numbered_by", None), numbering=numbering, worst=worst,
               phantoms=ghost, labelled_cs=len(centres))
    row["pass"] = bool(numbering) and worst is not None and worst <= TOLERANCE and not ghost
    for n, measured in ((2, second), (3, third)):
        worst_n, right_n, pass_n = _score(keymap, measured_centres(measured), row["known"], in_range, ghost)
        if pass_n is not None:
            row.update({f"worst{n}": worst_n, f"numbering{n}": right_n if row["known"] else None,
                        f"pass{n}": pass_n})
    # The sharpest measurement decides: the second or third where the frame has one, else the first.
    row["best"] = row.get(f"pass{row['by']}", row["pass"]) if row["by"] > 1 else row["pass"]
    return row


def _write_overlay(folder: Path, label: dict, image, keymap) -> None:
    from pianocam.calibration.overlay import draw_overlay

    out = draw_overlay(image, keymap) if keymap is not None else image.copy()
    for name, (x, y) in (label.get("c_centres") or {}).items():
        cv2.drawMarker(out, (int(x), int(y)), (255, 0, 255), cv2.MARKER_CROSS, 14, 2)
        cv2.putText(out, name, (int(x) - 10, int(y) - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 0, 255), 1)
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(label["file"]).name.rsplit(".", 1)[0] + (f"@{label['frame']}" if label.get("frame") is not None else "")
    cv2.imwrite(str(folder / f"{name or 'frame'}.png"), out)


def _name(row: dict) -> str:
    name = Path(row["file"]).name
    if row.get("frame") is not None:
        name += f"@{row['frame']}"
    return name[:44]


def _fmt(value) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _verdicts(row: dict, key: str) -> str:
    """PASS/fail against each label set the frame has (first / second / third), '*' on the deciding one."""
    out = []
    for n in (1, 2, 3):
        name = key if n == 1 else f"{key}{n}"
        if name in row:
            out.append(("PASS" if row[name] else "fail") + ("*" if row["by"] == n else ""))
        else:
            out.append("-")
    return " / ".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default=str(ROOT / "tests/calibration/real_keyboards.json"))
    ap.add_argument("--second", default=str(ROOT / "tests/calibration/real_keyboards_second.json"),
                    help="the second labeller's measurement of the whole 88-key frames ('' for none)")
    ap.add_argument("--third", default=str(ROOT / "tests/calibration/real_keyboards_third.json"),
                    help="the third labeller's measurement of the other usable frames ('' for none)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    ap.add_argument("--only", help="frames whose file name contains this")
    ap.add_argument("--json", metavar="OUT", help="also write the rows as JSON")
    ap.add_argument("--overlays", metavar="DIR", help="write each frame's overlay with the labelled C centres")
    args = ap.parse_args(argv)
    try:
        labels = json.loads(Path(args.labels).read_text())
        seconds = {i["file"]: i for i in json.loads(Path(args.second).read_text())["images"]} \
            if args.second and Path(args.second).is_file() else {}
        thirds = {(i["file"], i.get("frame")): i for i in json.loads(Path(args.third).read_text())["images"]} \
            if args.third and Path(args.third).is_file() else {}
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        print(f"calibration_real: cannot read the labels: {err}", file=sys.stderr)
        return 2
    data = Path(args.data)
    if not data.is_dir():
        print(f"calibration_real: no data folder {data}", file=sys.stderr)
        return 2
    print(f"labels: {args.labels} ({labels.get('measured', 'no measured line')})")
    print(f"second: {args.second} ({len(seconds)} frames); third: {args.third} ({len(thirds)} frames)")
    print("worst1/2/3: worst labelled C's error against the first / second / third labels; by: the labels that "
          "decide the row (the sharpest it has); verdicts first / second / third, * the deciding one\n")
    rows = []
    header = (f"{'frame':<44} {'use':>3} {'num?':>4} {'result':>7} {'keys':>10} {'n':>3} {'by':>13} "
              f"{'numbering':>9} {'worst1':>6} {'worst2':>6} {'worst3':>6} {'ghosts':>6} {'lab':>3}  "
              "pass 1 / 2 / 3  or reason")
    print(header)
    print("-" * len(header))
    for label in labels["images"]:
        if args.only and args.only not in label["file"]:
            continue
        row = evaluate(label, read_frame(data, label), Path(args.overlays) if args.overlays else None,
                       seconds.get(label["file"]) if label.get("frame") is None else None,
                       thirds.get((label["file"], label.get("frame"))))
        rows.append(row)
        base = (f"{_name(row):<44} {'yes' if row['usable'] else 'no':>3} {'yes' if row['known'] else 'no':>4} "
                f"{row['result']:>7}")
        worsts = f"{_fmt(row.get('worst')):>6} {_fmt(row.get('worst2')):>6} {_fmt(row.get('worst3')):>6}"
        ghosts = f"{','.join(row['phantoms'][:4])}" if row.get("phantoms") else ""
        if row["result"] == "located":
            cs = "on Cs" if row["on_c"] else "OFF Cs"
            print(f"{base} {row['keys']:>10} {row['count']:>3} {'notes (later)':>13} {cs:>9} {worsts} "
                  f"{len(row['phantoms']):>6} {row['by']:>3}  located {_verdicts(row, 'located_pass')} {ghosts}")
            continue
        if row["result"] != "mapped":
            print(f"{base} {'':>10} {'':>3} {'':>13} {'':>9} {'':>6} {'':>6} {'':>6} {'':>6} {row['by']:>3}  "
                  f"{row['reason'][:90]}")
            continue
        deciding = row.get(f"numbering{row['by']}", row["numbering"]) if row["by"] > 1 else row["numbering"]
        num = {True: "right", False: "WRONG", None: "-"}[deciding]
        print(f"{base} {row['keys']:>10} {row['count']:>3} {str(row['numbered_by'] or '-'):>13} {num:>9} "
              f"{worsts} {len(row['phantoms']):>6} {row['by']:>3}  {_verdicts(row, 'pass')} {ghosts}")
    print()
    usable = [r for r in rows if r["usable"] and r["result"] != "missing"]
    known = [r for r in usable if r["known"]]
    for title, group in (("usable top-down frames", usable), ("... whose numbering the frame shows", known)):
        mapped = [r for r in group if r["result"] == "mapped"]
        n = max(len(group), 1)
        for which, tag in ((1, "first labels"), (0, "sharpest labels (second or third where measured, else first)")):
            def get(r, key, which=which):
                return r.get(key) if which == 1 or r["by"] == 1 else r.get(f"{key}{r['by']}")
            right = [r for r in mapped if get(r, "numbering")]
            within = [r for r in mapped if get(r, "worst") is not None and get(r, "worst") <= TOLERANCE]
            ghosted = [r for r in mapped if r["phantoms"]]
            passed = [r for r in group if (r.get("pass") if which == 1 else r.get("best"))]
            print(f"{title}, against the {tag}: {len(group)}; mapped {len(mapped)} ({len(mapped) / n:.0%}), "
                  f"numbering right {len(right)}, all labelled keys within {TOLERANCE}: {len(within)}, with "
                  f"phantom keys {len(ghosted)}; pass {len(passed)} ({len(passed) / n:.0%})")
    for title, group in (("located (numbering from the notes), of the usable frames the image cannot number",
                          [r for r in usable if not r["known"]]),
                         ("located (numbering from the notes), of those the image numbers but the map did not",
                          [r for r in known if r["result"] != "mapped"])):
        located = [r for r in group if r["result"] == "located"]
        n = max(len(group), 1)
        best = sum(r["located_best"] for r in located)
        print(f"{title}: {len(group)}; located {len(located)} ({len(located) / n:.0%}), every labelled C on a "
              f"mapped C {sum(r['on_c'] for r in located)}, all within {TOLERANCE}: "
              f"{sum(r['worst'] is not None and r['worst'] <= TOLERANCE for r in located)}, with phantom keys "
              f"{sum(bool(r['phantoms']) for r in located)}; pass {sum(r['located_pass'] for r in located)} "
              f"({sum(r['located_pass'] for r in located) / n:.0%}) against the first labels, {best} ({best / n:.0%}) "
              "against the sharpest")
    for n, measured in ((2, seconds), (3, thirds)):
        if not measured:
            continue
        have = [r for r in rows if f"pass{n}" in r or f"located_pass{n}" in r]
        mapped = [r for r in have if f"pass{n}" in r]
        located = [r for r in have if f"located_pass{n}" in r]
        print(f"frames with the {'second' if n == 2 else 'third'} measurement: {len(measured)}; mapped "
              f"{len(mapped)}: pass against the first labels {sum(r['pass'] for r in mapped)}, against these "
              f"{sum(r[f'pass{n}'] for r in mapped)}; located {len(located)}: pass against the first "
              f"{sum(r['located_pass'] for r in located)}, against these {sum(r[f'located_pass{n}'] for r in located)}")
    refused = [r for r in usable if r["result"] in ("refused", "located")]
    reasons: dict[str, int] = {}
    for r in refused:
        key = r["reason"].split(":")[0] + ": " + r["reason"].split(":", 1)[1].strip()[:60]
        reasons[key] = reasons.get(key, 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  refused (no hint) x{n}: {reason}")
    missing = [r for r in rows if r["result"] == "missing"]
    if missing:
        print(f"labels whose image is missing: {', '.join(r['file'] for r in missing)}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
