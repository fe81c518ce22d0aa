"""Whether a software string in a picture is the firmware of the device that took it.

Cameras and phones fill EXIF ``Software`` (and sometimes XMP ``CreatorTool``)
with their firmware: a version number ("Ver.1.0", "01.15.00.59"), a build
code ("G973FXXUFHVG4"), their own model or maker name ("E995v1.6",
"Digital Camera X-T3 Ver3.00"), an Android build ("dipper-user 10
QKQ1.190828.002 release-keys") or the maker's own name for its camera
software ("iOS 17.1" on an Apple, "HDR+ 1.0.199571065z" on a Google Pixel).
A string made only of such words is firmware; a single other word ("QuickTime",
"Gallery", "Transfer") names a program. No list of firmware strings is kept:
the words come from the file's own make and model and from the shape of the
string, so a camera nobody has seen before is still recognised.
"""

from __future__ import annotations

import re

# Words that firmware strings use around versions and model names.
FIRMWARE_WORDS = frozenset(
    {
        "firmware", "fw", "ver", "version", "build", "rev", "revision", "release",
        "camera", "digital", "application",
    }
)  # fmt: skip
# The chipset and operating system inside phones of many makers: their camera
# software signs with these names ("MediaTek Camera Application").
PHONE_PLATFORM_WORDS = frozenset(
    {
        "mediatek", "mtk", "qualcomm", "snapdragon", "hisilicon", "kirin", "unisoc",
        "spreadtrum", "sprd", "exynos", "android",
    }
)  # fmt: skip
# A maker's own name for its camera software or phone system, keyed by the
# first word of the make. They count when the make is that maker or missing
# (a file without a make cannot contradict them).
MAKER_WORDS = {
    "apple": frozenset({"ios", "ipados"}),
    "google": frozenset({"hdr+", "pixel"}),
    "xiaomi": frozenset({"miui", "hyperos"}),
    "huawei": frozenset({"emui", "harmonyos"}),
    "honor": frozenset({"magicos", "magic"}),
    "oppo": frozenset({"coloros"}),
    "oneplus": frozenset({"oxygenos", "coloros"}),
    "vivo": frozenset({"funtouch", "originos"}),
}
# Corporate words in makes ("NIKON CORPORATION", "OLYMPUS IMAGING CORP.").
CORPORATE_WORDS = frozenset({"corporation", "corp", "co", "ltd", "inc", "company", "imaging"})
# "1.0.2", "Ver.1.00", "v0.5.1", "V06.02.20", "1.0.199571065z", "Ver1.00u".
VERSION = re.compile(r"^(?:v|ver|version|rev|r|fw|b)?[.:_-]?\d+(?:[._-]\d+)*[a-z]{0,2}$")
# Build codes are written in capitals and digits: "G973FXXUFHVG4", "HD7.01.01.90.00",
# "QKQ1.190828.002". Program names that are codes (rare) have lower-case letters.
BUILD_CODE = re.compile(r"^(?=(?:[^0-9]*[0-9]){2})[A-Z0-9][A-Z0-9._-]{3,}$")
# Android build fingerprints: "<device>-user 10 <build> release-keys".
ANDROID_BUILD = re.compile(r"^[a-z0-9_]+-(?:user|userdebug|eng)$|^(?:release|test|dev)-keys$")
TOKEN_SEPARATORS = re.compile(r"[\s,;/()\[\]{}]+")
MIN_PART = 2  # shorter tokens ("a", "2") say nothing about a model name


def is_firmware(software: str, make: str | None, model: str | None) -> bool:
    """Whether every word of ``software`` is a version, a build code or the device's own name."""
    tokens = [t.strip(".:-_'\"") for t in TOKEN_SEPARATORS.split(software)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return False
    device = _device_parts(make, model)
    vocabulary = FIRMWARE_WORDS | PHONE_PLATFORM_WORDS | _maker_words(make)
    return all(_firmware_token(t, device, vocabulary) for t in tokens)


def _firmware_token(token: str, device: tuple[str, ...], vocabulary: frozenset[str]) -> bool:
    lower = token.lower()
    if lower in vocabulary or VERSION.match(lower) or ANDROID_BUILD.match(lower):
        return True
    if BUILD_CODE.match(token):
        return True
    return _names_device(_alnum(lower), device)


def _names_device(word: str, device: tuple[str, ...]) -> bool:
    """Part of the make or model ("finepix" of "FinePixS1Pro"), or a model and its version."""
    if word in device:
        return True
    if len(word) < MIN_PART:
        return False
    if any(word in part for part in device):
        return True
    # "E995v1.6": the model name run into its firmware version.
    return any(
        word.startswith(part) and VERSION.match(word[len(part) :])
        for part in device
        if len(part) > MIN_PART
    )


def _device_parts(make: str | None, model: str | None) -> tuple[str, ...]:
    """The make's and model's words, and each name whole, lower case, letters and digits only."""
    parts: list[str] = []
    for name in (make, model):
        if not name:
            continue
        words = [_alnum(w) for w in TOKEN_SEPARATORS.split(name.lower())]
        parts += [w for w in words if w and w not in CORPORATE_WORDS]
        parts.append(_alnum(name.lower()))
    return tuple(p for p in parts if p)


def _maker_words(make: str | None) -> frozenset[str]:
    if not make or not make.strip():
        return frozenset().union(*MAKER_WORDS.values())
    first = _alnum(make.strip().split()[0].lower())
    return MAKER_WORDS.get(first, frozenset())


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum())
