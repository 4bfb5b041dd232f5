#!/usr/bin/env python3
"""Swap quality over every face this machine has, as a distribution, with a contact sheet.

The faces: the sample astronaut, each of the six people of t1.jpg and the three players of
gdp.jpg (cut out by `faceswap map-faces`), Yao Ming's portrait and insightface's Tom Hanks crop
(given a border so that it can be detected). Men and women, frontal and turned, light and dark
skin. Each is put, as a source, on every face of the pictures (t1.jpg, the astronaut, gdp.jpg,
the team photo players.jpg, the Yao Ming portrait) but its own person's, and on the speaker of
the carphone clip at its own 176x144 and scaled to 640x480. `faceswap compare` measures each
result with the engine's own models: identity to the source after the swap, eye and mouth
openness change, the seam at the swap's edge, and for the clips eye correlation, identity and
flicker.

Settings are chosen on the tuning set only: the astronaut, t1's people 0-2 and gdp.jpg's
profile (player 2) as sources, on t1.jpg and the astronaut (what `examples/tune_landmark.rs`
runs over). The report set is every other source (t1's people 3-5, gdp.jpg's players 0-1, Yao
Ming, Tom Hanks) on every target; the team photo is a group photo no setting was chosen on. The
README reports the report set.

Usage: scripts/eval_quality.py [--out out/eval] [--swapper landmark|inswapper] [--json FILE]
Needs a release build, what scripts/setup.sh installs, and Pillow (pip install pillow).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "faceswap"
MEDIA = ROOT / ".cache" / "media"
TUNING = ["astronaut", "person-0", "person-1", "person-2", "gdp-2"]
TUNING_TARGETS = ["t1.jpg", "astronaut.png"]
TARGETS = ["t1.jpg", "astronaut.png", "gdp.jpg", "players.jpg", "yaoming.jpg"]
GROUP_PHOTO = "players.jpg"
CLIPS = ["carphone.mp4", "carphone-640.mp4"]


def run(args, binary=BINARY, **kw):
    out = subprocess.run([str(binary), *map(str, args)], cwd=ROOT, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"error: {binary} {' '.join(map(str, args))}: {out.stderr.strip()}")
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
    for a change or a seam."""
    ordered = sorted(values, reverse=not low)
    k = max(1, len(ordered) // 10)
    return sum(ordered[:k]) / k


def stat(rows, key, low):
    values = [r[key] for r in rows if r.get(key) is not None]
    if not values:
        return None
    return {"mean": sum(values) / len(values), "worst_tenth": worst_tenth(values, low), "n": len(values)}


def summary(rows):
    return {
        "identity_after": stat(rows, "identity_after", True),
        "eye_change": stat(rows, "eye_change", False),
        "mouth_change": stat(rows, "mouth_change", False),
        "seam": stat(rows, "seam", False),
    }


def video_summary(rows):
    return {k: stat(rows, k, k != "flicker") for k in ("mean_identity_after", "eye_correlation", "mouth_correlation",
                                                        "flicker")}


def prepare(out):
    """The sources (name -> picture) and the 640x480 clip."""
    sources = {"astronaut": MEDIA / "astronaut.png", "yaoming": MEDIA / "yaoming.jpg"}
    people = out / "people"
    run(["map-faces", MEDIA / "t1.jpg", "--out", people, "--overwrite"])
    sources.update({f"person-{i}": people / f"person-{i}.png" for i in range(6)})
    players = out / "players"
    run(["map-faces", MEDIA / "gdp.jpg", "--out", players, "--overwrite"])
    sources.update({f"gdp-{i}": players / f"person-{i}.png" for i in range(3)})
    # insightface's crop is the aligned 112x112 face itself: a border lets the detector see it.
    try:
        from PIL import Image, ImageOps
    except ImportError:
        sys.exit("error: the evaluation needs Pillow for its pictures: pip install pillow")
    hanks = out / "hanks.png"
    ImageOps.expand(Image.open(MEDIA / "Tom_Hanks_54745.png").convert("RGB"), border=56, fill=(128, 128, 128)).save(hanks)
    sources["hanks"] = hanks
    clip = out / "carphone-640.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", MEDIA / "carphone.mp4", "-vf", "scale=640:480",
                    "-c:v", "libx264", "-crf", "16", clip], check=True)
    return sources, {"carphone.mp4": MEDIA / "carphone.mp4", "carphone-640.mp4": clip}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "out" / "eval"))
    parser.add_argument("--swapper", default="landmark", choices=["landmark", "inswapper"])
    parser.add_argument("--json")
    # Another build's swapper measured on the same faces by this build's own figures (an
    # earlier commit, to see what a change did): it runs `swap` and `transcode` only.
    parser.add_argument("--swap-binary", default=str(BINARY))
    args = parser.parse_args()
    swap_binary = Path(args.swap_binary)
    if not swap_binary.is_file():
        sys.exit(f"error: --swap-binary {swap_binary}: no such file; build it first (cargo build --release)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sources, clips = prepare(out)
    identity = {}
    for name, path in sources.items():
        faces = json.loads(run(["detect", "--json", "--embeddings", path]))["faces"]
        largest = max(faces, key=lambda f: (f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]))
        identity[name] = largest["embedding"]
    before = {t: json.loads(run(["detect", "--json", "--embeddings", MEDIA / t]))["faces"] for t in TARGETS}

    pictures, videos, sheets = [], [], []
    for name, source in sources.items():
        for target in TARGETS:
            own = [f for f in before[target] if cosine(f["embedding"], identity[name]) > 0.5]
            if len(own) == len(before[target]):
                continue  # only the source's own face: a self-swap says nothing
            stem = f"{name}-on-{Path(target).stem}"
            result = out / f"{stem}.png"
            run(["swap", "--source", source, "--target", MEDIA / target, "--all-faces", "--swapper", args.swapper,
                 "--output", result, "--overwrite"], binary=swap_binary)
            sheet = out / f"{stem}-sheet.jpg"
            report = compare(source, MEDIA / target, result, sheet)
            if target == "t1.jpg":
                sheets.append(sheet)
            for face in report["faces"]:
                if any(abs(f["bbox"][0] - face["bbox"][0]) + abs(f["bbox"][1] - face["bbox"][1]) < 4 for f in own):
                    continue
                pictures.append({"source": name, "target": target, "identity_after": face["identity_after"],
                                 "eye_change": abs(face["eyes_after"] - face["eyes_before"]),
                                 "mouth_change": abs(face["mouth_after"] - face["mouth_before"]),
                                 "seam": face.get("seam")})
        # The clips: likeness through the video, the speaker's eyes followed, no flicker added.
        for clip, path in clips.items():
            stem = f"{name}-on-{Path(clip).stem}"
            result = out / f"{stem}.mp4"
            run(["transcode", "--source", source, "--input", path, "--swapper", args.swapper, "--output", result,
                 "--overwrite"], binary=swap_binary)
            report = compare(source, path, result, out / f"{stem}-sheet.jpg", video=True)
            videos.append({"source": name, "clip": clip, **{k: report.get(k) for k in (
                "mean_identity_after", "eye_correlation", "mouth_correlation", "flicker")}})

    report_sources = [n for n in sources if n not in TUNING]
    sets = {
        "tuning": [r for r in pictures if r["source"] in TUNING and r["target"] in TUNING_TARGETS],
        "report": [r for r in pictures if r["source"] in report_sources],
        "report, group photo": [r for r in pictures if r["source"] in report_sources and r["target"] == GROUP_PHOTO],
    }
    result = {"swapper": args.swapper, "tuning_sources": TUNING, "report_sources": report_sources,
              "pictures": {k: summary(v) for k, v in sets.items()},
              "video": {f"{s}, {c}": video_summary([v for v in videos if v["clip"] == c and
                                                    (v["source"] in TUNING) == (s == "tuning")])
                        for s in ("tuning", "report") for c in CLIPS},
              "pairs": {"pictures": pictures, "videos": videos}}
    # One contact sheet of every t1.jpg result, the report set first.
    try:
        from PIL import Image
        order = [s for s in sheets if not any(s.name.startswith(n + "-") for n in TUNING)] + \
                [s for s in sheets if any(s.name.startswith(n + "-") for n in TUNING)]
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

    def fmt(s, digits=3):
        return f"{s['mean']:.{digits}f} (worst tenth {s['worst_tenth']:.{digits}f}, n={s['n']})" if s else "-"

    print(f"tuning sources: {', '.join(TUNING)}; report sources: {', '.join(report_sources)}")
    for set_name, p in result["pictures"].items():
        print(f"pictures, {set_name}: identity after {fmt(p['identity_after'])}; eye change {fmt(p['eye_change'])}; "
              f"mouth change {fmt(p['mouth_change'])}; seam {fmt(p['seam'], 2)}")
    for set_name, v in result["video"].items():
        print(f"video, {set_name}: identity {fmt(v['mean_identity_after'])}; eye correlation "
              f"{fmt(v['eye_correlation'])}; mouth correlation {fmt(v['mouth_correlation'])}; flicker {fmt(v['flicker'])}")
    print(f"contact sheet: {result['sheet']}")
    if args.json:
        with open(args.json, "x") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
