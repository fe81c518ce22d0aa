"""Which corpus pictures name software other than their camera's firmware.

The truth for ``editing-software``: the software names are ExifTool's
(``Software``, ``CreatorTool`` and XMP history ``softwareAgent`` tags of the
reference JSON), and whether each file's names are only its device's firmware
is a person's reading of those names against the file's make and model, made
without the detector. Shared by the tests and ``scripts/bench_findings.py``.
"""

from __future__ import annotations

from tests.corpus import exiftool_truth

SOFTWARE_TAGS = ("Software", "CreatorTool", "HistorySoftwareAgent")
# Containers whose tags are not a picture's (video user data, QuickTime keys).
VIDEO_GROUPS = ("Keys", "UserData", "QuickTime", "ItemList")

# The software names that are the firmware of the camera or phone named by the
# make and model: version numbers (DJI, FLIR, Hasselblad, Parrot, HP, Panasonic,
# iPhones' iOS version), a Samsung build code, a Nikon model with its version,
# Google's HDR+ pipeline on a Pixel. The PNGs without a make carry the Pixel's
# XMP CreatorTool, copied over by whatever converted them (one also names
# Adobe ImageReady, which is not firmware).
PIXEL = "HDR+ 1.0.199571065z"
FIRMWARE = {
    "elodie/photo.heic": {"12.2"},
    "exifr/001.tif": {"01.15.00.59"},
    "exifr/002.tiff": {"V06.02.20"},
    "exifr/IMG_20180725_163423-tiny.jpg": {PIXEL},
    "exifr/IMG_20180725_163423.jpg": {PIXEL},
    "exifr/heic-iphone.heic": {"12.4"},
    "exifr/heic-iphone7.heic": {"13.1.2"},
    "exifr/heic-maybebroken.HEIC": {"11.2.2"},
    "exifr/issue-exif-js-124.tiff": {"22.20.16.1"},
    "exifr/issue-exifr-13.jpg": {"10.00.11.04"},
    "exifr/issue-exifr-3.jpg": {"01.15.00.67"},
    "exifr/issue-metadata-extractor-152.tif": {"v0.5.1"},
    "exifr/png/IMG_20180725_163423-1.png": {PIXEL},
    "exifr/png/IMG_20180725_163423-2.png": {PIXEL},
    "mde/ABOVE_SEA_LEVEL.jpg": {"G973FXXUFHVG4"},
    "mde/BELOW_SEA_LEVEL.JPG": {"16.0"},
    "mde/crash01.jpg": {"V4.00"},
    "mde/nikonMakernoteType2b.jpg": {"E995v1.6"},
    "mde/withPanasonicFaces.jpg": {"Ver.1.0"},
}


def software_names(rel: str) -> list[str]:
    """The distinct software names ExifTool reads in a corpus picture, in tag order."""
    names: list[str] = []
    for key, value in exiftool_truth(rel).items():
        group, _, tag = key.rpartition(":")
        if tag not in SOFTWARE_TAGS or group.startswith(VIDEO_GROUPS):
            continue
        for name in value if isinstance(value, list) else [value]:
            text = str(name).strip()
            if text and text not in names:
                names.append(text)
    return names


def other_software(rel: str) -> set[str]:
    """The software names of a corpus picture that are not its device's firmware."""
    return set(software_names(rel)) - FIRMWARE.get(rel, set())


def firmware_only(rel: str) -> bool:
    """Whether the picture names software, all of it its device's firmware."""
    return bool(software_names(rel)) and not other_software(rel)
