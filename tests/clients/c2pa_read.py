"""Reads a file's C2PA manifest with c2pa-python (its own native library, not faceswap's code)
and prints what the tests check, as one JSON line.

Usage: c2pa_read.py FILE [SIDECAR]
"""
import json
import sys

import c2pa


def main() -> None:
    path = sys.argv[1]
    try:
        if len(sys.argv) > 2:
            with open(sys.argv[2], "rb") as f:
                manifest = f.read()
            with open(path, "rb") as stream:
                reader = c2pa.Reader("application/octet-stream", stream, manifest)
                report = json.loads(reader.json())
        else:
            reader = c2pa.Reader(path)
            report = json.loads(reader.json())
    except Exception as e:  # an unreadable or broken manifest is an answer, not a crash
        print(json.dumps({"error": str(e), "state": "Invalid"}))
        return
    active = report["manifests"][report["active_manifest"]]
    actions = []
    for assertion in active.get("assertions", []):
        if assertion["label"].startswith("c2pa.actions"):
            actions.extend(assertion["data"]["actions"])
    failures = report.get("validation_results", {}).get("activeManifest", {}).get("failure", [])
    print(json.dumps({
        "state": report.get("validation_state"),
        "failures": [f["code"] for f in failures],
        "actions": actions,
        "ingredients": active.get("ingredients", []),
        "signature": active.get("signature_info", {}),
        "claim_generator": active.get("claim_generator_info", []),
    }))


if __name__ == "__main__":
    main()
