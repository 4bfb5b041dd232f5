//! SCRFD's anchor decoding and non-maximum suppression, shared by every SCRFD export.

use crate::imaging::Point;

/// A face proposal in picture pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub bbox: [f32; 4],
    pub score: f32,
    pub kps: [Point; 5],
}

/// Decodes one stride's outputs into `out`, in anchor order, keeping scores ≥ `threshold`.
///
/// `scores` holds one value per anchor, `boxes` four distances (left, top, right, bottom) and
/// `kps` ten offsets, all in units of `stride`. Anchors sit `anchors` to a grid cell, cell
/// centre (col, row)·stride. Coordinates are divided by `scale` (input pixels per picture pixel).
#[allow(clippy::too_many_arguments)]
pub fn decode_scrfd_stride(
    scores: &[f32],
    boxes: &[f32],
    kps: Option<&[f32]>,
    stride: u32,
    grid_width: u32,
    anchors: u32,
    threshold: f32,
    scale: f32,
    out: &mut Vec<Candidate>,
) {
    let s = stride as f32;
    for (i, &score) in scores.iter().enumerate() {
        if score < threshold {
            continue;
        }
        let cell = i as u32 / anchors;
        let cx = ((cell % grid_width) * stride) as f32;
        let cy = ((cell / grid_width) * stride) as f32;
        let d = &boxes[4 * i..4 * i + 4];
        let bbox = [(cx - d[0] * s) / scale, (cy - d[1] * s) / scale, (cx + d[2] * s) / scale, (cy + d[3] * s) / scale];
        let mut points = [[0.0f32; 2]; 5];
        if let Some(k) = kps {
            let k = &k[10 * i..10 * i + 10];
            for (j, p) in points.iter_mut().enumerate() {
                *p = [(cx + k[2 * j] * s) / scale, (cy + k[2 * j + 1] * s) / scale];
            }
        }
        out.push(Candidate { bbox, score, kps: points });
    }
}

/// Sorts `candidates` by score (stable, highest first) and drops every one that overlaps a
/// better one by more than `iou` — insightface's NMS, areas counted as (w + 1)(h + 1).
pub fn nms(candidates: &mut Vec<Candidate>, iou: f32) {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let area = |c: &Candidate| (c.bbox[2] - c.bbox[0] + 1.0) * (c.bbox[3] - c.bbox[1] + 1.0);
    let mut kept = 0;
    for i in 0..candidates.len() {
        let c = candidates[i];
        let overlaps = candidates[..kept].iter().any(|k| {
            let w = (c.bbox[2].min(k.bbox[2]) - c.bbox[0].max(k.bbox[0]) + 1.0).max(0.0);
            let h = (c.bbox[3].min(k.bbox[3]) - c.bbox[1].max(k.bbox[1]) + 1.0).max(0.0);
            let inter = w * h;
            inter / (area(k) + area(&c) - inter) > iou
        });
        if !overlaps {
            candidates[kept] = c;
            kept += 1;
        }
    }
    candidates.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(x: f32, score: f32) -> Candidate {
        Candidate { bbox: [x, 0.0, x + 10.0, 10.0], score, kps: [[0.0; 2]; 5] }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let mut c = vec![cand(0.0, 0.6), cand(1.0, 0.9), cand(50.0, 0.7)];
        nms(&mut c, 0.4);
        let scores: Vec<f32> = c.iter().map(|c| c.score).collect();
        assert_eq!(scores, vec![0.9, 0.7]);
    }

    #[test]
    fn decode_places_anchors_on_the_grid() {
        // A 2×2 grid, stride 8, two anchors per cell: anchor 5 is cell 2 = (col 0, row 1).
        let mut scores = vec![0.0; 8];
        scores[5] = 0.9;
        let boxes = vec![1.0; 32];
        let kps = vec![0.5; 80];
        let mut out = Vec::new();
        decode_scrfd_stride(&scores, &boxes, Some(&kps), 8, 2, 2, 0.5, 2.0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bbox, [-4.0, 0.0, 4.0, 8.0]);
        assert_eq!(out[0].kps[0], [2.0, 6.0]);
    }
}
