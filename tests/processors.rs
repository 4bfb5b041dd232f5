//! What runs with the swapper, as users run it: face enhancers (brought in with `models add`,
//! fetched and recorded from a mirror, or named with --enhancer-model), pixel boost, in `swap`,
//! `transcode` and the service; each bad combination refused in words.

use std::{path::Path, process::Command};

use image::RgbImage;

use crate::{
    model_server::{Behaviour, ModelServer},
    models::models_copy,
    serve_support::{request, Server},
    support::{media, root},
};

fn faceswap(models: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceswap"));
    cmd.current_dir(root()).env("FACESWAP_MODELS_DIR", models).env_remove("FACESWAP_MODEL_MIRROR");
    cmd
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures").join(name)
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn error(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn swap(models: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    faceswap(models)
        .arg("swap")
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--target")
        .arg(media("t1.jpg"))
        .arg("--output")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn picture(path: &Path) -> RgbImage {
    image::open(path).unwrap().into_rgb8()
}

#[test]
fn an_added_enhancer_runs_after_the_swap_and_a_named_file_does_the_same() {
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    // Not in the folder yet: the error says how to bring it.
    let missing = error(&swap(models.path(), &dir.path().join("x.png"), &["--enhancer", "gfpgan_1.4"]));
    assert!(missing.contains("faceswap models fetch gfpgan_1.4"), "{missing}");
    assert!(!dir.path().join("x.png").exists());

    let added = ok(&faceswap(models.path())
        .args(["models", "add"])
        .arg(fixture("enhancer_gfpgan_synthetic.onnx"))
        .args(["--role", "enhancer", "--name", "gfpgan_1.4"])
        .output()
        .unwrap());
    assert!(added.contains("added    gfpgan_1.4 (enhancer"), "{added}");
    let records = std::fs::read_to_string(models.path().join("records.toml")).unwrap();
    assert!(records.contains("gfpgan_1.4") && records.contains("sha256"), "{records}");
    let list = ok(&faceswap(models.path()).args(["models", "list"]).output().unwrap());
    let line = list.lines().find(|l| l.starts_with("gfpgan_1.4")).unwrap();
    assert!(line.contains("valid"), "{line}");

    let (plain, enhanced, named) =
        (dir.path().join("plain.png"), dir.path().join("enhanced.png"), dir.path().join("named.png"));
    ok(&swap(models.path(), &plain, &[]));
    let said = ok(&swap(models.path(), &enhanced, &["--enhancer", "gfpgan_1.4"]));
    assert!(said.contains("gfpgan_1.4"), "{said}");
    let model = fixture("enhancer_gfpgan_synthetic.onnx");
    ok(&swap(
        Path::new("/nonexistent-models-are-not-needed-for-the-enhancer"),
        &named,
        &[
            "--models-dir",
            models.path().to_str().unwrap(),
            "--enhancer",
            "gfpgan_1.4",
            "--enhancer-model",
            model.to_str().unwrap(),
        ],
    ));
    assert_ne!(picture(&plain), picture(&enhanced), "the enhancer changed nothing");
    assert_eq!(picture(&enhanced), picture(&named), "the added file and the named one differ");

    // Each flag that cannot apply is refused, naming it.
    let weight = error(&swap(
        models.path(),
        &dir.path().join("w.png"),
        &["--enhancer", "gfpgan_1.4", "--enhancer-weight", "0.3"],
    ));
    assert!(weight.contains("--enhancer-weight") && weight.contains("codeformer"), "{weight}");
    let blend = error(&swap(models.path(), &dir.path().join("b.png"), &["--enhancer-blend", "50"]));
    assert!(blend.contains("--enhancer"), "{blend}");
    let boost = error(&swap(models.path(), &dir.path().join("p.png"), &["--pixel-boost", "256"]));
    assert!(boost.contains("--pixel-boost is for inswapper"), "{boost}");
    let odd =
        error(&swap(models.path(), &dir.path().join("o.png"), &["--swapper", "inswapper", "--pixel-boost", "200"]));
    assert!(odd.contains("200"), "{odd}");
    let wrong = error(&swap(
        models.path(),
        &dir.path().join("g.png"),
        &["--enhancer", "gpen_bfr_256", "--enhancer-model", model.to_str().unwrap()],
    ));
    assert!(wrong.contains("gpen_bfr_256 takes 1×3×256×256"), "{wrong}");
    for name in ["w.png", "b.png", "p.png", "o.png", "g.png"] {
        assert!(!dir.path().join(name).exists(), "{name} was written by a refused run");
    }
}

#[test]
fn an_enhancer_without_a_cited_hash_is_recorded_at_its_first_fetch_and_held_to_it() {
    let mirror = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("enhancer_gpen256_synthetic.onnx"), mirror.path().join("gpen_bfr_256.onnx")).unwrap();
    let server = ModelServer::start(mirror.path().to_path_buf(), Behaviour::default());
    let models = models_copy();
    let fetched = ok(&faceswap(models.path())
        .args(["models", "fetch", "gpen_bfr_256", "--mirror", &server.base])
        .output()
        .unwrap());
    assert!(fetched.contains("fetched  gpen_bfr_256"), "{fetched}");
    let want = faceswap::models::sha256_file(&fixture("enhancer_gpen256_synthetic.onnx")).unwrap();
    let records = std::fs::read_to_string(models.path().join("records.toml")).unwrap();
    assert!(records.contains(&want), "{records}");
    ok(&faceswap(models.path()).args(["models", "verify", "gpen_bfr_256"]).output().unwrap());

    // Changed on disk: refused by its record, and the mirror's copy (the same hash) repairs it.
    let path = models.path().join("gpen_bfr_256.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let bad = error(&faceswap(models.path()).args(["models", "verify", "gpen_bfr_256"]).output().unwrap());
    assert!(bad.contains("gpen_bfr_256"), "{bad}");
    ok(&faceswap(models.path()).args(["models", "fetch", "gpen_bfr_256", "--mirror", &server.base]).output().unwrap());
    assert_eq!(faceswap::models::sha256_file(&path).unwrap(), want);

    // A mirror that now serves another file is not taken: the record stands.
    std::fs::copy(fixture("enhancer_gfpgan_synthetic.onnx"), mirror.path().join("gpen_bfr_256.onnx")).unwrap();
    std::fs::remove_file(&path).unwrap();
    let refused = error(
        &faceswap(models.path()).args(["models", "fetch", "gpen_bfr_256", "--mirror", &server.base]).output().unwrap(),
    );
    assert!(refused.contains("sha256") || refused.contains("bytes"), "{refused}");
    assert!(!path.exists(), "a file of another hash was kept");
}

#[test]
fn transcode_runs_the_enhancer_as_a_stage_on_every_frame() {
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("enhancer_codeformer_synthetic.onnx");
    let (plain, enhanced) = (dir.path().join("plain.mp4"), dir.path().join("enhanced.mp4"));
    let run = |out: &Path, extra: &[&str]| {
        faceswap(models.path())
            .arg("transcode")
            .arg("--source")
            .arg(media("astronaut.png"))
            .arg("--input")
            .arg(media("carphone.mp4"))
            .arg("--output")
            .arg(out)
            .args(["--crf", "0"])
            .args(extra)
            .output()
            .unwrap()
    };
    ok(&run(&plain, &[]));
    let said = ok(&run(
        &enhanced,
        &["--enhancer", "codeformer", "--enhancer-weight", "0.8", "--enhancer-model", model.to_str().unwrap()],
    ));
    eprintln!("{said}");
    let frames = |path: &Path| {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
            ])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(frames(&plain), frames(&enhanced), "a frame was lost");
    let frame = |path: &Path, name: &str| {
        let png = dir.path().join(name);
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(path)
            .args(["-vf", "select=eq(n\\,60)", "-frames:v", "1"])
            .arg(&png)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        picture(&png)
    };
    assert_ne!(frame(&plain, "a.png"), frame(&enhanced, "b.png"), "frame 60 was not enhanced");
}

#[test]
fn the_service_takes_an_enhancer_and_a_pixel_boost_per_request_and_refuses_what_cannot_apply() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("enhancer_gfpgan_synthetic.onnx");
    let server = Server::start(
        &dir.path().join("data"),
        &["--enhancer", "gfpgan_1.4", "--enhancer-model", model.to_str().unwrap(), "--enhancer-blend", "100"],
        &[],
    );
    let post = |fields: &[&str], out: &Path| {
        let mut args = vec![
            "-F".to_string(),
            format!("source=@{}", media("astronaut.png").display()),
            "-F".to_string(),
            format!("target=@{}", media("t1.jpg").display()),
        ];
        for f in fields {
            args.extend(["-F".to_string(), (*f).to_string()]);
        }
        args.push(server.url("/v1/swap"));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let answer = request(&refs);
        std::fs::write(out, &answer.body).unwrap();
        answer
    };
    let (default, off) = (dir.path().join("default.png"), dir.path().join("off.png"));
    assert_eq!(post(&[], &default).status, 200);
    assert_eq!(post(&["enhancer=none"], &off).status, 200);
    assert_ne!(picture(&default), picture(&off), "the server's default enhancer did not run");
    let half = dir.path().join("half.png");
    assert_eq!(post(&["enhancer_blend=40"], &half).status, 200);
    assert_ne!(picture(&default), picture(&half), "enhancer_blend changed nothing");

    let problem = |fields: &[&str]| {
        let out = dir.path().join("problem.json");
        let answer = post(fields, &out);
        (answer.status, std::fs::read_to_string(&out).unwrap_or_default())
    };
    let (status, body) = problem(&["enhancer_weight=0.3"]);
    assert!(status == 400 && body.contains("CodeFormer"), "{status} {body}");
    let (status, body) = problem(&["enhancer=sharpen"]);
    assert!(status == 400 && body.contains("gfpgan_1.4"), "{status} {body}");
    let (status, body) = problem(&["pixel_boost=256"]);
    assert!(status == 400 && body.contains("pixel_boost is for inswapper"), "{status} {body}");
    let (status, body) = problem(&["enhancer=none", "enhancer_blend=10"]);
    assert!(status == 400 && body.contains("need an enhancer"), "{status} {body}");
    // Enhancers the server has no file for: a model problem, named.
    let (status, body) = problem(&["enhancer=codeformer"]);
    assert!(status == 503 && body.contains("codeformer"), "{status} {body}");
}

fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn the_occlusion_and_region_masks_lay_the_target_back_where_they_say() {
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    let (occluder, parser) = (fixture("occluder_synthetic.onnx"), fixture("parser_synthetic.onnx"));
    let target = picture(&media("t1.jpg"));
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        ok(&swap(models.path(), &out, &[&["--all-faces"][..], extra].concat()));
        picture(&out)
    };
    let plain = run("plain.png", &[]);
    let occluded = run("occluded.png", &["--mask", "box,occlusion", "--occluder-model", occluder.to_str().unwrap()]);
    let regions = run(
        "regions.png",
        &["--mask", "region", "--mask-regions", "skin,nose", "--parser-model", parser.to_str().unwrap()],
    );
    let both = run(
        "both.png",
        &[
            "--mask",
            "occlusion,region",
            "--mask-regions",
            "skin,nose",
            "--occluder-model",
            occluder.to_str().unwrap(),
            "--parser-model",
            parser.to_str().unwrap(),
        ],
    );
    let (p, o, r, b) = (
        mean_diff(&plain, &target),
        mean_diff(&occluded, &target),
        mean_diff(&regions, &target),
        mean_diff(&both, &target),
    );
    eprintln!("mean change from the target: plain {p:.3}, occlusion {o:.3}, regions {r:.3}, both {b:.3}");
    // Each mask gives some of the target back, and both together at least as much as either.
    assert!(o < p && r < p, "a mask gave nothing back: {p} {o} {r}");
    assert!(b <= o.min(r) + 0.01, "both masks gave back less than one: {b} vs {o} {r}");
    assert!(o > 0.0 && r > 0.0 && b > 0.0, "a mask undid the whole swap");

    for (extra, says) in [
        (&["--mask", "shadow"][..], "unknown mask"),
        (&["--mask-regions", "skin"][..], "need the region mask"),
        (&["--mask", "region", "--mask-regions", "skin,ears"][..], "unknown face region"),
        (&["--occluder-model", "x.onnx"][..], "--occluder-model is for the occlusion mask"),
    ] {
        let said = error(&swap(models.path(), &dir.path().join("refused.png"), extra));
        assert!(said.contains(says), "{extra:?}: {said}");
    }
    // Without the model there: named, with how to get it.
    let said = error(&swap(models.path(), &dir.path().join("refused.png"), &["--mask", "occlusion"]));
    assert!(said.contains("xseg_1"), "{said}");
    assert!(!dir.path().join("refused.png").exists());
}

