"""Encode H.264 that can be spliced into an x264 stream: same SPS and PPS, byte for byte.

A smart cut stream-copies the middle of a clip and re-encodes its ends. An MP4 holds
one set of parameter sets for the whole track (the avcC box), so the re-encoded pieces
must use exactly the source's SPS and PPS: a decoder reading copied slices with another
PPS does not fail, it silently decodes wrong pictures (pic_init_qp and
num_ref_idx_default are read from the PPS). So the pieces are encoded with settings
rebuilt from the source and their parameter sets are compared with the source's; any
difference means "cannot match", never a guess.

What fixes each header field in x264 (encoder/set.c): profile follows the tools used
(8x8dct, cabac, B-frames, weighted prediction); level is given; num_ref_frames,
log2_max_frame_num, POC lsb size and reorder depth follow ref, bframes and b-pyramid;
the PPS holds cabac, ref (num_ref_idx_l0_default), weightp > 0, weightb, 8x8dct,
chroma_qp_offset and pic_init_qp, which is the integer CRF in CRF mode. Everything
else (motion search, subme, trellis, rate control) can be chosen for speed and quality.
The source's x264 settings come from the version SEI x264 writes into the first
keyframe ("x264 - core … options: cabac=1 ref=3 …"); pic_init_qp is read from the PPS
because 2-pass and ABR sources do not state it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from worker.errors import MediaToolError
from worker.media import runner
from worker.media.mp4_boxes import avc_parameter_sets, mp4_tracks

# Quality of the re-encoded ends: x264 in CRF mode at the source's integer CRF (that is
# what pic_init_qp must be) with every macroblock's QP capped here. Speed settings come
# from a preset; the header-shaping ones are then overridden. Measured on every shot of
# the 720p and 1080p programmes (worst PSNR of re-encoded frames against the source,
# wall time of all smart cuts): veryfast/16 44.6 dB 11.1 s; ultrafast/16 42.9 dB 5.8 s;
# ultrafast/18 41.8 dB 6.1 s; ultrafast/20 40.6 dB 7.0 s (higher QPs were not faster:
# decoding to the cut, not entropy coding, is most of the work).
QP_CAP = 16
SPEED_PRESET = "ultrafast"  # motion search, partitions, deblocking; none reach the headers
READ_TIMEOUT_S = 60

_OPTIONS = re.compile(rb"x264 - core \d+[^\x00]*? - options: ([^\x00]*)")
_START_CODE = re.compile(rb"\x00\x00\x01")


@dataclass(frozen=True)
class ParameterSets:
    sps: tuple[bytes, ...]  # NAL units, as in the stream (with emulation prevention)
    pps: tuple[bytes, ...]
    x264_options: dict[str, str] | None  # from x264's version SEI, if the stream has it

    @property
    def level_idc(self) -> int:
        return self.sps[0][3]

    def pic_init_qp(self) -> int:
        return _pic_init_qp(self.pps[0])

    def same_headers(self, other: ParameterSets) -> str | None:
        """None when both streams use the same SPS and PPS; else which differs."""
        if self.sps != other.sps:
            return "sequence parameter set"
        if self.pps != other.pps:
            return "picture parameter set"
        return None


def source_parameter_sets(path: Path) -> ParameterSets:
    """read_parameter_sets, cached per (path, size, mtime): every clip of a video
    asks again."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _cached_sets(resolved, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _cached_sets(path: Path, size: int, mtime_ns: int) -> ParameterSets:
    del size, mtime_ns  # cache key only
    return read_parameter_sets(path)


def mp4_parameter_sets(path: Path) -> ParameterSets:
    """SPS and PPS of an MP4 we wrote (one H.264 track), read from its avcC box:
    cheaper than an ffmpeg run per piece."""
    video = [t for t in mp4_tracks(path) if t.handler == "vide"]
    if len(video) != 1:
        raise MediaToolError(f"{path}: expected one video track, found {len(video)}")
    sps, pps = avc_parameter_sets(video[0], path)
    return ParameterSets(tuple(sps), tuple(pps), None)


