#!/usr/bin/env python3
"""Swap quality over every face this machine has, as a distribution, with a contact sheet.

The faces: the sample astronaut and each of the six people of t1.jpg (cut out by
`faceswap map-faces`). Each is put, as a source, on every other person of t1.jpg, on the
astronaut, and on the speaker of the carphone clip; `faceswap compare` measures each result
with the engine's own models (identity to the source after the swap, eye and mouth openness
change, and for the clip the eye correlation, identity and flicker).

The sources are split in two: TUNING (the astronaut and t1's people 0-2, the faces earlier
settings were chosen on) and REPORT (t1's people 3-5, no setting chosen on them). Settings are
to be chosen on the first and reported on the second; the README reports the second.

Usage: scripts/eval_quality.py [--out out/eval] [--swapper landmark|inswapper] [--json FILE]
Needs a release build and what scripts/setup.sh installs.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "faceswap"
MEDIA = ROOT / ".cache" / "media"
TUNING = ["astronaut", "person-0", "person-1", "person-2"]
REPORT = ["person-3", "person-4", "person-5"]


def run(args, **kw):
    out = subprocess.run([str(BINARY), *map(str, args)], cwd=ROOT, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"error: faceswap {' '.join(map(str, args))}: {out.stderr.strip()}")
    return out.stdout


def compare(source, original, result, sheet, video=False):
    args = ["compare", "--source", source, "--original", original, "--result", result, "--json",
            "--sheet", sheet, "--overwrite"]
    if video:
        args += ["--samples", "30", "--sheet-frames", "4"]
    return json.loads(run(args))


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb)


def worst_tenth(values, low=True):
    """The mean of the worst tenth (at least one value): the lowest for identity, the highest
    for a change."""
    ordered = sorted(values, reverse=not low)
    k = max(1, len(ordered) // 10)
    return sum(ordered[:k]) / k


def summary(rows):
    def stat(key, low):
        values = [r[key] for r in rows if r.get(key) is not None]
        if not values:
            return None
        return {"mean": sum(values) / len(values), "worst_tenth": worst_tenth(values, low), "n": len(values)}

    return {
        "identity_after": stat("identity_after", True),
        "eye_change": stat("eye_change", False),
        "mouth_change": stat("mouth_change", False),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "out" / "eval"))
    parser.add_argument("--swapper", default="landmark", choices=["landmark", "inswapper"])
    parser.add_argument("--json")
    args = parser.parse_args()
    out = Path(args.out)
    people = out / "people"
    out.mkdir(parents=True, exist_ok=True)
    run(["map-faces", MEDIA / "t1.jpg", "--out", people, "--overwrite"])
    sources = {"astronaut": MEDIA / "astronaut.png"}
    sources.update({f"person-{i}": people / f"person-{i}.png" for i in range(6)})
    identity = {}
    for name, path in sources.items():
        faces = json.loads(run(["detect", "--json", "--embeddings", path]))["faces"]
        largest = max(faces, key=lambda f: (f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]))
        identity[name] = largest["embedding"]

    pictures, videos, sheets = [], [], []
    for name, source in sources.items():
        # t1.jpg: every face but the source's own person (a self-swap says nothing).
        result = out / f"{name}-on-t1.png"
        run(["swap", "--source", source, "--target", MEDIA / "t1.jpg", "--all-faces", "--swapper", args.swapper,
             "--output", result, "--overwrite"])
        sheet = out / f"{name}-on-t1-sheet.jpg"
        report = compare(source, MEDIA / "t1.jpg", result, sheet)
        sheets.append(sheet)
        before = json.loads(run(["detect", "--json", "--embeddings", MEDIA / "t1.jpg"]))["faces"]
        for face in report["faces"]:
            own = min(before, key=lambda f: abs(f["bbox"][0] - face["bbox"][0]) + abs(f["bbox"][1] - face["bbox"][1]))
            if cosine(own["embedding"], identity[name]) > 0.5:
                continue
            pictures.append({"source": name, "target": "t1.jpg", "identity_after": face["identity_after"],
                             "eye_change": abs(face["eyes_after"] - face["eyes_before"]),
                             "mouth_change": abs(face["mouth_after"] - face["mouth_before"])})
        if name != "astronaut":
            result = out / f"{name}-on-astronaut.png"
            run(["swap", "--source", source, "--target", MEDIA / "astronaut.png", "--swapper", args.swapper,
                 "--output", result, "--overwrite"])
            report = compare(source, MEDIA / "astronaut.png", result, out / f"{name}-on-astronaut-sheet.jpg")
            for face in report["faces"]:
                pictures.append({"source": name, "target": "astronaut.png", "identity_after": face["identity_after"],
                                 "eye_change": abs(face["eyes_after"] - face["eyes_before"]),
                                 "mouth_change": abs(face["mouth_after"] - face["mouth_before"])})
        # The clip: likeness through the video, the speaker's eyes followed, no flicker added.
        result = out / f"{name}-on-carphone.mp4"
        run(["transcode", "--source", source, "--input", MEDIA / "carphone.mp4", "--swapper", args.swapper,
             "--output", result, "--overwrite"])
        report = compare(source, MEDIA / "carphone.mp4", result, out / f"{name}-on-carphone-sheet.jpg", video=True)
        videos.append({"source": name, **{k: report.get(k) for k in
                                          ("mean_identity_after", "eye_correlation", "mouth_correlation", "flicker")}})

    result = {"swapper": args.swapper, "sets": {}}
    for set_name, names in (("tuning", TUNING), ("report", REPORT)):
        rows = [r for r in pictures if r["source"] in names]
        vids = [v for v in videos if v["source"] in names]
        mean = lambda k: sum(v[k] for v in vids if v.get(k) is not None) / max(1, sum(1 for v in vids if v.get(k) is not None))
        result["sets"][set_name] = {
            "sources": names,
            "pictures": summary(rows),
            "video": {k: mean(k) for k in ("mean_identity_after", "eye_correlation", "mouth_correlation", "flicker")},
        }
    result["pairs"] = {"pictures": pictures, "videos": videos}
    # One contact sheet of every t1.jpg result, the report set first.
    try:
        from PIL import Image
        order = [s for s in sheets if any(s.name.startswith(n + "-") for n in REPORT)] + \
                [s for s in sheets if not any(s.name.startswith(n + "-") for n in REPORT)]
        thumbs = [Image.open(s).convert("RGB") for s in order]
        width = 900
        thumbs = [t.resize((width, int(t.height * width / t.width))) for t in thumbs]
        grid = Image.new("RGB", (width, sum(t.height for t in thumbs)), "white")
        y = 0
        for t in thumbs:
            grid.paste(t, (0, y))
            y += t.height
        grid.save(out / "sheet.jpg", quality=85)
        result["sheet"] = str(out / "sheet.jpg")
    except ImportError:
        result["sheet"] = None
    for set_name, data in result["sets"].items():
        p, v = data["pictures"], data["video"]
        fmt = lambda s: f"{s['mean']:.3f} (worst tenth {s['worst_tenth']:.3f}, n={s['n']})" if s else "-"
        print(f"{set_name} ({', '.join(data['sources'])}):")
        print(f"  pictures: identity after {fmt(p['identity_after'])}; eye change {fmt(p['eye_change'])}; "
              f"mouth change {fmt(p['mouth_change'])}")
        print(f"  carphone: identity {v['mean_identity_after']:.3f}, eye correlation {v['eye_correlation']:.3f}, "
              f"mouth correlation {v['mouth_correlation']:.3f}, flicker {v['flicker']:.3f}")
    print(f"contact sheet: {result['sheet']}")
    if args.json:
        with open(args.json, "x") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
