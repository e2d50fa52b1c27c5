"""The local text engine's own logic (engines/local/ocr.py, text.py) on synthetic inputs:
DB post-processing (components, minimum-area rectangles, unclip), CTC decoding, word
splitting and word boxes, the GetTextDetection shape, Ids and ParentIds, the filters and
their checks. The models run on real media in the integration tests."""

from __future__ import annotations

import math
from pathlib import Path

import botocore.session
import numpy as np
import pytest

from worker.engines.local import ocr, ocr_boxes, text
from worker.engines.local.ocr import Decoded, Line, Word
from worker.engines.local.text import (
    MODEL_VERSION,
    TextRun,
    detect_text,
    geometry,
    picture_items,
)
from worker.engines.text_params import Region, TextFilters, text_filters
from worker.errors import EngineError
from worker.media.info import MediaInfo

_REKOGNITION = botocore.session.get_session().get_service_model("rekognition")
_OUTPUT = _REKOGNITION.operation_model("GetTextDetection").output_shape
_ITEM = _OUTPUT.members["TextDetections"].member
_FILTERS = _REKOGNITION.operation_model("StartTextDetection").input_shape.members["Filters"]


def test_model_version_fits_the_stores_column_and_names_the_wheels() -> None:
    assert len(MODEL_VERSION) <= 64
    assert "rapidocr-onnxruntime 1.4.4" in MODEL_VERSION and "rapidocr 3.10.0" in MODEL_VERSION


def test_every_ms_suits_one_pass_with_the_other_models() -> None:
    assert text.EVERY_MS % 500 == 0  # vision.one_pass: every interval divides the others'


# ---------------------------------------------------------------- detection


def test_dilate_is_opencvs_2x2_kernel_reaching_down_and_right() -> None:
    mask = np.zeros((4, 4), bool)
    mask[1, 1] = True
    assert np.argwhere(ocr_boxes.dilate(mask)).tolist() == [[1, 1], [1, 2], [2, 1], [2, 2]]


def test_components_are_8_connected_and_apart_otherwise() -> None:
    mask = np.zeros((8, 10), bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # a diagonal: one component
    mask[5:7, 5:9] = True  # a block: another
    mask[0, 8] = True  # a lone pixel
    found = ocr_boxes.components(mask)
    assert sorted(len(np.unique(c, axis=0)) for c in found) == [1, 3, 4]
    block = next(c for c in found if len(c) == 4)  # two runs: their four ends
    assert sorted(map(tuple, block.tolist())) == [(5, 5), (5, 6), (8, 5), (8, 6)]


def test_components_of_u_shapes_join_through_a_lower_row() -> None:
    mask = np.zeros((4, 7), bool)
    mask[0:3, 0] = mask[0:3, 6] = True
    mask[3, 0:7] = True
    assert len(ocr_boxes.components(mask)) == 1


def test_min_area_rect_of_a_rotated_rectangle() -> None:
    a = math.radians(20)
    u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    grid = [10 * u * s + 3 * v * t for s in np.linspace(0, 1, 21) for t in np.linspace(0, 1, 7)]
    corners, w, h = ocr_boxes.min_area_rect(np.array(grid) + 50)
    assert sorted([w, h]) == pytest.approx([3, 10], abs=1e-6)
    assert np.allclose(corners.mean(axis=0), 50 + 5 * u + 1.5 * v)


def test_order_corners_starts_top_left_and_goes_clockwise() -> None:
    box = np.array([[10.0, 5.0], [0.0, 0.0], [0.0, 5.0], [10.0, 0.0]])
    assert ocr_boxes.order_corners(box).tolist() == [[0, 0], [10, 0], [10, 5], [0, 5]]


def test_grow_moves_every_side_out_by_the_distance() -> None:
    box = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 4.0], [0.0, 4.0]])
    assert ocr_boxes.grow(box, 2.0).tolist() == [[-2, -2], [12, -2], [12, 6], [-2, 6]]