#[test]
fn each_person_gets_their_own_source_from_the_crops_map_faces_wrote() {
    use faceswap::face::Analysis;
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    let crops = dir.path().join("people");
    let listed =
        ok(&faceswap(models.path()).arg("map-faces").arg(media("t1.jpg")).arg("--out").arg(&crops).output().unwrap());
    assert!(listed.starts_with("6 person(s)"), "{listed}");
    for i in 0..6 {
        assert!(crops.join(format!("person-{i}.png")).is_file(), "person-{i}.png");
    }
    // Run again: the crops are not overwritten unasked.
    let again = error(
        &faceswap(models.path()).arg("map-faces").arg(media("t1.jpg")).arg("--out").arg(&crops).output().unwrap(),
    );
    assert!(again.contains("person-0.png"), "{again}");

    // Two people mapped: person-0 becomes the astronaut, person-3 becomes person-5.
    let out = dir.path().join("mapped.png");
    let (p0, p3, p5) = (crops.join("person-0.png"), crops.join("person-3.png"), crops.join("person-5.png"));
    let said = ok(&faceswap(models.path())
        .arg("swap")
        .arg("--target")
        .arg(media("t1.jpg"))
        .arg("--output")
        .arg(&out)
        .arg("--map")
        .arg(format!("{}={}", media("astronaut.png").display(), p0.display()))
        .arg("--map")
        .arg(format!("{}={}", p5.display(), p3.display()))
        .output()
        .unwrap());
    assert!(said.contains("swapped 2 face(s) with 2 mapped source(s)"), "{said}");

    let engine = crate::support::engine();
    let mut analyzer = engine.analyzer().unwrap();
    let mut identity = |path: &Path| {
        let faces = analyzer.analyze(&picture(path), Analysis::FULL).unwrap();
        let largest = faceswap::face::largest_face(&faces).unwrap();
        faces[largest].embedding.clone().unwrap()
    };
    let (astronaut, person0, person3, person5) =
        (identity(&media("astronaut.png")), identity(&p0), identity(&p3), identity(&p5));
    let before = analyzer.analyze(&picture(&media("t1.jpg")), Analysis::FULL).unwrap();
    let after = analyzer.analyze(&picture(&out), Analysis::FULL).unwrap();
    let at = |faces: &[faceswap::face::Face], like: &faceswap::face::Embedding| {
        let best = (0..faces.len())
            .max_by(|&a, &b| {
                faces[a]
                    .embedding
                    .as_ref()
                    .unwrap()
                    .cosine(like)
                    .total_cmp(&faces[b].embedding.as_ref().unwrap().cosine(like))
            })
            .unwrap();
        faces[best].bbox
    };
    let nearest = |faces: &[faceswap::face::Face], bbox: [f32; 4]| {
        faces
            .iter()
            .min_by(|a, b| {
                let d = |f: &faceswap::face::Face| (f.bbox[0] - bbox[0]).abs() + (f.bbox[1] - bbox[1]).abs();
                d(a).total_cmp(&d(b))
            })
            .unwrap()
            .embedding
            .clone()
            .unwrap()
    };
    let (where0, where3) = (at(&before, &person0), at(&before, &person3));
    let (now0, now3) = (nearest(&after, where0), nearest(&after, where3));
    eprintln!(
        "person-0 like the astronaut: {:.3} -> {:.3}; person-3 like person-5: {:.3} -> {:.3}",
        nearest(&before, where0).cosine(&astronaut),
        now0.cosine(&astronaut),
        nearest(&before, where3).cosine(&person5),
        now3.cosine(&person5)
    );
    assert!(
        now0.cosine(&astronaut) > nearest(&before, where0).cosine(&astronaut) + 0.1,
        "person-0 is not the astronaut"
    );
    assert!(now3.cosine(&person5) > nearest(&before, where3).cosine(&person5) + 0.1, "person-3 is not person-5");
    // The four people nobody mapped are as they were.
    let changed =
        before.iter().filter(|f| nearest(&after, f.bbox).cosine(f.embedding.as_ref().unwrap()) < 0.95).count();
    assert_eq!(changed, 2, "only the two mapped people changed");

    // Refusals: --map with --source, a map of nobody here, a malformed pair.
    let nobody = error(
        &faceswap(models.path())
            .args(["swap", "--target"])
            .arg(media("astronaut.png"))
            .arg("--output")
            .arg(dir.path().join("nobody.png"))
            .arg("--map")
            .arg(format!("{}={}", media("astronaut.png").display(), p3.display()))
            .output()
            .unwrap(),
    );
    assert!(nobody.contains("no face") && nobody.contains("--map"), "{nobody}");
    assert!(!dir.path().join("nobody.png").exists());
    let both = error(&swap(
        models.path(),
        &dir.path().join("both.png"),
        &["--map", &format!("{}={}", p5.display(), p3.display())],
    ));
    assert!(both.contains("leave --source"), "{both}");
    let bad = error(
        &faceswap(models.path())
            .args(["swap", "--target"])
            .arg(media("t1.jpg"))
            .arg("--output")
            .arg(dir.path().join("bad.png"))
            .args(["--map", "only-one-side"])
            .output()
            .unwrap(),
    );
    assert!(bad.contains("SOURCE=REFERENCE"), "{bad}");
}