def read_parameter_sets(path: Path) -> ParameterSets:
    """SPS, PPS and x264 options of `path`'s first video stream (H.264)."""
    # the first packet as Annex B: h264_mp4toannexb puts the SPS/PPS of the avcC box
    # in front of it, and x264 writes its version SEI into the first keyframe
    command = [
        "ffmpeg", "-nostdin", "-v", "error", *runner.media_input(path),
        "-map", "0:V:0", "-c", "copy", "-bsf:v", "h264_mp4toannexb",
        "-frames:v", "1", "-f", "h264", "pipe:",
    ]  # fmt: skip
    out = runner.capture(command, Path(path), READ_TIMEOUT_S, "reading H.264 headers")
    sps: list[bytes] = []
    pps: list[bytes] = []
    options: dict[str, str] | None = None
    for nal in _nal_units(out):
        kind = nal[0] & 0x1F
        if kind == 7 and nal not in sps:
            sps.append(nal)
        elif kind == 8 and nal not in pps:
            pps.append(nal)
        elif kind == 6 and options is None and (found := _OPTIONS.search(nal)):
            text = found.group(1).decode("ascii", "replace")
            options = dict(item.split("=", 1) for item in text.split() if "=" in item)
    if not sps or not pps:
        raise MediaToolError(f"{path}: no H.264 parameter sets found")
    return ParameterSets(tuple(sps), tuple(pps), options)


def x264_params(source: ParameterSets) -> str | None:
    """`-x264-params` reproducing the source's SPS and PPS, or None when the source's
    settings are ones we do not reproduce (the reason is then `unmatched_reason`)."""
    if unmatched_reason(source) is not None:
        return None
    opts = source.x264_options or {}
    params = {
        # header-shaping settings, copied
        "cabac": opts["cabac"],
        "ref": opts["ref"],
        "bframes": opts["bframes"],
        "b-pyramid": opts.get("b_pyramid", "0"),
        "weightb": opts.get("weightb", "0"),
        "weightp": opts.get("weightp", "0"),
        "8x8dct": opts["8x8dct"],
        "constrained-intra": opts.get("constrained_intra", "0"),
        "bluray-compat": opts.get("bluray_compat", "0"),
        "keyint": opts.get("keyint", "250"),
        "open-gop": "0",
        "level": str(source.level_idc),
        # x264 lowers the chroma QP offset it was given when psy-rd or psy-trellis is
        # on and prints the lowered value; with psy off the printed value is used as is
        "psy": "0",
        "chroma-qp-offset": opts["chroma_qp_offset"],
        # pic_init_qp is the integer CRF; the quality comes from the QP cap
        "crf": str(source.pic_init_qp()),
        "qpmax": str(QP_CAP),
    }
    return ":".join(f"{key}={value}" for key, value in params.items())


def unmatched_reason(source: ParameterSets) -> str | None:
    """Why we cannot reproduce this source's parameter sets, or None."""
    opts = source.x264_options
    if opts is None:
        return "not encoded by x264, so its parameter sets cannot be reproduced"
    required = ("cabac", "ref", "bframes", "8x8dct", "chroma_qp_offset")
    if missing := [key for key in required if key not in opts]:
        return f"x264 options without {', '.join(missing)}"
    if opts.get("interlaced", "0") != "0" or opts.get("fake_interlaced", "0") != "0":
        return "interlaced"
    if opts.get("open_gop", "0") != "0":
        return "open GOP"
    if opts.get("intra_refresh", "0") != "0":
        return "periodic intra refresh (no keyframes to cut at)"
    if opts.get("cqm", "0") != "0":
        return "custom quantisation matrices"
    if opts.get("nal_hrd", "none") != "none":
        return "HRD signalling"
    if len(source.sps) != 1 or len(source.pps) != 1:
        return "more than one SPS or PPS"
    return None


def _nal_units(stream: bytes) -> list[bytes]:
    # a 4-byte start code leaves a trailing zero on the unit before it
    return [unit.rstrip(b"\x00") for unit in _START_CODE.split(stream) if unit.strip(b"\x00")]


def _pic_init_qp(pps_nal: bytes) -> int:
    bits = _BitReader(_rbsp(pps_nal[1:]))
    bits.ue()  # pic_parameter_set_id
    bits.ue()  # seq_parameter_set_id
    bits.bit()  # entropy_coding_mode_flag
    bits.bit()  # bottom_field_pic_order_in_frame_present_flag
    if bits.ue() != 0:  # num_slice_groups_minus1: FMO, never written by x264
        raise MediaToolError("H.264 PPS with slice groups")
    bits.ue()  # num_ref_idx_l0_default_active_minus1
    bits.ue()  # num_ref_idx_l1_default_active_minus1
    bits.bit()  # weighted_pred_flag
    bits.bits(2)  # weighted_bipred_idc
    return 26 + bits.se()  # pic_init_qp_minus26 (8-bit video)


def _rbsp(payload: bytes) -> bytes:
    """Remove emulation prevention bytes (00 00 03 -> 00 00)."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._left = len(data) * 8

    def bits(self, count: int) -> int:
        if count > self._left:
            raise MediaToolError("H.264 header shorter than its fields")
        self._left -= count
        return (self._value >> self._left) & ((1 << count) - 1)

    def bit(self) -> int:
        return self.bits(1)

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)