def test_text_boxes_find_a_line_grown_by_dbs_unclip_and_scaled() -> None:
    prob = np.zeros((40, 80), np.float32)
    prob[10:20, 10:50] = 0.9  # 40 x 10 map pixels of text
    [(quad, score)] = ocr_boxes.text_boxes(prob, (160, 80))
    # the dilated component spans 41 x 11 pixels, 40 x 10 between pixel centres;
    # the unclip distance is area * 1.6 / perimeter = 400 * 1.6 / 100 = 6.4
    assert score == pytest.approx(0.9 * 40 * 10 / (41 * 11), abs=0.01)
    d = 400 * ocr_boxes.UNCLIP / 100
    x0, x1, y0, y1 = 10 - d, 50 + d, 10 - d, 20 + d
    expected = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) * 2  # map -> 160 x 80
    assert np.abs(quad - np.round(expected)).max() <= 1


def test_text_boxes_drop_weak_and_thin_components() -> None:
    prob = np.zeros((40, 80), np.float32)
    prob[5:15, 5:40] = 0.4  # over BINARIZE, under BOX_SCORE
    prob[30, 5:60] = 0.9  # one row: its rectangle's short side is under MIN_SIDE
    assert ocr_boxes.text_boxes(prob, (80, 40)) == []


def test_reading_order_is_top_to_bottom_then_left_to_right_on_a_row() -> None:
    def box(x: float, y: float) -> tuple[np.ndarray, float]:
        return np.array([[x, y], [x + 5, y], [x + 5, y + 5], [x, y + 5]]), 1.0

    boxes = [box(50, 3), box(0, 40), box(0, 0), box(20, 8)]
    ordered = [tuple(b[0][0]) for b in ocr_boxes.reading_order(boxes)]
    assert ordered == [(0, 0), (20, 8), (50, 3), (0, 40)]


def test_det_input_is_bgr_normalised_in_multiples_of_32() -> None:
    picture = np.zeros((360, 640, 3), np.uint8)
    picture[..., 0] = 255  # red
    x = ocr_boxes.det_input(picture, 480)
    assert x.shape == (1, 3, 256, 480) and x.dtype == np.float32
    assert float(x[0, 2].min()) == 1.0 and float(x[0, 0].max()) == -1.0  # R is channel 2


# ---------------------------------------------------------------- recognition


def test_crop_line_warps_a_quadrilateral_upright() -> None:
    picture = np.zeros((50, 100, 3), np.uint8)
    picture[20:30, 10:90] = 200
    quad = np.array([[10.0, 20.0], [90.0, 20.0], [90.0, 30.0], [10.0, 30.0]])
    crop = ocr.crop_line(picture, quad)
    assert crop.shape == (10, 80, 3) and crop[2:8, 2:78].min() == 200


def test_a_tall_crop_is_turned_to_read_left_to_right() -> None:
    picture = np.zeros((100, 100, 3), np.uint8)
    quad = np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 70.0], [10.0, 70.0]])
    assert ocr.crop_line(picture, quad).shape[:2] == (10, 60)


def test_rec_input_scales_to_48_high_and_pads_to_the_widest() -> None:
    crops = [np.full((24, 48, 3), 255, np.uint8), np.zeros((10, 100, 3), np.uint8)]
    batch, widths = ocr.rec_input(crops)
    assert batch.shape == (2, 3, 48, 480) and widths == [96, 480]
    assert float(batch[0, :, :, :96].min()) == 1.0 and float(np.abs(batch[0, :, :, 96:]).max()) == 0


def _probs(seq: list[int], classes: int = 6, space: dict[int, float] | None = None) -> np.ndarray:
    out = np.full((len(seq), classes), 0.01, np.float32)
    for t, c in enumerate(seq):
        out[t, c] = 0.9
    for t, p in (space or {}).items():
        out[t, classes - 1] = p
    return out


CHARSET = ["", "a", "b", "c", "d", " "]  # blank, four characters, space


def test_ctc_greedy_merges_repeats_and_drops_blanks() -> None:
    d = ocr.ctc_greedy(_probs([1, 1, 0, 1, 2, 2, 0, 5, 3]), CHARSET)
    assert d.text == "aab c" and d.steps == (0, 3, 4, 7, 8)
    assert d.probs == pytest.approx((0.9,) * 5)
    assert d.space_before[0] == 0.0