#[test]
fn a_video_s_people_are_found_across_its_frames_and_mapped_in_transcode() {
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    let crops = dir.path().join("people");
    let listed = ok(&faceswap(models.path())
        .arg("map-faces")
        .arg(media("carphone.mp4"))
        .arg("--out")
        .arg(&crops)
        .output()
        .unwrap());
    eprintln!("{listed}");
    let first = listed.lines().nth(1).unwrap();
    assert!(first.contains("person-0: seen"), "{listed}");
    let seen: usize = first.split("seen ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(seen >= 10, "the speaker was seen in {seen} of 12 frames looked at: {listed}");
    let out = dir.path().join("mapped.mp4");
    ok(&faceswap(models.path())
        .arg("transcode")
        .arg("--input")
        .arg(media("carphone.mp4"))
        .arg("--output")
        .arg(&out)
        .arg("--map")
        .arg(format!("{}={}", media("astronaut.png").display(), crops.join("person-0.png").display()))
        .output()
        .unwrap());
    assert!(out.is_file());
}

#[test]
fn a_kept_source_is_reused_by_picture_swaps_and_video_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let source = format!("source=@{}", media("astronaut.png").display());
    let target = format!("target=@{}", media("t1.jpg").display());
    let kept = request(&["-F", &source, &server.url("/v1/sources")]);
    assert_eq!(kept.status, 201);
    let id = kept.json()["id"].as_str().unwrap().to_string();
    let by_id = format!("source_id={id}");
    let swapped = request(&["-F", &by_id, "-F", &target, &server.url("/v1/swap")]);
    assert_eq!(swapped.status, 200, "{}", String::from_utf8_lossy(&swapped.body));
    assert_eq!(swapped.header("x-faces-swapped"), Some("1"));
    // The same picture as a swap sent with the picture itself (the same pixels: each answer's
    // signed manifest is its own).
    let direct = request(&["-F", &source, "-F", &target, &server.url("/v1/swap")]);
    let pixels = |body: &[u8]| image::load_from_memory(body).unwrap().into_rgb8().into_raw();
    assert!(pixels(&direct.body) == pixels(&swapped.body), "the kept source swaps as the picture does");
    // Both, neither, an unknown id, a face number with an id: refused in words.
    assert!(request(&["-F", &by_id, "-F", &source, "-F", &target, &server.url("/v1/swap")])
        .problem(400)
        .contains("not both"));
    assert!(request(&["-F", &target, &server.url("/v1/swap")]).problem(400).contains("source_id"));
    let unknown = format!("source_id={}", "0".repeat(64));
    assert!(request(&["-F", &unknown, "-F", &target, &server.url("/v1/swap")]).problem(404).contains("/v1/sources"));
    assert!(request(&["-F", &by_id, "-F", "source_face=1", "-F", &target, &server.url("/v1/swap")])
        .problem(400)
        .contains("source_face"));
    // A video job from the kept source.
    let input = format!("input=@{}", media("carphone.mp4").display());
    let job = request(&["-F", &by_id, "-F", &input, &server.url("/v1/jobs")]);
    assert_eq!(job.status, 202, "{}", String::from_utf8_lossy(&job.body));
}