def test_ctc_greedy_keeps_the_space_evidence_between_characters() -> None:
    d = ocr.ctc_greedy(_probs([1, 0, 2, 0, 0, 3], space={1: 0.2, 4: 0.002}), CHARSET)
    assert d.text == "abc"
    assert d.space_before == pytest.approx((0.0, 0.2, 0.01))  # 0.01: the background


def _decoded(text_: str, steps: list[int], space: list[float] | None = None) -> Decoded:
    return Decoded(
        text=text_,
        probs=tuple(0.5 + 0.05 * k for k in range(len(text_))),
        steps=tuple(steps),
        space_before=tuple(space or [0.0] * len(text_)),
    )


def test_words_split_on_spaces_with_boxes_from_their_steps() -> None:
    d = _decoded("ab cd", [2, 4, 6, 10, 12])
    spans = ocr.word_spans(d, 20.0)
    assert [s[0] for s in spans] == ["ab", "cd"]
    # the median pitch inside words is 2 steps: a character spans one step either side
    assert spans[0][2:] == pytest.approx((1.5 / 20, 5.5 / 20))
    assert spans[1][2:] == pytest.approx((9.5 / 20, 13.5 / 20))
    assert spans[0][1] == pytest.approx(np.mean([0.5, 0.55]))  # its characters' mean


def test_words_split_where_the_recogniser_saw_a_narrow_space() -> None:
    d = _decoded("NOPARK", [1, 3, 5, 7, 9, 11], [0, 0.0, ocr.SPACE_SPLIT, 0.004, 0, 0])
    assert [s[0] for s in ocr.word_spans(d, 14.0)] == ["NO", "PARK"]


def test_word_boxes_lie_along_their_line() -> None:
    quad = np.array([[0.0, 0.0], [100.0, 10.0], [100.0, 30.0], [0.0, 20.0]])
    part = ocr.along(quad, 0.25, 0.5)
    assert part.tolist() == [[25, 2.5], [50, 5], [50, 25], [25, 22.5]]


def test_a_line_keeps_its_latin_words_and_drops_cjk_ones() -> None:
    quad = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 10.0], [0.0, 10.0]])
    d = Decoded("ab 学c de", (0.9,) * 7 + (0.5,), (1, 3, 5, 7, 8, 10, 12, 14), (0.0,) * 8)
    line = ocr.line_of(quad, d, 20.0)
    assert line is not None and [w.text for w in line.words] == ["ab", "de"]
    assert line.text == "ab de" and line.confidence == pytest.approx((0.9 * 3 + 0.5) / 4)
    assert line.words[1].quad[0, 0] == pytest.approx(100 * (12 + 0.5 - 1) / 20)
    only_cjk = Decoded("学", (0.9,), (3,), (0.0,))
    assert ocr.line_of(quad, only_cjk, 20.0) is None


# ---------------------------------------------------------------- response


def _line(words: list[tuple[str, float]], y: float = 10.0) -> Line:
    out = []
    for k, (t, c) in enumerate(words):
        x = 10.0 + 40 * k
        out.append(Word(t, c, np.array([[x, y], [x + 30, y], [x + 30, y + 10], [x, y + 10]])))
    quad = np.array(
        [[10.0, y], [10 + 40.0 * len(words), y], [10 + 40.0 * len(words), y + 10], [10.0, y + 10]]
    )
    return Line(
        " ".join(t for t, _ in words), float(np.mean([c for _, c in words])), quad, tuple(out)
    )


def test_items_have_get_text_detections_shape() -> None:
    items = picture_items(500, [_line([("NO", 0.99), ("PARKING", 0.95)])], 200, 100, TextFilters())
    assert [i["TextDetection"]["Type"] for i in items] == ["LINE", "WORD", "WORD"]
    for item in items:
        assert set(item) <= set(_ITEM.members)
        detection = _ITEM.members["TextDetection"]
        assert set(item["TextDetection"]) <= set(detection.members)
        assert item["TextDetection"]["Type"] in detection.members["Type"].enum
        g = detection.members["Geometry"]
        assert set(item["TextDetection"]["Geometry"]) == set(g.members)
        box = item["TextDetection"]["Geometry"]["BoundingBox"]
        assert set(box) == set(g.members["BoundingBox"].members)
        for point in item["TextDetection"]["Geometry"]["Polygon"]:
            assert set(point) == set(g.members["Polygon"].member.members)
            assert 0 <= point["X"] <= 1 and 0 <= point["Y"] <= 1
    response_keys = {
        "JobStatus",
        "VideoMetadata",
        "TextDetections",
        "TextModelVersion",
        "NextToken",
    }
    assert response_keys <= set(_OUTPUT.members)
    assert set(text.TextResponse.__annotations__) == response_keys


def test_lines_come_first_then_their_words_with_parent_ids() -> None:
    lines = [
        _line([("THE", 0.9), ("END", 0.9)]),
        _line([("faint", 0.3)], y=40),  # no word passes MinConfidence 80: the line goes
        _line([("CAST", 0.95)], y=70),
    ]
    items = picture_items(1000, lines, 200, 100, TextFilters())
    got = [
        (d["Type"], d["Id"], d.get("ParentId"), d["DetectedText"])
        for d in (i["TextDetection"] for i in items)
    ]
    assert got == [
        ("LINE", 0, None, "THE END"),
        ("LINE", 1, None, "CAST"),
        ("WORD", 2, 0, "THE"),
        ("WORD", 3, 0, "END"),
        ("WORD", 4, 1, "CAST"),
    ]
    assert {i["Timestamp"] for i in items} == {1000}
    assert items[2]["TextDetection"]["Confidence"] == 90.0


def test_geometry_is_in_ratios_of_the_frame_clipped_to_it() -> None:
    quad = np.array([[-10.0, 10.0], [100.0, 0.0], [110.0, 50.0], [0.0, 60.0]])
    g = geometry(quad, 200, 100)
    assert g["BoundingBox"] == {"Width": 0.55, "Height": 0.6, "Left": 0.0, "Top": 0.0}
    assert g["Polygon"][0] == {"X": 0.0, "Y": 0.1} and g["Polygon"][2] == {"X": 0.55, "Y": 0.5}


# ---------------------------------------------------------------- filters


def test_the_default_min_confidence_is_rekognitions_80() -> None:
    assert text_filters({}).word_confidence == 80.0
    assert "MinConfidence" in _FILTERS.members["WordFilter"].members


def test_word_filter_drops_low_small_and_narrow_words() -> None:
    box = Region(left=0.1, top=0.1, width=0.2, height=0.05)
    assert TextFilters().keep(80.0, box) and not TextFilters().keep(79.9, box)
    assert not TextFilters(min_box_height=0.06).keep(99.0, box)
    assert not TextFilters(min_box_width=0.25).keep(99.0, box)
    assert TextFilters(min_confidence=0.0, min_box_height=0.05, min_box_width=0.2).keep(1.0, box)


def test_a_word_counts_in_a_region_when_more_than_half_of_it_is_inside() -> None:
    word = Region(left=0.2, top=0.2, width=0.2, height=0.1)
    region = Region(left=0.0, top=0.0, width=0.31, height=1.0)  # 55 % of the word
    assert TextFilters(regions=(region,)).keep(90.0, word)
    half = Region(left=0.0, top=0.0, width=0.3, height=1.0)  # exactly half: not more
    assert not TextFilters(regions=(half,)).keep(90.0, word)
    elsewhere = Region(left=0.6, top=0.0, width=0.4, height=1.0)
    assert TextFilters(regions=(half, elsewhere, region)).keep(90.0, word)


def test_regions_are_read_in_ours_and_in_rekognitions_shape() -> None:
    ours = {"left": 0.1, "top": 0.7, "width": 0.5, "height": 0.25}
    theirs = {"BoundingBox": {"Width": 0.5, "Height": 0.25, "Left": 0.1, "Top": 0.7}}
    f = text_filters({"min_confidence": 50, "regions": [ours, theirs]})
    assert f.regions == (Region(left=0.1, top=0.7, width=0.5, height=0.25),) * 2
    assert f.word_confidence == 50.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_confidence": "high"}, "min_confidence='high' is not a number"),
        ({"min_confidence": 101}, "min_confidence=101: expected 0 to 100"),
        ({"min_box_height": -0.1}, "min_box_height=-0.1: expected 0 to 1"),
        ({"min_box_width": 2}, "min_box_width=2: expected 0 to 1"),
        ({"regions": {"left": 0}}, "expected a list of boxes"),
        ({"regions": [{"Polygon": []}]}, "needs numeric left, top, width and height"),
        ({"regions": [{"left": 0.5, "top": 0.5}]}, "needs numeric left, top, width and height"),
        (
            {"regions": [{"left": 0, "top": 0, "width": 0.5, "height": 1.5}]},
            "must lie inside the frame",
        ),
        ({"regions": [{"left": 0, "top": 0, "width": 1, "height": 1}] * 11}, "at most 10"),
        ({"word_filter": {"MinConfidence": 50}}, "unknown text parameter.*word_filter"),
    ],
)
def test_bad_parameters_are_refused_naming_them(params: dict[str, object], message: str) -> None:
    info = MediaInfo.__new__(MediaInfo)
    with pytest.raises(EngineError, match=message):
        detect_text(Path("x.mp4"), info, reader=lambda p: [], **params)


# ---------------------------------------------------------------- pictures


def test_flat_pictures_are_not_read_and_a_repeated_picture_is_read_once() -> None:
    calls: list[int] = []

    def reader(picture: np.ndarray) -> list[Line]:
        calls.append(int(picture[0, 0, 0]))
        return [_line([("HELLO", 0.99)])]

    run = TextRun(reader=reader)
    rng = np.random.default_rng(0)
    still = rng.integers(0, 255, (40, 64, 3), dtype=np.uint8)
    run.take(0, np.zeros((40, 64, 3), np.uint8))  # black: no text, not read
    run.take(1000, still)
    run.take(2000, still.copy())  # the same picture: its lines again, unread
    run.take(3000, 255 - still)  # another picture: read
    assert len(calls) == 2 and run.pictures_read == 2
    words = [i for i in run.items if i["TextDetection"]["Type"] == "WORD"]
    assert [w["Timestamp"] for w in words] == [1000, 2000, 3000]


def test_a_missing_model_package_is_refused_naming_it_and_setup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "rapidocr" else real(name)
    )
    with pytest.raises(EngineError, match=r"rapidocr missing\): run \./scripts/setup"):
        ocr.model_files()


def _text_crop(words: str, pad_top: int, pad_bottom: int) -> np.ndarray:
    """A line crop: black words on white, with the box's edges `pad_*` pixels from them."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (8 * len(words) + 8, 11 + pad_top + pad_bottom), "white")
    ImageDraw.Draw(img).text((4, pad_top), words, fill="black")
    return np.asarray(img)


def test_a_line_seen_again_with_other_box_edges_takes_the_last_reading() -> None:
    memory = ocr.LineMemory()
    reading = (Decoded("Directed by", (0.9,) * 11, tuple(range(11)), (0.0,) * 11), 20.0)
    memory.keep([(ocr.look_of(_text_crop("Directed by", 2, 2)), reading)])
    # the same words, the box a pixel or two taller above and below (a roll moved them)
    assert memory.find(ocr.look_of(_text_crop("Directed by", 3, 1))) is reading
    assert memory.find(ocr.look_of(_text_crop("Produced by", 2, 2))) is None
    assert memory.find(ocr.look_of(_text_crop("Directed by MARGOT", 2, 2))) is None
    assert memory.reused == 1


def test_white_strokes_not_white_areas_earn_a_second_read() -> None:
    picture = np.zeros((360, 640, 3), np.uint8)
    picture[..., 0] = 230  # orange: its darkest channel is dark
    picture[..., 1] = 140
    for x in range(100, 540, 12):  # white letters' strokes, 4 px wide
        picture[150:190, x : x + 4] = 255
    calls: list[int] = []

    def reader(p: np.ndarray) -> list[Line]:
        calls.append(int(p[0, 0, 0]))
        return []

    TextRun(reader=reader).take(0, picture)
    assert calls == [230, 0]  # then the darkest channel (orange: its blue, 0)
    sky = picture.copy()
    sky[:60] = 250  # a white area, no strokes
    sky[150:190] = picture[0, 0]
    calls.clear()
    TextRun(reader=reader).take(0, sky)
    assert len(calls) == 1
